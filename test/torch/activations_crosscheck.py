#!/usr/bin/env python3
"""kiln's activations (composites of primitives) against PyTorch's, values and gradients.

Runs the lesson-3 binary on x = linspace(-5, 5, 200) and on extremes and ties (+-100, +-88,
+-20.5, +-1e-8, 0, 20 = softplus's threshold) and compares relu, sigmoid, tanh, softplus and
their derivatives with torch's float32 results: |kiln - torch| <= 1e-6 + 1e-5 |torch|, and NaN
nowhere.

Run:  /usr/bin/python3 test/torch/activations_crosscheck.py --binary build/bin/activations
Exit: 0 pass, 1 fail, 77 skipped (PyTorch not importable by this interpreter).
"""
import argparse
import csv
import math
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "pylib"))
import kiln_io  # noqa: E402

ATOL, RTOL = 1e-6, 1e-5
EXTREMES = [-100, -88, -20.5, -20, -1e-8, 0, 1e-8, 20, 20.5, 88, 100]


def kiln_values(binary, points, tmp):
    path = os.path.join(tmp, "act.csv")
    subprocess.run([binary, "--output", "none", "--csv", path, "--at", ",".join(repr(p) for p in points)],
                   check=True)
    with open(path) as f:
        return list(csv.DictReader(f))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()
    torch = kiln_io.import_torch()
    if torch is None:
        return kiln_io.SKIP
    functions = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
                 "softplus": torch.nn.functional.softplus}
    points = torch.linspace(-5, 5, 200).tolist() + EXTREMES
    tmp = tempfile.mkdtemp(prefix="kiln-activations-")
    rows = kiln_values(args.binary, points, tmp)
    failures, checked = [], 0
    for name, fn in functions.items():
        x = torch.tensor(points, dtype=torch.float32, requires_grad=True)
        y = fn(x)
        y.sum().backward()
        for i, row in enumerate(rows):
            for kind, ref in (("", y[i].item()), ("d_", x.grad[i].item())):
                got = float(row[kind + name])
                checked += 1
                if math.isnan(got) or abs(got - ref) > ATOL + RTOL * abs(ref):
                    failures.append("%s%s(%r): kiln %.9g, torch %.9g" % (kind, name, points[i], got, ref))
    os.remove(os.path.join(tmp, "act.csv"))
    os.rmdir(tmp)
    for f in failures[:20]:
        print("FAIL:", f)
    print("%d values and gradients compared, %d differ" % (checked, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
