#!/usr/bin/env bash
# kiln built with AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/
# (-DKILN_SANITIZE=ON): the compiler, the DSL library, the runtime every compiled model links,
# and so every model and tracing program the tests build. Then the runtime's and the compiler's
# unit tests and the lit suite (every compile, every error case, every training binary it runs)
# run there: any sanitizer report fails the run. Usage: tools/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! grep -qs "KILN_SANITIZE:BOOL=ON" build-asan/CMakeCache.txt; then
  rm -rf build-asan
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=ON >/dev/null
fi
cmake --build build-asan
# kiln and the models exit through LLVM's and Halide's static state, which LeakSanitizer would
# report as leaks of the process's lifetime; the runtime's own tests run with leak checks.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The peak-memory bound of a real Fashion-MNIST run means nothing under ASan's shadow memory.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  build-asan/bin/kiln_runtime_tests --gtest_filter=-Console.RealFashionMnistRunStaysSmall
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 build-asan/bin/kiln_unit_tests
# standalone.test checks that a model binary needs no library beyond libc and libstdc++, which a
# sanitized binary does (libasan, libubsan).
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  /usr/lib/llvm-22/bin/lit -q build-asan/test --filter-out 'standalone\.test'
