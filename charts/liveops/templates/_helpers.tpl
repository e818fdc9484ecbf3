{{/* Names, labels, images and shared pod settings of the liveops chart. */}}

{{- define "liveops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped prefix of every object name; short enough for "-api-server" suffixes. */}}
{{- define "liveops.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "liveops.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "liveops.labels" -}}
helm.sh/chart: {{ include "liveops.chart" . }}
app.kubernetes.io/name: {{ include "liveops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: liveops
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component; call with (dict "ctx" $ "component" "api-server"). */}}
{{- define "liveops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "liveops.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "liveops.componentLabels" -}}
{{ include "liveops.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "liveops.apiServer.fullname" -}}
{{- printf "%s-api-server" (include "liveops.fullname" .) }}
{{- end }}

{{- define "liveops.operator.fullname" -}}
{{- printf "%s-operator" (include "liveops.fullname" .) }}
{{- end }}

{{- define "liveops.apiServer.serviceAccountName" -}}
{{- if .Values.apiServer.serviceAccount.create }}
{{- default (include "liveops.apiServer.fullname" .) .Values.apiServer.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.apiServer.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "liveops.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "liveops.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* image reference; call with (dict "ctx" $ "image" .Values.apiServer.image). A digest pins the image. */}}
{{- define "liveops.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{/* Leader election is forced on with more than one operator replica (DESIGN.md: one leader). */}}
{{- define "liveops.operator.leaderElection" -}}
{{- if or .Values.operator.leaderElection.enabled (gt (int .Values.operator.replicas) 1) }}true{{- else }}false{{- end }}
{{- end }}

{{- define "liveops.operator.leaseName" -}}
{{- default (include "liveops.operator.fullname" .) .Values.operator.leaderElection.leaseName }}
{{- end }}

{{/* Where DATABASE_URL comes from: the chart's Secret, a named Secret, or the conventional name. */}}
{{- define "liveops.database.secretName" -}}
{{- if and .Values.database.url .Values.database.existingSecret.name }}
{{- fail "database: set either database.url or database.existingSecret.name, not both" }}
{{- end }}
{{- if .Values.database.existingSecret.name }}
{{- .Values.database.existingSecret.name }}
{{- else }}
{{- printf "%s-database" (include "liveops.fullname" .) }}
{{- end }}
{{- end }}

{{- define "liveops.database.secretKey" -}}
{{- if .Values.database.url }}url{{- else }}{{ .Values.database.existingSecret.key }}{{- end }}
{{- end }}

{{- define "liveops.jwt.secretName" -}}
{{- if and .Values.jwt.secret .Values.jwt.existingSecret.name }}
{{- fail "jwt: set either jwt.secret or jwt.existingSecret.name, not both" }}
{{- end }}
{{- default (printf "%s-jwt" (include "liveops.fullname" .)) .Values.jwt.existingSecret.name }}
{{- end }}

{{- define "liveops.jwt.secretKey" -}}
{{- if .Values.jwt.existingSecret.name }}{{ .Values.jwt.existingSecret.key }}{{- else }}secret{{- end }}
{{- end }}

{{- define "liveops.admin.secretName" -}}
{{- default (printf "%s-admin" (include "liveops.fullname" .)) .Values.apiServer.bootstrapAdmin.existingSecret.name }}
{{- end }}

{{- define "liveops.admin.secretKey" -}}
{{- if .Values.apiServer.bootstrapAdmin.existingSecret.name }}{{ .Values.apiServer.bootstrapAdmin.existingSecret.key }}{{- else }}password{{- end }}
{{- end }}

{{/* Pod-level security: Pod Security Standards "restricted" (DESIGN.md, Security baseline). */}}
{{- define "liveops.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "liveops.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Scheduling knobs shared by both Deployments; call with the component's values. */}}
{{- define "liveops.scheduling" -}}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "liveops.relay.fullname" -}}
{{- printf "%s-relay" (include "liveops.fullname" .) }}
{{- end }}

{{/* Secret and key holding the broker URL of the relay's transport; call with (dict "ctx" . "broker" "nats"|"amqp"). */}}
{{- define "liveops.relay.brokerSecretName" -}}
{{- $broker := index .ctx.Values.relay .broker }}
{{- if $broker.existingSecret.name }}{{ $broker.existingSecret.name }}{{- else }}{{ include "liveops.relay.fullname" .ctx }}{{- end }}
{{- end }}

{{- define "liveops.relay.brokerSecretKey" -}}
{{- $broker := index .ctx.Values.relay .broker }}
{{- if $broker.existingSecret.name }}{{ $broker.existingSecret.key }}{{- else }}{{ printf "%s-url" .broker }}{{- end }}
{{- end }}

{{/*
checkov skip annotations of one Deployment, each with its reason (the chart README, "Security scan
decisions", lists them). A skip is rendered only while its finding applies: a digest, pullPolicy
Always or networkPolicy.enabled makes the check pass for real and the skip disappears.
Call with (dict "ctx" $ "key" "apiServer" "values" .Values.apiServer "component" "api-server").
*/}}
{{- define "liveops.checkovSkips" -}}
{{- $skips := list }}
{{- if not .values.image.digest }}
{{- $skips = append $skips (printf "CKV_K8S_43=Pinned by an immutable release tag (the chart appVersion); set %s.image.digest to pin by digest" .key) }}
{{- if ne .values.image.pullPolicy "Always" }}
{{- $skips = append $skips (printf "CKV_K8S_15=IfNotPresent with an immutable release tag, so pod starts do not depend on the registry; set %s.image.digest or pullPolicy Always" .key) }}
{{- end }}
{{- end }}
{{- $skips = append $skips "CKV_K8S_35=The binary reads its settings from environment variables only; secrets come from secretKeyRef, never inline values, and are never logged" }}
{{- if eq .component "operator" }}
{{- $skips = append $skips "CKV_K8S_38=The operator calls the Kubernetes API (watch, status patches, Events, Lease) with this token; its RBAC is least-privilege" }}
{{- end }}
{{- if not .ctx.Values.networkPolicy.enabled }}
{{- $skips = append $skips "CKV2_K8S_6=Off by default because the allowed peers (ingress controller, Prometheus, PostgreSQL) are cluster-specific; set networkPolicy.enabled" }}
{{- end }}
{{- range $index, $skip := $skips }}
checkov.io/skip{{ add1 $index }}: {{ $skip | quote }}
{{- end }}
{{- end }}
