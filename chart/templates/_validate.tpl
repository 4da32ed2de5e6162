{{/*
Contradictory values fail the render with one message naming the key and the fix. The schema
catches types and unknown keys; this catches combinations. Leader election with replicas > 1 is
not an error: it is switched on (see NOTES).
*/}}
{{- define "ameide-operators.validate" -}}
{{- $root := . -}}
{{- if and (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) -}}
{{- fail "serviceAccount.name is empty while serviceAccount.create is false: name an existing ServiceAccount or set serviceAccount.create=true" -}}
{{- end -}}
{{- range $name := splitList " " (include "ameide-operators.operatorNames" .) -}}
{{- $cfg := dict -}}
{{- include "ameide-operators.config" (dict "root" $root "operator" $name "out" $cfg) -}}
{{- if $cfg.enabled -}}
{{- $key := printf "operators.%s" $name -}}
{{- if eq $cfg.metricsPort $cfg.healthPort -}}
{{- fail (printf "%s: metricsBindAddress and healthProbeBindAddress use the same port %d; give them different ports" $key $cfg.metricsPort) -}}
{{- end -}}
{{- $pdb := $cfg.podDisruptionBudget -}}
{{- if $pdb.enabled -}}
{{- if and (not (kindIs "invalid" $pdb.minAvailable)) (not (kindIs "invalid" $pdb.maxUnavailable)) -}}
{{- fail (printf "%s: podDisruptionBudget.minAvailable and podDisruptionBudget.maxUnavailable are both set; a PodDisruptionBudget takes only one, so unset one of them" $key) -}}
{{- end -}}
{{- if and (not (kindIs "invalid" $pdb.minAvailable)) (not (kindIs "string" $pdb.minAvailable)) -}}
{{- if ge (int $pdb.minAvailable) $cfg.replicas -}}
{{- fail (printf "%s: podDisruptionBudget.minAvailable (%d) is not below replicas (%d), so no pod could ever be evicted and node drains would hang; raise replicas or lower minAvailable" $key (int $pdb.minAvailable) $cfg.replicas) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $kind := list "ServiceMonitor" "PrometheusRule" -}}
{{- $block := index $cfg (untitle $kind) -}}
{{- if and $block.enabled (eq $block.renderMode "failIfMissing") (not (include "ameide-operators.monitoring.shouldRender" (dict "root" $root "kind" $kind "mode" "skipIfMissing"))) -}}
{{- fail (printf "%s: %s.renderMode is failIfMissing but the cluster does not serve monitoring.coreos.com/v1 %s; install the Prometheus Operator CRDs first, or set renderMode to skipIfMissing" $key (untitle $kind) $kind) -}}
{{- end -}}
{{- end -}}
{{- if and $cfg.serviceMonitor.enabled (not $cfg.metricsService.enabled) -}}
{{- fail (printf "%s: serviceMonitor.enabled needs the metrics Service, but metricsService.enabled is false; enable metricsService or disable serviceMonitor" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
