"""Data-parallel training: two processes on 127.0.0.1 (c10d + Gloo) give the
loss curve of one process with the same global batch, to float tolerance;
only rank 0 writes checkpoints and logs.

conv1d is compared over several epochs and batches. FoldingNet (as Python
molearn's) has convolution biases right before batch norms: their true
gradient is zero, so what they receive is rounding noise, which AdamW's
first steps scale up to +-lr. Two ways of summing (one process, or two
processes plus an all-reduce) then drift apart after the first update even
though both are right. So FoldingNet is compared on what is deterministic:
the first epoch with the whole training set as one global batch (forward
pass with cross-process batch statistics, loss, all-reduced gradients).
Both in fp32 (--precision fp32): the tolerance is fp32's; bf16 (the default,
auto, on CPUs with AVX512-BF16) rounds the two sums differently by more.
"""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import read_log, Checks, molearn_bin, run, source_dir, temp_dir  # noqa: E402

checks = Checks("distributed")
fixtures = os.path.join(source_dir(), "examples", "data")
EPOCHS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]




with temp_dir() as tmp:
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", data, "--align", "--valid", "0.25")
    common = ["--epochs", str(EPOCHS), "--batch-size", "8", "--seed", "5", "--threads", "1", "--patience", "0",
              "--precision", "fp32"]

    for model, settings in [("conv1d", common),
                            ("foldingnet", ["--epochs", "1", "--batch-size", "24", "--seed", "5", "--threads", "1",
                                            "--patience", "0", "--precision", "fp32"])]:
        pair = os.path.join(tmp, "pair-" + model)
        single_model = os.path.join(tmp, "single-" + model)
        run("train", data, "-o", single_model, "--model", model, *settings)
        port = free_port()
        procs = [subprocess.Popen([molearn_bin(), "train", data, "-o", pair, "--model", model, *settings,
                                   "--world-size", "2", "--rank", str(rank), "--master", f"127.0.0.1:{port}"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
                 for rank in (0, 1)]
        outputs = [p.communicate(timeout=600) for p in procs]
        codes = [p.returncode for p in procs]
        checks.check(codes == [0, 0], f"{model}: both ranks finish: exit codes {codes}"
                     + ("" if codes == [0, 0] else f"\n{outputs}"))
        if codes != [0, 0]:
            continue
        one, two = read_log(single_model), read_log(pair)
        worst = max(abs(a[k] - b[k]) / abs(a[k]) for a, b in zip(one, two) for k in ("train_loss", "valid_loss"))
        checks.check(len(one) == len(two) and len(one) >= 1 and worst < 1e-4,
                     f"{model}: 2 ranks follow the 1-process loss curve, largest relative difference {worst:.2e}")
        checks.check("epoch" in outputs[0][0] and "epoch" not in outputs[1][0],
                     f"{model}: only rank 0 reports epochs")

    code, out, err = run("train", data, "-o", os.path.join(tmp, "bad"), "--world-size", "2", "--rank", "2",
                         expect_ok=False)
    checks.check(code != 0 and "rank 2" in err, f"a rank outside the world is rejected: '{err.strip()}'")

checks.finish()
