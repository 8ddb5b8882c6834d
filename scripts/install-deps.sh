#!/usr/bin/env bash
# Installs the Debian packages Remedy needs to build and test. Run it as root,
# or as a user with sudo (it asks sudo itself).
# .ci/run and the Dockerfile use the same list; keep them in step.
set -euo pipefail
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps.sh: run it as root (sudo is not installed)" >&2
    exit 1
  fi
  exec sudo -- bash "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libcpprest-dev libyaml-cpp-dev nlohmann-json3-dev libssl-dev
  prometheus-cpp-dev libspdlog-dev libgtest-dev libgmock-dev
  libpq-dev libhiredis-dev libre2-dev
)
TEST_PACKAGES=(
  ca-certificates curl openssl python3 python3-yaml python3-jsonschema python3-kubernetes clang-format clang-tidy
  postgresql redis-server prometheus prometheus-alertmanager
  # The libFuzzer targets (fuzz/, label `fuzz`): clang and its runtimes
  # (libFuzzer, ASan, UBSan).
  clang libclang-rt-14-dev
)

apt-get update
apt-get install -y --no-install-recommends "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"

# The real kubectl is the sandbox's first client. Debian's kubernetes-client
# is old (1.20) and only a fallback when no kubectl is installed.
if ! command -v kubectl >/dev/null 2>&1; then
  apt-get install -y --no-install-recommends kubernetes-client
fi
