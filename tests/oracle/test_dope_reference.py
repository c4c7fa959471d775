"""Oracle: molearn's DOPE equals an independent NumPy/SciPy implementation.

The reference reads IMP's dope_score.lib (shared data), places bin k's value
at 0.75 + 0.5 k Å, interpolates with SciPy's natural CubicSpline (extended
below the first centre, as IMP's spline is), scores every pair of typed
atoms in different residues closer than 15 Å from a full distance matrix
(no cell list), and must match `molearn score --metrics dope --json` to 1e-9
(relative; both read the DCD's float32 Å) on every 2MI7 demo model and two MurD frames (heavy atoms).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import numpy as np  # noqa: E402
import mdtraj as md  # noqa: E402
from scipy.interpolate import CubicSpline  # noqa: E402

from molearn_testing import Checks, require, run, shared_data, source_dir, temp_dir  # noqa: E402

library = os.path.join(shared_data(), "dope", "dope_score.lib")
murd_dcd = os.path.join(shared_data(), "murd", "MurD_test.dcd")
murd_top = os.path.join(shared_data(), "murd", "MurD_test_topo.pdb")
require(library, murd_dcd, murd_top)
demo_dcd = os.path.join(source_dir(), "examples", "data", "2mi7_heavy.dcd")
demo_top = os.path.join(source_dir(), "examples", "data", "2mi7_heavy_topology.pdb")

# Equivalent atoms share the type of the first one listed in the library.
SAME_TYPE = {("ARG", "NH2"): "NH1", ("ASP", "OD2"): "OD1", ("GLU", "OE2"): "OE1", ("LEU", "CD2"): "CD1",
             ("PHE", "CD2"): "CD1", ("PHE", "CE2"): "CE1", ("TYR", "CD2"): "CD1", ("TYR", "CE2"): "CE1",
             ("VAL", "CG2"): "CG1"}
RESIDUE = {"HIE": "HIS", "HID": "HIS", "HIP": "HIS", "HSD": "HIS", "HSE": "HIS", "CYX": "CYS"}


def read_library(path):
    with open(path) as f:
        width, _, offset = (float(x) for x in f.readline().split())
        splines = {}
        for line in f:
            fields = line.split()
            values = np.array([float(v) for v in fields[2:]])
            centres = offset + width * (np.arange(len(values)) + 0.5)
            spline = CubicSpline(centres, values, bc_type="natural", extrapolate=True)
            splines[(fields[0], fields[1])] = splines[(fields[1], fields[0])] = spline
    return splines, offset, width * len(values)


def angstrom_frames(dcd):
    """The DCD's coordinates as stored (float32, Å), as molearn reads them."""
    with md.formats.DCDTrajectoryFile(dcd) as f:
        return f.read()[0]


def dope(xyz, top, splines, low, high, cutoff=15.0):
    names = []
    for atom in top.atoms:
        res = RESIDUE.get(atom.residue.name, atom.residue.name)
        names.append(f"{res}_{SAME_TYPE.get((res, atom.name), atom.name)}")
    typed = [i for i, n in enumerate(names) if (n, n) in splines]
    xyz = xyz.astype(np.float64)[typed]
    residue = np.array([top.atom(i).residue.index for i in typed])
    d = np.sqrt(((xyz[:, None, :] - xyz[None, :, :]) ** 2).sum(-1))
    i, j = np.triu_indices(len(typed), 1)
    keep = (residue[i] != residue[j]) & (d[i, j] < min(cutoff, high)) & (d[i, j] > low)
    a, b, r = i[keep], j[keep], d[i, j][keep]
    kinds = sorted(set(names[t] for t in typed))
    kind = np.array([kinds.index(names[t]) for t in typed])
    code = kind[a] * len(kinds) + kind[b]
    order = np.argsort(code, kind="stable")
    code, r = code[order], r[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    ends = np.r_[starts[1:], len(code)]
    total = 0.0
    for s, e in zip(starts, ends):  # one vectorised spline call per pair of types
        first, second = kinds[code[s] // len(kinds)], kinds[code[s] % len(kinds)]
        total += float(splines[(first, second)](r[s:e]).sum())
    return total


checks = Checks("dope reference oracle")
splines, low, high = read_library(library)
with temp_dir() as tmp:
    for name, dcd, top, frames in [("2mi7", demo_dcd, demo_top, None), ("murd", murd_dcd, murd_top, [0, 15])]:
        topology, xyz = md.load_topology(top), angstrom_frames(dcd)
        _, out, _ = run("score", dcd, "--top", top, "--metrics", "dope", "--json", "--data-dir", shared_data())
        rows = json.loads(out)["frames"]
        checks.check(len(rows) == len(xyz), f"{name}: {len(rows)} frames scored")
        worst = 0.0
        for k in frames if frames is not None else range(len(xyz)):
            expected = dope(xyz[k], topology, splines, low, high)
            worst = max(worst, abs(rows[k]["dope"] - expected) / abs(expected))
        checks.check(worst < 1e-9, f"{name}: DOPE equals the NumPy/SciPy reference (worst relative "
                     f"difference {worst:.2e}; frame 0: molearn {rows[0]['dope']:.3f})")
checks.finish()
