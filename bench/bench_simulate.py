"""`molearn simulate` against OpenMM's Python layer, the same dynamics in one
run: OpenMM's villin (test.pdb without water and ions, 582 atoms), Amber
ff14SB, no cutoff, in vacuum (4 fs steps, hydrogen masses 1.5 Da) and in OBC2
implicit solvent (2 fs), bonds to hydrogen constrained, LangevinMiddle at
300 K, one frame every 500 steps to a DCD, OpenMM's CPU platform with the
same thread count. Prints ns/day of each and the ratio; both minimise first,
outside the timing of the dynamics (molearn's own progress line gives its
rate over the dynamics alone: this script times the whole command minus a
--steps 0 run of it).

  /usr/bin/python3 bench/bench_simulate.py [--molearn build/molearn] [--steps 20000] [--threads 1]
"""
import argparse
import os
import subprocess
import tempfile
import time

import openmm as mm
import openmm.app as app
import openmm.unit as unit

DATA = os.path.join(os.path.dirname(app.__file__), "data")


def villin(path):
    pdb = app.PDBFile(os.path.join(DATA, "test.pdb"))
    modeller = app.Modeller(pdb.topology, pdb.positions)
    modeller.deleteWater()
    modeller.delete([a for a in modeller.topology.atoms() if a.residue.name in ("CL", "Cl")])
    with open(path, "w") as f:
        app.PDBFile.writeFile(modeller.topology, modeller.positions, f)
    return modeller


def python_ns_per_day(modeller, implicit, steps, timestep_fs, threads, tmp):
    files = ["amber14-all.xml"] + (["implicit/obc2.xml"] if implicit else [])
    system = app.ForceField(*files).createSystem(modeller.topology, nonbondedMethod=app.NoCutoff,
                                                 constraints=app.HBonds,
                                                 hydrogenMass=(None if implicit else 1.5 * unit.amu))
    integrator = mm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, timestep_fs * unit.femtosecond)
    simulation = app.Simulation(modeller.topology, system, integrator, mm.Platform.getPlatformByName("CPU"),
                                {"Threads": str(threads)})
    simulation.context.setPositions(modeller.positions)
    simulation.minimizeEnergy()
    simulation.context.setVelocitiesToTemperature(300 * unit.kelvin, 1)
    simulation.reporters.append(app.DCDReporter(os.path.join(tmp, "python.dcd"), 500))
    start = time.perf_counter()
    simulation.step(steps)
    seconds = time.perf_counter() - start
    return steps * timestep_fs * 1e-6 / seconds * 86400


def molearn_ns_per_day(binary, pdb, implicit, steps, timestep_fs, threads, tmp):
    args = [binary, "simulate", pdb, "-o", os.path.join(tmp, "molearn.dcd"), "--timestep", str(timestep_fs),
            "--report-every", "500", "--threads", str(threads), "--platform", "CPU", "--temperature", "300"]
    args += ["--implicit", "obc2"] if implicit else ["--hydrogen-mass", "1.5"]
    env = dict(os.environ, OMP_WAIT_POLICY="passive")

    def timed(n):
        start = time.perf_counter()
        subprocess.run(args + ["--steps", str(n)], check=True, capture_output=True, env=env)
        return time.perf_counter() - start

    setup = timed(0)
    total = timed(steps)
    return steps * timestep_fs * 1e-6 / (total - setup) * 86400


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--molearn", default="build/molearn")
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pdb = os.path.join(tmp, "villin.pdb")
        modeller = villin(pdb)
        print(f"villin, 582 atoms, {args.threads} thread(s), CPU platform")
        for implicit, timestep, steps in ((False, 4, args.steps), (True, 2, max(500, args.steps // 10))):
            ours = molearn_ns_per_day(args.molearn, pdb, implicit, steps, timestep, args.threads, tmp)
            theirs = python_ns_per_day(modeller, implicit, steps, timestep, args.threads, tmp)
            label = "OBC2, 2 fs" if implicit else "vacuum, 4 fs, HMR"
            print(f"{label:18s} {steps:6d} steps: molearn {ours:7.1f} ns/day  OpenMM Python {theirs:7.1f} ns/day  "
                  f"ratio {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
