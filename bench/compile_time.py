#!/usr/bin/env python3
"""Compile time against model size: chains of N elementwise adds, fused, compiled to binaries.

Fusion caps what one kernel inlines (passes/Fuse.cpp, kMaxKernelOps), so compile time should
grow about linearly with the chain; one giant fused kernel grew with its cube (1,000 adds took
113 s). Each size is compiled --repeats times and the median reported, with the time per op.
The run fails (exit 1) when the largest chain takes longer than --bound seconds.

Run:  python3 bench/compile_time.py --kiln build/bin/kiln [--sizes 250,1000,3000,10000] [--bound 60]
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def chain(n):
    """A model whose loss sums x + w + w + ... (n adds) over an 8x16 tensor."""
    t = "tensor<8x16xf32>"
    lines = ['module attributes {kiln.model = "chain", kiln.optimizer = {name = "sgd"}, '
             'kiln.train = {dataset = "", steps = 1, lr = 0.1}} {',
             '  func.func @forward(%%x: %s {kiln.input = "x"}, %%w: %s {kiln.param = "w", kiln.fan_in = 16 : i64})'
             ' -> (tensor<f32> {kiln.output = "loss"}) {' % (t, t),
             '    %%v0 = kiln.add %%x, %%w : (%s, %s) -> %s' % (t, t, t)]
    for i in range(1, n):
        lines.append('    %%v%d = kiln.add %%v%d, %%w : (%s, %s) -> %s' % (i, i - 1, t, t, t))
    lines += ['    %%l = kiln.reduce_sum %%v%d {dimensions = array<i64: 0, 1>} : (%s) -> tensor<f32>' % (n - 1, t),
              '    return %l : tensor<f32>', '  }', '}']
    return "\n".join(lines) + "\n"


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--sizes", default="250,1000,3000,10000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bound", type=float, default=60.0, help="seconds the largest chain may take")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("kiln compile of a chain of N adds to a binary: %s, %d CPUs, median of %d compiles"
          % (cpu(), os.cpu_count(), args.repeats))
    print("%8s %10s %12s" % ("N", "seconds", "ms per op"))
    with tempfile.TemporaryDirectory() as work:
        seconds = {}
        for n in sizes:
            model = os.path.join(work, "chain_%d.mlir" % n)
            with open(model, "w") as f:
                f.write(chain(n))
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                subprocess.run([args.kiln, "compile", model, "-o", os.path.join(work, "chain")], check=True)
                times.append(time.perf_counter() - start)
            seconds[n] = statistics.median(times)
            print("%8d %10.2f %12.3f" % (n, seconds[n], 1000 * seconds[n] / n))
    largest = max(sizes)
    if seconds[largest] > args.bound:
        print("FAIL: %d adds took %.1f s, over the bound of %.0f s" % (largest, seconds[largest], args.bound))
        return 1
    print("%d adds compile in %.1f s, within the bound of %.0f s" % (largest, seconds[largest], args.bound))
    return 0


if __name__ == "__main__":
    sys.exit(main())
