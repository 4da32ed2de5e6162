{{/*
Per-operator objects. Each file under templates/<operator>/ calls one of these with
(dict "root" $ "operator" "<name>"); nothing renders for a disabled operator.
*/}}

{{- define "ameide-operators.deployment" -}}
{{- $cfg := dict -}}
{{- include "ameide-operators.config" (dict "root" .root "operator" .operator "out" $cfg) -}}
{{- if $cfg.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "ameide-operators.operatorMetadata" (dict "root" .root "cfg" $cfg) | nindent 2 }}
spec:
  replicas: {{ $cfg.replicas }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- toYaml $cfg.selectorLabels | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    {{- include "ameide-operators.podTemplate" (dict "root" .root "cfg" $cfg) | nindent 4 }}
{{- end }}
{{- end -}}

{{- define "ameide-operators.metricsService" -}}
{{- $cfg := dict -}}
{{- include "ameide-operators.config" (dict "root" .root "operator" .operator "out" $cfg) -}}
{{- if and $cfg.enabled $cfg.metricsService.enabled }}
apiVersion: v1
kind: Service
metadata:
  {{- include "ameide-operators.operatorMetadata" (dict "root" .root "cfg" $cfg) | nindent 2 }}
  {{- with $cfg.metricsService.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: ClusterIP
  selector:
    {{- toYaml $cfg.selectorLabels | nindent 4 }}
  ports:
    - name: metrics
      port: {{ $cfg.metricsPort }}
      targetPort: metrics
      protocol: TCP
{{- end }}
{{- end -}}

{{- define "ameide-operators.podDisruptionBudget" -}}
{{- $cfg := dict -}}
{{- include "ameide-operators.config" (dict "root" .root "operator" .operator "out" $cfg) -}}
{{- $pdb := $cfg.podDisruptionBudget -}}
{{- if and $cfg.enabled $pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  {{- include "ameide-operators.operatorMetadata" (dict "root" .root "cfg" $cfg) | nindent 2 }}
spec:
  {{- if not (kindIs "invalid" $pdb.minAvailable) }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ kindIs "invalid" $pdb.maxUnavailable | ternary 1 $pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- toYaml $cfg.selectorLabels | nindent 6 }}
{{- end }}
{{- end -}}

{{- define "ameide-operators.networkPolicy" -}}
{{- $cfg := dict -}}
{{- include "ameide-operators.config" (dict "root" .root "operator" .operator "out" $cfg) -}}
{{- $np := $cfg.networkPolicy -}}
{{- if and $cfg.enabled $np.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "ameide-operators.operatorMetadata" (dict "root" .root "cfg" $cfg) | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      {{- toYaml $cfg.selectorLabels | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - ports:
        - port: metrics
          protocol: TCP
      {{- with $np.metrics.from }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
  egress:
    - to:
        - namespaceSelector:
            {{- toYaml $np.dns.namespaceSelector | nindent 12 }}
          podSelector:
            {{- toYaml $np.dns.podSelector | nindent 12 }}
      ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    - ports:
        {{- range $np.apiServer.ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- with $np.apiServer.cidrs }}
      to:
        {{- range . }}
        - ipBlock:
            cidr: {{ . }}
        {{- end }}
      {{- end }}
{{- end }}
{{- end -}}
