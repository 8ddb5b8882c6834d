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

{{/* The Mutating- and ValidatingWebhookConfiguration (one name for both). */}}
{{- define "remedy.admissionConfigurationName" -}}
{{- include "remedy.fullname" . -}}
{{- end -}}

{{/* The Secret of the admission webhooks' certificate (both modes). */}}
{{- define "remedy.admissionCertSecretName" -}}
{{- default (printf "%s-admission-tls" (include "remedy.fullname" .)) .Values.admission.certificate.secretName -}}
{{- end -}}

{{/* The cert-manager Certificate of certificate.mode certManager. */}}
{{- define "remedy.admissionCertificateName" -}}
{{- printf "%s-admission" (include "remedy.fullname" .) -}}
{{- end -}}

{{/*
The host of admission.url ("" without one), without its port or an IPv6
address's brackets: the serving certificate must carry it.
*/}}
{{- define "remedy.admissionUrlHost" -}}
{{- with .Values.admission.url -}}
{{- $host := (urlParse .).host -}}
{{- if hasPrefix "[" $host -}}
{{- $host = regexReplaceAll "^\\[([^\\]]*)\\].*$" $host "${1}" -}}
{{- else -}}
{{- $host = regexReplaceAll ":[0-9]*$" $host "" -}}
{{- end -}}
{{- $host -}}
{{- end -}}
{{- end -}}

{{/* The DNS names of the serving certificate, as a JSON list. */}}
{{- define "remedy.admissionDnsNames" -}}
{{- $svc := printf "%s.%s.svc" (include "remedy.fullname" .) .Release.Namespace -}}
{{- $names := list $svc (printf "%s.cluster.local" $svc) -}}
{{- $host := include "remedy.admissionUrlHost" . -}}
{{- if and $host (not (regexMatch "^[0-9.]+$|:" $host)) -}}
{{- $names = append $names $host -}}
{{- end -}}
{{- concat $names .Values.admission.certificate.dnsNames | uniq | toJson -}}
{{- end -}}

{{/* The IP addresses of the serving certificate, as a JSON list. */}}
{{- define "remedy.admissionIpAddresses" -}}
{{- $ips := list -}}
{{- $host := include "remedy.admissionUrlHost" . -}}
{{- if and $host (regexMatch "^[0-9.]+$|:" $host) -}}
{{- $ips = append $ips $host -}}
{{- end -}}
{{- concat $ips .Values.admission.certificate.ipAddresses | uniq | toJson -}}
{{- end -}}

{{/* The Secret holding the Approval seal key. */}}
{{- define "remedy.sealKeySecretName" -}}
{{- default (printf "%s-approval-seal" (include "remedy.fullname" .)) .Values.admission.sealKey.existingSecret -}}
{{- end -}}

{{/*
The generated seal key: the one already in the cluster (so upgrades keep it
and every Approval sealed so far still verifies), else 64 random
characters (384 bits). Chosen once per render, like the webhook token.
*/}}
{{- define "remedy.sealKey" -}}
{{- if not (hasKey . "remedySealKey") -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "remedy.sealKeySecretName" .) -}}
{{- $kept := dig "data" .Values.admission.sealKey.key "" $secret | b64dec -}}
{{- $_ := set . "remedySealKey" (default (randAlphaNum 64) $kept) -}}
{{- end -}}
{{- index . "remedySealKey" -}}
{{- end -}}

{{/*
Changes when the seal key does, so the pods restart with it: the hash of the
generated key (a 384-bit random key cannot be found from it), or for a
Secret of the user's its name and resourceVersion, never its content.
*/}}
{{- define "remedy.sealKeyChecksum" -}}
{{- if .Values.admission.sealKey.existingSecret -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace .Values.admission.sealKey.existingSecret -}}
{{- printf "%s/%s" .Values.admission.sealKey.existingSecret (dig "metadata" "resourceVersion" "" $secret) | sha256sum -}}
{{- else -}}
{{- include "remedy.sealKey" . | sha256sum -}}
{{- end -}}
{{- end -}}

{{/*
The namespaces whose Approvals and Incidents the webhooks see: the watched
ones (watchNamespaces), else every namespace.
*/}}
{{- define "remedy.admissionNamespaceSelector" -}}
{{- if .Values.watchNamespaces -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: In
    values:
      {{- toYaml .Values.watchNamespaces | nindent 6 }}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{/*
What the operator needs cluster-wide for approvals (files/approval-rules.yaml):
SubjectAccessReviews, and in certificate mode "secret" the two webhook
configurations by name (resourceNames), whose caBundle the leader keeps.
*/}}
{{- define "remedy.approvalClusterRules" -}}
{{- $rules := list -}}
{{- range $rule := fromYamlArray (.Files.Get "files/approval-rules.yaml") -}}
{{- if has "admissionregistration.k8s.io" $rule.apiGroups -}}
{{- if and $.Values.admission.enabled (eq $.Values.admission.certificate.mode "secret") -}}
{{- $_ := set $rule "resourceNames" (list (include "remedy.admissionConfigurationName" $)) -}}
{{- $rules = append $rules $rule -}}
{{- end -}}
{{- else -}}
{{- $rules = append $rules $rule -}}
{{- end -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}

{{/*
In the release namespace, certificate mode "secret": creating the
certificate's Secret (create cannot be limited to a name: the name is not
known when it is authorized) and reading and renewing that one Secret
(files/admission-secret-rules.yaml; get and update get resourceNames).
*/}}
{{- define "remedy.admissionSecretRules" -}}
{{- $rules := list -}}
{{- range $rule := fromYamlArray (.Files.Get "files/admission-secret-rules.yaml") -}}
{{- if not (has "create" $rule.verbs) -}}
{{- $_ := set $rule "resourceNames" (list (include "remedy.admissionCertSecretName" $)) -}}
{{- end -}}
{{- $rules = append $rules $rule -}}
{{- end -}}
{{- toYaml $rules -}}
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
{{- /* The Leases rule is granted with or without leader election: the
Incident controller holds a Lease per target (files/leader-election-rules.yaml). */ -}}
{{- $rules := concat (fromYamlArray (.Files.Get "files/leader-election-rules.yaml")) (fromYamlArray (.Files.Get "files/pause-rules.yaml")) -}}
{{- toYaml $rules -}}
{{- end -}}

{{/*
The API server's addresses as CIDRs (a JSON list): networkPolicy.egress.apiServer.cidrs,
else the endpoints of the Service kubernetes in default at install (none
under `helm template`).
*/}}
{{- define "remedy.apiServerCidrs" -}}
{{- $cidrs := .Values.networkPolicy.egress.apiServer.cidrs -}}
{{- if not $cidrs -}}
{{- $endpoints := lookup "v1" "Endpoints" "default" "kubernetes" -}}
{{- range $subset := (dig "subsets" (list) $endpoints) -}}
{{- range $address := (dig "addresses" (list) $subset) -}}
{{- $cidrs = append $cidrs (printf "%s/%s" $address.ip (ternary "128" "32" (contains ":" $address.ip))) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson (default (list) $cidrs) -}}
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
{{- if .Values.admission.enabled -}}
{{- if not (has .Values.admission.certificate.mode (list "secret" "certManager")) -}}
{{- fail (printf "admission.certificate.mode %q: want secret or certManager" .Values.admission.certificate.mode) -}}
{{- end -}}
{{- with .Values.admission.url -}}
{{- if not (hasPrefix "https://" .) -}}
{{- fail (printf "admission.url %q: the API server calls webhooks over HTTPS only; want https://HOST[:PORT][/PATH]" .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not (has .Values.tenancy.defaultServiceAccount .Values.tenancy.serviceAccounts) -}}
{{- fail (printf "tenancy.defaultServiceAccount %q is not one of tenancy.serviceAccounts (%s): the operator could not act as it" .Values.tenancy.defaultServiceAccount (join ", " .Values.tenancy.serviceAccounts)) -}}
{{- end -}}
{{- end -}}
