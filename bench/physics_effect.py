#!/usr/bin/env python3
"""Does the physics loss do what it should? Trains FoldingNet on MurD three
times with the same seed — without physics, with --physics openmm and with
--physics torch — and measures, for each final model, the mean force-field
energy (soft non-bonded, as the loss) of structures decoded along straight
latent paths between training frames, and the validation RMSD.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/physics_effect.py [--build build] [--epochs 20]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def molearn(build, *args):
    proc = subprocess.run([os.path.join(build, "molearn"), *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"molearn {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc.stdout


def interpolation_energy(build, checkpoint, folder, pairs):
    """Mean soft-core energy of the 3 interior points of 5-step paths between frame pairs."""
    energies = []
    for i, j in pairs:
        path = os.path.join(folder, f"path-{i}-{j}.pdb")
        molearn(build, "generate", checkpoint, "--interpolate", f"{i},{j}", "--steps", 5, "-o", path)
        out = molearn(build, "energy", path, "--atoms", "N,CA,CB,C,O", "--nonbonded", "soft", "--json", "--termini", "chains")
        totals = [json.loads(line)["total"] for line in out.splitlines() if line.startswith("{")]
        energies += totals[1:-1]
    return sum(energies) / len(energies)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--data", default=os.environ.get("MOLEARN_DATA", os.path.join(HERE, "..", "..", "shared",
                                                                                        "data")))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--physics-start", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    murd = os.path.join(args.data, "murd")
    with tempfile.TemporaryDirectory(prefix="molearn-physics-") as folder:
        data = os.path.join(folder, "murd.mlds")
        molearn(args.build, "prepare", os.path.join(murd, "MurD_test.dcd"), "--top",
                os.path.join(murd, "MurD_test_topo.pdb"), "-o", data)
        pairs = [(0, 5), (3, 12), (7, 15), (1, 10)]
        print(f"MurD, FoldingNet, {args.epochs} epochs, batch {args.batch_size}, physics from epoch "
              f"{args.physics_start}; interpolation energy = mean soft-core energy (kJ/mol) of 3 points on each of "
              f"{len(pairs)} latent paths")
        rows = []
        for engine in ["none", "openmm", "torch"]:
            out = os.path.join(folder, engine)
            molearn(args.build, "train", data, "-o", out, "--epochs", args.epochs, "--batch-size", args.batch_size,
                    "--threads", args.threads, "--seed", 1, "--patience", 0, "--physics", engine,
                    "--physics-start", args.physics_start)
            with open(os.path.join(out, "log.jsonl")) as f:
                log = [json.loads(line) for line in f if line.strip()]
            seconds = sum(r["seconds"] for r in log)
            energy = interpolation_energy(args.build, os.path.join(out, "last.ckpt"), folder, pairs)
            rows.append((engine, log[-1]["valid_rmsd"], energy, seconds))
            print(f"  physics {engine:6s}: valid RMSD {log[-1]['valid_rmsd']:7.3f} A, interpolation energy "
                  f"{energy:12.1f} kJ/mol, training {seconds:6.1f} s")
            sys.stdout.flush()
        base = rows[0][2]
        for engine, _, energy, _ in rows[1:]:
            print(f"  {engine}: interpolation energy {energy / base:.3f}x the run without physics")


if __name__ == "__main__":
    main()
