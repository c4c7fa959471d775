"""The bad-input corpus (issue 16): every command that reads files, run on
malformed inputs written by tests/bad_inputs/make_bad_inputs.py into a
temporary folder (truncated, wrong magic or byte order, NaN and 1e30
coordinates, atom counts that do not fit, headers claiming 10^9 frames or
atoms, non-UTF-8 names, empty files, folders, flipped bytes).

Each run must end with an exit code > 0 (2 for bad input; never a signal),
print exactly one line starting 'molearn: error:' that names the bad file,
print no C++ or library internals (backtraces, 'terminate called',
c10::Error, std::vector/basic_string messages, nlohmann's '[json.exception'),
leave no output behind, and stay within 6 GB of address space and 120 s.
Inputs marked "either" may be accepted (exit 0) but must not crash.

Under AddressSanitizer (scripts/sanitize.sh sets MOLEARN_SANITIZED=1) the
6 GB address-space limit (RLIMIT_AS) is not applied, since an ASan binary
reserves terabytes of shadow address space and cannot start under it; the
test says so. ASan's own limits stand in for it, stricter: a single
allocation beyond 6 GB, or more than 6 GB resident, aborts the run (where
RLIMIT_AS would give std::bad_alloc), which fails its case. The 120 s limit
is multiplied by $MOLEARN_TIMEOUT_FACTOR.

Slow commands (train, relax, scan, path, report, gui) get a representative
subset; fast ones (prepare, info) the whole relevant corpus. The closing
lines print the number of bad inputs covered per command.
"""
import collections
import concurrent.futures
import os
import resource
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bad_inputs"))
from molearn_testing import Checks, molearn_bin, temp_dir, timeout_factor  # noqa: E402
import make_bad_inputs  # noqa: E402

MEMORY_LIMIT = 6 << 30
SANITIZED = os.environ.get("MOLEARN_SANITIZED") == "1"
TIMEOUT = 120 * timeout_factor()
GUI_TIMEOUT = 60 * timeout_factor()  # a gui that serves instead of refusing would run until killed
LIBRARY_TEXT = [b"terminate called", b"c10::", b"Exception raised from", b"_M_range_check", b"basic_string",
                b"std::", b"what():", b"[json.exception", b"Segmentation fault", b"Aborted", b"frame #",
                b"18446744073709551615", b"uncompressed size", b"Is a directory"]

checks = Checks("bad inputs cli")
started = time.monotonic()


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def sanitized_env():
    """The environment of an ASan molearn: ASan's limits in place of RLIMIT_AS (see above)."""
    env = dict(os.environ)
    mb = MEMORY_LIMIT >> 20
    limits = f"max_allocation_size_mb={mb}:hard_rss_limit_mb={mb}"
    env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS", ""), limits) if o)
    return env


class Case:
    def __init__(self, command, entry, args, codes=(2,), why_code=""):
        self.command = command
        self.entry = entry
        self.args = args  # may contain "{out}" (a path in the case's own empty folder)
        self.codes = codes
        self.why_code = why_code


def run_case(case, folder):
    """Runs one case in its own empty folder (also the working folder); returns a list of (ok, what)."""
    os.makedirs(folder)
    args = [a.replace("{out}", folder) if isinstance(a, str) else a for a in case.args]
    entry = case.entry
    label = f"{case.command} {entry['name']!a}"
    timeout = GUI_TIMEOUT if case.command == "gui" else TIMEOUT
    t0 = time.monotonic()
    try:
        if SANITIZED:
            proc = subprocess.run([molearn_bin(), case.command, *args], capture_output=True, cwd=folder,
                                  stdin=subprocess.DEVNULL, timeout=timeout, env=sanitized_env())
        else:
            proc = subprocess.run([molearn_bin(), case.command, *args], capture_output=True, cwd=folder,
                                  stdin=subprocess.DEVNULL, timeout=timeout, preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        return [(False, f"{label}: still running after {timeout} s ({entry['why']})")]
    seconds = time.monotonic() - t0
    code, out, err = proc.returncode, proc.stdout, proc.stderr
    lines = [line for line in err.replace(b"\r", b"\n").split(b"\n") if line.startswith(b"molearn: error:")]
    message = lines[0].decode("utf-8", "backslashreplace") if lines else err.decode("utf-8", "backslashreplace")
    internal = [t.decode() for t in LIBRARY_TEXT if t in out or t in err]
    left = sorted(os.listdir(folder))
    results = []
    if entry["expect"] == "either" and code == 0:
        results.append((not internal, f"{label}: accepted ({entry['why']}), {seconds:.1f} s"))
        return results
    if code < 0:
        results.append((False, f"{label}: killed by signal {-code} ({entry['why']})"))
        return results
    ok_code = code in case.codes
    results.append((ok_code, f"{label}: exit {code}" + (f" (1: {case.why_code})" if code == 1 and ok_code else "")
                    + f" ({entry['why']}), {seconds:.1f} s"))
    names = [os.fsencode(n) for n in entry["names"]]
    results.append((len(lines) == 1 and any(n in lines[0] for n in names) and not internal,
                    f"{label}: one message naming the file: {message.strip()[:300]}"
                    + (f" [{len(lines)} error lines]" if len(lines) != 1 else "")
                    + (f" [library text: {', '.join(internal)}]" if internal else "")))
    results.append((not left, f"{label}: nothing left behind" + (f": {left}" if left else "")))
    return results


def main():
    if SANITIZED:
        print(f"SKIPPED: the {MEMORY_LIMIT >> 30} GB address-space limit (RLIMIT_AS) of each run: an AddressSanitizer "
              "build (MOLEARN_SANITIZED=1) cannot start under it; ASan's allocation and resident-memory limits of "
              f"{MEMORY_LIMIT >> 30} GB apply instead")
    with temp_dir() as tmp:
        corpus = os.path.join(tmp, "corpus")
        entries, good = make_bad_inputs.make(corpus, molearn_bin())
        print(f"corpus: {len(entries)} bad inputs made in {time.monotonic() - started:.0f} s")
        checks.check(len(entries) >= 50, f"at least 50 bad inputs: {len(entries)}")
        by_role = collections.defaultdict(list)
        by_name = {}
        for e in entries:
            by_role[e["role"]].append(e)
            by_name[e["name"]] = e
        ckpt, mlds, top, dcd, pdb, run_dir = (good["checkpoint"], good["mlds"], good["top"], good["dcd"], good["pdb"],
                                              good["run"])

        def pick(role, every=1, start=0, also=()):
            chosen = by_role[role][start::every]
            return chosen + [by_name[n] for n in also if by_name[n] not in chosen]

        def reads(entry):
            """The input arguments that read `entry` (trajectories with the good topology)."""
            if entry["role"] == "trajectory":
                return [entry["path"], "--top", top]
            if entry["role"] == "topology":
                return [dcd, "--top", entry["path"]]
            return [entry["path"]]

        # Structures that also serve as a (bad) topology of the good DCD.
        as_topology = [dict(by_name[n], role="topology") for n in
                       ("empty.pdb", "folder.pdb", "cut.cif.gz")]
        readable = by_role["structure"] + by_role["trajectory"] + by_role["topology"]
        cases = []
        # prepare: every structure, trajectory and topology; a few with --npy (both outputs must be absent).
        for i, e in enumerate(readable + as_topology):
            extra = ["--npy", "{out}/data.npy"] if i % 5 == 0 else []
            cases.append(Case("prepare", e, [*reads(e), "-o", "{out}/data.mlds", *extra]))
        # convert, energy, score (the same readers as prepare): every twelfth readable input each, plus the
        # coordinate ones.
        coordinates = ("huge_coordinate.pdb", "nan_coordinate.dcd", "huge_coordinate.dcd", "huge_coordinate.cif")
        for i, e in enumerate(readable + as_topology[:2]):
            if i % 4:
                continue
            command = ("convert", "energy", "score")[i // 4 % 3]
            if command == "convert":
                out = ("{out}/out.pdb", "{out}/out.dcd", "{out}/out.npy")[i // 12 % 3]
                cases.append(Case("convert", e, [*reads(e), "-o", out]))
            elif command == "energy":
                cases.append(Case("energy", e, [*reads(e), "--threads", "1", "--forces", "{out}/forces.npy"]))
            else:
                cases.append(Case("score", e, [*reads(e), "--metrics", "geometry", "--threads", "1",
                                               "--per-residue", "{out}/residues.csv"]))
        for name in coordinates:
            e = by_name[name]
            cases.append(Case("convert", e, [*reads(e), "-o", "{out}/out.pdb"]))
            cases.append(Case("energy", e, [*reads(e), "--threads", "1"]))
        for e in by_role["forcefield"]:
            cases.append(Case("energy", e, [pdb, "--ff", e["path"], "--threads", "1"]))
        cases.append(Case("score", by_name["cut.xml"], [pdb, "--metrics", "energy", "--forcefield",
                                                        by_name["cut.xml"]["path"], "--threads", "1"]))
        # relax (OpenMM): a few structures, trajectories and a force field.
        for name in ("empty.pdb", "nan_coordinate.pdb", "cut.cif.gz", "cut_in_frame_5.dcd", "natoms_1e9.xtc",
                     "huge_coordinate.dcd", "one_atom_fewer.pdb", "not_xml.xml"):
            e = by_name[name]
            args = [pdb, "--ff", e["path"]] if e["role"] == "forcefield" else reads(e)
            cases.append(Case("relax", e, [*args, "-o", "{out}/relaxed.pdb", "--steps", "10"]))
        # simulate (OpenMM): every structure, and every force field on a good structure.
        for e in by_role["structure"]:
            cases.append(Case("simulate", e, [e["path"], "-o", "{out}/md.dcd", "--steps", "10", "--report-every", "10",
                                              "--threads", "1"]))
        for e in by_role["forcefield"]:
            cases.append(Case("simulate", e, [pdb, "--ff", e["path"], "-o", "{out}/md.dcd", "--steps", "10",
                                              "--report-every", "10", "--threads", "1"]))
        # info: every dataset, and a checkpoint and a PDB given as datasets.
        for e in by_role["dataset"] + [by_name["text.ckpt"], by_name["flipped.ckpt"]]:
            cases.append(Case("info", e, [e["path"]]))
        # train: datasets (refused before anything is written), a bad force field, a bad checkpoint to resume.
        for name in ("empty.mlds", "cut_in_data.mlds", "frames_1e9.mlds", "atoms_1e9.mlds", "flipped_data.mlds",
                     "nan_coordinate.mlds", "folder.mlds", "termini_out_of_range.mlds", "split_out_of_range.mlds",
                     "crc_missing.mlds", "split_float.mlds", "atoms_zero.mlds"):
            e = by_name[name]
            cases.append(Case("train", e, [e["path"], "-o", "{out}/run", "--epochs", "1", "--threads", "1"]))
        cases.append(Case("train", by_name["cut.xml"], [mlds, "-o", "{out}/run", "--epochs", "1", "--threads", "1",
                                                        "--physics", "torch", "--ff", by_name["cut.xml"]["path"]]))
        # generate: every checkpoint; datasets for --reconstruct.
        for e in by_role["checkpoint"][::2]:
            cases.append(Case("generate", e, [e["path"], "--latent", "0,0", "-o", "{out}/out.pdb", "--threads", "1"]))
        for name in ("cut_in_data.mlds", "frames_1e9.mlds", "flipped_data.mlds", "topology_short.mlds",
                     "folder.mlds", "nan_coordinate.mlds"):
            e = by_name[name]
            cases.append(Case("generate", e, [ckpt, "--reconstruct", "--data", e["path"], "-o", "{out}/out.dcd",
                                              "--threads", "1"]))
        # export: a few checkpoints.
        for name in ("empty.ckpt", "cut_end.ckpt", "flipped.ckpt", "folder.ckpt"):
            e = by_name[name]
            cases.append(Case("export", e, [e["path"], "-o", "{out}/model.pt"]))
        # scan: checkpoints and datasets.
        for name in ("cut_half.ckpt", "wrong_magic.ckpt", "foreign_zip.ckpt", "dataset_named.ckpt",
                     "cut_in_header.mlds", "atoms_1e9.mlds", "flipped_data.mlds"):
            e = by_name[name]
            args = [e["path"]] if e["role"] == "checkpoint" else [ckpt, "--data", e["path"]]
            cases.append(Case("scan", e, [*args, "--grid", "4", "--metrics", "error", "--threads", "1",
                                          "-o", "{out}/scan"]))
        # path: checkpoints, datasets, endpoint structures, scan folders.
        for name in ("flipped.ckpt", "text.ckpt", "cut_10.ckpt", "frames_1e9.mlds", "wrong_magic.mlds",
                     "empty.pdb", "nan_coordinate.pdb", "cut_after_header.dcd", "remarks_only.pdb", "cut.cif.gz"):
            e = by_name[name]
            role = e["role"]
            if role == "checkpoint":
                args = [e["path"], "--from", "0", "--to", "1"]
            elif role == "dataset":
                args = [ckpt, "--data", e["path"], "--from", "0", "--to", "1"]
            elif role == "trajectory":
                args = [ckpt, "--from", e["path"], "--top", top, "--to", "1"]
            else:
                args = [ckpt, "--from", "0", "--to", e["path"]]
            cases.append(Case("path", e, [*args, "--threads", "1", "-o", "{out}/path.pdb"]))
        for e in by_role["scan"][::2]:
            cases.append(Case("path", e, [ckpt, "--from", "0", "--to", "1", "--landscape", "error", "--scan",
                                          e["path"], "--threads", "1", "-o", "{out}/path.pdb"]))
        # report: damaged run folders, a few scan folders and datasets.
        for e in by_role["run"]:
            cases.append(Case("report", e, [e["path"], "--threads", "1", "-o", "{out}/report.html"]))
        for name in ("scan_json_cut", "scan_npy_huge", "scan_is_file", "flipped_data.mlds", "frames_1e9.mlds"):
            e = by_name[name]
            args = ["--scan", e["path"]] if e["role"] == "scan" else ["--data", e["path"]]
            cases.append(Case("report", e, [run_dir, *args, "--threads", "1", "-o", "{out}/report.html"]))
        # gui: must refuse before serving.
        for name in ("flipped.ckpt", "cut_end.ckpt", "folder.ckpt", "scan_json_cut", "scan_npy_shape",
                     "scan_empty", "cut_in_data.mlds", "atoms_1e9.mlds"):
            e = by_name[name]
            if e["role"] == "checkpoint":
                args = [e["path"]]
            elif e["role"] == "scan":
                args = [ckpt, "--scan", e["path"]]
            else:
                args = [ckpt, "--data", e["path"]]
            cases.append(Case("gui", e, [*args, "--port", "0", "--threads", "1"]))

        # An output that cannot be written (exit 3) leaves none of the others behind: --npy into a missing folder.
        missing = {"name": "--npy missing/data.npy", "role": "output", "why": "--npy into a missing folder",
                   "expect": "error", "names": ["data.npy"]}
        cases.append(Case("prepare", missing, [dcd, "--top", top, "-o", "{out}/data.mlds", "--npy",
                                               "{out}/missing/data.npy"], codes=(3,)))

        print(f"{len(cases)} runs")
        runs = os.path.join(tmp, "runs")
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(run_case, case, os.path.join(runs, str(i))) for i, case in enumerate(cases)]
            for future in futures:
                for ok, what in future.result():
                    checks.check(ok, what)

        covered = collections.defaultdict(set)
        for case in cases:
            if case.entry["role"] != "output":
                covered[case.command].add((case.entry["name"], case.entry["role"]))
        print("bad inputs covered per command: " +
              ", ".join(f"{command} {len(names)}" for command, names in sorted(covered.items())))
        print(f"{len(entries)} bad inputs, {len(cases)} runs, {time.monotonic() - started:.0f} s")
        shutil.rmtree(runs, ignore_errors=True)
    checks.finish()


main()
