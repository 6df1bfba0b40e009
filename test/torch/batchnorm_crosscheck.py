#!/usr/bin/env python3
"""BatchNorm1d and BatchNorm2d against PyTorch, step by step.

Each model is written in kiln's DSL and in PyTorch (torch.nn.BatchNorm1d/2d), compiled with
`kiln compile MODEL.cpp --data DATA`, and trained from PyTorch's own state_dict (running
statistics and num_batches_tracked included) for 20 steps of plain SGD (lr 0.1) on 100 rows in
batches of 16, unshuffled: each epoch ends with a short batch of 4, whose statistics are its own.
The models cover BatchNorm1d on [N, C] and on [N, C, L], BatchNorm2d after a convolution, a
model of odd sizes (3 -> 5 channels, 13x13 images, a stride-2 convolution, both BatchNorms and a
Dropout of p = 0), affine on and off, another eps and momentum, momentum None (the cumulative average) and
track_running_stats off (also on 2 MPI ranks, each normalising its share of the batch, against
PyTorch on the halves of each batch). At every step t = 1..20, with |kiln - torch| <= 1e-5 * max(1, |torch|):
  - the train-mode loss (the outputs' reduction);
  - every parameter's gradient, recovered from the parameters kiln saves after steps t - 1 and t
    (--steps t --save: p_t = p_(t-1) - 0.1 g_t);
  - running_mean and running_var; num_batches_tracked exactly.
After step 20, the eval entry's outputs on all 100 rows (--predictions, in the eval batch of 20)
against the PyTorch model in eval mode: the running statistics normalise (the batch's for
track_running_stats off).

Run:  /usr/bin/python3 test/torch/batchnorm_crosscheck.py --kiln build/bin/kiln --work DIR
Exit: 0 pass, 1 fail, 77 skipped (PyTorch not importable by this interpreter).
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "pylib"))
import kiln_io  # noqa: E402

STEPS, BATCH, ROWS, EVAL_BATCH, LR, TOL = 20, 16, 100, 20, 0.1, 1e-5

SOURCE = """#include "kiln/kiln.h"
using namespace kiln;
using namespace kiln::nn;
KILN_MODEL(bn, trace) {
  Sequential net(LAYERS);
  Tensor x = trace.input("x", {BATCH, ROW});
  Tensor y = trace.labels("y", {BATCH});
  Tensor loss = CrossEntropyLoss()(net(x), y);
  trace.begin("eval", EntryKind::eval, loss);
  Tensor ex = trace.input("x", {EVAL, ROW});
  Tensor ey = trace.labels("y", {EVAL});
  Tensor logits = net(ex);
  trace.output("logits", logits);
  trace.optimizer(optim::SGD{.lr = 0.1});
  trace.train({.task = "classification", .epochs = 1, .batch = BATCH});
  return CrossEntropyLoss()(logits, ey);
}
"""


def models(nn):
    """name: (kiln layers, row shape, PyTorch net)."""
    conv = "Conv2d(2, 4, 3, 1, 1), "
    return {
        "bn1d": ("Linear(6, 8), BatchNorm1d(8), ReLU(), Linear(8, 3)", [6],
                 nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))),
        "bn1d_no_affine": ("Linear(6, 8), BatchNorm1d(8, 1e-5, 0.1, false), ReLU(), Linear(8, 3)", [6],
                           nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8, affine=False), nn.ReLU(),
                                         nn.Linear(8, 3))),
        "bn1d_length": ("BatchNorm1d(4), Flatten(), Linear(20, 3)", [4, 5],
                        nn.Sequential(nn.BatchNorm1d(4), nn.Flatten(), nn.Linear(20, 3))),
        "bn2d": (conv + "BatchNorm2d(4), ReLU(), Flatten(), Linear(144, 3)", [2, 6, 6],
                 nn.Sequential(nn.Conv2d(2, 4, 3, 1, 1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                               nn.Linear(144, 3))),
        "bn2d_no_affine": (conv + "BatchNorm2d(4, 1e-3, 0.3, false), ReLU(), Flatten(), Linear(144, 3)", [2, 6, 6],
                           nn.Sequential(nn.Conv2d(2, 4, 3, 1, 1), nn.BatchNorm2d(4, eps=1e-3, momentum=0.3,
                                                                                   affine=False),
                                         nn.ReLU(), nn.Flatten(), nn.Linear(144, 3))),
        "bn2d_cumulative": (conv + "BatchNorm2d(4, 1e-5, std::nullopt), ReLU(), Flatten(), Linear(144, 3)",
                            [2, 6, 6],
                            nn.Sequential(nn.Conv2d(2, 4, 3, 1, 1), nn.BatchNorm2d(4, momentum=None), nn.ReLU(),
                                          nn.Flatten(), nn.Linear(144, 3))),
        # Written from scratch, with odd sizes: 3 input channels on 13x13, 5 channels after a
        # 3x3 stride-2 convolution (7x7), pooled to 3x3, then BatchNorm1d over 7 features.
        "odd_sizes": ("Conv2d(3, 5, 3, 2, 1), BatchNorm2d(5), ReLU(), MaxPool2d(2), Flatten(), Linear(45, 7), "
                      "BatchNorm1d(7, 1e-4, 0.2), Tanh(), Dropout(0.0), Linear(7, 3)", [3, 13, 13],
                      nn.Sequential(nn.Conv2d(3, 5, 3, 2, 1), nn.BatchNorm2d(5), nn.ReLU(), nn.MaxPool2d(2),
                                    nn.Flatten(), nn.Linear(45, 7), nn.BatchNorm1d(7, eps=1e-4, momentum=0.2),
                                    nn.Tanh(), nn.Dropout(0.0), nn.Linear(7, 3))),
        # A large eps: a rank that changed it would show.
        "bn2d_batch_statistics": (conv + "BatchNorm2d(4, 0.5, 0.1, true, false), ReLU(), Flatten(), Linear(144, 3)",
                                  [2, 6, 6],
                                  nn.Sequential(nn.Conv2d(2, 4, 3, 1, 1),
                                                nn.BatchNorm2d(4, eps=0.5, track_running_stats=False), nn.ReLU(),
                                                nn.Flatten(), nn.Linear(144, 3))),
    }


def differences(kiln, torch_value):
    """The worst |a - b| / max(1, |b|) of two tensors."""
    a, b = kiln.double().flatten(), torch_value.double().flatten()
    if a.shape != b.shape:
        return float("inf")
    return float(((a - b).abs() / b.abs().clamp(min=1.0)).max()) if a.numel() else 0.0


def check(torch, name, layers, row, net_factory, args):
    net = net_factory()
    problems = []
    w = lambda f: os.path.join(args.work, name + f)
    shape = lambda n: ", ".join(str(d) for d in [n] + row)
    source = (SOURCE.replace("LAYERS", layers).replace("{BATCH, ROW}", "{%s}" % shape(BATCH))
              .replace("{EVAL, ROW}", "{%s}" % shape(EVAL_BATCH)).replace("{BATCH}", "{%d}" % BATCH)
              .replace("{EVAL}", "{%d}" % EVAL_BATCH).replace(".batch = BATCH", ".batch = %d" % BATCH))
    with open(w(".cpp"), "w") as f:
        f.write(source)
    torch.manual_seed(3)
    x = torch.randn([ROWS] + row) * 2 + 0.5
    y = torch.randint(0, 3, (ROWS,))
    # Start the statistics away from PyTorch's defaults, so that the file's values are used.
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.num_batches_tracked.fill_(3)
    kiln_io.write_safetensors(w(".init.safetensors"), {k: v.clone() for k, v in net.state_dict().items()})
    kiln_io.write_safetensors(w(".data.safetensors"), {"x": x, "y": y})
    r = subprocess.run([args.kiln, "compile", w(".cpp"), "--data", w(".data.safetensors"), "-o", w("")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return ["%s: kiln compile failed: %s" % (name, r.stderr.strip()[-2000:])]

    def run(*flags):
        return subprocess.run([w(""), "--init", w(".init.safetensors"), "--data", w(".data.safetensors"),
                               "--shuffle", "off", "--quiet", *flags], capture_output=True, text=True, check=True)

    run("--steps", str(STEPS), "--metrics", w(".jsonl"))
    records, _, more = kiln_io.read_metrics(w(".jsonl"))
    problems += more
    kiln_losses = [float(rec["loss"]) for rec in records]
    states = [kiln_io.read_safetensors(w(".init.safetensors"))]
    for t in range(1, STEPS + 1):
        run("--steps", str(t), "--save", w(".%d.safetensors" % t))
        states.append(kiln_io.read_safetensors(w(".%d.safetensors" % t)))

    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    batches = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BATCH))
    params = dict(net.named_parameters())
    worst = {"loss": 0.0, "gradient": 0.0, "statistic": 0.0, "eval": 0.0}
    t = 0
    net.train()
    while t < STEPS:
        for bx, by in batches:
            if t == STEPS:
                break
            t += 1
            loss = torch.nn.functional.cross_entropy(net(bx), by)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            worst["loss"] = max(worst["loss"], abs(kiln_losses[t - 1] - loss.item()) / max(1.0, abs(loss.item()))
                                if t <= len(kiln_losses) else float("inf"))
            before, after = states[t - 1], states[t]
            for pname, p in params.items():
                g = (before[pname].double() - after[pname].double()) / LR
                worst["gradient"] = max(worst["gradient"], differences(g, p.grad))
            for bname, b in net.named_buffers():
                if bname.endswith("num_batches_tracked"):
                    if after[bname].item() != b.item():
                        problems.append("%s: %s is %d after step %d, PyTorch %d" % (name, bname, after[bname].item(),
                                                                                     t, b.item()))
                else:
                    worst["statistic"] = max(worst["statistic"], differences(after[bname], b))

    run("--steps", "0", "--init", w(".%d.safetensors" % STEPS), "--predictions", w(".csv"))
    with open(w(".csv")) as f:
        rows = list(csv.DictReader(f))
    columns = ["logits_%d" % i for i in range(3)]
    kiln_eval = torch.tensor([[float(r[c]) for c in columns] for r in rows])
    net.eval()
    with torch.no_grad():
        torch_eval = torch.cat([net(x[i:i + EVAL_BATCH]) for i in range(0, ROWS, EVAL_BATCH)])
    worst["eval"] = differences(kiln_eval, torch_eval)

    if name == "bn2d_batch_statistics":
        problems += check_ranks(torch, name, net_factory, x, y, args, w)
    for what, value in worst.items():
        if not value <= TOL:
            problems.append("%s: %s differs by %.2e (limit %g)" % (name, what, value, TOL))
    print("%-22s worst: loss %.1e, gradients %.1e, running statistics %.1e, eval outputs %.1e"
          % (name, worst["loss"], worst["gradient"], worst["statistic"], worst["eval"]))
    return problems


def check_ranks(torch, name, net_factory, x, y, args, w):
    """2 MPI ranks (kiln compile --ranks 2) normalise with their own share's statistics, as each
    process does under PyTorch's DistributedDataParallel: PyTorch on the two halves of each batch,
    the loss the mean of the halves' losses."""
    if not shutil.which("mpirun"):
        return ["%s: mpirun is missing (tools/setup.sh installs openmpi-bin)" % name]
    r = subprocess.run([args.kiln, "compile", w(".cpp"), "--data", w(".data.safetensors"), "--ranks", "2",
                        "-o", w(".r2")], capture_output=True, text=True)
    if r.returncode != 0:
        return ["%s: kiln compile --ranks 2 failed: %s" % (name, r.stderr.strip()[-2000:])]
    r = subprocess.run(["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "2", w(".r2"), "--init",
                        w(".init.safetensors"), "--data", w(".data.safetensors"), "--shuffle", "off", "--quiet",
                        "--steps", str(STEPS), "--metrics", w(".r2.jsonl"), "--save", w(".r2.safetensors")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return ["%s: 2 ranks failed: %s" % (name, (r.stdout + r.stderr).strip()[-2000:])]
    records, _, problems = kiln_io.read_metrics(w(".r2.jsonl"))
    kiln_losses = [float(rec["loss"]) for rec in records]
    net = net_factory()
    net.load_state_dict(kiln_io.read_safetensors(w(".init.safetensors")))
    net.train()
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    batches = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BATCH))
    worst, t = 0.0, 0
    while t < STEPS:
        for bx, by in batches:
            if t == STEPS:
                break
            half = len(by) // 2
            loss = (torch.nn.functional.cross_entropy(net(bx[:half]), by[:half]) +
                    torch.nn.functional.cross_entropy(net(bx[half:]), by[half:])) / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            worst = max(worst, abs(kiln_losses[t] - loss.item()) / max(1.0, abs(loss.item()))
                        if t < len(kiln_losses) else float("inf"))
            t += 1
    saved = kiln_io.read_safetensors(w(".r2.safetensors"))
    for pname, p in net.named_parameters():
        worst = max(worst, differences(saved[pname], p.detach()))
    print("%-22s on 2 ranks, each normalising its half: worst loss or parameter difference %.1e" % (name, worst))
    if not worst <= TOL:
        problems.append("%s on 2 ranks: differs from PyTorch on halves by %.2e (limit %g)" % (name, worst, TOL))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    torch = kiln_io.import_torch()
    if torch is None:
        return kiln_io.SKIP
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    problems = []
    for name in models(torch.nn):
        if not args.names or name in args.names:
            layers, row, _ = models(torch.nn)[name]
            torch.manual_seed(11)
            problems += check(torch, name, layers, row, lambda: models(torch.nn)[name][2], args)
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
