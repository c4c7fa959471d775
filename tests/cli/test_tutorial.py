"""docs/tutorial.md cannot rot: every ```bash block in it is run, in order,
as one script (bash -euo pipefail) in a fresh folder where `examples/` is the
repository's and `molearn` is the built command; then the files the tutorial
promises are checked.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import Checks, molearn_bin, source_dir, temp_dir  # noqa: E402

checks = Checks("tutorial")
with open(os.path.join(source_dir(), "docs", "tutorial.md")) as f:
    blocks = re.findall(r"^```bash\n(.*?)^```", f.read(), flags=re.S | re.M)
checks.check(len(blocks) >= 10, f"{len(blocks)} bash blocks found in docs/tutorial.md")

with temp_dir() as tmp:
    os.symlink(os.path.join(os.path.abspath(source_dir()), "examples"), os.path.join(tmp, "examples"))
    bin_dir = os.path.join(tmp, "bin")
    os.mkdir(bin_dir)
    os.symlink(os.path.abspath(molearn_bin()), os.path.join(bin_dir, "molearn"))
    script = "\n".join(f"echo '### block {k + 1}'\n{b}" for k, b in enumerate(blocks))
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"], OMP_WAIT_POLICY="passive")
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp, env=env, capture_output=True,
                          text=True, timeout=900, stdin=subprocess.DEVNULL)
    done = re.findall(r"^### block (\d+)$", proc.stdout, flags=re.M)
    print("\n".join(proc.stdout.splitlines()[-25:]))
    checks.check(proc.returncode == 0 and len(done) == len(blocks),
                 f"every block ran without error: {len(done)} of {len(blocks)} started, exit {proc.returncode}"
                 + ("" if proc.returncode == 0 else f"\n{proc.stderr[-3000:]}"))
    for name in ("villin.dcd", "villin.mlds", "2mi7.mlds", "ensemble.pdb", "ca.npy", "run-physics/best.ckpt", "scan/scan.json", "path.pdb",
                 "path.csv", "report.html", "path-relaxed.pdb", "between.dcd", "run-2ranks/log.jsonl", "model.pt"):
        checks.check(os.path.exists(os.path.join(tmp, name)), f"the tutorial made {name}")
    gui_path = os.path.join(tmp, "gui-path.json")
    checks.check(os.path.exists(gui_path) and '"pdb"' in open(gui_path).read(),
                 "the GUI's API answered the tutorial's path request")

checks.finish()
