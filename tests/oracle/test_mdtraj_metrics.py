"""Oracle: `molearn score` metrics against MDTraj on the same frames.

RMSD after superposition to a frame and to a structure file (md.rmsd, 1e-3 A),
backbone dihedrals from --per-residue (md.compute_phi/psi/omega, 1e-3
degrees), and the geometry counts that MDTraj can give independently: cis
peptides (|omega| < 30), D residues (sign of the N-CA-C-CB improper) and
clashes (heavy atoms closer than 3 A, more than 3 bonds apart on MDTraj's own
bond graph). On the shipped 2MI7 ensemble always, on MurD when the shared data
are there.
"""
import csv
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import numpy as np  # noqa: E402
import mdtraj as md  # noqa: E402

from molearn_testing import Checks, run, shared_data, source_dir, temp_dir  # noqa: E402

RMSD_TOL = 1e-3  # A
ANGLE_TOL = 1e-3  # degrees

checks = Checks("mdtraj metrics oracle")
demo = os.path.join(source_dir(), "examples", "data")
cases = [("2MI7", os.path.join(demo, "2mi7_heavy.dcd"), os.path.join(demo, "2mi7_heavy_topology.pdb"))]
murd = os.path.join(shared_data(), "murd")
if os.path.exists(os.path.join(murd, "MurD_test.dcd")) and os.path.exists(os.path.join(murd, "MurD_test_topo.pdb")):
    cases.append(("MurD", os.path.join(murd, "MurD_test.dcd"), os.path.join(murd, "MurD_test_topo.pdb")))
else:
    print(f"note: MurD part skipped: shared data missing in {murd}")


def angle_diff(a, b):
    return np.abs((a - b + 180.0) % 360.0 - 180.0)


def score_json(*args):
    _, out, _ = run("score", *args, "--json", "--threads", "2")
    return json.loads(out)


def column(doc, name):
    return np.array([np.nan if f[name] is None else f[name] for f in doc["frames"]], dtype=float)


def within_bonds(traj, depth):
    """Pairs (i < j) of atoms at most `depth` bonds apart on MDTraj's bond graph,
    plus disulfides (SG-SG < 3 A in the first frame, as OpenMM's
    Topology.createDisulfideBonds: MDTraj bonds them only from CONECT records)."""
    top = traj.topology
    neighbours = {a.index: set() for a in top.atoms}
    bonds = [(a.index, b.index) for a, b in top.bonds]
    sulfurs = top.select("name SG")
    bonds += [(a, b) for i, a in enumerate(sulfurs) for b in sulfurs[i + 1:]
              if np.linalg.norm(traj.xyz[0, a] - traj.xyz[0, b]) < 0.3]
    for a, b in bonds:
        neighbours[a].add(b)
        neighbours[b].add(a)
    pairs = set()
    for start in neighbours:
        seen, frontier = {start}, {start}
        for _ in range(depth):
            frontier = {n for a in frontier for n in neighbours[a]} - seen
            seen |= frontier
        pairs |= {(start, j) for j in seen if j > start}
    return pairs


def clash_counts(traj):
    heavy = np.array([a.index for a in traj.topology.atoms if a.element.symbol != "H" and a.residue.is_protein])
    excluded = within_bonds(traj, 3)
    counts = []
    for xyz in traj.xyz * 10.0:
        x = xyz[heavy].astype(np.float64)
        sq = (x * x).sum(1)
        near = np.triu(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T) < 3.2 ** 2, 1)  # candidates, then exact
        i, j = np.nonzero(near)
        close = np.sqrt(((x[i] - x[j]) ** 2).sum(1)) < 3.0
        counts.append(sum((heavy[a], heavy[b]) not in excluded for a, b in zip(i[close], j[close])))
    return np.array(counts, dtype=float)


with temp_dir() as tmp:
    for name, dcd, top in cases:
        traj = md.load_dcd(dcd, top=top)
        xyz = traj.xyz.copy()  # md.rmsd centres the trajectory it is given in place
        reference_pdb = md.load_pdb(top)

        # RMSD to frame 0 and to a structure file.
        doc = score_json(dcd, "--top", top, "--metrics", "rmsd:0,geometry")
        mine, theirs = column(doc, "rmsd"), md.rmsd(traj, traj, 0) * 10.0
        diff = float(np.abs(mine - theirs).max())
        checks.check(diff < RMSD_TOL, f"{name}: RMSD to frame 0 vs md.rmsd over {len(mine)} frames, max diff {diff:.1e} A")
        doc_ref = score_json(dcd, "--top", top, "--metrics", f"rmsd:{top}")
        mine_ref, theirs_ref = column(doc_ref, "rmsd"), md.rmsd(traj, reference_pdb, 0) * 10.0
        diff = float(np.abs(mine_ref - theirs_ref).max())
        checks.check(diff < RMSD_TOL, f"{name}: RMSD to a structure file vs md.rmsd, max diff {diff:.1e} A")
        unfitted = np.sqrt(((xyz - xyz[0]) ** 2).sum(-1).mean(-1)) * 10.0
        diff = float(np.abs(column(doc, "rmsd_unfitted") - unfitted).max())
        checks.check(diff < RMSD_TOL, f"{name}: unfitted RMSD vs numpy, max diff {diff:.1e} A")

        # Dihedrals through --per-residue.
        per_residue = os.path.join(tmp, f"{name}.csv")
        run("score", dcd, "--top", top, "--metrics", "rmsd", "--csv", "--per-residue", per_residue)
        with open(per_residue) as f:
            rows = list(csv.DictReader(f))
        n_res = traj.topology.n_residues
        checks.check(len(rows) == traj.n_frames * n_res, f"{name}: --per-residue has frames x residues rows")
        for angle, compute, atom_of_residue in (("phi", md.compute_phi, 2), ("psi", md.compute_psi, 0),
                                                ("omega", md.compute_omega, 3)):
            indices, values = compute(traj)
            values = np.degrees(values)
            mine = np.array([float(r[angle]) for r in rows]).reshape(traj.n_frames, n_res)
            residues = [traj.topology.atom(q[atom_of_residue]).residue.index for q in indices]
            diff = float(angle_diff(mine[:, residues], values).max())
            defined = int(np.isfinite(mine[0]).sum())
            checks.check(diff < ANGLE_TOL and defined == len(residues),
                         f"{name}: {angle} vs md.compute_{angle} ({len(residues)} residues, {defined} defined), "
                         f"max diff {diff:.1e} deg")

        # Geometry counts.
        _, omega = md.compute_omega(traj)
        cis = (np.abs(np.degrees(omega)) < 30).sum(1)
        checks.check(np.array_equal(column(doc, "cis_peptides"), cis), f"{name}: cis peptides as MDTraj's omega")
        quads = [[r.atom("N").index, r.atom("CA").index, r.atom("C").index, r.atom("CB").index]
                 for r in traj.topology.residues if r.is_protein and r.name != "GLY" and
                 all(n in {a.name for a in r.atoms} for n in ("N", "CA", "C", "CB"))]
        d_count = (md.compute_dihedrals(traj, np.array(quads)) > 0).sum(1)
        checks.check(np.array_equal(column(doc, "d_residues"), d_count), f"{name}: D residues as MDTraj's impropers")
        mirrored = md.Trajectory(traj.xyz * np.array([-1.0, 1.0, 1.0], dtype=np.float32), traj.topology)
        mirror_dcd = os.path.join(tmp, f"{name}_mirror.dcd")
        mirrored.save_dcd(mirror_dcd)
        doc_mirror = score_json(mirror_dcd, "--top", top, "--metrics", "geometry")
        checks.check(np.array_equal(column(doc_mirror, "d_residues"), np.full(traj.n_frames, len(quads))),
                     f"{name}: the mirror image has {len(quads)} D residues in every frame")
        frames = slice(None) if traj.n_atoms < 1000 else slice(0, 4)
        clashes = clash_counts(traj[frames])
        checks.check(np.array_equal(column(doc, "clashes")[frames], clashes),
                     f"{name}: clashes as a brute-force count on MDTraj's bond graph ({clashes.tolist()[:6]}...)")

checks.finish()
