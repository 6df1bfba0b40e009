"""Reading and writing the files kiln binaries exchange: safetensors and JSON-lines metrics.

Standard library only, so that tests and benchmarks need nothing beyond PyTorch itself.
"""
import json
import struct
import sys

SKIP = 77  # the exit code ctest reports as skipped


def import_torch(threads=1):
    """PyTorch with `threads` threads, or None after printing why the test skips."""
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install raising something else
        print("SKIP: PyTorch not importable by %s (%s: %s)" % (sys.executable, type(e).__name__, e))
        return None
    torch.set_num_threads(threads)
    return torch


def write_safetensors(path, tensors):
    """Writes {name: float32, int32 or int64 torch tensor} as safetensors: u64 LE header size, JSON,
    data. int64 stays I64, as PyTorch's labels are."""
    import torch
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.int64:
            blob, dtype = t.numpy().astype("<i8").tobytes(), "I64"
        elif t.dtype == torch.int32:
            blob, dtype = t.numpy().astype("<i4").tobytes(), "I32"
        else:
            blob, dtype = t.to(torch.float32).numpy().astype("<f4").tobytes(), "F32"
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the format pads the header to a multiple of 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    """{name: torch tensor} of a safetensors file's F32, I32 and I64 tensors."""
    import torch
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    start, out = 8 + size, {}
    kinds = {"F32": (torch.float32, "<f4"), "I32": (torch.int32, "<i4"), "I64": (torch.int64, "<i8")}
    import numpy
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, layout = kinds[entry["dtype"]]
        begin, end = entry["data_offsets"]
        values = numpy.frombuffer(data[start + begin:start + end], dtype=layout).copy()
        out[name] = torch.from_numpy(values).to(dtype).reshape(entry["shape"])
    return out


def read_metrics(path):
    """Returns (per-step records, final record or None, problems) from a metrics file."""
    steps, final, problems = [], None, []
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    for i, line in enumerate(lines):
        try:
            rec = json.loads(line)
        except ValueError as e:
            problems.append("metrics line %d is not JSON (%s): %r" % (i + 1, e, line))
            continue
        if rec.get("final"):
            final = rec
            continue
        missing = [k for k in ("step", "loss", "step_ms") if k not in rec]
        if missing:
            problems.append("metrics line %d lacks %s: %r" % (i + 1, ", ".join(missing), line))
            continue
        steps.append(rec)
    return steps, final, problems


def compare_losses(kiln, ref, rel_tol):
    """Returns (problems, worst relative difference, its index), step by step."""
    problems, worst, at = [], -1.0, -1
    if len(kiln) != len(ref):
        problems.append("kiln has %d losses, PyTorch %d" % (len(kiln), len(ref)))
    for t, (k, r) in enumerate(zip(kiln, ref)):
        rel = abs(k - r) / abs(r) if r != 0 else abs(k - r)
        if not (rel <= rel_tol):  # also catches NaN
            problems.append("step %d: kiln %.9g, torch %.9g, relative difference %.3g > %g"
                            % (t + 1, k, r, rel, rel_tol))
        if not rel <= worst:
            worst, at = rel, t
    return problems, worst, at
