#!/usr/bin/env python3
"""Lesson 10's CNN on this machine: one process on 2 threads against 2 MPI ranks on 1 thread each.

Both train the same global batches of 50 (the ranks-2 build, `kiln compile --ranks 2`, gives each
rank 25 rows of each). Before any time is printed, the first 20 losses of the two runs must agree
within 1e-4 relative (summation order differs) and the 2-rank run must end with the same
parameters on both ranks.

What it prints, medians over --repeats runs of --steps steps each (the first 10 steps of a run
left out as warm-up):
- the step time of each (rank 0's, which includes its wait for the all-reduces), and their ratio;
- per step (the first left out): the all-reduces' count and bytes, the share of those bytes
  whose exchange was done, behind the compute that followed its start, when the step came to
  wait for it; the time rank 0 waited (for the exchanges, and for the other rank when it was
  behind), and the time the same all-reduces take blocking, with nothing to hide them
  (measured by the binary after training).

Run:  python3 bench/data_parallel.py --kiln build/bin/kiln --model build/models/cnn.mlir \
          --binary build/bin/cnn [--steps 300] [--repeats 3]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--bind-to", "core", "-np", "2"]


def losses_and_steps(path, warmup):
    losses, times = [], []
    for line in open(path):
        r = json.loads(line)
        if "loss" in r and "epoch" in r:
            losses.append(r["loss"])
            if r["step"] > warmup:
                times.append(r["step_ms"])
    return losses, statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", required=True)
    p.add_argument("--model", required=True, help="the CNN's traced IR (build/models/cnn.mlir)")
    p.add_argument("--binary", required=True, help="the one-process CNN (build/bin/cnn)")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    cpu = re.search(r"Model name:\s*(.*)", subprocess.run(["lscpu"], capture_output=True, text=True).stdout)
    print(f"machine: {cpu.group(1) if cpu else '?'}, {os.cpu_count()} cores; {args.steps} steps per run, "
          f"{args.repeats} repeats, medians")
    work = tempfile.mkdtemp(prefix="kiln-dp-bench-")
    ranks2 = os.path.join(work, "cnn_ranks2")
    subprocess.run([args.kiln, "compile", args.model, "--ranks", "2", "-o", ranks2], check=True)
    flags = ["--steps", str(args.steps), "--eval-every", "0", "--output", "none"]
    one_ms, two_ms, waits, blocking, overlap, exchanges = [], [], [], [], [], None
    for rep in range(args.repeats):
        m1, m2 = os.path.join(work, f"one{rep}.jsonl"), os.path.join(work, f"two{rep}.jsonl")
        subprocess.run([args.binary, *flags, "--threads", "2", "--quiet", "--metrics", m1], check=True)
        two = subprocess.run(MPIRUN + [ranks2, *flags, "--threads", "1", "--metrics", m2, "--print-param-hash"],
                             check=True, capture_output=True, text=True).stdout
        l1, t1 = losses_and_steps(m1, 10)
        l2, t2 = losses_and_steps(m2, 10)
        worst = max(abs(a - b) / abs(a) for a, b in zip(l1[:20], l2[:20]))
        hashes = set(re.findall(r"rank \d+ parameter hash (\w+)", two))
        if worst > 1e-4 or len(hashes) != 1:
            sys.exit(f"the runs differ (worst relative loss difference {worst:.2e} over 20 steps, "
                     f"rank hashes {hashes}); no time printed")
        comm = re.search(r"all-reduce per step: (\d+) exchanges, (\d+) bytes, (\d+)% of the bytes done behind "
                         r"compute when waited for; waited ([\d.e-]+) ms \(the others' compute included; blocking, "
                         r"the same exchanges take ([\d.e-]+) ms\)", two)
        exchanges = (int(comm.group(1)), int(comm.group(2)))
        one_ms.append(t1)
        two_ms.append(t2)
        overlap.append(float(comm.group(3)))
        waits.append(float(comm.group(4)))
        blocking.append(float(comm.group(5)))
    med = statistics.median
    print(f"same computation: first 20 losses within 1e-4 relative, parameters identical on both ranks")
    print(f"1 rank  x 2 threads: {med(one_ms):.3f} ms per step of 50 images")
    print(f"2 ranks x 1 thread : {med(two_ms):.3f} ms per step of 50 images (25 per rank)  "
          f"ratio 2 ranks / 1 rank = {med(two_ms) / med(one_ms):.2f}")
    print(f"all-reduce per step: {exchanges[0]} exchanges, {exchanges[1]} bytes; {med(overlap):.0f}% of the bytes "
          f"exchanged behind compute before they were waited for; rank 0 waited {med(waits):.3f} ms per step (for the "
          f"exchanges and for the other rank); the same exchanges take {med(blocking):.3f} ms blocking")


if __name__ == "__main__":
    main()
