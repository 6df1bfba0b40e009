#!/usr/bin/env python3
"""Time one training step of lessons 4, 5 and 9 in kiln and in PyTorch eager, in the same run.

What it measures: the wall time of one training step (forward, loss, backward, update) on 1 and
on 2 threads, for
  - lesson 4 (regression): Linear(1,10) -> ReLU -> Linear(10,1), MSE, SGD, full batch of 100;
  - lesson 5 (classification): Linear(2,10) -> ReLU -> Linear(10,2), cross-entropy, SGD, batch 200;
  - lesson 9 (optimizers): Linear(1,20) -> ReLU -> Linear(20,1), MSE, batch 32, with SGD,
    Momentum 0.8, RMSprop alpha 0.9 and Adam betas (0.9, 0.99).
- kiln: the compiled binary run with --steps 1000 --metrics FILE --output none --quiet --threads N;
  per repeat, the median of the per-step step_ms it reports.
- PyTorch: a fresh /usr/bin/python3 subprocess per repeat (torch.set_num_threads(N)), launched with
  MALLOC_TRIM_THRESHOLD_ and MALLOC_MMAP_THRESHOLD_ set to 1 GB so that glibc's malloc neither
  returns memory to the kernel nor mmaps each tensor; it warms up for 200 steps, then times 1000
  steps one by one with time.perf_counter_ns; per repeat, the median of those step times.
The figure reported is the median over repeats of the per-repeat medians. kiln and PyTorch
repeats are interleaved so that noise on a shared machine hits both alike; quote the ratio, not
the absolute times (see shared/anchors.md).

Run:  /usr/bin/python3 bench/lessons_vs_torch.py --bin build/bin [--repeats 7]
Exit: 0 done, 1 a run failed, 77 PyTorch not importable by this interpreter.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import torch_side

EXIT_OK, EXIT_FAIL, EXIT_SKIP = 0, 1, 77


# name: (kiln binary, PyTorch model builder, data builder, loss, optimizer)
WORKLOADS = ["regression", "classification", "optimizers_sgd", "optimizers_momentum",
             "optimizers_rmsprop", "optimizers_adam"]


def torch_step(workload, torch):
    """The PyTorch side of a workload: a function running one training step."""
    nn = torch.nn
    torch.manual_seed(0)
    if workload == "regression":
        net = nn.Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 1))
        x = torch.unsqueeze(torch.linspace(-1, 1, 100), dim=1)
        y = x.pow(2) + 0.2 * torch.rand(x.size())
        loss_fn, opt = nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.5)
    elif workload == "classification":
        net = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 2))
        n = torch.ones(100, 2)
        x = torch.cat((torch.normal(2 * n, 1), torch.normal(-2 * n, 1)), 0)
        y = torch.cat((torch.zeros(100), torch.ones(100)), 0).long()
        loss_fn, opt = nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=0.02)
    else:
        net = nn.Sequential(nn.Linear(1, 20), nn.ReLU(), nn.Linear(20, 1))
        x = torch.unsqueeze(torch.linspace(-1, 1, 32), dim=1)
        y = x.pow(2) + 0.1 * torch.normal(torch.zeros(*x.size()))
        loss_fn = nn.MSELoss()
        p = net.parameters()
        opt = {"optimizers_sgd": lambda: torch.optim.SGD(p, lr=0.01),
               "optimizers_momentum": lambda: torch.optim.SGD(p, lr=0.01, momentum=0.8),
               "optimizers_rmsprop": lambda: torch.optim.RMSprop(p, lr=0.01, alpha=0.9),
               "optimizers_adam": lambda: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.99))}[workload]()

    def step():
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


def torch_worker(workload, threads, warmup, steps):
    """Runs in the PyTorch subprocess: prints the median step time in microseconds as JSON."""
    import time
    import torch
    torch.set_num_threads(threads)
    step = torch_step(workload, torch)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter_ns()
        step()
        times.append(time.perf_counter_ns() - t0)
    print(json.dumps({"median_us": statistics.median(times) / 1e3,
                      "threads": torch.get_num_threads(), "final_loss": step().item()}))


def run_torch(workload, threads, warmup, steps):
    env = torch_side.worker_env()
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-worker", workload, "--worker-threads",
           str(threads), "--warmup", str(warmup), "--steps", str(steps)]
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    return json.loads(out.strip().splitlines()[-1])["median_us"]


def run_kiln(binary, threads, steps, metrics_path):
    cmd = [binary, "--steps", str(steps), "--threads", str(threads), "--metrics", metrics_path,
           "--output", "none", "--quiet"]
    subprocess.run(cmd, check=True)
    with open(metrics_path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    step_ms = [r["step_ms"] for r in records if not r.get("final")]
    if len(step_ms) != steps:
        raise RuntimeError("kiln wrote %d metrics lines, expected %d" % (len(step_ms), steps))
    return statistics.median(step_ms) * 1e3


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, nproc %d" % (model, len(os.sched_getaffinity(0)))


def main():
    ap = argparse.ArgumentParser(
        description="Time a training step of lessons 4, 5 and 9 in kiln and PyTorch eager, "
                    "on 1 and 2 threads, in the same run. Exit 77 if PyTorch is not importable.")
    ap.add_argument("--bin", help="kiln's build/bin folder with the compiled lessons (required)")
    ap.add_argument("--repeats", type=int, default=7,
                    help="runs of each side per thread count; the median is reported (default: 7)")
    ap.add_argument("--steps", type=int, default=1000,
                    help="timed steps per run, for both kiln and PyTorch (default: 1000)")
    ap.add_argument("--warmup", type=int, default=200,
                    help="untimed PyTorch steps before timing (default: 200); kiln's first steps "
                         "are included but the median over steps discounts them")
    ap.add_argument("--threads", default="1,2",
                    help="comma-separated thread counts to measure (default: 1,2)")
    ap.add_argument("--only", help="one workload (%s)" % ", ".join(WORKLOADS))
    ap.add_argument("--torch-worker", metavar="WORKLOAD", help=argparse.SUPPRESS)
    ap.add_argument("--worker-threads", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.torch_worker is not None:
        torch_worker(args.torch_worker, args.worker_threads, args.warmup, args.steps)
        return EXIT_OK

    if not args.bin:
        ap.error("--bin is required")
    probe = subprocess.run([sys.executable, "-c", "import torch"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
        print("SKIP: PyTorch not importable by %s (%s); run this with /usr/bin/python3"
              % (sys.executable, last))
        return EXIT_SKIP

    threads_list = [int(t) for t in args.threads.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
        metrics_path = os.path.join(tmp, "metrics.jsonl")
        for workload in WORKLOADS:
            if args.only and workload != args.only:
                continue
            for threads in threads_list:
                kiln_us, torch_us = [], []
                try:
                    for _ in range(args.repeats):
                        kiln_us.append(run_kiln(os.path.join(args.bin, workload), threads, args.steps,
                                                metrics_path))
                        torch_us.append(run_torch(workload, threads, args.warmup, args.steps))
                except (subprocess.CalledProcessError, RuntimeError, ValueError, KeyError) as e:
                    print("FAIL: %s" % e)
                    return EXIT_FAIL
                rows.append((workload, threads, statistics.median(kiln_us), statistics.median(torch_us)))

    print("one training step (forward + loss + backward + update), kiln vs PyTorch eager")
    print("machine: %s" % machine())
    print("PyTorch %s: subprocess per repeat, MALLOC_TRIM_THRESHOLD_=MALLOC_MMAP_THRESHOLD_=%s, "
          "%d warm-up + %d timed steps; kiln: --steps %d; %d repeats, medians"
          % (subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                            stdout=subprocess.PIPE, universal_newlines=True).stdout.strip(),
             torch_side.ONE_GB, args.warmup, args.steps, args.steps, args.repeats))
    print()
    print("| workload | threads | kiln median step (us) | PyTorch median step (us) | kiln/torch | torch/kiln |")
    print("|---|---|---|---|---|---|")
    for workload, threads, k, t in rows:
        print("| %s | %d | %.2f | %.1f | %.4f | %.1fx |" % (workload, threads, k, t, k / t, t / k))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
