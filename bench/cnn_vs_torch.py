#!/usr/bin/env python3
"""Lesson 10's CNN: time per training step and per epoch in kiln and in PyTorch, same run.

--model cnn_bn measures examples/cnn_bn (BatchNorm2d and Dropout) against the same PyTorch model,
with --binary build/bin/cnn_bn.

What it measures, on 1 and 2 threads:
- kiln: `cnn --steps N --threads T --metrics F --eval-every 0 --output none --quiet`; the
  median of the per-step step_ms (the compiled step alone: copying the batch in is outside),
  and the wall time of one whole epoch (1,200 steps, with loading and the final evaluation on
  10,000 images), measured once.
- PyTorch 1.13 (Debian), a fresh /usr/bin/python3 per repeat with MALLOC_TRIM_THRESHOLD_ and
  MALLOC_MMAP_THRESHOLD_ at 1 GB (without them PyTorch's convolutions page-fault on every
  call): the tutorial's CNN, Adam lr 0.01, batches of 50 real Fashion-MNIST images; the median
  step of N timed steps after a warm-up.
Medians over repeats are printed with the ratio kiln / PyTorch.

Run:  /usr/bin/python3 bench/cnn_vs_torch.py --binary build/bin/cnn [--repeats 3] [--steps 200]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch_side

def torch_worker(threads, steps, warmup, model):
    import torch
    torch.set_num_threads(threads)
    x, y = torch_side.fashion_mnist(torch, "train", min(50 * (steps + warmup), 60000))
    x = x.float() / 255
    rows = len(y)
    torch.manual_seed(1)
    net, opt, loss_fn = torch_side.tutorial_cnn(torch, model)
    net.train()
    times = []
    for s in range(steps + warmup):
        i = (s * 50) % (rows - 50)
        t0 = time.perf_counter()
        loss = loss_fn(net(x[i:i + 50]), y[i:i + 50])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if s >= warmup:
            times.append(time.perf_counter() - t0)
    print(json.dumps({"median_ms": statistics.median(times) * 1e3}))


def run_torch(threads, steps, warmup, model):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--torch-worker", str(threads),
                          "--steps", str(steps), "--warmup", str(warmup), "--model", model],
                         env=torch_side.worker_env(), check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    return json.loads(out.strip().splitlines()[-1])["median_ms"]


def run_kiln(binary, threads, steps, metrics):
    subprocess.run([binary, "--steps", str(steps), "--threads", str(threads), "--metrics", metrics,
                    "--eval-every", "0", "--eval-subset", "100", "--output", "none", "--quiet"], check=True)
    with open(metrics) as f:
        records = [json.loads(line) for line in f if line.strip()]
    step_ms = [r["step_ms"] for r in records if not r.get("final")]
    return statistics.median(step_ms)


def kiln_epoch(binary, threads):
    """Wall time of one whole epoch (1,200 steps) with loading and the final evaluation."""
    t0 = time.perf_counter()
    subprocess.run([binary, "--epochs", "1", "--threads", str(threads), "--eval-every", "0",
                    "--output", "none", "--quiet"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--model", default="cnn", choices=["cnn", "cnn_bn"])
    ap.add_argument("--torch-worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker is not None:
        torch_worker(args.torch_worker, args.steps, args.warmup, args.model)
        return 0
    if subprocess.run([sys.executable, "-c", "import torch"], stderr=subprocess.DEVNULL).returncode:
        print("SKIP: PyTorch not importable by %s; run this with /usr/bin/python3" % sys.executable)
        return 77
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    print("%s, batch 50, Adam: one training step (forward + backward + update)"
          % ("lesson 10 CNN" if args.model == "cnn" else "lesson 10 CNN with BatchNorm2d and Dropout (cnn_bn)"))
    print("machine: %s, %d cores; %d repeats of %d steps, medians" % (model, os.cpu_count(), args.repeats, args.steps))
    print()
    print("| threads | kiln step (ms) | PyTorch step (ms) | kiln/PyTorch | kiln epoch (s, incl. loading) | PyTorch epoch (s, 1200 x step) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for threads in [int(t) for t in args.threads.split(",")]:
            kiln, ref = [], []
            for _ in range(args.repeats):
                kiln.append(run_kiln(args.binary, threads, args.steps, os.path.join(tmp, "m.jsonl")))
                ref.append(run_torch(threads, args.steps, args.warmup, args.model))
            k, t = statistics.median(kiln), statistics.median(ref)
            epoch = kiln_epoch(args.binary, threads)
            print("| %d | %.2f | %.2f | %.2f | %.1f | %.1f |" % (threads, k, t, k / t, epoch, t * 1.2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
