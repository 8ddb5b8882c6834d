#!/usr/bin/env bash
# `helm install` of charts/remedy into the real control plane (a namespace and
# a release name of this test's; kwok "runs" the pods whatever the image),
# then remedy-operator on the host, started from the rendered Deployment's
# container arguments under the chart's ServiceAccount (a TokenRequest
# token), taking an alert posted to its webhook to a Succeeded Incident that
# scaled a Deployment. Also what needs a cluster to render: the webhook
# token kept across `helm upgrade` (lookup), an existing Secret used
# without its token reaching the manifests, and the egress NetworkPolicy's
# rule for the API server from the kubernetes Service's endpoints.
#
# Approvals (issue #16): the chart registers the admission webhooks with
# admission.url on the host operator's loopback admission port (this API
# server cannot reach a Service's ClusterIP); the leader creates the
# certificate Secret and writes the caBundle into both configurations; an
# Approval written by a user authenticated with a client certificate comes
# back with spec.approver from authentication and a seal, and lets the step
# run; one written in another's name is refused naming spec.approver; `helm
# upgrade` (server-side apply, then a three-way merge) keeps the seal key
# and leaves the leader's caBundle alone.
#
# Of the container's arguments, only what cannot work on the host is
# replaced:
#   --webhook-bind-address=0.0.0.0          -> 127.0.0.1
#   --webhook-port, --metrics-port,
#   --health-port                           -> free loopback ports
#   --webhook-token-file=<the Secret's mount> -> a file holding the Secret's key
#   --admission-bind-address=0.0.0.0        -> 127.0.0.1 (admission.port is
#                                              already a free loopback port)
#   --approval-seal-key-file=<the mount>    -> a file holding the Secret's key
# and the pod's in-cluster credentials become --kubeconfig with a token of
# the chart's ServiceAccount; POD_NAMESPACE is set as the downward API would.
#
# usage: helm_install_test.sh PATH/TO/remedy-operator   (REMEDY_CLUSTER_DIR: the control plane)
source "$(dirname "$0")/lib.sh"
OPERATOR=$1
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REMEDY_TEST_APISERVER=real
start_apiserver /nonexistent

HELM=$BIN_DIR/helm
RELEASE=rt$$
NS=$TEST_NS
APP_NS=$TEST_NS-app
export HELM_CACHE_HOME=$WORKDIR/helm HELM_CONFIG_HOME=$WORKDIR/helm HELM_DATA_HOME=$WORKDIR/helm
h() { "$HELM" --kubeconfig "$KUBECONFIG_FILE" "$@" 2> >(grep -v "found symbolic link" >&2); }

uninstall() {
  h uninstall "$RELEASE" -n "$NS" --wait=false >/dev/null 2>&1
}
trap 'uninstall; cleanup' EXIT

started=$SECONDS
free_port() { /usr/bin/python3 "$ROOT/scripts/free_port.py"; } # a free loopback port, below the ephemeral range
ADMISSION_PORT=$(free_port)
# The control plane is shared by the run: the operator manages only the
# namespace of this test's Deployment (watchNamespaces, one Role there), so
# it never acts on another test's Incidents; its steps act there as the
# runner ServiceAccount the chart creates (tenancy.namespaces).
k create namespace "$APP_NS" >/dev/null
REAL_NAMESPACES+=("$APP_NS")

# --- install: the chart's CRDs (kept if the run already has them), objects, pods ---
out=$(h install "$RELEASE" "$ROOT/charts/remedy" -n "$NS" --wait --timeout 90s \
  --set "watchNamespaces={$APP_NS}" --set "incidentNamespace=$APP_NS" \
  --set "tenancy.namespaces={$APP_NS}" \
  --set "admission.url=https://127.0.0.1:$ADMISSION_PORT" --set "admission.port=$ADMISSION_PORT" 2>&1)
assert_contains "helm install deploys the release" "STATUS: deployed" "$out"
assert_contains "helm install prints the NOTES" "kubectl get incidents -A -w" "$out"
FULL=$RELEASE-remedy
assert_eq "kwok runs both replicas of the operator's Deployment" "2" \
  "$(k -n "$NS" get deploy "$FULL" -o jsonpath='{.status.readyReplicas}')"
for crd in runbooks incidents approvals; do
  assert_eq "the CRD $crd.remedy.dev is Established" "True" \
    "$(k get crd "$crd.remedy.dev" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')"
done
assert_eq "the release's Role in the managed namespace exists" "$FULL" \
  "$(k -n "$APP_NS" get role "$FULL" -o jsonpath='{.metadata.name}')"
assert_contains "and no ClusterRole for the workloads" "NotFound" "$(k get clusterrole "$FULL" 2>&1)"
assert_eq "only the one that reads RunbookPolicies" "runbookpolicies" \
  "$(k get clusterrole "$FULL-policies" -o jsonpath='{.rules[*].resources[*]}')"
assert_eq "the runner ServiceAccount the steps act as exists there" "remedy-runner" \
  "$(k -n "$APP_NS" get serviceaccount remedy-runner -o jsonpath='{.metadata.name}')"
assert_eq "the runner's Role may scale Deployments there (PUT scale)" "yes" \
  "$(k auth can-i update deployments.apps --subresource=scale -n "$APP_NS" --as "system:serviceaccount:$APP_NS:remedy-runner")"
echo "# helm install: $((SECONDS - started)) s"

# --- lookup: the token survives an upgrade; an existing Secret stays unrendered ---
token=$(k -n "$NS" get secret "$FULL-webhook-token" -o jsonpath='{.data.token}' | base64 -d)
assert_eq "the generated token has 48 characters" "48" "${#token}"
out=$(h upgrade "$RELEASE" "$ROOT/charts/remedy" -n "$NS" --reuse-values 2>&1)
assert_contains "helm upgrade" "has been upgraded" "$out"
assert_eq "helm upgrade keeps the token (lookup)" "$token" \
  "$(k -n "$NS" get secret "$FULL-webhook-token" -o jsonpath='{.data.token}' | base64 -d)"
assert_eq "the pods' checksum is the kept token's" "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" \
  "$(k -n "$NS" get deploy "$FULL" -o jsonpath='{.spec.template.metadata.annotations.checksum/webhook-token}')"
weak=hunter2-$$
k -n "$NS" create secret generic my-token --from-literal=bearer="$weak" >/dev/null
out=$(h install "${RELEASE}x" "$ROOT/charts/remedy" -n "$NS" --dry-run=server -o json \
  --set webhook.token.existingSecret=my-token,webhook.token.key=bearer 2>"$WORKDIR/dry-run.err")
manifest=$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["manifest"] + d["info"]["notes"])' <<<"$out")
assert_not_contains "an existing Secret: no token Secret is rendered" "name: ${RELEASE}x-remedy-webhook-token" "$manifest"
assert_not_contains "an existing Secret: its token is not in the manifests" "$weak" "$manifest"
assert_not_contains "an existing Secret: nor its checksum" "$(printf %s "$weak" | sha256sum | cut -d' ' -f1)" "$manifest"
assert_contains "an existing Secret: the pods mount it" "secretName: my-token" "$manifest"

# --- the egress NetworkPolicy: the API server's addresses looked up at install ---
out=$(h install "${RELEASE}y" "$ROOT/charts/remedy" -n "$NS" --dry-run=server -o json \
  --set networkPolicy.egress.enabled=true 2>"$WORKDIR/dry-run-egress.err")
api_rule=$(/usr/bin/python3 -c '
import json, sys, yaml
for doc in yaml.safe_load_all(json.load(sys.stdin)["manifest"]):
    if doc and doc["kind"] == "NetworkPolicy" and doc["metadata"]["name"].endswith("-egress"):
        rule = doc["spec"]["egress"][1]
        print(" ".join([t["ipBlock"]["cidr"] for t in rule["to"]] + [str(p["port"]) for p in rule["ports"]]))
' <<<"$out")
want=$(k get endpoints kubernetes -n default -o jsonpath='{range .subsets[*].addresses[*]}{.ip}/32 {end}{.subsets[0].ports[0].port}' 2>/dev/null)
if [[ -n $want ]]; then
  assert_eq "the egress NetworkPolicy lets the operator reach the kubernetes Service's endpoints" "$want" "$api_rule"
else
  # This control plane advertises 127.0.0.1, which an Endpoints may not
  # hold: the chart has no address to open and refuses to cut the API off.
  assert_eq "without the kubernetes Service's endpoints no egress NetworkPolicy is rendered" "" "$api_rule"
  assert_contains "and helm says which value to set" \
    "networkPolicy.egress.enabled needs the API server's addresses" "$(cat "$WORKDIR/dry-run-egress.err")"
fi

# --- the ingress NetworkPolicy: the admission port admits the API server only ---
out=$(h install "${RELEASE}z" "$ROOT/charts/remedy" -n "$NS" --dry-run=server -o json \
  --set networkPolicy.enabled=true 2>"$WORKDIR/dry-run-ingress.err")
admission_rule=$(/usr/bin/python3 -c '
import json, sys, yaml
for doc in yaml.safe_load_all(json.load(sys.stdin)["manifest"]):
    if doc and doc["kind"] == "NetworkPolicy":
        for rule in doc["spec"]["ingress"]:
            if rule["ports"][0]["port"] == 8443:
                print(" ".join(p["ipBlock"]["cidr"] for p in rule["from"]))
' <<<"$out" 2>/dev/null)
want=$(k get endpoints kubernetes -n default -o jsonpath='{range .subsets[*].addresses[*]}{.ip}/32 {end}' 2>/dev/null | sed 's/ $//')
if [[ -n $want ]]; then
  assert_eq "the NetworkPolicy admits the kubernetes Service's endpoints to the admission port" "$want" "$admission_rule"
else
  assert_eq "without the kubernetes Service's endpoints no ingress NetworkPolicy is rendered" "" "$admission_rule"
  assert_contains "and helm says which value to set" "set networkPolicy.admissionFrom" \
    "$(cat "$WORKDIR/dry-run-ingress.err")"
fi
out=$(h install "${RELEASE}z" "$ROOT/charts/remedy" -n "$NS" --dry-run=server -o json \
  --set networkPolicy.enabled=true --set 'networkPolicy.admissionFrom[0].ipBlock.cidr=127.0.0.1/32' 2>"$WORKDIR/dry-run-ingress2.err")
assert_contains "with networkPolicy.admissionFrom it renders that peer" '"cidr": "127.0.0.1/32"' \
  "$(/usr/bin/python3 -c 'import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(json.load(sys.stdin)["manifest"]) if d and d["kind"] == "NetworkPolicy"]))' <<<"$out" 2>&1)"

# --- the operator on the host, from the rendered Deployment ---
h get manifest "$RELEASE" -n "$NS" >"$WORKDIR/manifest.yaml"
mapfile -t ARGS < <(/usr/bin/python3 - "$WORKDIR/manifest.yaml" <<'EOF'
import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc["kind"] == "Deployment":
        spec = doc["spec"]["template"]["spec"]
        print(spec["serviceAccountName"])
        for arg in spec["containers"][0]["args"]:
            print(arg)
EOF
)
SA=${ARGS[0]}
ARGS=("${ARGS[@]:1}")
WEBHOOK_PORT=$(free_port)
HEALTH_PORT=$(free_port)
METRICS_PORT=$(free_port)
mkdir -p "$WORKDIR/webhook-token"
k -n "$NS" get secret "$FULL-webhook-token" -o jsonpath='{.data.token}' | base64 -d >"$WORKDIR/webhook-token/token"
mkdir -p "$WORKDIR/approval-seal"
seal_key=$(k -n "$NS" get secret "$FULL-approval-seal" -o jsonpath='{.data.key}' | base64 -d)
assert_eq "the generated seal key has 64 characters" "64" "${#seal_key}"
printf %s "$seal_key" >"$WORKDIR/approval-seal/key"
HOST_ARGS=()
replaced=0
for arg in "${ARGS[@]}"; do
  case $arg in
    --webhook-bind-address=*) arg=--webhook-bind-address=127.0.0.1; replaced=$((replaced + 1)) ;;
    --webhook-port=*) arg=--webhook-port=$WEBHOOK_PORT; replaced=$((replaced + 1)) ;;
    --metrics-port=*) arg=--metrics-port=$METRICS_PORT; replaced=$((replaced + 1)) ;;
    --health-port=*) arg=--health-port=$HEALTH_PORT; replaced=$((replaced + 1)) ;;
    --webhook-token-file=*) arg=--webhook-token-file=$WORKDIR/webhook-token/token; replaced=$((replaced + 1)) ;;
    --admission-bind-address=*) arg=--admission-bind-address=127.0.0.1; replaced=$((replaced + 1)) ;;
    --approval-seal-key-file=*) arg=--approval-seal-key-file=$WORKDIR/approval-seal/key; replaced=$((replaced + 1)) ;;
  esac
  HOST_ARGS+=("$arg")
done
assert_eq "the seven in-cluster arguments were found and replaced" "7" "$replaced"
assert_contains "the operator serves the admission webhooks on the port of admission.url" \
  "--admission-port=$ADMISSION_PORT" "${HOST_ARGS[*]}"

# The chart's identity: a TokenRequest token of its ServiceAccount.
sa_token=$(k -n "$NS" create token "$SA" --duration=1h)
SA_KUBECONFIG=$WORKDIR/sa.kubeconfig
cat >"$SA_KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: $API_URL, certificate-authority: $(dirname "$ADMIN_KUBECONFIG")/pki/ca.crt}
users:
- name: sa
  user: {token: $sa_token}
contexts:
- name: sa
  context: {cluster: c, user: sa, namespace: $NS}
current-context: sa
EOF
assert_eq "the token authenticates as the chart's ServiceAccount" "system:serviceaccount:$NS:$SA" \
  "$("$KUBECTL_BIN" --kubeconfig "$SA_KUBECONFIG" auth whoami -o jsonpath='{.status.userInfo.username}')"

# A Deployment to scale and the Runbook that scales it, in the namespace the
# operator manages (the chart's Role there).
k -n "$APP_NS" create deployment web --image=nginx:1.27 --replicas=1 >/dev/null
k -n "$APP_NS" label deployment web app.kubernetes.io/name=web >/dev/null
k -n "$APP_NS" apply -f - >/dev/null <<'EOF'
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: scale-web
spec:
  description: Scale web out when it is overloaded.
  triggers:
    - alertName: WebOverloaded
      labels: {service: web}
  guardrails:
    scale: {maxReplicas: 4, maxChange: 2}
  steps:
    - name: scale-out
      scale:
        target: {kind: Deployment, name: web}
        replicas: "+2"
        maxReplicas: 4
    - name: wait-ready
      waitFor:
        target: {kind: Deployment, name: web}
        state: RolloutComplete
        pollInterval: 500ms
      timeout: 1m
EOF

POD_NAMESPACE=$NS "$OPERATOR" --kubeconfig="$SA_KUBECONFIG" "${HOST_ARGS[@]}" >"$WORKDIR/operator.log" 2>&1 &
OPERATOR_PID=$!
PIDS+=($!)
if wait_for 30 "the operator's /readyz" curl -sf "http://127.0.0.1:$HEALTH_PORT/readyz"; then
  ok "remedy-operator runs from the chart's arguments under the chart's ServiceAccount"
else
  not_ok "remedy-operator never became ready"
  tail -n 30 "$WORKDIR/operator.log"
fi

# --- the admission webhooks: the certificate Secret and the leader's caBundle ---
cabundle() { k get "$1" "$FULL" -o jsonpath='{.webhooks[*].clientConfig.caBundle}'; }
secret_ca() { k -n "$NS" get secret "$FULL-admission-tls" -o jsonpath='{.data.ca\.crt}'; }
wait_for 30 "the certificate Secret $FULL-admission-tls" k -n "$NS" get secret "$FULL-admission-tls"
ca=$(secret_ca)
assert_contains "the first replica created the CA in the chart's Secret" "LS0tLS1CRUdJTi" "$ca"
for kind in mutatingwebhookconfiguration validatingwebhookconfiguration; do
  wait_for 30 "the caBundle of $kind $FULL" bash -c "[[ -n \$(\"$KUBECTL_BIN\" --kubeconfig \"$KUBECONFIG_FILE\" get $kind $FULL -o jsonpath='{.webhooks[0].clientConfig.caBundle}') ]]"
  assert_eq "the leader wrote that CA into every caBundle of the $kind" "$ca $ca" "$(cabundle "$kind")"
done
assert_eq "the serving certificate names the host of admission.url" "IP Address:127.0.0.1" \
  "$(k -n "$NS" get secret "$FULL-admission-tls" -o jsonpath='{.data.tls\.crt}' | base64 -d |
    openssl x509 -noout -ext subjectAltName 2>/dev/null | grep -o 'IP Address:127.0.0.1')"
# The API server calls the webhooks once it has the new caBundle: a dry-run
# Incident of the administrator's comes back sealed with its creator.
probe=$WORKDIR/probe-incident.yaml
cat >"$probe" <<EOF
apiVersion: remedy.dev/v1alpha1
kind: Incident
metadata: {name: probe, namespace: $APP_NS}
spec: {source: Manual, runbookRef: {name: scale-web}, alert: {name: Probe}}
EOF
created_by=(-n "$APP_NS" create --dry-run=server -f "$probe" -o 'jsonpath={.metadata.annotations.remedy\.dev/created-by}')
if wait_for 30 "the API server to call the webhooks" bash -c "[[ -n \$(\"$KUBECTL_BIN\" --kubeconfig \"$KUBECONFIG_FILE\" ${created_by[*]@Q}) ]]"; then
  ok "the API server calls the webhooks over TLS, trusting the injected caBundle"
else
  not_ok "the API server never called the webhooks: $(k "${created_by[@]}" 2>&1)"
fi
assert_eq "an Incident created by a person is sealed with its creator" \
  "$(k auth whoami -o jsonpath='{.status.userInfo.username}')" "$(k "${created_by[@]}")"

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
payload=$(cat <<EOF
{"version": "4", "receiver": "remedy", "status": "firing", "groupKey": "{}:{}", "truncatedAlerts": 0,
 "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager.test",
 "alerts": [{"status": "firing", "labels": {"alertname": "WebOverloaded", "service": "web",
   "namespace": "$APP_NS", "severity": "critical"}, "annotations": {"summary": "web is overloaded"},
   "startsAt": "$now", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus.test/graph",
   "fingerprint": "1f2e3d4c5b6a7988"}]}
EOF
)
code=$(curl -s -o "$WORKDIR/answer" -w '%{http_code}' -H "Authorization: Bearer $(cat "$WORKDIR/webhook-token/token")" \
  -H 'Content-Type: application/json' -d "$payload" "http://127.0.0.1:$WEBHOOK_PORT/api/v1/alerts")
assert_eq "the webhook accepts the alert with the chart's token" "200" "$code"
phase() { k -n "$APP_NS" get incidents -o jsonpath='{.items[0].status.phase}' 2>/dev/null; }
wait_for 90 "the Incident to finish" bash -c "[[ \$(\"$KUBECTL_BIN\" --kubeconfig \"$KUBECONFIG_FILE\" -n \"$APP_NS\" get incidents -o jsonpath='{.items[0].status.phase}') =~ ^(Succeeded|Failed|Escalated|Skipped|Cancelled)$ ]]"
assert_eq "the alert became a Succeeded Incident" "Succeeded" "$(phase)"
assert_eq "the Incident used the Runbook" "scale-web" \
  "$(k -n "$APP_NS" get incidents -o jsonpath='{.items[0].status.runbook.name}')"
assert_eq "the Runbook scaled the Deployment by two" "3" "$(k -n "$APP_NS" get deploy web -o jsonpath='{.spec.replicas}')"
assert_eq "and kwok made the new pods Ready" "3" "$(k -n "$APP_NS" get deploy web -o jsonpath='{.status.readyReplicas}')"

# --- an Approval proves who approved ---
# The chart's approver ClusterRole, bound in the managed namespace to alice
# (groups sre, oncall) and bob (dev): they may approve (the verb approve on
# runbooks), create Approvals and read Incidents there.
k -n "$APP_NS" create rolebinding approvers --clusterrole="$FULL-approver" --user=alice --user=bob >/dev/null
assert_eq "the approver role gives alice the verb approve on the Runbook" "yes" \
  "$(k auth can-i approve runbooks.remedy.dev/gated -n "$APP_NS" --as alice)"
k -n "$APP_NS" apply -f - >/dev/null <<'EOF'
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: gated
spec:
  description: Scale web out once someone of sre approves.
  triggers:
    - alertName: WebGated
  approval:
    groups: [sre]
    timeout: 10m
  steps:
    - name: scale-out
      approval: Required
      scale:
        target: {kind: Deployment, name: web}
        replicas: "+1"
        maxReplicas: 4
EOF
k -n "$APP_NS" create -f - >/dev/null <<'EOF'
apiVersion: remedy.dev/v1alpha1
kind: Incident
metadata: {name: gated-web}
spec: {source: Manual, runbookRef: {name: gated}, alert: {name: WebGated}}
EOF
gated_phase() { "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_FILE" -n "$APP_NS" get incident gated-web -o jsonpath='{.status.phase}'; }
wait_for 60 "the Incident to wait for approval" bash -c "$(declare -f gated_phase); KUBECTL_BIN=$KUBECTL_BIN KUBECONFIG_FILE=$KUBECONFIG_FILE APP_NS=$APP_NS; [[ \$(gated_phase) == AwaitingApproval ]]"
assert_eq "the gated step waits for approval" "AwaitingApproval" "$(gated_phase)"
as_user() { local user=$1; shift; "$KUBECTL_BIN" --kubeconfig "$USERS_DIR/$user.kubeconfig" --cache-dir "$WORKDIR/cache-$user" -n "$APP_NS" "$@"; }
approval() { # NAME [APPROVER]
  printf 'apiVersion: remedy.dev/v1alpha1\nkind: Approval\nmetadata: {name: %s}\nspec:\n  incidentRef: {name: gated-web}\n  step: scale-out\n  decision: Approve\n' "$1"
  if [[ -n ${2:-} ]]; then printf '  approver: %s\n' "$2"; fi
}
out=$(approval as-alice alice | as_user bob create -f - 2>&1)
assert_contains "bob writing alice's name is refused at admission, naming spec.approver" \
  'The Approval "as-alice" is invalid: spec.approver: Forbidden' "$out"
assert_contains "and saying whom the API server authenticated" 'authenticated this request as "bob"' "$out"
assert_contains "and nothing was stored" "NotFound" "$(k -n "$APP_NS" get approval as-alice 2>&1)"
created=$(approval alice | as_user alice create -o json -f - 2>&1)
fields=$(/usr/bin/python3 -c '
import json, sys
o = json.load(sys.stdin)
print(o["spec"].get("approver", ""), o["spec"]["incidentRef"].get("uid", "") != "",
      len(o["metadata"].get("annotations", {}).get("remedy.dev/approval-seal", "")) > 0)' <<<"$created" 2>&1)
assert_eq "alice's Approval comes back with her authenticated name, its Incident's uid and a seal" \
  "alice True True" "$fields"
wait_for 60 "the approved step to run" bash -c "$(declare -f gated_phase); KUBECTL_BIN=$KUBECTL_BIN KUBECONFIG_FILE=$KUBECONFIG_FILE APP_NS=$APP_NS; [[ \$(gated_phase) =~ ^(Succeeded|Failed|Escalated|Cancelled)$ ]]"
assert_eq "the sealed Approval counted and the step ran" "Succeeded" "$(gated_phase)"
assert_eq "the Incident records alice as its approver" "alice" \
  "$(k -n "$APP_NS" get incident gated-web -o jsonpath='{.status.approvals[0].approver}')"
assert_eq "the step scaled web by one" "4" "$(k -n "$APP_NS" get deploy web -o jsonpath='{.spec.replicas}')"

# --- helm upgrade keeps the seal key and the leader's caBundle ---
# A changed timeoutSeconds makes Helm rewrite both configurations: by
# server-side apply (Helm 4's default), then by a three-way merge patch. The
# operator stops first, so no leader writes a caBundle back: what is left
# after an upgrade is what Helm left.
kill "$OPERATOR_PID"
wait_for 30 "the operator to exit" bash -c "! kill -0 $OPERATOR_PID"
ca=$(secret_ca)
timeout=9
for mode in true false; do
  out=$(h upgrade "$RELEASE" "$ROOT/charts/remedy" -n "$NS" --reuse-values --server-side="$mode" \
    --set "admission.timeoutSeconds=$timeout" 2>&1)
  assert_contains "helm upgrade --server-side=$mode" "has been upgraded" "$out"
  assert_eq "helm upgrade --server-side=$mode keeps the seal key (lookup)" "$seal_key" \
    "$(k -n "$NS" get secret "$FULL-approval-seal" -o jsonpath='{.data.key}' | base64 -d)"
  for kind in mutatingwebhookconfiguration validatingwebhookconfiguration; do
    assert_eq "helm upgrade --server-side=$mode rewrote the $kind" "$timeout $timeout" \
      "$(k get "$kind" "$FULL" -o jsonpath='{.webhooks[*].timeoutSeconds}')"
    assert_eq "and left the leader's caBundle in it" "$ca $ca" "$(cabundle "$kind")"
  done
  timeout=8
done
assert_eq "the caBundle's only field manager is the operator" "remedy-operator" \
  "$(k get mutatingwebhookconfiguration "$FULL" --show-managed-fields -o json | /usr/bin/python3 -c '
import json, sys
print(" ".join(sorted({m["manager"] for m in json.load(sys.stdin)["metadata"]["managedFields"]
                       if "caBundle" in json.dumps(m.get("fieldsV1", {}))})))')"

log=$(cat "$WORKDIR/operator.log")
assert_not_contains "the seal key is not in the operator's log" "$seal_key" "$log"
assert_not_contains "the caBundle was never left uninjected" "cabundle-not-injected" "$log"
assert_not_contains "the webhook token is not in the operator's log" "$(cat "$WORKDIR/webhook-token/token")" "$log"
assert_eq "no request was forbidden to the chart's ServiceAccount" "0" \
  "$(grep -c "system:serviceaccount:$NS:$SA.\{0,2\} cannot" <<<"$log")"
assert_eq "the operator handled objects of its managed namespace only" "$APP_NS/" \
  "$(grep -oE '(incident|runbook)=[^/ ]+/' <<<"$log" | cut -d= -f2 | sort -u | tr '\n' ' ' | sed 's/ $//')"
if [[ $FAILED -gt 0 ]]; then
  echo "--- operator log"; tail -n 40 "$WORKDIR/operator.log"
  k -n "$APP_NS" get incidents -o yaml | tail -n 60
fi
echo "# helm install to Succeeded Incident: $((SECONDS - started)) s"

finish
