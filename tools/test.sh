#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (lit, GoogleTest, end to end, and the
# PyTorch cross-checks, which skip only where /usr/bin/python3 cannot import torch).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
ctest --test-dir build --output-on-failure -j2
