"""Python molearn's FoldingNet written in plain PyTorch from its description,
independently of molearn's C++ code: the reference of the FoldingNet oracle
test and of the training benchmark. It follows Python molearn's own code path
(dense kNN by matrix product, topk, gather of [B, N, k, C]).
"""
import torch
from torch import nn


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

    def forward(self, x):
        return self.decoder(self.encoder(x))
