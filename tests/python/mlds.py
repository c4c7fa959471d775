"""Reads molearn's .mlds dataset files with numpy (docs/dataset-format.md)."""
import json
import struct

import numpy as np

MAGIC = b"\x89MLDS\r\n\x1a"


def load(path):
    """Returns (header dict, scaled coordinates [frames, atoms, 3] float32)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:8] != MAGIC or struct.unpack("<I", raw[8:12])[0] != 1:
        raise ValueError(f"{path}: not a version-1 molearn dataset")
    n = struct.unpack("<Q", raw[16:24])[0]
    header = json.loads(raw[24:24 + n])
    offset = (24 + n + 63) // 64 * 64
    coords = np.frombuffer(raw, "<f4", offset=offset).reshape(header["frames"], header["atoms"], 3)
    return header, coords
