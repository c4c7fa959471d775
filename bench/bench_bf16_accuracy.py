#!/usr/bin/env python3
"""Is bf16 training as accurate as fp32? (issue 17's accuracy study)

For each dataset, seed and precision (fp32, bf16) it trains FoldingNet twice
with the same options:

  - "plain": the physics energy only logged (--physics-start past the last
    epoch: the energy is computed in eval mode and does not touch the run);
    gives the best validation RMSD and the interpolation energy without the
    physics loss;
  - "physics": the physics loss from --physics-start on; gives the
    interpolation energy with it.

The interpolation energy is the log's valid_energy: the mean force-field
energy (kJ/mol) of structures decoded at 1/4, 1/2 and 3/4 between
consecutive validation frames, always in fp32 and eval mode, so both
precisions are measured the same way. It is averaged over the last
--energy-epochs epochs of each run (all after --physics-start): from one
epoch to the next it moves by +-20 % on 2MI7, so its value at the best
epoch alone (also printed) says more about the epoch than about the physics
loss. The physics-loss effect is E(physics) / E(plain) - 1.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/bench_bf16_accuracy.py \\
        [--datasets 2mi7,murd] [--epochs 100] [--seeds 1,2,3] [--physics-start 50] [--physics-scale 0.1]

Seeds can run in parallel (one process per seed, --threads 1 each); then
--summarise OUTPUT... prints the table of all their runs (a run listed in a
later output replaces the same dataset, seed and precision of an earlier one:
--precisions bf16 measures a change to bf16 training against earlier fp32 runs).

It prints one line per run as it goes and a Markdown table at the end
(bench/README.md keeps the measured one). The goal: the mean best
validation RMSD under bf16 within 5 % of fp32 (or better), and the physics
effect of the same sign and within 10 % of fp32's.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MOLEARN = os.environ.get("MOLEARN_BIN", os.path.join(ROOT, "build", "molearn"))
DATA = os.environ.get("MOLEARN_DATA", os.path.join(ROOT, "..", "shared", "data"))


def molearn(*args):
    done = subprocess.run([MOLEARN, *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"molearn {' '.join(map(str, args))} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def prepare(name, folder):
    out = os.path.join(folder, f"{name}.mlds")
    if name == "2mi7":
        data = os.path.join(ROOT, "examples", "data")
        molearn("prepare", os.path.join(data, "2mi7_heavy.dcd"), "--top", os.path.join(data, "2mi7_heavy_topology.pdb"),
                "-o", out, "--align", "--seed", 1)
    elif name == "murd":
        murd = os.path.join(DATA, "murd")
        if not os.path.isdir(murd):
            sys.exit(f"MurD data not found in {murd} (set MOLEARN_DATA)")
        molearn("prepare", os.path.join(murd, "MurD_test.dcd"), "--top", os.path.join(murd, "MurD_test_topo.pdb"),
                "-o", out, "--seed", 1)
    else:
        sys.exit(f"unknown dataset '{name}' (2mi7, murd)")
    return out


def read_run(run_dir, energy_epochs):
    """The best epoch's record, the mean valid_energy of the last epochs, the run's seconds."""
    with open(os.path.join(run_dir, "log.jsonl")) as f:
        log = [json.loads(line) for line in f if line.strip()]
    last = log[-energy_epochs:]
    return ([r for r in log if r["improved"]][-1], statistics.fmean(r["valid_energy"] for r in last),
            sum(r["seconds"] for r in log))


def train(dataset, run_dir, precision, seed, physics_start, args):
    molearn("train", dataset, "-o", run_dir, "--epochs", args.epochs, "--batch-size", args.batch_size, "--seed", seed,
            "--threads", args.threads, "--patience", 0, "--precision", precision, "--physics", "torch",
            "--physics-start", physics_start, "--physics-scale", args.physics_scale)
    return read_run(run_dir, args.energy_epochs)


def read_rows(outputs):
    """The runs earlier outputs list, by (dataset, seed, precision); a run listed again in a later output replaces
    the earlier one."""
    latest = {}
    for path in outputs:
        with open(path) as f:
            for row in (json.loads(line) for line in f if line.startswith("{")):
                latest[(row["dataset"], row["seed"], row["precision"])] = row
    return latest


def mean(values):
    return statistics.fmean(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="2mi7,murd")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--precisions", default="fp32,bf16",
                        help="train in these (e.g. bf16 alone, to measure a change to bf16 training against fp32 "
                             "runs of an earlier output with --summarise)")
    parser.add_argument("--physics-start", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--physics-scale", type=float, default=0.1,
                        help="train's --physics-scale; the effect is measurable where it is large (1: about -50 %% "
                             "on 2MI7, 0.1: a few %%, within the noise; bench/README.md)")
    parser.add_argument("--energy-epochs", type=int, default=20,
                        help="the interpolation energy is the mean over this many last epochs of a run")
    parser.add_argument("--plain-from", nargs="+", metavar="OUTPUT",
                        help="take the plain runs from these earlier outputs instead of training them again (for a "
                             "change that only touches training with the physics loss: a plain run computes the "
                             "energy in eval mode without gradient, so it does not change)")
    parser.add_argument("--summarise", nargs="+", metavar="OUTPUT",
                        help="print the table of the runs these earlier outputs of this script list (one JSON line "
                             "per run), e.g. of runs split over seeds in parallel; trains nothing")
    args = parser.parse_args()
    if not args.precisions or not set(args.precisions.split(",")) <= {"fp32", "bf16"}:
        sys.exit("--precisions must list fp32 and/or bf16, e.g. fp32,bf16")
    if not 1 <= args.physics_start <= args.epochs:
        sys.exit("--physics-start must be within the epochs")
    if not 1 <= args.energy_epochs <= args.epochs - args.physics_start + 1:
        sys.exit("--energy-epochs must be at least 1 and count only epochs from --physics-start on")
    if args.summarise:
        rows = list(read_rows(args.summarise).values())
        seeds = sorted({r["seed"] for r in rows})
        args.datasets = ",".join(dict.fromkeys(r["dataset"] for r in rows))
        if rows:
            args.energy_epochs, args.physics_scale = rows[0]["energy_epochs"], rows[0]["physics_scale"]
        print_table(rows, seeds, args)
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    plain_runs = read_rows(args.plain_from) if args.plain_from else {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="molearn-bf16-") as tmp:
        for name in args.datasets.split(","):
            dataset = prepare(name, tmp)
            for seed in seeds:
                for precision in args.precisions.split(","):
                    base = os.path.join(tmp, f"{name}-{seed}-{precision}")
                    earlier = plain_runs.get((name, seed, precision))
                    if earlier:
                        if earlier["energy_epochs"] != args.energy_epochs:
                            sys.exit(f"--plain-from: its {name} seed {seed} {precision} run averaged "
                                     f"{earlier['energy_epochs']} epochs, not --energy-epochs {args.energy_epochs}")
                        plain = {"epoch": earlier["best_epoch"], "valid_rmsd": earlier["valid_rmsd"],
                                 "valid_energy": earlier["best_epoch_energy_plain"]}
                        # Outputs before "seconds_plain" only have the sum of both runs: unknown.
                        plain_e, plain_s = earlier["energy_plain"], earlier.get("seconds_plain")
                    else:
                        plain, plain_e, plain_s = train(dataset, base + "-plain", precision, seed, args.epochs + 1,
                                                        args)
                    phys, phys_e, phys_s = train(dataset, base + "-physics", precision, seed, args.physics_start,
                                                 args)
                    row = {"dataset": name, "seed": seed, "precision": precision, "best_epoch": plain["epoch"],
                           "valid_rmsd": plain["valid_rmsd"], "energy_plain": plain_e, "energy_physics": phys_e,
                           "best_epoch_energy_plain": plain["valid_energy"],
                           "best_epoch_energy_physics": phys["valid_energy"], "physics_rmsd": phys["valid_rmsd"],
                           "energy_epochs": args.energy_epochs, "physics_scale": args.physics_scale, "seconds_plain": plain_s,
                           "seconds_physics": phys_s, "seconds": None if plain_s is None else plain_s + phys_s}
                    row["effect"] = row["energy_physics"] / row["energy_plain"] - 1
                    row["best_epoch_effect"] = row["best_epoch_energy_physics"] / row["best_epoch_energy_plain"] - 1
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    print_table(rows, seeds, args)


def print_table(rows, seeds, args):
    print(f"\n{args.epochs} epochs, batch {args.batch_size}, {args.threads} threads, seeds {seeds}, physics (torch "
          f"engine) from epoch {args.physics_start}, scale {args.physics_scale}; energies: mean of the last {args.energy_epochs} epochs\n")
    print("| dataset | precision | best valid RMSD (Å), per seed | mean | bf16 / fp32 | interpolation energy "
          "plain → physics (kJ/mol, mean) | physics effect (mean; per seed) | bf16 effect vs fp32 | "
          "effect at the best epoch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets.split(","):
        by = {p: [r for r in rows if r["dataset"] == name and r["precision"] == p] for p in ("fp32", "bf16")}
        rmsd = {p: mean([r["valid_rmsd"] for r in by[p]]) for p in by}
        effect = {p: mean([r["effect"] for r in by[p]]) for p in by}
        for p in ("fp32", "bf16"):
            per_seed = ", ".join(f"{r['valid_rmsd']:.3f}" for r in by[p])
            energies = (f"{mean([r['energy_plain'] for r in by[p]]):,.0f} → "
                        f"{mean([r['energy_physics'] for r in by[p]]):,.0f}")
            ratio = "" if p == "fp32" else f"{rmsd['bf16'] / rmsd['fp32']:.3f}"
            versus = "" if p == "fp32" else (
                f"{'same' if (effect['bf16'] < 0) == (effect['fp32'] < 0) else 'opposite'} sign, "
                f"{abs(effect['bf16'] - effect['fp32']) / abs(effect['fp32']) * 100:.1f} % apart")
            per_seed_effect = ", ".join(f"{r['effect'] * 100:+.1f}" for r in by[p])
            at_best = mean([r["best_epoch_effect"] for r in by[p]])
            print(f"| {name} | {p} | {per_seed} | {rmsd[p]:.3f} | {ratio} | {energies} | {effect[p] * 100:+.1f} % "
                  f"({per_seed_effect}) | {versus} | {at_best * 100:+.1f} % |")


if __name__ == "__main__":
    main()
