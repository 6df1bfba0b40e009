#!/usr/bin/env bash
# Lesson 10: one epoch for seeds 1, 2 and 3; each final test accuracy (10,000 Fashion-MNIST
# test images) must lie in or above PyTorch's spread for the same recipe, 86.4-88.0%
# (shared/anchors.md), and the training process must stay under 100 MB of resident memory.
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
  verdict=$(awk -v a="$accuracy" -v m="$memory" 'BEGIN { print (a >= 0.864 && m < 100) ? "ok" : "FAIL" }')
  echo "seed $seed: test accuracy $accuracy, peak memory $memory MB: $verdict"
  [[ "$verdict" == ok ]] || status=1
done
exit $status
