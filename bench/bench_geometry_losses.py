#!/usr/bin/env python3
"""Geometry-aware training and the model table: how chemically valid are the
decoded structures?

Trains on one dataset with several settings (loss terms, models, trainers;
same seed, epochs and batch size) and measures, for the best checkpoint of
each:

  - the validation RMSD (Å) and the validation reconstructions' bonds against
    the force field's lengths (RMS deviation, % off by > 0.1 Å), from log.jsonl;
  - every reconstruction (`generate --reconstruct`) and a 12-step straight
    latent path between the first and last frame (`generate --interpolate`),
    scored with `molearn score`: bond RMS deviation, stretched bonds,
    mirrored (D) residues, Ramachandran-favoured fraction;
  - the same for the training frames themselves: the reference.

    OMP_WAIT_POLICY=passive python3 bench/bench_geometry_losses.py DATASET.mlds \\
        [--epochs 24] [--batch-size 16] [--seeds 1] [--threads 2] \\
        --frames TRAJ [--top TOP] [--atoms N,CA,CB,C,O] \\
        [--config "mse:" --config "local10:--local-weight 10" ...]

The model table: --config "foldingnet:--model foldingnet"
--config "small-foldingnet:--model small-foldingnet" --config "conv1d:--model conv1d"
--config "foldingnet, Sinkhorn trainer:--trainer sinkhorn".

--frames/--top/--atoms name the trajectory the dataset was prepared from, as
the reference (the dataset's own frames in Å).

Prints a Markdown table; bench/README.md keeps the measured ones.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MOLEARN = os.environ.get("MOLEARN_BIN", os.path.join(HERE, "..", "build", "molearn"))

DEFAULT_CONFIGS = [
    "mse only:--local-weight 0",
    "local 10:--local-weight 10",
    "local 10 from epoch 8:--local-weight 10 --geometry-start 8",
    "bonded 10:--local-weight 0 --bonded-weight 10",
]


def molearn(*args):
    done = subprocess.run([MOLEARN, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"molearn {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def summary(path, metrics, top=None, atoms=None):
    args = ["score", path, "--metrics", metrics, "--json", "--threads", "2"]
    if top:
        args += ["--top", top]
    if atoms:
        args += ["--atoms", atoms]
    doc = json.loads(molearn(*args))
    return {name: column["mean"] for name, column in doc["summary"].items()}


def structure_row(path, top=None, atoms=None):
    s = summary(path, "geometry,rama", top, atoms)
    return {"bonds": s["bond_rms_deviation"], "stretched": s["stretched_bonds"], "d": s["d_residues"],
            "rama": 100 * s["rama_favoured_fraction"]}


def best_record(log_path):
    with open(log_path) as f:
        log = [json.loads(line) for line in f if line.strip()]
    best = [r for r in log if r["improved"]][-1]
    # Training speed: the median epoch, so that a first epoch's set-up does not count.
    speeds = sorted(r["frames_per_second"] for r in log)
    return best, sum(r["seconds"] for r in log), speeds[len(speeds) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset")
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--config", action="append", help="'label:extra train options'")
    parser.add_argument("--frames", required=True, help="the trajectory the dataset was prepared from")
    parser.add_argument("--top", help="its topology (DCD, XTC)")
    parser.add_argument("--atoms", default="N,CA,CB,C,O", help="the dataset's atom selection")
    args = parser.parse_args()
    configs = [c.split(":", 1) for c in (args.config or DEFAULT_CONFIGS)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        info = json.loads(molearn("info", args.dataset, "--json"))
        last = info["frames"] - 1
        reference = structure_row(args.frames, args.top, args.atoms)
        print(f"training frames: {reference}", flush=True)
        for label, extra in configs:
            for seed in range(1, args.seeds + 1):
                out = os.path.join(tmp, f"run-{len(rows)}")
                molearn("train", args.dataset, "-o", out, "--epochs", str(args.epochs), "--batch-size",
                        str(args.batch_size), "--seed", str(seed), "--threads", str(args.threads), "--patience", "0",
                        *extra.split())
                best, seconds, speed = best_record(os.path.join(out, "log.jsonl"))
                ckpt = os.path.join(out, "best.ckpt")
                recon, path = os.path.join(tmp, "recon.pdb"), os.path.join(tmp, "path.pdb")
                molearn("generate", ckpt, "--reconstruct", "-o", recon)
                molearn("generate", ckpt, "--interpolate", f"0,{last}", "--steps", "12", "-o", path)
                row = {"label": label, "seed": seed, "epoch": best["epoch"], "valid_rmsd": best.get("valid_rmsd"),
                       "valid_bonds": best.get("valid_bond_rmsd"), "valid_off": best.get("valid_stretched_bonds"),
                       "recon": structure_row(recon), "path": structure_row(path), "seconds": seconds,
                       "frames_per_second": speed}
                rows.append(row)
                print(json.dumps(row), flush=True)

    def f(v, digits=3):
        return "–" if v is None else f"{v:.{digits}f}"

    print(f"\n{os.path.basename(args.dataset)}, {args.epochs} epochs, batch {args.batch_size}, "
          f"{args.threads} threads; training frames: bonds {f(reference['bonds'])} Å, "
          f"{f(reference['stretched'], 1)} stretched, {f(reference['d'], 1)} D residues, "
          f"Ramachandran-favoured {f(reference['rama'], 1)} %\n")
    print("| losses | seed | best epoch | valid RMSD (Å) | valid bonds RMS (Å) | valid bonds off > 0.1 Å (%) "
          "| reconstructions: D residues | path: bonds RMS (Å) | path: D residues | path: Rama-favoured (%) "
          "| training time (s) | frames/s |")
    print("|" + "---|" * 12)
    for r in rows:
        print(f"| {r['label']} | {r['seed']} | {r['epoch']} | {f(r['valid_rmsd'])} | {f(r['valid_bonds'])} "
              f"| {f(r['valid_off'], 1)} | {f(r['recon']['d'], 1)} | {f(r['path']['bonds'])} | {f(r['path']['d'], 1)} "
              f"| {f(r['path']['rama'], 1)} | {r['seconds']:.0f} | {r['frames_per_second']:.1f} |")


if __name__ == "__main__":
    main()
