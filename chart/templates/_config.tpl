{{/*
The effective configuration of one operator: its own values, the top-level defaults it does
not override, and derived facts (ports, names, leader election). Templates mutate a dict
passed in because `include` can only return text:

  {{- $cfg := dict -}}
  {{- include "ameide-operators.config" (dict "root" $ "operator" "domain" "out" $cfg) -}}
*/}}
{{- define "ameide-operators.config" -}}
{{- $root := .root -}}
{{- $name := .operator -}}
{{- $out := .out -}}
{{- $op := index $root.Values.operators $name -}}
{{- $component := printf "%s-operator" $name -}}
{{- $replicas := int $op.replicas -}}
{{- $_ := set $out "name" $name -}}
{{- $_ := set $out "enabled" (and $root.Values.enabled $op.enabled) -}}
{{- $_ := set $out "component" $component -}}
{{- $_ := set $out "fullname" (include "ameide-operators.suffixedName" (dict "root" $root "suffix" $component)) -}}
{{- $_ := set $out "replicas" $replicas -}}
{{- $_ := set $out "leaderElection" (or $op.leaderElection (gt $replicas 1)) -}}
{{- $_ := set $out "leaderElectionForced" (and (not $op.leaderElection) (gt $replicas 1)) -}}
{{- $_ := set $out "image" (include "ameide-operators.image" (dict "root" $root "image" $op.image)) -}}
{{- $_ := set $out "imageTag" (include "ameide-operators.imageTag" (dict "root" $root "image" $op.image)) -}}
{{- $_ := set $out "metricsPort" (regexFind "[0-9]+$" $op.metricsBindAddress | int) -}}
{{- $_ := set $out "healthPort" (regexFind "[0-9]+$" $op.healthProbeBindAddress | int) -}}
{{- $_ := set $out "values" $op -}}
{{- $_ := set $out "selectorLabels" (include "ameide-operators.selectorLabels" (dict "root" $root "component" $component) | fromYaml) -}}
{{- $_ := set $out "deploymentAnnotations" (merge (deepCopy ($op.deploymentAnnotations | default dict)) (deepCopy $root.Values.deploymentAnnotations)) -}}
{{- range $block := list "antiAffinity" "logging" "leaderElectionTimings" "metricsService" "podDisruptionBudget" "serviceMonitor" "podMonitor" "prometheusRule" "networkPolicy" -}}
{{- $merged := deepCopy (index $root.Values $block | default dict) -}}
{{- include "ameide-operators.mergeInto" (dict "dst" $merged "src" (index $op $block | default dict)) -}}
{{- $_ := set $out $block $merged -}}
{{- end -}}
{{- end -}}

{{/* "true" when at least one operator is enabled (and the chart itself is). */}}
{{- define "ameide-operators.anyEnabled" -}}
{{- if .Values.enabled -}}
{{- range $name := splitList " " (include "ameide-operators.operatorNames" .) -}}
{{- if (index $.Values.operators $name).enabled -}}true{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when an enabled operator uses leader election (and so needs the lease Role). */}}
{{- define "ameide-operators.anyLeaderElection" -}}
{{- if .Values.enabled -}}
{{- range $name := splitList " " (include "ameide-operators.operatorNames" .) -}}
{{- $op := index $.Values.operators $name -}}
{{- if and $op.enabled (or $op.leaderElection (gt (int $op.replicas) 1)) -}}true{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Deep-merge an operator's override block into a copy of the top-level block: keys set (not null)
in `src` win, nested maps merge, except label selectors, which are replaced whole. `false` and
0 override too (unlike sprig's mergeOverwrite).
*/}}
{{- define "ameide-operators.mergeInto" -}}
{{- $dst := .dst -}}
{{- range $key, $value := .src -}}
{{- if and (kindIs "map" $value) (kindIs "map" (index $dst $key)) (not (has $key (list "namespaceSelector" "podSelector"))) -}}
{{- include "ameide-operators.mergeInto" (dict "dst" (index $dst $key) "src" $value) -}}
{{- else if not (kindIs "invalid" $value) -}}
{{- $_ := set $dst $key (deepCopy $value) -}}
{{- end -}}
{{- end -}}
{{- end -}}
