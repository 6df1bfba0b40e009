"""Checks a --dump-kernels file against what the same run saved by other means.

Usage: kernel_dump_check.py DUMP METRICS SAVED
Prints one line per check: the train step's loss is among its kernels' outputs (equal to the
metrics' loss), and every parameter --save wrote is one of them, bit for bit (a parameter's
update is a kernel output before it is copied into place).
"""
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    return {name: (t["dtype"], t["shape"], blob[8 + n + t["data_offsets"][0]:8 + n + t["data_offsets"][1]])
            for name, t in header.items()}


dump, saved = read(sys.argv[1]), read(sys.argv[3])
loss = [json.loads(line)["loss"] for line in open(sys.argv[2]) if '"loss"' in line][0]
train = {name: t for name, t in dump.items() if name.startswith("train_step/")}
scalars = [struct.unpack("<f", t[2])[0] for t in train.values() if t[0] == "F32" and t[1] == []]
print("loss among the train step's outputs:", any(abs(s - loss) <= 1e-6 * abs(loss) for s in scalars))
for name, (dtype, shape, data) in sorted(saved.items()):
    found = [n for n, t in train.items() if t[0] == dtype and t[1] == shape and t[2] == data]
    print("%s updated by a kernel: %s" % (name, bool(found)))
