"""The Sinkhorn trainer (train --trainer sinkhorn) end to end: the decoder
learns to turn N(0, I) samples into structures like the data (the divergence
falls), the encoder learns to invert it (validation RMSD falls), a resumed
run draws the same samples as an uninterrupted one, generate --sample decodes
reproducible prior samples, and options it cannot honour are refused.
"""
import filecmp
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import read_log, Checks, run, source_dir, temp_dir  # noqa: E402

checks = Checks("sinkhorn cli")
fixtures = os.path.join(source_dir(), "examples", "data")
# Eval-mode batch norm (validation, generate) needs a few dozen steps to
# learn the statistics of decoded prior samples: 14 epochs of 3 batches.
EPOCHS = 14


def train_args(data, out, epochs, *extra):
    return ["train", data, "-o", out, "--epochs", str(epochs), "--threads", "1", "--seed", "2", "--batch-size", "8",
            "--trainer", "sinkhorn", *extra]


with temp_dir() as tmp:
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", data, "--align", "--valid", "0.25")

    straight = os.path.join(tmp, "straight")
    code, out, err = run(*train_args(data, straight, EPOCHS))
    checks.check("trainer: sinkhorn" in out and "Sinkhorn divergence" in out,
                 "train names the trainer and the loss that chose the best epoch")
    log = read_log(straight)
    keys = ("train_loss", "train_sinkhorn", "valid_sinkhorn", "valid_loss", "valid_rmsd")
    checks.check(len(log) == EPOCHS and all(all(k in r for k in keys) for r in log),
                 f"log.jsonl has the divergence of training and validation every epoch: {sorted(log[0])}")
    best = [r["epoch"] for r in log if r["improved"]][-1]
    lowest = min(log, key=lambda r: r["valid_sinkhorn"])["epoch"]
    checks.check(all(r["valid_loss"] == r["valid_sinkhorn"] for r in log) and best == lowest,
                 f"the validation divergence chooses the best checkpoint: best epoch {best}, lowest divergence at "
                 f"epoch {lowest}")
    first, last = log[0], log[-1]
    checks.check(last["train_sinkhorn"] < 0.7 * first["train_sinkhorn"] and
                 last["valid_sinkhorn"] < 0.7 * first["valid_sinkhorn"],
                 f"the decoded prior samples come closer to the data: train {first['train_sinkhorn']:.3f} -> "
                 f"{last['train_sinkhorn']:.3f}, valid {first['valid_sinkhorn']:.3f} -> {last['valid_sinkhorn']:.3f}")
    checks.check(last["valid_rmsd"] < first["valid_rmsd"],
                 f"the encoder learns to invert the decoder: valid RMSD {first['valid_rmsd']:.2f} -> "
                 f"{last['valid_rmsd']:.2f} A")

    # Two epochs, then --resume to four, without repeating --seed: the run's
    # own seed and generator state come from the checkpoint; the same run.
    resumed = os.path.join(tmp, "resumed")
    run(*train_args(data, resumed, 2))
    code, out, err = run("train", data, "-o", resumed, "--epochs", "4", "--threads", "1", "--batch-size", "8",
                         "--trainer", "sinkhorn", "--resume")
    again = read_log(resumed)
    same = len(again) == 4 and all(a["train_sinkhorn"] == b["train_sinkhorn"] and
                                        a["valid_loss"] == b["valid_loss"] for a, b in zip(again, log))
    checks.check(same, "a resumed run has exactly the losses of the uninterrupted one: " +
                 ", ".join(f"{a['train_sinkhorn']:.6g}/{b['train_sinkhorn']:.6g}" for a, b in zip(again, log)))
    code, out, err = run("train", data, "-o", resumed, "--epochs", "5", "--resume", expect_ok=False)
    checks.check(code == 2 and "--trainer sinkhorn" in err,
                 f"resuming with another trainer is refused: exit {code} {err.strip()[:160]}")
    code, out, err = run(*train_args(data, resumed, 5, "--resume", "--sinkhorn-blur", "0.1"), expect_ok=False)
    checks.check(code == 2 and "--sinkhorn-blur" in err,
                 f"resuming with another blur is refused: exit {code} {err.strip()[:160]}")

    # generate --sample: prior samples, reproducible by seed.
    best = os.path.join(straight, "best.ckpt")
    a, b, c = (os.path.join(tmp, f"{name}.pdb") for name in ("a", "b", "c"))
    code, out, err = run("generate", best, "--sample", "5", "--seed", "4", "-o", a)
    checks.check("wrote 5 structures" in out, f"generate --sample writes the samples: {out.strip()}")
    run("generate", best, "--sample", "5", "--seed", "4", "-o", b)
    run("generate", best, "--sample", "5", "--seed", "5", "-o", c)
    checks.check(filecmp.cmp(a, b, shallow=False) and not filecmp.cmp(a, c, shallow=False),
                 "the same seed gives the same samples, another seed others")
    code, out, err = run("scan", best, "--grid", "4", "--metrics", "error", "-o", os.path.join(tmp, "scan"),
                         expect_ok=False)
    checks.check(code == 0, f"scan works on a Sinkhorn-trained model (its encoder places the data): exit {code} "
                 f"{err.strip()[:200]}")

    autoencoder = os.path.join(tmp, "autoencoder")
    run("train", data, "-o", autoencoder, "--epochs", "1", "--threads", "1")
    code, out, err = run("generate", os.path.join(autoencoder, "best.ckpt"), "--sample", "3", "-o",
                         os.path.join(tmp, "x.pdb"), expect_ok=False)
    checks.check(code == 2 and "--trainer sinkhorn" in err and not os.path.exists(os.path.join(tmp, "x.pdb")),
                 f"generate --sample refuses an autoencoder's checkpoint (no prior): exit {code}")

    for what, extra, expected in [
        ("a geometry loss", ["--local-weight", "1"], "does not take geometry loss terms"),
        ("scaling 1", ["--sinkhorn-scaling", "1"], "--sinkhorn-scaling"),
        ("blur 0", ["--sinkhorn-blur", "0"], "--sinkhorn-blur"),
        ("an unknown trainer", ["--trainer", "gan"], "--trainer"),
        ("data-parallel training", ["--world-size", "2", "--rank", "0"], "data-parallel"),
    ]:
        out_dir = os.path.join(tmp, "refused")
        code, out, err = run(*train_args(data, out_dir, 1, *extra), expect_ok=False)
        checks.check(code == 2 and expected in err and not os.path.exists(out_dir),
                     f"train refuses {what}: exit {code} {err.strip()[:160]}")

checks.finish()
