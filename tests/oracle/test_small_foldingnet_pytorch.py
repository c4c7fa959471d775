"""Oracle: the C++ small FoldingNet is the architecture it claims to be.

This test builds Python molearn's Small_AutoEncoder (molearn.models.
small_foldingnet) in PyTorch from its description: FoldingNet's graph encoder
(tests/python/foldingnet_reference.py) and a decoder of two folding stages,
1 -> s points with 96 channels, then s -> 8s points with 3 channels
(s = atoms // 8 + 1), cropped to the atoms as Python molearn's trainer does.
It checks that the description has Python molearn's parameter count, trains
molearn's C++ model for two epochs on the shipped 2MI7 ensemble, loads the
weights `molearn export` writes, and checks that encoding and decoding agree
with molearn's C++ model (`molearn generate`) to 1e-4.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import torch  # noqa: E402
from torch import nn  # noqa: E402

import mlds  # noqa: E402
from foldingnet_reference import DecoderLayer, Encoder  # noqa: E402
from generate_comparison import check_generate_matches  # noqa: E402
from molearn_testing import Checks, run, source_dir, temp_dir  # noqa: E402

# sum(p.numel() for p in Small_AutoEncoder(out_points=N, latent_dimension=2)
# .parameters()) in Python molearn, for any N.
PYTHON_MOLEARN_PARAMETERS = 4600712

torch.set_num_threads(1)
checks = Checks("small foldingnet oracle")


class SmallDecoder(nn.Module):
    def __init__(self, atoms, latent):
        super().__init__()
        s = atoms // 8 + 1
        self.atoms, self.latent = atoms, latent
        self.layer1 = DecoderLayer(1, s, latent, 96)
        self.layer2 = DecoderLayer(s, 8 * s, 96, 3)

    def forward(self, z):
        h = self.layer2(self.layer1(z.view(-1, self.latent, 1)))
        return h[:, :, :self.atoms]


class SmallFoldingNet(nn.Module):
    def __init__(self, atoms, latent=2, k=16):
        super().__init__()
        self.encoder, self.decoder = Encoder(latent, min(k, atoms)), SmallDecoder(atoms, latent)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def molearn_name(torch_name):
    """Our state_dict key -> molearn's exported attribute name."""
    for index, name in {"0": "conv1", "1": "bn1", "3": "conv2", "4": "bn2", "6": "conv3"}.items():
        torch_name = torch_name.replace(f".layers.{index}.", f".{name}.")
    return torch_name.replace(".", "__")


for atoms in (175, 2145):
    count = sum(p.numel() for p in SmallFoldingNet(atoms).parameters())
    checks.check(count == PYTHON_MOLEARN_PARAMETERS,
                 f"the PyTorch description has Python molearn's {PYTHON_MOLEARN_PARAMETERS} parameters "
                 f"for {atoms} atoms (got {count})")

fixtures = os.path.join(source_dir(), "examples", "data")
with temp_dir() as tmp:
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", data, "--align")
    header, coords = mlds.load(data)
    out = os.path.join(tmp, "run")
    run("train", data, "-o", out, "--model", "small-foldingnet", "--epochs", "2", "--threads", "1",
        "--batch-size", "8", "--seed", "5")
    ckpt = os.path.join(out, "best.ckpt")
    exported = os.path.join(tmp, "model.pt")
    run("export", ckpt, "-o", exported)
    theirs = torch.jit.load(exported)
    checks.check(theirs.architecture == "small-foldingnet" and theirs.atoms == header["atoms"],
                 f"the export is a small-foldingnet of {header['atoms']} atoms")
    state = {name: value for name, value in list(theirs.named_parameters()) + list(theirs.named_buffers())}

    model = SmallFoldingNet(header["atoms"]).eval()
    own = model.state_dict()
    missing = [k for k in own if molearn_name(k) not in state]
    checks.check(not missing and len(own) == len(state),
                 f"every parameter of the PyTorch description has a molearn counterpart ({len(own)} tensors, "
                 f"molearn {len(state)})" + (f"; missing {missing[:5]}" if missing else ""))
    model.load_state_dict({k: state[molearn_name(k)] for k in own})
    trained = float(state["encoder__bn1__num_batches_tracked"])
    checks.check(trained > 0, f"the weights are trained ones ({trained:.0f} BatchNorm updates)")

    # C++ encode + decode: the ends of an interpolation between frames 2 and 9, its midpoint, latent points.
    check_generate_matches(checks, ckpt, model, theirs, coords, header, tmp, "2MI7", threads="1")

checks.finish()
