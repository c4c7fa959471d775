"""Option errors are refused as bad input: exit 2, one 'molearn: error:'
line with a plain message (no 309-digit bounds), a hint to run --help, and
before any input is read or any output written. --help and --version still
print and exit 0.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import Checks, molearn_bin, run, source_dir, temp_dir  # noqa: E402

checks = Checks("option errors")
fixtures = os.path.join(source_dir(), "examples", "data")
top = os.path.join(fixtures, "2mi7_heavy_topology.pdb")


def refused(what, args, fragments, hint, tmp=None):
    """Exit 2, the prefix, every fragment, the hint, no digit run of 20+, no new files."""
    before = set(os.listdir(tmp)) if tmp else set()
    start = time.monotonic()
    code, out, err = run(*args, expect_ok=False)
    seconds = time.monotonic() - start
    after = set(os.listdir(tmp)) if tmp else set()
    lines = err.strip().splitlines()
    longest_digits = max((len(run_) for run_ in "".join(c if c.isdigit() else " " for c in err).split()), default=0)
    ok = (code == 2 and lines and lines[0].startswith("molearn: error: ")
          and all(f in lines[0] for f in fragments) and f"Run '{hint} --help'" in err
          and longest_digits < 20 and after == before and seconds < 60)
    checks.check(ok, f"{what}: exit {code} in {seconds:.1f} s: {err.strip()!r}")


with temp_dir() as tmp:
    missing = os.path.join(tmp, "missing.mlds")
    out_dir = os.path.join(tmp, "run")
    # ---- parse errors of every kind: exit 2 (was 104-109), prefixed, with a hint ----
    refused("no subcommand", [], ["subcommand is required"], "molearn")
    refused("unknown option", ["info", missing, "--bogus"], ["--bogus"], "molearn info")
    refused("missing positional", ["train", "-o", out_dir], ["dataset is required"], "molearn train", tmp)
    refused("nested subcommand", ["physics", "system"], ["required"], "molearn physics system")
    # ---- number validators: a plain range, never 1.8e308 in full ----
    refused("--stride 0", ["convert", top, "-o", os.path.join(tmp, "x.pdb"), "--stride", "0"],
            ["--stride", "positive", "0"], "molearn convert", tmp)
    refused("--epochs abc", ["train", missing, "-o", out_dir, "--epochs", "abc"], ["--epochs", "abc"],
            "molearn train", tmp)
    for value in ["-2", "0", "1000000"]:  # a million once allocated until the machine ran out of memory
        refused(f"--latent {value}", ["train", missing, "-o", out_dir, "--latent", value],
                ["--latent", "1 to 1024", value], "molearn train", tmp)
    # a negative seed once wrapped around to 18446744073709551615
    for command in [["prepare", top, "-o", os.path.join(tmp, "d.mlds")], ["train", missing, "-o", out_dir],
                    ["generate", missing, "--sample", "2", "-o", os.path.join(tmp, "g.pdb")]]:
        refused(f"{command[0]} --seed -1", command + ["--seed", "-1"], ["--seed", ">= 0", "-1"],
                f"molearn {command[0]}", tmp)
    refused("--valid 1", ["prepare", top, "-o", os.path.join(tmp, "d.mlds"), "--valid", "1"],
            ["--valid", "0 to 0.99"], "molearn prepare", tmp)
    refused("--cutoff -1", ["physics", "system", missing, "-o", os.path.join(tmp, "s.xml"), "--cutoff", "-1"],
            [">= 0"], "molearn physics system", tmp)
    refused("--dope-cutoff nan", ["score", top, "--dope-cutoff", "nan"], ["--dope-cutoff"], "molearn score")

    # ---- training options out of range: refused before the dataset is read ----
    for option, value, fragment in [("--physics-scale", "-1", ">= 0"), ("--physics-start", "-3", ">= 0"),
                                    ("--physics-weight", "nan", ">= 0"), ("--physics-weight", "-2", ">= 0"),
                                    ("--world-size", "0", "positive"), ("--rank", "-1", ">= 0"),
                                    ("--lr", "inf", "positive"), ("--patience", "-1", ">= 0")]:
        refused(f"train {option} {value}", ["train", missing, "-o", out_dir, "--physics", "torch", option, value],
                [option, value, fragment], "molearn train", tmp)
    for variable, value, fragment in [("WORLD_SIZE", "0", "at least 1"), ("RANK", "3", "rank 3 is not in")]:
        proc = subprocess.run([molearn_bin(), "train", missing, "-o", out_dir], capture_output=True, text=True,
                              env={**os.environ, variable: value}, timeout=60, stdin=subprocess.DEVNULL)
        checks.check(proc.returncode == 2 and proc.stderr.startswith("molearn: error: ") and fragment in proc.stderr
                     and variable in proc.stderr and "missing.mlds" not in proc.stderr and not os.path.exists(out_dir),
                     f"{variable}={value}: exit {proc.returncode}: {proc.stderr.strip()!r}")

    # ---- --threads: 0 (every core) .. bound; refused before inputs are read ----
    for command, args in [
        ("train", ["train", missing, "-o", out_dir]),
        ("generate", ["generate", missing, "--latent", "0,0", "-o", os.path.join(tmp, "g.pdb")]),
        ("energy", ["energy", top]),
        ("score", ["score", top]),
        ("scan", ["scan", missing, "-o", os.path.join(tmp, "scan")]),
        ("path", ["path", missing, "--from", "0", "--to", "1", "-o", os.path.join(tmp, "p.pdb")]),
        ("report", ["report", tmp, "-o", os.path.join(tmp, "r.html")]),
    ]:
        for bad in ["100000", "-3", "1.5"]:
            refused(f"{command} --threads {bad}", args + ["--threads", bad], ["--threads", bad, "every core"],
                    f"molearn {command}", tmp)
    # Values in the range pass the check (and the work then runs).
    code, out, err = run("score", top, "--metrics", "geometry", "--threads", "2", expect_ok=False)
    checks.check(code == 0, f"score --threads 2 runs: exit {code} {err.strip()[:100]}")
    code, out, err = run("score", top, "--metrics", "geometry", "--threads", "0", expect_ok=False)
    checks.check(code == 0, f"score --threads 0 (every core) runs: exit {code} {err.strip()[:100]}")
    code, out, err = run("train", missing, "-o", out_dir, "--threads", "1", expect_ok=False)
    checks.check(code == 2 and "missing.mlds" in err and "--threads" not in err,
                 f"train --threads 1 passes the check and reaches the input: {err.strip()[:100]}")

# ---- --help and --version are not errors ----
code, out, err = run("--version", expect_ok=False)
checks.check(code == 0 and out.startswith("molearn ") and not err, f"--version: exit {code}, '{out.strip()}'")
code, out, err = run("train", "--help", expect_ok=False)
checks.check(code == 0 and "--threads" in out and "Examples:" in out and not err, f"train --help: exit {code}")
code, out, err = run("physics", "system", "--help", expect_ok=False)
checks.check(code == 0 and "--cutoff" in out and not err, f"physics system --help: exit {code}")

checks.finish()
