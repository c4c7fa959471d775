"""Oracle: a model exported by `molearn export` loads in Debian's PyTorch with
torch.jit.load and decodes (and encodes) exactly as molearn's C++ model: the
structures `molearn generate` writes equal the exported module's to 1e-5 in
scaled units.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import numpy as np  # noqa: E402
import torch  # noqa: E402
import mdtraj as md  # noqa: E402

import mlds  # noqa: E402
from molearn_testing import Checks, run, source_dir, temp_dir  # noqa: E402

TOLERANCE = 1e-5
checks = Checks("torch export")
fixtures = os.path.join(source_dir(), "examples", "data")

with temp_dir() as tmp:
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", data, "--align")
    header, coords = mlds.load(data)
    for model in ["conv1d", "foldingnet", "small-foldingnet", "siren", "cnn2d-dm"]:
        out = os.path.join(tmp, model)
        run("train", data, "-o", out, "--model", model, "--epochs", "2", "--threads", "1", "--batch-size", "8")
        exported = os.path.join(tmp, model + ".pt")
        run("export", os.path.join(out, "best.ckpt"), "-o", exported)
        m = torch.jit.load(exported)
        checks.check(m.architecture == model and m.atoms == header["atoms"] and m.latent_dim == 2,
                     f"{model}: torch.jit.load gives a module with its metadata")
        checks.check(abs(m.std - header["std"]) < 1e-9 and
                     json.loads(m.topology_json)["name"] == header["topology"]["name"],
                     f"{model}: mean/std and topology travel with the module")

        # Decoding latent points: C++ (molearn generate, DCD in A) vs TorchScript, both fp32 (the
        # default, --precision auto, decodes in bf16 on CPUs with AVX512-BF16).
        z = torch.tensor([[0.0, 0.0], [0.3, -0.2], [-1.0, 2.0]])
        dcd = os.path.join(tmp, model + "-points.dcd")
        run("generate", os.path.join(out, "best.ckpt"), "--threads", "1", "--precision", "fp32", "-o", dcd,
            *sum((["--latent", f"{a},{b}"] for a, b in z.tolist()), []))
        topology_pdb = os.path.join(tmp, model + "-points.pdb")
        run("generate", os.path.join(out, "best.ckpt"), "--threads", "1", "--precision", "fp32", "-o", topology_pdb, "--latent", "0,0")
        cxx = md.load_dcd(dcd, top=topology_pdb).xyz * 10.0  # nm -> A
        cxx_scaled = (cxx - header["mean"]) / header["std"]
        with torch.no_grad():
            ts = m.decode(z).permute(0, 2, 1).numpy()
            ts_angstrom = m.decode_angstrom(z).numpy()
        diff = float(np.abs(cxx_scaled - ts).max())
        checks.check(diff < TOLERANCE, f"{model}: decode of 3 latent points, max |C++ - TorchScript| {diff:.2e}")
        diff_a = float(np.abs(cxx - ts_angstrom).max())
        checks.check(diff_a < TOLERANCE * header["std"],
                     f"{model}: decode_angstrom, max difference {diff_a:.2e} A")

        # Encoding: the ends of an interpolation are decode(encode(frame)).
        path = os.path.join(tmp, model + "-path.dcd")
        run("generate", os.path.join(out, "best.ckpt"), "--threads", "1", "--precision", "fp32", "--interpolate", "3,20", "--steps", "4",
            "-o", path)
        cxx_path = (md.load_dcd(path, top=topology_pdb).xyz * 10.0 - header["mean"]) / header["std"]
        x = torch.from_numpy(coords[[3, 20]].copy()).permute(0, 2, 1)
        with torch.no_grad():
            ends = m.decode(m.encode(x)).permute(0, 2, 1).numpy()
        diff = float(np.abs(cxx_path[[0, 3]] - ends).max())
        checks.check(diff < 1e-4, f"{model}: encode + decode of frames 3 and 20, max |C++ - TorchScript| {diff:.2e}")

checks.finish()
