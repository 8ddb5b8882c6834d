#!/usr/bin/env bash
# Every C++ file of the repository is as clang-format (with the repository's
# .clang-format) would write it. Prints the files that are not, and the
# command that formats them; exits 1 then, and when clang-format is missing
# (scripts/install-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null 2>&1; then
  echo "check_format.sh: clang-format is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.hpp' '*.cc')
else
  mapfile -t files < <(find src operator tests bench fuzz -name '*.cpp' -o -name '*.h' 2>/dev/null | sort)
fi
unformatted=()
for f in "${files[@]}"; do
  [[ -f $f ]] || continue
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if ((${#unformatted[@]})); then
  printf 'not formatted: %s\n' "${unformatted[@]}"
  echo "check_format.sh: ${#unformatted[@]} of ${#files[@]} files differ from clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1); run: clang-format -i ${unformatted[*]}" >&2
  exit 1
fi
echo "check_format.sh: ${#files[@]} files formatted"
