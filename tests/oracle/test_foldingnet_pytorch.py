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
import torch  # noqa: E402

import mlds  # noqa: E402
from foldingnet_reference import FoldingNet  # noqa: E402
from generate_comparison import check_generate_matches  # noqa: E402
from molearn_testing import Checks, require, run, shared_data, temp_dir  # noqa: E402

murd = os.path.join(shared_data(), "murd")
require(os.path.join(murd, "MurD_test.dcd"), os.path.join(murd, "MurD_test_topo.pdb"))
torch.set_num_threads(2)
checks = Checks("foldingnet oracle")


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

    # C++ encode + decode: the ends of an interpolation between frames 2 and 9, its midpoint, latent points.
    ckpt = os.path.join(out, "best.ckpt")
    check_generate_matches(checks, ckpt, model, theirs, coords, header, tmp, "MurD", threads="2")

checks.finish()
