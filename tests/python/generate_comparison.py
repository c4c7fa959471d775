"""The comparison the model oracles share: what `molearn generate` decodes
from a checkpoint against a PyTorch model holding the same weights — the
encode/decode of two dataset frames, their latent midpoint, two latent
points — each within 1e-4 in scaled units. `generate` runs in fp32 here: its
default, --precision auto, decodes in bf16 on CPUs with AVX512-BF16."""
import os

import mdtraj as md
import numpy as np
import torch

from molearn_testing import run


def check_generate_matches(checks, ckpt, model, exported, coords, header, tmp, name, threads="1"):
    """model: the PyTorch reference with the checkpoint's weights (encoder, decoder); exported: the
    TorchScript module of `molearn export` (its encode); coords: the dataset's scaled frames [F, N, 3]."""
    top_pdb = os.path.join(tmp, "top.pdb")
    run("generate", ckpt, "--latent", "0,0", "-o", top_pdb, "--threads", threads, "--precision", "fp32")
    path = os.path.join(tmp, "path.dcd")
    run("generate", ckpt, "--interpolate", "2,9", "--steps", "3", "-o", path, "--threads", threads,
        "--precision", "fp32")
    cxx = (md.load_dcd(path, top=top_pdb).xyz * 10.0 - header["mean"]) / header["std"]
    x = torch.from_numpy(coords[[2, 9]].copy()).permute(0, 2, 1)
    with torch.no_grad():
        z = model.encoder(x)
        ends = model.decoder(z).permute(0, 2, 1).numpy()
        middle = model.decoder(z.mean(dim=0, keepdim=True)).permute(0, 2, 1).numpy()
        z_ts = exported.encode(x)
    checks.check(float((z - z_ts).abs().max()) < 1e-4,
                 f"encode of {name} frames 2, 9: PyTorch {z.numpy().round(5).tolist()} vs molearn "
                 f"{z_ts.numpy().round(5).tolist()}")
    checks.check(float((z[0] - z[1]).abs().max()) > 5e-4, "the two frames have different codes")
    diff = float(np.abs(cxx[[0, 2]] - ends).max())
    checks.check(diff < 1e-4, f"decode(encode(frame)) of {name} frames 2, 9: max |PyTorch - C++| {diff:.2e}")
    diff = float(np.abs(cxx[1] - middle[0]).max())
    checks.check(diff < 1e-4, f"decode of the midpoint: max |PyTorch - C++| {diff:.2e}")

    zs = torch.tensor([[0.5, -0.5], [2.0, 1.0]])
    points = os.path.join(tmp, "points.dcd")
    run("generate", ckpt, "--latent", "0.5,-0.5", "--latent", "2,1", "-o", points, "--threads", threads,
        "--precision", "fp32")
    cxx_points = (md.load_dcd(points, top=top_pdb).xyz * 10.0 - header["mean"]) / header["std"]
    with torch.no_grad():
        ours = model.decoder(zs).permute(0, 2, 1).numpy()
    checks.check(float(np.abs(ours[0] - ours[1]).max()) > 1e-3, "the two latent points decode differently")
    diff = float(np.abs(cxx_points - ours).max())
    checks.check(diff < 1e-4, f"decode of latent points: max |PyTorch - C++| {diff:.2e}")
