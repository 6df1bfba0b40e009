#!/usr/bin/env python3
"""Kill -9 during periodic checkpoint writes: the latest checkpoint always resumes.

A training binary writes its checkpoint after every step (--checkpoint-every 1) and is killed
with SIGKILL at a random moment, 30 times. After each kill the checkpoint on disk must be
complete (a --resume from it trains on, from the step it records), and once that resumed run
has written the checkpoint again no temporary file of a killed write is left beside it. The
rounds must include kills that landed inside a write (a temporary file was there), or the test
proved nothing.

Run:  python3 test/e2e/checkpoint_kills.py --binary build/bin/regression --work DIR [--rounds 30]
Exit: 0 pass, 1 fail.
"""
import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time


def step_of(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return int(json.loads(f.read(n))["__metadata__"]["kiln.step"])


def temporaries(work):
    return [f for f in os.listdir(work) if f.startswith("ck.safetensors.tmp.")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    binary, work = os.path.abspath(args.binary), os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    ck = os.path.join(work, "ck.safetensors")
    common = ["--seed", "1", "--output", "none", "--quiet", "--shuffle", "off"]
    rng = random.Random(11)
    problems, mid_write = [], 0
    for r in range(args.rounds):
        p = subprocess.Popen([binary, "--steps", "1000000", "--checkpoint", ck, "--checkpoint-every", "1"] + common,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while not os.path.exists(ck) and time.time() < deadline:
            time.sleep(0.001)
        time.sleep(rng.uniform(0.0, 0.05))
        p.send_signal(signal.SIGKILL)
        p.wait()
        if p.returncode != -signal.SIGKILL:
            problems.append("round %d: the writer ended on its own (%s)" % (r, p.returncode))
            continue
        mid_write += bool(temporaries(work))
        try:
            step = step_of(ck)
        except Exception as e:  # noqa: BLE001 - any failure to read is the finding
            problems.append("round %d: the checkpoint is not complete: %s" % (r, e))
            continue
        resumed = subprocess.run([binary, "--resume", ck, "--steps", str(step + 1), "--checkpoint", ck] + common,
                                 capture_output=True, text=True)
        if resumed.returncode != 0:
            problems.append("round %d: resuming at step %d failed: %s" % (r, step, resumed.stderr.strip()))
        elif step_of(ck) != step + 1:
            problems.append("round %d: the resumed run saved step %d, not %d" % (r, step_of(ck), step + 1))
        if temporaries(work):
            problems.append("round %d: temporary files survived the next write: %s" % (r, temporaries(work)))
        os.remove(ck)
    if mid_write == 0:
        problems.append("no kill landed inside a checkpoint write, so the test proved nothing")
    print("%d kills during per-step checkpoint writes, %d of them inside a write; every checkpoint resumed"
          % (args.rounds, mid_write))
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
