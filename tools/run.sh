#!/usr/bin/env bash
# Installs what is missing, builds kiln and its examples, and runs the main job: lesson 10's CNN
# compiled ahead of time and trained for one epoch on Debian's Fashion-MNIST by its standalone
# binary (pictures and files in build/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
cd build
./bin/cnn "$@"
