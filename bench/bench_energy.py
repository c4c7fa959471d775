#!/usr/bin/env python3
"""`molearn energy` on 128 MurD frames against Python molearn's way of scoring
them: a Python loop over one OpenMM Context, structure by structure.

Both sides are timed as whole processes (start-up, reading, force field and
every frame), on the same frames (MurD_test.dcd tiled to 128 frames, atoms
N, CA, CB, C, O, soft-core non-bonded), and the Python loop evaluates the very
System molearn builds (`molearn physics system`), so the energies must agree.

Usage: /usr/bin/python3 bench/bench_energy.py [--build build] [--data ../shared/data] [--frames 128] [--reps 3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import mdtraj as md
import numpy as np

PYTHON_LOOP = r"""
import sys, time
import mdtraj as md
import openmm as mm
system = mm.XmlSerializer.deserialize(open(sys.argv[1]).read())
trajectory = md.load_dcd(sys.argv[2], top=sys.argv[3])
context = mm.Context(system, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName(sys.argv[4]))
energies = []
for xyz in trajectory.xyz:
    context.setPositions(xyz)
    energies.append(context.getState(getEnergy=True).getPotentialEnergy()._value)
print(" ".join(repr(e) for e in energies))
"""


def timed(command, env=None):
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{proc.stderr}")
    return seconds, proc.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--data", default=os.environ.get("MOLEARN_DATA", "../shared/data"))
    parser.add_argument("--frames", type=int, default=128)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    molearn = os.path.join(args.build, "molearn")
    dcd, top = (os.path.join(args.data, "murd", f) for f in ("MurD_test.dcd", "MurD_test_topo.pdb"))
    for path in (molearn, dcd, top):
        if not os.path.exists(path):
            sys.exit(f"missing: {path}")
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    with tempfile.TemporaryDirectory() as tmp:
        # The frames: N, CA, CB, C, O of MurD, tiled to --frames.
        murd = md.load_dcd(dcd, top=top)
        selected = murd.atom_slice(murd.topology.select("name N or name CA or name CB or name C or name O"))
        frames = md.join([selected] * (args.frames // selected.n_frames + 1))[:args.frames]
        frames_dcd, frames_top = os.path.join(tmp, "frames.dcd"), os.path.join(tmp, "frames.pdb")
        frames.save_dcd(frames_dcd)
        frames[0].save_pdb(frames_top)
        system = os.path.join(tmp, "system.xml")
        mlds = os.path.join(tmp, "murd.mlds")
        subprocess.run([molearn, "prepare", frames_dcd, "--top", frames_top, "-o", mlds], check=True,
                       capture_output=True)
        subprocess.run([molearn, "physics", "system", mlds, "-o", system], check=True, capture_output=True)

        ours_cmd = [molearn, "energy", frames_dcd, "--top", frames_top, "--nonbonded", "soft", "--json",
                    "--threads", str(args.threads)]
        results = {}
        for name, command in [
            ("molearn energy (torch, default)", ours_cmd),
            ("molearn energy --engine openmm", ours_cmd + ["--engine", "openmm"]),
            ("Python loop, one Context, Reference", ["/usr/bin/python3", "-c", PYTHON_LOOP, system, frames_dcd,
                                                     frames_top, "Reference"]),
            ("Python loop, one Context, CPU", ["/usr/bin/python3", "-c", PYTHON_LOOP, system, frames_dcd,
                                               frames_top, "CPU"]),
        ]:
            best, out = min(timed(command, env) for _ in range(args.reps))
            if out.lstrip().startswith("{"):
                energies = [json.loads(line)["total"] for line in out.splitlines()]
            else:
                energies = [float(e) for e in out.split()]
            results[name] = (best, np.array(energies))
        reference = results["Python loop, one Context, Reference"]
        print(f"{args.frames} MurD frames, {selected.n_atoms} atoms (N, CA, CB, C, O), soft core, "
              f"{args.threads} threads; whole processes, best of {args.reps}")
        print(f"{'method':40s} {'seconds':>8s} {'frames/s':>9s} {'vs loop':>8s}  max |dE|/E vs loop")
        for name, (seconds, energies) in results.items():
            error = float(np.max(np.abs(energies - reference[1]) / np.abs(reference[1])))
            print(f"{name:40s} {seconds:8.2f} {args.frames / seconds:9.1f} {reference[0] / seconds:7.2f}x  {error:.1e}")


if __name__ == "__main__":
    main()
