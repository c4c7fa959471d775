"""`molearn scan` and `molearn path` end to end on a small model trained on
the shipped 2MI7 ensemble: scan files and JSON, drift and error checked in
plain PyTorch on the exported model (drift = |encode(decode(z)) - z|, error =
RMSD of decode(z) to decode(encode(decode(z))) without refitting), straight
and least-cost paths whose ends are exactly the decoded endpoints (as `molearn
generate --interpolate`), structure files as endpoints, and bad input.
"""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import Checks, molearn_bin, native_bf16, run, source_dir, temp_dir, train_small_model  # noqa: E402

checks = Checks("scan/path cli")
fixtures = os.path.join(source_dir(), "examples", "data")
TOPOLOGY = os.path.join(fixtures, "2mi7_heavy_topology.pdb")
# How far (Å RMSD) a structure decoded with --precision bf16 may be from the fp32 one.
BF16_RMSD_LIMIT = 0.25  # measured: 0.04-0.08 A on this model


def read_dcd(path):
    """Frames [F, atoms, 3] in Å (MDTraj reads DCD in nm)."""
    import mdtraj
    return mdtraj.load_dcd(path, top=TOPOLOGY_FOR_DCD).xyz.astype(np.float64) * 10.0


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def exit_code(*args):
    """The exit code and the error line (an option error is followed by a hint to --help)."""
    code, out, err = run(*args, expect_ok=False)
    lines = (out + err).strip().splitlines()
    errors = [line for line in lines if line.startswith("molearn: error:")]
    return code, (errors or lines or [""])[-1]


with temp_dir() as tmp:
    data, ckpt = train_small_model(tmp)
    # The training topology as a PDB, for reading DCDs with MDTraj.
    TOPOLOGY_FOR_DCD = os.path.join(tmp, "top.pdb")
    run("generate", ckpt, "--latent", "0,0", "-o", TOPOLOGY_FOR_DCD)

    # --- scan -------------------------------------------------------------
    scan = os.path.join(tmp, "scan")
    # fp32: compared with PyTorch below (the default, auto, is bf16 on CPUs with AVX512-BF16)
    code, out, err = run("scan", ckpt, "--grid", "8", "--metrics", "error,drift", "--threads", "1", "--precision", "fp32",
                         "-o", scan)
    with open(os.path.join(scan, "scan.json")) as f:
        doc = json.load(f)
    checks.check(doc["command"] == "scan" and doc["grid"] == [8, 8] and doc["latent_dim"] == 2
                 and doc["plane"] is None and len(doc["x"]) == 8 and len(doc["y"]) == 8,
                 f"scan.json describes an 8x8 grid of a 2-D latent space: grid {doc['grid']}")
    checks.check(set(doc["metrics"]) == {"error", "drift"} and doc["metrics"]["error"]["unit"] == "A"
                 and "decode" in doc["seconds"] and set(doc["seconds"]["metrics"]) == {"error", "drift"},
                 f"scan.json lists the landscapes with units and times: {sorted(doc['metrics'])}")
    error = np.load(os.path.join(scan, "error.npy"))
    drift = np.load(os.path.join(scan, "drift.npy"))
    checks.check(error.shape == (8, 8) and drift.shape == (8, 8) and error.dtype == np.float64,
                 f"NPY landscapes are float64 [ny, nx]: {error.shape} {error.dtype}")
    checks.check(np.all(np.isfinite(drift)) and np.all(drift >= 0) and np.all(error >= 0),
                 f"drift and error finite and >= 0: drift {drift.min():.3g}..{drift.max():.3g}, "
                 f"error {error.min():.3g}..{error.max():.3g} A")
    summary = doc["metrics"]["drift"]["summary"]
    checks.check(abs(summary["mean"] - drift.mean()) < 1e-9 and summary["finite"] == 64,
                 f"summary matches the NPY: mean {summary['mean']:.4g}")
    train = np.array(doc["encoded"]["train"])
    valid = np.array(doc["encoded"]["valid"])
    both = np.vstack([train, valid])
    x0, x1, y0, y1 = doc["bounds"]
    checks.check(len(train) == 24 and len(valid) == 8, "24 training and 8 validation points encoded")
    checks.check(x0 < both[:, 0].min() and both[:, 0].max() < x1 and y0 < both[:, 1].min()
                 and both[:, 1].max() < y1 and doc["x"][0] == x0 and doc["y"][-1] == y1,
                 f"bounds {doc['bounds']} cover the encoded points with padding")
    pad = 0.1 * (both[:, 0].max() - both[:, 0].min())
    checks.check(abs((both[:, 0].min() - pad) - x0) < 1e-5, "padding is 10% of the encoded extent (setup_grid)")

    # Oracle: the exported TorchScript module in plain PyTorch.
    import torch
    model_pt = os.path.join(tmp, "model.pt")
    run("export", ckpt, "-o", model_pt)
    m = torch.jit.load(model_pt)
    xs, ys = np.array(doc["x"]), np.array(doc["y"])
    z = torch.tensor([[xs[i], ys[j]] for j in range(8) for i in range(8)], dtype=torch.float32)
    with torch.no_grad():
        d1 = m.decode(z)
        z2 = m.encode(d1)
        d2 = m.decode(z2)
    ref_drift = (z2 - z).norm(dim=1).numpy().reshape(8, 8)
    ref_error = ((d1 - d2).pow(2).sum(1).mean(1).sqrt() * float(m.std)).numpy().reshape(8, 8)
    checks.check(np.allclose(drift, ref_drift, atol=1e-4, rtol=1e-4),
                 f"drift equals |encode(decode(z)) - z| in PyTorch (max diff {abs(drift - ref_drift).max():.2g})")
    checks.check(np.allclose(error, ref_error, atol=1e-3, rtol=1e-3),
                 f"error equals RMSD(decode(z), decode(encode(decode(z)))) in PyTorch "
                 f"(max diff {abs(error - ref_error).max():.2g} A)")

    # --- path -------------------------------------------------------------
    ref = os.path.join(tmp, "interp.dcd")
    run("generate", ckpt, "--interpolate", "0,31", "--steps", "7", "--precision", "fp32", "-o", ref)
    ref_xyz = read_dcd(ref)
    straight = os.path.join(tmp, "straight.dcd")
    code, out, err = run("path", ckpt, "--from", "0", "--to", "31", "--steps", "7", "--precision", "fp32", "-o",
                         straight)
    s_xyz = read_dcd(straight)
    rows = read_csv(os.path.join(tmp, "straight.csv"))
    checks.check(s_xyz.shape == ref_xyz.shape and np.abs(s_xyz - ref_xyz).max() < 1e-3,
                 f"straight path equals generate --interpolate (max diff {np.abs(s_xyz - ref_xyz).max():.2g} A)")
    checks.check(len(rows) == 7 and {"step", "z0", "z1", "error", "drift"} <= set(rows[0]),
                 f"per-step CSV: 7 rows, columns {list(rows[0])}")
    checks.check("step" in out and "wrote 7 structures" in out, "path prints the per-step table")

    lc = os.path.join(tmp, "leastcost.dcd")
    code, out, err = run("path", ckpt, "--from", "0", "--to", "31", "--landscape", "error", "--grid", "8",
                         "--steps", "9", "--precision", "fp32", "-o", lc, "--csv", os.path.join(tmp, "lc_metrics.csv"))
    lc_xyz = read_dcd(lc)
    ends_diff = max(np.abs(lc_xyz[0] - ref_xyz[0]).max(), np.abs(lc_xyz[-1] - ref_xyz[-1]).max())
    checks.check(lc_xyz.shape[0] == 9 and ends_diff < 1e-3,
                 f"least-cost path over error (scanned on the fly): 9 structures, ends equal generate's "
                 f"(max diff {ends_diff:.2g} A)")
    lc_rows = read_csv(os.path.join(tmp, "lc_metrics.csv"))
    checks.check(len(lc_rows) == 9, "least-cost CSV has 9 rows")
    lc2 = os.path.join(tmp, "leastcost2.pdb")
    code, out, err = run("path", ckpt, "--from", "0", "--via", "5", "--to", "31", "--landscape", "error",
                         "--scan", scan, "--steps", "12", "-o", lc2)
    with open(lc2) as f:
        models = f.read().count("ENDMDL")
    checks.check(models == 12, f"least-cost path over --scan with a waypoint: {models} models")

    # A structure file as an endpoint: the topology PDB is frame 0 of the ensemble.
    fpath = os.path.join(tmp, "from_file.dcd")
    code, out, err = run("path", ckpt, "--from", TOPOLOGY, "--to", "31", "--steps", "7", "--precision", "fp32", "-o",
                         fpath)
    f_rows = read_csv(os.path.join(tmp, "from_file.csv"))
    dz = max(abs(float(f_rows[0][k]) - float(rows[0][k])) for k in ("z0", "z1"))
    checks.check(dz < 1e-3, f"a structure file of frame 0 encodes as frame 0 (latent diff {dz:.2g})")

    # Ctrl-C: stops after the current batch, exit 130, no scan.json.
    stopped = os.path.join(tmp, "stopped")
    proc = subprocess.Popen([molearn_bin(), "scan", ckpt, "--grid", "400", "--batch-size", "4", "--metrics",
                             "drift", "--threads", "1", "-o", stopped], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    started = proc.stdout.readline()  # "scanning ..." once the grid is set up
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    checks.check(proc.returncode == 130 and "interrupted" in out and not os.path.exists(
        os.path.join(stopped, "scan.json")), f"SIGINT stops a scan: exit {proc.returncode}, no scan.json ({started.strip()[:40]})")

    # --- --precision bf16: the model in bfloat16 (generate, scan, path) ------
    # The same structures and landscapes up to bfloat16's rounding (8 bits of mantissa), not the
    # fp32 ones to the bit (so the option is not ignored); scan.json says which precision made it.
    latents = ["--latent", "0,0", "--latent", "0.5,-0.5", "--latent", "-1,1", "--latent", "1,1"]
    made = {}
    for precision in ("fp32", "bf16"):
        made[precision] = os.path.join(tmp, f"latent-{precision}.dcd")
        run("generate", ckpt, *latents, "--precision", precision, "--threads", "1", "-o", made[precision])
    a, b = read_dcd(made["fp32"]), read_dcd(made["bf16"])
    rmsd = np.sqrt(((a - b) ** 2).sum(-1).mean(-1))
    checks.check(0 < rmsd.max() < BF16_RMSD_LIMIT,
                 f"generate --precision bf16: within {BF16_RMSD_LIMIT} A RMSD of fp32 and not identical "
                 f"({', '.join(f'{v:.3f}' for v in rmsd)} A)")
    scan16 = os.path.join(tmp, "scan-bf16")
    run("scan", ckpt, "--grid", "8", "--metrics", "error,drift", "--threads", "1", "--precision", "bf16", "-o", scan16)
    with open(os.path.join(scan16, "scan.json")) as f:
        doc16 = json.load(f)
    drift16 = np.load(os.path.join(scan16, "drift.npy"))
    error16 = np.load(os.path.join(scan16, "error.npy"))
    checks.check(doc["precision"] == "fp32" and doc16["precision"] == "bf16",
                 f"scan.json records the precision: {doc['precision']}, {doc16['precision']}")
    # The default, --precision auto: bf16 where the CPU computes it natively, and said so.
    scan_auto = os.path.join(tmp, "scan-auto")
    code, out, err = run("scan", ckpt, "--grid", "2", "--metrics", "drift", "--threads", "1", "-o", scan_auto)
    with open(os.path.join(scan_auto, "scan.json")) as f:
        auto_precision = json.load(f)["precision"]
    expected = "bf16" if native_bf16() else "fp32"
    checks.check(auto_precision == expected and f"precision: {expected} (--precision auto;" in out,
                 f"scan without --precision runs in {auto_precision} on this CPU (/proc/cpuinfo: {expected}) "
                 "and says so")
    checks.check(not np.array_equal(drift16, drift) and np.allclose(drift16, drift, rtol=0.1, atol=0.05) and
                 np.allclose(error16, error, rtol=0.1, atol=0.2),
                 f"scan --precision bf16: drift and error near fp32's (largest differences "
                 f"{np.abs(drift16 - drift).max():.3g}, {np.abs(error16 - error).max():.3g} A)")
    straight16 = os.path.join(tmp, "straight-bf16.dcd")
    run("path", ckpt, "--from", "0", "--to", "31", "--steps", "7", "--precision", "bf16", "-o", straight16)
    path_rmsd = np.sqrt(((read_dcd(straight16) - s_xyz) ** 2).sum(-1).mean(-1))
    checks.check(0 < path_rmsd.max() < BF16_RMSD_LIMIT,
                 f"path --precision bf16: each step within {BF16_RMSD_LIMIT} A of the fp32 path "
                 f"(largest {path_rmsd.max():.3f} A)")

    # --- bad input: exit 2 with a message ------------------------------------
    ca = os.path.join(tmp, "ca.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top", TOPOLOGY, "-o", ca, "--atoms", "CA")
    partial = os.path.join(tmp, "partial.pdb")
    with open(TOPOLOGY) as f, open(partial, "w") as g:
        g.writelines([l for l in f if l.startswith("ATOM")][:100])
    far = os.path.join(tmp, "far")
    run("scan", ckpt, "--grid", "2", "--bounds", "5,6,5,6", "--metrics", "drift", "--threads", "1", "-o", far)
    bad = [
        (["path", ckpt, "--from", partial, "--to", "1", "-o", os.path.join(tmp, "x.pdb")], "partial.pdb"),
        (["path", ckpt, "--from", "0", "--to", "1", "--landscape", "drift", "--scan", far, "-o",
          os.path.join(tmp, "x.pdb")], "outside"),
        (["scan", ckpt, "--grid", "0", "-o", scan + "0"], "grid"),
        (["scan", ckpt, "--grid", "1000", "-o", scan + "0"], "grid"),
        (["scan", ckpt, "--bounds", "nan,1,0,1", "-o", scan + "0"], "finite"),
        (["scan", ckpt, "--bounds", "1,0,0,1", "-o", scan + "0"], "x0 < x1"),
        (["scan", ckpt, "--data", ca, "-o", scan + "0"], "atoms"),
        (["scan", ckpt, "--metrics", "error,bogus", "-o", scan + "0"], "bogus"),
        (["scan", ckpt, "--precision", "fp16", "-o", scan + "0"], "precision"),
        (["path", ckpt, "--from", "0", "--to", "1", "--precision", "", "-o", os.path.join(tmp, "x.pdb")],
         "precision"),
        (["path", ckpt, "--from", "0", "--to", "99", "-o", os.path.join(tmp, "x.pdb")], "frame 99"),
        (["path", ckpt, "--from", "missing.pdb", "--to", "1", "-o", os.path.join(tmp, "x.pdb")], "missing.pdb"),
        (["path", ckpt, "--from", "0", "--to", "1", "--landscape", "dope", "--scan", scan, "-o",
          os.path.join(tmp, "x.pdb")], "dope"),
        (["path", ckpt, "--from", "0", "--to", "1", "--steps", "0", "-o", os.path.join(tmp, "x.pdb")], "steps"),
        (["path", ckpt, "--from", "0", "--to", "1", "--landscape", "bogus", "-o", os.path.join(tmp, "x.pdb")],
         "landscape"),
    ]
    for args, word in bad:
        code, last = exit_code(*args)
        checks.check(code == 2 and word in last, f"{' '.join(args[:1] + args[2:])[:90]} -> exit {code}: {last}")
    checks.check(not os.path.exists(scan + "0" + "/scan.json"), "failed scans leave no scan.json")
    checks.check(not os.path.exists(os.path.join(tmp, "x.pdb")), "failed paths leave no structures")

checks.finish()
