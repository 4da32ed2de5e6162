{{/*
Labels. Every object carries the recommended app.kubernetes.io labels and helm.sh/chart;
selectors use only name, instance and component so they never change on upgrade.
*/}}

{{/* Selector labels. Call with (dict "root" $ "component" "domain-operator"). */}}
{{- define "ameide-operators.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ameide-operators.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* A label-safe version: the operator image tag when given, else the chart appVersion. */}}
{{- define "ameide-operators.versionLabel" -}}
{{- . | toString | trunc 63 | trimAll "-_." -}}
{{- end -}}

{{/* Full labels. Call with (dict "root" $ "component" "rbac" "version" "0.1.0"); version defaults to appVersion. */}}
{{- define "ameide-operators.labels" -}}
{{- $root := .root -}}
{{ include "ameide-operators.selectorLabels" . }}
app.kubernetes.io/version: {{ include "ameide-operators.versionLabel" (.version | default $root.Chart.AppVersion) | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: ameide
helm.sh/chart: {{ include "ameide-operators.chart" $root }}
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Standard metadata block for an operator's object. Call with (dict "root" $ "cfg" $cfg). */}}
{{- define "ameide-operators.operatorMetadata" -}}
name: {{ .cfg.fullname }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "ameide-operators.labels" (dict "root" .root "component" .cfg.component "version" .cfg.imageTag) | nindent 2 }}
{{- end -}}
