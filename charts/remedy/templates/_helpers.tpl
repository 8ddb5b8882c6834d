{{/*
Names, labels and the values derived from several others. Every template
includes these with the chart's root context (`.` or `$`).
*/}}

{{/* The chart name, or nameOverride (a label value: at most 63 characters). */}}
{{- define "remedy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every object name: fullnameOverride, else the release name when
it already contains the chart name, else <release>-<chart>.
*/}}
{{- define "remedy.fullname" -}}
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

{{/* helm.sh/chart: <name>-<version>. */}}
{{- define "remedy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The labels a Deployment selects its pods by (immutable once installed). */}}
{{- define "remedy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "remedy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The labels on every object of the chart. */}}
{{- define "remedy.labels" -}}
helm.sh/chart: {{ include "remedy.chart" . }}
{{ include "remedy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: remedy
app.kubernetes.io/component: operator
{{- end -}}

{{/* The operator's ServiceAccount. */}}
{{- define "remedy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "remedy.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image reference: a digest pins it, else the tag (default appVersion). */}}
{{- define "remedy.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The leader-election Lease: one per release, so two releases never share it. */}}
{{- define "remedy.leaseName" -}}
{{- default (include "remedy.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{/*
Where Incidents for alerts of unmanaged namespaces go. With watchNamespaces
set it must be watched: the operator would never see an Incident elsewhere.
*/}}
{{- define "remedy.incidentNamespace" -}}
{{- $ns := default .Release.Namespace .Values.incidentNamespace -}}
{{- if and .Values.watchNamespaces (not (has $ns .Values.watchNamespaces)) -}}
{{- fail (printf "incidentNamespace %q is not one of watchNamespaces (%s): Incidents created there would never run; set incidentNamespace to a watched namespace" $ns (join ", " .Values.watchNamespaces)) -}}
{{- end -}}
{{- $ns -}}
{{- end -}}

{{/* The Secret holding the webhook's bearer token. */}}
{{- define "remedy.tokenSecretName" -}}
{{- default (printf "%s-webhook-token" (include "remedy.fullname" .)) .Values.webhook.token.existingSecret -}}
{{- end -}}

{{/*
The generated webhook token: the one already in the cluster (so upgrades keep
it and Alertmanager's copy stays valid), else 48 random characters. It is
chosen once per render and kept on the root context, so the Secret and the
Deployment's checksum see the same token (Helm renders every template of a
chart with the same root map).
*/}}
{{- define "remedy.webhookToken" -}}
{{- if not (hasKey . "remedyWebhookToken") -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "remedy.tokenSecretName" .) -}}
{{- $kept := dig "data" .Values.webhook.token.key "" $secret | b64dec -}}
{{- $_ := set . "remedyWebhookToken" (default (randAlphaNum 48) $kept) -}}
{{- end -}}
{{- index . "remedyWebhookToken" -}}
{{- end -}}

{{/*
Changes whenever the token does, so the pods restart with the new one. For a
Secret of the user's, the hash covers its name and resourceVersion, never the
token itself: a weak token must not be guessable from a pod annotation.
*/}}
{{- define "remedy.webhookTokenChecksum" -}}
{{- if .Values.webhook.token.existingSecret -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace .Values.webhook.token.existingSecret -}}
{{- printf "%s/%s" .Values.webhook.token.existingSecret (dig "metadata" "resourceVersion" "" $secret) | sha256sum -}}
{{- else -}}
{{- include "remedy.webhookToken" . | sha256sum -}}
{{- end -}}
{{- end -}}

{{/*
Whether a rule of files/tenant-rules.yaml is granted with these values ("true"
or ""): called with (dict "rule" RULE "Values" .Values). The file's header
lists the four resources that depend on values.
*/}}
{{- define "remedy.tenantRuleEnabled" -}}
{{- $kinds := concat $.Values.actions.patch.allowedKinds $.Values.actions.apply.allowedKinds -}}
{{- $enabled := true -}}
{{- range .rule.resources -}}
{{- if and (eq . "secrets") (not $.Values.actions.readSecrets) -}}{{- $enabled = false -}}{{- end -}}
{{- if and (eq . "jobs") (not $.Values.actions.runJob) -}}{{- $enabled = false -}}{{- end -}}
{{- if and (eq . "configmaps") (not (has "ConfigMap" $kinds)) -}}{{- $enabled = false -}}{{- end -}}
{{- if and (eq . "networkpolicies") (not (has "NetworkPolicy" $kinds)) -}}{{- $enabled = false -}}{{- end -}}
{{- end -}}
{{- if $enabled -}}true{{- end -}}
{{- end -}}

{{/*
The operator's rules in each managed namespace, as a YAML list: its own kinds,
Events, and impersonating exactly the ServiceAccount names of
tenancy.serviceAccounts (the rule of files/rbac-rules.yaml with the verb
impersonate gets them as resourceNames).
*/}}
{{- define "remedy.operatorRules" -}}
{{- $rules := list -}}
{{- range $rule := fromYamlArray (.Files.Get "files/rbac-rules.yaml") -}}
{{- if has "impersonate" $rule.verbs -}}
{{- $_ := set $rule "resourceNames" $.Values.tenancy.serviceAccounts -}}
{{- end -}}
{{- $rules = append $rules $rule -}}
{{- end -}}
{{- toYaml (concat $rules .Values.rbac.extraRules) -}}
{{- end -}}

{{/* What the operator reads cluster-wide in every mode: RunbookPolicies. */}}
{{- define "remedy.clusterRules" -}}
{{- toYaml (fromYamlArray (.Files.Get "files/cluster-rules.yaml")) -}}
{{- end -}}

{{/* The rights Runbook steps act with in each namespace of tenancy.namespaces. */}}
{{- define "remedy.tenantRules" -}}
{{- $rules := list -}}
{{- range $rule := fromYamlArray (.Files.Get "files/tenant-rules.yaml") -}}
{{- if include "remedy.tenantRuleEnabled" (dict "rule" $rule "Values" $.Values) -}}
{{- $rules = append $rules $rule -}}
{{- end -}}
{{- end -}}
{{- toYaml (concat $rules .Values.tenancy.extraRules) -}}
{{- end -}}

{{/* The rules in the release namespace only: the Lease and the pause switch. */}}
{{- define "remedy.releaseNamespaceRules" -}}
{{- $rules := fromYamlArray (.Files.Get "files/pause-rules.yaml") -}}
{{- if .Values.leaderElection.enabled -}}
{{- $rules = concat (fromYamlArray (.Files.Get "files/leader-election-rules.yaml")) $rules -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}

{{/* Refuses values that would install a broken operator. */}}
{{- define "remedy.validate" -}}
{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.replicaCount) 1) -}}
{{- fail "leaderElection.enabled is false with replicaCount > 1: every replica would run the same steps; enable leader election or run one replica" -}}
{{- end -}}
{{- if .Values.webhook.tls.enabled -}}
{{- $_ := required "webhook.tls.secretName is required when webhook.tls.enabled is true" .Values.webhook.tls.secretName -}}
{{- end -}}
{{- $_ := include "remedy.incidentNamespace" . -}}
{{- if not (has .Values.tenancy.defaultServiceAccount .Values.tenancy.serviceAccounts) -}}
{{- fail (printf "tenancy.defaultServiceAccount %q is not one of tenancy.serviceAccounts (%s): the operator could not act as it" .Values.tenancy.defaultServiceAccount (join ", " .Values.tenancy.serviceAccounts)) -}}
{{- end -}}
{{- end -}}
