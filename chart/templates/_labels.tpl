{{/*
Labels. Every object carries the recommended app.kubernetes.io labels and helm.sh/chart;
selectors use only name, instance and component so they never change on upgrade. Labels are
built as a map and the chart's own keys are set last, so a user label can never produce a
duplicate key or replace a selector label (validate.yaml also refuses such user labels).
*/}}

{{/* The label keys the chart sets itself; user label maps may not use them. */}}
{{- define "ameide-operators.reservedLabelKeys" -}}
app.kubernetes.io/name app.kubernetes.io/instance app.kubernetes.io/component app.kubernetes.io/version app.kubernetes.io/managed-by app.kubernetes.io/part-of helm.sh/chart
{{- end -}}

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

{{/*
Full labels as YAML. Call with (dict "root" $ "component" "rbac" "version" "0.1.0" "extra" $map);
version defaults to appVersion; extra (optional) holds the object's own user labels.
*/}}
{{- define "ameide-operators.labels" -}}
{{- $root := .root -}}
{{- $labels := dict -}}
{{- range $key, $value := $root.Values.commonLabels -}}
{{- $_ := set $labels $key $value -}}
{{- end -}}
{{- range $key, $value := (.extra | default dict) -}}
{{- $_ := set $labels $key $value -}}
{{- end -}}
{{- $_ := mergeOverwrite $labels (include "ameide-operators.selectorLabels" . | fromYaml) -}}
{{- $_ := set $labels "app.kubernetes.io/version" (include "ameide-operators.versionLabel" (.version | default $root.Chart.AppVersion)) -}}
{{- $_ := set $labels "app.kubernetes.io/managed-by" $root.Release.Service -}}
{{- $_ := set $labels "app.kubernetes.io/part-of" "ameide" -}}
{{- $_ := set $labels "helm.sh/chart" (include "ameide-operators.chart" $root) -}}
{{- toYaml $labels -}}
{{- end -}}

{{/* Standard metadata block for an operator's object. Call with (dict "root" $ "cfg" $cfg). */}}
{{- define "ameide-operators.operatorMetadata" -}}
name: {{ .cfg.fullname }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "ameide-operators.labels" (dict "root" .root "component" .cfg.component "version" .cfg.imageTag) | nindent 2 }}
{{- end -}}
