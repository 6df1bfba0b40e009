#!/usr/bin/env python3
"""Writes small safetensors files for the error tests (standard library only).

usage: make_safetensors.py OUT NAME:D0xD1[:VALUE] [NAME:SHAPE ...] [--truncate N] [--header-length N]
A shape of 'scalar' is rank 0. --truncate keeps only the first N bytes; --header-length writes
N as the header length instead of the real one.
"""
import json
import struct
import sys


def main(argv):
    out, specs, truncate, header_length = None, [], None, None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--truncate":
            truncate = int(argv[i + 1]); i += 2; continue
        if a == "--header-length":
            header_length = int(argv[i + 1]); i += 2; continue
        if out is None:
            out = a
        else:
            specs.append(a)
        i += 1
    header, data = {}, b""
    for spec in specs:
        parts = spec.split(":")
        name, shape = parts[0], [] if parts[1] == "scalar" else [int(d) for d in parts[1].split("x")]
        value = float(parts[2]) if len(parts) > 2 else 0.5
        n = 1
        for d in shape:
            n *= d
        begin = len(data)
        data += struct.pack("<%df" % n, *([value] * n))
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [begin, len(data)]}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    blob = struct.pack("<Q", header_length if header_length is not None else len(text)) + text + data
    if truncate is not None:
        blob = blob[:truncate]
    with open(out, "wb") as f:
        f.write(blob)


if __name__ == "__main__":
    main(sys.argv[1:])
