#!/usr/bin/env python3
"""Does the physics loss do what it should? Trains FoldingNet on MurD three
times per seed — without physics, with --physics openmm and with --physics
torch — and measures, for each final model, the mean force-field energy
(soft non-bonded, as the loss) of structures decoded along straight latent
paths between training frames, and how well it reconstructs the frames.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/physics_effect.py [--build build] [--epochs 20] [--seeds 1,2]
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
    """Mean energy of the 3 interior points of 5-step paths between frame pairs.
    The paths are written as DCD (float32): in a PDB's 0.001 A a collapsed
    peptide bond of a poorly trained model can round to two coincident atoms,
    whose angle energy OpenMM computes as NaN."""
    topology = os.path.join(folder, "topology.pdb")
    molearn(build, "generate", checkpoint, "--latent", "0,0", "-o", topology)  # trained with --latent 2
    energies = []
    for i, j in pairs:
        path = os.path.join(folder, f"path-{i}-{j}.dcd")
        molearn(build, "generate", checkpoint, "--interpolate", f"{i},{j}", "--steps", 5, "-o", path)
        out = molearn(build, "energy", path, "--top", topology, "--atoms", "N,CA,CB,C,O", "--nonbonded", "soft",
                      "--json", "--termini", "chains")
        totals = [json.loads(line)["total"] for line in out.splitlines() if line.startswith("{")]
        if None in totals[1:-1]:
            sys.exit(f"{checkpoint}: a structure on the path {i}-{j} has a non-finite energy")
        energies += totals[1:-1]
    return sum(energies) / len(energies)


def reconstruction_rmsd(build, checkpoint, folder):
    """Mean RMSD (A) of every dataset frame to its reconstruction: the training
    frames and the one validation frame, so one unlucky frame does not decide."""
    out = molearn(build, "generate", checkpoint, "--reconstruct", "-o", os.path.join(folder, "reconstructed.dcd"))
    summary = [line for line in out.splitlines() if line.startswith("reconstruction RMSD over")][0]
    return float(summary.split("mean ")[1].split()[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--data", default=os.environ.get("MOLEARN_DATA", os.path.join(HERE, "..", "..", "shared",
                                                                                        "data")))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--physics-start", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", default="1,2", help="training seeds; the table gives the mean over them")
    args = parser.parse_args()
    if args.epochs < args.physics_start:
        sys.exit("--epochs must reach --physics-start, or physics never enters the loss")
    seeds = [int(s) for s in args.seeds.split(",")]
    murd = os.path.join(args.data, "murd")
    if not os.path.isdir(murd):
        sys.exit(f"MurD data not found in {murd} (set MOLEARN_DATA or --data)")
    with tempfile.TemporaryDirectory(prefix="molearn-physics-") as folder:
        data = os.path.join(folder, "murd.mlds")
        molearn(args.build, "prepare", os.path.join(murd, "MurD_test.dcd"), "--top",
                os.path.join(murd, "MurD_test_topo.pdb"), "-o", data)
        info = json.loads(molearn(args.build, "info", data, "--json"))
        training_frames = info["train_frames"]
        pairs = [(0, 5), (3, 12), (7, 15), (1, 10)]
        out = molearn(args.build, "energy", os.path.join(murd, "MurD_test.dcd"), "--top",
                      os.path.join(murd, "MurD_test_topo.pdb"), "--atoms", "N,CA,CB,C,O", "--nonbonded", "soft",
                      "--json", "--termini", "chains")
        frames = [json.loads(line)["total"] for line in out.splitlines() if line.startswith("{")]
        print(f"MurD, FoldingNet, {args.epochs} epochs, batch {args.batch_size}, physics from epoch "
              f"{args.physics_start}, seeds {seeds}; interpolation energy = mean energy (bonded + soft core, kJ/mol) "
              f"of 3 points on each of {len(pairs)} latent paths; RMSD = mean over all {info['frames']} frames of frame vs "
              f"its reconstruction. The MD frames themselves: {sum(frames) / len(frames):.1f} kJ/mol")
        results = {}
        for seed in seeds:
            for engine in ["none", "openmm", "torch"]:
                out = os.path.join(folder, f"{engine}-{seed}")
                molearn(args.build, "train", data, "-o", out, "--epochs", args.epochs, "--batch-size",
                        args.batch_size, "--threads", args.threads, "--seed", seed, "--patience", 0, "--latent", 2,
                        "--physics", engine, "--physics-start", args.physics_start)
                with open(os.path.join(out, "log.jsonl")) as f:
                    log = [json.loads(line) for line in f if line.strip()]
                seconds = sum(r["seconds"] for r in log)
                # One optimiser step, once physics is in the loss (epochs from --physics-start on).
                steps_per_epoch = -(-training_frames // args.batch_size)
                physics_epochs = [r["seconds"] for r in log if r["epoch"] >= args.physics_start]
                step_ms = 1000 * sum(physics_epochs) / len(physics_epochs) / steps_per_epoch
                checkpoint = os.path.join(out, "last.ckpt")
                energy = interpolation_energy(args.build, checkpoint, folder, pairs)
                rmsd = reconstruction_rmsd(args.build, checkpoint, folder)
                results.setdefault(engine, []).append((rmsd, energy, step_ms))
                print(f"  seed {seed} physics {engine:6s}: reconstruction RMSD {rmsd:7.3f} A, interpolation energy "
                      f"{energy:12.1f} kJ/mol, training {seconds:6.1f} s, {step_ms:6.0f} ms per step")
                sys.stdout.flush()
        print()
        print("| run | reconstruction RMSD (A) | interpolation energy (kJ/mol) | vs no physics | ms per step | "
              "step vs no physics |")
        print("| --- | --- | --- | --- | --- | --- |")
        mean = {engine: [sum(column) / len(rows) for column in zip(*rows)] for engine, rows in results.items()}
        for engine, (rmsd, energy, step_ms) in mean.items():
            print(f"| {engine} | {rmsd:.2f} | {energy:,.0f} | {energy / mean['none'][1]:.3f} | {step_ms:.0f} | "
                  f"{step_ms / mean['none'][2]:.2f}x |")


if __name__ == "__main__":
    main()
