{{- define "rewind.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "rewind" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-rewind" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rewind.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: rewind
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "rewind.selector" -}}
app.kubernetes.io/name: rewind
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "rewind.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rewind.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The roles this release runs: api + worker, or serve. */}}
{{- define "rewind.roles" -}}
{{- if eq .Values.mode "serve" -}}serve{{- else if eq .Values.mode "split" -}}api worker{{- else -}}
{{- fail (printf "mode must be split or serve, not %q" .Values.mode) -}}
{{- end -}}
{{- end -}}

{{/* The config file: the user's config with the in-pod policy paths. */}}
{{- define "rewind.config" -}}
{{- $policy := dict "wasm" "/app/policies/build/policy.wasm" "data" (ternary "/etc/rewind/data.json" "/app/policies/data.json" (not (empty .Values.policyData))) -}}
{{- $cfg := merge (dict "policy" $policy) (omit .Values.config "policy") -}}
{{- toYaml $cfg -}}
{{- end -}}
