#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (-fsanitize=fuzzer,address,
# undefined) in a build directory of their own, and runs them.
#
#   scripts/fuzz.sh [options] TARGET [SECONDS]   one target; no time limit
#                                                 unless SECONDS is given
#   scripts/fuzz.sh [options]  [SECONDS]         every target in turn, each
#                                                 SECONDS (default 60)
# options:
#   --build-dir DIR  the clang build (default: build-fuzz)
#   --no-build       run what DIR holds (ctest does: the main build made it)
#   --seed N         libFuzzer's random seed (ctest uses 1, so a failure replays)
#   --list           print the targets
#
# Inputs found to add coverage go to DIR/corpus/TARGET (the checked-in seeds
# in fuzz/corpus/TARGET are only read); a crashing input is written to
# DIR/artifacts/TARGET/ and the run fails. Replay one with
#   DIR/fuzz/fuzz_TARGET DIR/artifacts/TARGET/crash-...
# and keep it as a regression test in tests/ (fuzz/README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$root/build-fuzz
build=1
seed=
targets=$(sed -n '/^set(REMEDY_FUZZ_TARGETS/,/)/p' "$root/fuzz/CMakeLists.txt" |
  sed 's/set(REMEDY_FUZZ_TARGETS//; s/)//' | tr -s ' \n' ' ')
targets=$(echo $targets)

while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --build-dir) build_dir=$(realpath -m "$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    --seed) seed=$2; shift 2 ;;
    --list) tr ' ' '\n' <<<"$targets"; exit 0 ;;
    *) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

target=
seconds=
if [[ $# -gt 0 && ! $1 =~ ^[0-9]+$ ]]; then
  target=$1
  shift
  if [[ " $targets " != *" $target "* ]]; then
    echo "fuzz.sh: no target '$target' (targets: $targets)" >&2
    exit 2
  fi
fi
if [[ $# -gt 0 ]]; then
  seconds=$1
  shift
fi
if [[ $# -gt 0 || (-n $seconds && ! $seconds =~ ^[0-9]+$) ]]; then
  echo "usage: fuzz.sh [--build-dir DIR] [--no-build] [--seed N] [TARGET] [SECONDS]" >&2
  exit 2
fi
if [[ -z $target ]]; then
  run_targets=$targets
  seconds=${seconds:-60}
else
  run_targets=$target
fi

if [[ $build == 1 ]]; then
  compiler=$(command -v clang++ || command -v clang++-14 || true)
  if [[ -z $compiler ]]; then
    echo "fuzz.sh: clang++ is not installed (scripts/install-deps.sh installs it)" >&2
    exit 1
  fi
  launcher=()
  if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  generator=()
  if [[ ! -f $build_dir/CMakeCache.txt ]] && command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
  fi
  cmake -S "$root" -B "$build_dir" "${generator[@]}" -DREMEDY_FUZZ=ON \
    -DCMAKE_CXX_COMPILER="$compiler" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
  names=()
  for t in $run_targets; do names+=("fuzz_$t"); done
  nice -n 10 cmake --build "$build_dir" -j2 --target "${names[@]}"
fi

if [[ -z ${ASAN_SYMBOLIZER_PATH:-} ]]; then
  for s in /usr/bin/llvm-symbolizer /usr/lib/llvm-14/bin/llvm-symbolizer; do
    if [[ -x $s ]]; then export ASAN_SYMBOLIZER_PATH=$s; break; fi
  done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# fuzz_command TARGET: the command line that fuzzes TARGET, in `command`.
fuzz_command() {
  local t=$1
  local binary=$build_dir/fuzz/fuzz_$t
  if [[ ! -x $binary ]]; then
    echo "fuzz.sh: $binary is missing (build it: scripts/fuzz.sh --build-dir $build_dir $t 0)" >&2
    exit 1
  fi
  local corpus=$build_dir/corpus/$t
  local artifacts=$build_dir/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  command=(nice -n 10 "$binary" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -print_funcs=0
    "-artifact_prefix=$artifacts/")
  if [[ -n $seconds && $seconds != 0 ]]; then command+=("-max_total_time=$seconds"); fi
  if [[ -n $seed ]]; then command+=("-seed=$seed"); fi
  if [[ -n $seconds && $seconds == 0 ]]; then command+=(-runs=0); fi
  command+=("$corpus" "$root/fuzz/corpus/$t")
  echo "=== fuzz_$t ${seconds:+${seconds}s} (seeds: fuzz/corpus/$t, corpus: $corpus)"
}

if [[ $run_targets != *" "* ]]; then
  # One target (ctest runs one per test): the fuzzer replaces this script, so
  # a signal to the script (ctest's timeout, ^C, kill) reaches the fuzzer,
  # and its exit status is the script's. A crashing input is in the
  # artifacts directory libFuzzer names.
  fuzz_command "$run_targets"
  exec "${command[@]}"
fi

# Several targets in turn: each fuzzer runs in the background so that a
# signal to this script is passed on to it instead of leaving it running.
child=
forward() { # forward SIGNAL: to the running fuzzer, then end with it
  trap - "$1"
  if [[ -n $child ]]; then kill -s "$1" "$child" 2>/dev/null || true; wait "$child" || true; fi
  kill -s "$1" $$
}
for s in TERM INT HUP; do trap "forward $s" "$s"; done
status=0
for t in $run_targets; do
  fuzz_command "$t"
  "${command[@]}" &
  child=$!
  rc=0
  wait "$child" || rc=$?
  child=
  if [[ $rc != 0 ]]; then
    echo "fuzz.sh: fuzz_$t failed (exit $rc); the input is in $build_dir/artifacts/$t/" >&2
    status=1
  fi
done
exit $status
