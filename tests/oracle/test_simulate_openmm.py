"""Oracle and behaviour of `molearn simulate` against OpenMM's Python layer,
on OpenMM's villin headpiece (test.pdb, which python3-simtk ships: no shared
data needed).

- Hydrogens: villin stripped of every hydrogen (histidine renamed HIS so that
  its protonation must be decided) gets the same hydrogens, residue by
  residue, as Modeller.addHydrogens(ForceField('amber14-all.xml')) gives, and
  the same histidine variant.
- Energies: the energy printed before and after minimisation equals
  OpenMM Python's energy of the input and of the minimised structure written
  beside the trajectory (amber14, constraints=HBonds, NoCutoff; vacuum and
  OBC2).
- Dynamics: the same seed gives the same trajectory on the Reference platform
  and another seed another one; at 300 K the kinetic temperature and the
  potential energy stay in the thermal range; Ctrl-C leaves a valid DCD.
- Bad input: unknown residue, missing heavy atoms, a chain break, water
  without --strip-water, a topology that would overwrite the input, a system
  that blows up: a clear error naming the residue or the step.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import mdtraj  # noqa: E402
import openmm as mm  # noqa: E402
import openmm.app as app  # noqa: E402
import openmm.unit as unit  # noqa: E402

from molearn_testing import Checks, molearn_bin, run, temp_dir  # noqa: E402

DATA = os.path.join(os.path.dirname(app.__file__), "data")
checks = Checks("simulate oracle")


def write_villin(path, keep_hydrogens=True, rename_his=False):
    """OpenMM's villin without water and ions (and optionally without hydrogens)."""
    pdb = app.PDBFile(os.path.join(DATA, "test.pdb"))
    modeller = app.Modeller(pdb.topology, pdb.positions)
    modeller.deleteWater()
    modeller.delete([a for a in modeller.topology.atoms() if a.residue.name in ("CL", "Cl")])
    if not keep_hydrogens:
        modeller.delete([a for a in modeller.topology.atoms() if a.element == app.element.hydrogen])
    if rename_his:
        for residue in modeller.topology.residues():
            if residue.name in ("HIE", "HID", "HIP"):
                residue.name = "HIS"
    with open(path, "w") as f:
        app.PDBFile.writeFile(modeller.topology, modeller.positions, f)
    return modeller


def hydrogens_by_residue(pdb_path):
    """{residue number: (residue name, sorted hydrogen names)} of a PDB file."""
    residues = {}
    with open(pdb_path) as f:
        for line in f:
            if not line.startswith(("ATOM", "HETATM")):
                continue
            name, res_name, res_seq = line[12:16].strip(), line[17:20].strip(), int(line[22:26])
            element = line[76:78].strip() or name[0]
            entry = residues.setdefault(res_seq, [res_name, []])
            if element == "H":
                entry[1].append(name)
    return {k: (v[0], sorted(v[1])) for k, v in residues.items()}


def printed_energies(stdout):
    match = re.search(r"energy before minimisation (\S+) kJ/mol, after (\S+) kJ/mol", stdout)
    assert match, stdout
    return float(match.group(1)), float(match.group(2))


def python_energy(pdb_path, implicit):
    pdb = app.PDBFile(pdb_path)
    files = ["amber14-all.xml"] + (["implicit/obc2.xml"] if implicit else [])
    system = app.ForceField(*files).createSystem(pdb.topology, nonbondedMethod=app.NoCutoff,
                                                 constraints=app.HBonds)
    context = mm.Context(system, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName("Reference"))
    context.setPositions(pdb.positions)
    return context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)


def check_hydrogens(tmp):
    bare = os.path.join(tmp, "bare.pdb")
    write_villin(bare, keep_hydrogens=False, rename_his=True)
    _, out, _ = run("simulate", bare, "-o", os.path.join(tmp, "bare-h.dcd"), "--steps", "0", "--platform", "Reference")
    ours = hydrogens_by_residue(os.path.join(tmp, "bare-h.pdb"))
    pdb = app.PDBFile(bare)
    modeller = app.Modeller(pdb.topology, pdb.positions)
    variants = modeller.addHydrogens(app.ForceField("amber14-all.xml"))
    theirs = {}
    for residue, variant in zip(modeller.topology.residues(), variants):
        names = sorted(a.name for a in residue.atoms() if a.element == app.element.hydrogen)
        theirs[int(residue.id)] = (variant or residue.name, names)
    same = [k for k in theirs if k in ours and ours[k][1] == theirs[k][1]]
    checks.check(len(same) == len(theirs) == len(ours),
                 f"hydrogens of all {len(theirs)} residues equal Modeller.addHydrogens' "
                 f"({sum(len(v[1]) for v in ours.values())} vs {sum(len(v[1]) for v in theirs.values())}; "
                 f"differ: {[(k, ours.get(k), theirs[k]) for k in theirs if k not in same][:3]})")
    his = [k for k, v in theirs.items() if v[0] in ("HID", "HIE", "HIP")]
    checks.check(his and all(ours[k][0] == theirs[k][0] for k in his),
                 f"histidine variants as Modeller's: {[(ours[k][0], theirs[k][0]) for k in his]}")
    added = re.search(r"(\d+) hydrogens added", out)
    checks.check(added and int(added.group(1)) == sum(len(v[1]) for v in theirs.values()),
                 f"prints the number of hydrogens added ({added.group(1) if added else out})")
    # The hydrogens sit where chemistry puts them after the minimisation.
    t = mdtraj.load(os.path.join(tmp, "bare-h.pdb"))
    pairs = [(b[0].index, b[1].index) for b in t.topology.bonds
             if (b[0].element.symbol == "H") != (b[1].element.symbol == "H")]
    lengths = mdtraj.compute_distances(t, pairs)[0] * 10
    checks.check(len(pairs) > 250 and 0.95 < lengths.min() and lengths.max() < 1.12,
                 f"X-H bond lengths of the added hydrogens in [{lengths.min():.3f}, {lengths.max():.3f}] A")


def check_energies(tmp):
    full = os.path.join(tmp, "villin.pdb")
    write_villin(full)
    for implicit in (False, True):
        tag = "obc2" if implicit else "vacuum"
        out_dcd = os.path.join(tmp, f"min-{tag}.dcd")
        _, out, _ = run("simulate", full, "-o", out_dcd, "--steps", "0", "--platform", "Reference",
                        *(["--implicit", "obc2"] if implicit else []))
        before, after = printed_energies(out)
        python_before = python_energy(full, implicit)
        python_after = python_energy(out_dcd.replace(".dcd", ".pdb"), implicit)
        checks.check(abs(before - python_before) <= 1e-4 * max(1.0, abs(python_before)) + 0.01,
                     f"{tag}: energy before minimisation {before:.4f} = OpenMM Python {python_before:.4f} kJ/mol")
        # The minimised structure is written to a PDB (0.001 A): its energy
        # moves by a fraction of a kJ/mol.
        checks.check(abs(after - python_after) < 1.0,
                     f"{tag}: energy after minimisation {after:.3f} = OpenMM Python's of the written "
                     f"structure {python_after:.3f} kJ/mol")
        checks.check(after < before - 1000, f"{tag}: minimisation lowers the energy ({before:.0f} -> {after:.0f})")
    return full


def check_determinism(tmp, full):
    def trajectory(seed, name):
        path = os.path.join(tmp, name)
        run("simulate", full, "-o", path, "--steps", "30", "--report-every", "10", "--seed", seed,
            "--platform", "Reference")
        with open(path, "rb") as f:
            return f.read()
    a, b, c = trajectory("7", "a.dcd"), trajectory("7", "b.dcd"), trajectory("8", "c.dcd")
    checks.check(a == b and len(a) > 3 * 582 * 12, "the same seed gives the same trajectory (Reference platform)")
    checks.check(a != c, "another seed gives another trajectory")
    t = mdtraj.load(os.path.join(tmp, "a.dcd"), top=os.path.join(tmp, "a.pdb"))
    checks.check(t.n_frames == 3 and t.n_atoms == 582, f"3 frames of 582 atoms ({t.n_frames}, {t.n_atoms})")
    # Stopped after 2 frames and resumed from its checkpoint: the same bytes.
    resumed = os.path.join(tmp, "r.dcd")
    common = ["--report-every", "10", "--seed", "7", "--platform", "Reference"]
    run("simulate", full, "-o", resumed, "--steps", "20", *common)
    _, out, _ = run("simulate", full, "-o", resumed, "--steps", "30", "--resume", *common)
    with open(resumed, "rb") as f:
        checks.check(f.read() == a and "resuming at step 20 after 2 frames" in out,
                     "a run resumed from its checkpoint continues exactly (same DCD bytes)")
    code, _, err = run("simulate", full, "-o", resumed, "--steps", "40", "--resume", "--temperature", "350", *common,
                       expect_ok=False)
    checks.check(code == 2 and "other input or options" in err and "temperature=350" in err,
                 f"--resume with other options is refused: {err.strip()[:160]}")
    code, _, err = run("simulate", full, "-o", os.path.join(tmp, "never.dcd"), "--resume", *common, expect_ok=False)
    checks.check(code != 0 and "--resume" in err and "not found" in err, f"--resume without a run: {err.strip()[:100]}")


def check_thermal_range(tmp, full):
    # 582 atoms, 293 constrained bonds, no centre-of-mass motion: 1450 degrees
    # of freedom; at equilibrium the potential energy sits about
    # (dof/2) kT above the minimum (harmonic estimate) and T within a few %.
    _, out, err = run("simulate", full, "-o", os.path.join(tmp, "md.dcd"), "--steps", "3000", "--report-every",
                      "1000", "--threads", "1")
    _, e_min = printed_energies(out)
    last = re.findall(r"E (\S+) kJ/mol\s+T (\S+) K", err)
    checks.check(len(last) >= 1, f"progress lines show energy and temperature ({err[-300:]})")
    e_last, t_last = float(last[-1][0]), float(last[-1][1])
    half_dof_kt = 1450 / 2 * 0.0083144626 * 300
    checks.check(250 < t_last < 350, f"kinetic temperature after 6 ps at 300 K: {t_last:.0f} K")
    checks.check(0.4 * half_dof_kt < e_last - e_min < 1.6 * half_dof_kt,
                 f"potential energy {e_last - e_min:.0f} kJ/mol above the minimum (thermal: ~{half_dof_kt:.0f})")
    checks.check("ns/day" in err and "ETA" in err, "progress shows ns/day and ETA")


def check_interrupt(tmp, full):
    out_dcd = os.path.join(tmp, "long.dcd")
    proc = subprocess.Popen([molearn_bin(), "simulate", full, "-o", out_dcd, "--steps", "100000000",
                             "--report-every", "20", "--threads", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not os.path.exists(out_dcd.replace(".dcd", ".pdb")):
        time.sleep(0.2)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    frames = re.search(r"interrupted: (\d+) frames", out)
    checks.check(proc.returncode == 130 and frames is not None,
                 f"Ctrl-C ends with exit 130 and says how many frames ({proc.returncode}: {out[-200:]} {err[-200:]})")
    if frames:
        t = mdtraj.load(out_dcd, top=out_dcd.replace(".dcd", ".pdb"))
        checks.check(t.n_frames == int(frames.group(1)) > 0,
                     f"the interrupted DCD is valid with the frames announced ({t.n_frames})")


def edited(src, dst, edit):
    with open(src) as f:
        lines = f.readlines()
    with open(dst, "w") as f:
        f.writelines(line for line in (edit(line) for line in lines) if line is not None)
    return dst


def check_bad_inputs(tmp, full):
    def res_seq(line):
        return int(line[22:26]) if line.startswith("ATOM") else None

    cases = {
        "unknown residue": (lambda l: l[:17] + "XYZ" + l[20:] if res_seq(l) == 5 else l, r"residue XYZ 5.*knows residue XYZ"),
        "missing heavy atoms": (lambda l: None if res_seq(l) == 6 and l[12:16].strip() in ("CG", "CD1", "CD2")
                                else l, r"residue PHE 6"),
        "chain break": (lambda l: None if res_seq(l) in (10, 11, 12) else l, r"breaks between VAL 9 and THR 13"),
    }
    for what, (edit, pattern) in cases.items():
        path = edited(full, os.path.join(tmp, what.replace(" ", "_") + ".pdb"), edit)
        code, out, err = run("simulate", path, "-o", os.path.join(tmp, "bad.dcd"), "--steps", "10", "--report-every",
                             "10", "--platform", "Reference", expect_ok=False)
        checks.check(code != 0 and re.search(pattern, err) is not None and "Traceback" not in err,
                     f"{what}: exit {code}, error names it: {err.strip()[:160]}")
        checks.check(not os.path.exists(os.path.join(tmp, "bad.dcd")), f"{what}: no trajectory written")
    code, _, err = run("simulate", os.path.join(DATA, "test.pdb"), "-o", os.path.join(tmp, "w.dcd"),
                       expect_ok=False)
    checks.check(code != 0 and "--strip-water" in err, f"water without --strip-water: {err.strip()[:120]}")
    with open(full, "rb") as f:
        before = f.read()
    code, _, err = run("simulate", full, "-o", full.replace(".pdb", ".dcd"), expect_ok=False)
    with open(full, "rb") as f:
        unchanged = f.read() == before
    checks.check(code != 0 and unchanged and "villin.pdb" in err,
                 f"a topology that would overwrite the input is refused: {err.strip()[:120]}")
    # Systems that blow up: 5 fs steps with light hydrogens at 1000 K (caught
    # at a frame: NaN energy), and 2.5 fs at 2000 K (OpenMM stops inside a
    # chunk on NaN coordinates).
    for name, args in (("boom", ["--timestep", "5", "--temperature", "1000", "--report-every", "10"]),
                       ("boom2", ["--timestep", "2.5", "--temperature", "2000", "--report-every", "250"])):
        boom = os.path.join(tmp, f"{name}.dcd")
        code, out, err = run("simulate", full, "-o", boom, "--steps", "20000", "--friction", "0.01", "--threads", "1",
                             *args, expect_ok=False)
        step = re.search(r"blew up between step (\d+) and step (\d+).*the (\d+) frames", err)
        first = re.search(r"blew up in its first \d+ steps.*nothing was written", err)
        checks.check(code != 0 and (step or first) is not None,
                     f"{name}: a system that blows up names the step: {err.strip()[-200:]}")
        if step:
            t = mdtraj.load(boom, top=boom.replace(".dcd", ".pdb"))
            checks.check(t.n_frames == int(step.group(3)) > 0, f"{name}: its frames so far stay a valid DCD "
                                                                f"({t.n_frames})")
        else:
            checks.check(not os.path.exists(boom), f"{name}: blown up before the first frame: no DCD")
    # Options that cannot work are refused before anything runs.
    for what, args, pattern in (
            ("fewer steps than a frame", ["-o", os.path.join(tmp, "refused.dcd"), "--steps", "5", "--report-every", "10"],
             "no frame would be written"),
            ("a pH that deprotonates cysteines", ["-o", os.path.join(tmp, "refused.dcd"), "--ph", "9"],
             "not supported yet"),
            ("a missing output folder", ["-o", os.path.join(tmp, "no", "x.dcd")], "does not exist")):
        code, _, err = run("simulate", full, *args, expect_ok=False)
        checks.check(code == 2 and pattern in err, f"{what}: exit {code}: {err.strip()[:140]}")

with temp_dir() as tmp:
    check_hydrogens(tmp)
    full = check_energies(tmp)
    check_determinism(tmp, full)
    check_thermal_range(tmp, full)
    check_interrupt(tmp, full)
    check_bad_inputs(tmp, full)
checks.finish()
