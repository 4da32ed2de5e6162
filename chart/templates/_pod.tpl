{{/*
The operator pod template: restricted Pod Security Standard contexts, a read-only root
filesystem with an emptyDir /tmp, probes on the health port, soft anti-affinity by default and
topology spread constraints whose selector is filled in. Call with (dict "root" $ "cfg" $cfg).
*/}}
{{- define "ameide-operators.podTemplate" -}}
{{- $root := .root -}}
{{- $cfg := .cfg -}}
{{- $op := $cfg.values -}}
metadata:
  labels:
    {{- include "ameide-operators.labels" (dict "root" $root "component" $cfg.component "version" $cfg.imageTag) | nindent 4 }}
    {{- with $op.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
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
  containers:
    - name: manager
      image: {{ $cfg.image }}
      imagePullPolicy: {{ $root.Values.global.imagePullPolicy }}
      args:
        - --leader-elect={{ $cfg.leaderElection }}
        - --metrics-bind-address={{ $op.metricsBindAddress }}
        - --health-probe-bind-address={{ $op.healthProbeBindAddress }}
        {{- with $op.extraArgs }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      env:
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
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
      resources:
        {{- toYaml $op.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
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
