# Shared helpers for the e2e tests: start processes, wait for conditions,
# assert, and clean up. Sourced by each *_test.sh.
set -uo pipefail

PASSED=0
FAILED=0
WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/remedy-e2e.XXXXXX")
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$WORKDIR"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

# wait_for SECONDS DESCRIPTION COMMAND...: polls until COMMAND succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${seconds}s waiting for: $what" >&2
      return 1
    fi
    sleep 0.1 # polling interval of a wait-for-condition loop
  done
}

assert_eq() {
  local what=$1 expected=$2 actual=$3
  if [[ "$expected" == "$actual" ]]; then ok "$what"; else not_ok "$what: expected [$expected], got [$actual]"; fi
}

assert_contains() {
  local what=$1 needle=$2 haystack=$3
  if [[ "$haystack" == *"$needle"* ]]; then ok "$what"; else not_ok "$what: [$needle] not in output:"; echo "$haystack" | sed 's/^/    /'; fi
}

assert_not_contains() {
  local what=$1 needle=$2 haystack=$3
  if [[ "$haystack" != *"$needle"* ]]; then ok "$what"; else not_ok "$what: [$needle] unexpectedly in output:"; echo "$haystack" | sed 's/^/    /'; fi
}

# start_sandbox REMEDYCTL [flags...]: runs `remedyctl sandbox` on a free port,
# sets KUBECONFIG_FILE and SANDBOX_URL once it serves.
start_sandbox() {
  local remedyctl=$1
  shift
  KUBECONFIG_FILE="$WORKDIR/kubeconfig"
  "$remedyctl" sandbox --port 0 --kubeconfig-out "$KUBECONFIG_FILE" "$@" >"$WORKDIR/sandbox.log" 2>&1 &
  PIDS+=($!)
  wait_for 20 "the sandbox kubeconfig" test -s "$KUBECONFIG_FILE" || { cat "$WORKDIR/sandbox.log"; exit 1; }
  SANDBOX_URL=$(grep -m1 'server:' "$KUBECONFIG_FILE" | awk '{print $2}')
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
