{{/*
Prometheus Operator objects. `renderMode` decides what happens when the cluster does not serve
the kind (checked through .Capabilities.APIVersions, as `monitoring.coreos.com/v1/<Kind>` or the
bare group version `monitoring.coreos.com/v1` that `helm template --api-versions` users pass):
skipIfMissing leaves it out, failIfMissing fails (in validate.yaml), alwaysRender renders it.
*/}}

{{/* "true" when the kind should be rendered. Call with (dict "root" $ "kind" "ServiceMonitor" "mode" "skipIfMissing"). */}}
{{- define "ameide-operators.monitoring.shouldRender" -}}
{{- $apis := .root.Capabilities.APIVersions -}}
{{- $served := or ($apis.Has (printf "monitoring.coreos.com/v1/%s" .kind)) ($apis.Has "monitoring.coreos.com/v1") -}}
{{- if or $served (eq .mode "alwaysRender") -}}true{{- end -}}
{{- end -}}

{{- define "ameide-operators.serviceMonitor" -}}
{{- $cfg := dict -}}
{{- include "ameide-operators.config" (dict "root" .root "operator" .operator "out" $cfg) -}}
{{- $sm := $cfg.serviceMonitor -}}
{{- if and $cfg.enabled $sm.enabled (include "ameide-operators.monitoring.shouldRender" (dict "root" .root "kind" "ServiceMonitor" "mode" $sm.renderMode)) }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $cfg.fullname }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "ameide-operators.labels" (dict "root" .root "component" $cfg.component "version" $cfg.imageTag "extra" $sm.labels) | nindent 4 }}
spec:
  namespaceSelector:
    matchNames:
      - {{ .root.Release.Namespace }}
  selector:
    matchLabels:
      {{- toYaml $cfg.selectorLabels | nindent 6 }}
  endpoints:
    - port: metrics
      path: /metrics
      scheme: http
      interval: {{ $sm.interval }}
      {{- with $sm.scrapeTimeout }}
      scrapeTimeout: {{ . }}
      {{- end }}
      {{- with $sm.relabelings }}
      relabelings:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $sm.metricRelabelings }}
      metricRelabelings:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
{{- end -}}

{{- define "ameide-operators.podMonitor" -}}
{{- $cfg := dict -}}
{{- include "ameide-operators.config" (dict "root" .root "operator" .operator "out" $cfg) -}}
{{- $pm := $cfg.podMonitor -}}
{{- if and $cfg.enabled $pm.enabled (include "ameide-operators.monitoring.shouldRender" (dict "root" .root "kind" "PodMonitor" "mode" $pm.renderMode)) }}
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: {{ $cfg.fullname }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "ameide-operators.labels" (dict "root" .root "component" $cfg.component "version" $cfg.imageTag "extra" $pm.labels) | nindent 4 }}
spec:
  namespaceSelector:
    matchNames:
      - {{ .root.Release.Namespace }}
  selector:
    matchLabels:
      {{- toYaml $cfg.selectorLabels | nindent 6 }}
  podMetricsEndpoints:
    - port: metrics
      path: /metrics
      scheme: http
      interval: {{ $pm.interval }}
      {{- with $pm.scrapeTimeout }}
      scrapeTimeout: {{ . }}
      {{- end }}
      {{- with $pm.relabelings }}
      relabelings:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $pm.metricRelabelings }}
      metricRelabelings:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
{{- end -}}

{{/*
The `job` label Prometheus gives this operator's targets: the Service name for a ServiceMonitor,
`<namespace>/<PodMonitor name>` for a PodMonitor (prometheus-operator's default relabelling).
Call with (dict "root" $ "cfg" $cfg).
*/}}
{{- define "ameide-operators.monitoring.job" -}}
{{- if .cfg.podMonitor.enabled -}}
{{- printf "%s/%s" .root.Release.Namespace .cfg.fullname -}}
{{- else -}}
{{- .cfg.fullname -}}
{{- end -}}
{{- end -}}

{{- define "ameide-operators.prometheusRule" -}}
{{- $cfg := dict -}}
{{- include "ameide-operators.config" (dict "root" .root "operator" .operator "out" $cfg) -}}
{{- $pr := $cfg.prometheusRule -}}
{{- if and $cfg.enabled $pr.enabled (include "ameide-operators.monitoring.shouldRender" (dict "root" .root "kind" "PrometheusRule" "mode" $pr.renderMode)) }}
{{- $ns := .root.Release.Namespace -}}
{{- $sel := printf "namespace=%q, job=%q" $ns (include "ameide-operators.monitoring.job" (dict "root" .root "cfg" $cfg)) -}}
{{- $title := printf "%s%s" (title $cfg.name | replace "Uisurface" "UISurface") "Operator" -}}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ $cfg.fullname }}
  namespace: {{ $ns }}
  labels:
    {{- include "ameide-operators.labels" (dict "root" .root "component" $cfg.component "version" $cfg.imageTag "extra" $pr.labels) | nindent 4 }}
spec:
  groups:
    - name: {{ $cfg.fullname }}.rules
      rules:
        {{- with $pr.operatorDown }}
        {{- if .enabled }}
        - alert: {{ $title }}Down
          expr: (sum by (namespace, job) (up{ {{- $sel -}} }) == 0) or absent(up{ {{- $sel -}} })
          for: {{ .for }}
          labels:
            severity: {{ .severity }}
            {{- with $pr.alertLabels }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          annotations:
            summary: {{ printf "The %s operator is down" $cfg.name | quote }}
            description: {{ printf "No replica of %s in namespace %s has been scraped as up for %s; %s objects are not reconciled." $cfg.fullname $ns .for (title $cfg.name | replace "Uisurface" "UISurface") | quote }}
        {{- end }}
        {{- end }}
        {{- with $pr.reconcileErrors }}
        {{- if .enabled }}
        - alert: {{ $title }}ReconcileErrors
          expr: sum by (namespace, job, controller) (rate(controller_runtime_reconcile_errors_total{ {{- $sel -}} }[5m])) > {{ .threshold }}
          for: {{ .for }}
          labels:
            severity: {{ .severity }}
            {{- with $pr.alertLabels }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          annotations:
            summary: {{ printf "The %s operator fails to reconcile" $cfg.name | quote }}
            description: {{ printf "Controller {{ $labels.controller }} of %s reports reconcile errors ({{ $value }} per second)." $cfg.fullname | quote }}
        {{- end }}
        {{- end }}
        {{- with $pr.workQueueDepth }}
        {{- if .enabled }}
        - alert: {{ $title }}WorkQueueDepth
          expr: sum by (namespace, job, name) (workqueue_depth{ {{- $sel -}} }) > {{ .threshold }}
          for: {{ .for }}
          labels:
            severity: {{ .severity }}
            {{- with $pr.alertLabels }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          annotations:
            summary: {{ printf "The %s operator work queue is backing up" $cfg.name | quote }}
            description: {{ printf "Work queue {{ $labels.name }} of %s holds {{ $value }} items." $cfg.fullname | quote }}
        {{- end }}
        {{- end }}
        {{- with $pr.additionalRules }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end }}
{{- end -}}
