"""Oracle: molearn's Ramachandran counts equal MolProbity's ramalyze.

On every frame of the 2MI7 demo ensemble (shipped, 32 models, 67 residues) and
of MurD (shared data, 16 frames, 437 residues): the frames are written as one
multi-model PDB by MDTraj; cctbx's ramalyze (the code behind
`molprobity.ramalyze`) scores each model, and `molearn score --metrics rama`
must give the same favoured / allowed / outlier counts per frame, and
`--per-residue` the same class, category and score for every residue.
`molprobity.ramalyze` itself must give MurD_test_topo.pdb 396 / 34 / 5 of 435.
"""
import csv
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import mdtraj as md  # noqa: E402

from molearn_testing import Checks, run, shared_data, source_dir, temp_dir  # noqa: E402

try:
    import iotbx.pdb  # noqa: E402
    from mmtbx.validation.ramalyze import ramalyze  # noqa: E402
except ImportError as e:
    print(f"SKIPPED: cctbx's MolProbity (python3-cctbx) is not installed: {e}")
    sys.exit(77)

checks = Checks("molprobity ramalyze oracle")
demo = (os.path.join(source_dir(), "examples", "data", "2mi7_heavy.dcd"),
        os.path.join(source_dir(), "examples", "data", "2mi7_heavy_topology.pdb"))
murd = (os.path.join(shared_data(), "murd", "MurD_test.dcd"),
        os.path.join(shared_data(), "murd", "MurD_test_topo.pdb"))
CATEGORY = {0: "OUTLIER", 1: "Allowed", 2: "Favored"}


def ramalyze_per_model(pdb):
    """{model index: {(chain, resseq): (class label, category, score %)}} from cctbx."""
    hierarchy = iotbx.pdb.input(file_name=pdb).construct_hierarchy()
    result = ramalyze(pdb_hierarchy=hierarchy, outliers_only=False, out=None, quiet=True)
    models = sorted({r.model_id for r in result.results}, key=lambda m: int(m))
    index = {m: i for i, m in enumerate(models)}
    per_model = defaultdict(dict)
    for r in result.results:
        per_model[index[r.model_id]][(r.chain_id.strip(), int(r.resseq))] = (
            r.residue_type(), r.ramalyze_type(), r.score)
    return per_model


def printed_precision(text):
    """Half a unit of the last decimal printed, in percent (the CSV may round the score)."""
    if "." not in text or "e" in text.lower():
        return 0.0
    return 100 * 0.5 * 10.0 ** -len(text.split(".")[1])


def check_ensemble(name, dcd, top, tmp):
    frames = md.load(dcd, top=top)
    pdb = os.path.join(tmp, name + ".pdb")
    frames.save_pdb(pdb)  # MODEL records; both programs read the same rounded coordinates
    theirs = ramalyze_per_model(pdb)
    checks.check(len(theirs) == frames.n_frames, f"{name}: ramalyze scored {len(theirs)} of {frames.n_frames} models")

    per_residue = os.path.join(tmp, name + "-residues.csv")
    _, out, _ = run("score", pdb, "--metrics", "rama", "--json", "--per-residue", per_residue)
    rows = json.loads(out)["frames"]
    checks.check(len(rows) == frames.n_frames, f"{name}: molearn scored {len(rows)} frames")
    mismatched = []
    for k, row in enumerate(rows):
        counts = Counter(category for _, category, _ in theirs[k].values())
        ours = (row["rama_favoured"], row["rama_allowed"], row["rama_outliers"])
        expected = (counts["Favored"], counts["Allowed"], counts["OUTLIER"])
        if tuple(int(v) for v in ours) != expected:
            mismatched.append(f"frame {k}: molearn {ours}, ramalyze {expected}")
    checks.check(not mismatched, f"{name}: favoured/allowed/outlier counts equal ramalyze's on all "
                 f"{len(rows)} frames {mismatched[:3]}")

    with open(per_residue) as f:
        residues = list(csv.DictReader(f))
    frame_ids = sorted({int(r["frame"]) for r in residues})
    rank = {f: i for i, f in enumerate(frame_ids)}
    compared, differences = 0, []
    for r in residues:
        key = (r["chain"].strip(), int(r["res_seq"]))
        expected = theirs[rank[int(r["frame"])]].get(key)
        if expected is None:
            if r["rama_category"] != "not evaluated":
                differences.append(f"{key} frame {r['frame']}: molearn evaluated it, ramalyze did not")
            continue
        compared += 1
        label, category, score = expected
        ours_score = float(r["rama_score"]) * 100
        if (r["rama_class"], r["rama_category"]) != (label, category) or \
                abs(ours_score - score) > printed_precision(r["rama_score"]) + 1e-3 * max(1, score):
            differences.append(f"{key} frame {r['frame']}: molearn {r['rama_class']} {r['rama_category']} "
                               f"{ours_score:.4f}, ramalyze {label} {category} {score:.4f}")
    expected_count = sum(len(v) for v in theirs.values())
    checks.check(compared == expected_count and not differences,
                 f"{name}: per-residue class, category and score equal ramalyze's on {compared} of "
                 f"{expected_count} residue-frames {differences[:3]}")


with temp_dir() as tmp:
    check_ensemble("2mi7", *demo, tmp)
    if all(os.path.exists(p) for p in murd):
        proc = subprocess.run(["molprobity.ramalyze", murd[1]], capture_output=True, text=True, timeout=300)
        summary = [line for line in proc.stdout.splitlines() if "Favored," in line]
        checks.check(summary and "396 Favored, 34 Allowed, 5 Outlier out of 435" in summary[0],
                     f"molprobity.ramalyze on MurD_test_topo.pdb: {summary[:1]}")
        check_ensemble("murd", *murd, tmp)
    else:
        print(f"note: MurD part not run, shared data missing: {murd[0]} (set MOLEARN_DATA)")

checks.finish()
