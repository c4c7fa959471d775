"""`train --data-access stream` reads the frames from the .mlds file a batch
at a time: the run (losses, validation, geometry terms, physics energies) is
exactly the one that keeps every frame in memory, and a resumed streamed run
continues it exactly; a bad value is refused.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import read_log, Checks, run, source_dir, temp_dir  # noqa: E402

checks = Checks("data access")
fixtures = os.path.join(source_dir(), "examples", "data")
VALUES = ["train_loss", "valid_loss", "valid_rmsd", "valid_bond_rmsd", "train_local_distance", "train_energy",
          "valid_energy"]

with temp_dir() as tmp:
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", data, "--align", "--valid", "0.25")
    common = ["--model", "conv1d", "--epochs", "3", "--threads", "1", "--seed", "5", "--patience", "0",
              "--local-weight", "1", "--physics", "torch", "--physics-start", "2"]
    logs = {}
    for access in ("memory", "stream"):
        out = os.path.join(tmp, access)
        code, stdout, _ = run("train", data, "-o", out, "--data-access", access, *common)
        logs[access] = read_log(out)
        if access == "stream":
            checks.check("a batch at a time" in stdout, "a streamed run says so")
    memory, stream = logs["memory"], logs["stream"]
    missing = [k for k in VALUES if k not in memory[-1]]
    checks.check(not missing, f"the log has every value compared (missing: {missing})")
    same = len(memory) == len(stream) == 3 and all(a.get(k) == b.get(k) for a, b in zip(memory, stream) for k in VALUES)
    checks.check(same, "streamed and in-memory runs log exactly the same values: " +
                 str([(a["train_loss"], b["train_loss"]) for a, b in zip(memory, stream)]))

    split = os.path.join(tmp, "split")
    run("train", data, "-o", split, "--data-access", "stream", *[a if a != "3" else "2" for a in common])
    run("train", data, "-o", split, "--data-access", "stream", *common, "--resume")
    resumed = read_log(split)
    checks.check(len(resumed) == 3 and all(a["train_loss"] == b["train_loss"] for a, b in zip(memory, resumed)),
                 "a streamed run resumed after epoch 2 continues exactly")

    code, _, err = run("train", data, "-o", os.path.join(tmp, "bad"), "--data-access", "disk", expect_ok=False)
    checks.check(code == 2 and "--data-access" in err, f"an unknown --data-access is refused: {err.strip()}")

checks.finish()
