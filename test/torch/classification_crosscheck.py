#!/usr/bin/env python3
"""Lesson 5 (and 6: the same net as nn::Sequential) against PyTorch, step by step.

Linear(2,10) -> ReLU -> Linear(10,2), CrossEntropyLoss on integer labels, SGD lr 0.02, 100
full-batch steps, from PyTorch's initial weights and the tutorial's data (two Gaussian
clusters). Every step's loss must agree within 1e-4 relative, and the final accuracy on the
200 points must equal PyTorch's.

With --batch B it compiles the traced model (--model) with `kiln compile --batch B` instead and
trains mini-batches as PyTorch's DataLoader hands them over: 200 % B rows make a short last
batch, which the binary must train too (its own specialised step); labels are int64 as PyTorch
exports them.

Run:  /usr/bin/python3 test/torch/classification_crosscheck.py --binary build/bin/classification [--sequential]
      /usr/bin/python3 test/torch/classification_crosscheck.py --kiln build/bin/kiln \
          --model build/models/classification.mlir --batch 64
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

STEPS, LR, REL_TOL = 100, 0.02, 1e-4


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", help="the compiled lesson 5 or 6")
    ap.add_argument("--kiln", help="the compiler, with --model and --batch")
    ap.add_argument("--model", help="lesson 5's traced model (.mlir)")
    ap.add_argument("--batch", type=int, default=0, help="compile and train with this batch size")
    ap.add_argument("--sequential", action="store_true",
                    help="parameter names of nn::Sequential (0.*, 2.*) instead of hidden.*, out.*")
    args = ap.parse_args()
    if bool(args.batch) != bool(args.kiln and args.model) or bool(args.batch) == bool(args.binary):
        ap.error("give --binary, or --kiln, --model and --batch")
    torch = kiln_io.import_torch()
    if torch is None:
        return kiln_io.SKIP
    torch.manual_seed(1)
    n_data = torch.ones(100, 2)
    x = torch.cat((torch.normal(2 * n_data, 1), torch.normal(-2 * n_data, 1)), 0).float()
    y = torch.cat((torch.zeros(100), torch.ones(100)), 0).long()
    net = torch.nn.Sequential(torch.nn.Linear(2, 10), torch.nn.ReLU(), torch.nn.Linear(10, 2))
    names = {"0.weight": "hidden.weight", "0.bias": "hidden.bias", "2.weight": "out.weight", "2.bias": "out.bias"}
    init = {(k if args.sequential else names[k]): v.detach().clone() for k, v in net.state_dict().items()}

    tmp = tempfile.mkdtemp(prefix="kiln-classification-")
    init_path, data_path = os.path.join(tmp, "init.safetensors"), os.path.join(tmp, "data.safetensors")
    metrics = os.path.join(tmp, "metrics.jsonl")
    kiln_io.write_safetensors(init_path, init)
    kiln_io.write_safetensors(data_path, {"x": x, "y": y})
    binary = args.binary
    if args.batch:
        binary = os.path.join(tmp, "classification")
        subprocess.run([args.kiln, "compile", args.model, "--batch", str(args.batch), "-o", binary], check=True)
    subprocess.run([binary, "--init", init_path, "--data", data_path, "--metrics", metrics,
                    "--steps", str(STEPS), "--shuffle", "off", "--output", "none", "--quiet"], check=True)
    records, final, problems = kiln_io.read_metrics(metrics)
    kiln = [float(r["loss"]) for r in records]

    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = [(x, y)]
    if args.batch:
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=args.batch)
        batches = list(loader)
        if len(batches[-1][1]) == args.batch:
            problems.append("the data makes no short last batch; the test proves nothing")
    ref = []
    while len(ref) < STEPS:
        for bx, by in batches:
            if len(ref) == STEPS:
                break
            loss = loss_fn(net(bx), by)
            ref.append(loss.item())
            opt.zero_grad()
            loss.backward()
            opt.step()
    accuracy = (net(x).argmax(dim=1) == y).float().mean().item()

    more, worst, at = kiln_io.compare_losses(kiln, ref, REL_TOL)
    problems += more
    kiln_accuracy = final.get("accuracy") if final else None
    if kiln_accuracy is None or abs(kiln_accuracy - accuracy) > 1e-9:
        problems.append("final accuracy: kiln %s, torch %.4f" % (kiln_accuracy, accuracy))
    print("worst relative difference %.2e at step %d; final loss kiln %.6g, torch %.6g; accuracy kiln %s, torch %.4f"
          % (worst, at + 1, kiln[-1] if kiln else float("nan"), ref[-1], kiln_accuracy, accuracy))
    for p in problems[:10]:
        print("FAIL:", p)
    shutil.rmtree(tmp)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
