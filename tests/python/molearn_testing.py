"""Shared helpers of molearn's Python tests (oracles and CLI tests).

Run under Debian's /usr/bin/python3, which has MDTraj, OpenMM and PyTorch.
A test that cannot run (missing reference data) exits with code 77, which
ctest reports as skipped, never as passed.
"""
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77
MDTRAJ_DOC = "/usr/share/doc/python-mdtraj-doc/examples"


def molearn_bin():
    path = os.environ.get("MOLEARN_BIN")
    if not path or not os.path.exists(path):
        sys.exit("MOLEARN_BIN is not set to the built molearn executable (run the tests through ctest)")
    return path


def timeout_factor():
    """$MOLEARN_TIMEOUT_FACTOR (default 1): how much longer than usual a run may take.
    scripts/sanitize.sh raises it, since an AddressSanitizer build runs several times slower."""
    return max(1, int(os.environ.get("MOLEARN_TIMEOUT_FACTOR", "1")))


def source_dir():
    return os.environ.get("MOLEARN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def shared_data():
    """$MOLEARN_DATA, else ../shared/data beside the source tree."""
    env = os.environ.get("MOLEARN_DATA")
    if env:
        return env
    return os.environ.get("MOLEARN_DEFAULT_DATA", os.path.join(source_dir(), "..", "shared", "data"))


def require(*paths):
    """Skip the whole test (exit 77) naming the first missing file."""
    for path in paths:
        if not os.path.exists(path):
            print(f"SKIPPED: reference data missing: {path} "
                  "(set MOLEARN_DATA to the shared data folder, or install python-mdtraj-doc)")
            sys.exit(SKIP)


def run(*args, expect_ok=True, cwd=None):
    """Runs molearn; returns (exit code, stdout, stderr)."""
    proc = subprocess.run([molearn_bin(), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=600 * timeout_factor(), stdin=subprocess.DEVNULL)
    if expect_ok and proc.returncode != 0:
        raise AssertionError(f"molearn {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc.returncode, proc.stdout, proc.stderr


class Checks:
    """Counts checks and failures; prints the plain 'N passed, N failed' line."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, condition, what):
        if condition:
            self.passed += 1
            print(f"ok    {what}")
        else:
            self.failed += 1
            print(f"FAIL  {what}")

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed or not self.passed else 0)


def read_log(folder):
    """The JSON lines of a training run's log.jsonl ([] if there is none yet)."""
    path = os.path.join(folder, "log.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def native_bf16():
    """Whether this CPU computes bfloat16 natively, read from /proc/cpuinfo (molearn asks cpuid):
    the precision `--precision auto`, the default, should pick."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and "avx512_bf16" in line.split() for line in f)
    except OSError:
        return False


def temp_dir():
    return tempfile.TemporaryDirectory(prefix="molearn-pytest-")


def train_small_model(tmp, epochs=3):
    """A FoldingNet (2-D latent space) trained for a few epochs on the shipped
    2MI7 ensemble (32 frames, 24 for training, 8 for validation), as the CLI
    tests need one; returns (dataset path, best checkpoint path)."""
    fixtures = os.path.join(source_dir(), "examples", "data")
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top", os.path.join(fixtures, "2mi7_heavy_topology.pdb"),
        "-o", data, "--align", "--valid", "0.25")
    run("train", data, "-o", os.path.join(tmp, "run"), "--epochs", str(epochs), "--threads", "1", "--seed", "3",
        "--batch-size", "8", "--latent", "2")
    return data, os.path.join(tmp, "run", "best.ckpt")
