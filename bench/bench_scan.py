#!/usr/bin/env python3
"""A 64x64 `molearn scan` on MurD (2,145 atoms, N/CA/CB/C/O): the time split
between decoding the grid and computing the landscapes (read from
scan.json's "seconds"; goal: the landscapes cost less than the decoding),
and the peak memory (max RSS of the process) of a 16x16 scan against the
64x64 one (goal: bounded, independent of the grid size: the grid is decoded
in batches of --batch-size structures and only the landscapes, 8 bytes per
point each, grow with it).

With --precisions fp32,bf16 the big grid is scanned once per precision
(`scan --precision`), and the decoding times are compared with the first
one's, in the same run (issue 17's goal: the 64x64 MurD grid decoded in
at most 2 minutes with bf16).

The model is a FoldingNet trained for one epoch on MurD's 16 frames: the
cost of a scan does not depend on how well the model is trained.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/bench_scan.py [--build build] [--grid 64] [--threads 2]
        [--precisions fp32,bf16] [--metrics geometry]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def run_measured(cmd, env):
    """Runs a command; returns (seconds, max RSS in MiB of that process)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{output}")
    return seconds, usage.ru_maxrss / 1024.0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--build", default=os.path.join(here, "..", "build"))
    p.add_argument("--data", default=os.environ.get("MOLEARN_DATA", os.path.join(here, "..", "..", "shared", "data")))
    p.add_argument("--grid", type=int, default=64)
    p.add_argument("--small", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--metrics", default="", help="landscapes (default: every one available)")
    p.add_argument("--precisions", default="fp32", help="scan the big grid in each of these (the first is the "
                   "reference of the decoding-time ratios)")
    args = p.parse_args()
    dcd = os.path.join(args.data, "murd", "MurD_test.dcd")
    top = os.path.join(args.data, "murd", "MurD_test_topo.pdb")
    if not os.path.exists(dcd):
        sys.exit(f"MurD data missing: {dcd} (--data or $MOLEARN_DATA)")
    molearn = os.path.join(args.build, "molearn")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="passive", MOLEARN_DATA=args.data)

    with tempfile.TemporaryDirectory(prefix="molearn-bench-scan-") as tmp:
        data = os.path.join(tmp, "murd.mlds")
        subprocess.run([molearn, "prepare", dcd, "--top", top, "-o", data], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([molearn, "train", data, "-o", os.path.join(tmp, "run"), "--epochs", "1", "--threads",
                        str(args.threads), "--latent", "2"], env=env, check=True, stdout=subprocess.DEVNULL)
        ckpt = os.path.join(tmp, "run", "best.ckpt")
        results = {}
        precisions = args.precisions.split(",")
        runs = [(args.small, precisions[0])] + [(args.grid, precision) for precision in precisions]
        for n, precision in runs:
            out = os.path.join(tmp, f"scan{n}-{precision}")
            cmd = [molearn, "scan", ckpt, "--grid", str(n), "--threads", str(args.threads), "--batch-size",
                   str(args.batch_size), "--precision", precision, "-o", out]
            if args.metrics:
                cmd += ["--metrics", args.metrics]
            seconds, rss = run_measured(cmd, env)
            with open(os.path.join(out, "scan.json")) as f:
                doc = json.load(f)
            results[n, precision] = (seconds, rss, doc)

    seconds, rss, doc = results[args.grid, precisions[0]]
    decode = doc["seconds"]["decode"]
    metric_times = doc["seconds"]["metrics"]
    points = args.grid * args.grid
    print(f"{args.grid}x{args.grid} scan of MurD ({points} points, batch {args.batch_size}, "
          f"{args.threads} threads): {seconds:.1f} s as a whole process")
    print(f"  decoding the grid:      {decode:8.1f} s  ({points / decode:.1f} structures/s)")
    for name, t in metric_times.items():
        print(f"  {name:<22}  {t:8.1f} s  ({t / decode:.2f} x decoding)")
    total_metrics = sum(metric_times.values())
    print(f"  all landscapes / decoding = {total_metrics / decode:.2f} (goal < 1)")
    small_rss = results[args.small, precisions[0]][1]
    print(f"peak memory: {args.small}x{args.small} {small_rss:.0f} MiB, {args.grid}x{args.grid} {rss:.0f} MiB "
          f"(ratio {rss / small_rss:.2f} for {points // (args.small * args.small)}x the points; goal ~1)")
    for note in doc["notes"]:
        print(f"  note: {note}")
    for precision in precisions[1:]:
        other_seconds, _, other = results[args.grid, precision]
        other_decode = other["seconds"]["decode"]
        print(f"--precision {precision}: decoding the grid {other_decode:.1f} s ({points / other_decode:.1f} "
              f"structures/s), {decode / other_decode:.2f}x {precisions[0]}; the whole scan {other_seconds:.1f} s")


if __name__ == "__main__":
    main()
