#!/usr/bin/env python3
"""Dropout in compiled binaries: an MLP (Linear, ReLU, Dropout(p), Linear) on the runtime's
classification set, traced from the DSL with p = 0, with p = 0.5, and with nn::Identity in its
place (the model without dropout, its layers named alike).

- p = 0 trains exactly as the model without the layer: the same losses at every step and the
  same saved parameters, byte for byte.
- p = 0.5 trains differently from p = 0 (the masks act), the same on a rerun with the same seed,
  and a run checkpointed half way and resumed ends bit-identical to an uninterrupted one (the
  masks are a function of the seed and the step, not of a generator's state).
- The OpenCL build (the GPU code path, on PoCL) gives the host build's losses within 1e-5: the
  same masks.
- In the eval entry the layer is the identity: the p = 0.5 binary and the model without the
  layer evaluate the same parameters to the same loss and accuracy.
- On 2 MPI ranks (kiln compile --ranks 2) the model trains and both ranks end with the same
  parameters (each rank's key holds its rank: Train.TheGeneratorKeyHoldsTheRank checks the
  key the runtime writes).

usage: dropout.py --kiln KILN --work DIR
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "pylib"))
import kiln_io  # noqa: E402

failures = []

MODEL = """#include "kiln/kiln.h"
using namespace kiln;
using namespace kiln::nn;
KILN_MODEL(mlp, trace) {
  Sequential net(Linear(2, 64), ReLU(), LAYER, Linear(64, 5));
  Tensor x = trace.input("x", {32, 2});
  Tensor y = trace.labels("y", {32});
  Tensor loss = CrossEntropyLoss()(net(x), y);
  trace.begin("eval", EntryKind::eval, loss);
  Tensor ex = trace.input("x", {100, 2});
  Tensor ey = trace.labels("y", {100});
  Tensor logits = net(ex);
  trace.output("logits", logits);
  trace.optimizer(optim::Adam{.lr = 0.01});
  trace.train({.dataset = "classification", .task = "classification", .epochs = 8, .batch = 32,
               .shuffle = true, .log_every = 100});
  return CrossEntropyLoss()(logits, ey);
}
"""


def check(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def must(cmd):
    r = run(cmd)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r


def losses(path):
    records, _, problems = kiln_io.read_metrics(path)
    if problems:
        sys.exit(f"{path}: {problems}")
    return [r["loss"] for r in records]


def evaluation(output):
    return re.findall(r"(full-data loss \S+|accuracy \S+ \(\S+\))", output)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    w = lambda name: os.path.join(args.work, name)

    binaries = {}
    for name, layers in [("plain", "Identity()"), ("drop0", "Dropout(0.0)"), ("drop5", "Dropout(0.5)")]:
        with open(w(name + ".cpp"), "w") as f:
            f.write(MODEL.replace("LAYER", layers))
        must([args.kiln, "compile", w(name + ".cpp"), "-o", w(name)])
        binaries[name] = w(name)

    def train(name, tag, *flags):
        metrics, save = w(tag + ".jsonl"), w(tag + ".safetensors")
        r = must([binaries[name], "--seed", "5", "--quiet", "--metrics", metrics, "--save", save, *flags])
        return losses(metrics), open(save, "rb").read(), r.stdout

    plain, plain_saved, _ = train("plain", "plain")
    zero, zero_saved, _ = train("drop0", "drop0")
    check(len(plain) == 56 and plain == zero, f"p = 0 gives the losses of no dropout at all {len(plain)} steps")
    check(plain_saved == zero_saved, "p = 0 saves the parameters of no dropout, byte for byte")

    half, half_saved, half_out = train("drop5", "drop5")
    differing = sum(a != b for a, b in zip(half, zero))
    check(differing >= len(half) - 1, f"p = 0.5 changes the losses ({differing} of {len(half)} steps differ from p = 0)")
    again, again_saved, _ = train("drop5", "drop5_again")
    check(again == half and again_saved == half_saved, "p = 0.5 reruns identically with the same seed")

    must([binaries["drop5"], "--seed", "5", "--quiet", "--steps", "23", "--checkpoint", w("half.ckpt")])
    resumed, resumed_saved, _ = train("drop5", "drop5_resumed", "--resume", w("half.ckpt"))
    check(resumed == half[23:] and resumed_saved == half_saved,
          f"p = 0.5 resumed at step 23 ends as the uninterrupted run ({len(resumed)} steps after it)")

    # The eval entry of the p = 0.5 binary against the model without the layer, same parameters.
    with_layer = must([binaries["drop5"], "--init", w("drop5.safetensors"), "--steps", "0"]).stdout
    without = must([binaries["plain"], "--init", w("drop5.safetensors"), "--steps", "0"]).stdout
    check(evaluation(with_layer) and evaluation(with_layer) == evaluation(without),
          f"eval is the identity for Dropout: {evaluation(with_layer)} == {evaluation(without)}")

    # The GPU code path (OpenCL on PoCL): the same masks, so the same losses to float rounding.
    must([args.kiln, "compile", w("drop5.cpp"), "--target=opencl", "-o", w("drop5_opencl")])
    must([binaries["drop5"], "--seed", "5", "--quiet", "--steps", "10", "--metrics", w("host10.jsonl")])
    must([w("drop5_opencl"), "--seed", "5", "--quiet", "--steps", "10", "--metrics", w("opencl10.jsonl")])
    host, opencl = losses(w("host10.jsonl")), losses(w("opencl10.jsonl"))
    worst = max(abs(a - b) / abs(a) for a, b in zip(host, opencl))
    check(len(opencl) == 10 and worst <= 1e-5, f"p = 0.5 through OpenCL draws the host's masks (worst {worst:.2e})")

    if shutil.which("mpirun"):
        must([args.kiln, "compile", w("drop5.cpp"), "--ranks", "2", "-o", w("drop5_r2")])
        r = run(["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "2", w("drop5_r2"), "--seed", "5",
                 "--quiet", "--print-param-hash"])
        hashes = dict(re.findall(r"rank (\d+) parameter hash ([0-9a-f]+)", r.stdout + r.stderr))
        check(r.returncode == 0 and len(hashes) == 2 and len(set(hashes.values())) == 1,
              f"2 ranks train with dropout and end with the same parameters ({hashes})")
    else:
        check(False, "mpirun is missing (tools/setup.sh installs openmpi-bin)")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all dropout checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
