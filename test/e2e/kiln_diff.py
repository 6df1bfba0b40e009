#!/usr/bin/env python3
"""kiln diff on every example: the GPU code path (OpenCL on PoCL) against the host, value by value.

For each example's traced model (lessons 4-10), `kiln diff --a host --b opencl` runs one train
step of both builds and reports agreement (exit 0) on every value both keep; so does the CNN's
fused build against its unfused one, and so do zoo models (bench/zoo) whose shapes take the GPU
schedules' other paths: matmuls and convolutions whose operand tiles are staged in shared
memory, with sizes that are not multiples of the tiles, strides, 7x7 and 1x1 filters. Then a
CNN OpenCL build with one kernel broken on purpose (an off-by-one tile bound planted in its first
filter gradient) is found: exit 1, that kernel named as the first difference, with its DSL line.

Run:  python3 test/e2e/kiln_diff.py --kiln build/bin/kiln --models build/models --zoo-trace build/bin/zoo-trace
        --work DIR
Exit: 0 pass, 1 fail.
"""
import argparse
import os
import random
import re
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "zoo"))
import models as zoo  # noqa: E402

EXAMPLES = ["regression", "classification", "sequential", "minibatch", "optimizers_sgd", "cnn"]
ZOO = ["stem_7x7_s2_1x1", "odd_27_10_20", "odd_17_5_pool3", "vgg_3x3", "mlp_tanh_300"]


def write_npy(path, dtype, shape, values):
    """A NumPy .npy file (format 1.0) of little-endian float32 ('<f4') or int32 ('<i4') values."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        dtype, "".join("%d, " % d for d in shape))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (len(values), "f" if dtype == "<f4" else "i"), *values))


def zoo_model(name, zoo_trace, work):
    """The zoo model traced, and one batch of seeded uniform inputs and labels as x=...,y=...."""
    model = next(m for m in zoo.MODELS if m["name"] == name)
    ir = os.path.join(work, name + ".mlir")
    subprocess.run([zoo_trace, ir, name, ",".join(map(str, model["input"])), str(model["batch"]),
                    model["optimizer"], model["layers"]], check=True)
    rng = random.Random(7)
    rows = model["batch"]
    shape = (rows,) + tuple(model["input"])
    n = 1
    for d in shape:
        n *= d
    x, y = os.path.join(work, name + ".x.npy"), os.path.join(work, name + ".y.npy")
    write_npy(x, "<f4", shape, [rng.random() for _ in range(n)])
    write_npy(y, "<i4", (rows,), [rng.randrange(10) for _ in range(rows)])
    return ir, "x=%s,y=%s" % (x, y)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--models", required=True, help="the examples' traced models")
    ap.add_argument("--zoo-trace", required=True, help="the zoo's tracing program")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    args.kiln, args.models, args.work, args.zoo_trace = (
        os.path.abspath(p) for p in (args.kiln, args.models, args.work, args.zoo_trace))
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    problems = []

    def diff(model, *specs):
        path = model if model.endswith(".mlir") else os.path.join(args.models, model + ".mlir")
        return subprocess.run([args.kiln, "diff", path] + list(specs), capture_output=True, text=True, cwd=args.work)

    runs = [(name, ["--a", "host", "--b", "opencl"]) for name in EXAMPLES]
    runs.append(("cnn", ["--a", "host", "--b", "host,unfused"]))
    for name in ZOO:
        ir, data = zoo_model(name, args.zoo_trace, args.work)
        runs.append((ir, ["--a", "host", "--b", "opencl", "--data", data]))
    for name, specs in runs:
        r = diff(name, *specs)
        name = os.path.basename(name).replace(".mlir", "")
        verdict = [line for line in r.stdout.splitlines() if line.startswith("the builds agree")]
        if r.returncode != 0 or not verdict:
            problems.append("%s %s: exit %d\n%s%s" % (name, " ".join(specs), r.returncode, r.stdout, r.stderr))
        else:
            print("%-19s %-28s %s" % (name, " ".join(specs[:4]), verdict[0]))

    plan = subprocess.run([args.kiln, "compile", os.path.join(args.models, "cnn.mlir"), "--emit=planned"],
                          capture_output=True, text=True).stdout
    kernel = re.search(r"\d+: (kiln_conv2d_filter_grad_\d+)\(", plan)
    if not kernel:
        problems.append("the CNN's plan has no filter gradient kernel:\n" + plan)
    else:
        kernel = kernel.group(1)
        r = diff("cnn", "--a", "host", "--b", "opencl,off-by-one=" + kernel)
        named = re.search(r"^  B: call \d+, (\S+), output 0: conv2d_filter_grad cnn\.cpp:\d+$", r.stdout, re.M)
        if r.returncode != 1 or "first difference: train_step" not in r.stdout or not named or named.group(1) != kernel:
            problems.append("a broken %s in the OpenCL build: exit %d, expected 1 naming it\n%s%s"
                            % (kernel, r.returncode, r.stdout, r.stderr))
        else:
            print("OpenCL build with %s broken on purpose:" % kernel)
            print("\n".join("  " + line for line in r.stdout.split("first difference", 1)[1].splitlines()[1:]))
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
