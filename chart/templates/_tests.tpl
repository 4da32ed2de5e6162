{{/*
`helm test` hooks: one pod waits for the four CRDs to be Established, one per enabled operator
waits for its pods to be Ready (the kubelet's /readyz probe passing). They run kubectl under a
test ServiceAccount that may only read CRDs and the release namespace's pods, with the same
restricted security contexts as the operators. Hooks are deleted once every test succeeded.
*/}}

{{- define "ameide-operators.testHookAnnotations" -}}
helm.sh/hook: test
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}

{{/* A test pod running `kubectl <args>`. Call with (dict "root" $ "suffix" "test-crds" "args" $list). */}}
{{- define "ameide-operators.testPod" -}}
{{- $root := .root -}}
{{- $tests := $root.Values.tests -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "ameide-operators.suffixedName" (dict "root" $root "suffix" .suffix) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "ameide-operators.labels" (dict "root" $root "component" "test") | nindent 4 }}
  annotations:
    {{- include "ameide-operators.testHookAnnotations" (dict "weight" 0) | nindent 4 }}
spec:
  restartPolicy: Never
  serviceAccountName: {{ include "ameide-operators.suffixedName" (dict "root" $root "suffix" "test") }}
  automountServiceAccountToken: true
  enableServiceLinks: false
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  {{- with $root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: kubectl
      image: {{ include "ameide-operators.image" (dict "root" $root "image" $tests.image) }}
      imagePullPolicy: IfNotPresent
      command: ["kubectl"]
      args:
        {{- toYaml .args | nindent 8 }}
      env:
        - name: HOME
          value: /tmp
      resources:
        {{- toYaml $tests.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 16Mi
{{- end -}}
