#!/usr/bin/env python3
"""Fused and unfused builds of every example train to the same losses, within float rounding.

For each model the fused binary (bin/NAME, kiln's default) and a --fusion=off build of the same
IR run the same steps with the same seed; the losses of the first STEPS steps must agree within
a relative 1e-5 (fused code keeps values in registers and contracts multiply-adds, so the last
bits differ; training amplifies that only slowly over so few steps).

usage: fused_vs_unfused.py --kiln KILN --bin BIN_DIR --models MODELS_DIR --work DIR NAME...
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

STEPS = 20
TOLERANCE = 1e-5


def losses(binary, work, tag):
    metrics = os.path.join(work, tag + ".jsonl")
    subprocess.run([binary, "--steps", str(STEPS), "--seed", "3", "--metrics", metrics,
                    "--output", "none", "--eval-every", "0", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    with open(metrics) as f:
        rows = [json.loads(line) for line in f]
    return [r["loss"] for r in rows if "loss" in r and "final" not in r]


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--kiln", "--bin", "--models", "--work"):
        parser.add_argument(flag, required=True)
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    failed = []
    for name in args.names:
        unfused = os.path.join(args.work, name + "-unfused")
        subprocess.run([args.kiln, "compile", os.path.join(args.models, name + ".mlir"),
                        "--fusion=off", "-o", unfused], check=True)
        fused_losses = losses(os.path.join(args.bin, name), args.work, name + "-fused")
        unfused_losses = losses(unfused, args.work, name + "-unfused")
        if len(fused_losses) != STEPS or len(unfused_losses) != STEPS:
            failed.append(name)
            print(f"{name}: expected {STEPS} losses, got {len(fused_losses)} and {len(unfused_losses)}")
            continue
        worst = max(abs(a - b) / max(abs(b), 1e-30) for a, b in zip(fused_losses, unfused_losses))
        verdict = "ok" if worst <= TOLERANCE else "FAIL"
        print(f"{name}: largest relative loss difference over {STEPS} steps {worst:.2e}: {verdict}")
        if verdict != "ok":
            failed.append(name)
    if failed:
        print("fused and unfused losses differ for: " + ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
