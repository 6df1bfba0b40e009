#!/usr/bin/env bash
# Lesson 9: every optimizer on the same model, data and seed; one picture of all loss curves.
# usage: examples/optimizers/run.sh [OUT_DIR] [flags for every binary, e.g. --seed 3]
#   (default OUT_DIR: build/optimizers)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/build/bin"
out="${1:-$root/build/optimizers}"
shift || true
mkdir -p "$out"
curves=()
for rule in sgd momentum nesterov rmsprop adam adagrad adadelta; do
  "$bin/optimizers_$rule" --quiet --output none --metrics "$out/$rule.jsonl" "$@"
  loss=$(grep '"final"' "$out/$rule.jsonl" | sed 's/.*"eval_loss": \([^,}]*\).*/\1/')
  printf '%-9s full-data MSE after 12 epochs: %s\n' "$rule" "$loss"
  curves+=("$rule=$out/$rule.jsonl")
done
"$bin/kiln-plot" --output "$out/optimizers.svg" --title "lesson 9: loss per step, batch 32" --ylog "${curves[@]}"
