#!/usr/bin/env python3
"""Prints each tensor of a safetensors file, "name shape values", one per line, in name order
(standard library only)."""
import json
import struct
import sys

with open(sys.argv[1], "rb") as f:
    data = f.read()
(size,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + size])
for name in sorted(k for k in header if k != "__metadata__"):
    entry = header[name]
    begin, end = entry["data_offsets"]
    chunk = data[8 + size + begin:8 + size + end]
    layout = {"F32": "f", "I32": "i", "I64": "q"}[entry["dtype"]]
    values = struct.unpack("<%d%s" % (len(chunk) // struct.calcsize(layout), layout), chunk)
    print(name, json.dumps(entry["shape"]), " ".join(repr(float(v)) for v in values))
