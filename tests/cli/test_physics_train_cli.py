"""Training with the physics loss: energies of latent interpolations are
logged before the start epoch and part of the loss afterwards, for each
engine; the run resumes exactly; bad physics options are refused.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import read_log, Checks, run, source_dir, temp_dir  # noqa: E402

checks = Checks("physics training")
fixtures = os.path.join(source_dir(), "examples", "data")
ENGINES = ["openmm", "torch"]


with temp_dir() as tmp:
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", data, "--align", "--valid", "0.25")
    common = ["--model", "conv1d", "--epochs", "3", "--threads", "2", "--seed", "2", "--physics-start", "2",
              "--patience", "0"]
    for engine in ENGINES:
        out = os.path.join(tmp, engine)
        code, stdout, _ = run("train", data, "-o", out, "--physics", engine, *common)
        log = read_log(out)
        flags = [r.get("physics_active") for r in log]
        energies = [r.get("train_energy", 0) for r in log] + [r.get("valid_energy", 0) for r in log]
        checks.check(flags == [False, True, True], f"{engine}: physics logged in epoch 1, in the loss from epoch 2: "
                                                   f"{flags}")
        checks.check(all(e > 0 for e in energies) and all(r["physics_scale"] > 0 for r in log[1:]),
                     f"{engine}: finite positive interpolation energies {[round(e) for e in energies]}")
        checks.check("logged only" in stdout and "energy" in stdout, f"{engine}: the progress shows the energy")

    # The energy really reaches the loss: the same run with the physics term
    # weighted 0 (logged only) and at the scale of the reconstruction term.
    # Epoch 1 only logs in both, so it is identical; from then on the weighted
    # run's decoded interpolations have far lower energies (measured: 0.11x in
    # epoch 3).
    runs = {}
    for scale in ("0", "1"):
        out = os.path.join(tmp, f"scale{scale}")
        run("train", data, "-o", out, "--physics", "torch", "--physics-scale", scale, *common)
        runs[scale] = read_log(out)
    off, on = runs["0"], runs["1"]
    checks.check(off[0]["train_loss"] == on[0]["train_loss"] and off[0]["train_energy"] == on[0]["train_energy"],
                 "before the start epoch the physics term changes nothing")
    # ... not even batch norm's running statistics, which validation uses:
    # epoch 1 validates exactly as in a run without --physics.
    plain = os.path.join(tmp, "plain")
    run("train", data, "-o", plain, *common[:-4], "--patience", "0")
    plain = read_log(plain)
    checks.check(plain[0]["train_loss"] == on[0]["train_loss"] and plain[0]["valid_rmsd"] == on[0]["valid_rmsd"],
                 f"epoch 1 with the physics term logged only validates as without it: valid RMSD "
                 f"{plain[0]['valid_rmsd']} vs {on[0]['valid_rmsd']}")
    ratio = on[-1]["train_energy"] / off[-1]["train_energy"]
    checks.check(ratio < 0.5 and on[-1]["train_loss"] != off[-1]["train_loss"],
                 f"in the loss, the physics term lowers the energy of decoded interpolations: {ratio:.2f}x "
                 f"({on[-1]['train_energy']:.3g} vs {off[-1]['train_energy']:.3g} kJ/mol)")

    # Under --precision bf16 the physics term decodes in fp32 (trainer.cpp's
    # physics_decoder): decoded in bf16, its gradient was mostly rounding noise
    # and the model fell apart. Measured on this run: with the bf16 decode the
    # validation RMSD was 46.7 A after 12 epochs and the training energy rose
    # to 1.78x its value at the start of physics; with the fp32 decode 3.1 A
    # and 0.36x (an fp32 run: 2.7 A).
    out = os.path.join(tmp, "bf16")
    code, stdout, _ = run("train", data, "-o", out, "--physics", "torch", "--physics-start", "4", "--physics-scale",
                          "1", "--precision", "bf16", "--epochs", "12", "--threads", "2", "--seed", "1",
                          "--patience", "0")
    log = read_log(out)
    drop = log[-1]["train_energy"] / log[3]["train_energy"]
    checks.check("precision: bf16" in stdout and log[-1]["valid_rmsd"] < 8 and drop < 0.6,
                 f"--precision bf16 with the physics loss converges: validation RMSD {log[-1]['valid_rmsd']:.1f} A "
                 f"after 12 epochs, training energy {drop:.2f}x its value when physics started")

    # A dataset with a single validation frame still scores validation paths (towards training frames).
    small = os.path.join(tmp, "small.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top", os.path.join(fixtures, "2mi7_heavy_topology.pdb"),
        "-o", small, "--max-frames", "8", "--valid", "0.125")
    code, info, _ = run("info", small)
    run("train", small, "-o", os.path.join(tmp, "small"), "--physics", "torch", *common)
    log = read_log(os.path.join(tmp, "small"))
    checks.check("7 training, 1 validation" in info and all(r.get("valid_energy", 0) > 0 for r in log),
                 f"one validation frame: validation energies {[round(r.get('valid_energy', 0)) for r in log]}")

    # Resuming a physics run continues exactly.
    straight, split = os.path.join(tmp, "straight"), os.path.join(tmp, "split")
    run("train", data, "-o", straight, "--physics", "openmm", *common)
    run("train", data, "-o", split, "--physics", "openmm", *[a if a != "3" else "2" for a in common])
    run("train", data, "-o", split, "--physics", "openmm", *common, "--resume")
    a, b = read_log(straight), read_log(split)
    same = len(a) == len(b) == 3 and all(x["train_loss"] == y["train_loss"] and
                                         x["train_energy"] == y["train_energy"] for x, y in zip(a, b))
    checks.check(same, "a resumed physics run has exactly the losses and energies of an uninterrupted one")

    code, out, err = run("train", data, "-o", os.path.join(tmp, "bad"), "--physics", "magic", expect_ok=False)
    checks.check(code != 0 and "--physics" in err, f"unknown engine refused: '{err.strip()}'")
    code, out, err = run("train", data, "-o", os.path.join(tmp, "bad2"), "--physics", "openmm",
                         "--forcefield", os.path.join(tmp, "missing.xml"), expect_ok=False)
    checks.check(code != 0 and "missing.xml" in err, f"missing force-field file refused: '{err.strip()}'")

checks.finish()
