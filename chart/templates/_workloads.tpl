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
  {{- with $cfg.deploymentAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  replicas: {{ $cfg.replicas }}
  revisionHistoryLimit: {{ .root.Values.revisionHistoryLimit }}
  selector:
    matchLabels:
      {{- toYaml $cfg.selectorLabels | nindent 6 }}
  strategy:
    {{- $strategy := .root.Values.strategy }}
    type: {{ $strategy.type }}
    {{- if and (eq $strategy.type "RollingUpdate") $strategy.rollingUpdate }}
    rollingUpdate:
      {{- toYaml $strategy.rollingUpdate | nindent 6 }}
    {{- end }}
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
  {{- with $pdb.unhealthyPodEvictionPolicy }}
  unhealthyPodEvictionPolicy: {{ . }}
  {{- end }}
  selector:
    matchLabels:
      {{- toYaml $cfg.selectorLabels | nindent 6 }}
{{- end }}
{{- end -}}

{{/*
The NetworkPolicy: ingress only to the metrics port, egress only to cluster DNS and the API
server. The API server is named by `apiServer.cidrs`, or else by the addresses of the `kubernetes`
Service and its EndpointSlices looked up at install time (CNIs apply policies after the Service's
DNAT, so the endpoint addresses are the ones that matter). validate.yaml fails when neither is
available, unless `apiServer.allowAnyDestination` says any address will do.
*/}}
{{- define "ameide-operators.networkPolicy" -}}
{{- $cfg := dict -}}
{{- include "ameide-operators.config" (dict "root" .root "operator" .operator "out" $cfg) -}}
{{- $np := $cfg.networkPolicy -}}
{{- if and $cfg.enabled $np.enabled }}
{{- $api := include "ameide-operators.apiServerPeers" (dict "apiServer" $np.apiServer) | fromYaml }}
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
    {{- with $np.extraIngress }}
    {{- toYaml . | nindent 4 }}
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
    {{- if or $api.cidrs $np.apiServer.allowAnyDestination }}
    - ports:
        {{- range $api.ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- with $api.cidrs }}
      to:
        {{- range . }}
        - ipBlock:
            cidr: {{ . }}
        {{- end }}
      {{- end }}
    {{- end }}
    {{- with $np.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end -}}

{{/*
The API server's addresses and ports as YAML `{cidrs: [...], ports: [...]}`: the configured
CIDRs, else the `kubernetes` Service's cluster IPs and its EndpointSlices' addresses (host
routes), found by `lookup`, which returns nothing without a cluster. Call with
(dict "apiServer" $np.apiServer).
*/}}
{{- define "ameide-operators.apiServerPeers" -}}
{{- $cidrs := .apiServer.cidrs | default list -}}
{{- $ports := list -}}
{{- range .apiServer.ports -}}
{{- $ports = append $ports (int .) -}}
{{- end -}}
{{- if not $cidrs -}}
{{- $service := lookup "v1" "Service" "default" "kubernetes" -}}
{{- if $service -}}
{{- range ($service.spec.clusterIPs | default (list $service.spec.clusterIP)) -}}
{{- $cidrs = append $cidrs (printf "%s/%s" . (contains ":" . | ternary "128" "32")) -}}
{{- end -}}
{{- range $service.spec.ports -}}
{{- $ports = append $ports (int .port) -}}
{{- end -}}
{{- end -}}
{{- $slices := lookup "discovery.k8s.io/v1" "EndpointSlice" "default" "" -}}
{{- range ($slices.items | default list) -}}
{{- if eq (dig "metadata" "labels" "kubernetes.io/service-name" "" .) "kubernetes" -}}
{{- range .endpoints -}}
{{- range .addresses -}}
{{- $cidrs = append $cidrs (printf "%s/%s" . (contains ":" . | ternary "128" "32")) -}}
{{- end -}}
{{- end -}}
{{- range .ports -}}
{{- $ports = append $ports (int .port) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
cidrs: {{ $cidrs | uniq | toJson }}
ports: {{ $ports | uniq | toJson }}
{{- end -}}
