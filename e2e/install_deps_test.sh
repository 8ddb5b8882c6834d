#!/usr/bin/env bash
# The README's first command, scripts/install-deps.sh, as a new user runs it:
# as root (no sudo on the machine) it installs with apt-get itself; as a user
# with sudo it runs itself again through sudo; as a user without sudo it
# stops with a message saying to run it as root. id, sudo and apt-get are
# stubs on a PATH of their own, so nothing is installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

stubs=$work/bin
mkdir -p "$stubs"
ln -s "$(command -v bash)" "$stubs/bash"
cat >"$stubs/id" <<'STUB'
#!/bin/bash
[[ ${1:-} == -u ]] && echo "$FAKE_UID"
STUB
cat >"$stubs/apt-get" <<'STUB'
#!/bin/bash
echo "uid=$FAKE_UID apt-get $*" >>"$CALLS"
STUB
cat >"$stubs/sudo" <<'STUB'
#!/bin/bash
echo "sudo $*" >>"$CALLS"
[[ ${1:-} == -- ]] && shift
FAKE_UID=0 exec "$@"
STUB
chmod +x "$stubs"/id "$stubs"/apt-get "$stubs"/sudo
nosudo=$work/nosudo
mkdir -p "$nosudo"
for t in bash id apt-get; do ln -s "$stubs/$t" "$nosudo/$t"; done

run() { # run NAME UID PATH: the script's exit code; its calls in $work/NAME.calls
  local name=$1 uid=$2 path=$3 rc=0
  : >"$work/$name.calls"
  env -i PATH="$path" FAKE_UID="$uid" CALLS="$work/$name.calls" HOME="$work" \
    bash "$root/scripts/install-deps.sh" >"$work/$name.out" 2>&1 || rc=$?
  echo "$rc"
}

# As root, where there is no sudo: apt-get runs as root, sudo is never asked.
rc=$(run root 0 "$nosudo")
[[ $rc == 0 ]] || fail "as root: exit $rc: $(cat "$work/root.out")"
grep -qx 'uid=0 apt-get update' "$work/root.calls" || fail "as root: no apt-get update: $(cat "$work/root.calls")"
grep -q '^uid=0 apt-get install -y --no-install-recommends build-essential .*libre2-dev ca-certificates .*prometheus-alertmanager clang libclang-rt-14-dev$' "$work/root.calls" ||
  fail "as root: the packages were not installed: $(cat "$work/root.calls")"
grep -qx 'uid=0 apt-get install -y --no-install-recommends kubernetes-client' "$work/root.calls" ||
  fail "as root without kubectl: no kubernetes-client: $(cat "$work/root.calls")"
if grep -q '^sudo' "$work/root.calls"; then fail "as root: sudo was asked"; fi

# As a user with sudo: the script runs itself through sudo, and apt-get as root.
rc=$(run user 1000 "$stubs")
[[ $rc == 0 ]] || fail "with sudo: exit $rc: $(cat "$work/user.out")"
head -1 "$work/user.calls" | grep -qx "sudo -- bash $root/scripts/install-deps.sh" ||
  fail "with sudo: not run again through sudo: $(cat "$work/user.calls")"
grep -qx 'uid=0 apt-get update' "$work/user.calls" || fail "with sudo: apt-get not run as root: $(cat "$work/user.calls")"
if grep -q '^uid=1000 apt-get' "$work/user.calls"; then fail "with sudo: apt-get ran as the user"; fi

# As a user without sudo: a message, exit 1, nothing run.
rc=$(run nosudo 1000 "$nosudo")
[[ $rc == 1 ]] || fail "without sudo: exit $rc, want 1"
grep -qx 'install-deps.sh: run it as root (sudo is not installed)' "$work/nosudo.out" ||
  fail "without sudo: message: $(cat "$work/nosudo.out")"
[[ ! -s $work/nosudo.calls ]] || fail "without sudo: something ran: $(cat "$work/nosudo.calls")"
echo "PASS: install-deps.sh as root, with sudo, and without sudo"
