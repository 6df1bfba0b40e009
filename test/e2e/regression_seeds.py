#!/usr/bin/env python3
"""The regression lesson's final loss over seeds 0-9 lies in PyTorch's range.

PyTorch (shared anchors, same model and hyper-parameters, seeds 0-9): median 0.0057, range
0.0043-0.093, the top being seeds whose ReLUs die and which get stuck predicting the mean
(loss = var(y)). kiln's RNG differs from PyTorch's, so seed k draws other weights and data;
the check is on the distribution:
  - the median of the ten final losses lies inside PyTorch's range and within a factor 2 of
    PyTorch's median;
  - every run lies between the noise floor var(0.2 U[0,1)) = 0.0033 and var(y) of its own data
    (never worse than predicting the mean);
  - at most 3 of 10 runs are stuck (loss above half of var(y)), as "some seeds" are in PyTorch.
usage: regression_seeds.py BINARY
"""
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="kiln-seeds-")
    losses, stuck, ok = [], 0, True
    for seed in range(10):
        predictions = os.path.join(tmp, "p%d.csv" % seed)
        out = subprocess.run([binary, "--seed", str(seed), "--output", "none", "--predictions", predictions],
                             check=True, capture_output=True, text=True).stdout
        match = re.search(r"final loss ([0-9.e+-]+) after 100 steps", out)
        if not match:
            print("no final loss line in:\n" + out)
            return 1
        loss = float(match.group(1))
        with open(predictions) as f:
            ys = [float(row["y"]) for row in csv.DictReader(f)]
        var_y = statistics.pvariance(ys)
        os.remove(predictions)
        losses.append(loss)
        is_stuck = loss > 0.5 * var_y
        stuck += is_stuck
        within = 0.0033 <= loss <= var_y * 1.0001
        ok &= within
        print("seed %d: final loss %.5f, var(y) %.5f%s%s" % (seed, loss, var_y, " (stuck)" if is_stuck else "",
                                                          "" if within else "  OUT OF RANGE"))
    os.rmdir(tmp)
    median = statistics.median(losses)
    print("median %.5f (PyTorch: 0.0057, range 0.0043-0.093); %d of 10 stuck" % (median, stuck))
    ok &= 0.0043 <= median <= 0.093 and 0.0057 / 2 <= median <= 0.0057 * 2 and stuck <= 3
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
