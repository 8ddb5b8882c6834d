#!/usr/bin/env bash
# The API as users meet it: the CRDs apply to the API server, kubectl explain
# teaches them, the example Runbooks apply, the schema refuses malformed ones
# with the field path, and `remedyctl validate` prints each mistake. One test
# body for the sandbox and the real control plane (REMEDY_TEST_APISERVER).
# usage: [REMEDY_TEST_APISERVER=sandbox|real] api_crds_test.sh PATH/TO/remedyctl
source "$(dirname "$0")/lib.sh"
REMEDYCTL=$1
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

start_apiserver "$REMEDYCTL" --tls

# On the real control plane the CRDs are shared by the run (other tests may
# have created them already): applied, whatever the verb.
out=$(k apply -f "$ROOT/crds/" 2>&1)
assert_contains "the Runbook CRD applies" "customresourcedefinition.apiextensions.k8s.io/runbooks.remedy.dev" "$out"
assert_contains "the Incident CRD applies" "customresourcedefinition.apiextensions.k8s.io/incidents.remedy.dev" "$out"
assert_contains "the Approval CRD applies" "customresourcedefinition.apiextensions.k8s.io/approvals.remedy.dev" "$out"
assert_contains "the RunbookPolicy CRD applies" "customresourcedefinition.apiextensions.k8s.io/runbookpolicies.remedy.dev" "$out"
assert_not_contains "no CRD is refused" "rror" "$out"
out=$(k wait --for=condition=Established crd/runbooks.remedy.dev crd/incidents.remedy.dev crd/approvals.remedy.dev crd/runbookpolicies.remedy.dev --timeout=30s 2>&1)
assert_eq "the four CRDs are Established" "4" "$(grep -c 'condition met' <<<"$out")"

out=$(k explain runbook.spec.steps 2>&1)
assert_contains "kubectl explain runbook.spec.steps describes steps" "exactly one action field" "$out"
assert_contains "kubectl explain lists the actions" "rolloutRestart" "$out"
out=$(k explain incident.status.phase 2>&1)
assert_contains "kubectl explain incident.status.phase describes the phases" "AwaitingApproval" "$out"
out=$(k explain runbookpolicy.spec 2>&1)
assert_contains "kubectl explain runbookpolicy.spec names the Runbooks' namespaces" "runbookNamespaces" "$out"
assert_contains "kubectl explain runbookpolicy.spec names the targets" "targets" "$out"
out=$(k explain runbook.spec.serviceAccountName 2>&1)
assert_contains "kubectl explain runbook.spec.serviceAccountName explains the identity" "ServiceAccount" "$out"

# The examples live in namespace shop; on the shared control plane they go to
# a namespace of this test's, their files rewritten to name it.
SHOP=shop
EXAMPLES=$ROOT/runbooks/examples
INVALID=$ROOT/runbooks/invalid
if on_real; then
  SHOP=$TEST_NS
  mkdir -p "$WORKDIR/examples" "$WORKDIR/invalid"
  for f in "$EXAMPLES"/*.yaml; do sed "s/^  namespace: shop\$/  namespace: $SHOP/" "$f" >"$WORKDIR/examples/$(basename "$f")"; done
  for f in "$INVALID"/*.yaml; do sed "s/^  namespace: shop\$/  namespace: $SHOP/" "$f" >"$WORKDIR/invalid/$(basename "$f")"; done
  EXAMPLES=$WORKDIR/examples
  INVALID=$WORKDIR/invalid
else
  k create namespace shop >/dev/null
fi
out=$(k apply -f "$EXAMPLES/" 2>&1)
count=$(ls "$EXAMPLES"/*.yaml | wc -l)
assert_eq "every example Runbook applies" "$count" "$(grep -c 'runbook.remedy.dev/.* created' <<<"$out")"
out=$(k get runbooks -n "$SHOP" 2>&1)
assert_contains "kubectl get runbooks prints the printer columns" "NAME                            READY   STEPS   LAST RUN   AGE" "$out"
assert_contains "kubectl get rb (short name) works" "db-connection-pool-exhaustion" "$(k get rb -n "$SHOP" 2>&1)"

k apply -n "$SHOP" -f - >/dev/null <<'YAML'
apiVersion: remedy.dev/v1alpha1
kind: Incident
metadata:
  name: db-pool-1
spec:
  source: Manual
  alert:
    name: DatabaseConnectionPoolExhausted
    status: firing
    labels: {severity: critical, deployment: backend}
YAML
out=$(k get incidents -n "$SHOP" 2>&1)
assert_contains "kubectl get incidents prints the printer columns" "PHASE" "$out"
assert_contains "kubectl get incidents prints the alert" "DatabaseConnectionPoolExhausted" "$out"

# Each invalid Runbook states the message remedyctl validate must print on
# its first line ("# expect: line N: path: message").
REFUSED=()
for f in "$ROOT"/runbooks/invalid/*.yaml; do
  expect=$(head -n1 "$f" | sed -n 's/^# expect: line \([0-9]*\): \(.*\)$/\1: \2/p')
  name=$(basename "$f")
  out=$("$REMEDYCTL" validate "$f" 2>/dev/null)
  rc=$?
  assert_eq "remedyctl validate $name exits 1" "1" "$rc"
  assert_contains "remedyctl validate $name prints file:line: path: message" "$f:$expect" "$out"
  # The API server's schema refuses what it can check, naming the field.
  path=$(cut -d' ' -f2 <<<"$expect" | sed 's/:$//; s/\[[^]]*\]$//')
  server=$(k apply -n "$SHOP" -f "$INVALID/$name" 2>&1)
  if [[ "$server" == *"is invalid"* || "$server" == *"strict decoding error"* ]]; then
    REFUSED+=("$name")
    assert_contains "the API server refuses $name naming the field" "${path%%[*}" "$server"
    # remedyctl validate prints the server's own messages for what the
    # server refuses (formats/structural_schema.h), character for character.
    printf '%s\n' "$server" >"$WORKDIR/server-$name.txt"
    printf '%s\n' "$out" >"$WORKDIR/remedyctl-$name.txt"
    compared=$(python3 "$ROOT/e2e/schema_messages.py" "$WORKDIR/server-$name.txt" "$WORKDIR/remedyctl-$name.txt" 2>&1)
    assert_eq "remedyctl validate $name prints the API server's messages: $compared" "0" "$?"
  fi
done
echo "# the API server refused: ${REFUSED[*]}"
out=$("$REMEDYCTL" validate "$EXAMPLES"/*.yaml 2>&1)
assert_eq "remedyctl validate accepts every example" "0" "$?"

finish
