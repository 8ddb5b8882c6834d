#!/usr/bin/env bash
# Builds the real control plane the tests run against, from Go modules pinned
# in this folder's go.mod/go.sum files (one module per tool, so one tool's
# k8s.io versions never move another's):
#
#   kubernetes/  kube-apiserver, kube-controller-manager,  k8s.io/kubernetes v1.33.13
#                kube-scheduler
#   etcd/        etcd                                       go.etcd.io/etcd/server/v3 v3.5.21
#   kwok/        kwok (fake nodes, Ready pods)              sigs.k8s.io/kwok v0.7.0
#   helm/        helm                                       helm.sh/helm/v4 v4.3.2
#
# usage: build.sh [--print-dir] [OUT_DIR]
#
# The binaries go to a cache folder named by a hash of the module files, the
# Go version and this script ($REMEDY_CONTROL_PLANE_CACHE, default
# ~/.cache/remedy/control-plane/<hash>); a second run finds them there and
# returns at once. With OUT_DIR, OUT_DIR/bin links to that folder.
# Needs Go 1.24 or later (GO, or `go` on PATH, or /usr/local/go/bin/go) and the
# Go module proxy; nothing else is downloaded.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

PRINT_DIR=no
if [[ ${1:-} == --print-dir ]]; then
  PRINT_DIR=yes
  shift
fi
OUT_DIR=${1:-}

GO=${GO:-$(command -v go || true)}
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
if [[ -z $GO ]]; then
  echo "build.sh: Go 1.24 or later is needed to build the tests' control plane" \
    "(kube-apiserver, etcd, kube-controller-manager, kwok, helm); install it at" \
    "/usr/local/go or put it on PATH" >&2
  exit 1
fi
go_version=$("$GO" env GOVERSION)
case $go_version in
  go1.2[4-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
  *) echo "build.sh: $go_version is too old; Go 1.24 or later is needed" >&2; exit 1 ;;
esac

# Versions stamped into the binaries, as Kubernetes' own build does, so
# /version and `kubectl version` say what runs.
K8S_VERSION=v1.33.13
ETCD_VERSION=v3.5.21
HELM_VERSION=v4.3.2

key=$(cat "$HERE"/build.sh "$HERE"/*/go.mod "$HERE"/*/go.sum "$HERE"/etcd/main.go |
  { cat; echo "$go_version"; } | sha256sum | cut -c1-16)
CACHE_ROOT=${REMEDY_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remedy/control-plane}
BIN=$CACHE_ROOT/$key
TOOLS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok helm)

link_out() {
  if [[ -n $OUT_DIR ]]; then
    mkdir -p "$OUT_DIR"
    ln -sfn "$BIN" "$OUT_DIR/bin"
  fi
  if [[ $PRINT_DIR == yes ]]; then echo "$BIN"; fi
}

if [[ -f $BIN/.complete ]]; then
  link_out
  exit 0
fi

log() { echo "control plane: $*" >&2; }
mkdir -p "$BIN.partial"
export GOFLAGS="-mod=readonly -trimpath -buildvcs=false"
# The proxy is the one source; sum.golang.org checks what it serves against
# go.sum, which already pins every module.
export GOTOOLCHAIN=local
export CGO_ENABLED=0

build() { # build MODULE_DIR LDFLAGS PACKAGE...
  local dir=$1 ldflags=$2
  shift 2
  local start=$SECONDS
  (cd "$HERE/$dir" && "$GO" build -ldflags "-s -w $ldflags" -o "$BIN.partial/" "$@")
  log "built $* in $((SECONDS - start)) s"
}

k8s_ldflags() {
  local v=$K8S_VERSION minor
  minor=${v#v1.}
  minor=${minor%%.*}
  local flags="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

log "building into $BIN with $go_version (first time: several minutes)"
build etcd "-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" .
build kubernetes "$(k8s_ldflags)" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler
build kwok "" sigs.k8s.io/kwok/cmd/kwok
build helm "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" helm.sh/helm/v4/cmd/helm

for t in "${TOOLS[@]}"; do
  [[ -x $BIN.partial/$t ]] || { log "missing $t after the build"; exit 1; }
done
rm -rf "$BIN"
mv "$BIN.partial" "$BIN"
touch "$BIN/.complete"
link_out
