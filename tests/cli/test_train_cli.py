"""End-to-end training through the command line: progress and log, a run
killed with SIGKILL and resumed continues exactly as an uninterrupted run,
generation, and bad input for train/generate.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import mlds  # noqa: E402
from molearn_testing import read_log, Checks, molearn_bin, run, source_dir, temp_dir  # noqa: E402

checks = Checks("train cli")
fixtures = os.path.join(source_dir(), "examples", "data")
EPOCHS = 5


def train_args(data, out, *extra):
    return ["train", data, "-o", out, "--epochs", str(EPOCHS), "--threads", "1", "--seed", "3",
            "--batch-size", "8", *extra]


with temp_dir() as tmp:
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", data, "--align", "--valid", "0.25")

    straight = os.path.join(tmp, "straight")
    code, out, err = run(*train_args(data, straight))
    lines = [l for l in out.splitlines() if l.startswith("epoch")]
    checks.check(len(lines) == EPOCHS and "valid RMSD" in lines[0], f"train prints one line per epoch: {lines[-1]}")
    checks.check("best epoch" in out, "train prints a summary")
    log = read_log(straight)
    checks.check(len(log) == EPOCHS and all(k in log[0] for k in ("train_loss", "valid_loss", "valid_rmsd",
                                                                   "frames_per_second")),
                 f"log.jsonl has {len(log)} JSON lines with losses, RMSD and speed")
    checks.check(log[-1]["train_loss"] < log[0]["train_loss"],
                 f"training lowers the loss: {log[0]['train_loss']:.4f} -> {log[-1]['train_loss']:.4f}")

    # Kill a second identical run with SIGKILL after two epochs, then resume it.
    killed = os.path.join(tmp, "killed")
    proc = subprocess.Popen([molearn_bin(), *train_args(data, killed)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.time() + 300
    while len(read_log(killed)) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(read_log(killed))
    checks.check(2 <= done_before < EPOCHS, f"run killed with SIGKILL after {done_before} epochs")
    code, out, err = run(*train_args(data, killed, "--resume"))
    checks.check("resuming after epoch" in out, "--resume says where it continues")
    resumed = read_log(killed)
    same = len(resumed) == EPOCHS and all(
        a["train_loss"] == b["train_loss"] and a["valid_loss"] == b["valid_loss"] for a, b in zip(resumed, log))
    checks.check(same, "killed + resumed run has exactly the losses of the uninterrupted run: " +
                 ", ".join(f"{a['valid_loss']:.6g}/{b['valid_loss']:.6g}" for a, b in zip(resumed, log)))

    # Generation from the trained model.
    best = os.path.join(straight, "best.ckpt")
    path_pdb = os.path.join(tmp, "path.pdb")
    code, out, _ = run("generate", best, "--interpolate", "0,31", "--steps", "7", "-o", path_pdb)
    with open(path_pdb) as f:
        text = f.read()
    checks.check(text.count("\nMODEL") + text.startswith("MODEL") == 7 and "wrote 7 structures" in out,
                 f"generate --interpolate writes 7 models: {out.strip()}")
    code, out, _ = run("generate", best, "--latent", "0,0", "--latent", "1,1", "-o", os.path.join(tmp, "p.dcd"))
    checks.check("wrote 2 structures x 326 atoms" in out, f"generate --latent writes a DCD: {out.strip()}")

    # Reconstruction: the printed RMSDs are those of the written structures against the dataset, and
    # over the validation frames they average to the RMSD the trainer logged for the best epoch.
    rec_pdb = os.path.join(tmp, "reconstructed.pdb")
    code, out, _ = run("generate", best, "--reconstruct", "-o", rec_pdb)
    printed = [float(l.split()[4]) for l in out.splitlines() if l.startswith("frame ")]
    header, scaled = mlds.load(data)
    frames_a = scaled.astype(np.float64) * header["std"] + header["mean"]
    with open(rec_pdb) as f:
        xyz = [[float(l[30:38]), float(l[38:46]), float(l[46:54])] for l in f if l.startswith("ATOM")]
    rec = np.array(xyz).reshape(frames_a.shape)
    measured = np.sqrt(((rec - frames_a) ** 2).sum(axis=2).mean(axis=1))
    checks.check(len(printed) == len(measured) and np.abs(measured - printed).max() < 2e-3,
                 f"--reconstruct prints each frame's RMSD to its written reconstruction "
                 f"(worst difference {np.abs(measured - np.array(printed)).max():.2g} A, PDB rounding)")
    best_record = [r for r in log if r["improved"]][-1]
    valid_mean = float(np.mean([printed[i] for i in header["split"]["valid"]]))
    checks.check(abs(valid_mean - best_record["valid_rmsd"]) < 1e-3 * best_record["valid_rmsd"] + 1e-3,
                 f"validation frames reconstruct at the logged RMSD: {valid_mean:.4f} vs "
                 f"{best_record['valid_rmsd']:.4f} A (epoch {best_record['epoch']})")
    checks.check(f"over {len(measured)} frames" in out, "--reconstruct prints a summary line")

    # Bad input.
    bad = os.path.join(tmp, "bad")
    os.makedirs(bad)
    for what, args, fragments in [
        ("latent point of the wrong dimension", ["generate", best, "--latent", "1,2,3", "-o",
                                                 os.path.join(bad, "x.pdb")], ["3 values", "2 dimensions"]),
        ("two sources of latent points", ["generate", best, "--reconstruct", "--latent", "0,0", "-o",
                                          os.path.join(bad, "x.pdb")], ["give one of"]),
        ("interpolation frame out of range", ["generate", best, "--interpolate", "0,99", "-o",
                                              os.path.join(bad, "x.pdb")], ["frame 99"]),
        ("checkpoint that is not one", ["generate", data, "--latent", "0,0", "-o", os.path.join(bad, "x.pdb")],
         ["demo.mlds", "not a molearn checkpoint"]),
        ("dataset that is not one", ["train", best, "-o", os.path.join(bad, "run")], ["best.ckpt", "magic"]),
        ("resume without a checkpoint", ["train", data, "-o", os.path.join(bad, "run2"), "--resume"],
         ["no checkpoint to resume"]),
    ]:
        code, out, err = run(*args, expect_ok=False)
        leftovers = [f for f in os.listdir(bad) if f.endswith(".pdb") or f.endswith(".ckpt")]
        checks.check(code != 0 and all(f in err for f in fragments) and not leftovers,
                     f"{what}: exit {code}, '{err.strip()}'")

checks.finish()
