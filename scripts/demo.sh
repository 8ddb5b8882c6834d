#!/usr/bin/env bash
# The README demo: an alert fires, Remedy remediates. Builds remedyctl and
# remedy-operator, starts the sandbox API server and the operator, applies
# the CRDs, a Deployment and a Runbook, posts an Alertmanager webhook, and
# prints the Incident as it progresses, approves its gated step with
# `kubectl remedy approve` (the admission webhook records who approved), then
# shows what `kubectl remedy describe` and `report` say about it. Cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -f "$BUILD_DIR/build.ninja" && ! -f "$BUILD_DIR/Makefile" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja >/dev/null
fi
cmake --build "$BUILD_DIR" -j2 --target remedyctl remedy-operator >/dev/null

work=$(mktemp -d)
cleanup() {
  for pid in ${operator_pid:-} ${sandbox_pid:-}; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 scripts/free_port.py; } # a free loopback port, below the ephemeral range
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
k() { kubectl --kubeconfig "$work/kubeconfig" --cache-dir "$work/cache" "$@"; }
wait_for() {  # wait_for SECONDS COMMAND...: polls until COMMAND succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

step "The sandbox serves the Kubernetes API"
"$BUILD_DIR/src/cli/remedyctl" sandbox --tls --port 0 --kubeconfig-out "$work/kubeconfig" \
  >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
wait_for 20 test -s "$work/kubeconfig" || { cat "$work/sandbox.log"; exit 1; }
head -n1 "$work/sandbox.log"

step "Remedy's CRDs, a namespace and a Deployment with two replicas"
k apply -f crds/ >/dev/null
k create namespace shop >/dev/null
k create namespace remedy-system >/dev/null
k -n shop apply -f - <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {app: api}
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: nginx:1.27
YAML
k -n shop wait --for=condition=Available deployment/api --timeout=30s >/dev/null
k -n shop get deployment,pods -l app=api

step "remedy-operator, with the alert webhook on a bearer token and its admission webhooks"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/token"
# The key that seals Approvals: only the operator reads it.
head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/seal-key"
webhook_port=$(free_port); health_port=$(free_port); metrics_port=$(free_port)
admission_port=$(free_port)
# What the chart registers (with the Service instead of a loopback URL); the
# leader writes the caBundle of the certificate it keeps in a Secret.
k apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: remedy}
webhooks:
$(for kind in approvals incidents; do cat <<HOOK
- name: $kind.remedy.dev
  clientConfig: {url: "https://127.0.0.1:$admission_port/admission/v1/mutate"}
  rules: [{operations: [CREATE], apiGroups: [remedy.dev], apiVersions: [v1alpha1], resources: [$kind]}]
  failurePolicy: Fail
  sideEffects: None
  timeoutSeconds: 5
  admissionReviewVersions: [v1]
HOOK
done)
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: remedy}
webhooks:
$(for kind in approvals incidents; do
  ops=UPDATE; [[ $kind == approvals ]] && ops="CREATE, UPDATE"
  cat <<HOOK
- name: $kind.remedy.dev
  clientConfig: {url: "https://127.0.0.1:$admission_port/admission/v1/validate"}
  rules: [{operations: [$ops], apiGroups: [remedy.dev], apiVersions: [v1alpha1], resources: [$kind]}]
  failurePolicy: Fail
  sideEffects: None
  timeoutSeconds: 5
  admissionReviewVersions: [v1]
HOOK
done)
YAML
"$BUILD_DIR/operator/remedy-operator" --kubeconfig "$work/kubeconfig" \
  --webhook-bind-address 127.0.0.1 --webhook-port "$webhook_port" \
  --webhook-token-file "$work/token" --metrics-bind-address 127.0.0.1 \
  --health-port "$health_port" --metrics-port "$metrics_port" \
  --approval-seal-key-file "$work/seal-key" --admission-bind-address 127.0.0.1 \
  --admission-port "$admission_port" --admission-cert-secret remedy-admission-tls \
  --admission-cert-ip-addresses 127.0.0.1 --admission-webhook-configurations remedy \
  --leader-election-namespace remedy-system --log-format text >"$work/operator.log" 2>&1 &
operator_pid=$!
wait_for 30 curl -sf "http://127.0.0.1:$health_port/readyz" || { cat "$work/operator.log"; exit 1; }
# Until the leader has written the caBundle, the API server cannot call the
# webhooks and (failurePolicy Fail) refuses Approvals and Incidents.
for kind in mutating validating; do
  wait_for 30 sh -c "kubectl --kubeconfig '$work/kubeconfig' --cache-dir '$work/cache' get ${kind}webhookconfiguration remedy -o jsonpath='{.webhooks[*].clientConfig.caBundle}' | grep -q ." ||
    { echo "the leader never wrote the caBundle" >&2; tail -n 30 "$work/operator.log" >&2; exit 1; }
done
echo "operator ready: webhook http://127.0.0.1:$webhook_port/api/v1/alerts, admission https://127.0.0.1:$admission_port"

step "A Runbook: on HighLatency for service api, scale it by +2 (once someone approves) and restart it"
k -n shop apply -f - <<'YAML'
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata:
  name: api-latency
spec:
  description: Scale out and restart api when its latency alert fires.
  triggers:
    - alertName: HighLatency
      labels: {service: api}
  guardrails:
    cooldown: 10m
  approval:
    timeout: 10m
  steps:
    - name: scale-out
      approval: Required
      scale:
        target: {kind: Deployment, name: api}
        replicas: "+2"
        maxReplicas: 6
    - name: restart
      rolloutRestart:
        target: {kind: Deployment, name: api}
    - name: wait-rollout
      waitFor:
        target: {kind: Deployment, name: api}
        state: RolloutComplete
      timeout: 2m
YAML
wait_for 10 sh -c "kubectl --kubeconfig '$work/kubeconfig' --cache-dir '$work/cache' -n shop get runbook api-latency -o jsonpath='{.status.conditions[0].status}' | grep -q True"
k -n shop get runbooks

alert() {  # alert firing|resolved ENDS_AT
  cat <<JSON
{"version":"4","receiver":"remedy","status":"$1","groupKey":"{}:{alertname=\"HighLatency\"}",
 "truncatedAlerts":0,"groupLabels":{"alertname":"HighLatency"},"commonLabels":{},
 "commonAnnotations":{},"externalURL":"http://alertmanager.example:9093",
 "alerts":[{"status":"$1","labels":{"alertname":"HighLatency","service":"api",
   "namespace":"shop","severity":"warning"},
   "annotations":{"summary":"p95 latency of api above 2s"},
   "startsAt":"$starts_at","endsAt":"$2","generatorURL":"http://prometheus.example/graph",
   "fingerprint":"5e3b2a1c9d8f7e6a"}]}
JSON
}
starts_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
step "Alertmanager posts HighLatency{service=api} to the webhook"
alert firing 0001-01-01T00:00:00Z >"$work/firing.json"
curl -s -o /dev/null -w 'webhook answered %{http_code}\n' -H "Authorization: Bearer $(cat "$work/token")" \
  -H 'Content-Type: application/json' --data-binary @"$work/firing.json" \
  "http://127.0.0.1:$webhook_port/api/v1/alerts"

step "The Incident, as it progresses"
incident=""
wait_for 10 sh -c "kubectl --kubeconfig '$work/kubeconfig' --cache-dir '$work/cache' -n shop get incidents -o name | grep -q ." 
incident=$(k -n shop get incidents -o jsonpath='{.items[0].metadata.name}')
# kubectl finds remedyctl as the plugin kubectl-remedy on PATH.
cli_dir=$(cd "$BUILD_DIR/src/cli" && pwd)
remedy() { PATH="$cli_dir:$PATH" kubectl remedy "$@" --kubeconfig "$work/kubeconfig"; }
last=""
approved=""
deadline=$((SECONDS + 90))
while ((SECONDS < deadline)); do
  now=$(k -n shop get incident "$incident" -o jsonpath='{.status.phase} {.status.currentStep}' 2>/dev/null || true)
  if [[ "$now" != "$last" ]]; then
    echo "incident $incident: phase=${now% *} step=${now#* }"
    last=$now
  fi
  if [[ "${now% *}" == AwaitingApproval && -z "$approved" ]]; then
    step "The step waits for a person: kubectl remedy approvals, then kubectl remedy approve"
    remedy approvals -n shop
    remedy approve "$incident" -n shop -m "latency confirmed on the dashboard"
    k -n shop get approvals
    approved=yes
    step "The Incident, as it goes on"
  fi
  [[ "${now% *}" == Succeeded || "${now% *}" == Failed || "${now% *}" == Escalated ]] && break
  sleep 0.2
done
k -n shop get incidents
echo
k -n shop get incident "$incident" -o jsonpath='{range .status.steps[*]}{.name}{": "}{.phase}{" - "}{.message}{"\n"}{end}'

step "What changed on the Deployment"
k -n shop get deployment api
k -n shop get deployment api -o jsonpath='restartedAt: {.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}{"\n"}'
k -n shop get pods -l app=api

step "The alert resolves: Alertmanager's resolved notification reaches the Incident"
alert resolved "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$work/resolved.json"
curl -s -o /dev/null -w 'webhook answered %{http_code}\n' -H "Authorization: Bearer $(cat "$work/token")" \
  -H 'Content-Type: application/json' --data-binary @"$work/resolved.json" \
  "http://127.0.0.1:$webhook_port/api/v1/alerts"
k -n shop get incident "$incident" -o jsonpath='alert status: {.spec.alert.status}, endsAt {.spec.alert.endsAt}{"\n"}'

wait_for 10 sh -c "kubectl --kubeconfig '$work/kubeconfig' --cache-dir '$work/cache' -n shop get incident '$incident' -o jsonpath='{.status.resolvedAt}' | grep -q ." || true

step "What Remedy did, from the Incident's record: kubectl remedy describe"
remedy describe "$incident" -n shop
step "The post-incident review, ready for a ticket: kubectl remedy report"
remedy report "$incident" -n shop

phase=$(k -n shop get incident "$incident" -o jsonpath='{.status.phase}')
replicas=$(k -n shop get deployment api -o jsonpath='{.spec.replicas}')
step "Done"
approver=$(k -n shop get incident "$incident" -o jsonpath='{.status.approvals[0].approver}')
if [[ "$phase" == Succeeded && "$replicas" == 4 && "$approver" == admin ]]; then
  echo "demo finished: the alert became Incident $incident, which waited for admin's approval, scaled api from 2 to 4 replicas, restarted it, and succeeded"
else
  echo "demo failed: incident phase $phase, api replicas $replicas, approver '$approver'" >&2
  tail -n 30 "$work/operator.log" >&2
  exit 1
fi
