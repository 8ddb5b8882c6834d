#!/usr/bin/env bash
# Records the Incidents of tests/cli: runs the sandbox and remedy-operator,
# applies Runbooks, posts Alertmanager webhooks, approves one step, resolves
# one alert, and writes what the operator recorded (Incidents and Events) to
# tests/cli/testdata. Incident names change with each recording: rename the
# golden files and the names in tests/cli/*_test.cpp, then rewrite the golden
# files with REMEDY_UPDATE_GOLDEN=1.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD_DIR=${BUILD_DIR:-build}
work=$(mktemp -d)
out=$work/out; mkdir -p "$out"
cleanup() {
  for pid in ${operator_pid:-} ${sandbox_pid:-} ${hook_pid:-}; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
k() { kubectl --kubeconfig "$work/kubeconfig" --cache-dir "$work/cache" "$@"; }
wait_for() { local deadline=$((SECONDS + $1)); shift; until "$@" >/dev/null 2>&1; do ((SECONDS < deadline)) || return 1; sleep 0.1; done; }
"$BUILD_DIR/src/cli/remedyctl" sandbox --tls --port 0 --kubeconfig-out "$work/kubeconfig" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
wait_for 20 test -s "$work/kubeconfig"
hook_port=$(free_port)
python3 - "$hook_port" >"$work/hook.log" 2>&1 <<'PY' &
import sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
hook_pid=$!
k apply -f crds/ >/dev/null
k create namespace shop >/dev/null; k create namespace payments >/dev/null; k create namespace remedy-system >/dev/null
for nd in shop/api shop/checkout shop/backend shop/cache payments/api; do
ns=${nd%/*}; d=${nd#*/}
k -n $ns apply -f - <<YAML >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: $d, labels: {app: $d}}
spec:
  replicas: 2
  selector: {matchLabels: {app: $d}}
  template:
    metadata: {labels: {app: $d}}
    spec: {containers: [{name: $d, image: nginx:1.27}]}
YAML
done
k -n shop wait --for=condition=Available deployment/api --timeout=30s >/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/token"
webhook_port=$(free_port); health_port=$(free_port); metrics_port=$(free_port)
"$BUILD_DIR/operator/remedy-operator" --kubeconfig "$work/kubeconfig" \
  --webhook-bind-address 127.0.0.1 --webhook-port "$webhook_port" \
  --webhook-token-file "$work/token" --metrics-bind-address 127.0.0.1 \
  --health-port "$health_port" --metrics-port "$metrics_port" ${OPERATOR_FLAGS:-} \
  --leader-election-namespace remedy-system --log-format text >"$work/operator.log" 2>&1 &
operator_pid=$!
wait_for 30 curl -sf "http://127.0.0.1:$health_port/readyz"
echo "metrics: http://127.0.0.1:$metrics_port/metrics" 
k -n shop apply -f - <<YAML
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: api-latency}
spec:
  description: Scale out and restart api when its latency alert fires.
  severity: P2
  triggers:
    - alertName: HighLatency
      labels: {service: api}
  guardrails:
    cooldown: 10m
  steps:
    - name: scale-out
      scale:
        target: {kind: Deployment, name: api}
        replicas: "+2"
        maxReplicas: 6
      revert:
        onResolved: true
    - name: restart
      rolloutRestart:
        target: {kind: Deployment, name: api}
    - name: wait-rollout
      waitFor:
        target: {kind: Deployment, name: api}
        state: RolloutComplete
      timeout: 2m
---
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: checkout-errors}
spec:
  description: Turn off the new checkout flow when checkout errors spike.
  severity: P1
  triggers:
    - alertName: HighErrorRate
      labels: {service: checkout}
  steps:
    - name: check-flag
      when: 'alert.labels.severity == "critical"'
      waitFor:
        target: {kind: ConfigMap, name: checkout-flags}
        field: {path: .data.newFlow, value: "off"}
        pollInterval: 200ms
      timeout: 2s
      retries: {limit: 1}
      onFailure: Continue
    - name: scale-checkout
      approval: Required
      scale:
        target: {kind: Deployment, name: checkout}
        replicas: "+1"
  approval:
    users: [admin]
    timeout: 30m
---
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: redis-memory}
spec:
  description: Wait for the cache to evict; abort when it does not.
  severity: P2
  triggers:
    - alertName: RedisHighMemory
  steps:
    - name: wait-evictions
      waitFor:
        target: {kind: ConfigMap, name: redis-stats}
        field: {path: .data.usedPercent, value: "70"}
        pollInterval: 200ms
      timeout: 2s
      onFailure: Abort
    - name: restart-cache
      rolloutRestart:
        target: {kind: Deployment, name: cache}
---
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: db-pool}
spec:
  description: Raise the connection pool of api when the pool is exhausted.
  severity: P1
  triggers:
    - alertName: DatabaseConnectionPoolExhausted
  steps:
    - name: scale-backend
      scale:
        target: {kind: Deployment, name: backend}
        replicas: "+1"
        maxReplicas: 6
      revert:
        after: 2h
    - name: raise-pool
      approval: Required
      patch:
        target: {kind: Deployment, name: backend}
        strategicMergePatch:
          spec: {template: {spec: {containers: [{name: backend, env: [{name: POOL_SIZE, value: "50"}]}]}}}
  approval:
    groups: [sre]
    timeout: 30m
    onTimeout: Skip
YAML
k -n payments apply -f - <<YAML
apiVersion: remedy.dev/v1alpha1
kind: Runbook
metadata: {name: payments-down}
spec:
  description: Restart payments and wait for it; page when it does not come back.
  severity: P0
  triggers:
    - alertName: BackendServiceDown
      labels: {service: payments}
  steps:
    - name: restart
      rolloutRestart:
        target: {kind: Deployment, name: api}
    - name: wait-ready
      waitFor:
        target: {kind: ConfigMap, name: payments-health}
        field: {path: .data.ready, value: "true"}
        pollInterval: 200ms
      timeout: 2s
      onFailure: Escalate
  escalation:
    notify:
      - url: http://127.0.0.1:$hook_port/page/payments
        message: '{{ alert.name }}: payments did not recover'
YAML
sleep 1 # spaces the recorded events so the golden timeline has distinct seconds (record.sh is run by hand, not by ctest)
alert() {  # alert firing|resolved NAME LABELS FP STARTS ENDS
  cat <<JSON
{"version":"4","receiver":"remedy","status":"$1","groupKey":"{}:{alertname=\"$2\"}",
 "truncatedAlerts":0,"groupLabels":{"alertname":"$2"},"commonLabels":{},
 "commonAnnotations":{},"externalURL":"http://alertmanager.example:9093",
 "alerts":[{"status":"$1","labels":$3,
   "annotations":{"summary":"$7"},
   "startsAt":"$5","endsAt":"$6","generatorURL":"http://prometheus.example/graph",
   "fingerprint":"$4"}]}
JSON
}
post() { curl -s -o /dev/null -w 'webhook %{http_code}\n' -H "Authorization: Bearer $(cat "$work/token")" -H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$webhook_port/api/v1/alerts"; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
Z=0001-01-01T00:00:00Z
s1=$(now)
alert firing HighLatency '{"alertname":"HighLatency","service":"api","namespace":"shop","severity":"warning"}' 5e3b2a1c9d8f7e6a "$s1" $Z "p95 latency of api above 2s" | post
s2=$(now)
alert firing HighErrorRate '{"alertname":"HighErrorRate","service":"checkout","namespace":"shop","severity":"critical"}' 7a1c2b3d4e5f6071 "$s2" $Z "5xx ratio of checkout above 5%" | post
alert firing DatabaseConnectionPoolExhausted '{"alertname":"DatabaseConnectionPoolExhausted","service":"api","namespace":"shop","severity":"critical"}' 0d1e2f3a4b5c6d7e "$s2" $Z "api has no free database connection" | post
alert firing RedisHighMemory '{"alertname":"RedisHighMemory","service":"redis","namespace":"shop","severity":"warning"}' 3c4d5e6f7a8b9c0d "$s2" $Z "redis memory above 90%" | post
alert firing BackendServiceDown '{"alertname":"BackendServiceDown","service":"payments","namespace":"payments","severity":"critical"}' 9f8e7d6c5b4a3921 "$s2" $Z "payments answers no request" | post
wait_for 30 sh -c "kubectl --kubeconfig '$work/kubeconfig' --cache-dir '$work/cache' -n shop get incidents -o jsonpath='{.items[*].status.currentStep}' | grep -q scale-checkout"
inc=$(k -n shop get incidents -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.currentStep}{"\n"}{end}' | awk '$2=="scale-checkout"{print $1}')
sleep 1.5 # spaces the recorded events so the golden timeline has distinct seconds (record.sh is run by hand, not by ctest)
k -n shop apply -f - <<YAML
apiVersion: remedy.dev/v1alpha1
kind: Approval
metadata: {name: approve-scale-checkout}
spec:
  incidentRef: {name: $inc}
  step: scale-checkout
  decision: Approve
  approver: admin
  comment: checkout has headroom for one more replica
YAML
# wait for the latency incident to succeed, then resolve its alert
wait_for 60 sh -c "kubectl --kubeconfig '$work/kubeconfig' --cache-dir '$work/cache' -n shop get incidents -o jsonpath='{.items[*].status.phase}' | grep -q Succeeded"
sleep 1 # spaces the recorded events so the golden timeline has distinct seconds (record.sh is run by hand, not by ctest)
alert resolved HighLatency '{"alertname":"HighLatency","service":"api","namespace":"shop","severity":"warning"}' 5e3b2a1c9d8f7e6a "$s1" "$(now)" "p95 latency of api above 2s" | post
# a second latency alert: refused by the cooldown
alert firing HighLatency '{"alertname":"HighLatency","service":"api","namespace":"shop","severity":"warning","instance":"b"}' 5e3b2a1c9d8f7e6b "$(now)" $Z "p95 latency of api above 2s" | post
wait_for 60 sh -c "kubectl --kubeconfig '$work/kubeconfig' --cache-dir '$work/cache' get incidents -A -o jsonpath='{.items[*].status.phase}' | grep -q Skipped"
wait_for 60 sh -c "kubectl --kubeconfig '$work/kubeconfig' --cache-dir '$work/cache' get incidents -A -o jsonpath='{.items[*].status.phase}' | grep -q Escalated"
wait_for 60 sh -c "kubectl --kubeconfig '$work/kubeconfig' --cache-dir '$work/cache' get incidents -A -o jsonpath='{.items[*].status.phase}' | grep -q Failed"
wait_for 60 sh -c "kubectl --kubeconfig '$work/kubeconfig' --cache-dir '$work/cache' get incidents -A -o jsonpath='{.items[*].status.escalations[*].state}' | grep -q Notified"
k get incidents -A
k get incidents -A -o json > "$out/incidents.json"
k get events -A -o json > "$out/events.json"
k get runbooks -A -o json > "$out/runbooks.json"
python3 - "$out" tests/cli/testdata <<'PY'
import json, re, sys
src, dst = sys.argv[1], sys.argv[2]
def clean(text):  # the local notification receiver's port changes each run
    return re.sub(r'http://127\.0\.0\.1:\d+/page/', 'http://pager.example/page/', text)
items = []
for i in json.load(open(src + '/incidents.json'))['items']:
    m = i['metadata']
    meta = {'name': m['name'], 'namespace': m['namespace']}
    for k in ('labels', 'annotations'):
        if m.get(k): meta[k] = m[k]
    items.append({'apiVersion': i['apiVersion'], 'kind': 'Incident', 'metadata': meta,
                  'spec': i['spec'], 'status': i['status']})
events = []
for x in json.load(open(src + '/events.json'))['items']:
    m = x['metadata']
    o = {'apiVersion': 'v1', 'kind': 'Event', 'metadata': {'name': m['name'], 'namespace': m['namespace']}}
    for k in ('involvedObject', 'reason', 'message', 'type', 'count', 'firstTimestamp', 'lastTimestamp', 'reportingComponent'):
        if x.get(k) is not None: o[k] = x[k]
    o['involvedObject'] = {k: v for k, v in o['involvedObject'].items() if k in ('apiVersion', 'kind', 'name', 'namespace')}
    o['source'] = {'component': 'remedy-operator'}
    events.append(o)
for name, objs in (('incidents.json', items), ('events.json', events)):
    open(dst + '/' + name, 'w').write(clean(json.dumps({'apiVersion': 'v1', 'kind': 'List', 'items': objs}, indent=1)) + '\n')
PY
