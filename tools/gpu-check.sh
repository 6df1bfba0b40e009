#!/usr/bin/env bash
# The GPU check: lesson 10's CNN trained for one epoch on a CUDA GPU, against the host build.
#
#   tools/gpu-check.sh prepare DIR   here (no GPU needed): compiles the CNN for --target=cuda,
#                                    copies Fashion-MNIST beside it and records the host build's
#                                    first 50 losses from the same seed (shuffle off);
#   tools/gpu-check.sh run DIR       on the GPU machine: trains one epoch there, then prints
#                                    the worst relative difference of the first 50 losses, the
#                                    median step time, the bytes copied per step and the accuracy.
#
# DIR travels to the GPU machine: make it a folder of the checkout that git ignores
# (echo /.gpu-check/ >> .git/info/exclude; tools/gpu-check.sh prepare .gpu-check) and carry it
# (device run, carry [".gpu-check"], command "bash tools/gpu-check.sh run .gpu-check"). The binary
# needs only glibc, libstdc++ and the NVIDIA driver there.
set -euo pipefail

mode=${1:-}
dir=${2:-}
[[ ($mode == prepare || $mode == run) && -n $dir ]] || { sed -n '2,15p' "$0"; exit 2; }
build=${BUILD_DIR:-build}
steps=50
flags=(--shuffle off --output none --eval-every 0)

if [[ $mode == prepare ]]; then
  mkdir -p "$dir/data"
  cp /usr/share/datasets/fashion-mnist/*.gz "$dir/data/"
  "$build/bin/kiln" compile "$build/models/cnn.mlir" --target=cuda -o "$dir/cnn.cuda"
  "$build/bin/cnn" --steps "$steps" "${flags[@]}" --quiet --data "$dir/data" --metrics "$dir/host.jsonl"
  ldd "$dir/cnn.cuda"
  echo "prepared $dir: cnn.cuda, the data, and the host build's first $steps losses"
  exit 0
fi

nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
"$dir/cnn.cuda" "${flags[@]}" --data "$dir/data" --metrics "$dir/cuda.jsonl" | tail -n 4
python3 - "$dir/host.jsonl" "$dir/cuda.jsonl" "$steps" <<'PY'
import json, statistics, sys
host = [json.loads(l) for l in open(sys.argv[1])]
cuda = [json.loads(l) for l in open(sys.argv[2])]
steps = int(sys.argv[3])
h = [r["loss"] for r in host if "step" in r and "loss" in r][:steps]
c = [r["loss"] for r in cuda if "step" in r and "loss" in r]
worst = max(abs(a - b) / abs(b) for a, b in zip(c[:steps], h))
ms = [r["step_ms"] for r in cuda if "step_ms" in r][10:]
crossed = sorted({r.get("device_bytes") for r in cuda if "step" in r and "loss" in r})
final = [r for r in cuda if r.get("final")]
print("first %d losses: worst relative difference %.2e against the host build" % (len(h), worst))
print("median step %.3f ms over %d steps; bytes copied per step %s" % (statistics.median(ms), len(ms), crossed))
if final:
    print("one epoch: test accuracy %s" % final[-1].get("test_accuracy"))
PY
