#!/usr/bin/python3
"""Writes the seed corpora of molearn's fuzz targets (tests/fuzz, docs/reliability.md).

    /usr/bin/python3 tests/fuzz/make_seeds.py OUT

OUT/<target>/ (pdb, mmcif, dcd, xtc, dataset, forcefield, dope, ramachandran,
npy, checkpoint, scan, gui_request) gets small inputs made at run time, so
that no binary is committed:

  * valid files cut down from the shipped fixtures (examples/data,
    tests/fixtures/xtc, OpenMM's force fields, the Ramachandran grids and
    DOPE table of the shared data or the build) and written in the variants
    each reader handles (DCD byte orders, marker widths, unit cell, fixed
    atoms, X-PLOR header; several models; gzip; NPY versions);
  * checkpoints and scan.json files made by molearn itself ($MOLEARN_BIN or
    build/molearn: a conv1d model trained for one epoch on examples/data and
    scanned on a 4 x 4 grid), the checkpoints cut down to a few of their
    records (each with its CRC-32) and rewritten as the zip variants the
    checksum reader handles (zip64, data descriptors or not, comment, extra
    fields); hand-made ones as well, and only those without a molearn binary;
  * the request bodies of `molearn gui`'s API (docs/gui-api.md,
    tests/cli/test_gui_api.py);
  * the malformed inputs of tests/bad_inputs/make_bad_inputs.py that are
    small enough (truncated, wrong magic, NaN, huge counts, flipped bytes).

Files larger than --max-size bytes are left out: libFuzzer's input size
follows its largest seed, and small inputs mutate faster.
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "bad_inputs"))
import make_bad_inputs as bad  # noqa: E402

TOP = bad.TOP
DCD = bad.DCD
VILLIN = os.path.join(SOURCE, "examples", "data", "villin_md.pdb")
XTC_FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "xtc")
FORCEFIELDS = "/usr/lib/python3/dist-packages/openmm/app/data"
TARGETS = ("pdb", "mmcif", "dcd", "xtc", "dataset", "forcefield", "dope", "ramachandran", "npy", "checkpoint", "scan",
           "gui_request")
# Where the bad-input corpus's files go, by extension (after .gz).
BY_EXTENSION = {".pdb": "pdb", ".cif": "mmcif", ".dcd": "dcd", ".xtc": "xtc", ".mlds": "dataset",
                ".xml": "forcefield", ".ckpt": "checkpoint"}


class Seeds:
    def __init__(self, out, max_size):
        self.out = out
        self.max_size = max_size
        self.count = {t: 0 for t in TARGETS}
        for t in TARGETS:
            os.makedirs(os.path.join(out, t), exist_ok=True)

    def add(self, target, name, data):
        if isinstance(data, str):
            data = data.encode()
        if len(data) > self.max_size:
            return
        with open(os.path.join(self.out, target, name), "wb") as f:
            f.write(data)
        self.count[target] += 1


def read(path):
    with open(path, "rb") as f:
        return f.read()


def atom_lines(path, count=None):
    lines = [line for line in read(path).decode().split("\n") if line.startswith(("ATOM  ", "HETATM"))]
    return lines[:count] if count else lines


# ------------------------------------------------------------- PDB and mmCIF

def pdb_seeds(s):
    atoms = atom_lines(TOP, 24)
    model = "\n".join(atoms)
    s.add("pdb", "one_model.pdb", model + "\nEND\n")
    s.add("pdb", "two_models.pdb", f"MODEL        1\n{model}\nENDMDL\nMODEL        2\n{model}\nENDMDL\nEND\n")
    s.add("pdb", "end_separated.pdb", f"{model}\nEND\n{model}\nEND\n")
    s.add("pdb", "cryst1.pdb", "CRYST1   50.000   60.000   70.000  90.00  90.00 120.00 P 1           1\n"
          + model + "\nEND\n")
    altloc = [line[:16] + "A" + line[17:] for line in atoms[:4]] + [line[:16] + "B" + line[17:] for line in atoms[:4]]
    s.add("pdb", "altloc.pdb", "\n".join(altloc + atoms[4:]) + "\n")
    s.add("pdb", "hetatm_ions.pdb", "HETATM    1 ZN    ZN A 101      1.000   2.000   3.000  1.00  0.00          ZN\n"
          "HETATM    2 FE   HEM A 102      4.000   5.000   6.000  1.00  0.00\n"
          "HETATM    3  O   HOH A 103      7.000   8.000   9.000  1.00  0.00           O\n")
    s.add("pdb", "crlf.pdb", model.replace("\n", "\r\n") + "\r\n")
    s.add("pdb", "one_model.pdb.gz", gzip.compress((model + "\nEND\n").encode()))
    s.add("pdb", "villin_head.pdb", "\n".join(atom_lines(VILLIN, 30)) + "\n")


def cif_text(atoms, models=1, cell=False):
    lines = ["data_FUZZ", "#"]
    if cell:
        lines += ["_cell.length_a 50.0", "_cell.length_b 60.0", "_cell.length_c 70.0", "_cell.angle_alpha 90.0",
                  "_cell.angle_beta 90.0", "_cell.angle_gamma 120.0", "_symmetry.space_group_name_H-M 'P 1'", "#"]
    lines += ["loop_"] + ["_atom_site." + k for k in (
        "group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id", "label_asym_id",
        "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y", "Cartn_z", "occupancy", "B_iso_or_equiv",
        "auth_seq_id", "auth_asym_id", "pdbx_PDB_model_num")]
    n = 0
    for m in range(1, models + 1):
        for line in atoms:
            n += 1
            name, res, chain, seq = line[12:16].strip(), line[17:20].strip(), line[21].strip() or "A", line[22:26].strip()
            x, y, z = (float(line[30:38]) + m - 1, float(line[38:46]), float(line[46:54]))
            element = line[76:78].strip() or name[0]
            lines.append(f"ATOM {n} {element} {name} . {res} {chain} {seq} ? {x:.3f} {y:.3f} {z:.3f} 1.00 0.00 "
                         f"{seq} {chain} {m}")
    return "\n".join(lines) + "\n#\n"


def mmcif_seeds(s):
    atoms = atom_lines(TOP, 20)
    s.add("mmcif", "one_model.cif", cif_text(atoms))
    s.add("mmcif", "three_models.cif", cif_text(atoms[:8], models=3))
    s.add("mmcif", "cell.cif", cif_text(atoms[:8], cell=True))
    s.add("mmcif", "one_model.cif.gz", gzip.compress(cif_text(atoms[:8]).encode()))
    s.add("mmcif", "two_blocks.cif", cif_text(atoms[:4]) + cif_text(atoms[4:8]).replace("data_FUZZ", "data_TWO"))


# ------------------------------------------------------------------------ DCD

def dcd_bytes(xyz, little=True, marker=4, cell=None, fixed=None, four_d=False, charmm=True, title=("FUZZ SEED",)):
    """A DCD file of frames `xyz` [frames, atoms, 3]; `fixed` lists 0-based fixed atoms."""
    frames, natoms = xyz.shape[0], xyz.shape[1]
    e = "<" if little else ">"
    mk = "i" if marker == 4 else "q"

    def record(payload):
        return struct.pack(e + mk, len(payload)) + payload + struct.pack(e + mk, len(payload))

    icntrl = [frames, 0, 1, frames, 0, 0, 0, 0, len(fixed or ()), 0] + [0] * 10
    if charmm:
        icntrl[10] = 1 if cell is not None else 0
        icntrl[11] = 1 if four_d else 0
        icntrl[19] = 24
        head = struct.pack(e + "9i", *icntrl[:9]) + struct.pack(e + "f", 0.04) + struct.pack(e + "10i", *icntrl[10:])
    else:
        head = struct.pack(e + "9i", *icntrl[:9]) + struct.pack(e + "d", 0.04) + struct.pack(e + "9i", *icntrl[11:])
    out = record(b"CORD" + head)
    out += record(struct.pack(e + "i", len(title)) + b"".join(t.encode().ljust(80) for t in title))
    out += record(struct.pack(e + "i", natoms))
    free = [i for i in range(natoms) if i not in set(fixed or ())]
    if fixed:
        out += record(struct.pack(e + f"{len(free)}i", *[i + 1 for i in free]))
    for f in range(frames):
        if cell is not None:
            out += record(struct.pack(e + "6d", *cell))
        atoms = range(natoms) if f == 0 or not fixed else free
        for axis in range(3 + (1 if four_d else 0)):
            values = [float(xyz[f, a, axis]) if axis < 3 else 0.0 for a in atoms]
            out += record(struct.pack(e + f"{len(values)}f", *values))
    return out


def dcd_seeds(s):
    rng = np.random.default_rng(16)
    xyz = rng.normal(scale=10, size=(3, 12, 3)).astype(np.float32)
    s.add("dcd", "little.dcd", dcd_bytes(xyz))
    s.add("dcd", "big_endian.dcd", dcd_bytes(xyz, little=False))
    s.add("dcd", "marker8.dcd", dcd_bytes(xyz, marker=8))
    s.add("dcd", "marker8_big.dcd", dcd_bytes(xyz, little=False, marker=8))
    s.add("dcd", "cell_degrees.dcd", dcd_bytes(xyz, cell=(50.0, 90.0, 60.0, 90.0, 90.0, 70.0)))
    s.add("dcd", "cell_cosines.dcd", dcd_bytes(xyz, cell=(50.0, 0.0, 60.0, 0.5, 0.0, 70.0)))
    s.add("dcd", "fixed_atoms.dcd", dcd_bytes(xyz, fixed=[0, 5, 11]))
    s.add("dcd", "four_d.dcd", dcd_bytes(xyz, four_d=True))
    s.add("dcd", "xplor.dcd", dcd_bytes(xyz, charmm=False))
    s.add("dcd", "two_titles.dcd", dcd_bytes(xyz[:1], title=("FIRST", "SECOND")))
    end, frame, has_cell, natoms = bad.dcd_layout(read(DCD))
    s.add("dcd", "2mi7_header_and_frame.dcd", read(DCD)[:end + frame])


# ------------------------------------------------------------------------ XTC

def xtc_seeds(s):
    for name in sorted(os.listdir(XTC_FIXTURES)):
        if name.endswith(".xtc"):
            s.add("xtc", name, read(os.path.join(XTC_FIXTURES, name)))


# -------------------------------------------------------------------- dataset

def mlds_bytes(atoms, coords, valid=(1,)):
    """A version-1 .mlds of the PDB lines `atoms` and coordinates [frames, atoms, 3], as molearn writes it."""
    frames = coords.shape[0]
    mean, std = float(coords.mean()), float(coords.std()) or 1.0
    data = ((coords - mean) / std).astype("<f4").tobytes()
    topology = {"name": [], "res_name": [], "res_seq": [], "ins_code": "", "chain": [], "element": [], "hetero": []}
    for line in atoms:
        topology["name"].append(line[12:16].strip())
        topology["res_name"].append(line[17:20].strip())
        topology["res_seq"].append(int(line[22:26]))
        topology["ins_code"] += line[26] if len(line) > 26 else " "
        topology["chain"].append(line[21].strip())
        topology["element"].append(line[76:78].strip() if len(line) > 77 else line[13])
        topology["hetero"].append(line.startswith("HETATM"))
    residues = sorted({r for r in topology["res_seq"]})
    header = {"format": "molearn-dataset", "version": 1, "created_by": "tests/fuzz/make_seeds.py", "frames": frames,
              "atoms": len(atoms), "dtype": "float32", "byte_order": "little", "layout": "frame,atom,xyz",
              "data_crc32": zlib.crc32(data), "mean": mean, "std": std, "topology": topology,
              "termini": {"n_terminal_residues": [0], "c_terminal_residues": [len(residues) - 1]},
              "split": {"train": [i for i in range(frames) if i not in valid], "valid": list(valid)},
              "sources": ["2mi7_heavy.dcd"], "topology_source": "2mi7_heavy_topology.pdb",
              "origins": {"file": [0] * frames, "frame": list(range(frames))}, "settings": {"align": True}}
    return bad.pack_mlds(header, data)


def dataset_seeds(s, scratch):
    import mdtraj
    traj = mdtraj.load_dcd(DCD, top=TOP)
    atoms = atom_lines(TOP, 15)
    coords = traj.xyz[:4, :15] * 10
    s.add("dataset", "small.mlds", mlds_bytes(atoms, coords))
    s.add("dataset", "one_frame.mlds", mlds_bytes(atoms[:5], coords[:1, :5], valid=()))
    path = os.path.join(scratch, "small.mlds")
    with open(path, "wb") as f:
        f.write(mlds_bytes(atoms, coords))
    return path


# ---------------------------------------------------------------- force field

def forcefield_excerpt(path, residues=("ALA", "GLY", "NALA", "CALA"), per_force=12):
    """OpenMM's XML cut down: the atom types of a few residues, those residues and a few terms of each force."""
    root = ET.parse(path).getroot()
    keep_residues = [r for r in root.iter("Residue") if r.get("name") in residues]
    types = {a.get("type") for r in keep_residues for a in r.iter("Atom")}
    out = ET.Element("ForceField")
    for child in root:
        if child.tag == "AtomTypes":
            section = ET.SubElement(out, "AtomTypes")
            for t in child:
                if t.get("name") in types:
                    section.append(t)
        elif child.tag == "Residues":
            section = ET.SubElement(out, "Residues")
            for r in keep_residues:
                section.append(r)
        else:
            section = ET.SubElement(out, child.tag, child.attrib)
            section.text = child.text
            for item in list(child)[:per_force]:
                section.append(item)
    return ET.tostring(out)


def forcefield_seeds(s):
    ff14 = os.path.join(FORCEFIELDS, "amber14", "protein.ff14SB.xml")
    if os.path.exists(ff14):
        s.add("forcefield", "ff14sb_excerpt.xml", forcefield_excerpt(ff14))
    for name in ("amber99sb.xml", "amber96_obc.xml", "implicit/obc2.xml"):
        path = os.path.join(FORCEFIELDS, name)
        if os.path.exists(path):
            s.add("forcefield", name.replace("/", "_"), forcefield_excerpt(path) if "obc2" not in name else read(path))
    s.add("forcefield", "include.xml", b'<ForceField>\n <Include file="implicit/obc2.xml"/>\n</ForceField>\n')
    s.add("forcefield", "handmade.xml", b"""<ForceField>
 <Info><Reference>fuzz seed</Reference></Info>
 <AtomTypes>
  <Type name="a" class="A" element="C" mass="12.01"/>
  <Type name="b" class="B" element="N" mass="14.01"/>
 </AtomTypes>
 <Residues>
  <Residue name="XYZ" override="1">
   <Atom name="C1" type="a" charge="0.1"/>
   <Atom name="N1" type="b" charge="-0.1"/>
   <Bond atomName1="C1" atomName2="N1"/>
   <Bond from="0" to="1"/>
   <ExternalBond atomName="N1"/>
   <ExternalBond from="0"/>
  </Residue>
 </Residues>
 <HarmonicBondForce><Bond class1="A" class2="B" length="0.1335" k="410032"/></HarmonicBondForce>
 <HarmonicAngleForce><Angle type1="a" type2="b" type3="a" angle="2.09" k="418.4"/></HarmonicAngleForce>
 <PeriodicTorsionForce ordering="amber">
  <Proper class1="" class2="A" class3="B" class4="" periodicity1="2" phase1="3.14159" k1="10.46"
          periodicity2="3" phase2="0" k2="1.0"/>
  <Improper type1="a" type2="b" type3="a" type4="b" periodicity1="2" phase1="3.14159" k1="4.6"/>
 </PeriodicTorsionForce>
 <NonbondedForce coulomb14scale="0.8333" lj14scale="0.5">
  <UseAttributeFromResidue name="charge"/>
  <Atom type="a" sigma="0.34" epsilon="0.36"/>
  <Atom class="B" sigma="0.32" epsilon="0.71"/>
 </NonbondedForce>
 <GBSAOBCForce>
  <Atom type="a" charge="0.1" radius="0.17" scale="0.72"/>
  <Atom type="b" charge="-0.1" radius="0.155" scale="0.79"/>
 </GBSAOBCForce>
</ForceField>
""")


# ------------------------------------------------------ DOPE and Ramachandran

def shared_file(relative):
    """A reference file from $MOLEARN_DATA, ../shared/data or the build's share folder, or None."""
    for base in (os.environ.get("MOLEARN_DATA"), os.path.join(SOURCE, "..", "shared", "data"),
                 os.path.join(SOURCE, "build", "share", "molearn")):
        if base and os.path.exists(os.path.join(base, relative)):
            return os.path.join(base, relative)
    return None


def dope_table(names, rows, bins, offset=" 0.5"):
    lines = [f"0.5 {len(names)}{offset}"]
    k = 0
    for i, a in enumerate(names):
        for b in names[i:]:
            values = rows[k % len(rows)][:bins]
            lines.append(f"{a:>8} {b:>8} " + " ".join(f"{v:7.4f}" for v in values))
            k += 1
    return "\n".join(lines) + "\n"


def dope_seeds(s):
    path = shared_file(os.path.join("dope", "dope_score.lib"))
    rows = []
    if path:
        with open(path) as f:
            next(f)
            for _, line in zip(range(6), f):
                rows.append([float(v) for v in line.split()[2:]])
    else:  # the shape of IMP's table: 30 bins of 0.5 A
        rows = [[10.0] * 4 + [float(np.cos(i / 3)) for i in range(26)] for _ in range(6)]
    s.add("dope", "two_types.lib", dope_table(["ALA_N", "ALA_CA"], rows, 30))
    s.add("dope", "three_types.lib", dope_table(["ALA_N", "ALA_CA", "GLY_C"], rows, 30))
    s.add("dope", "no_offset.lib", dope_table(["CYS_SG"], rows, 8, offset=""))
    if path:
        s.add("dope", "real_head.lib", "".join(open(path).readlines()[:20]))


def rama_seeds(s):
    path = shared_file(os.path.join("rama8000", "rama8000-general-noGPIVpreP.data"))
    axes = "#   x1: -180.0 180.0 180 true\n#   x2: -180.0 180.0 180 true\n"
    if path:
        lines = open(path).readlines()
        header = [line for line in lines if line.startswith("#")]
        values = [line for line in lines if not line.startswith("#")]
        s.add("ramachandran", "general_head.data", "".join(header + values[:120]))
        s.add("ramachandran", "general_sparse.data", "".join(header + values[::400]))
    s.add("ramachandran", "handmade.data",
          "# Table name/description: \"fuzz\"\n" + axes + "-179.0 -179.0 0.1\n-63.0 -41.0 0.5\n179.0 179.0 1e-5\n")


# ------------------------------------------------------------------------ NPY

def npy_seeds(s, scratch):
    import io
    arrays = {"grid.npy": np.arange(12, dtype="<f8").reshape(3, 4), "vector.npy": np.linspace(0, 1, 5),
              "empty.npy": np.zeros((0, 3)), "scalar.npy": np.float64(2.5), "three_d.npy": np.ones((2, 2, 2))}
    for name, a in arrays.items():
        buffer = io.BytesIO()
        np.save(buffer, a)
        s.add("npy", name, buffer.getvalue())
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.arange(6, dtype="<f8").reshape(2, 3), version=(2, 0))
    s.add("npy", "version2.npy", buffer.getvalue())
    buffer = io.BytesIO()
    np.save(buffer, np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))
    s.add("npy", "fortran.npy", buffer.getvalue())


# ------------------------------------------------------------------ molearn

def molearn_binary():
    path = os.environ.get("MOLEARN_BIN") or os.path.join(SOURCE, "build", "molearn")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def made_by_molearn(scratch):
    """A checkpoint and scan folders made by molearn itself: {"checkpoint": path, "scans": [folders]}, or {}.

    A conv1d model (the smallest) trained for one epoch on examples/data with
    a 2-D and a 3-D latent space, each scanned on a 4 x 4 grid (error and
    drift: the landscapes the scan target writes beside its input)."""
    molearn = molearn_binary()
    if not molearn:
        print("make_seeds: no molearn binary (build/molearn or $MOLEARN_BIN): hand-made checkpoints and scans only",
              file=sys.stderr)
        return {}

    def call(*args):
        proc = subprocess.run([molearn, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        if proc.returncode != 0:
            raise RuntimeError(f"molearn {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")

    mlds = os.path.join(scratch, "molearn.mlds")
    made = {"scans": []}
    try:
        call("prepare", DCD, "--top", TOP, "-o", mlds, "--align", "--valid", "0.25")
        for latent in (2, 3):
            run = os.path.join(scratch, f"run{latent}")
            call("train", mlds, "-o", run, "--model", "conv1d", "--epochs", "1", "--threads", "1", "--seed", "3",
                 "--batch-size", "8", "--latent", str(latent))
            made.setdefault("checkpoint", os.path.join(run, "best.ckpt"))
            scan = os.path.join(scratch, f"scan{latent}")
            call("scan", os.path.join(run, "best.ckpt"), "--grid", "4", "--metrics", "error,drift", "--threads", "1",
                 "--plane", "0,2" if latent == 3 else "0,1", "-o", scan)
            made["scans"].append(scan)
    except (RuntimeError, OSError) as e:
        print(f"make_seeds: {e}; the seeds use what was made before", file=sys.stderr)
    return made


# ----------------------------------------------------------------- checkpoint

def zip_records(data):
    """The records of a zip archive as molearn's checkpoints store them (libtorch's writer: no zip64, a
    central directory entry per record), each a dict of its fields, local extra field and stored bytes."""
    eocd = data.rindex(b"PK\x05\x06")
    entries, directory = struct.unpack_from("<H4xI", data, eocd + 10)[0], struct.unpack_from("<I", data, eocd + 16)[0]
    records, p = [], directory
    for _ in range(entries):
        (flags, method, time, date, crc, stored, plain, name_length, extra_length, comment_length,
         local) = struct.unpack_from("<8xHHHHIIIHHH8xI", data, p)
        name = data[p + 46:p + 46 + name_length]
        local_name, local_extra = struct.unpack_from("<HH", data, local + 26)
        start = local + 30 + local_name + local_extra
        records.append({"name": name, "flags": flags, "method": method, "time": time, "date": date, "crc": crc,
                        "plain": plain, "data": data[start:start + stored],
                        "local_extra": data[local + 30 + local_name:start]})
        p += 46 + name_length + extra_length + comment_length
    return records


def stored(name, data, local_extra=b""):
    """A stored record of `data` (libtorch's flags: a data descriptor after the data, UTF-8 names)."""
    return {"name": name, "flags": 0x0808, "method": 0, "time": 0, "date": 0x21, "crc": zlib.crc32(data),
            "plain": len(data), "data": data, "local_extra": local_extra}


def zip_bytes(records, zip64=False, descriptor=True, comment=b"", central_extra=b"", zip64_offsets_only=False):
    """A zip archive of `records` (zip_records()): local header, data and (with `descriptor`) a data
    descriptor for each, then the central directory, whose sizes and offsets go to zip64 extra fields
    with `zip64` (and an end-of-central-directory record and locator for zip64), or only the offsets
    with `zip64_offsets_only`; `central_extra` is another extra field of every entry."""
    out, central = bytearray(), bytearray()
    for r in records:
        local = len(out)
        flags = r["flags"] if descriptor else r["flags"] & ~0x0008
        known = (0, 0, 0) if flags & 0x0008 else (r["crc"], len(r["data"]), r["plain"])
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, r["method"], r["time"], r["date"], *known,
                           len(r["name"]), len(r["local_extra"])) + r["name"] + r["local_extra"] + r["data"]
        if flags & 0x0008:
            out += struct.pack("<IIII", 0x08074B50, r["crc"], len(r["data"]), r["plain"])
        sizes = (len(r["data"]), r["plain"])
        extra = central_extra
        if zip64:
            extra = struct.pack("<HHQQQ", 1, 24, r["plain"], len(r["data"]), local) + extra
            sizes, local = (0xFFFFFFFF, 0xFFFFFFFF), 0xFFFFFFFF
        elif zip64_offsets_only:
            extra = extra + struct.pack("<HHQ", 1, 8, local)
            local = 0xFFFFFFFF
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 if zip64 else 20, 45 if zip64 else 20, flags,
                               r["method"], r["time"], r["date"], r["crc"], *sizes, len(r["name"]), len(extra),
                               0, 0, 0, 0, local) + r["name"] + extra
    directory = len(out)
    out += central
    entries, size = len(records), len(central)
    if zip64:
        end64 = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, entries, entries, size, directory)
        out += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
        entries, size, directory = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, size, directory, len(comment)) + comment
    return bytes(out)


def cut_down(records, keep_data=6, data_bytes=48):
    """A few records of a real checkpoint: the first `keep_data` tensors cut to `data_bytes` bytes, the
    pickle's head, the first compressed code file and its debug pickle, constants and version, with
    their CRC-32 recomputed."""
    kept, tensors, code = [], 0, 0
    for r in records:
        name = r["name"].decode("utf-8", "replace")
        if "/data/" in name and tensors < keep_data:
            tensors += 1
        elif name.endswith("/data.pkl"):
            pass
        elif "/code/" in name and code < 2:
            code += 1
        elif not name.endswith(("/constants.pkl", "/version")):
            continue
        r = dict(r)
        if r["method"] == 0:
            r["data"] = r["data"][:256 if name.endswith(".pkl") else data_bytes]
            r["crc"], r["plain"] = zlib.crc32(r["data"]), len(r["data"])
        kept.append(r)
    return kept


def checkpoint_variants(s, prefix, records):
    s.add("checkpoint", prefix + ".ckpt", zip_bytes(records))
    s.add("checkpoint", prefix + "_zip64.ckpt", zip_bytes(records, zip64=True))
    s.add("checkpoint", prefix + "_no_descriptor.ckpt", zip_bytes(records, descriptor=False))
    s.add("checkpoint", prefix + "_comment.ckpt", zip_bytes(records, comment=b"molearn fuzz seed: a zip comment"))
    s.add("checkpoint", prefix + "_extra_fields.ckpt",
          zip_bytes(records, central_extra=struct.pack("<HHBI", 0x5455, 5, 1, 0x5F5E1000), zip64_offsets_only=True))
    bad_crc = [dict(r) for r in records]
    for r in bad_crc:
        if r["method"] == 0 and r["data"]:
            r["data"] = bytes([r["data"][0] ^ 0x01]) + r["data"][1:]
            break
    s.add("checkpoint", prefix + "_bad_crc.ckpt", zip_bytes(bad_crc))


def checkpoint_seeds(s, scratch, made):
    """Returns the path of a small valid checkpoint-like archive for the bad-input corpus's damaged forms."""
    rng = np.random.default_rng(16)
    handmade = [stored(b"archive/data.pkl", b"\x80\x02}q\x00(X\x08\x00\x00\x00metadataq\x01X\x02\x00\x00\x00{}q\x02u."),
                stored(b"archive/data/0", rng.normal(size=12).astype("<f4").tobytes(), b"FB\x06\x00ZZZZZZ"),
                stored(b"archive/data/1", b""),
                stored(b"archive/constants.pkl", b"\x80\x02).", b""),
                stored(b"archive/version", b"3\n")]
    deflated = zlib.compressobj(9, zlib.DEFLATED, -15)
    text = b"class Autoencoder(Module):\n  pass\n" * 4
    handmade.append({**stored(b"archive/code/__torch__.py", deflated.compress(text) + deflated.flush()),
                     "method": 8, "crc": zlib.crc32(text), "plain": len(text)})
    checkpoint_variants(s, "handmade", handmade)
    small = handmade
    if made.get("checkpoint"):
        small = cut_down(zip_records(read(made["checkpoint"])))
        checkpoint_variants(s, "conv1d", small)
    path = os.path.join(scratch, "small.ckpt")
    with open(path, "wb") as f:
        f.write(zip_bytes(small))
    return path


# ----------------------------------------------------------------------- scan

def scan_document(latent_dim=2, plane=None, grid=4, encoded=3):
    x = [float(v) for v in np.linspace(-1, 1, grid)]
    y = [float(v) for v in np.linspace(-0.5, 1.5, grid)]
    points = [[round(float(a), 4), round(float(b), 4)] for a, b in zip(np.linspace(-0.9, 0.9, encoded),
                                                                         np.linspace(-0.4, 1.4, encoded))]
    return {"command": "scan", "checkpoint": "/abs/run/best.ckpt", "dataset": "/abs/demo.mlds",
            "latent_dim": latent_dim, "plane": plane, "grid": [grid, grid], "bounds": [x[0], x[-1], y[0], y[-1]],
            "x": x, "y": y,
            "metrics": {"error": {"file": "error.npy", "unit": "A", "higher_is_better": False},
                        "drift": {"file": "drift.npy", "unit": "", "higher_is_better": False}},
            "encoded": {"train": points[1:], "valid": points[:1]}}


def scan_seeds(s, made):
    docs = {"handmade.json": scan_document(),
            "handmade_plane.json": scan_document(3, {"dims": [0, 2], "origin": [0.1, -0.2, 0.3]}),
            "handmade_one_metric.json": {**scan_document(), "metrics": {"error": {"file": "error.npy"}}}}
    for i, folder in enumerate(made.get("scans", [])):
        with open(os.path.join(folder, "scan.json")) as f:
            doc = json.load(f)
        doc["encoded"] = {k: v[:6] for k, v in doc.get("encoded", {}).items()}  # 24 frames are not needed
        docs[f"molearn_{doc.get('latent_dim', i)}d.json"] = doc
    for name, doc in docs.items():
        s.add("scan", name, json.dumps(doc, indent=1) + "\n")
    text = json.dumps(docs["handmade.json"], indent=1)
    s.add("scan", "bad-cut.json", text[:len(text) // 2])  # as the bad-input corpus's scan_json_cut
    s.add("scan", "bad-wrong_types.json", json.dumps({**docs["handmade.json"], "grid": "big", "bounds": [1, 2]}))
    s.add("scan", "bad-not_scan.json", json.dumps({**docs["handmade.json"], "command": "train"}))
    s.add("scan", "bad-shape.json", json.dumps({**docs["handmade.json"], "x": [0.0, 1.0, 2.0]}))
    s.add("scan", "bad-empty.json", b"{}\n")


# ---------------------------------------------------------------- gui_request

def gui_request_seeds(s):
    """The bodies of docs/gui-api.md's requests and of tests/cli/test_gui_api.py, good and bad."""
    pdb = "\n".join(atom_lines(TOP, 12)) + "\nEND\n"
    a, b = [-0.0775, 0.1024], [-0.0754, 0.1001]
    bodies = {
        "scan.json": {"landscape": "error", "grid": 24},
        "scan_drift.json": {"landscape": "drift", "grid": 6},
        "path_frames.json": {"waypoints": [{"frame": 0}, {"frame": 5}], "steps": 6},
        "path_least_cost.json": {"waypoints": [{"plane": a}, {"plane": b}], "steps": 7, "landscape": "error",
                                 "grid": 8},
        "path_waypoints_2d.json": {"waypoints": [{"plane": a}, {"latent": b}, {"frame": 3}], "steps": 10,
                                   "landscape": "straight"},
        "path_waypoints_3d.json": {"waypoints": [{"latent": [0.1, -0.2, 0.3]}, {"plane": b}, {"frame": 3}],
                                   "steps": 200},
        "path_pdb.json": {"waypoints": [{"pdb": pdb}, {"frame": 5}], "steps": 4},
        "decode_json.json": {"points": [a, b], "format": "json"},
        "decode_pdb.json": {"points": [a] * 3},
        "decode_latent.json": {"points": [[0.1, -0.2, 0.3]], "format": "pdb"},
        "metrics.json": {"points": [a, b]},
        "export.json": {"points": [a, [-0.076, 0.101], b], "format": "dcd"},
        "bad-steps.json": {"waypoints": [{"frame": 0}, {"frame": 1}], "steps": 100000},
        "bad-one_waypoint.json": {"waypoints": [{"frame": 0}]},
        "bad-waypoint_text.json": {"waypoints": [{"plane": [0, "x"]}, {"frame": 1}]},
        "bad-landscape.json": {"waypoints": [{"frame": 0}, {"frame": 1}], "landscape": "nope"},
        "bad-grid_large.json": {"landscape": "error", "grid": 100000},
        "bad-grid_small.json": {"landscape": "error", "grid": 1},
        "bad-no_landscape.json": {"grid": 8},
        "bad-list.json": [1, 2],
        "bad-too_many_points.json": {"points": [[0, 0]] * 65},
        "bad-format.json": {"points": [[1e308, -1e308]], "format": "xyz"},
        "bad-point_size.json": {"points": [[0, 0, 0, 0]]},
        "bad-far.json": {"points": [[1e6, 1e6]], "format": "json"},
        "bad-frame_float.json": {"waypoints": [{"frame": 2.5}, {"frame": -1}]},
    }
    for name, body in bodies.items():
        s.add("gui_request", name, json.dumps(body))
    s.add("gui_request", "bad-not_json.json", b"{not json")
    s.add("gui_request", "bad-nan.json", b'{"points": [[0, NaN]]}')
    s.add("gui_request", "bad-beyond_double.json", b'{"landscape": "error", "grid": 1e400}')
    s.add("gui_request", "bad-deep.json", b'{"landscape": ' + b"[" * 3000 + b"]" * 3000 + b', "grid": 8}')
    s.add("gui_request", "bad-utf8.json", b'{"landscape": "\xff\xfe", "grid": 8}')


# ------------------------------------------------------------ bad-input corpus

def bad_input_seeds(s, mlds, ckpt):
    """The malformed inputs of tests/bad_inputs that fit, routed to a target by their extension; the
    damaged checkpoints are made from the small archive `ckpt`."""
    with tempfile.TemporaryDirectory(prefix="molearn-seeds-") as tmp:
        c = bad.Corpus(tmp)
        bad.structures(c)
        bad.trajectories(c)
        bad.datasets(c, mlds)
        bad.checkpoints(c, ckpt, mlds)
        bad.forcefields(c)
        for name in sorted(os.listdir(tmp)):
            path = os.path.join(tmp, name)
            if not os.path.isfile(path) or os.path.getsize(path) > s.max_size:
                continue
            stem = name[:-3] if name.endswith(".gz") else name
            target = BY_EXTENSION.get(os.path.splitext(stem)[1])
            if target:
                s.add(target, "bad-" + os.fsencode(name).decode("ascii", "replace").replace("\ufffd", "_"), read(path))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder to write OUT/<target>/ into")
    parser.add_argument("--max-size", type=int, default=32 << 10, help="largest seed in bytes (default 32 KiB)")
    args = parser.parse_args()
    s = Seeds(args.out, args.max_size)
    with tempfile.TemporaryDirectory(prefix="molearn-seeds-") as scratch:
        pdb_seeds(s)
        mmcif_seeds(s)
        dcd_seeds(s)
        xtc_seeds(s)
        mlds = dataset_seeds(s, scratch)
        forcefield_seeds(s)
        dope_seeds(s)
        rama_seeds(s)
        npy_seeds(s, scratch)
        made = made_by_molearn(scratch)
        ckpt = checkpoint_seeds(s, scratch, made)
        scan_seeds(s, made)
        gui_request_seeds(s)
        bad_input_seeds(s, mlds, ckpt)
    print("seeds: " + ", ".join(f"{t} {n}" for t, n in s.count.items()))


if __name__ == "__main__":
    main()
