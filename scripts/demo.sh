#!/usr/bin/env bash
# The README demo: builds what is needed, starts the sandbox, and shows a
# remediation the way kubectl sees it. Cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -x "$BUILD_DIR/src/cli/remedyctl" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja >/dev/null
fi
cmake --build "$BUILD_DIR" -j2 --target remedyctl >/dev/null

work=$(mktemp -d)
cleanup() {
  [[ -n "${sandbox_pid:-}" ]] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$BUILD_DIR/src/cli/remedyctl" sandbox --tls --port 0 --kubeconfig-out "$work/kubeconfig" \
  >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 200); do [[ -s "$work/kubeconfig" ]] && break; sleep 0.05; done
[[ -s "$work/kubeconfig" ]] || { cat "$work/sandbox.log"; exit 1; }
k() { kubectl --kubeconfig "$work/kubeconfig" --cache-dir "$work/cache" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "The sandbox serves the Kubernetes API"
head -n1 "$work/sandbox.log"
step "A Deployment with two replicas"
k apply -f - <<'YAML'
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
k wait --for=condition=Available deployment/api --timeout=30s
k get deployment,pods -l app=api
step "Remediation: scale api by +2"
k scale deployment api --replicas=4
k wait --for=jsonpath='{.status.readyReplicas}'=4 deployment/api --timeout=30s
k get deployment api
step "Remediation: restart api"
k rollout restart deployment/api
k rollout status deployment/api --timeout=30s
k get pods -l app=api
step "Done"
echo "demo finished: the Deployment was scaled from 2 to 4 replicas and its pods replaced"
