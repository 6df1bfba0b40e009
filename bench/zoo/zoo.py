#!/usr/bin/env python3
"""The model zoo: kiln against PyTorch on models that are not lesson 10.

For every model of bench/zoo/models.py: trace it (build/bin/zoo-trace), compile it (kiln
compile), train it in kiln and in PyTorch from the same initial weights (PyTorch's default
initialisation, torch.manual_seed(1), passed to kiln with --init) on the same batches in the
same order, and check that the losses agree (the first 20 steps within 1e-4 relative for the
MLPs, 1e-3 for the CNNs). Then, unless --check-only, time the training step of both at each
thread count, alternating kiln and PyTorch runs: kiln's step_ms (the compiled step, the batch
copy excluded) and PyTorch's forward + backward + optimizer step, each the median over the
steps of a run, then the median over repeats. PyTorch runs in a fresh interpreter per
repeat with glibc's malloc thresholds at 1 GB (bench/torch_side.py). Every interpreter given
with --python is timed (by default this one and, when present, PyTorch 2's: the interpreter
$KILN_TORCH2_PYTHON names, else ~/.venvs/torch2/bin/python3), and each timed run's first
losses are checked against kiln's as well.

Prints one table: per model the data, kiln's and PyTorch's step time and their ratio per
thread count, and the geometric mean of the ratios. A model whose losses disagree gets no
speed figure.

Run:   /usr/bin/python3 bench/zoo/zoo.py [--build build] [--threads 1,2] [--repeats 3] [--steps 50]
       [--models a,b] [--python /path/to/python3 ...] [--check-only]
Exit:  0 all losses agree, 1 otherwise, 77 PyTorch not importable (only with --check-only,
       the test's mode).
"""
import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "pylib"))
import kiln_io  # noqa: E402
import models as zoo  # noqa: E402
import torch_side  # noqa: E402

CHECK_STEPS = 20
DATA_BATCHES = 10  # batches in each model's data file; longer runs wrap around, same order
WARMUP = 5


def data_for(torch, model):
    """(x, y) of DATA_BATCHES batches: Fashion-MNIST's first rows or seeded synthetic data."""
    rows = model["batch"] * DATA_BATCHES
    if model["data"] == "fashion-mnist":
        images, labels = torch_side.fashion_mnist(torch, "train", rows)
        x = images.float() / 255
        return x.reshape(rows, *model["input"]), labels
    g = torch.Generator().manual_seed(7)
    return torch.rand(rows, *model["input"], generator=g), torch.randint(0, 10, (rows,), generator=g)


def torch_steps(torch, model, x, y, steps, times=None):
    """Trains PyTorch's twin from seed 1 for `steps` batches in file order; returns the losses."""
    torch.manual_seed(1)
    net = zoo.build_torch(torch, model)
    opt = zoo.build_optimizer(torch, model, net.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    b, n = model["batch"], len(y) // model["batch"]
    losses = []
    for s in range(steps):
        i = (s % n) * b
        t0 = time.perf_counter()
        loss = loss_fn(net(x[i:i + b]), y[i:i + b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if times is not None:
            times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    return losses


def torch_worker(name, threads, steps):
    """The timing side of one PyTorch run, in its own interpreter: prints the median step in ms."""
    import torch
    torch.set_num_threads(threads)
    model = next(m for m in zoo.MODELS if m["name"] == name)
    x, y = data_for(torch, model)
    times = []
    losses = torch_steps(torch, model, x, y, steps + WARMUP, times)
    print(json.dumps({"median_ms": statistics.median(times[WARMUP:]) * 1e3, "losses": losses}))


def run_torch(python, name, threads, steps):
    """(median step in ms, the run's losses) of one PyTorch run in `python`."""
    out = subprocess.run([python, os.path.abspath(__file__), "--torch-worker", name, "--threads", str(threads),
                          "--steps", str(steps)], env=torch_side.worker_env(), check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["median_ms"], result["losses"]


def default_peers():
    """This interpreter, and PyTorch 2's where one is installed."""
    peers = [sys.executable]
    torch2 = os.environ.get("KILN_TORCH2_PYTHON") or os.path.expanduser("~/.venvs/torch2/bin/python3")
    if os.path.exists(torch2):
        peers.append(torch2)
    return peers


def peer_version(python):
    return subprocess.run([python, "-c", "import torch; print(torch.__version__)"], check=True,
                          stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()


def run_kiln(binary, files, threads, steps, metrics):
    subprocess.run([binary, "--init", files["init"], "--data", files["data"], "--steps", str(steps),
                    "--threads", str(threads), "--shuffle", "off", "--metrics", metrics, "--output", "none",
                    "--quiet"], check=True)
    records, _, problems = kiln_io.read_metrics(metrics)
    if problems:
        raise RuntimeError("; ".join(problems))
    return records


def prepare(torch, model, build, work, target="host"):
    """Traces and compiles the model, writes its initial weights and data; returns the paths."""
    name = model["name"]
    ir, binary = os.path.join(work, name + ".mlir"), os.path.join(work, name)
    subprocess.run([os.path.join(build, "bin", "zoo-trace"), ir, name, ",".join(map(str, model["input"])),
                    str(model["batch"]), model["optimizer"], model["layers"]], check=True)
    t0 = time.perf_counter()
    subprocess.run([os.path.join(build, "bin", "kiln"), "compile", ir, "--target=" + target, "-o", binary],
                   check=True)
    compile_s = time.perf_counter() - t0
    torch.manual_seed(1)
    init = zoo.build_torch(torch, model).state_dict()
    files = {"init": os.path.join(work, name + ".init.safetensors"),
             "data": os.path.join(work, name + ".data.safetensors")}
    kiln_io.write_safetensors(files["init"], init)
    x, y = data_for(torch, model)
    kiln_io.write_safetensors(files["data"], {"x": x, "y": y.to(torch.int32)})
    return binary, files, compile_s, (x, y)


def check(torch, model, binary, files, data, work, steps=CHECK_STEPS):
    """Problems with kiln's first `steps` losses against PyTorch's, the worst difference, the
    tolerance and kiln's losses."""
    records = run_kiln(binary, files, 1, steps, os.path.join(work, model["name"] + ".check.jsonl"))
    kiln = [float(r["loss"]) for r in records]
    ref = torch_steps(torch, model, data[0], data[1], steps)
    problems, worst, _ = kiln_io.compare_losses(kiln, ref, tolerance(model))
    return problems, worst, kiln


def tolerance(model):
    return 1e-3 if zoo.is_cnn(model) else 1e-4


def time_model(model, binary, files, work, threads, peers, args, kiln_losses):
    """Times kiln and every peer at each thread count, runs alternating; returns the row
    {"model", "times": {threads: (kiln ms, [peer ms...])}} and the problems of any timed
    PyTorch run whose first losses differ from kiln's."""
    row, problems = {"model": model, "times": {}}, []
    for t in threads:
        kiln_ms, peer_ms = [], [[] for _ in peers]
        for r in range(args.repeats):
            metrics = os.path.join(work, "%s.%d.%d.jsonl" % (model["name"], t, r))
            records = run_kiln(binary, files, t, args.steps + WARMUP, metrics)
            kiln_ms.append(statistics.median(float(x["step_ms"]) for x in records[WARMUP:]))
            for i, python in enumerate(peers):
                ms, losses = run_torch(python, model["name"], t, args.steps)
                peer_ms[i].append(ms)
                differ, _, _ = kiln_io.compare_losses(kiln_losses, losses[:len(kiln_losses)], tolerance(model))
                problems += ["%s, %s: %s" % (python, model["name"], d) for d in differ[:1]]
        row["times"][t] = (statistics.median(kiln_ms), [statistics.median(m) for m in peer_ms])
    for p in problems[:5]:
        print("  FAIL (timed PyTorch):", p)
    return row, problems


def print_table(rows, threads, versions):
    """Step times per model and thread count, kiln's and each peer's with kiln / peer."""
    short = ["pt" + ".".join(v.split("+")[0].split(".")[:2]) for v in versions]
    head = "%-20s %-14s" % ("model", "data")
    for t in threads:
        head += " %9s" % ("kiln %dT" % t) + "".join(" %9s %6s" % ("%s %dT" % (v, t), "ratio") for v in short)
    print("\nstep time in ms, ratio kiln / PyTorch\n" + head)
    for row in rows:
        line = "%-20s %-14s" % (row["model"]["name"], row["model"]["data"])
        for t in threads:
            k, peer = row["times"][t]
            line += " %9.3f" % k + "".join(" %9.3f %6.2f" % (p, k / p) for p in peer)
        print(line)
    line = "%-35s" % "geometric mean"
    for t in threads:
        line += " %9s" % "" + "".join(" %9s %6.2f" % ("", geomean([r["times"][t][0] / r["times"][t][1][i] for r in rows]))
                                      for i in range(len(versions)))
    print(line)
    for i, v in enumerate(versions):
        print("overall geometric mean of the ratios against PyTorch %s: %.2f"
              % (v, geomean([r["times"][t][0] / r["times"][t][1][i] for r in rows for t in threads])))


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return "%s, %d cores, %s" % (cpu, os.cpu_count(), platform.platform())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=50, help="timed steps per run")
    ap.add_argument("--models", default="", help="comma-separated names (default: all)")
    ap.add_argument("--python", action="append", default=[],
                    help="an interpreter whose PyTorch is timed (repeatable; default: this one and PyTorch 2's)")
    ap.add_argument("--work", default="", help="folder for the compiled models (default: a temporary one)")
    ap.add_argument("--check-only", action="store_true", help="only check the losses (the CI test)")
    ap.add_argument("--target", default="host", choices=["host", "opencl"],
                    help="compile for this target (opencl: the GPU code path, run on PoCL; implies --check-only)")
    ap.add_argument("--check-steps", type=int, default=CHECK_STEPS, help="steps whose losses are checked")
    ap.add_argument("--torch-worker", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        torch_worker(args.torch_worker, int(args.threads), args.steps)
        return 0
    torch = kiln_io.import_torch()
    if torch is None:
        return kiln_io.SKIP if args.check_only else 1
    chosen = zoo.MODELS
    if args.models:
        names = args.models.split(",")
        unknown = [n for n in names if n not in {m["name"] for m in zoo.MODELS}]
        if unknown:
            print("unknown zoo models: %s" % ", ".join(unknown))
            return 1
        chosen = [m for m in zoo.MODELS if m["name"] in names]
    threads = [int(t) for t in args.threads.split(",")]
    if args.target != "host":
        args.check_only = True  # PoCL's speed says nothing about a GPU's
    work = args.work or tempfile.mkdtemp(prefix="kiln-zoo-")
    os.makedirs(work, exist_ok=True)
    peers = args.python or default_peers()
    versions = [] if args.check_only else [peer_version(p) for p in peers]
    if not args.check_only:
        print("machine: %s; losses checked against PyTorch %s (%s)" % (machine(), torch.__version__, sys.executable))
        for python, version in zip(peers, versions):
            print("timed: PyTorch %s (%s)" % (version, python))
        print("each figure: median step over %d steps of a run, median of %d runs; threads %s\n"
              % (args.steps, args.repeats, args.threads))

    failed, rows = [], []
    for model in chosen:
        binary, files, compile_s, data = prepare(torch, model, args.build, work, args.target)
        t0 = time.perf_counter()
        problems, worst, kiln_losses = check(torch, model, binary, files, data, work, args.check_steps)
        check_s = time.perf_counter() - t0
        status = "losses agree (worst %.1e <= %g)" % (worst, tolerance(model)) if not problems else "LOSSES DIFFER"
        print("%-20s compiled in %.1f s; %d steps checked in %.1f s; %s"
              % (model["name"], compile_s, args.check_steps, check_s, status), flush=True)
        for p in problems[:5]:
            print("  FAIL:", p)
        if not problems and not args.check_only:
            row, problems = time_model(model, binary, files, work, threads, peers, args, kiln_losses)
            rows += [row] if not problems else []
        if problems:
            failed.append(model["name"])
    if rows:
        print_table(rows, threads, versions)
    if failed:
        print("\nlosses differ (no speed figure): %s" % ", ".join(failed))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
