#!/usr/bin/env bash
# clang-tidy, with the checks of .clang-tidy, on the product's sources (src/
# and operator/): all of them, or with BASE only the .cpp files changed since
# that commit (a changed header brings the .cpp of the same name). Needs a
# configured build directory for compile_commands.json (BUILD_DIR, default
# build) and clang-tidy (scripts/install-deps.sh installs it). Exits 1 on any
# finding.
#   scripts/tidy.sh [BASE]        e.g. scripts/tidy.sh main before landing
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
if ! command -v clang-tidy >/dev/null 2>&1; then
  echo "tidy.sh: clang-tidy is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
if [[ ! -f $build/compile_commands.json ]]; then
  echo "tidy.sh: no $build/compile_commands.json: configure the build first (cmake -S . -B $build)" >&2
  exit 1
fi
if (($#)); then
  mapfile -t changed < <(git diff --name-only "$1" -- 'src/*' 'operator/*')
  files=()
  for f in "${changed[@]}"; do
    case $f in
      *.cpp) [[ -f $f ]] && files+=("$f") ;;
      *.h) [[ -f ${f%.h}.cpp ]] && files+=("${f%.h}.cpp") ;;
    esac
  done
  mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u | sed '/^$/d')
else
  mapfile -t files < <(git ls-files 'src/*.cpp' 'operator/*.cpp')
fi
if ((${#files[@]} == 0)); then
  echo "tidy.sh: no product source changed"
  exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
printf '%s\0' "${files[@]}" |
  xargs -0 -n 1 -P "$jobs" clang-tidy -p "$build" --quiet >"$log" 2>/dev/null || rc=$?
if ((rc)) || grep -q 'error:' "$log"; then
  cat "$log"
  echo "tidy.sh: findings in $(grep -c 'error:' "$log") place(s) of ${#files[@]} file(s) checked" >&2
  exit 1
fi
echo "tidy.sh: ${#files[@]} file(s) checked, no findings"
