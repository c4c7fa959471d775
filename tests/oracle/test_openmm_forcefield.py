"""Oracle: molearn's C++ force-field reader and System builder against OpenMM's
Python layer (openmm.app.ForceField, OpenMM 7.7).

For villin (OpenMM's test.pdb without water and Cl-) and MurD (hydrogens added
here by Modeller.addHydrogens), `molearn energy --json --forces` must give the
energies of ForceField('amber14/protein.ff14SB.xml').createSystem(
nonbondedMethod=NoCutoff) per force group to 1e-4 relative and its forces to
1e-3 of the force norm, and `molearn physics system` must write the very same
terms (bonds, angles, torsions, charges, exceptions). Also: OBC2 implicit
solvent (amber14 + implicit/obc2.xml, and amber99sbildn + amber99_obc.xml),
reduced templates for MurD's N,CA,CB,C,O against Python molearn's way of
building them (patches deleting the other atoms, soft-core non-bonded), and
the command-line behaviour of both commands.
"""
import json
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import numpy as np  # noqa: E402
import openmm as mm  # noqa: E402
import openmm.app as app  # noqa: E402
from openmm.app.forcefield import _createResidueSignature  # noqa: E402
from openmm.app.internal import compiled  # noqa: E402

from molearn_testing import Checks, require, run, shared_data, temp_dir  # noqa: E402

ENERGY_TOLERANCE = 1e-4  # relative, per force group
FORCE_TOLERANCE = 1e-3   # |F_ours - F_openmm| / |F_openmm| over all atoms
GROUPS = {"HarmonicBondForce": 0, "HarmonicAngleForce": 1, "PeriodicTorsionForce": 2, "NonbondedForce": 3,
          "CustomNonbondedForce": 3, "GBSAOBCForce": 4, "CustomGBForce": 4}
NAMES = ["bond", "angle", "torsion", "nonbonded", "gb"]
DATA = os.path.join(os.path.dirname(app.__file__), "data")
SOFT = "C/((r/0.2)^4+1)"

murd = os.path.join(shared_data(), "murd")
murd_topology = os.path.join(murd, "MurD_test_topo.pdb")
murd_dcd = os.path.join(murd, "MurD_test.dcd")
require(murd_topology, murd_dcd)

checks = Checks("openmm force-field oracle")


def python_energies(system, positions, platform="Reference"):
    """Per-group energies (kJ/mol) and forces (kJ/mol/nm) of an OpenMM System."""
    for force in system.getForces():
        force.setForceGroup(GROUPS.get(type(force).__name__, 31))
    context = mm.Context(system, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName(platform))
    context.setPositions(positions)
    energies = {}
    present = {force.getForceGroup() for force in system.getForces()}
    for group, name in enumerate(NAMES):
        if group in present:
            state = context.getState(getEnergy=True, groups={group})
            energies[name] = state.getPotentialEnergy().value_in_unit(mm.unit.kilojoule_per_mole)
    state = context.getState(getForces=True, groups=set(range(len(NAMES))))
    return energies, state.getForces(asNumpy=True).value_in_unit(mm.unit.kilojoule_per_mole / mm.unit.nanometer)


def compare_energies(what, ours, theirs):
    for name, value in theirs.items():
        mine = ours.get(name)
        error = abs(mine - value) / max(abs(value), 1e-6) if mine is not None else float("inf")
        checks.check(error < ENERGY_TOLERANCE,
                     f"{what}: {name} {mine} vs OpenMM {value:.6f} kJ/mol (relative error {error:.1e})")
    extra = set(ours) - set(theirs) - {"frame", "total", "finite"}
    checks.check(not extra, f"{what}: no force group OpenMM lacks ({sorted(extra)})")


def compare_forces(what, ours, theirs):
    ours = np.asarray(ours, dtype=np.float64).reshape(theirs.shape)
    error = float(np.linalg.norm(ours - theirs) / np.linalg.norm(theirs))
    per_atom = np.linalg.norm(ours - theirs, axis=1)
    scale = np.linalg.norm(theirs, axis=1) + np.sqrt(np.mean(np.sum(theirs ** 2, axis=1)))
    worst = float(np.max(per_atom / scale))
    checks.check(error < FORCE_TOLERANCE and worst < 10 * FORCE_TOLERANCE,
                 f"{what}: forces |dF|/|F| {error:.1e}, worst atom {worst:.1e} of (|F_i| + rms |F|)")


def molearn_energy(tmp, structure, *options):
    forces = os.path.join(tmp, "forces.npy")
    _, out, err = run("energy", structure, "--json", "--forces", forces, *options)
    return [json.loads(line) for line in out.splitlines()], np.load(forces), err


def pair_energies(force):
    """The function a CustomNonbondedForce computes, sampled with OpenMM on one
    pair of particles, so that two spellings of the same function compare equal."""
    system = mm.System()
    pair = mm.CustomNonbondedForce(force.getEnergyFunction())
    for k in range(force.getNumGlobalParameters()):
        pair.addGlobalParameter(force.getGlobalParameterName(k), force.getGlobalParameterDefaultValue(k))
    for _ in range(2):
        system.addParticle(1.0)
        pair.addParticle([])
    system.addForce(pair)
    context = mm.Context(system, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName("Reference"))
    values = []
    for r in (0.1, 0.3, 0.7):
        context.setPositions([mm.Vec3(0, 0, 0), mm.Vec3(r, 0, 0)])
        values.append(round(context.getState(getEnergy=True).getPotentialEnergy()._value, 9))
    return tuple(values)


def term_sets(system):
    """Every term of the usual forces, rounded, as multisets."""
    terms = {}
    for force in system.getForces():
        name, c = type(force).__name__, Counter()
        if name == "HarmonicBondForce":
            for i in range(force.getNumBonds()):
                a, b, length, k = force.getBondParameters(i)
                c[(min(a, b), max(a, b), round(length._value, 6), round(k._value, 2))] += 1
        elif name == "HarmonicAngleForce":
            for i in range(force.getNumAngles()):
                a, b, d, angle, k = force.getAngleParameters(i)
                c[(min(a, d), b, max(a, d), round(angle._value, 6), round(k._value, 4))] += 1
        elif name == "PeriodicTorsionForce":
            for i in range(force.getNumTorsions()):
                a, b, d, e, n, phase, k = force.getTorsionParameters(i)
                c[(a, b, d, e, n, round(phase._value, 6), round(k._value, 5))] += 1
        elif name == "NonbondedForce":
            for i in range(force.getNumParticles()):
                q, sigma, epsilon = force.getParticleParameters(i)
                c[("particle", i, round(q._value, 6), round(sigma._value, 6), round(epsilon._value, 6))] += 1
            for i in range(force.getNumExceptions()):
                a, b, q, sigma, epsilon = force.getExceptionParameters(i)
                c[("exception", min(a, b), max(a, b), round(q._value, 6), round(sigma._value, 6),
                   round(epsilon._value, 6))] += 1
        elif name == "CustomNonbondedForce":
            c[("pair energy at 0.1, 0.3, 0.7 nm", pair_energies(force))] += 1
            for i in range(force.getNumExclusions()):
                a, b = force.getExclusionParticles(i)
                c[("exclusion", min(a, b), max(a, b))] += 1
        else:
            continue
        terms[name] = c
    return terms


def compare_terms(what, ours, theirs, forces=None):
    a, b = term_sets(ours), term_sets(theirs)
    for name in forces or sorted(b):
        mine, other = a.get(name, Counter()), b.get(name, Counter())
        missing, extra = other - mine, mine - other
        checks.check(not missing and not extra and sum(other.values()) > 0,
                     f"{what}: {name} {sum(mine.values())} terms, OpenMM {sum(other.values())}; "
                     f"only OpenMM's {list(missing.elements())[:2]}, only ours {list(extra.elements())[:2]}")


def our_system(tmp, *args):
    path = os.path.join(tmp, "system.xml")
    run("physics", "system", *args, "-o", path)
    with open(path) as f:
        return mm.XmlSerializer.deserialize(f.read())


def full_atom_checks(tmp, what, pdb_path, platform="Reference", obc_files=()):
    pdb = app.PDBFile(pdb_path)
    forcefield = app.ForceField("amber14/protein.ff14SB.xml")
    system = forcefield.createSystem(pdb.topology, nonbondedMethod=app.NoCutoff)
    frames, forces, _ = molearn_energy(tmp, pdb_path, "--platform", platform)
    theirs, their_forces = python_energies(system, pdb.positions, platform)
    compare_energies(f"{what}, amber14", frames[0], theirs)
    compare_forces(f"{what}, amber14", forces[0], their_forces)
    compare_terms(f"{what}, amber14", our_system(tmp, pdb_path), system)

    # With a cutoff: OpenMM's CutoffNonPeriodic (reaction field), Lennard-Jones switched over the last 0.1 nm.
    system = forcefield.createSystem(pdb.topology, nonbondedMethod=app.CutoffNonPeriodic,
                                     nonbondedCutoff=1.2 * mm.unit.nanometer, switchDistance=1.1 * mm.unit.nanometer)
    frames, forces, _ = molearn_energy(tmp, pdb_path, "--platform", platform, "--nonbonded-cutoff", "1.2")
    theirs, their_forces = python_energies(system, pdb.positions, platform)
    compare_energies(f"{what}, amber14, 1.2 nm cutoff", frames[0], theirs)
    compare_forces(f"{what}, amber14, 1.2 nm cutoff", forces[0], their_forces)

    for files in obc_files:
        system = app.ForceField(*files).createSystem(pdb.topology, nonbondedMethod=app.NoCutoff)
        frames, forces, _ = molearn_energy(tmp, pdb_path, "--platform", platform, "--forcefield", ",".join(files))
        theirs, their_forces = python_energies(system, pdb.positions, platform)
        compare_energies(f"{what}, {' + '.join(files)}", frames[0], theirs)
        compare_forces(f"{what}, {' + '.join(files)}", forces[0], their_forces)


# ---- Python molearn's reduced templates (its physics loss) ----

class ReducedForceField(app.ForceField):
    """Python molearn's ModifiedForceField: when several patched templates
    match a residue, the one named after it (or its N/C-terminal variant)
    wins; HIS means HIE."""

    def _getResidueTemplateMatches(self, res, bondedToAtom, templateSignatures=None, ignoreExternalBonds=False,
                                   ignoreExtraParticles=False):
        signatures = self._templateSignatures if templateSignatures is None else templateSignatures
        found = []
        for template in signatures.get(_createResidueSignature([a.element for a in res.atoms()]), []):
            match = compiled.matchResidueToTemplate(res, template, bondedToAtom, ignoreExternalBonds,
                                                    ignoreExtraParticles)
            if match is not None:
                found.append((template, match))
        name = {"HIS": "HIE"}.get(res.name, res.name)
        for template, match in found:
            if template.name.split("-")[0] in (name, "N" + name, "C" + name):
                return [template, match]
        return list(found[0]) if found else [None, None]


def reduced_forcefield(keep):
    """Every template gets a patch deleting the atoms not in `keep`."""
    forcefield = ReducedForceField("amber14/protein.ff14SB.xml")
    for name, template in list(forcefield._templates.items()):
        patch = app.ForceField._PatchData(name + "-keep", 1)
        for atom in template.atoms:
            if atom.name not in keep:
                patch.allAtomNames.add(atom.name)
                patch.deletedAtoms.append(app.ForceField._PatchAtomData(atom.name))
        for index in template.externalBonds:
            if template.atoms[index].name not in keep:
                patch.deletedExternalBonds.append(app.ForceField._PatchAtomData(template.atoms[index].name))
        forcefield.registerTemplatePatch(name, patch.name, 0)
        forcefield.registerPatch(patch)
    return forcefield


def add_soft_core(system):
    """Python molearn's soft_xml_script: no NonbondedForce, a soft core
    C/((r/0.2)^4+1), C = 1 kJ/mol, 1-2 and 1-3 pairs excluded."""
    for i in reversed(range(system.getNumForces())):
        if isinstance(system.getForce(i), (mm.NonbondedForce, mm.CMMotionRemover)):
            system.removeForce(i)
    soft = mm.CustomNonbondedForce(SOFT)
    soft.addGlobalParameter("C", 1.0)
    for _ in range(system.getNumParticles()):
        soft.addParticle([])
    bonded = [set() for _ in range(system.getNumParticles())]
    bonds = [f for f in system.getForces() if isinstance(f, mm.HarmonicBondForce)][0]
    for i in range(bonds.getNumBonds()):
        a, b, _, _ = bonds.getBondParameters(i)
        bonded[a].add(b)
        bonded[b].add(a)
    pairs = set()
    for a in range(len(bonded)):
        for b in bonded[a]:
            pairs.add((min(a, b), max(a, b)))
            for c in bonded[b]:
                if c != a:
                    pairs.add((min(a, c), max(a, c)))
    for a, b in sorted(pairs):
        soft.addExclusion(a, b)
    system.addForce(soft)
    return system


def reduced_checks(tmp, hydrogenated):
    keep = ["N", "CA", "CB", "C", "O"]
    pdb = app.PDBFile(murd_topology)
    modeller = app.Modeller(pdb.topology, pdb.positions)
    modeller.delete([a for a in modeller.topology.atoms() if a.name not in keep])
    system = reduced_forcefield(keep).createSystem(modeller.topology, nonbondedMethod=app.NoCutoff)

    # The reduced System of a dataset: same terms and charges as Python molearn's.
    dataset = os.path.join(tmp, "murd.mlds")
    run("prepare", murd_dcd, "--top", murd_topology, "-o", dataset)
    compare_terms("MurD N,CA,CB,C,O from the dataset", our_system(tmp, dataset, "--nonbonded", "full"), system)
    soft_system = add_soft_core(system)
    compare_terms("MurD N,CA,CB,C,O soft core", our_system(tmp, dataset), soft_system,
                  ["HarmonicBondForce", "HarmonicAngleForce", "PeriodicTorsionForce", "CustomNonbondedForce"])

    # Energies of all 16 frames of the trajectory, soft core.
    frames, forces, _ = molearn_energy(tmp, murd_dcd, "--top", murd_topology, "--atoms", ",".join(keep),
                                       "--nonbonded", "soft", "--platform", "Reference")
    import mdtraj as md
    trajectory = md.load_dcd(murd_dcd, top=murd_topology)
    selected = trajectory.topology.select(" or ".join(f"name {n}" for n in keep))
    checks.check(len(frames) == trajectory.n_frames == 16, f"molearn energy reads {len(frames)} DCD frames")
    worst_energy = worst_force = 0.0
    for index, frame in enumerate(frames):
        theirs, their_forces = python_energies(soft_system, trajectory.xyz[index, selected])
        for name, value in theirs.items():
            worst_energy = max(worst_energy, abs(frame[name] - value) / abs(value))
        worst_force = max(worst_force, float(np.linalg.norm(forces[index] - their_forces) /
                                             np.linalg.norm(their_forces)))
    checks.check(worst_energy < ENERGY_TOLERANCE and worst_force < FORCE_TOLERANCE,
                 f"MurD N,CA,CB,C,O soft core, 16 frames: worst energy error {worst_energy:.1e}, "
                 f"worst force error {worst_force:.1e}")

    # Reduced terms are the full-atom terms whose atoms are all kept.
    full_pdb = app.PDBFile(hydrogenated)
    full = term_sets(app.ForceField("amber14/protein.ff14SB.xml").createSystem(full_pdb.topology))
    kept = [a.index for a in full_pdb.topology.atoms() if a.name in keep]
    index_of = {atom: i for i, atom in enumerate(kept)}
    reduced = term_sets(our_system(tmp, dataset))
    for name, width in [("HarmonicBondForce", 2), ("HarmonicAngleForce", 3), ("PeriodicTorsionForce", 4)]:
        subset = Counter()
        for term, count in full[name].items():
            if all(a in index_of for a in term[:width]):
                subset[tuple(index_of[a] for a in term[:width]) + term[width:]] += count
        checks.check(subset == reduced[name] and sum(subset.values()) > 0,
                     f"MurD reduced {name}: {sum(reduced[name].values())} terms = the "
                     f"{sum(subset.values())} full-atom terms with all atoms kept")


def command_line_checks(tmp, pdb_path):
    for args in (["energy", "--help"], ["physics", "--help"], ["physics", "system", "--help"]):
        code, out, _ = run(*args)
        checks.check(code == 0 and "Examples:" in out and "molearn " + args[0] in out,
                     f"{' '.join(args)} has examples")
    broken = os.path.join(tmp, "broken.xml")
    with open(broken, "w") as f:
        f.write("<ForceField>\n <AtomTypes>\n  <Type name='x'\n")
    code, _, err = run("energy", pdb_path, "--forcefield", broken, expect_ok=False)
    checks.check(code == 2 and "broken.xml" in err and "line" in err, f"broken force field: exit {code}, {err.strip()}")
    code, _, err = run("energy", murd_topology, "--atoms", "protein", expect_ok=False)
    checks.check(code == 2 and "residue ALA 1 (chain A)" in err and "missing atoms: H1" in err,
                 f"heavy-atom structure, full-atom templates asked for: exit {code}, {err.strip()[:120]}")
    # Without --atoms a structure without hydrogens (as generated conformers are) is scored with templates
    # reduced to its atoms and the soft core, exactly as with those atoms named.
    _, out, _ = run("energy", murd_topology, "--json")
    _, named, _ = run("energy", murd_topology, "--json", "--nonbonded", "soft", "--atoms", "heavy")
    checks.check(json.loads(out)["total"] == json.loads(named)["total"] and json.loads(out)["finite"],
                 f"heavy-atom structure by default: reduced templates, soft core ({json.loads(out)['total']:.1f} kJ/mol)")
    out_dir = os.path.join(tmp, "out")
    os.makedirs(out_dir)
    code, _, err = run("physics", "system", pdb_path, "-o", os.path.join(out_dir, "missing", "s.xml"),
                       expect_ok=False)
    checks.check(code == 3 and os.listdir(out_dir) == [], f"unwritable output: exit {code}, no file left behind")
    code, _, err = run("energy", pdb_path, "--atoms", "CA", expect_ok=False)
    checks.check(code == 2 and "no two bonded atoms" in err, f"CA-only system refused: {err.strip()[:100]}")


with temp_dir() as tmp:
    # (a) villin headpiece: OpenMM's test.pdb without water and the two Cl-,
    # which amber14/protein.ff14SB.xml has no templates for.
    raw = app.PDBFile(os.path.join(DATA, "test.pdb"))
    modeller = app.Modeller(raw.topology, raw.positions)
    modeller.deleteWater()
    modeller.delete([r for r in modeller.topology.residues() if r.name == "Cl"])
    villin = os.path.join(tmp, "villin.pdb")
    with open(villin, "w") as f:
        app.PDBFile.writeFile(modeller.topology, modeller.positions, f)
    full_atom_checks(tmp, "villin", villin, obc_files=[("amber14/protein.ff14SB.xml", "implicit/obc2.xml"),
                                                       ("amber99sbildn.xml", "amber99_obc.xml")])
    # The raw file (GROMACS atom names, water, ions) gives the same energies:
    # names compare through pdbNames.xml, residues without templates are left out.
    frames, _, err = molearn_energy(tmp, os.path.join(DATA, "test.pdb"), "--platform", "Reference")
    clean, _, _ = molearn_energy(tmp, villin, "--platform", "Reference")
    checks.check(all(abs(frames[0][n] - clean[0][n]) < 1e-6 * abs(clean[0][n]) for n in NAMES[:4])
                 and "HOH x 2761" in err, f"raw test.pdb: same energies, {err.strip()}")

    # (b) MurD with hydrogens added by OpenMM.
    pdb = app.PDBFile(murd_topology)
    modeller = app.Modeller(pdb.topology, pdb.positions)
    modeller.addHydrogens(app.ForceField("amber14/protein.ff14SB.xml"))
    hydrogenated = os.path.join(tmp, "murd_h.pdb")
    with open(hydrogenated, "w") as f:
        app.PDBFile.writeFile(modeller.topology, modeller.positions, f)
    full_atom_checks(tmp, f"MurD ({modeller.topology.getNumAtoms()} atoms)", hydrogenated, platform="CPU",
                     obc_files=[("amber14/protein.ff14SB.xml", "implicit/obc2.xml")])

    # (c) reduced templates, as Python molearn's physics loss.
    reduced_checks(tmp, hydrogenated)

    # (d) the command line.
    command_line_checks(tmp, villin)

checks.finish()
