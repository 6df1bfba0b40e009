#!/usr/bin/env bash
# libFuzzer targets (test/fuzz/*.cpp) for the compiler's reading of a model (its IR parsed,
# verified and taken through autodiff, the optimizer and fusion) and for the readers of a
# training binary's inputs: safetensors (checkpoints, --init, whole nets), npz/npy, idx and the
# flag parser. The code is compiled with clang, coverage-guided and with AddressSanitizer and
# UndefinedBehaviorSanitizer, into build-fuzz/ (the compiler's part in build-fuzz/compiler,
# with assertions on); each target then runs from its corpus in test/fuzz/corpus/TARGET (new
# inputs it finds go to build-fuzz/corpus/TARGET, and inputs that fail to
# build-fuzz/TARGET-*, not into the sources).
#   tools/fuzz.sh [RUNS]    each target for RUNS executions (default 10000); any crash, leak,
#                           sanitizer report or timeout fails.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10000}
cxx=${CLANG:-/usr/lib/llvm-22/bin/clang++}
out=build-fuzz
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
flags=(-std=c++17 -O1 -g -DFMT_HEADER_ONLY -Iruntime/core/include -Iruntime/data/include -Iruntime/plot/include -Iruntime/ranks/include -Icommon/include $sanitize)
mkdir -p "$out/obj"
sources=()
for f in runtime/{core,data,plot,ranks}/*.cpp; do
  case "$(basename "$f")" in
    main.cpp|runtime_main.cpp|plot.cpp|plot_tool.cpp|builtin_datasets.cpp|ranks_mpi.cpp|ranks_nccl.cpp) ;;  # not reached by these readers
    *) sources+=("$f") ;;
  esac
done
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} sh -c \
  'o='"$out"'/obj/$(basename {} .cpp).o; [ "$o" -nt {} ] || '"$cxx"' '"${flags[*]}"' -fsanitize=fuzzer-no-link -c {} -o "$o"'
for t in safetensors npz idx flags; do
  "$cxx" "${flags[@]}" -fsanitize=fuzzer -Itest/fuzz "test/fuzz/$t.cpp" "$out"/obj/*.o -lz -o "$out/fuzz_$t"
done
if [[ ! -f $out/compiler/build.ninja ]]; then
  cmake -S . -B "$out/compiler" -G Ninja -DKILN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="${cxx/clang++/clang}" \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link $sanitize" -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link $sanitize" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
fi
if ! cmake --build "$out/compiler" --target kiln_fuzz_model > "$out/compiler-build.log" 2>&1; then
  echo "FAIL: building the model fuzz target; the end of $out/compiler-build.log:"
  tail -n 40 "$out/compiler-build.log"
  exit 1
fi
cp "$out/compiler/bin/kiln_fuzz_model" "$out/fuzz_model"
targets=(model safetensors npz idx flags)
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t"
  echo "== $t: $runs runs"
  status=0
  dict=()
  if [[ -f test/fuzz/$t.dict ]]; then dict=(-dict="test/fuzz/$t.dict"); fi
  "$out/fuzz_$t" -runs="$runs" -max_len=65536 -timeout=10 -rss_limit_mb="${RSS_LIMIT_MB:-4096}" -print_final_stats=1 \
    -artifact_prefix="$out/$t-" "${dict[@]}" \
    "$out/corpus/$t" "test/fuzz/corpus/$t" > "$out/$t.log" 2>&1 || status=$?
  grep -E '^(#[0-9]+\s+DONE|stat::number_of_executed_units)' "$out/$t.log" || true
  if [ "$status" -ne 0 ]; then
    echo "FAIL: fuzz_$t exited with $status; the end of $out/$t.log:"
    tail -n 40 "$out/$t.log"
    exit 1
  fi
done
