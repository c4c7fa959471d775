#!/usr/bin/python3
"""Writes MolProbity's six Top8000 Ramachandran grids for molearn.

Usage: /usr/bin/python3 scripts/make-rama-tables.py OUT_FOLDER

The grids (Richardson lab, Top8000, CC-BY 4.0) are compiled into cctbx's
MolProbity evaluator (Debian's python3-cctbx). Sampling that evaluator at the
bin centres gives back the grid values exactly (its interpolation is exact
there), so molearn never downloads the tables: this script writes them into
OUT_FOLDER/rama8000-*.data in the text format of the Richardson lab's
reference_data files (180 x 180 bins of 2 degrees over phi, psi in
[-180, 180), wrapping; one line 'phi psi value' per non-zero bin).
"""
import os
import sys
import tempfile

# MolProbity's class name -> (file name, table description), as in the
# Richardson lab's reference_data/Top8000/Top8000_ramachandran_pct_contour_grids.
TABLES = {
    "general": ("rama8000-general-noGPIVpreP.data", "General (no G/P/I/V/preP), 70%, B<30"),
    "glycine": ("rama8000-gly-sym.data", "Gly (sym), 70%, B<30"),
    "cis-proline": ("rama8000-cispro.data", "cis Pro, 70%, B<30"),
    "trans-proline": ("rama8000-transpro.data", "trans Pro, 70%, B<30"),
    "pre-proline": ("rama8000-prepro-noGP.data", "pre-Pro (no G/P), 70%, B<30"),
    "isoleucine or valine": ("rama8000-ileval-nopreP.data", "Ile/Val (no preP), 70%, B<30"),
}
CENTRES = [-179.0 + 2.0 * i for i in range(180)]


def table_text(evaluator, cls, description):
    lines = [
        f'# Table name/description: "{description}"',
        "# Number of dimensions: 2",
        "# For each dimension, 1 to 2: lower_bound  upper_bound  number_of_bins  wrapping",
        "#   x1: -180.0 180.0 180 true",
        "#   x2: -180.0 180.0 180 true",
        "# List of table coordinates and values. (Value is last number on each line.)",
    ]
    for phi in CENTRES:
        for psi in CENTRES:
            value = evaluator.evaluate(cls, (phi, psi))
            if value != 0.0:
                lines.append(f"{phi} {psi} {value!r}")
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    # A build interrupted half-way must not leave a truncated grid behind.
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".rama-", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    try:
        from mmtbx.rotamer.ramachandran_eval import RamachandranEval
    except ImportError as e:
        print(f"make-rama-tables.py: needs cctbx's MolProbity evaluator (Debian package python3-cctbx, "
              f"run with /usr/bin/python3): {e}", file=sys.stderr)
        return 1
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    evaluator = RamachandranEval()
    for cls, (name, description) in TABLES.items():
        write_atomically(os.path.join(out, name), table_text(evaluator, cls, description))
    return 0


if __name__ == "__main__":
    sys.exit(main())
