{{/*
The operator pod template: restricted Pod Security Standard contexts, a read-only root
filesystem with an emptyDir /tmp, probes on the health port, soft anti-affinity by default and
topology spread constraints whose selector is filled in. Sidecars and init containers get the
chart's container securityContext under their own, so adding one keeps the pod restricted.
Call with (dict "root" $ "cfg" $cfg).
*/}}
{{- define "ameide-operators.podTemplate" -}}
{{- $root := .root -}}
{{- $cfg := .cfg -}}
{{- $op := $cfg.values -}}
metadata:
  labels:
    {{- include "ameide-operators.labels" (dict "root" $root "component" $cfg.component "version" $cfg.imageTag "extra" $op.podLabels) | nindent 4 }}
  annotations:
    kubectl.kubernetes.io/default-container: manager
    {{- with $op.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "ameide-operators.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $root.Values.automountServiceAccountToken }}
  enableServiceLinks: false
  {{- with $root.Values.global.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with ($op.priorityClassName | default $root.Values.priorityClassName) }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
  {{- with $root.Values.runtimeClassName }}
  runtimeClassName: {{ . }}
  {{- end }}
  {{- with $root.Values.hostAliases }}
  hostAliases:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.dnsConfig }}
  dnsConfig:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $op.initContainers }}
  initContainers:
    {{- include "ameide-operators.extraContainers" (dict "root" $root "containers" .) | nindent 4 }}
  {{- end }}
  containers:
    - name: manager
      image: {{ $cfg.image }}
      imagePullPolicy: {{ $root.Values.global.imagePullPolicy }}
      args:
        - --leader-elect={{ $cfg.leaderElection }}
        - --metrics-bind-address={{ $op.metricsBindAddress }}
        - --health-probe-bind-address={{ $op.healthProbeBindAddress }}
        - --zap-log-level={{ $cfg.logging.level }}
        - --zap-encoder={{ $cfg.logging.format }}
        {{- with $cfg.leaderElectionTimings }}
        {{- with .leaseDurationSeconds }}
        - --leader-elect-lease-duration={{ . }}s
        {{- end }}
        {{- with .renewDeadlineSeconds }}
        - --leader-elect-renew-deadline={{ . }}s
        {{- end }}
        {{- with .retryPeriodSeconds }}
        - --leader-elect-retry-period={{ . }}s
        {{- end }}
        {{- end }}
        {{- with $op.extraArgs }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      env:
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        {{- with $root.Values.watchNamespaces }}
        - name: WATCH_NAMESPACE
          value: {{ join "," . | quote }}
        {{- end }}
        {{- with $op.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: metrics
          containerPort: {{ $cfg.metricsPort }}
          protocol: TCP
        - name: health
          containerPort: {{ $cfg.healthPort }}
          protocol: TCP
      livenessProbe:
        {{- include "ameide-operators.probe" $root.Values.livenessProbe | nindent 8 }}
      readinessProbe:
        {{- include "ameide-operators.probe" $root.Values.readinessProbe | nindent 8 }}
      {{- with $root.Values.startupProbe }}
      startupProbe:
        {{- include "ameide-operators.probe" (merge (deepCopy .) (dict "httpGet" (dict "path" "/healthz"))) | nindent 8 }}
      {{- end }}
      resources:
        {{- toYaml $op.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- with $op.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    {{- with $op.extraContainers }}
    {{- include "ameide-operators.extraContainers" (dict "root" $root "containers" .) | nindent 4 }}
    {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- with $op.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with ($op.nodeSelector | default $root.Values.nodeSelector) }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with ($op.tolerations | default $root.Values.tolerations) }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with (include "ameide-operators.affinity" (dict "root" $root "cfg" $cfg)) }}
  affinity:
    {{- . | nindent 4 }}
  {{- end }}
  {{- with ($op.topologySpreadConstraints | default $root.Values.topologySpreadConstraints) }}
  {{- $constraints := list }}
  {{- range . }}
  {{- $constraint := deepCopy . }}
  {{- if not $constraint.labelSelector }}
  {{- $_ := set $constraint "labelSelector" (dict "matchLabels" $cfg.selectorLabels) }}
  {{- end }}
  {{- $constraints = append $constraints $constraint }}
  {{- end }}
  topologySpreadConstraints:
    {{- toYaml $constraints | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* User containers (sidecars, init containers), each with the chart's securityContext under its own. */}}
{{- define "ameide-operators.extraContainers" -}}
{{- $out := list -}}
{{- range .containers -}}
{{- $container := deepCopy . -}}
{{- $_ := set $container "securityContext" (merge (deepCopy ($container.securityContext | default dict)) (deepCopy $.root.Values.securityContext)) -}}
{{- $out = append $out $container -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* A probe on the named health port; the values give everything but the port. */}}
{{- define "ameide-operators.probe" -}}
{{- $probe := deepCopy . -}}
{{- $_ := set $probe "httpGet" (merge (dict "port" "health") ($probe.httpGet | default dict)) -}}
{{- toYaml $probe -}}
{{- end -}}

{{/* Explicit affinity wins; otherwise the anti-affinity preset (soft, hard or none). */}}
{{- define "ameide-operators.affinity" -}}
{{- $root := .root -}}
{{- $cfg := .cfg -}}
{{- $explicit := $cfg.values.affinity | default $root.Values.affinity -}}
{{- if $explicit -}}
{{- toYaml $explicit -}}
{{- else if eq $cfg.antiAffinity.mode "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: {{ $cfg.antiAffinity.weight }}
      podAffinityTerm:
        topologyKey: {{ $cfg.antiAffinity.topologyKey }}
        labelSelector:
          matchLabels:
            {{- toYaml $cfg.selectorLabels | nindent 12 }}
{{- else if eq $cfg.antiAffinity.mode "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: {{ $cfg.antiAffinity.topologyKey }}
      labelSelector:
        matchLabels:
          {{- toYaml $cfg.selectorLabels | nindent 10 }}
{{- end -}}
{{- end -}}
