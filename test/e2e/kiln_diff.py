#!/usr/bin/env python3
"""kiln diff on every example: the GPU code path (OpenCL on PoCL) against the host, value by value.

For each example's traced model (lessons 4-10), `kiln diff --a host --b opencl` runs one train
step of both builds and reports agreement (exit 0) on every value both keep; so does the CNN's
fused build against its unfused one. Then a CNN OpenCL build with one kernel broken on purpose
(an off-by-one tile bound planted in its first filter gradient) is found: exit 1, that kernel
named as the first difference, with its DSL line.

Run:  python3 test/e2e/kiln_diff.py --kiln build/bin/kiln --models build/models --work DIR
Exit: 0 pass, 1 fail.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

EXAMPLES = ["regression", "classification", "sequential", "minibatch", "optimizers_sgd", "cnn"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--models", required=True, help="the examples' traced models")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    args.kiln, args.models, args.work = (os.path.abspath(p) for p in (args.kiln, args.models, args.work))
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    problems = []

    def diff(model, *specs):
        return subprocess.run([args.kiln, "diff", os.path.join(args.models, model + ".mlir")] + list(specs),
                              capture_output=True, text=True, cwd=args.work)

    runs = [(name, ["--a", "host", "--b", "opencl"]) for name in EXAMPLES]
    runs.append(("cnn", ["--a", "host", "--b", "host,unfused"]))
    for name, specs in runs:
        r = diff(name, *specs)
        verdict = [line for line in r.stdout.splitlines() if line.startswith("the builds agree")]
        if r.returncode != 0 or not verdict:
            problems.append("%s %s: exit %d\n%s%s" % (name, " ".join(specs), r.returncode, r.stdout, r.stderr))
        else:
            print("%-15s %-28s %s" % (name, " ".join(specs), verdict[0]))

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
