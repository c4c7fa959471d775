#!/usr/bin/env python3
"""RMSD with superposition: molearn (`molearn score --metrics rmsd:0`, QCP)
against MDTraj's `md.rmsd` (also QCP, SSE, OpenMP) on the same frames: MurD
(3,286 atoms) tiled to --frames frames in a DCD written to a temporary folder.

Two comparisons, best of --reps, ratios > 1 when molearn is faster:
- the RMSD computation alone: the time `molearn score --json` reports for
  its rmsd metric (frames already in memory, QCP over --threads threads)
  against md.rmsd on the loaded trajectory (which centres, then runs QCP);
- whole pipelines: molearn as a process (read the DCD, superpose, print),
  its per-frame cost taken as the slope between runs on N and 4N frames to
  remove process start-up, against md.load_dcd + md.rmsd.
Also checks the values against a float64 Kabsch (numpy SVD) on a few frames:
both programs are QCP, but MDTraj works in float32.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/bench_rmsd.py [--build build] [--frames 2000] [--threads 2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import mdtraj as md


def kabsch_rmsd(a, b):
    a, b = a - a.mean(0), b - b.mean(0)
    u, s, vt = np.linalg.svd(a.T @ b)
    s[-1] *= np.sign(np.linalg.det(u @ vt))
    return np.sqrt(max(0.0, ((a * a).sum() + (b * b).sum() - 2 * s.sum()) / len(a)))


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

        def run_molearn(n, fmt="--csv"):
            out = subprocess.run([molearn, "score", files[n], "--top", top, "--metrics", "rmsd:0", fmt,
                                  "--threads", str(args.threads)], capture_output=True, text=True, env=env)
            if out.returncode != 0:
                sys.exit(out.stderr)
            return out.stdout

        small, large = args.frames, 4 * args.frames
        t_small = best_time(lambda: run_molearn(small), args.reps)
        t_large = best_time(lambda: run_molearn(large), args.reps)
        molearn_fps = (large - small) / max(t_large - t_small, 1e-9)

        traj = md.load_dcd(files[small], top=top)
        # The RMSD alone, molearn and MDTraj alternating so that both see the
        # same load on a shared machine.
        docs, t_md = [], float("inf")
        for _ in range(args.reps):
            docs.append(json.loads(run_molearn(small, "--json")))
            t_md = min(t_md, best_time(lambda: md.rmsd(traj, traj, 0, parallel=args.threads > 1), 1))
        t_md_load = best_time(lambda: md.rmsd(md.load_dcd(files[small], top=top), traj, 0), args.reps)
        md_fps, md_load_fps = small / t_md, small / t_md_load

        t_compute = min(d["seconds"]["rmsd"] for d in docs)
        compute_fps = small / t_compute

        # Same numbers? Against float64 Kabsch on the first frames.
        mine = np.array([f["rmsd"] for f in docs[0]["frames"]])
        theirs = md.rmsd(traj, traj, 0) * 10
        fresh = md.load_dcd(files[small], top=top).xyz.astype(np.float64) * 10
        exact = np.array([kabsch_rmsd(fresh[k], fresh[0]) for k in range(20)])
        diff_mine, diff_md = float(np.abs(mine[:20] - exact).max()), float(np.abs(theirs[:20] - exact).max())

    print(f"MurD, {base.n_atoms} atoms, {small} and {large} frames, {args.threads} threads, best of {args.reps}")
    print(f"RMSD alone:  molearn {compute_fps:12,.0f} frames/s   md.rmsd {md_fps:12,.0f} frames/s   "
          f"ratio {compute_fps / md_fps:.2f}x")
    print(f"pipelines:   molearn {molearn_fps:12,.0f} frames/s   md.load_dcd + md.rmsd {md_load_fps:12,.0f} frames/s   "
          f"ratio {molearn_fps / md_load_fps:.2f}x   (molearn process on {small} frames: {t_small:.2f} s)")
    print(f"max |RMSD - float64 Kabsch| over 20 frames: molearn {diff_mine:.1e} A, md.rmsd {diff_md:.1e} A")


if __name__ == "__main__":
    main()
