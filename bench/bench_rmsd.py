#!/usr/bin/env python3
"""RMSD with superposition: molearn (`molearn score --metrics rmsd:0`, QCP)
against MDTraj's `md.rmsd` (also QCP, SSE, OpenMP) on the same frames: MurD
(3,286 atoms) tiled to --frames frames in a DCD written to a temporary folder.

molearn runs as a whole process (read the DCD, superpose every frame, print
CSV). Its per-frame cost is the slope between runs on N and 4N frames, which
removes process start-up; MDTraj is timed on the loaded trajectory (md.rmsd
alone) and with its load. Best of --reps. Ratios > 1: molearn is faster.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/bench_rmsd.py [--build build] [--frames 2000] [--threads 2]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import mdtraj as md


def best_time(fn, reps):
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--build", default=os.path.join(here, "..", "build"))
    p.add_argument("--data", default=os.environ.get("MOLEARN_DATA", os.path.join(here, "..", "..", "shared", "data")))
    p.add_argument("--frames", type=int, default=2000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    dcd = os.path.join(args.data, "murd", "MurD_test.dcd")
    top = os.path.join(args.data, "murd", "MurD_test_topo.pdb")
    if not os.path.exists(dcd):
        sys.exit(f"MurD data missing: {dcd} (--data or $MOLEARN_DATA)")
    molearn = os.path.join(args.build, "molearn")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="passive")

    base = md.load_dcd(dcd, top=top)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="molearn-bench-rmsd-") as tmp:
        files = {}
        for n in (args.frames, 4 * args.frames):
            # Tiled frames, each slightly perturbed so no two are identical.
            xyz = np.tile(base.xyz, (n // base.n_frames + 1, 1, 1))[:n]
            xyz = xyz + rng.normal(0, 0.005, xyz.shape).astype(np.float32)
            files[n] = os.path.join(tmp, f"murd_{n}.dcd")
            md.Trajectory(xyz, base.topology).save_dcd(files[n])

        def run_molearn(n):
            out = subprocess.run([molearn, "score", files[n], "--top", top, "--metrics", "rmsd:0", "--csv",
                                  "--threads", str(args.threads)], capture_output=True, text=True, env=env)
            if out.returncode != 0:
                sys.exit(out.stderr)
            return out.stdout

        small, large = args.frames, 4 * args.frames
        t_small = best_time(lambda: run_molearn(small), args.reps)
        t_large = best_time(lambda: run_molearn(large), args.reps)
        molearn_fps = (large - small) / max(t_large - t_small, 1e-9)

        traj = md.load_dcd(files[small], top=top)
        t_md = best_time(lambda: md.rmsd(traj, traj, 0, parallel=args.threads > 1), args.reps)
        t_md_load = best_time(lambda: md.rmsd(md.load_dcd(files[small], top=top), traj, 0), args.reps)
        md_fps, md_load_fps = small / t_md, small / t_md_load

        # Same numbers?
        rows = run_molearn(small).splitlines()[1:]
        mine = np.array([float(r.split(",")[2]) for r in rows])
        diff = float(np.abs(mine - md.rmsd(traj, traj, 0) * 10).max())

    print(f"MurD, {base.n_atoms} atoms, {small} and {large} frames, {args.threads} threads, best of {args.reps}")
    print(f"molearn score (read + QCP + CSV, per-frame slope): {molearn_fps:12,.0f} frames/s "
          f"(whole process on {small} frames: {t_small:.3f} s)")
    print(f"md.rmsd on the loaded trajectory:                  {md_fps:12,.0f} frames/s")
    print(f"md.load_dcd + md.rmsd:                             {md_load_fps:12,.0f} frames/s")
    print(f"ratio molearn / md.rmsd: {molearn_fps / md_fps:.2f}x; "
          f"molearn / (md.load_dcd + md.rmsd): {molearn_fps / md_load_fps:.2f}x")
    print(f"max |molearn - md.rmsd| = {diff:.1e} A")


if __name__ == "__main__":
    main()
