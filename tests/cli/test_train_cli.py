"""End-to-end training through the command line: progress and log, a run
killed with SIGKILL and resumed continues exactly as an uninterrupted run,
generation, and bad input for train/generate.
"""
import json
import os
import re
import shutil
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
        ("latent value beyond a float", ["generate", best, "--latent", "1e300,0", "-o", os.path.join(bad, "x.pdb")],
         ["latent point 1", "1e+300", "float"]),
        # decoded far outside the training region: coordinates molearn's own readers would refuse
        ("decoded beyond +-1e5 A", ["generate", best, "--latent", "1e30,1e30", "-o", os.path.join(bad, "x.dcd")],
         ["x.dcd", "beyond +-1e5 A"]),
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
        leftovers = [f for f in os.listdir(bad) if f.endswith((".pdb", ".dcd", ".ckpt"))]
        checks.check(code != 0 and all(f in err for f in fragments) and not leftovers,
                     f"{what}: exit {code}, '{err.strip()}'")

    # generate --steps beyond the bound is refused at once (was libtorch's allocation error and a backtrace);
    # paths longer than one decoding chunk come out whole and in order.
    start = time.time()
    huge = os.path.join(bad, "huge.pdb")
    code, out, err = run("generate", best, "--interpolate", "0,31", "--steps", "100000000", "-o", huge,
                         expect_ok=False)
    checks.check(code == 2 and err.startswith("molearn: error: --steps 100000000") and "10000" in err
                 and len(err.strip().splitlines()) == 1 and not os.path.exists(huge) and time.time() - start < 60,
                 f"generate --steps 100000000: exit {code} in {time.time() - start:.1f} s: {err.strip()!r}")
    long_pdb = os.path.join(tmp, "long.pdb")
    code, out, _ = run("generate", best, "--interpolate", "0,31", "--steps", "301", "-o", long_pdb)

    def models(path):
        frames, current = [], []
        with open(path) as f:
            for line in f:
                if line.startswith("ATOM"):
                    current.append([float(line[30:38]), float(line[38:46]), float(line[46:54])])
                elif line.startswith("ENDMDL"):
                    frames.append(current)
                    current = []
        return np.array(frames)

    long_models, short_models = models(long_pdb), models(path_pdb)
    checks.check("wrote 301 structures" in out and long_models.shape[0] == 301
                 and np.abs(long_models[0] - short_models[0]).max() < 2e-3
                 and np.abs(long_models[150] - short_models[3]).max() < 2e-3
                 and np.abs(long_models[-1] - short_models[-1]).max() < 2e-3,
                 f"generate --steps 301 (5 chunks): {long_models.shape[0]} models, ends and middle equal "
                 f"those of --steps 7")

    # A flipped byte in a checkpoint's weights is caught by its checksums, naming the file.
    import zipfile
    with zipfile.ZipFile(best) as archive:
        largest = max(archive.infolist(), key=lambda i: i.file_size)
    blob = bytearray(open(best, "rb").read())
    data_start = (largest.header_offset + 30 + int.from_bytes(blob[largest.header_offset + 26:largest.header_offset + 28],
                                                              "little")
                  + int.from_bytes(blob[largest.header_offset + 28:largest.header_offset + 30], "little"))
    blob[data_start + largest.file_size // 2] ^= 0x40
    damaged = os.path.join(bad, "damaged.ckpt")
    with open(damaged, "wb") as f:
        f.write(blob)
    for what, args in [("generate", ["generate", damaged, "--latent", "0,0", "-o", os.path.join(bad, "x.pdb")]),
                       ("export", ["export", damaged, "-o", os.path.join(bad, "x.pt")])]:
        code, out, err = run(*args, expect_ok=False)
        leftovers = [f for f in os.listdir(bad) if f.startswith("x.")]
        checks.check(code == 2 and "damaged.ckpt" in err and "checksum" in err and not leftovers,
                     f"{what} from a checkpoint with a flipped byte: exit {code}: {err.strip()!r}")

    # An earlier run in the output folder is never overwritten silently.
    names = ("best.ckpt", "last.ckpt", "log.jsonl")

    def snapshot(folder):
        return {n: open(os.path.join(folder, n), "rb").read() for n in names}

    before = snapshot(straight)
    code, out, err = run(*train_args(data, straight), expect_ok=False)
    checks.check(code == 2 and "earlier run" in err and "--resume" in err and "--overwrite" in err
                 and snapshot(straight) == before,
                 f"train into an earlier run's folder: exit {code}, files untouched: {err.strip()!r}")
    code, out, err = run(*train_args(data, straight, "--resume", "--overwrite"), expect_ok=False)
    checks.check(code == 2 and snapshot(straight) == before, f"--resume with --overwrite: exit {code}")
    code, out, err = run("train", data, "-o", straight, "--epochs", "2", "--threads", "1", "--seed", "4",
                         "--batch-size", "8", "--overwrite")
    replaced = read_log(straight)
    checks.check(code == 0 and len(replaced) == 2 and replaced[0]["train_loss"] != log[0]["train_loss"],
                 f"--overwrite replaces the earlier run: {len(replaced)} epochs logged")

    # An output folder that exists but cannot be written is refused before
    # any epoch runs. As root no permission stops a write, but sysfs refuses
    # new files to everyone.
    readonly = os.path.join(tmp, "readonly")
    os.makedirs(readonly)
    os.chmod(readonly, 0o555)
    if os.access(readonly, os.W_OK):
        readonly = "/sys/kernel"
    code, out, err = run(*train_args(data, readonly), expect_ok=False)
    checks.check(code == 3 and "cannot write into the output folder" in err and "epoch" not in out,
                 f"train into a folder it cannot write: exit {code} before the first epoch: {err.strip()!r}")

    # A dataset prepared without validation frames trains: a warning, the best checkpoint by the
    # training loss, no invented valid_* values in the log; it then generates, and reports.
    no_valid = os.path.join(tmp, "no-valid.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", no_valid, "--valid", "0")
    code, out, err = run("train", no_valid, "-o", os.path.join(tmp, "no-valid"), "--epochs", "3", "--threads", "1")
    log = read_log(os.path.join(tmp, "no-valid"))
    best = [r["epoch"] for r in log if r["improved"]][-1]
    lowest = min(log, key=lambda r: r["train_loss"])["epoch"]
    checks.check("no validation frames" in out and len(log) == 3 and
                 not any(k.startswith("valid_") for r in log for k in r) and best == lowest and
                 f"best epoch {best} by the training loss" in out,
                 f"train without validation frames: warned, log without valid_*, best epoch {best} = lowest "
                 f"training loss {lowest}: {out.strip().splitlines()[-2]}")
    code, out, err = run("generate", os.path.join(tmp, "no-valid", "best.ckpt"), "--interpolate", "0,1",
                         "--steps", "3", "-o", os.path.join(tmp, "no-valid.pdb"))
    checks.check(code == 0 and os.path.exists(os.path.join(tmp, "no-valid.pdb")),
                 "a model trained without validation frames generates")

    # A dataset given by a relative path is found from any folder later.
    shutil.copy(data, os.path.join(tmp, "relative.mlds"))
    run("train", "relative.mlds", "-o", "relative-run", "--epochs", "1", "--threads", "1", cwd=tmp)
    code, out, err = run("generate", os.path.join(tmp, "relative-run", "best.ckpt"), "--interpolate", "0,1",
                         "--steps", "3", "-o", os.path.join(tmp, "interpolated.pdb"), cwd="/", expect_ok=False)
    checks.check(code == 0 and os.path.exists(os.path.join(tmp, "interpolated.pdb")),
                 f"generate --interpolate from another folder finds a dataset trained by relative path: exit {code} "
                 f"{err.strip()[:200]}")

    # cnn2d-dm's N x N maps: a 1,000-atom chain (250 residues, N CA C O, a random walk written here)
    # is refused before anything is written, with the memory it would take and the atoms allowed.
    rng = np.random.default_rng(1)
    big = os.path.join(tmp, "big.pdb")
    with open(big, "w") as f:
        for model in (1, 2, 3):
            f.write(f"MODEL     {model:4d}\n")
            xyz = np.cumsum(rng.normal(0, 0.9, (1000, 3)), axis=0)
            for i, (x, y, z) in enumerate(xyz):
                name, res = ("N", "CA", "C", "O")[i % 4], i // 4 + 1
                f.write(f"ATOM  {i + 1:5d}  {name:<3s} ALA A{res:4d}    {x:8.3f}{y:8.3f}{z:8.3f}  1.00  0.00"
                        f"           {name[0]}\n")
            f.write("ENDMDL\n")
    big_data = os.path.join(tmp, "big.mlds")
    run("prepare", big, "-o", big_data, "--atoms", "N,CA,C,O")
    code, out, err = run("train", big_data, "-o", os.path.join(tmp, "big-run"), "--model", "cnn2d-dm",
                         "--epochs", "1", "--threads", "1", expect_ok=False)
    checks.check(code == 2 and "1000 atoms need about" in err and "MiB per structure" in err and
                 "allows 909 atoms" in err and not os.path.exists(os.path.join(tmp, "big-run")),
                 f"train --model cnn2d-dm on 1,000 atoms: exit {code}, the memory bound with its numbers, "
                 f"nothing written: {err.strip()!r}")
    # ... and refused before --overwrite removes an earlier run for nothing.
    earlier = straight
    before = {name: open(os.path.join(earlier, name), "rb").read() for name in ("best.ckpt", "log.jsonl")}
    code, out, err = run("train", big_data, "-o", earlier, "--model", "cnn2d-dm", "--overwrite", "--epochs", "1",
                         "--threads", "1", expect_ok=False)
    after = {name: open(os.path.join(earlier, name), "rb").read() for name in before}
    checks.check(code == 2 and "need about" in err and after == before,
                 f"train --model cnn2d-dm --overwrite on 1,000 atoms: exit {code}, the earlier run kept")

    # The architectures' options reach the model: cnn2d-dm's memory bound moves with them.
    for option, allowed in (("--mds-iterations", "32"), ("--channels", "64")):
        code, out, err = run("train", big_data, "-o", os.path.join(tmp, "big-run"), "--model", "cnn2d-dm", option,
                             allowed, "--epochs", "1", "--threads", "1", expect_ok=False)
        bound = re.search(r"allows (\d+) atoms", err)
        checks.check(code == 2 and bound is not None and int(bound.group(1)) < 909,
                     f"train --model cnn2d-dm {option} {allowed}: the memory bound allows fewer atoms than with "
                     f"the defaults (909): {err.strip()[-120:]!r}")
    # siren's width: between its three hidden layers, two width x width weights, each with AdamW's two
    # moments in the checkpoint.
    narrow = os.path.join(tmp, "narrow-siren")
    run("train", data, "-o", narrow, "--model", "siren", "--siren-width", "48", "--siren-w0", "20", "--epochs", "1",
        "--threads", "1")
    with zipfile.ZipFile(os.path.join(narrow, "best.ckpt")) as archive:
        sizes = [i.file_size for i in archive.infolist() if "/data/" in i.filename]
    checks.check(sizes.count(48 * 48 * 4) == 6 and 512 * 512 * 4 not in sizes,
                 f"train --model siren --siren-width 48: two 48 x 48 hidden weights (and their moments), none 512 x 512 "
                 f"({sorted(sizes)[-4:]})")
    # info describes the checkpoint: the model with its options, the epochs and the best one's RMSD.
    code, out, err = run("info", os.path.join(narrow, "best.ckpt"))
    summary = json.loads(run("info", os.path.join(narrow, "best.ckpt"), "--json")[1])
    best_rmsd = read_log(narrow)[0]["valid_rmsd"]
    checks.check("siren" in out and "siren_hidden 48" in out and f"validation RMSD {best_rmsd:.3f} A" in out and
                 summary["model"]["siren_hidden"] == 48 and summary["model"]["siren_w0"] == 20 and
                 summary["epochs"] == 1 and summary["best"]["valid_rmsd"] == best_rmsd and
                 summary["dataset"] == os.path.abspath(data) and summary["weights"] > 2 * 48 * 48,
                 f"info on a checkpoint: {out.strip().splitlines()[:2]}")
    code, out, err = run("train", data, "-o", narrow, "--model", "siren", "--epochs", "2", "--threads", "1",
                         "--resume", expect_ok=False)
    checks.check(code == 2 and "--siren-width 48" in err and "512" in err,
                 f"--resume without the run's --siren-width is refused, naming it: {err.strip()!r}")
    # An option of another architecture is refused, not ignored, before anything is written.
    code, out, err = run("train", data, "-o", os.path.join(tmp, "wrong-option"), "--model", "conv1d",
                         "--siren-width", "64", "--epochs", "1", expect_ok=False)
    checks.check(code == 2 and "--siren-width" in err and "conv1d" in err and
                 not os.path.exists(os.path.join(tmp, "wrong-option")),
                 f"train --model conv1d --siren-width 64: exit {code}: {err.strip()!r}")

    # cnn2d-dm trains with its geometry terms by default (bench/README.md); any weight given turns that off.
    def geometry_of(folder):
        return json.loads(run("info", os.path.join(folder, "best.ckpt"), "--json")[1])["options"]["geometry"]
    by_default = os.path.join(tmp, "dm-default")
    code, out, err = run("train", data, "-o", by_default, "--model", "cnn2d-dm", "--epochs", "8", "--threads", "1")
    g = geometry_of(by_default)
    log = read_log(by_default)
    checks.check("geometry terms on by default" in out and g["local_weight"] == 10 and g["bonded_weight"] == 1 and
                 g["start_epoch"] == 2 and log[0]["train_local_distance"] > 0 and log[0]["train_bonded"] > 0,
                 f"train --model cnn2d-dm --epochs 8: local 10, bonded 1 from epoch 2 ({g}), terms logged")
    mse_only = os.path.join(tmp, "dm-mse")
    code, out, err = run("train", data, "-o", mse_only, "--model", "cnn2d-dm", "--epochs", "1", "--threads", "1",
                         "--local-weight", "0", "--bonded-weight", "0")
    g = geometry_of(mse_only)
    checks.check("by default" not in out and g["local_weight"] == 0 and g["bonded_weight"] == 0 and
                 "train_local_distance" not in read_log(mse_only)[0],
                 f"train --model cnn2d-dm --local-weight 0 --bonded-weight 0: the reconstruction error alone ({g})")
    siren = json.loads(run("info", os.path.join(narrow, "best.ckpt"), "--json")[1])["options"]["geometry"]
    checks.check(siren["local_weight"] == 0 and siren["bonded_weight"] == 0,
                 f"other models keep no geometry terms by default ({siren})")
    # Resumed with other --epochs, a run keeps the start it began with (8 / 4 = 2, not 12 / 4 = 3).
    code, out, err = run("train", data, "-o", by_default, "--model", "cnn2d-dm", "--epochs", "12", "--threads", "1",
                         "--resume", "--patience", "0")
    checks.check(code == 0 and "in the loss from epoch 2" in out and "from epoch 3" not in out and
                 len(read_log(by_default)) == 12,
                 f"train --resume --epochs 12 keeps the run's geometry start: "
                 f"{[l for l in out.splitlines() if 'geometry loss' in l]}")
    # The Sinkhorn trainer takes no geometry terms: none are added for it.
    code, out, err = run("train", data, "-o", os.path.join(tmp, "dm-sinkhorn"), "--model", "cnn2d-dm", "--trainer",
                         "sinkhorn", "--epochs", "1", "--threads", "1", expect_ok=False)
    checks.check(code == 0 and "by default" not in out, f"train --model cnn2d-dm --trainer sinkhorn: exit {code}, "
                 f"{err.strip()[-200:]!r}")
    # A CA-only selection has no bonds the force field knows: the default bonded term is left out, with a note.
    ca_data = os.path.join(tmp, "ca.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top", os.path.join(fixtures, "2mi7_heavy_topology.pdb"),
        "-o", ca_data, "--align", "--atoms", "CA")
    ca_run = os.path.join(tmp, "dm-ca")
    code, out, err = run("train", ca_data, "-o", ca_run, "--model", "cnn2d-dm", "--epochs", "2", "--threads", "1",
                         expect_ok=False)
    g = geometry_of(ca_run) if code == 0 else {}
    checks.check(code == 0 and "default bonded term is left out" in out and g.get("bonded_weight") == 0 and
                 g.get("local_weight") == 10, f"train --model cnn2d-dm on CA atoms: exit {code}, {g}, "
                 f"{err.strip()[-200:]!r}")

checks.finish()
