"""Oracle: coordinates read by molearn equal MDTraj's to 1e-3 A.

Covers MurD (DCD + topology, END-separated multi-structure PDB), Debian's
python-mdtraj-doc files (NMR ensembles 2MI7/2EQQ, frame0.xtc), and XTC/DCD
files written here by MDTraj (with a unit cell, with stride), plus files
written by molearn and read back by MDTraj.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import numpy as np  # noqa: E402
import mdtraj as md  # noqa: E402

from molearn_testing import MDTRAJ_DOC, Checks, require, run, shared_data, temp_dir  # noqa: E402

TOLERANCE = 1e-3  # A

murd = os.path.join(shared_data(), "murd")
dcd = os.path.join(murd, "MurD_test.dcd")
topo = os.path.join(murd, "MurD_test_topo.pdb")
multi_pdb = os.path.join(murd, "MurD_test.pdb")
nmr = os.path.join(MDTRAJ_DOC, "data", "2MI7.pdb")
nmr2 = os.path.join(MDTRAJ_DOC, "data", "2EQQ.pdb")
xtc = os.path.join(MDTRAJ_DOC, "data", "frame0.xtc")
native = os.path.join(MDTRAJ_DOC, "data", "native.pdb")
require(dcd, topo, multi_pdb, nmr, nmr2, xtc, native)

checks = Checks("mdtraj oracle")


def ours(tmp, name, *inputs, top=None, extra=()):
    out = os.path.join(tmp, name + ".npy")
    args = ["convert", *inputs, "-o", out, *extra]
    if top:
        args += ["--top", top]
    run(*args)
    return np.load(out)


def compare(what, mine, theirs_nm):
    theirs = theirs_nm * 10.0  # MDTraj works in nm
    same_shape = mine.shape == theirs.shape
    diff = float(np.abs(mine - theirs).max()) if same_shape else float("inf")
    checks.check(same_shape and diff < TOLERANCE,
                 f"{what}: shape {mine.shape} vs {theirs.shape}, max |diff| {diff:.2e} A")


with temp_dir() as tmp:
    compare("MurD DCD + topology", ours(tmp, "murd_dcd", dcd, top=topo), md.load_dcd(dcd, top=topo).xyz)
    compare("MurD END-separated PDB", ours(tmp, "murd_pdb", multi_pdb), md.load_pdb(multi_pdb).xyz)
    compare("2MI7 NMR ensemble", ours(tmp, "nmr", nmr), md.load_pdb(nmr).xyz)
    compare("2EQQ NMR ensemble", ours(tmp, "nmr2", nmr2), md.load_pdb(nmr2).xyz)
    compare("frame0.xtc (501 frames)", ours(tmp, "xtc", xtc, top=native), md.load_xtc(xtc, top=native).xyz)
    compare("frame0.xtc stride 7", ours(tmp, "xtc7", xtc, top=native, extra=["--stride", "7"]),
            md.load_xtc(xtc, top=native, stride=7).xyz)

    # XTC and DCD written by MDTraj from MurD, with a unit cell.
    traj = md.load_dcd(dcd, top=topo)
    traj.unitcell_vectors = np.tile(np.diag([12.0, 13.0, 14.0]).astype(np.float32), (traj.n_frames, 1, 1))
    murd_xtc = os.path.join(tmp, "murd.xtc")
    traj.save_xtc(murd_xtc)
    compare("MurD XTC written by MDTraj", ours(tmp, "murd_xtc", murd_xtc, top=topo),
            md.load_xtc(murd_xtc, top=topo).xyz)
    murd_cell_dcd = os.path.join(tmp, "murd_cell.dcd")
    traj.save_dcd(murd_cell_dcd)
    compare("MurD DCD with unit cell written by MDTraj", ours(tmp, "murd_cell", murd_cell_dcd, top=topo),
            md.load_dcd(murd_cell_dcd, top=topo).xyz)
    compare("MurD DCD with unit cell, stride 5",
            ours(tmp, "murd_cell5", murd_cell_dcd, top=topo, extra=["--stride", "5"]),
            md.load_dcd(murd_cell_dcd, top=topo, stride=5).xyz)

    # Written by molearn, read by MDTraj.
    our_dcd = os.path.join(tmp, "ours.dcd")
    run("convert", multi_pdb, "-o", our_dcd)
    compare("DCD written by molearn, read by MDTraj", ours(tmp, "src_pdb", multi_pdb),
            md.load_dcd(our_dcd, top=multi_pdb).xyz)
    our_pdb = os.path.join(tmp, "ours.pdb")
    run("convert", dcd, "--top", topo, "-o", our_pdb, "--atoms", "N,CA,CB,C,O")
    back = md.load_pdb(our_pdb)
    checks.check(back.n_frames == 16 and back.n_atoms == 2145,
                 f"PDB written by molearn read by MDTraj: {back.n_frames} frames x {back.n_atoms} atoms")
    selected = md.load_dcd(dcd, top=topo).atom_slice(
        md.load(topo).topology.select("name N or name CA or name CB or name C or name O"))
    compare("PDB written by molearn (selection) vs MDTraj selection", back.xyz * 10.0, selected.xyz)

checks.finish()
