"""Oracle: molearn's Sinkhorn divergence (train/sinkhorn_divergence.cpp, the
loss of --trainer sinkhorn) against POT, the Python Optimal Transport
library (Debian's python3-pot), which molearn does not use.

POT's log-domain Sinkhorn gives the entropic transport plan P of each pair of
clouds for the cost |x - y|^2 / 2 at the temperature blur^2, run far past
molearn's tolerance. From P, the entropic OT value is the primal
<P, C> + eps KL(P | a x b) (equal to geomloss's dual value at the optimum),
the debiased divergence S = OT(x, y) - OT(x, x) / 2 - OT(y, y) / 2, and its
gradient (envelope theorem) dS/dx_i = sum_j P^xy_ij (x_i - y_j) -
sum_j P^xx_ij (x_i - x_j). molearn's value and autograd gradients, printed by
tests/tools/sinkhorn_probe.cpp, must agree.
"""
import json
import os
import warnings
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import SKIP, Checks, molearn_bin  # noqa: E402

try:
    import ot
except ImportError:
    print("SKIPPED: POT (python3-pot) is not installed; scripts/install-deps.sh installs it")
    sys.exit(SKIP)

checks = Checks("sinkhorn oracle")
warnings.filterwarnings("ignore", "Sinkhorn did not converge")  # its marginals' error is checked below


def probe_path():
    path = os.environ.get("MOLEARN_SINKHORN_PROBE") or os.path.join(os.path.dirname(molearn_bin()), "tests",
                                                                      "molearn_sinkhorn_probe")
    if not os.path.exists(path):
        sys.exit(f"{path}: the Sinkhorn probe is not built (build the tests; ctest sets MOLEARN_SINKHORN_PROBE)")
    return path


def molearn_divergence(x, y, blur, scaling=0.5):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"x": x.tolist(), "y": y.tolist(), "blur": blur, "scaling": scaling}, f)
    try:
        out = subprocess.run([probe_path(), f.name], capture_output=True, text=True, check=True, timeout=120,
                             env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout
    finally:
        os.unlink(f.name)
    result = json.loads(out)
    return (result["divergence"], np.array(result["grad_x"]), np.array(result["grad_y"]), result["converged"])


def entropic_plan(x, y, eps):
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    cost = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1) / 2
    plan = ot.sinkhorn(a, b, cost, eps, method="sinkhorn_log", numItermax=200000, stopThr=1e-14)
    marginal_error = max(np.abs(plan.sum(1) - a).max(), np.abs(plan.sum(0) - b).max())
    positive = plan > 0
    kl = (plan[positive] * (np.log(plan[positive]) - np.log(np.outer(a, b)[positive]))).sum()
    return plan, (plan * cost).sum() + eps * kl, marginal_error


def pot_divergence(x, y, blur):
    eps = blur ** 2
    p_xy, ot_xy, e_xy = entropic_plan(x, y, eps)
    p_xx, ot_xx, e_xx = entropic_plan(x, x, eps)
    p_yy, ot_yy, e_yy = entropic_plan(y, y, eps)
    grad_x = (p_xy.sum(1)[:, None] * x - p_xy @ y) - (p_xx.sum(1)[:, None] * x - p_xx @ x)
    grad_y = (p_xy.sum(0)[:, None] * y - p_xy.T @ x) - (p_yy.sum(1)[:, None] * y - p_yy @ y)
    return ot_xy - ot_xx / 2 - ot_yy / 2, grad_x, grad_y, max(e_xy, e_xx, e_yy)


rng = np.random.default_rng(18)
cases = [
    # Python molearn's blur on 2-D clouds of a batch's size, of unequal sizes.
    ("16 vs 20 points in 2-D, blur 0.05", rng.normal(0, 1, (16, 2)), rng.normal(0.5, 0.8, (20, 2)), 0.05),
    ("12 vs 12 points in 3-D, blur 0.5", rng.normal(0, 1, (12, 3)), rng.normal(0, 1.5, (12, 3)), 0.5),
    # Flattened structures: 8 frames of 100 atoms, the cost far above the temperature.
    ("8 vs 8 points in 300-D, blur 0.05", rng.normal(0, 0.1, (8, 300)), rng.normal(0.02, 0.1, (8, 300)), 0.05),
    ("one cloud against itself shifted by t: |t|^2 / 2", None, None, 0.05),
]
for label, x, y, blur in cases:
    if x is None:
        x = rng.normal(0, 1, (10, 2))
        y = x + np.array([0.3, -0.4])
    ours, grad_x, grad_y, converged = molearn_divergence(x, y, blur)
    theirs, pot_grad_x, pot_grad_y, marginal_error = pot_divergence(x, y, blur)
    scale = max(abs(theirs), 1e-3)
    grad_scale = max(np.abs(pot_grad_x).max(), np.abs(pot_grad_y).max(), 1e-3)
    grad_error = max(np.abs(grad_x - pot_grad_x).max(), np.abs(grad_y - pot_grad_y).max()) / grad_scale
    # molearn stops at 1,000 iterations at the final temperature even when its potentials still move (near-ties
    # between matchings, as in the first and third cases): the value must be right all the same.
    checks.check(marginal_error < 1e-5 and abs(ours - theirs) <= 1e-5 * scale and grad_error < 1e-3,
                 f"{label}: molearn {ours:.8f}, POT {theirs:.8f} (relative {abs(ours - theirs) / scale:.1e}); "
                 f"gradients within {grad_error:.1e} of the largest; molearn's iterations settled: {converged}, "
                 f"POT's marginals within {marginal_error:.0e}")
    if label.startswith("one cloud"):
        checks.check(abs(theirs - 0.125) < 1e-3, f"POT gives |t|^2 / 2 = 0.125 for the shifted cloud: {theirs:.6f}")

checks.finish()
