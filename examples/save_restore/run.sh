#!/usr/bin/env bash
# Lesson 7: save and restore. Trains lesson 4's net for 100 steps and saves it twice: the whole
# net (parameters and the model's IR) and the parameters only. Then restores it both ways:
#   - the whole net is compiled back into a binary by `kiln compile net.safetensors`, with no
#     C++ source, and run with its own parameters;
#   - the parameters only are loaded into the regression binary.
# Each of the three draws its prediction curve; the predictions are compared number by number.
# usage: examples/save_restore/run.sh [OUT_DIR]   (default: build/save_restore)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/build/bin"
out="${1:-$root/build/save_restore}"
mkdir -p "$out"
cd "$out"

echo "== trained: 100 steps, saving the whole net and the parameters"
"$bin/regression" --quiet --save-net net.safetensors --save params.safetensors \
  --predictions trained.csv --output trained.svg

echo "== restored whole net: kiln compile net.safetensors (no C++ source), no training"
"$bin/kiln" compile net.safetensors -o restored_net
./restored_net --quiet --steps 0 --init net.safetensors --predictions restored_net.csv \
  --output restored_net.svg

echo "== restored parameters: the regression binary with --init params.safetensors, no training"
"$bin/regression" --quiet --steps 0 --init params.safetensors --predictions restored_params.csv \
  --output restored_params.svg

if cmp -s trained.csv restored_net.csv && cmp -s trained.csv restored_params.csv; then
  echo "the three prediction curves are identical ($(($(wc -l < trained.csv) - 1)) points);" \
       "pictures: $out/{trained,restored_net,restored_params}.svg"
else
  echo "error: the restored predictions differ from the trained ones" >&2
  exit 1
fi
