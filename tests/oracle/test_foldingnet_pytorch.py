"""Oracle: the C++ FoldingNet is the architecture it claims to be.

This test builds Python molearn's FoldingNet in PyTorch from its description
(graph encoder with local covariances and two graph layers, four folding
decoder stages), loads the weights molearn exported after training on MurD
(N, CA, CB, C, O: 2145 atoms), and checks that encoding and decoding MurD
frames agree with molearn's C++ model to 1e-4.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
import mdtraj as md  # noqa: E402

import mlds  # noqa: E402
from molearn_testing import Checks, require, run, shared_data, temp_dir  # noqa: E402

murd = os.path.join(shared_data(), "murd")
require(os.path.join(murd, "MurD_test.dcd"), os.path.join(murd, "MurD_test_topo.pdb"))
torch.set_num_threads(2)
checks = Checks("foldingnet oracle")


def knn(x, k):
    """Indices of the k nearest points (self included), x: [B, C, N]."""
    inner = -2 * torch.matmul(x.transpose(2, 1), x)
    sq = (x ** 2).sum(dim=1, keepdim=True)
    return (-sq - inner - sq.transpose(2, 1)).topk(k=k, dim=-1)[1]


def gather_points(x, idx):
    """x [B, C, N], idx [B, N, k] -> [B, N, k, C]."""
    b = torch.arange(x.size(0)).view(-1, 1, 1)
    return x.permute(0, 2, 1)[b, idx, :]


class GraphLayer(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.k, self.conv, self.bn = k, nn.Conv1d(cin, cout, 1), nn.BatchNorm1d(cout)

    def forward(self, x):
        x = gather_points(x, knn(x, self.k)).max(dim=2)[0].permute(0, 2, 1)
        return torch.relu(self.bn(self.conv(x)))


class Encoder(nn.Module):
    def __init__(self, latent, k):
        super().__init__()
        self.k = k
        self.conv1, self.conv2, self.conv3 = nn.Conv1d(12, 64, 1), nn.Conv1d(64, 64, 1), nn.Conv1d(64, 64, 1)
        self.bn1, self.bn2, self.bn3 = nn.BatchNorm1d(64), nn.BatchNorm1d(64), nn.BatchNorm1d(64)
        self.graph_layer1, self.graph_layer2 = GraphLayer(64, 128, k), GraphLayer(128, 1024, k)
        self.conv4, self.bn4, self.conv5 = nn.Conv1d(1024, 512, 1), nn.BatchNorm1d(512), nn.Conv1d(512, latent, 1)

    def forward(self, x):
        b, _, n = x.shape
        nb = gather_points(x, knn(x, self.k))
        nb = nb - nb.mean(dim=2, keepdim=True)
        cov = torch.matmul(nb.transpose(2, 3), nb).view(b, n, -1).permute(0, 2, 1)
        h = torch.cat([x, cov], dim=1)
        for conv, bn in ((self.conv1, self.bn1), (self.conv2, self.bn2), (self.conv3, self.bn3)):
            h = torch.relu(bn(conv(h)))
        h = self.graph_layer2(self.graph_layer1(h))
        h = self.bn4(self.conv4(h)).max(dim=-1, keepdim=True)[0]
        return self.conv5(h).view(b, -1)


class Folding(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv1d(cin, 512, 3, 1, 1), nn.BatchNorm1d(512), nn.ReLU(),
                                    nn.Conv1d(512, 512, 3, 1, 1), nn.BatchNorm1d(512), nn.ReLU(),
                                    nn.Conv1d(512, cout, 3, 1, 1))

    def forward(self, *parts):
        return self.layers(torch.cat(parts, dim=1))


class DecoderLayer(nn.Module):
    def __init__(self, in_points, out_points, cin, cout):
        super().__init__()
        self.m, self.out_points = out_points // in_points, out_points
        self.fold1, self.fold2 = Folding(cin + 1, cout), Folding(cin + cout + 1, cout)

    def forward(self, x):
        grid = torch.linspace(-0.5, 0.5, self.out_points).view(1, 1, -1).repeat(x.size(0), 1, 1)
        x = x.repeat_interleave(self.m, dim=-1)
        r1 = self.fold1(grid, x)
        return r1 + self.fold2(grid, x, r1)


class Decoder(nn.Module):
    def __init__(self, atoms, latent):
        super().__init__()
        s = atoms // 128 + 1
        self.atoms, self.latent = atoms, latent
        self.layer1 = DecoderLayer(1, s, latent, 384)
        self.layer2 = DecoderLayer(s, 8 * s, 384, 48)
        self.layer3 = DecoderLayer(8 * s, 32 * s, 48, 12)
        self.layer4 = DecoderLayer(32 * s, 128 * s, 12, 3)

    def forward(self, z):
        h = z.view(-1, self.latent, 1)
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            h = layer(h)
        return h[:, :, :self.atoms]


class FoldingNet(nn.Module):
    def __init__(self, atoms, latent=2, k=16):
        super().__init__()
        self.encoder, self.decoder = Encoder(latent, min(k, atoms)), Decoder(atoms, latent)


def molearn_name(torch_name):
    """Our state_dict key -> molearn's exported attribute name."""
    for index, name in {"0": "conv1", "1": "bn1", "3": "conv2", "4": "bn2", "6": "conv3"}.items():
        torch_name = torch_name.replace(f".layers.{index}.", f".{name}.")
    return torch_name.replace(".", "__")


with temp_dir() as tmp:
    data = os.path.join(tmp, "murd.mlds")
    run("prepare", os.path.join(murd, "MurD_test.dcd"), "--top", os.path.join(murd, "MurD_test_topo.pdb"),
        "-o", data)
    header, coords = mlds.load(data)
    out = os.path.join(tmp, "run")
    run("train", data, "-o", out, "--epochs", "2", "--threads", "2", "--batch-size", "8")
    exported = os.path.join(tmp, "model.pt")
    run("export", os.path.join(out, "best.ckpt"), "-o", exported)
    theirs = torch.jit.load(exported)
    state = {name: value for name, value in list(theirs.named_parameters()) + list(theirs.named_buffers())}

    model = FoldingNet(header["atoms"]).eval()
    own = model.state_dict()
    missing = [k for k in own if molearn_name(k) not in state]
    checks.check(not missing and len(own) == len(state),
                 f"every parameter of the PyTorch description has a molearn counterpart ({len(own)} tensors)"
                 + (f"; missing {missing[:5]}" if missing else ""))
    model.load_state_dict({k: state[molearn_name(k)] for k in own})

    # C++ encode + decode: the ends of an interpolation between frames 2 and 9.
    ckpt = os.path.join(out, "best.ckpt")
    top_pdb = os.path.join(tmp, "top.pdb")
    run("generate", ckpt, "--latent", "0,0", "-o", top_pdb, "--threads", "2")
    path = os.path.join(tmp, "path.dcd")
    run("generate", ckpt, "--interpolate", "2,9", "--steps", "3", "-o", path, "--threads", "2")
    cxx = (md.load_dcd(path, top=top_pdb).xyz * 10.0 - header["mean"]) / header["std"]
    x = torch.from_numpy(coords[[2, 9]].copy()).permute(0, 2, 1)
    with torch.no_grad():
        z = model.encoder(x)
        ends = model.decoder(z).permute(0, 2, 1).numpy()
        middle = model.decoder(z.mean(dim=0, keepdim=True)).permute(0, 2, 1).numpy()
        z_ts = theirs.encode(x)
    checks.check(float((z - z_ts).abs().max()) < 1e-4,
                 f"encode of MurD frames 2, 9: PyTorch {z.numpy().round(5).tolist()} vs molearn "
                 f"{z_ts.numpy().round(5).tolist()}")
    diff = float(np.abs(cxx[[0, 2]] - ends).max())
    checks.check(diff < 1e-4, f"decode(encode(frame)) of MurD frames 2, 9: max |PyTorch - C++| {diff:.2e}")
    diff = float(np.abs(cxx[1] - middle[0]).max())
    checks.check(diff < 1e-4, f"decode of the midpoint: max |PyTorch - C++| {diff:.2e}")

    zs = torch.tensor([[0.5, -0.5], [2.0, 1.0]])
    points = os.path.join(tmp, "points.dcd")
    run("generate", ckpt, "--latent", "0.5,-0.5", "--latent", "2,1", "-o", points, "--threads", "2")
    cxx_points = (md.load_dcd(points, top=top_pdb).xyz * 10.0 - header["mean"]) / header["std"]
    with torch.no_grad():
        ours = model.decoder(zs).permute(0, 2, 1).numpy()
    diff = float(np.abs(cxx_points - ours).max())
    checks.check(diff < 1e-4, f"decode of latent points: max |PyTorch - C++| {diff:.2e}")

checks.finish()
