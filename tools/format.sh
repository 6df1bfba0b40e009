#!/usr/bin/env bash
# Formats kiln's C and C++ sources with .clang-format (clang-format 22, from tools/setup.sh).
#   tools/format.sh           rewrites every file that differs
#   tools/format.sh --check   changes nothing; lists the files that differ and fails if any do
# Test fixtures (test/**/inputs/) are left as written: tests point at their lines.
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format-22}
command -v "$clang_format" > /dev/null || { echo "format.sh: $clang_format is missing (tools/setup.sh installs it)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.c' '*.cpp' '*.h' | grep -v '/inputs/')
if [[ "${1:-}" == "--check" ]]; then
  bad=0
  for f in "${files[@]}"; do
    if ! "$clang_format" --style=file "$f" | cmp -s - "$f"; then
      echo "not formatted: $f"
      bad=1
    fi
  done
  [[ $bad -eq 0 ]] || { echo "format.sh: run tools/format.sh to format these files" >&2; exit 1; }
  exit 0
fi
"$clang_format" --style=file -i "${files[@]}"
