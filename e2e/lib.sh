# Shared helpers for the e2e tests: start processes, wait for conditions,
# assert, and clean up. Sourced by each *_test.sh.
set -uo pipefail

PASSED=0
FAILED=0
WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/remedy-e2e.XXXXXX")
PIDS=()
REAL_NAMESPACES=()

cleanup() {
  # On the shared control plane the namespace controller removes what the
  # test left, in the background.
  for ns in "${REAL_NAMESPACES[@]}"; do
    "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_FILE" delete namespace "$ns" --wait=false >/dev/null 2>&1
  done
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

# start_apiserver REMEDYCTL [sandbox flags...]: the API server the test runs
# against, chosen by REMEDY_TEST_APISERVER: `sandbox` (the default) starts
# `remedyctl sandbox` with the flags; `real` uses the control plane of
# e2e/cluster/cluster.sh at REMEDY_CLUSTER_DIR (cluster.env), shared by every
# test of the run, so the test gets a namespace of its own (removed at exit).
# Either way it sets APISERVER (sandbox|real), KUBECONFIG_FILE (an
# administrator's, its context in TEST_NS), API_URL and TEST_NS, and VIEWER
# in group VIEWER_GROUP, a user with no permission in TEST_NS (on the real
# server the kubeconfig's user `viewer` is already theirs; on the sandbox the
# test adds its token). `k` is kubectl with a fresh cache.
start_apiserver() {
  local remedyctl=$1
  shift
  APISERVER=${REMEDY_TEST_APISERVER:-sandbox}
  KUBECTL_BIN=${KUBECTL:-$(command -v kubectl)}
  case $APISERVER in
    sandbox)
      start_sandbox "$remedyctl" "$@"
      API_URL=$SANDBOX_URL
      TEST_NS=default
      VIEWER=viewer
      VIEWER_GROUP=viewers
      ;;
    real)
      local dir=${REMEDY_CLUSTER_DIR:-}
      if [[ -z $dir || ! -r $dir/cluster.env ]]; then
        echo "REMEDY_TEST_APISERVER=real: no control plane at '$dir' (cluster.env missing):" \
          "run ctest -R cluster.up or e2e/cluster/cluster.sh up DIR and set REMEDY_CLUSTER_DIR" >&2
        exit 1
      fi
      # SERVER, CA_FILE, ADMIN_KUBECONFIG, USERS_DIR, BIN_DIR, ...
      # shellcheck disable=SC1091
      source "$dir/cluster.env"
      API_URL=$SERVER
      TEST_NS=e2e-$(basename "$0" .sh | tr '_' '-' | cut -c1-20)-$$
      KUBECONFIG_FILE="$WORKDIR/kubeconfig"
      cp "$ADMIN_KUBECONFIG" "$KUBECONFIG_FILE"
      "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_FILE" create namespace "$TEST_NS" >/dev/null || exit 1
      REAL_NAMESPACES+=("$TEST_NS")
      # bob (group dev) has no permissions in a namespace of this test's.
      VIEWER=bob
      VIEWER_GROUP=dev
      local bob=$USERS_DIR/bob.kubeconfig
      "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_FILE" config set-credentials viewer \
        --client-certificate="$("$KUBECTL_BIN" --kubeconfig "$bob" config view --raw -o jsonpath='{.users[0].user.client-certificate}')" \
        --client-key="$("$KUBECTL_BIN" --kubeconfig "$bob" config view --raw -o jsonpath='{.users[0].user.client-key}')" >/dev/null
      ;;
    *) echo "REMEDY_TEST_APISERVER=$APISERVER: want sandbox or real" >&2; exit 1 ;;
  esac
  "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_FILE" config set-context --current --namespace "$TEST_NS" >/dev/null
  echo "# API server: $APISERVER ($API_URL), namespace $TEST_NS"
}

k() { "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_FILE" --cache-dir "$WORKDIR/cache" "$@"; }

# on_real / on_sandbox: whether the test runs against that API server.
on_real() { [[ ${APISERVER:-sandbox} == real ]]; }

finish() {
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
