"""Outputs never destroy inputs or special files: an output that is one of
the command's inputs is refused (exit 2) and the input stays as it was; an
existing output that is not a regular file (a FIFO here; a device such as
/dev/null as root) is refused (exit 3) and stays what it was.
"""
import filecmp
import os
import shutil
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import Checks, run, source_dir, temp_dir  # noqa: E402

checks = Checks("output safety")
fixtures = os.path.join(source_dir(), "examples", "data")
top = os.path.join(fixtures, "2mi7_heavy_topology.pdb")

with temp_dir() as tmp:
    pdb = os.path.join(tmp, "models.pdb")
    shutil.copy(top, pdb)
    pristine = os.path.join(tmp, "pristine.pdb")
    shutil.copy(top, pristine)

    for what, args in [
        ("prepare -o INPUT", ["prepare", pdb, "-o", pdb]),
        ("prepare --npy INPUT", ["prepare", pdb, "-o", os.path.join(tmp, "d.mlds"), "--npy", pdb]),
        ("score --per-residue INPUT", ["score", pdb, "--metrics", "geometry", "--per-residue", pdb]),
        ("convert -o INPUT", ["convert", pdb, "-o", pdb, "--atoms", "CA"]),
        ("convert -o TOPOLOGY", ["convert", pdb, "--top", pdb, "-o", pdb]),
    ]:
        code, out, err = run(*args, expect_ok=False)
        checks.check(code == 2 and "is also an input" in err and filecmp.cmp(pdb, pristine, shallow=False),
                     f"{what}: exit {code}, input untouched: {err.strip()[:100]}")

    # Names the writers cannot honour: a .gz output was once written as plain text.
    for name in ["x.pdb.gz", "x.dcd.gz", "x.cif", "x"]:
        target = os.path.join(tmp, name)
        code, out, err = run("convert", pdb, "-o", target, expect_ok=False)
        checks.check(code == 2 and "can write .pdb and .dcd files only" in err and not os.path.exists(target),
                     f"convert -o {name}: exit {code}, nothing written: {err.strip()[:100]}")

    fifo = os.path.join(tmp, "pipe")
    os.mkfifo(fifo)
    for what, args in [
        ("score --per-residue FIFO", ["score", pdb, "--metrics", "geometry", "--per-residue", fifo]),
        ("energy --forces FIFO", ["energy", pdb, "--forces", fifo]),
        ("convert -o FIFO.pdb", ["convert", pdb, "-o", fifo + ".pdb"]),
    ]:
        if what.startswith("convert"):
            os.mkfifo(fifo + ".pdb")
        code, out, err = run(*args, expect_ok=False)
        target = fifo + ".pdb" if what.startswith("convert") else fifo
        checks.check(code == 3 and "not a regular file" in err and stat.S_ISFIFO(os.stat(target).st_mode),
                     f"{what}: exit {code}, still a FIFO: {err.strip()[:100]}")

    # A symbolic link as output is refused too: renaming onto it would replace the link.
    link = os.path.join(tmp, "link.csv")
    os.symlink(pristine, link)
    code, out, err = run("score", pdb, "--metrics", "geometry", "--per-residue", link, expect_ok=False)
    checks.check(code != 0 and os.path.islink(link) and filecmp.cmp(pdb, pristine, shallow=False),
                 f"score --per-residue onto a symbolic link to an input: exit {code}, link kept")

checks.finish()
