#!/usr/bin/env bash
# Lesson 10: 600 steps, a checkpoint, and a resumed run to 1,200 steps end with bit-identical
# parameters to an uninterrupted 1,200-step run (same seed: shuffling and loader position are
# restored from the checkpoint).
# usage: cnn_resume.sh CNN_BINARY WORK_DIR
set -euo pipefail
cnn="$1"
work="$2"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
flags=(--seed 7 --output none --quiet --eval-subset 500)
"$cnn" "${flags[@]}" --steps 1200 --save whole.safetensors
"$cnn" "${flags[@]}" --steps 600 --checkpoint half.ckpt
"$cnn" "${flags[@]}" --steps 1200 --resume half.ckpt --save resumed.safetensors
if cmp whole.safetensors resumed.safetensors; then
  echo "PASS: 600 + resume + 600 steps gives the same parameters, bit for bit, as 1200 steps"
else
  echo "FAIL: the resumed run's parameters differ from the uninterrupted run's"
  exit 1
fi
