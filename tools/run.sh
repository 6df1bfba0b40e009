#!/usr/bin/env bash
# Installs what is missing, builds kiln and its examples, and runs the main job: the regression
# lesson compiled ahead of time and trained by its standalone binary (output in build/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
cd build
./bin/regression "$@"
