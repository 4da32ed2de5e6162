{{/*
Images: `<registry>/<repository>:<tag>[@<digest>]`; the tag defaults to the chart appVersion,
never `latest`.
*/}}

{{/* The image tag. Call with (dict "root" $ "image" $op.image). */}}
{{- define "ameide-operators.imageTag" -}}
{{- .image.tag | default .root.Chart.AppVersion | toString -}}
{{- end -}}

{{/* The image reference. Call with (dict "root" $ "image" $op.image). */}}
{{- define "ameide-operators.image" -}}
{{- $registry := .image.registry | default .root.Values.global.imageRegistry | trimSuffix "/" -}}
{{- $repository := .image.repository -}}
{{- if $registry -}}
{{- $repository = printf "%s/%s" $registry $repository -}}
{{- end -}}
{{- $ref := printf "%s:%s" $repository (include "ameide-operators.imageTag" .) -}}
{{- if .image.digest -}}
{{- $ref = printf "%s@%s" $ref .image.digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}
