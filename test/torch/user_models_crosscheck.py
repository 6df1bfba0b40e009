#!/usr/bin/env python3
"""Users' models (test/user_models/*.cpp) against PyTorch, step by step.

Each model file is compiled with `kiln compile MODEL.cpp --data DATA`, as a user would, and
trained from PyTorch's own initial weights (its state_dict names, exported as safetensors) on
data with int64 labels, in the order PyTorch's DataLoader hands the batches over (no shuffle,
the short last batch kept). The first 20 losses must agree within 1e-4 relative for the MLP
and the nested model, 1e-3 for the CNN. The MLP's binary then trains on the same data given as
NumPy's .npz (np.savez and np.savez_compressed), as one .npy per input, and as CSV: its losses
must equal those from the safetensors file exactly.

Run:  /usr/bin/python3 test/torch/user_models_crosscheck.py --kiln build/bin/kiln --models test/user_models
Exit: 0 pass, 1 fail, 77 skipped (PyTorch not importable by this interpreter).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "pylib"))
import kiln_io  # noqa: E402

STEPS = 20


def mlp(torch):
    nn = torch.nn
    net = nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 32), nn.Sigmoid(), nn.Linear(32, 32), nn.GELU(),
                        nn.Linear(32, 5))
    x = torch.randn(200, 20)
    y = torch.randint(0, 5, (200,))
    return net, x, y, 32, nn.CrossEntropyLoss(), torch.optim.Adam(net.parameters(), lr=0.01), 1e-4


def cnn(torch):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
            self.conv2 = nn.Conv2d(8, 16, 3, 1, 0, bias=False)
            self.pool = nn.AvgPool2d(2)
            self.out = nn.Linear(16 * 3 * 3, 10)

        def forward(self, x):
            h = self.pool(torch.relu(self.conv1(x)))
            h = self.pool(torch.nn.functional.gelu(self.conv2(h)))
            return self.out(h.flatten(1))

    net = Net()
    x = torch.rand(100, 3, 16, 16)
    y = torch.randint(0, 10, (100,))
    return net, x, y, 16, nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9), 1e-3


def nested(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, i, o):
            super().__init__()
            self.fc = nn.Linear(i, o)
            self.act = nn.LeakyReLU(0.1)

        def forward(self, x):
            return self.act(self.fc(x))

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.f = nn.Sequential(Block(32, 32), Block(32, 32))

        def forward(self, x):
            return x + self.f(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(Block(10, 32), Residual(), Residual())
            self.head = nn.Linear(32, 3)

        def forward(self, x):
            return self.head(self.body(x))

    net = Net()
    x = torch.randn(100, 10)
    y = torch.randn(100, 3)
    return net, x, y, 24, nn.MSELoss(), torch.optim.RMSprop(net.parameters(), lr=0.001), 1e-4


MODELS = {"mlp": mlp, "cnn": cnn, "nested": nested}


def check(torch, name, args, tmp):
    torch.manual_seed(1)
    net, x, y, batch, loss_fn, opt, rel_tol = MODELS[name](torch)
    init, data = os.path.join(tmp, name + ".init.safetensors"), os.path.join(tmp, name + ".data.safetensors")
    binary, metrics = os.path.join(tmp, name), os.path.join(tmp, name + ".jsonl")
    kiln_io.write_safetensors(init, {k: v.detach().clone() for k, v in net.state_dict().items()})
    kiln_io.write_safetensors(data, {"x": x, "y": y})
    subprocess.run([args.kiln, "compile", os.path.join(args.models, name + ".cpp"), "--data", data, "-o", binary],
                   check=True)
    subprocess.run([binary, "--init", init, "--data", data, "--steps", str(STEPS), "--shuffle", "off",
                    "--metrics", metrics, "--quiet"], check=True)
    records, _, problems = kiln_io.read_metrics(metrics)
    kiln = [float(r["loss"]) for r in records]

    batches = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch))
    if len(batches[-1][1]) == batch:
        problems.append("the data makes no short last batch")
    ref = []
    while len(ref) < STEPS:
        for bx, by in batches[: STEPS - len(ref)]:
            loss = loss_fn(net(bx), by)
            ref.append(loss.item())
            opt.zero_grad()
            loss.backward()
            opt.step()
    more, worst, at = kiln_io.compare_losses(kiln, ref, rel_tol)
    problems += more
    if name == "mlp":
        problems += check_formats(binary, init, x, y, kiln, tmp)
    print("%-7s worst relative difference %.2e at step %d (limit %g); last loss kiln %.6g, torch %.6g"
          % (name, worst, at + 1, rel_tol, kiln[-1] if kiln else float("nan"), ref[-1]))
    return ["%s: %s" % (name, p) for p in problems]


def check_formats(binary, init, x, y, expected, tmp):
    """The same data in NumPy's and CSV formats trains exactly as from safetensors."""
    import numpy as np
    xs, ys = x.numpy(), y.numpy()
    base = os.path.join(tmp, "formats")
    np.savez(base + ".npz", x=xs, y=ys)
    np.savez_compressed(base + ".z.npz", x=xs.astype(np.float64), y=ys)
    np.save(base + ".x.npy", xs)
    np.save(base + ".y.npy", ys)
    with open(base + ".csv", "w") as f:
        f.write(",".join(["f%d" % i for i in range(xs.shape[1])] + ["label"]) + "\n")
        for row, label in zip(xs, ys):
            f.write(",".join("%.9g" % v for v in row) + ",%d\n" % label)
    problems = []
    for data in (base + ".npz", base + ".z.npz", "x=%s.x.npy,y=%s.y.npy" % (base, base), base + ".csv"):
        metrics = base + ".jsonl"
        run = subprocess.run([binary, "--init", init, "--data", data, "--steps", str(STEPS), "--shuffle", "off",
                              "--metrics", metrics, "--quiet"], capture_output=True, text=True)
        if run.returncode != 0:
            problems.append("--data %s: exit %d: %s" % (data, run.returncode, run.stderr.strip()))
            continue
        losses = [float(r["loss"]) for r in kiln_io.read_metrics(metrics)[0]]
        if losses != expected:
            problems.append("--data %s: losses differ from the safetensors run: %s vs %s" % (data, losses[:3], expected[:3]))
    print("mlp     the same losses from .npz, compressed .npz (float64), .npy files and CSV" if not problems else "")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiln", required=True, help="the compiler")
    ap.add_argument("--models", required=True, help="the folder of the model files")
    ap.add_argument("names", nargs="*", default=sorted(MODELS))
    args = ap.parse_args()
    torch = kiln_io.import_torch()
    if torch is None:
        return kiln_io.SKIP
    tmp = tempfile.mkdtemp(prefix="kiln-user-models-")
    problems = []
    for name in args.names:
        problems += check(torch, name, args, tmp)
    for p in problems[:20]:
        print("FAIL:", p)
    shutil.rmtree(tmp)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
