#!/usr/bin/env python3
"""No kernel computes with memory nobody wrote.

Every model of the zoo (bench/zoo/models.py) is traced, compiled and trained for a
few steps on one thread, subnormals kept (--denormals keep), with poison_malloc preloaded, which fills every block malloc returns
with subnormal floats. A kernel that multiplies lanes it throws away (a vector padded past the
last channel, scratch computed over too few elements) then takes subnormal operands, which
the binary's --kernel-times counts per kernel (x86's MXCSR flag); such lanes are not wrong
today but cost some CPUs a slow assist per multiply-add and would be wrong the day they are
kept. Every kernel must count none.

Run:   python3 test/e2e/stale_lanes.py --kiln K --zoo-trace T --poison LIB --work DIR
Exit:  0 none found, 1 otherwise, 77 not an x86 CPU (the flag is x86's): not run.
"""
import argparse
import json
import os
import platform
import random
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench", "zoo"))
import models as zoo  # noqa: E402

STEPS = 3


def write_data(path, model):
    """Two batches of uniform [0, 1) inputs and labels in [0, 10), as safetensors."""
    rows = 2 * model["batch"]
    features = 1
    for d in model["input"]:
        features *= d
    rng = random.Random(5)
    x = struct.pack("<%df" % (rows * features), *(rng.random() for _ in range(rows * features)))
    y = struct.pack("<%di" % rows, *(rng.randrange(10) for _ in range(rows)))
    header = {"x": {"dtype": "F32", "shape": [rows, *model["input"]], "data_offsets": [0, len(x)]},
              "y": {"dtype": "I32", "shape": [rows], "data_offsets": [len(x), len(x) + len(y)]}}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + x + y)


def stale_kernels(args, model):
    """The kernels of `model` that took subnormal operands, as 'kernel (N of M runs)'."""
    name = model["name"]
    ir, binary = os.path.join(args.work, name + ".mlir"), os.path.join(args.work, name)
    data, times = os.path.join(args.work, name + ".data"), os.path.join(args.work, name + ".times.json")
    subprocess.run([args.zoo_trace, ir, name, ",".join(map(str, model["input"])), str(model["batch"]),
                    model["optimizer"], model["layers"]], check=True)
    subprocess.run([args.kiln, "compile", ir, "-o", binary], check=True)
    write_data(data, model)
    env = dict(os.environ, LD_PRELOAD=os.path.abspath(args.poison))
    subprocess.run([binary, "--data", data, "--steps", str(STEPS), "--threads", "1", "--output", "none", "--quiet",
                    "--kernel-times", times, "--denormals", "keep"], check=True, env=env)
    with open(times) as f:
        entries = json.load(f)["entries"]
    return ["%s of %s (%d of %d runs)" % (k["name"], e["name"], k["subnormal_runs"], e["runs"])
            for e in entries for k in e["kernels"] if k["subnormal_runs"] > 0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--zoo-trace", required=True)
    ap.add_argument("--poison", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    if platform.machine() not in ("x86_64", "AMD64", "i686"):
        print("stale_lanes: not run: the subnormal-operand flag is x86's, this is %s" % platform.machine())
        return 77
    os.makedirs(args.work, exist_ok=True)
    failures = 0
    for model in zoo.MODELS:
        stale = stale_kernels(args, model)
        print("%-22s %s" % (model["name"], "; ".join(stale) if stale else "no kernel took a subnormal operand"))
        failures += bool(stale)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
