"""End-to-end tests of the molearn command: help, prepare/info, and bad input.

Every bad input must give one clear message naming the file (and the frame or
line), a non-zero exit code, and leave no output file behind.
"""
import json
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import MDTRAJ_DOC, Checks, run, shared_data, source_dir, temp_dir  # noqa: E402

checks = Checks("cli")
fixtures = os.path.join(source_dir(), "examples", "data")
demo_dcd = os.path.join(fixtures, "2mi7_heavy.dcd")
demo_top = os.path.join(fixtures, "2mi7_heavy_topology.pdb")
murd = os.path.join(shared_data(), "murd")

# ---- help and version ----
code, out, _ = run("--version")
checks.check(code == 0 and out.startswith("molearn "), f"--version prints '{out.strip()}'")
code, out, _ = run("--help")
checks.check(code == 0 and "prepare" in out and "info" in out and "Examples" in out, "--help lists subcommands")
for sub in ["prepare", "info", "convert"]:
    code, out, _ = run(sub, "--help")
    checks.check(code == 0 and "Examples:" in out and f"molearn {sub}" in out, f"{sub} --help has examples")
code, _, err = run(expect_ok=False)
checks.check(code != 0, "no subcommand is an error")


def expect_failure(what, args, fragments, tmp):
    before = set(os.listdir(tmp))
    code, out, err = run(*args, expect_ok=False)
    after = set(os.listdir(tmp))
    message = err.strip()
    ok = code != 0 and all(f in message for f in fragments) and after == before
    checks.check(ok, f"{what}: exit {code}, message '{message}', new files {sorted(after - before)}")


with temp_dir() as tmp:
    # ---- the shipped demo data ----
    data = os.path.join(tmp, "demo.mlds")
    code, out, _ = run("prepare", demo_dcd, "--top", demo_top, "-o", data, "--align", "--seed", "3",
                       "--npy", os.path.join(tmp, "demo.npy"))
    checks.check("32 frames x 326 atoms" in out, f"prepare on the demo data: {out.splitlines()[0]}")
    code, out, _ = run("info", data, "--json")
    info = json.loads(out)
    checks.check(info["frames"] == 32 and info["atoms"] == 326 and info["residues"] == 67
                 and info["train_frames"] + info["valid_frames"] == 32 and info["valid_frames"] == 3,
                 f"info --json: {info['frames']} frames, {info['atoms']} atoms, split "
                 f"{info['train_frames']}/{info['valid_frames']}")
    code, out, _ = run("info", data)
    checks.check("frames      32" in out and "aligned     yes" in out, "info prints a readable summary")
    import numpy as np  # Debian's numpy, present with python3-mdtraj
    array = np.load(os.path.join(tmp, "demo.npy"))
    checks.check(array.shape == (32, 326, 3) and abs(float(array.std()) - 1.0) < 1e-4,
                 f"--npy writes the scaled array {array.shape}, std {float(array.std()):.6f}")

    # ---- bad input ----
    bad = os.path.join(tmp, "bad")
    os.makedirs(bad)
    out_file = os.path.join(bad, "out.mlds")
    expect_failure("missing input file", ["prepare", os.path.join(bad, "absent.dcd"), "--top", demo_top,
                                          "-o", out_file], ["absent.dcd", "no such file"], bad)
    expect_failure("DCD without topology", ["prepare", demo_dcd, "-o", out_file], ["2mi7_heavy.dcd", "--top"], bad)

    with open(demo_dcd, "rb") as f:
        blob = f.read()
    truncated = os.path.join(bad, "truncated.dcd")
    with open(truncated, "wb") as f:
        f.write(blob[: len(blob) - 528 * 4 * 3 // 2])
    expect_failure("truncated DCD", ["prepare", truncated, "--top", demo_top, "-o", out_file],
                   ["truncated.dcd", "frame 31"], bad)

    xtc = os.path.join(MDTRAJ_DOC, "data", "frame0.xtc")
    native = os.path.join(MDTRAJ_DOC, "data", "native.pdb")
    if os.path.exists(xtc):
        with open(xtc, "rb") as f:
            xblob = f.read()
        cut = os.path.join(bad, "cut.xtc")
        with open(cut, "wb") as f:
            f.write(xblob[: len(xblob) // 2])
        expect_failure("truncated XTC", ["prepare", cut, "--top", native, "-o", out_file, "--atoms", "heavy"],
                       ["cut.xtc", "frame"], bad)
        expect_failure("topology with the wrong atom count", ["prepare", xtc, "--top", demo_top, "-o", out_file],
                       ["frame0.xtc", "22 atoms", "528"], bad)
    else:
        print(f"note: {xtc} missing (python-mdtraj-doc); XTC bad-input checks not run")

    lines = open(demo_top).read().splitlines()
    atoms = [l for l in lines if l.startswith("ATOM")]
    mixed = os.path.join(bad, "mixed.pdb")
    with open(mixed, "w") as f:
        f.write("MODEL 1\n" + "\n".join(atoms) + "\nENDMDL\nMODEL 2\n" + "\n".join(atoms[:-1]) + "\nENDMDL\nEND\n")
    expect_failure("models with different atom sets", ["prepare", mixed, "-o", out_file],
                   ["mixed.pdb", "model 2", "527 atoms"], bad)

    nan_pdb = os.path.join(bad, "nan.pdb")
    broken = list(atoms)
    broken[5] = broken[5][:30] + "     nan" + broken[5][38:]
    with open(nan_pdb, "w") as f:
        f.write("\n".join(broken) + "\nEND\n")
    expect_failure("NaN coordinate", ["prepare", nan_pdb, "-o", out_file], ["nan.pdb", "line 6", "finite"], bad)

    # Coordinates beyond +-1e5 A (here 1e30 in frame 5, atom 11's x) would poison the dataset's scale.
    frame_bytes = 3 * (8 + 528 * 4)  # the demo DCD: a 276-byte header, no unit cell
    for value in (1e30, -3e5):
        far = os.path.join(bad, "far.dcd")
        with open(far, "wb") as f:
            at = 276 + 5 * frame_bytes + 4 + 4 * 10
            f.write(blob[:at] + struct.pack("<f", value) + blob[at + 4:])
        code, out, err = run("prepare", far, "--top", demo_top, "-o", out_file, expect_ok=False)
        os.remove(far)
        checks.check(code == 2 and "far.dcd: frame 5 (0-based): atom 11 (" in err and "1e5" in err
                     and not os.path.exists(out_file),
                     f"coordinate {value:g}: exit {code}, '{err.strip()}'")

    expect_failure("empty selection", ["prepare", demo_dcd, "--top", demo_top, "-o", out_file, "--atoms", "XX"],
                   ["selection", "matches no atom"], bad)

    wrong_magic = os.path.join(bad, "magic.mlds")
    with open(data, "rb") as f:
        good = f.read()
    with open(wrong_magic, "wb") as f:
        f.write(b"XXXX" + good[4:])
    expect_failure("dataset with wrong magic", ["info", wrong_magic], ["magic.mlds", "magic"], bad)
    wrong_version = os.path.join(bad, "version.mlds")
    with open(wrong_version, "wb") as f:
        f.write(good[:8] + struct.pack("<I", 99) + good[12:])
    expect_failure("dataset of another version", ["info", wrong_version], ["version.mlds", "version 99"], bad)

    readonly = os.path.join(tmp, "readonly")
    os.makedirs(readonly)
    os.chmod(readonly, 0o555)
    if os.access(readonly, os.W_OK):
        print("note: running as root, an unwritable folder cannot be simulated with permissions")
        expect_failure("output into a missing folder",
                       ["prepare", demo_dcd, "--top", demo_top, "-o", os.path.join(bad, "no", "x.mlds")],
                       ["x.mlds", "cannot create"], bad)
    else:
        expect_failure("unwritable output folder",
                       ["prepare", demo_dcd, "--top", demo_top, "-o", os.path.join(readonly, "x.mlds")],
                       ["x.mlds", "cannot create"], readonly)
    shutil.rmtree(readonly, ignore_errors=True)

    # ---- the "done when": MurD, if the shared data are here ----
    if os.path.exists(os.path.join(murd, "MurD_test.dcd")):
        code, out, _ = run("prepare", os.path.join(murd, "MurD_test.dcd"), "--top",
                           os.path.join(murd, "MurD_test_topo.pdb"), "-o", os.path.join(tmp, "murd.mlds"))
        checks.check("16 frames x 2145 atoms" in out, f"MurD prepare: {out.splitlines()[0]}")
    else:
        print(f"note: shared MurD data missing at {murd}; MurD check not run (set MOLEARN_DATA)")

checks.finish()
