#!/usr/bin/python3
"""Writes molearn's bad-input corpus (issue 16) into a folder.

    /usr/bin/python3 tests/bad_inputs/make_bad_inputs.py OUT [--molearn BIN]

Every file is derived at run time from the shipped fixtures in examples/data
(2mi7_heavy.dcd, 2mi7_heavy_topology.pdb) and from a dataset, checkpoint, run
folder and scan folder made by molearn itself (prepare, train --epochs 1,
scan), so no binary is committed. Each input is malformed in one way:
truncated at several offsets, wrong magic, wrong byte order, NaN or 1e30
coordinates, atom counts that do not match the topology, headers claiming
10^9 frames or atoms, non-UTF-8 names, empty files, folders where files are
expected, flipped bytes. OUT/manifest.json lists them; make() returns the
same list to tests/cli/test_bad_inputs_cli.py.

Each entry: name, path (a str; non-UTF-8 file names use surrogate escapes,
as os.fsdecode gives them), role (what a command takes it as: structure,
trajectory, topology, dataset, checkpoint, run, scan, forcefield), names
(basenames one of which the error message must contain), expect ("error":
every command must refuse it; "either": a command may accept it but must
not crash, hang or use unbounded memory), and why.
"""
import argparse
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(SOURCE, "examples", "data")
DCD = os.path.join(FIXTURES, "2mi7_heavy.dcd")
TOP = os.path.join(FIXTURES, "2mi7_heavy_topology.pdb")
MLDS_MAGIC = b"\x89MLDS\r\n\x1a"


class Corpus:
    def __init__(self, out):
        self.out = out
        self.entries = []

    def path(self, name):
        return os.path.join(self.out, name)

    def add(self, name, role, why, data=None, expect="error", names=None, path=None):
        """Writes `data` (bytes) under `name` unless `path` is given (made by the caller)."""
        path = path or self.path(name)
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
        self.entries.append({"name": name, "path": path, "role": role, "why": why, "expect": expect,
                             "names": names or [os.path.basename(path.rstrip("/"))]})
        return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def flip(data, start, count, step=1):
    """`count` bytes from `start` (every `step`-th) with their bits inverted."""
    b = bytearray(data)
    for i in range(start, min(len(b), start + count * step), step):
        b[i] ^= 0xFF
    return bytes(b)


def copy_truncated(src, dst, size):
    """A copy of the first `size` bytes (large checkpoints: no full read into memory)."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        left = size
        while left > 0:
            chunk = fi.read(min(left, 1 << 24))
            if not chunk:
                break
            fo.write(chunk)
            left -= len(chunk)
    return dst


def patch_copy(src, dst, offset, data):
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        f.seek(offset)
        f.write(data)
    return dst


# ---------------------------------------------------------------- PDB / mmCIF

def pdb_atom_lines(text):
    return [i for i, line in enumerate(text) if line.startswith(("ATOM  ", "HETATM"))]


def with_coordinate(text, value):
    """The PDB text with the x coordinate (columns 31-38) of the 5th atom set to `value` (8 columns)."""
    lines = text.split("\n")
    i = pdb_atom_lines(lines)[4]
    lines[i] = lines[i][:30] + value.rjust(8)[:8] + lines[i][38:]
    return "\n".join(lines)


def structures(c):
    top = read(TOP)
    text = top.decode()
    lines = text.split("\n")
    atoms = pdb_atom_lines(lines)
    first_atom = len("\n".join(lines[:atoms[0]])) + 1
    c.add("empty.pdb", "structure", "empty PDB file", b"")
    c.add("cut_header.pdb", "structure", "PDB cut before the first ATOM record", top[:max(first_atom - 5, 1)])
    tenth = len("\n".join(lines[:atoms[10]])) + 1
    c.add("cut_in_coordinates.pdb", "structure", "PDB cut inside the coordinates of an ATOM line",
          top[:tenth + 40])
    c.add("cut_half.pdb", "structure", "PDB cut in the middle, inside a line",
          top[:len(top) // 2 + 37], expect="either")  # the first (only) model simply ends early
    c.add("nan_coordinate.pdb", "structure", "a NaN coordinate", with_coordinate(text, "nan").encode())
    c.add("huge_coordinate.pdb", "structure", "a coordinate of 1e30 A", with_coordinate(text, "1e30").encode())
    c.add("text_coordinate.pdb", "structure", "a coordinate that is not a number",
          with_coordinate(text, "abc.def").encode())
    c.add("binary.pdb", "structure", "random bytes named .pdb", np.random.default_rng(1).bytes(4096))
    c.add("remarks_only.pdb", "structure", "PDB without ATOM records", b"REMARK nothing here\nEND\n")
    # Two models whose atom counts differ.
    model = "\n".join(lines[i] for i in atoms)
    c.add("models_differ.pdb", "structure", "second MODEL has one atom fewer",
          f"MODEL        1\n{model}\nENDMDL\nMODEL        2\n"
          f"{chr(10).join(lines[i] for i in atoms[:-1])}\nENDMDL\nEND\n".encode())
    # Residue and atom names that are not UTF-8 (they end up in JSON headers).
    raw = bytearray(top)
    for i in atoms[:3]:
        start = len("\n".join(lines[:i])) + 1
        raw[start + 17:start + 20] = b"\xff\xfe\xfd"
        raw[start + 13:start + 15] = b"\xc3\x28"
    c.add("non_utf8_residues.pdb", "structure", "residue and atom names with non-UTF-8 bytes", bytes(raw),
          expect="either")
    # A non-UTF-8 file name (content cut).
    name = os.fsdecode(b"cut_\xff\xfe_name.pdb")
    c.add(name, "structure", "non-UTF-8 file name, content cut before the atoms", top[:max(first_atom - 5, 1)])
    # A very long line without a newline (bounded memory).
    c.add("long_line.pdb", "structure", "one 8 MB line without a newline", b"ATOM  " + b"x" * (8 << 20))
    os.mkdir(c.path("folder.pdb"))
    c.add("folder.pdb", "structure", "a folder named .pdb", path=c.path("folder.pdb"))
    c.add("unknown.xyz", "structure", "an unknown extension", top)
    # gzip: cut, and flipped bytes (CRC error at the end).
    gz = gzip.compress(top)
    c.add("cut.pdb.gz", "structure", "gzip-compressed PDB cut in half", gz[:len(gz) // 2])
    c.add("corrupt.pdb.gz", "structure", "gzip-compressed PDB with flipped bytes", flip(gz, len(gz) // 2, 16))
    c.add("empty.pdb.gz", "structure", "empty file named .pdb.gz", b"")

    # mmCIF written from the PDB atoms.
    cif = ["data_2MI7", "#", "loop_"] + ["_atom_site." + k for k in (
        "group_PDB", "id", "type_symbol", "label_atom_id", "label_comp_id", "label_asym_id", "label_seq_id",
        "Cartn_x", "Cartn_y", "Cartn_z", "auth_seq_id", "auth_asym_id", "pdbx_PDB_model_num")]
    for n, i in enumerate(atoms):
        line = lines[i]
        name, res, chain, seq = line[12:16].strip(), line[17:20].strip(), line[21].strip() or "A", line[22:26].strip()
        x, y, z = line[30:38].strip(), line[38:46].strip(), line[46:54].strip()
        element = line[76:78].strip() or name[0]
        cif.append(f"ATOM {n + 1} {element} {name} {res} {chain} {seq} {x} {y} {z} {seq} {chain} 1")
    cif_text = "\n".join(cif) + "\n#\n"
    good_cif = c.path("_good.cif")
    with open(good_cif, "w") as f:
        f.write(cif_text)
    cif_bytes = cif_text.encode()
    c.add("empty.cif", "structure", "empty mmCIF file", b"")
    c.add("cut.cif", "structure", "mmCIF cut inside the atom_site loop", cif_bytes[:len(cif_bytes) // 3 + 11])
    c.add("cut_in_header.cif", "structure", "mmCIF cut inside the loop header", cif_bytes[:60])
    c.add("no_atoms.cif", "structure", "mmCIF with a data block and no atom_site", b"data_X\n_cell.length_a 10\n")
    c.add("binary.cif", "structure", "random bytes named .cif", np.random.default_rng(2).bytes(2048))
    cif_lines = cif_text.split("\n")
    k = next(i for i, line in enumerate(cif_lines) if line.startswith("ATOM")) + 4
    fields = cif_lines[k].split()
    fields[7] = "1e30"
    c.add("huge_coordinate.cif", "structure", "mmCIF with a coordinate of 1e30 A",
          "\n".join(cif_lines[:k] + [" ".join(fields)] + cif_lines[k + 1:]).encode())
    fields[7] = "nan"
    c.add("nan_coordinate.cif", "structure", "mmCIF with a NaN coordinate",
          "\n".join(cif_lines[:k] + [" ".join(fields)] + cif_lines[k + 1:]).encode())
    gz = gzip.compress(cif_bytes)
    c.add("cut.cif.gz", "structure", "gzip-compressed mmCIF cut in half", gz[:len(gz) // 2])

    # Topologies that do not fit the trajectory (used with the good DCD).
    fewer = "\n".join(line for j, line in enumerate(lines) if j != atoms[-1])
    c.add("one_atom_fewer.pdb", "topology", "topology with one atom fewer than the DCD", fewer.encode(),
          names=["one_atom_fewer.pdb", "2mi7_heavy.dcd"])


# ------------------------------------------------------------------------ DCD

def dcd_layout(data):
    """(header end, frame size, has cell, natoms) of a 4-byte-marker little-endian CHARMM DCD."""
    assert struct.unpack_from("<i", data, 0)[0] == 84 and data[4:8] == b"CORD"
    icntrl = struct.unpack_from("<20i", data, 8)
    off = 92
    title_len = struct.unpack_from("<i", data, off)[0]
    off += 8 + title_len
    natoms = struct.unpack_from("<i", data, off + 4)[0]
    off += 12
    has_cell = icntrl[10] != 0
    frame = (56 if has_cell else 0) + 3 * (8 + 4 * natoms)
    return off, frame, has_cell, natoms


def trajectories(c):
    data = read(DCD)
    end, frame, has_cell, natoms = dcd_layout(data)
    first_coord = end + (56 if has_cell else 0) + 4  # first x of frame 0
    c.add("empty.dcd", "trajectory", "empty DCD", b"")
    c.add("cut_8.dcd", "trajectory", "DCD cut after 8 bytes", data[:8])
    c.add("cut_in_header.dcd", "trajectory", "DCD cut inside the title record", data[:120])
    c.add("cut_after_header.dcd", "trajectory", "DCD cut right after the header (no frame)", data[:end + 10])
    c.add("cut_in_frame_5.dcd", "trajectory", "DCD cut inside frame 5", data[:end + 5 * frame + frame // 2])
    c.add("cut_last_byte.dcd", "trajectory", "DCD without its last byte", data[:-1])
    c.add("wrong_magic.dcd", "trajectory", "DCD magic 'VELD' instead of 'CORD'", data[:4] + b"VELD" + data[8:])
    c.add("wrong_marker.dcd", "trajectory", "first record marker 85 instead of 84",
          struct.pack("<i", 85) + data[4:])
    c.add("big_endian_marker.dcd", "trajectory", "first marker big-endian, the rest little-endian",
          struct.pack(">i", 84) + data[4:88] + struct.pack(">i", 84) + data[92:])
    c.add("natoms_1e9.dcd", "trajectory", "header claims 10^9 atoms",
          data[:end - 8] + struct.pack("<i", 1_000_000_000) + data[end - 4:],
          names=["natoms_1e9.dcd"])
    c.add("natoms_negative.dcd", "trajectory", "header claims -5 atoms",
          data[:end - 8] + struct.pack("<i", -5) + data[end - 4:])
    c.add("nset_1e9.dcd", "trajectory", "header claims 10^9 frames (NSET; the file size decides)",
          data[:8] + struct.pack("<i", 1_000_000_000) + data[12:], expect="either")
    c.add("title_length_2e9.dcd", "trajectory", "title record claims 2*10^9 bytes",
          data[:92] + struct.pack("<i", 2_000_000_000) + data[96:])
    c.add("fixed_atoms_too_many.dcd", "trajectory", "header claims more fixed atoms than atoms",
          patch(data, 8 + 4 * 8, struct.pack("<i", natoms + 7)))
    c.add("frame_marker.dcd", "trajectory", "corrupt record marker inside frame 3",
          patch(data, end + 3 * frame + (56 if has_cell else 0), struct.pack("<i", 12345)))
    c.add("nan_coordinate.dcd", "trajectory", "a NaN coordinate in frame 0",
          patch(data, first_coord + 4 * 7, struct.pack("<f", float("nan"))))
    c.add("huge_coordinate.dcd", "trajectory", "a coordinate of 1e30 A in frame 2",
          patch(data, first_coord + 2 * frame + 4 * 7, struct.pack("<f", 1e30)))
    name = os.fsdecode(b"wrong_magic_\xe9.dcd")
    c.add(name, "trajectory", "non-UTF-8 file name (Latin-1), wrong magic", data[:4] + b"XXXX" + data[8:])
    c.add("pdb_named.dcd", "trajectory", "a PDB file named .dcd", read(TOP))
    os.mkdir(c.path("folder.dcd"))
    c.add("folder.dcd", "trajectory", "a folder named .dcd", path=c.path("folder.dcd"))

    # XTC written by MDTraj from the fixture.
    import mdtraj
    traj = mdtraj.load_dcd(DCD, top=TOP)
    good_xtc = c.path("_good.xtc")
    traj.save_xtc(good_xtc)
    fewer_xtc = c.path("_fewer_atoms.xtc")
    traj.atom_slice(range(traj.n_atoms - 1)).save_xtc(fewer_xtc)
    x = read(good_xtc)
    nbytes = struct.unpack_from(">i", x, 88)[0]
    frame0 = 92 + (nbytes + 3) // 4 * 4
    c.add("empty.xtc", "trajectory", "empty XTC", b"")
    c.add("cut_30.xtc", "trajectory", "XTC cut inside the first frame header", x[:30])
    c.add("cut_in_frame_0.xtc", "trajectory", "XTC cut inside the compressed block of frame 0", x[:frame0 // 2])
    c.add("cut_in_frame_1.xtc", "trajectory", "XTC cut inside frame 1", x[:frame0 + 70])
    c.add("cut_last_byte.xtc", "trajectory", "XTC without its last byte", x[:-1])
    c.add("wrong_magic.xtc", "trajectory", "XTC magic 1996", struct.pack(">i", 1996) + x[4:])
    c.add("magic_2023.xtc", "trajectory", "GROMACS' large-system XTC magic", struct.pack(">i", 2023) + x[4:])
    c.add("little_endian_magic.xtc", "trajectory", "XTC magic stored little-endian", struct.pack("<i", 1995) + x[4:])
    c.add("natoms_1e9.xtc", "trajectory", "frame header claims 10^9 atoms",
          x[:4] + struct.pack(">i", 10**9) + x[8:52] + struct.pack(">i", 10**9) + x[56:])
    c.add("nbytes_2e9.xtc", "trajectory", "compressed block claims 2*10^9 bytes",
          patch(x, 88, struct.pack(">i", 2_000_000_000)))
    c.add("nan_precision.xtc", "trajectory", "compression precision NaN",
          patch(x, 56, struct.pack(">f", float("nan"))))
    c.add("flipped_block.xtc", "trajectory", "flipped bytes inside the compressed block of frame 0",
          flip(x, 100, 64), expect="either")  # may still decode to (wrong) coordinates
    c.add("fewer_atoms.xtc", "trajectory", "XTC with one atom fewer than the topology", path=fewer_xtc,
          names=["fewer_atoms.xtc"])


def patch(data, offset, new):
    return data[:offset] + new + data[offset + len(new):]


# -------------------------------------------------------- dataset / checkpoint

def load_mlds(path):
    raw = read(path)
    n = struct.unpack_from("<Q", raw, 16)[0]
    header = json.loads(raw[24:24 + n])
    offset = (24 + n + 63) // 64 * 64
    return raw, header, raw[offset:]


def pack_mlds(header, payload, version=1):
    text = json.dumps(header).encode()
    pre = MLDS_MAGIC + struct.pack("<IIQ", version, 0, len(text))
    pad = b"\0" * ((24 + len(text) + 63) // 64 * 64 - 24 - len(text))
    return pre + text + pad + payload


def datasets(c, mlds):
    raw, header, payload = load_mlds(mlds)
    n = struct.unpack_from("<Q", raw, 16)[0]
    c.add("empty.mlds", "dataset", "empty dataset", b"")
    c.add("cut_10.mlds", "dataset", "dataset cut inside the preamble", raw[:10])
    c.add("cut_in_header.mlds", "dataset", "dataset cut inside the JSON header", raw[:24 + n // 2])
    c.add("cut_in_data.mlds", "dataset", "dataset cut inside the coordinates", raw[:len(raw) - len(payload) // 2])
    c.add("cut_last_byte.mlds", "dataset", "dataset without its last byte", raw[:-1])
    c.add("wrong_magic.mlds", "dataset", "dataset magic changed", b"\x89NOPE\r\n\x1a" + raw[8:])
    c.add("version_99.mlds", "dataset", "dataset format version 99", patch(raw, 8, struct.pack("<I", 99)))
    c.add("big_endian_version.mlds", "dataset", "version field written big-endian",
          patch(raw, 8, struct.pack(">I", 1)))
    c.add("header_length_huge.mlds", "dataset", "header length 2^63", patch(raw, 16, struct.pack("<Q", 1 << 63)))
    c.add("frames_1e9.mlds", "dataset", "header claims 10^9 frames", pack_mlds({**header, "frames": 10**9}, payload))
    c.add("atoms_1e9.mlds", "dataset", "header claims 10^9 atoms", pack_mlds({**header, "atoms": 10**9}, payload))
    c.add("frames_negative.mlds", "dataset", "header claims -1 frames", pack_mlds({**header, "frames": -1}, payload))
    c.add("frames_text.mlds", "dataset", "frames is a string", pack_mlds({**header, "frames": "many"}, payload))
    c.add("big_endian_data.mlds", "dataset", "header says byte_order big",
          pack_mlds({**header, "byte_order": "big"}, payload))
    c.add("std_zero.mlds", "dataset", "scale (std) 0", pack_mlds({**header, "std": 0}, payload))
    split = dict(header["split"])
    split["train"] = list(split["train"]) + [10**6]
    c.add("split_out_of_range.mlds", "dataset", "a split index beyond the frames",
          pack_mlds({**header, "split": split}, payload))
    c.add("termini_out_of_range.mlds", "dataset", "a terminal residue index beyond the residues",
          pack_mlds({**header, "termini": {"n_terminal_residues": [10**6], "c_terminal_residues": []}}, payload))
    topo = dict(header["topology"])
    topo["name"] = topo["name"][:-1]
    c.add("topology_short.mlds", "dataset", "topology arrays one atom short",
          pack_mlds({**header, "topology": topo}, payload))
    topo = dict(header["topology"])
    topo["ins_code"] = topo["ins_code"][:-1]
    c.add("ins_code_short.mlds", "dataset", "insertion codes one atom short",
          pack_mlds({**header, "topology": topo}, payload))
    c.add("flipped_data.mlds", "dataset", "flipped bytes in the coordinates (CRC)",
          flip(raw, len(raw) - len(payload) + 1000, 50))
    c.add("flipped_header.mlds", "dataset", "flipped bytes in the JSON header", flip(raw, 24 + n // 3, 8))
    non_utf8 = bytearray(raw)
    i = raw.index(b'"name"', 24)
    non_utf8[i + 1] = 0xFF
    c.add("non_utf8_header.mlds", "dataset", "a non-UTF-8 byte in the JSON header", bytes(non_utf8))
    nan_payload = bytearray(payload)
    nan_payload[0:4] = struct.pack("<f", float("nan"))
    import zlib
    c.add("nan_coordinate.mlds", "dataset", "a NaN coordinate with a matching CRC",
          pack_mlds({**header, "data_crc32": zlib.crc32(bytes(nan_payload))}, bytes(nan_payload)))
    # Found with the fuzz target (tests/fuzz): numbers of the wrong kind were converted
    # to integers unchecked (undefined behaviour), a missing checksum escaped
    # as a JSON library error, 0 atoms left the frame count unbounded.
    c.add("split_float.mlds", "dataset", "a split index of 1e30",
          pack_mlds({**header, "split": {**header["split"], "train": [1e30]}}, payload))
    topo = dict(header["topology"])
    topo["res_seq"] = [1e30] + list(topo["res_seq"][1:])
    c.add("res_seq_float.mlds", "dataset", "a residue number of 1e30", pack_mlds({**header, "topology": topo}, payload))
    c.add("termini_float.mlds", "dataset", "a terminal residue index of -1.5e300",
          pack_mlds({**header, "termini": {"n_terminal_residues": [-1.5e300], "c_terminal_residues": []}}, payload))
    c.add("crc_missing.mlds", "dataset", "header without data_crc32",
          pack_mlds({k: v for k, v in header.items() if k != "data_crc32"}, payload))
    c.add("atoms_zero.mlds", "dataset", "0 atoms and 10^15 frames (no coordinates to bound them)",
          pack_mlds({**header, "atoms": 0, "frames": 10**15, "data_crc32": 0,
                     "topology": {k: "" if k == "ins_code" else [] for k in header["topology"]},
                     "termini": {"n_terminal_residues": [], "c_terminal_residues": []}}, b""))
    c.add("pdb_named.mlds", "dataset", "a PDB file named .mlds", read(TOP))
    os.mkdir(c.path("folder.mlds"))
    c.add("folder.mlds", "dataset", "a folder named .mlds", path=c.path("folder.mlds"))
    c.add(os.fsdecode(b"cut_\xff.mlds"), "dataset", "non-UTF-8 file name, dataset cut", raw[:len(raw) // 2])


def checkpoints(c, ckpt, mlds):
    size = os.path.getsize(ckpt)
    c.add("empty.ckpt", "checkpoint", "empty checkpoint", b"")
    copy_truncated(ckpt, c.path("cut_10.ckpt"), 10)
    c.add("cut_10.ckpt", "checkpoint", "checkpoint cut after 10 bytes", path=c.path("cut_10.ckpt"))
    copy_truncated(ckpt, c.path("cut_half.ckpt"), size // 2)
    c.add("cut_half.ckpt", "checkpoint", "checkpoint cut in half", path=c.path("cut_half.ckpt"))
    copy_truncated(ckpt, c.path("cut_end.ckpt"), size - 30)
    c.add("cut_end.ckpt", "checkpoint", "checkpoint without its last 30 bytes (zip directory cut)",
          path=c.path("cut_end.ckpt"))
    shutil.copyfile(ckpt, c.path("flipped.ckpt"))
    with open(c.path("flipped.ckpt"), "r+b") as f:  # 1000 bytes of weights
        f.seek(size // 2)
        block = f.read(4000)
        f.seek(size // 2)
        f.write(flip(block, 0, 1000, 4))
    c.add("flipped.ckpt", "checkpoint", "1000 flipped bytes in the weights (CRC)", path=c.path("flipped.ckpt"))
    patch_copy(ckpt, c.path("wrong_magic.ckpt"), 0, b"XX")
    c.add("wrong_magic.ckpt", "checkpoint", "zip magic 'PK' replaced", path=c.path("wrong_magic.ckpt"))
    c.add("text.ckpt", "checkpoint", "a text file named .ckpt", b"not a checkpoint\n" * 10)
    c.add("dataset_named.ckpt", "checkpoint", "a dataset named .ckpt", read(mlds))
    os.mkdir(c.path("folder.ckpt"))
    c.add("folder.ckpt", "checkpoint", "a folder named .ckpt", path=c.path("folder.ckpt"))
    import zipfile
    with zipfile.ZipFile(c.path("foreign_zip.ckpt"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("archive/version", b"3\n")
    c.add("foreign_zip.ckpt", "checkpoint", "a zip archive that is not a torch archive",
          path=c.path("foreign_zip.ckpt"))
    c.add(os.fsdecode(b"cut_\xfe.ckpt"), "checkpoint", "non-UTF-8 file name, checkpoint cut",
          path=copy_truncated(ckpt, c.path(os.fsdecode(b"cut_\xfe.ckpt")), size // 3))


def runs(c, run):
    """Run folders for `report`: damaged log.jsonl or checkpoint."""
    def folder(name, log=None, ckpt=True):
        d = c.path(name)
        os.mkdir(d)
        if log is not None:
            with open(os.path.join(d, "log.jsonl"), "wb") as f:
                f.write(log)
        if ckpt:
            os.symlink(os.path.join(run, "best.ckpt"), os.path.join(d, "best.ckpt"))
            os.symlink(os.path.join(run, "last.ckpt"), os.path.join(d, "last.ckpt"))
        return d
    log = read(os.path.join(run, "log.jsonl"))
    c.add("run_empty", "run", "an empty run folder", path=folder("run_empty", ckpt=False),
          names=["run_empty", "log.jsonl", "best.ckpt"])
    c.add("run_log_garbage", "run", "log.jsonl is not JSON", path=folder("run_log_garbage", b"{{{ not json\n"),
          names=["log.jsonl"])
    c.add("run_log_cut", "run", "log.jsonl cut inside its first line", path=folder("run_log_cut", log[:len(log) // 2]),
          names=["log.jsonl"])
    c.add("run_log_empty", "run", "empty log.jsonl", path=folder("run_log_empty", b""), names=["log.jsonl"])
    c.add("run_log_non_utf8", "run", "log.jsonl with non-UTF-8 bytes",
          path=folder("run_log_non_utf8", b'{"epoch":1,"train_loss":\xff\xfe}\n'), names=["log.jsonl"])
    c.add("run_log_wrong_types", "run", "log.jsonl whose values have the wrong types",
          path=folder("run_log_wrong_types", b'{"epoch":"one","train_loss":[1],"valid_loss":{}}\n'),
          names=["log.jsonl"])
    d = folder("run_bad_checkpoint", log, ckpt=False)
    os.symlink(c.path("flipped.ckpt"), os.path.join(d, "best.ckpt"))
    c.add("run_bad_checkpoint", "run", "best.ckpt with flipped bytes", path=d, names=["best.ckpt"])
    d = folder("run_checkpoint_folder", log, ckpt=False)
    os.mkdir(os.path.join(d, "best.ckpt"))
    c.add("run_checkpoint_folder", "run", "best.ckpt is a folder", path=d, names=["best.ckpt"])
    c.add("run_is_file", "run", "a file given as the run folder", read(os.path.join(run, "log.jsonl")))


def scans(c, scan):
    """Scan folders for path/report/gui --scan."""
    def folder(name):
        d = c.path(name)
        shutil.copytree(scan, d)
        return d
    d = c.path("scan_empty")
    os.mkdir(d)
    c.add("scan_empty", "scan", "an empty scan folder", path=d, names=["scan_empty", "scan.json"])
    d = folder("scan_json_cut")
    text = read(os.path.join(d, "scan.json"))
    with open(os.path.join(d, "scan.json"), "wb") as f:
        f.write(text[:len(text) // 2])
    c.add("scan_json_cut", "scan", "scan.json cut in half", path=d, names=["scan.json"])
    d = folder("scan_json_wrong_types")
    j = json.loads(text)
    j["grid"] = "big"
    j["bounds"] = [1, 2]
    with open(os.path.join(d, "scan.json"), "w") as f:
        json.dump(j, f)
    c.add("scan_json_wrong_types", "scan", "scan.json grid and bounds of the wrong type", path=d,
          names=["scan.json"])
    d = folder("scan_npy_cut")
    npy = os.path.join(d, "error.npy")
    raw = read(npy)
    with open(npy, "wb") as f:
        f.write(raw[:len(raw) - 20])
    c.add("scan_npy_cut", "scan", "error.npy cut", path=d, names=["error.npy"])
    d = folder("scan_npy_magic")
    npy = os.path.join(d, "error.npy")
    with open(npy, "wb") as f:
        f.write(b"\x93NUMPX" + raw[6:])
    c.add("scan_npy_magic", "scan", "error.npy with a wrong magic", path=d, names=["error.npy"])
    d = folder("scan_npy_shape")
    np.save(os.path.join(d, "error.npy"), np.zeros((3, 1000)))
    c.add("scan_npy_shape", "scan", "error.npy of the wrong shape", path=d, names=["error.npy"])
    d = folder("scan_npy_huge")
    npy = os.path.join(d, "error.npy")
    with open(npy, "wb") as f:
        h = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }"
        h = h + b" " * (118 - len(h)) + b"\n"
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + b"\0" * 64)
    c.add("scan_npy_huge", "scan", "error.npy header claims 10^18 values", path=d, names=["error.npy"])
    c.add("scan_is_file", "scan", "a file given as the scan folder", b"{}\n")


def forcefields(c):
    c.add("empty.xml", "forcefield", "empty force-field XML", b"")
    c.add("cut.xml", "forcefield", "force-field XML cut inside an element",
          b'<ForceField>\n <AtomTypes>\n  <Type name="1" class="N" element="N" mass="14.0')
    c.add("not_xml.xml", "forcefield", "binary bytes named .xml", np.random.default_rng(3).bytes(512))


# ----------------------------------------------------------------------- main

def make_good(out, molearn):
    """A dataset, a 1-epoch checkpoint, its run folder and a small scan made by molearn itself."""
    good = os.path.join(out, "_good")
    os.makedirs(good, exist_ok=True)
    mlds = os.path.join(good, "demo.mlds")
    run = os.path.join(good, "run")
    scan = os.path.join(good, "scan")

    def call(*args):
        proc = subprocess.run([molearn, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            sys.exit(f"molearn {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")

    call("prepare", DCD, "--top", TOP, "-o", mlds, "--align", "--valid", "0.25")
    call("train", mlds, "-o", run, "--epochs", "1", "--threads", "1", "--seed", "3", "--batch-size", "8",
         "--latent", "2")
    call("scan", os.path.join(run, "best.ckpt"), "--grid", "4", "--metrics", "error,drift", "--threads", "1",
         "-o", scan)
    return mlds, run, scan


def make(out, molearn):
    """Writes the corpus into `out` (made if missing) and returns (entries, good files)."""
    os.makedirs(out, exist_ok=True)
    mlds, run, scan = make_good(out, molearn)
    c = Corpus(out)
    structures(c)
    trajectories(c)
    datasets(c, mlds)
    checkpoints(c, os.path.join(run, "best.ckpt"), mlds)
    runs(c, run)
    scans(c, scan)
    forcefields(c)
    good = {"dcd": DCD, "top": TOP, "pdb": TOP, "cif": c.path("_good.cif"), "xtc": c.path("_good.xtc"),
            "mlds": mlds, "run": run, "checkpoint": os.path.join(run, "best.ckpt"), "scan": scan}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"good": good, "inputs": c.entries}, f, indent=1, ensure_ascii=True)
    return c.entries, good


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder to write the corpus into")
    parser.add_argument("--molearn", default=os.environ.get("MOLEARN_BIN", os.path.join(SOURCE, "build", "molearn")),
                        help="molearn executable (makes the dataset, checkpoint and scan the corpus derives from)")
    args = parser.parse_args()
    entries, _ = make(args.out, args.molearn)
    roles = {}
    for e in entries:
        roles[e["role"]] = roles.get(e["role"], 0) + 1
    print(f"{len(entries)} bad inputs in {args.out}: " + ", ".join(f"{n} {r}" for r, n in sorted(roles.items())))


if __name__ == "__main__":
    main()
