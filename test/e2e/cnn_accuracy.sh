#!/usr/bin/env bash
# Lesson 10: one epoch for seeds 1, 2 and 3. The training process must stay under 100 MB of
# resident memory, and each final test accuracy (10,000 Fashion-MNIST test images) must be at
# least 85%: a guard that training works, below PyTorch's spread for the same recipe
# (86.4-88.0%, shared/anchors.md). Where each seed lies against that spread is printed: kiln's
# RNG is not PyTorch's, so seed k draws other weights and batches than PyTorch's seed k.
# usage: cnn_accuracy.sh CNN_BINARY WORK_DIR
set -euo pipefail
cnn="$1"
work="$2"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
status=0
for seed in 1 2 3; do
  "$cnn" --seed "$seed" --output none --metrics "m$seed.jsonl" > "run$seed.txt"
  line=$(grep '"final"' "m$seed.jsonl")
  accuracy=$(echo "$line" | sed 's/.*"test_accuracy": \([0-9.]*\).*/\1/')
  memory=$(echo "$line" | sed 's/.*"peak_rss_mb": \([0-9.]*\).*/\1/')
  verdict=$(awk -v a="$accuracy" -v m="$memory" 'BEGIN { print (a >= 0.85 && m < 100) ? "ok" : "FAIL" }')
  spread=$(awk -v a="$accuracy" 'BEGIN { print (a >= 0.864) ? "in or above" : "below" }')
  echo "seed $seed: test accuracy $accuracy ($spread PyTorch's 0.864-0.880), peak memory $memory MB: $verdict"
  [[ "$verdict" == ok ]] || status=1
done
exit $status
