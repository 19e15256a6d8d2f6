{{/* The release's full name, at most 63 characters. */}}
{{- define "livery.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "livery.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end -}}

{{- define "livery.labels" -}}
{{ include "livery.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "livery.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "livery.fullname" .) -}}
{{- end -}}

{{- define "livery.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "livery.fullname" .)) -}}
{{- end -}}

{{/* livery.yaml; refuses a configuration without tenants up front. */}}
{{- define "livery.config" -}}
{{- if not .Values.config.tenants -}}
{{- fail "config.tenants: at least one tenant is required (see values.yaml)" -}}
{{- end -}}
{{- toYaml .Values.config -}}
{{- end -}}
