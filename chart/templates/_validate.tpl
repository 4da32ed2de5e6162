{{/*
Contradictory values fail the render with one message naming the key and the fix. The schema
catches types and unknown keys; this catches combinations. Leader election with replicas > 1 is
not an error: it is switched on (see NOTES).
*/}}
{{- define "ameide-operators.validate" -}}
{{- $root := . -}}
{{- if .Values.enabled -}}
{{- if and (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) -}}
{{- fail "serviceAccount.name is empty while serviceAccount.create is false: name an existing ServiceAccount or set serviceAccount.create=true" -}}
{{- end -}}
{{- include "ameide-operators.validateLabels" (dict "key" "commonLabels" "labels" .Values.commonLabels) -}}
{{- include "ameide-operators.validateLabels" (dict "key" "grafanaDashboard.labels" "labels" .Values.grafanaDashboard.labels) -}}
{{- $strategy := .Values.strategy -}}
{{- if and (eq $strategy.type "RollingUpdate") $strategy.rollingUpdate -}}
{{- $surge := $strategy.rollingUpdate.maxSurge -}}
{{- $unavailable := $strategy.rollingUpdate.maxUnavailable -}}
{{- if and (include "ameide-operators.isZero" $surge) (include "ameide-operators.isZero" $unavailable) -}}
{{- fail "strategy.rollingUpdate: maxSurge and maxUnavailable are both 0, so a rollout could never replace a pod; make one of them positive" -}}
{{- end -}}
{{- end -}}
{{- range $name := splitList " " (include "ameide-operators.operatorNames" .) -}}
{{- $cfg := dict -}}
{{- include "ameide-operators.config" (dict "root" $root "operator" $name "out" $cfg) -}}
{{- if $cfg.enabled -}}
{{- $key := printf "operators.%s" $name -}}
{{- if eq $cfg.metricsPort $cfg.healthPort -}}
{{- fail (printf "%s: metricsBindAddress and healthProbeBindAddress use the same port %d; give them different ports" $key $cfg.metricsPort) -}}
{{- end -}}
{{- include "ameide-operators.validateLabels" (dict "key" (printf "%s.podLabels" $key) "labels" $cfg.values.podLabels) -}}
{{- range $block := list "serviceMonitor" "podMonitor" "prometheusRule" -}}
{{- include "ameide-operators.validateLabels" (dict "key" (printf "%s: %s.labels" $key $block) "labels" (index $cfg $block).labels) -}}
{{- end -}}
{{- include "ameide-operators.validateLeaderElection" (dict "key" $key "timings" $cfg.leaderElectionTimings) -}}
{{- include "ameide-operators.validatePodDisruptionBudget" (dict "key" $key "cfg" $cfg) -}}
{{- range $kind := list "ServiceMonitor" "PodMonitor" "PrometheusRule" -}}
{{- $block := index $cfg (untitle $kind) -}}
{{- if and $block.enabled (eq $block.renderMode "failIfMissing") (not (include "ameide-operators.monitoring.shouldRender" (dict "root" $root "kind" $kind "mode" "skipIfMissing"))) -}}
{{- fail (printf "%s: %s.renderMode is failIfMissing but the cluster does not serve monitoring.coreos.com/v1 %s; install the Prometheus Operator CRDs first, or set renderMode to skipIfMissing" $key (untitle $kind) $kind) -}}
{{- end -}}
{{- end -}}
{{- if and $cfg.serviceMonitor.enabled (not $cfg.metricsService.enabled) -}}
{{- fail (printf "%s: serviceMonitor.enabled needs the metrics Service, but metricsService.enabled is false; enable metricsService or disable serviceMonitor" $key) -}}
{{- end -}}
{{- if and $cfg.serviceMonitor.enabled $cfg.podMonitor.enabled -}}
{{- fail (printf "%s: serviceMonitor.enabled and podMonitor.enabled are both true, so Prometheus would scrape every replica twice; enable only one of them" $key) -}}
{{- end -}}
{{- if and $cfg.prometheusRule.enabled $cfg.prometheusRule.operatorDown.enabled (not (or $cfg.serviceMonitor.enabled $cfg.podMonitor.enabled)) -}}
{{- fail (printf "%s: prometheusRule.operatorDown needs the operator to be scraped, but neither serviceMonitor nor podMonitor is enabled, so the alert would fire forever; enable one of them or set prometheusRule.operatorDown.enabled=false" $key) -}}
{{- end -}}
{{- $np := $cfg.networkPolicy -}}
{{- if and $np.enabled (not $np.apiServer.allowAnyDestination) -}}
{{- $api := include "ameide-operators.apiServerPeers" (dict "apiServer" $np.apiServer) | fromYaml -}}
{{- if not $api.cidrs -}}
{{- fail (printf "%s: networkPolicy.apiServer.cidrs is empty and the kubernetes Service's addresses could not be looked up (no cluster: helm template, --dry-run=client or an Argo CD render), so the API server egress rule would have no destination; set networkPolicy.apiServer.cidrs to the API server addresses (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes) or, knowingly, networkPolicy.apiServer.allowAnyDestination=true" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when an int-or-percent value is 0 or "0%". */}}
{{- define "ameide-operators.isZero" -}}
{{- if and (not (kindIs "invalid" .)) (eq (toString . | trimSuffix "%") "0") -}}true{{- end -}}
{{- end -}}

{{/* Refuse user labels that would replace one the chart sets. Call with (dict "key" "commonLabels" "labels" $map). */}}
{{- define "ameide-operators.validateLabels" -}}
{{- $reserved := splitList " " (include "ameide-operators.reservedLabelKeys" .) -}}
{{- range $label, $_ := .labels -}}
{{- if has $label $reserved -}}
{{- fail (printf "%s: the label %s is set by the chart itself (selectors and Helm's ownership depend on it); remove it" $.key $label) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A PodDisruptionBudget that can never allow an eviction blocks every node drain. Kubernetes
rounds percentages up (intstr.GetScaledValueFromIntOrPercent with roundUp), so minAvailable
"50%" of one replica is one pod. Call with (dict "key" "operators.domain" "cfg" $cfg).
*/}}
{{- define "ameide-operators.validatePodDisruptionBudget" -}}
{{- $key := .key -}}
{{- $replicas := .cfg.replicas -}}
{{- $pdb := .cfg.podDisruptionBudget -}}
{{- if $pdb.enabled -}}
{{- $min := $pdb.minAvailable -}}
{{- $max := $pdb.maxUnavailable -}}
{{- if and (not (kindIs "invalid" $min)) (not (kindIs "invalid" $max)) -}}
{{- fail (printf "%s: podDisruptionBudget.minAvailable and podDisruptionBudget.maxUnavailable are both set; a PodDisruptionBudget takes only one, so unset one of them" $key) -}}
{{- end -}}
{{- if not (kindIs "invalid" $min) -}}
{{- $pods := int $min -}}
{{- if kindIs "string" $min -}}
{{- $percent := trimSuffix "%" $min | int -}}
{{- $pods = div (add (mul $replicas $percent) 99) 100 | int -}}
{{- end -}}
{{- if ge $pods $replicas -}}
{{- fail (printf "%s: podDisruptionBudget.minAvailable (%v) keeps all %d replica(s) up, so no pod could ever be evicted and node drains would hang; raise replicas or lower minAvailable" $key $min $replicas) -}}
{{- end -}}
{{- end -}}
{{- if include "ameide-operators.isZero" $max -}}
{{- fail (printf "%s: podDisruptionBudget.maxUnavailable is %v, so no pod could ever be evicted and node drains would hang; use at least 1 (or leave it unset)" $key $max) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
client-go refuses leader-election timings unless leaseDuration > renewDeadline > 1.2 x
retryPeriod (leaderelection.NewLeaderElector); unset ones keep its defaults 15s, 10s, 2s.
Call with (dict "key" "operators.domain" "timings" $cfg.leaderElectionTimings).
*/}}
{{- define "ameide-operators.validateLeaderElection" -}}
{{- $t := .timings -}}
{{- $lease := kindIs "invalid" $t.leaseDurationSeconds | ternary 15 $t.leaseDurationSeconds | int -}}
{{- $renew := kindIs "invalid" $t.renewDeadlineSeconds | ternary 10 $t.renewDeadlineSeconds | int -}}
{{- $retry := kindIs "invalid" $t.retryPeriodSeconds | ternary 2 $t.retryPeriodSeconds | int -}}
{{- if le $lease $renew -}}
{{- fail (printf "%s: leaderElectionTimings.leaseDurationSeconds (%d) must be greater than renewDeadlineSeconds (%d), or the operator exits at start; raise the lease duration" .key $lease $renew) -}}
{{- end -}}
{{- if le (mul $renew 10) (mul $retry 12) -}}
{{- fail (printf "%s: leaderElectionTimings.renewDeadlineSeconds (%d) must be greater than 1.2 x retryPeriodSeconds (%d), or the operator exits at start; lower the retry period" .key $renew $retry) -}}
{{- end -}}
{{- end -}}
