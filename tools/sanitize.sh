#!/usr/bin/env bash
# The runtime (every reader of files and flags a training binary has) and the compiler's unit
# tests (gradients, kernels through Halide's JIT, the DSL) built with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-asan/, then both test programs run there: any report,
# leaks included, fails the run. About 10 minutes cold on 2 cores, 5 warm. Usage: tools/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
if [[ ! -f build-asan/build.ninja ]]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
fi
cmake --build build-asan --target kiln_runtime_tests kiln_checkpoint_writer kiln_fake_cnn kiln_unit_tests
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The peak-memory bound of a real Fashion-MNIST run means nothing under ASan's shadow memory.
build-asan/bin/kiln_runtime_tests --gtest_filter=-Console.RealFashionMnistRunStaysSmall
build-asan/bin/kiln_unit_tests
