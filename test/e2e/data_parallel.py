#!/usr/bin/env python3
"""Data-parallel training on 2 MPI ranks (kiln compile --ranks 2), against one process.

- Lesson 4 (full batch 100), lesson 9's SGD (1000 rows in batches of 32: its 40 steps include the
  short last batch of 8, 4 per rank) and lesson 10 (batch 50, shuffled): `mpirun -np 2` of the ranks-2
  build gives the single-process losses (1e-5 relative over all of lesson 4's steps, 1e-4 over
  the CNN's first 20), the same final evaluation, and the same parameters on both ranks (each
  rank prints its own hash); the CNN's evaluation split between the ranks gives the loss and
  accuracy one process computes from the same parameters.
- A model whose loss sums over the rows (test/emit/inputs/tiny.mlir with reduce_sum) matches
  one process as well: the ranks add up their shares whichever way the loss reduces the batch;
  so does one with a term of the parameters alone (test/emit/inputs/penalty.mlir), counted
  once over all ranks.
- Lesson 9 with Adam (shuffled, 1000 rows: a short last batch of 8, 4 per rank) and lesson 10: a
  2-rank run checkpointed half way and resumed ends bit-identical to an uninterrupted 2-rank run.
- A rank killed (SIGKILL) or stopped (SIGSTOP, with --comm-timeout 3) makes the run end, with a
  message, within a bounded time; never a hang.
- A ranks-2 binary without mpirun, or with 3 processes, and a one-process binary under
  `mpirun -np 2` are refused with a message naming the numbers.

usage: data_parallel.py --kiln KILN --models DIR --bin DIR --work DIR
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root"]
failures = []


def check(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def losses(path):
    steps = {}
    for line in open(path):
        record = json.loads(line)
        if "loss" in record and "epoch" in record:
            steps[record["step"]] = record["loss"]
    return [steps[s] for s in sorted(steps)]


def hashes(output):
    return dict(re.findall(r"rank (\d+) parameter hash ([0-9a-f]+)", output))


def compile_ranks(args, model, out, *flags):
    source = model + ".mlir" if os.path.exists(model + ".mlir") else os.path.join(args.models, model + ".mlir")
    r = run([args.kiln, "compile", source, "--ranks", "2", "-o", out, *flags])
    if r.returncode != 0:
        sys.exit(f"kiln compile {model} --ranks 2 failed:\n{r.stderr}")
    return out


def same_losses(args, name, single, ranks2, flags, tolerance, first=None):
    one = run([single, *flags, "--metrics", f"{name}1.jsonl", "--print-param-hash"])
    two = run(MPIRUN + ["-np", "2", ranks2, *flags, "--metrics", f"{name}2.jsonl", "--print-param-hash"])
    if one.returncode != 0 or two.returncode != 0:
        check(False, f"{name}: both runs succeed\n{one.stderr}\n{two.stdout}\n{two.stderr}")
        return
    a, b = losses(f"{name}1.jsonl"), losses(f"{name}2.jsonl")
    n = first or len(a)
    worst = max(abs(x - y) / max(abs(x), 1e-30) for x, y in zip(a[:n], b[:n]))
    check(len(a) == len(b) and len(a) >= n,
          f"{name}: the 2-rank run logs the same {len(a)} steps as one process (got {len(b)})")
    check(worst <= tolerance, f"{name}: losses of the first {n} steps within {tolerance:g} relative "
                              f"(worst {worst:.2e})")
    h = hashes(two.stdout)
    check(len(h) == 2 and len(set(h.values())) == 1, f"{name}: both ranks hold the same parameters ({h})")
    final = lambda out: re.findall(r"^(final test accuracy .*|full-data loss .*)$", out, re.M)
    check(final(one.stdout) == final(two.stdout) or name == "cnn",
          f"{name}: the final evaluation matches ({final(one.stdout)} vs {final(two.stdout)})")
    if name == "cnn":
        acc = lambda out: re.findall(r"final test accuracy (\S+)", out)
        check(len(acc(two.stdout)) == 1, f"cnn: the split evaluation reports one accuracy ({acc(two.stdout)})")


def split_evaluation(args, single, cnn2):
    """The ranks' split evaluation gives what one process gives on the same parameters."""
    two = run(MPIRUN + ["-np", "2", cnn2, "--steps", "30", "--eval-every", "0", "--output", "none",
                        "--save", "cnn2.safetensors"])
    one = run([single, "--init", "cnn2.safetensors", "--steps", "0", "--output", "none"])
    final = lambda out: re.findall(r"^final test (?:loss|accuracy) .*$", out, re.M)
    check(two.returncode == 0 and one.returncode == 0 and len(final(two.stdout)) == 2 and
          final(two.stdout) == final(one.stdout),
          f"cnn: the 2-rank evaluation equals one process's on the same parameters "
          f"({final(two.stdout)} vs {final(one.stdout)})")


def resume(name, binary, steps, *extra):
    flags = ["--seed", "3", "--output", "none", "--quiet", "--print-param-hash", *extra]
    whole = run(MPIRUN + ["-np", "2", binary, *flags, "--steps", str(steps), "--save", f"{name}_whole.safetensors"])
    half = run(MPIRUN + ["-np", "2", binary, *flags, "--steps", str(steps // 2), "--checkpoint", f"{name}_half.ckpt"])
    rest = run(MPIRUN + ["-np", "2", binary, *flags, "--steps", str(steps), "--resume", f"{name}_half.ckpt",
                         "--save", f"{name}_resumed.safetensors"])
    ok = all(r.returncode == 0 for r in (whole, half, rest))
    check(ok, f"{name}, 2 ranks: the whole, first-half and resumed runs succeed" +
          ("" if ok else f"\n{whole.stderr}{half.stderr}{rest.stderr}"))
    if ok:
        same = open(f"{name}_whole.safetensors", "rb").read() == open(f"{name}_resumed.safetensors", "rb").read()
        check(same, f"{name}, 2 ranks: {steps // 2} steps + resume + {steps - steps // 2} gives the parameters of "
                    f"{steps} steps, bit for bit")
        check(hashes(whole.stdout) == hashes(rest.stdout) and len(hashes(rest.stdout)) == 2,
              f"{name}, 2 ranks: both ranks' hashes agree between the two runs ({hashes(rest.stdout)})")


def rank_pid(binary, rank, deadline):
    """The pid of `binary`'s process of MPI rank `rank`, read from the processes' environments."""
    while time.time() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.path.realpath(f"/proc/{pid}/exe") != os.path.realpath(binary):
                    continue
                env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            except OSError:
                continue
            if f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
                return int(pid)
        time.sleep(0.1)
    return None


def dead_rank(args, reg2, sig, extra, expect):
    cmd = MPIRUN + ["-np", "2", reg2, "--steps", str(2**40), "--output", "none", "--quiet", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pid = rank_pid(reg2, 1, time.time() + 30)
    if pid is None:
        proc.kill()
        check(False, f"{sig.name}: found rank 1's process")
        return
    time.sleep(1)
    os.kill(pid, sig)
    start = time.time()
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        os.kill(pid, signal.SIGKILL)
        check(False, f"{sig.name} of rank 1: the run ends within 60 s (it hung)")
        return
    took = time.time() - start
    if sig == signal.SIGSTOP:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    check(proc.returncode != 0, f"{sig.name} of rank 1: mpirun exits non-zero ({proc.returncode})")
    check(re.search(expect, out) is not None, f"{sig.name} of rank 1: the message says so ({expect!r} in:\n{out})")
    print(f"  ended {took:.1f} s after the signal")


def refusals(args, reg1, reg2):
    alone = run([reg2, "--steps", "1"])
    check(alone.returncode == 1 and "compiled for 2 ranks" in alone.stderr and "mpirun -np 2" in alone.stderr,
          f"a ranks-2 binary without mpirun is refused: {alone.stderr.strip()}")
    three = run(MPIRUN + ["-np", "3", reg2, "--steps", "1"])
    check(three.returncode != 0 and "started as 3 processes" in three.stdout + three.stderr,
          "a ranks-2 binary on 3 processes is refused")
    single = run(MPIRUN + ["-np", "2", reg1, "--steps", "1"])
    check(single.returncode != 0 and "kiln compile --ranks 2" in single.stdout + single.stderr,
          "a one-process binary under mpirun -np 2 is refused")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", required=True)
    p.add_argument("--models", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    for name in ("kiln", "models", "bin", "work"):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    os.chdir(args.work)
    os.environ["OMPI_MCA_rmaps_base_oversubscribe"] = "1"

    reg2 = compile_ranks(args, "regression", os.path.abspath("regression2"))
    cnn2 = compile_ranks(args, "cnn", os.path.abspath("cnn2"))
    adam2 = compile_ranks(args, "optimizers_sgd", os.path.abspath("adam2"), "--optimizer=adam",
                          "--optimizer-option=beta1=0.9,beta2=0.99")

    same_losses(args, "regression", os.path.join(args.bin, "regression"), reg2, ["--output", "none"], 1e-5)
    # Lesson 9's SGD on 1000 rows: step 32 is the short last batch of 8, 4 per rank.
    sgd2 = compile_ranks(args, "optimizers_sgd", os.path.abspath("sgd2"))
    same_losses(args, "sgd-tail", os.path.join(args.bin, "optimizers_sgd"), sgd2,
                ["--output", "none", "--steps", "40"], 1e-5)
    same_losses(args, "cnn", os.path.join(args.bin, "cnn"), cnn2,
                ["--steps", "20", "--eval-every", "0", "--output", "none"], 1e-4)
    # A loss that sums over the rows (no mean to divide): the ranks' shares still add up to it.
    tiny = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emit", "inputs", "tiny.mlir")).read()
    with open("tiny_sum.mlir", "w") as f:
        f.write(tiny.replace("kiln.reduce_mean", "kiln.reduce_sum").replace("lr = 0.1", "lr = 0.001"))
    if run([args.kiln, "compile", "tiny_sum.mlir", "-o", "tiny_sum1"]).returncode != 0:
        sys.exit("kiln compile tiny_sum.mlir failed")
    tiny2 = compile_ranks(args, "tiny_sum", os.path.abspath("tiny_sum2"))
    same_losses(args, "sum-loss", os.path.abspath("tiny_sum1"), tiny2, ["--output", "none"], 1e-5)
    # A term of the parameters alone (a penalty) counts once over all ranks.
    penalty = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emit", "inputs", "penalty.mlir")
    shutil.copy(penalty, "penalty.mlir")
    if run([args.kiln, "compile", "penalty.mlir", "-o", "penalty1"]).returncode != 0:
        sys.exit("kiln compile penalty.mlir failed")
    penalty2 = compile_ranks(args, "penalty", os.path.abspath("penalty2"))
    same_losses(args, "penalty", os.path.abspath("penalty1"), penalty2, ["--output", "none", "--steps", "20"], 1e-5)
    split_evaluation(args, os.path.join(args.bin, "cnn"), cnn2)
    resume("adam", adam2, 80)
    resume("cnn", cnn2, 60, "--eval-every", "0")
    dead_rank(args, reg2, signal.SIGKILL, [], r"(exited on signal 9|Killed|killed)")
    dead_rank(args, reg2, signal.SIGSTOP, ["--comm-timeout", "3"], r"rank 0: error: .* has waited 3 s for the other ranks")
    refusals(args, os.path.join(args.bin, "regression"), reg2)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


if __name__ == "__main__":
    main()
