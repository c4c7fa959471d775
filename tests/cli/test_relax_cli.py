"""`molearn relax`: minimisation lowers the force-field energy of structures
(checked by an independent evaluation with `molearn energy`), optional
Langevin dynamics runs, bad input is refused cleanly.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import Checks, run, source_dir, temp_dir  # noqa: E402

checks = Checks("relax")
fixtures = os.path.join(source_dir(), "examples", "data")
top = os.path.join(fixtures, "2mi7_heavy_topology.pdb")
dcd = os.path.join(fixtures, "2mi7_heavy.dcd")


def energies(path, *extra):
    code, out, err = run("energy", path, "--json", "--nonbonded", "soft", "--atoms", "N,CA,CB,C,O", *extra)
    return [json.loads(line)["total"] for line in out.splitlines() if line.startswith("{")]


with temp_dir() as tmp:
    # A generated-like model: N, CA, CB, C, O only, three frames of the ensemble, perturbed by the
    # model's own round trip through PDB.
    model = os.path.join(tmp, "model.pdb")
    run("convert", dcd, "--top", top, "-o", model, "--atoms", "N,CA,CB,C,O", "--stride", "11")
    relaxed = os.path.join(tmp, "relaxed.pdb")
    code, out, err = run("relax", model, "-o", relaxed, "--steps", "200")
    frames = [l for l in out.splitlines() if l.startswith("frame")]
    checks.check(len(frames) == 3 and "reduced templates" in out, f"relax reports every frame: {frames}")
    before, after = energies(model), energies(relaxed)
    checks.check(len(before) == len(after) == 3 and all(a < b for a, b in zip(after, before)),
                 f"minimisation lowers the soft-core energy (molearn energy): {before} -> {after}")
    code, out, err = run("relax", model, "-o", os.path.join(tmp, "md.dcd"), "--steps", "50", "--md-steps", "100")
    checks.check("wrote 3 relaxed structures" in out, "minimisation + 100 Langevin steps writes a DCD")

    # Dynamics after minimisation stay at the temperature asked for: the potential energy rises by about
    # kT/2 per degree of freedom (3N/2 kT), not by tens of thousands of kJ/mol (velocities drawn before the
    # minimiser ran made the dynamics blow up).
    one = os.path.join(tmp, "one.pdb")
    run("convert", model, "-o", one, "--stride", "3")
    code, out, err = run("relax", one, "-o", os.path.join(tmp, "min.pdb"), "--steps", "0")
    minimised = float(out.split("->")[1].split()[0])
    atoms = int(out.split(":")[1].split()[0])
    kt = 0.0083144626 * 300
    code, out, err = run("relax", one, "-o", os.path.join(tmp, "md300.pdb"), "--steps", "0", "--md-steps", "500",
                         "--temperature", "300")
    after_md = float(out.split("->")[1].split()[0])
    checks.check(minimised - 10 * kt < after_md < minimised + 3 * atoms * kt,
                 f"500 Langevin steps at 300 K after minimising: {minimised:.0f} -> {after_md:.0f} kJ/mol "
                 f"(thermal scale 3N/2 kT = {1.5 * atoms * kt:.0f} for {atoms} atoms)")

    # A collapsed peptide bond as a poorly trained model writes it: the C of residue 5 exactly on
    # the N of residue 6. OpenMM's angle energy is NaN there; relax moves the atom apart first.
    with open(model) as f:
        lines = f.read().splitlines(keepends=True)
    end = next(i for i, l in enumerate(lines) if l.startswith("ENDMDL"))
    first = lines[:end + 1]
    atom = {(l[12:16].strip(), int(l[22:26])): i for i, l in enumerate(first) if l.startswith("ATOM")}
    c5, n6 = atom[("C", 5)], atom[("N", 6)]
    first[c5] = first[c5][:30] + first[n6][30:54] + first[c5][54:]
    collapsed = os.path.join(tmp, "collapsed.pdb")
    with open(collapsed, "w") as f:
        f.writelines(first)
    checks.check(energies(collapsed, "--termini", "chains", "--engine", "openmm") == [None],
                 "a structure with two coincident bonded atoms has no finite energy in OpenMM")
    code, out, err = run("relax", collapsed, "-o", os.path.join(tmp, "separated.pdb"), "--steps", "200",
                         "--termini", "chains")
    fixed = energies(os.path.join(tmp, "separated.pdb"), "--termini", "chains")
    checks.check("1 atoms on top of others were first moved 0.01 A apart" in out and len(fixed) == 1 and
                 fixed[0] is not None and fixed[0] < 1e5,
                 f"relax separates coincident atoms and minimises: {out.strip().splitlines()[-2]}; energy {fixed}")

    # Every frame is checked after relaxing, in a CSV beside the output: the NMR frames come out with
    # every bond within 0.1 A of ideal and are not flagged; their mirror image (every residue but
    # glycine turned D, which no minimiser repairs) is flagged, in the CSV and in a warning.
    with open(os.path.join(tmp, "relaxed.csv")) as f:
        rows = [line.rstrip("\n").split(",") for line in f]
    header, rows = rows[0], rows[1:]
    checks.check(header == ["frame", "energy_before", "energy_after", "bond_rms_deviation", "max_bond_deviation",
                            "stretched_bonds", "d_residues", "flagged"] and len(rows) == 3,
                 f"relax writes relaxed.csv with a line per frame: {header}, {len(rows)} rows")
    checks.check(all(float(r[4]) < 0.1 and r[5] == "0" and r[6] == "0" and r[7] == "0" for r in rows),
                 f"relaxed NMR frames: largest bond deviation < 0.1 A, no D residue, not flagged: {rows}")
    code, out, err = run("relax", model, "-o", os.path.join(tmp, "again.pdb"))
    checks.check("until converged" in out and "every frame has its" in out and "FLAGGED" not in out,
                 f"by default relax minimises until converged and says every frame is sound: {out[-300:]}")
    mirrored = os.path.join(tmp, "mirrored.pdb")
    with open(model) as f, open(mirrored, "w") as g:
        for line in f:
            if line.startswith("ATOM"):
                line = line[:30] + f"{-float(line[30:38]):8.3f}" + line[38:]
            g.write(line)
    report = os.path.join(tmp, "mirror-report.csv")
    code, out, err = run("relax", mirrored, "-o", os.path.join(tmp, "mirror-relaxed.dcd"), "--report", report)
    with open(report) as f:
        flags = [line.rstrip("\n").split(",") for line in f][1:]
    checks.check(code == 0 and out.count("FLAGGED: not repaired") == 3 and "warning: 3 of 3 frames" in out and
                 all(r[7] == "1" and float(r[6]) > 10 for r in flags),
                 f"mirrored frames are flagged (D residues) in the output, the summary and --report: {flags}")
    code, out, err = run("relax", model, "-o", os.path.join(tmp, "same.pdb"), "--report",
                         os.path.join(tmp, "same.pdb"), expect_ok=False)
    checks.check(code != 0 and "--report" in err and not os.path.exists(os.path.join(tmp, "same.pdb")),
                 f"--report naming the output is refused: {err.strip()}")

    bad = os.path.join(tmp, "bad")
    os.makedirs(bad)
    for what, args, fragment in [
        ("negative steps", ["relax", model, "-o", os.path.join(bad, "x.pdb"), "--steps", "-1"], "--steps"),
        ("missing input", ["relax", os.path.join(bad, "none.pdb"), "-o", os.path.join(bad, "x.pdb")], "no such file"),
        ("DCD without topology", ["relax", dcd, "-o", os.path.join(bad, "x.pdb")], "--top"),
    ]:
        code, out, err = run(*args, expect_ok=False)
        checks.check(code != 0 and fragment in err and not os.listdir(bad), f"{what}: exit {code}, '{err.strip()}'")

checks.finish()
