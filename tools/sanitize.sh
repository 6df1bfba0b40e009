#!/usr/bin/env bash
# kiln built with AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/
# (-DKILN_SANITIZE=ON): the compiler, the DSL library, the runtime every compiled model links,
# and so every model and tracing program the tests build. Then the whole test suite runs there,
# and any sanitizer report fails it: the runtime's and the compiler's unit tests with leak
# checks, then every other ctest entry (lit, the end-to-end runs, the PyTorch cross-checks).
# About 25 minutes cold on 2 cores, then 15 for the tests. Usage: tools/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! grep -qs "KILN_SANITIZE:BOOL=ON" build-asan/CMakeCache.txt; then
  rm -rf build-asan
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=ON >/dev/null
fi
# Leaks count as failures in the build's own runs of kiln and the tracing programs, and in the
# unit tests.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cmake --build build-asan
# The peak-memory bound of a real Fashion-MNIST run means nothing under ASan's shadow memory.
build-asan/bin/kiln_runtime_tests --gtest_filter=-Console.RealFashionMnistRunStaysSmall
build-asan/bin/kiln_unit_tests
# PoCL runs OpenCL work-items on fibers (makecontext/swapcontext), and LeakSanitizer's
# thread-stopping tracer crashes at the exit of some binaries that used it
# (zoo_opencl_vs_pytorch): the suite's entries run without leak checks, everything else above
# with them.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
# Left out, because what they check is not what a sanitized build is: cnn_accuracy and the
# Fashion-MNIST console test bound peak memory (ASan's shadow memory dominates it);
# install_user_project builds a user's project against the installed, instrumented libraries
# without the sanitizer flags; fuzz_smoke builds and runs its own sanitized targets. The unit
# tests (names with a dot) ran above.
ctest --test-dir build-asan -j"$(nproc)" --output-on-failure -E '\.|^(cnn_accuracy|install_user_project|fuzz_smoke)$'
