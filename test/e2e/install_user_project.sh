#!/usr/bin/env bash
# Installs kiln into a fresh prefix, then builds and trains models as a user would from there:
# a separate CMake project (find_package(kiln) + kiln_add_model), a single file through
# `kiln compile model.cpp`, and a lesson's model file the same way.
# usage: install_user_project.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null

# The installed compiler must not depend on kiln's build or source tree.
for f in bin/kiln include/kiln/kiln.h lib/libkiln_trace.so lib/libkiln_model_main.a lib/libkiln_runtime.a \
         lib/cmake/kiln/kilnConfig.cmake; do
  [[ -e $prefix/$f ]] || { echo "FAIL: $f is not installed"; exit 1; }
done

check_trained() {  # OUTPUT_FILE: the run finished and its loss fell
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
losses = [float(v) for v in re.findall(r"loss:? ([0-9.eE+-]+)", text)]
if len(losses) < 2 or not losses[-1] < losses[0]:
    sys.exit(f"FAIL: no falling loss in {sys.argv[1]}:\n{text}")
print(f"  loss {losses[0]:.5f} -> {losses[-1]:.5f}")
PY
}

echo "user project: find_package(kiln) + kiln_add_model"
cp -r "$source/test/e2e/user_project" "$work/project"
cmake -S "$work/project" -B "$work/project/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/project/build" >/dev/null
(cd "$work" && project/build/bin/mynet --output none) > "$work/project.out"
grep -q "Residual(" "$work/project.out" || { echo "FAIL: the summary is not printed"; cat "$work/project.out"; exit 1; }
check_trained "$work/project.out"

echo "one file: kiln compile mynet.cpp -o train"
cd "$work"
"$prefix/bin/kiln" compile "$source/test/e2e/user_project/mynet.cpp" -o train
./train > train.out
check_trained train.out
# A model that draws nothing carries no plotting library, and says so when asked for a picture.
# (Output captured first: `grep -q` closing a pipe early would fail the pipeline under pipefail.)
libs=$(ldd ./train)
if [[ $libs == *plplot* ]]; then echo "FAIL: train links PLplot but draws nothing"; echo "$libs"; exit 1; fi
# It needs nothing beyond the C and C++ runtimes (zlib is linked in), so it runs on any Linux.
only_c_runtimes() {
  while read -r lib _; do
    case "$lib" in
      linux-vdso.so.*|libstdc++.so.*|libm.so.*|libgcc_s.so.*|libc.so.*|/lib64/ld-linux-x86-64.so.*) ;;
      *) echo "FAIL: $1 depends on $lib"; echo "$2"; exit 1 ;;
    esac
  done <<< "$2"
}
only_c_runtimes train "$libs"
if ./train --steps 1 --output fit.svg 2> refused.txt; then echo "FAIL: --output accepted without pictures"; exit 1; fi
grep -q "compiled without pictures" refused.txt || { echo "FAIL: unclear refusal:"; cat refused.txt; exit 1; }

# A model that names none of the tutorial's data sets carries none of them.
"$prefix/bin/kiln" compile "$source/test/user_models/mlp.cpp" -o mlp
symbols=$(nm -C ./mlp)
if [[ $symbols == *make_regression* || $symbols == *load_mnist* ]]; then
  echo "FAIL: mlp carries the tutorial's data sets"; exit 1
fi
./mlp --steps 1 2> nodata.txt && { echo "FAIL: mlp trained without data"; exit 1; }
grep -q "has no data set of its own" nodata.txt || { echo "FAIL: unclear message:"; cat nodata.txt; exit 1; }

echo "a lesson's model file: kiln compile regression.cpp -o r"
"$prefix/bin/kiln" compile "$source/examples/regression/regression.cpp" -o r
./r --output fit.svg > r.out
check_trained r.out
grep -q "<svg" fit.svg || { echo "FAIL: lesson 4 draws no picture"; exit 1; }
# A model that draws opens PLplot when it draws: it is not linked, so the binary runs where
# PLplot is missing (standalone.test shows the refusal there).
only_c_runtimes r "$(ldd ./r)"
echo "ok"
