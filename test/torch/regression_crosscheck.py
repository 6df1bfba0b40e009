#!/usr/bin/env python3
"""Cross-check kiln's lesson-4 regression trainer against PyTorch, step by step.

What it checks: starting from the same initial weights and the same data, the kiln binary
`regression` and PyTorch eager (Linear(1,10) -> ReLU -> Linear(10,1), SGD lr 0.5, MSELoss,
100 full-batch steps) produce the same loss at every step, within a relative tolerance of 1e-4
(float32 rounding, not "close enough"). The loss of step t is the loss of step t's forward pass,
before that step's update. It also checks the shape of kiln's --metrics file (one JSON line per
step with the keys step, loss and step_ms).

The initial weights come from PyTorch's default init with torch.manual_seed(0) and the data is
the tutorial's (x = linspace(-1,1,100) as a column, y = x^2 + 0.2*rand); both are handed to the
binary as .safetensors files written here with the standard library.

Run:  /usr/bin/python3 test/torch/regression_crosscheck.py --binary build/bin/regression
Exit: 0 pass, 1 fail, 77 skipped (PyTorch not importable by this interpreter).
"""

import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "pylib"))
import kiln_io  # noqa: E402
from kiln_io import write_safetensors  # noqa: E402

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77
STEPS = 100
LR = 0.5
REL_TOL = 1e-4  # relative, per step; float32 rounding over 100 steps stays far below this




def make_net():
    """The tutorial's Net; attribute names match kiln's parameter names (hidden.*, predict.*)."""
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = torch.nn.Linear(1, 10)
            self.predict = torch.nn.Linear(10, 1)

        def forward(self, x):
            return self.predict(torch.relu(self.hidden(x)))

    return Net()


def torch_losses(net, x, y, steps, lr):
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = torch.nn.MSELoss()
    losses = []
    for _ in range(steps):
        loss = loss_fn(net(x), y)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses


def read_metrics(path, steps):
    """Returns (losses, problems) from kiln's JSON-lines metrics file: one line per step, then
    the final evaluation line."""
    records, final, problems = kiln_io.read_metrics(path)
    if len(records) != steps:
        problems.append("metrics file has %d step lines, expected %d" % (len(records), steps))
    if final is None:
        problems.append("metrics file has no final line")
    return [float(r["loss"]) for r in records], problems


def main():
    ap = argparse.ArgumentParser(
        description="Check kiln's regression (lesson 4) loss curve against PyTorch's, step by step. "
                    "Exit 0 pass, 1 fail, 77 if PyTorch is not importable.")
    ap.add_argument("--binary", required=True, help="path to kiln's compiled 'regression' binary")
    ap.add_argument("--threads", type=int, default=1,
                    help="--threads passed to the kiln binary (default: 1)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory with the .safetensors and metrics files")
    args = ap.parse_args()

    global torch
    torch = kiln_io.import_torch()
    if torch is None:
        return kiln_io.SKIP

    torch.manual_seed(0)
    net = make_net()
    x = torch.unsqueeze(torch.linspace(-1, 1, 100), dim=1)  # (100, 1)
    y = x.pow(2) + 0.2 * torch.rand(x.size())               # (100, 1)
    init = {k: v.detach().clone() for k, v in net.state_dict().items()}

    tmp = tempfile.mkdtemp(prefix="kiln-regression-crosscheck-")
    init_path = os.path.join(tmp, "init.safetensors")
    data_path = os.path.join(tmp, "data.safetensors")
    metrics_path = os.path.join(tmp, "metrics.jsonl")
    write_safetensors(init_path, init)
    write_safetensors(data_path, {"x": x, "y": y})

    cmd = [args.binary, "--init", init_path, "--data", data_path, "--metrics", metrics_path,
           "--steps", str(STEPS), "--lr", str(LR), "--threads", str(args.threads),
           "--output", "none", "--quiet"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if proc.returncode != 0:
        print("FAIL: kiln binary exited with %d\n  command: %s\n  stdout: %s\n  stderr: %s"
              % (proc.returncode, " ".join(cmd), proc.stdout.strip(), proc.stderr.strip()))
        return EXIT_FAIL

    kiln, problems = read_metrics(metrics_path, STEPS)
    ref = torch_losses(net, x, y, STEPS, LR)

    if len(kiln) == STEPS:
        worst_rel, worst_step = -1.0, -1
        for t, (k, r) in enumerate(zip(kiln, ref)):
            rel = abs(k - r) / abs(r) if r != 0 else abs(k - r)
            if not math.isfinite(k) or not (rel <= REL_TOL):
                problems.append("step %d: kiln %.9g, torch %.9g, relative difference %.3g > %g"
                                % (t, k, r, rel, REL_TOL))
            if not rel <= worst_rel:  # also catches NaN
                worst_rel, worst_step = rel, t
        print("worst relative difference: %.3g at step %d (kiln %.9g, torch %.9g); tolerance %g"
              % (worst_rel, worst_step, kiln[worst_step], ref[worst_step], REL_TOL))
        print("first loss: kiln %.9g, torch %.9g" % (kiln[0], ref[0]))
        print("final loss (step %d): kiln %.9g, torch %.9g" % (STEPS - 1, kiln[-1], ref[-1]))

    if args.keep:
        print("files kept in", tmp)
    else:
        for p in (init_path, data_path, metrics_path):
            if os.path.exists(p):
                os.remove(p)
        os.rmdir(tmp)

    if problems:
        for p in problems[:20]:
            print("FAIL:", p)
        if len(problems) > 20:
            print("FAIL: ... and %d more" % (len(problems) - 20))
        return EXIT_FAIL
    print("PASS: %d steps agree with PyTorch within relative %g" % (STEPS, REL_TOL))
    return EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
