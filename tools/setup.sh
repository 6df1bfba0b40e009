#!/usr/bin/env bash
# Installs every Debian package kiln needs to build, test and run its examples.
# Idempotent: installs only what is missing and prints nothing when all is present.
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache pkg-config
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  libhalide14-0-dev
  libfmt-dev libgtest-dev libbenchmark-dev zlib1g-dev
  libplplot-dev nlohmann-json3-dev
  python3 python3-torch
  pocl-opencl-icd ocl-icd-opencl-dev
  libopenmpi-dev openmpi-bin
  clang-22 libclang-rt-22-dev clang-format-22
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
