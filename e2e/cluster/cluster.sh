#!/usr/bin/env bash
# Starts and stops the real control plane Remedy's tests run against: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake nodes
# whose pods become Running and Ready without a kubelet), all on loopback.
#
# usage: cluster.sh up DIR [BIN_DIR]    start, wait until ready (30 s), print DIR/cluster.env
#        cluster.sh down DIR            stop everything `up` started in DIR, remove DIR
#        cluster.sh env DIR             print DIR/cluster.env
#
# BIN_DIR holds the binaries of build.sh (default: the bin folder beside DIR). `up` writes,
# in DIR:
#   cluster.env              shell variables: SERVER, CA_FILE, ADMIN_KUBECONFIG, USERS_DIR, ports
#   admin.kubeconfig         a client certificate in group system:masters
#   users/NAME.kubeconfig    test users (client certificates): alice (sre, oncall),
#                            bob (dev), carol (sre), dave (no groups)
#   pki/                     the cluster CA, serving and client certificates,
#                            the service-account signing key
#   logs/                    each component's log
# The kube-apiserver runs with the default admission plugins plus
# OwnerReferencesPermissionEnforcement, Node and RBAC authorization, and
# service-account tokens (TokenRequest) signed by pki/sa.key.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

USERS=("alice:sre,oncall" "bob:dev" "carol:sre" "dave:")
NODES=(kwok-node-0 kwok-node-1 kwok-node-2)
READY_SECONDS=${REMEDY_CLUSTER_READY_SECONDS:-30}

die() { echo "cluster.sh: $*" >&2; exit 1; }

free_port() { /usr/bin/python3 "$HERE/../../scripts/free_port.py"; } # a free loopback port, below the ephemeral range

# start NAME COMMAND...: runs a component in its own process group, its output
# in logs/NAME.log, its pid in pids/NAME.
start() {
  local name=$1
  shift
  setsid "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name"
}

# wait_for SECONDS WHAT COMMAND...
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    for p in "$DIR"/pids/*; do
      [[ -e $p ]] || continue
      kill -0 "$(cat "$p")" 2>/dev/null || {
        echo "cluster.sh: $(basename "$p") exited while waiting for $what; its log:" >&2
        tail -n 40 "$DIR/logs/$(basename "$p").log" >&2
        return 1
      }
    done
    if ((SECONDS >= deadline)); then
      echo "cluster.sh: timed out after ${seconds}s waiting for $what" >&2
      return 1
    fi
    sleep 0.2 # polling interval of a wait-for-condition loop
  done
}

# cert NAME CN ORGS [SANS]: a key and a certificate signed by the cluster CA.
cert() {
  local name=$1 cn=$2 orgs=$3 sans=${4:-}
  local subj="/CN=$cn"
  local o
  IFS=, read -ra o <<<"$orgs"
  for g in "${o[@]}"; do subj="/O=$g$subj"; done
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  local ext="$PKI/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n $sans ]]; then
      echo "extendedKeyUsage=serverAuth"
      echo "subjectAltName=$sans"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -CAcreateserial -days 30 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$ext"
}

# kubeconfig FILE USER CERT_NAME
kubeconfig() {
  local file=$1 user=$2 name=$3
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: remedy-test
  cluster:
    server: $SERVER
    certificate-authority: $PKI/ca.crt
users:
- name: $user
  user:
    client-certificate: $PKI/$name.crt
    client-key: $PKI/$name.key
contexts:
- name: $user@remedy-test
  context: {cluster: remedy-test, user: $user}
current-context: $user@remedy-test
EOF
}

up() {
  if [[ -d $DIR/pids ]]; then
    # What an interrupted run left behind.
    echo "cluster.sh: stopping the control plane an earlier run left in $DIR" >&2
    down
  fi
  for t in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
    [[ -x $BIN/$t ]] || die "$BIN/$t is missing; build it with e2e/cluster/build.sh"
  done
  mkdir -p "$DIR"/{pki,logs,pids,users,etcd}
  DIR=$(cd "$DIR" && pwd)
  PKI=$DIR/pki
  local started=$SECONDS

  ETCD_PORT=$(free_port)
  ETCD_PEER_PORT=$(free_port)
  API_PORT=$(free_port)
  KCM_PORT=$(free_port)
  SCHED_PORT=$(free_port)
  KWOK_PORT=$(free_port)
  SERVER=https://127.0.0.1:$API_PORT

  # --- PKI ---
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=remedy-test-ca" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  cert apiserver kube-apiserver "" "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert admin remedy-test-admin system:masters
  cert kube-controller-manager system:kube-controller-manager ""
  cert kube-scheduler system:kube-scheduler ""
  # kwok stands in for every node's kubelet; the Node authorizer would
  # confine a kubelet to its own node, so it is an administrator here.
  cert kwok kwok-controller system:masters
  for u in "${USERS[@]}"; do cert "user-${u%%:*}" "${u%%:*}" "${u#*:}"; done
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null

  kubeconfig "$DIR/admin.kubeconfig" admin admin
  for comp in kube-controller-manager kube-scheduler kwok; do
    kubeconfig "$DIR/$comp.kubeconfig" "$comp" "$comp"
  done
  for u in "${USERS[@]}"; do
    kubeconfig "$DIR/users/${u%%:*}.kubeconfig" "${u%%:*}" "user-${u%%:*}"
  done

  # --- etcd (no fsync: a test cluster's data lives as long as the run) ---
  start etcd "$BIN/etcd" --name test --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "test=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --log-level warn
  wait_for 15 "etcd" curl -sf "http://127.0.0.1:$ETCD_PORT/health"

  # --- kube-apiserver ---
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --secure-port "$API_PORT" --advertise-address 127.0.0.1 \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" \
    --service-account-signing-key-file "$PKI/sa.key" \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins OwnerReferencesPermissionEnforcement \
    --service-cluster-ip-range 10.0.0.0/24 \
    --allow-privileged=true \
    --cert-dir "$DIR/pki/apiserver-generated" \
    --profiling=false --v 1
  wait_for "$READY_SECONDS" "kube-apiserver /readyz" \
    curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$SERVER/readyz"

  # --- controllers, scheduler and fake nodes ---
  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
    --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --controllers '*,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller' \
    --v 1
  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$DIR/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$DIR/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "$DIR/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false --v 1
  start kwok "$BIN/kwok" --kubeconfig "$DIR/kwok.kubeconfig" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr 10.244.0.0/16 --node-ip 10.0.0.10 \
    --node-lease-duration-seconds 40 \
    --server-address "127.0.0.1:$KWOK_PORT"

  for node in "${NODES[@]}"; do
    kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $node
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels:
    kubernetes.io/hostname: $node
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/role: agent
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
  nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: fake}
EOF
  done
  wait_for "$READY_SECONDS" "the fake nodes to be Ready" \
    kc wait --for=condition=Ready nodes --all --timeout=1s
  wait_for "$READY_SECONDS" "the default ServiceAccount" \
    kc -n default get serviceaccount default

  cat >"$DIR/cluster.env" <<EOF
SERVER=$SERVER
CA_FILE=$PKI/ca.crt
ADMIN_KUBECONFIG=$DIR/admin.kubeconfig
USERS_DIR=$DIR/users
SA_SIGNING_KEY=$PKI/sa.key
ETCD_URL=http://127.0.0.1:$ETCD_PORT
API_PORT=$API_PORT
BIN_DIR=$BIN
EOF
  echo "control plane ready in $((SECONDS - started)) s: $SERVER" >&2
  cat "$DIR/cluster.env"
}

down() {
  [[ -d $DIR ]] || return 0
  local p pid
  # Reverse start order: kwok and the controllers before the API server,
  # the API server before etcd.
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    p=$DIR/pids/$name
    [[ -e $p ]] || continue
    pid=$(cat "$p")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$p"
  done
  if [[ -n ${REMEDY_KEEP_TEST_DIRS:-} ]]; then
    echo "cluster.sh: kept $DIR" >&2
  else
    rm -rf "$DIR"
  fi
}

cmd=${1:-}
DIR=${2:-}
[[ -n $cmd && -n $DIR ]] || die "usage: $0 up|down|env DIR [BIN_DIR]"
BIN=${3:-$(dirname "$DIR")/bin}
case $cmd in
  up)
    BIN=$(cd "$BIN" && pwd -P) || die "no binaries at $BIN"
    # kubectl: the one the tests use.
    KUBECTL=${KUBECTL:-$(command -v kubectl)}
    kc() { "$KUBECTL" --kubeconfig "$DIR/admin.kubeconfig" "$@"; }
    if ! up; then
      down
      exit 1
    fi
    ;;
  down) down ;;
  env) cat "$DIR/cluster.env" ;;
  *) die "unknown command $cmd" ;;
esac
