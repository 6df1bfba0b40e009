#!/usr/bin/env python3
"""Lesson 10's CNN: final test accuracy over many seeds, kiln and PyTorch, same run.

kiln's random generator is not PyTorch's, so kiln's seed k and PyTorch's seed k draw different
weights and batch orders; what can be compared is the spread over seeds. Each seed trains one
epoch (Adam lr 0.01, batch 50, shuffled) and is measured on all 10,000 test images.

--model cnn_bn trains examples/cnn_bn's model in PyTorch (give --binary build/bin/cnn_bn);
--no-torch measures kiln alone.

Run:  /usr/bin/python3 bench/cnn_accuracy_seeds.py --binary build/bin/cnn [--seeds 1-10] [--threads 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import torch_side

def torch_worker(seed, threads, model):
    import torch
    torch.set_num_threads(threads)
    x, y = torch_side.fashion_mnist(torch, "train")
    tx, ty = torch_side.fashion_mnist(torch, "t10k")
    tx = tx.float() / 255
    torch.manual_seed(seed)
    net, opt, loss_fn = torch_side.tutorial_cnn(torch, model)
    net.train()
    order = torch.randperm(len(y))
    for i in range(0, len(y), 50):
        rows = order[i:i + 50]
        loss = loss_fn(net(x[rows].float() / 255), y[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        accuracy = (net(tx).argmax(1) == ty).float().mean().item()
    print(json.dumps({"accuracy": accuracy}))


def kiln_accuracy(binary, seed, threads, work):
    metrics = os.path.join(work, f"m{seed}.jsonl")
    subprocess.run([binary, "--seed", str(seed), "--threads", str(threads), "--output", "none",
                    "--eval-every", "0", "--quiet", "--metrics", metrics], check=True)
    with open(metrics) as f:
        final = [json.loads(line) for line in f if '"final"' in line][-1]
    return final["test_accuracy"]


def torch_accuracy(seed, threads, model):
    out = subprocess.run([sys.executable, __file__, "--worker", str(seed), "--threads", str(threads),
                          "--model", model],
                         check=True, capture_output=True, text=True, env=torch_side.worker_env()).stdout
    return json.loads(out.strip().splitlines()[-1])["accuracy"]


def summary(name, values):
    text = " ".join(f"{100 * v:.2f}" for v in values)
    print(f"{name:8} mean {100 * statistics.mean(values):.2f}%  stdev {100 * statistics.pstdev(values):.2f}  "
          f"min {100 * min(values):.2f}  max {100 * max(values):.2f}  [{text}]")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="build/bin/cnn")
    parser.add_argument("--seeds", default="1-10", help="first-last")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default="cnn", choices=["cnn", "cnn_bn"])
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        return torch_worker(args.worker, args.threads, args.model)
    first, last = (int(s) for s in args.seeds.split("-"))
    seeds = range(first, last + 1)
    print(f"{args.model} ({args.binary}), one epoch, test accuracy on 10,000 images; seeds {first}-{last}; {args.threads} threads")
    kiln, torch = [], []
    with tempfile.TemporaryDirectory() as work:
        for seed in seeds:
            kiln.append(kiln_accuracy(args.binary, seed, args.threads, work))
            if not args.no_torch:
                torch.append(torch_accuracy(seed, args.threads, args.model))
            print(f"seed {seed:3}: kiln {100 * kiln[-1]:.2f}%" +
                  ("" if args.no_torch else f"  PyTorch {100 * torch[-1]:.2f}%"), flush=True)
    summary("kiln", kiln)
    if torch:
        summary("PyTorch", torch)


if __name__ == "__main__":
    main()
