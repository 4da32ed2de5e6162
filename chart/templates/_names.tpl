{{/*
Object names. Every name stays within 63 characters for any release name Helm accepts (53):
the release-derived prefix is cut first so the suffix that tells objects apart always survives.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "ameide-operators.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* `<release>-<chart>` (or just the release when it already contains the chart name), or fullnameOverride. */}}
{{- define "ameide-operators.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* `<fullname>-<suffix>` with the prefix shortened so the whole name fits in 63 characters.
Call with (dict "root" $ "suffix" "domain-operator"). */}}
{{- define "ameide-operators.suffixedName" -}}
{{- $max := sub 62 (len .suffix) | int -}}
{{- $prefix := include "ameide-operators.fullname" .root | trunc $max | trimSuffix "-" -}}
{{- printf "%s-%s" $prefix .suffix -}}
{{- end -}}

{{/* `name-version` for the helm.sh/chart label. */}}
{{- define "ameide-operators.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The ServiceAccount every operator runs as. */}}
{{- define "ameide-operators.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ameide-operators.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The operators this chart knows, in a fixed order. */}}
{{- define "ameide-operators.operatorNames" -}}
domain process agent uisurface
{{- end -}}
