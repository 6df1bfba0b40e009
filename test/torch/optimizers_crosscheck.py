#!/usr/bin/env python3
"""Every optimizer against PyTorch's, step by step, on lesson 9's model.

For each update rule (SGD, momentum, Nesterov, Adagrad, Adadelta, RMSprop plain / centered /
with momentum, Adam plain / amsgrad, AdamW) kiln's traced lesson-9 model is compiled with
`kiln compile --optimizer`, started from PyTorch's initial weights and data (safetensors), and
run for 50 steps of batch 32 without shuffling, which crosses the 8-row tail batch at step 32
as PyTorch's DataLoader does. The loss of every step must agree with PyTorch's within 1e-4
relative.

Run:  /usr/bin/python3 test/torch/optimizers_crosscheck.py --kiln build/bin/kiln --model build/models/optimizers_sgd.mlir
Exit: 0 pass, 1 fail, 77 skipped (PyTorch not importable by this interpreter).
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "pylib"))
import kiln_io  # noqa: E402

STEPS, BATCH, LR, REL_TOL = 50, 32, 0.01, 1e-4

# name: (kiln --optimizer, --optimizer-option, PyTorch constructor)
RULES = {
    "sgd": ("sgd", "", lambda p, t: t.optim.SGD(p, lr=LR)),
    "momentum": ("sgd", "momentum=0.8,dampening=0.1,weight_decay=0.01",
                 lambda p, t: t.optim.SGD(p, lr=LR, momentum=0.8, dampening=0.1, weight_decay=0.01)),
    "nesterov": ("sgd", "momentum=0.8,nesterov=true",
                 lambda p, t: t.optim.SGD(p, lr=LR, momentum=0.8, nesterov=True)),
    "adagrad": ("adagrad", "lr_decay=0.01,initial_accumulator_value=0.1",
                lambda p, t: t.optim.Adagrad(p, lr=LR, lr_decay=0.01, initial_accumulator_value=0.1)),
    "adadelta": ("adadelta", "", lambda p, t: t.optim.Adadelta(p, lr=LR)),
    "rmsprop": ("rmsprop", "alpha=0.9", lambda p, t: t.optim.RMSprop(p, lr=LR, alpha=0.9)),
    "rmsprop_centered_momentum": ("rmsprop", "centered=true,momentum=0.5,weight_decay=0.01",
                                  lambda p, t: t.optim.RMSprop(p, lr=LR, centered=True, momentum=0.5,
                                                               weight_decay=0.01)),
    "adam": ("adam", "beta1=0.9,beta2=0.99", lambda p, t: t.optim.Adam(p, lr=LR, betas=(0.9, 0.99))),
    "adam_amsgrad": ("adam", "amsgrad=true,weight_decay=0.01",
                     lambda p, t: t.optim.Adam(p, lr=LR, amsgrad=True, weight_decay=0.01)),
    "adamw": ("adamw", "", lambda p, t: t.optim.AdamW(p, lr=LR)),
}


def torch_losses(torch, init, x, y, make_optimizer):
    net = torch.nn.Sequential(torch.nn.Linear(1, 20), torch.nn.ReLU(), torch.nn.Linear(20, 1))
    net.load_state_dict(init)
    opt = make_optimizer(net.parameters(), torch)
    loss_fn = torch.nn.MSELoss()
    losses, n = [], x.shape[0]
    while len(losses) < STEPS:
        for start in range(0, n, BATCH):  # DataLoader(shuffle=False, drop_last=False)
            xb, yb = x[start:start + BATCH], y[start:start + BATCH]
            loss = loss_fn(net(xb), yb)
            losses.append(loss.item())
            opt.zero_grad()
            loss.backward()
            opt.step()
            if len(losses) == STEPS:
                break
    return losses


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiln", required=True, help="the kiln compiler")
    ap.add_argument("--model", required=True, help="lesson 9's traced model (optimizers_sgd.mlir)")
    ap.add_argument("--only", help="run one rule (%s)" % ", ".join(RULES))
    args = ap.parse_args()
    torch = kiln_io.import_torch()
    if torch is None:
        return kiln_io.SKIP
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 20), torch.nn.ReLU(), torch.nn.Linear(20, 1))
    init = {k: v.detach().clone() for k, v in net.state_dict().items()}
    x = torch.unsqueeze(torch.linspace(-1, 1, 1000), dim=1)
    y = x.pow(2) + 0.1 * torch.normal(torch.zeros(*x.size()))

    tmp = tempfile.mkdtemp(prefix="kiln-optimizers-")
    init_path, data_path = os.path.join(tmp, "init.safetensors"), os.path.join(tmp, "data.safetensors")
    kiln_io.write_safetensors(init_path, init)
    kiln_io.write_safetensors(data_path, {"x": x, "y": y})

    failures = 0
    for name, (kiln_name, options, make) in RULES.items():
        if args.only and name != args.only:
            continue
        exe, metrics = os.path.join(tmp, name), os.path.join(tmp, name + ".jsonl")
        cmd = [args.kiln, "compile", args.model, "-o", exe, "--optimizer=" + kiln_name]
        if options:
            cmd.append("--optimizer-option=" + options)
        subprocess.run(cmd, check=True)
        run = [exe, "--init", init_path, "--data", data_path, "--metrics", metrics, "--steps",
               str(STEPS), "--lr", str(LR), "--shuffle", "off", "--output", "none", "--quiet"]
        proc = subprocess.run(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        if proc.returncode != 0:
            print("FAIL %s: %s exited %d: %s" % (name, exe, proc.returncode, proc.stderr.strip()))
            failures += 1
            continue
        records, _, problems = kiln_io.read_metrics(metrics)
        kiln = [float(r["loss"]) for r in records]
        ref = torch_losses(torch, init, x, y, make)
        more, worst, at = kiln_io.compare_losses(kiln, ref, REL_TOL)
        problems += more
        status = "FAIL" if problems else "ok"
        print("%-26s %s  worst relative difference %.2e at step %d; final loss kiln %.6g, torch %.6g"
              % (name, status, worst, at + 1, kiln[-1] if kiln else float("nan"), ref[-1]))
        for p in problems[:5]:
            print("    " + p)
        failures += bool(problems)
    print("%d passed, %d failed" % (len(RULES) - failures if not args.only else 1 - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
