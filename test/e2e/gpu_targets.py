#!/usr/bin/env python3
"""The GPU code path without a GPU: every example compiled for --target=cuda and --target=opencl.

For each example's traced model, and a matmul wide enough to stage its tiles in shared memory:
  - `kiln compile --target=cuda --emit=ptx` gives PTX that ptxas assembles for sm_80 and sm_90;
For each example's traced model:
  - the --target=opencl binary runs on PoCL (OpenCL on this CPU) and its losses match the host
    binary's from the same seed and batches: 1e-5 relative at every step for the small nets,
    1e-3 over the CNN's first 20 steps, 1e-4 over the first 8 of the CNN with BatchNorm and
    Dropout (cnn_bn); a step copies only its batch in and its loss (and
    outputs) out, by the binary's own count (--metrics "device_bytes");
and a --target=cuda binary on a machine without a CUDA driver stops at its first step with a
message saying how to rebuild, exit code 1, no crash; --device chooses the GPU (PoCL has one:
device 0 trains, device 3 is refused at the first step) and a host build refuses --device.

Run:  python3 test/e2e/gpu_targets.py --kiln build/bin/kiln --bin build/bin --models build/models --work DIR
Exit: 0 pass, 1 fail.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

# Bytes a train step may copy between host and device: its batch, lr and step in, its loss and
# outputs out; parameters and optimizer state stay on the device.
STEP_BYTES = {
    "regression": 4 * (100 + 100 + 1 + 1) + 4 * (1 + 100),  # x, y, lr, step; loss, prediction
    "cnn": 4 * 50 * 28 * 28 + 4 * 50 + 4 * 3,                # x, y (i32), lr, step, loss
    "cnn_bn": 4 * 50 * 28 * 28 + 4 * 50 + 4 * 3 + 16,        # and Dropout's generator key
}

# model, binary flags for a short run, relative tolerance
EXAMPLES = [
    ("regression", [], 1e-5),
    ("classification", [], 1e-5),
    ("sequential", [], 1e-5),
    ("minibatch", [], 1e-5),
    ("optimizers_sgd", ["--epochs", "1"], 1e-5),
    ("cnn", ["--steps", "20", "--eval-every", "0"], 1e-3),
    # BatchNorm's statistics and running statistics, Dropout's masks drawn on the device.
    ("cnn_bn", ["--steps", "8", "--eval-every", "0"], 1e-4),
]


def losses(path):
    out = []
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            if "step" in record and "loss" in record:
                out.append(record["loss"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--bin", required=True, help="the host builds of the examples")
    ap.add_argument("--models", required=True, help="the examples' traced models")
    ap.add_argument("--work", required=True)
    ap.add_argument("--ptxas", default="/usr/local/cuda/bin/ptxas")
    args = ap.parse_args()
    for key in ("kiln", "bin", "models", "work"):
        setattr(args, key, os.path.abspath(getattr(args, key)))
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    problems = []

    def run(cmd, **kw):
        return subprocess.run(cmd, capture_output=True, text=True, **kw)

    def assemble(name, model):
        """The model's --emit=ptx, each kernel assembled by ptxas for sm_80 and sm_90; the modules."""
        ptx = os.path.join(args.work, name + ".ptx")
        r = run([args.kiln, "compile", model, "--target=cuda", "--emit=ptx", "-o", ptx])
        if r.returncode != 0:
            problems.append("%s: --emit=ptx failed: %s" % (name, r.stderr.strip()))
            return []
        # One PTX module per kernel, each after a "// ===== kiln kernel NAME" line.
        modules = open(ptx).read().split("// ===== kiln kernel ")[1:]
        if not modules:
            problems.append("%s: --emit=ptx printed no kernel" % name)
        for i, module in enumerate(modules):
            path = "%s.%d.ptx" % (ptx, i)
            with open(path, "w") as f:
                f.write(module.split("\n", 1)[1])
            for arch in ("sm_80", "sm_90"):
                a = run([args.ptxas, "-arch=" + arch, path, "-o", os.devnull])
                if a.returncode != 0:
                    problems.append("%s: kernel %s: ptxas -arch=%s: %s"
                                    % (name, module.split(":")[0], arch, a.stderr.strip()[:500]))
        return modules

    # A matmul wide enough for tiles staged in shared memory (the examples' are narrower).
    wide = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emit", "inputs", "wide_matmul.mlir")
    staged = [m for m in assemble("wide_matmul", wide) if ".shared" in m]
    if not staged:
        problems.append("wide_matmul: no kernel of its PTX uses shared memory")
    print("wide_matmul     %d kernels' PTX with shared memory assembled for sm_80 and sm_90" % len(staged))

    for name, flags, tol in EXAMPLES:
        model = os.path.join(args.models, name + ".mlir")
        modules = assemble(name, model)

        binary = os.path.join(args.work, name + ".opencl")
        r = run([args.kiln, "compile", model, "--target=opencl", "-o", binary])
        if r.returncode != 0:
            problems.append("%s: --target=opencl failed: %s" % (name, r.stderr.strip()))
            continue
        common = flags + ["--shuffle", "off", "--output", "none", "--quiet"]
        got, want = os.path.join(args.work, name + ".opencl.jsonl"), os.path.join(args.work, name + ".host.jsonl")
        g = run([binary, "--metrics", got] + common, cwd=args.work)
        h = run([os.path.join(args.bin, name), "--metrics", want] + common, cwd=args.work)
        if g.returncode != 0 or h.returncode != 0:
            problems.append("%s: runs failed: opencl %d %s / host %d %s" % (name, g.returncode, g.stderr.strip(),
                                                                            h.returncode, h.stderr.strip()))
            continue
        if name in STEP_BYTES:
            crossed = {r.get("device_bytes") for r in map(json.loads, open(got)) if "step" in r and "loss" in r}
            if crossed != {STEP_BYTES[name]}:
                problems.append("%s: bytes copied per step %s, expected only the batch and the loss: %d"
                                % (name, sorted(crossed, key=str), STEP_BYTES[name]))
        a, b = losses(got), losses(want)
        worst = max((abs(x - y) / abs(y) if y else abs(x - y) for x, y in zip(a, b)), default=float("inf"))
        if len(a) != len(b) or not a or not worst <= tol:
            problems.append("%s: %d OpenCL losses vs %d host losses, worst relative difference %.3g > %g"
                            % (name, len(a), len(b), worst, tol))
        print("%-15s %d kernels' PTX assembled for sm_80 and sm_90; OpenCL (PoCL) vs host: %d steps, worst "
              "relative difference %.2e" % (name, len(modules), len(a), worst))

    # Parameters and state live on the device: --checkpoint copies them back, --resume in again.
    opencl = os.path.join(args.work, "regression.opencl")
    quiet = ["--output", "none", "--quiet", "--shuffle", "off"]
    ck, resumed, full = (os.path.join(args.work, f) for f in ("r.ck", "resumed.jsonl", "full.jsonl"))
    c1 = run([opencl, "--steps", "10", "--checkpoint", ck] + quiet, cwd=args.work)
    c2 = run([opencl, "--steps", "20", "--resume", ck, "--metrics", resumed] + quiet, cwd=args.work)
    c3 = run([os.path.join(args.bin, "regression"), "--steps", "20", "--metrics", full] + quiet, cwd=args.work)
    if c1.returncode or c2.returncode or c3.returncode:
        problems.append("checkpoint and resume on OpenCL: %s %s %s" % (c1.stderr, c2.stderr, c3.stderr))
    else:
        a, b = losses(resumed), losses(full)[10:]
        worst = max((abs(x - y) / abs(y) for x, y in zip(a, b)), default=float("inf"))
        if len(a) != 10 or not worst <= 1e-5:
            problems.append("resumed OpenCL run vs host: %d losses, worst relative difference %.3g" % (len(a), worst))
        else:
            print("OpenCL checkpoint at step 10, resumed to 20: worst relative difference %.2e vs host" % worst)
    for device, ok in (("0", True), ("3", False)):
        d = run([opencl, "--steps", "2", "--output", "none", "--quiet", "--device", device], cwd=args.work)
        if ok != (d.returncode == 0) or (not ok and "device 3 (--device)" not in d.stderr):
            problems.append("--device %s: exit %d, stderr %r" % (device, d.returncode, d.stderr.strip()))
    d = run([os.path.join(args.bin, "regression"), "--device", "0", "--output", "none"], cwd=args.work)
    if d.returncode != 1 or "built for the CPU" not in d.stderr:
        problems.append("a host build given --device: exit %d, stderr %r" % (d.returncode, d.stderr.strip()))

    binary = os.path.join(args.work, "regression.cuda")
    r = run([args.kiln, "compile", os.path.join(args.models, "regression.mlir"), "--target=cuda", "-o", binary])
    if r.returncode != 0:
        problems.append("--target=cuda failed: " + r.stderr.strip())
    else:
        c = run([binary, "--steps", "2", "--output", "none"], cwd=args.work)
        if c.returncode != 1 or "rebuild with --target=host" not in c.stderr:
            problems.append("a CUDA binary without a GPU: exit %d, stderr %r" % (c.returncode, c.stderr.strip()))
        else:
            print("a CUDA binary without a GPU says: " + c.stderr.strip().splitlines()[-1])
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
