"""`molearn report` end to end: train a tiny model on the shipped 2MI7
ensemble, write the report (with a scan folder written here by hand in the
format of `molearn scan`), check report.json against independent numbers
(log.jsonl, `molearn generate --reconstruct`), check the HTML is
self-contained, open it in headless Chromium (tests/browser/check_report.mjs:
every section drawn, nothing fetched) and check bad input.

Skipped (77) only when Chromium, node or web/node_modules is missing.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import mlds  # noqa: E402
from molearn_testing import SKIP, Checks, read_log, run, source_dir, temp_dir  # noqa: E402

checks = Checks("report cli")
fixtures = os.path.join(source_dir(), "examples", "data")
plotly_dir = os.path.join(source_dir(), "web", "node_modules", "plotly.js-dist-min")
checker = os.path.join(source_dir(), "tests", "browser", "check_report.mjs")
SHOT_COPY = "/tmp/report-shot.png"

if not os.path.exists(os.path.join(plotly_dir, "plotly.min.js")):
    print(f"SKIPPED: {plotly_dir}/plotly.min.js missing (run scripts/install-deps.sh: npm ci --prefix web)")
    sys.exit(SKIP)
# Until the build copies plotly.min.js into its share folder, the binary finds it here.
os.environ.setdefault("MOLEARN_WEB_DIR", plotly_dir)


def write_scan(folder, checkpoint, nx=5, ny=4):
    """A scan folder as `molearn scan` writes it of `checkpoint`: scan.json + float64 [ny, nx] grids."""
    os.makedirs(folder)
    x = np.linspace(-1.0, 1.0, nx)
    y = np.linspace(-2.0, 2.0, ny)
    error = np.add.outer(y ** 2, x)  # row j is y[j], column i is x[i]
    error[1, 2] = np.nan
    np.save(os.path.join(folder, "error.npy"), error.astype(np.float64))
    np.save(os.path.join(folder, "drift.npy"), np.abs(np.subtract.outer(y, x)).astype(np.float64))
    summary = {"command": "scan", "checkpoint": os.path.abspath(checkpoint), "dataset": "demo.mlds", "latent_dim": 2,
               "grid": [nx, ny], "bounds": [-1, 1, -2, 2], "plane": None, "x": x.tolist(), "y": y.tolist(),
               "metrics": {"error": {"file": "error.npy", "unit": "Å", "column": "error", "summary": {}},
                           "drift": {"file": "drift.npy", "unit": "latent units", "column": "drift",
                                     "summary": {}}},
               "encoded": {"train": [[0.1, 0.2], [-0.5, 1.0]], "valid": [[0.3, -0.4]]}, "seconds": 0.1}
    with open(os.path.join(folder, "scan.json"), "w") as f:
        json.dump(summary, f)


def check_json(report, log, header, rec_rmsd):
    checks.check(report["epochs"] == len(log), f"report.json epochs = {report['epochs']} lines of log.jsonl")
    best = min(r["valid_rmsd"] for r in log)
    checks.check(abs(report["best_valid_rmsd"] - best) < 1e-9,
                 f"best validation RMSD {report['best_valid_rmsd']:.5f} = minimum of log.jsonl {best:.5f}")
    improved = [r["epoch"] for r in log if r["improved"]][-1]
    checks.check(report["best_epoch"] == improved, f"best epoch {report['best_epoch']} = last improved {improved}")
    for split in ("train", "valid"):
        got = report["reconstruction_rmsd"][split]
        want = np.array([rec_rmsd[i] for i in header["split"][split]])
        worst = np.abs(np.array(got["per_frame"]) - want).max()
        checks.check(got["frames"] == header["split"][split] and worst < 1.5e-3,
                     f"{split} reconstruction RMSDs = 'generate --reconstruct' (worst {worst:.2g} A, printed "
                     f"to 3 decimals); mean {got['mean']:.4f} vs {want.mean():.4f}")
    groups = report["groups"]
    n_train = len(header["split"]["train"])
    checks.check(groups["training"]["structures"] == n_train and groups["reconstructions"]["structures"] == n_train
                 and groups["midpoints"]["structures"] == n_train - 1 == len(report["midpoint_pairs"]),
                 f"groups: {n_train} training frames, their reconstructions, {n_train - 1} midpoints")
    pairs = report["midpoint_pairs"]
    train = header["split"]["train"]
    checks.check(all(p == [train[k], train[k + 1]] for k, p in enumerate(pairs)),
                 "midpoints pair consecutive training frames")
    for key, m in report["metrics"].items():
        if not m["available"]:
            checks.check("not available" in m["note"] or "could not" in m["note"], f"metric {key}: {m['note']}")
            continue
        means = [groups[g]["metrics"][m["columns"][0]]["mean"] for g in ("training", "reconstructions", "midpoints")]
        checks.check(all(v is not None and np.isfinite(v) for v in means),
                     f"metric {key} ({m['columns'][0]}) means per group: {means}")
    checks.check(report["scan"]["grid"] == [5, 4], f"scan folder read: grid {report['scan']['grid']}")


def check_html(html_path):
    with open(html_path, encoding="utf-8") as f:
        html = f.read()
    # No tag loads anything (plotly.js's own code holds URL strings, e.g. for map tiles it never uses
    # here; the browser check blocks and lists any request actually made).
    loaders = re.findall(r"<(?:script|img|iframe|embed|source|audio|video)\b[^>]*\bsrc\s*=|<link\b|@import|url\(",
                         re.sub(r"<script>.*?</script>", "<script></script>", html, count=1, flags=re.S), re.I)
    checks.check(not loaders, f"no tag of the page loads a file or URL: {loaders}")
    # Outside the inlined library, no URL at all.
    rest = re.sub(r"<script>.*?</script>", "", html, count=1, flags=re.S)
    urls = re.findall(r"https?://[^\s\"'<>]*", rest)
    checks.check(not urls, f"no URL in the page outside the inlined plotly.js: {urls[:5]}")
    with open(os.path.join(plotly_dir, "plotly.min.js"), encoding="utf-8") as f:
        head = f.read(200)
    version = head.split("plotly.js v")[1].split()[0]
    checks.check(f"plotly.js v{version}" in html and len(html) > 3_000_000,
                 f"plotly.js v{version} is inlined ({len(html) / 1e6:.1f} MB page)")
    sections = [s for s in ("headline", "curves", "reconstruction", "latent", "ramachandran", "quality", "scan")
                if f'<section class="report-section" id="{s}"' in html]
    checks.check(len(sections) == 7, f"the page has the 7 sections: {sections}")


def page_figures(html_path):
    """The plotly figures (data + layout) embedded in the page, by div id."""
    with open(html_path, encoding="utf-8") as f:
        html = f.read()
    text = re.search(r'<script type="application/json" id="molearn-figures">(.*?)</script>', html, re.S).group(1)
    return json.loads(text)


def check_page_data(figures, log, header, report):
    loss = figures["fig-loss"]["data"]
    checks.check(all(r["valid_mse"] == r["valid_loss"] for r in log),
                 "without the physics loss the validation loss is the validation MSE")
    checks.check(loss[0]["y"] == [r["train_loss"] for r in log] and loss[1]["y"] == [r["valid_mse"] for r in log],
                 "the loss curves plot log.jsonl's training and validation MSE")
    checks.check("fig-selection_loss" not in figures, "no selection-loss figure without the physics loss")
    bonds = figures.get("fig-bond_curve", {}).get("data", [])
    checks.check(all("valid_bond_rmsd" in r for r in log) and len(bonds) == 1 and
                 bonds[0]["y"] == [r["valid_bond_rmsd"] for r in log],
                 "train logs the validation reconstructions' bond deviation and the report plots it")
    latent = figures["fig-latent"]["data"]
    checks.check([len(t["x"]) for t in latent] == [len(header["split"]["train"]), len(header["split"]["valid"])],
                 f"the latent scatter has every training and validation frame: {[len(t['x']) for t in latent]}")
    hist = figures["fig-rmsd_hist"]["data"]
    sums = [sum(t["y"]) for t in hist]
    checks.check(all(abs(v - 1) < 1e-9 for v in sums), f"each RMSD histogram sums to 1 (fractions): {sums}")
    rama = figures["fig-ramachandran"]["data"]
    points = [t for t in rama if t["type"] == "scatter"]
    contours = [t for t in rama if t["type"] == "contour"]
    checks.check(len(points) == 3 and all(len(t["x"]) > 0 for t in points) and
                 all(-180 <= v <= 180 for t in points for v in t["x"] + t["y"]),
                 f"Ramachandran scatter: 3 groups of phi/psi in [-180, 180] ({[len(t['x']) for t in points]})")
    available = report["metrics"]["ramachandran"]["available"]
    checks.check(len(contours) == (2 if available else 0),
                 f"Ramachandran contours drawn when the tables are there ({len(contours)} levels)")
    heat = figures["fig-scan_error"]["data"][0]
    checks.check(heat["type"] == "heatmap" and len(heat["z"]) == 4 and len(heat["z"][0]) == 5 and
                 heat["z"][1][2] is None and abs(heat["z"][2][3] - (heat["y"][2] ** 2 + heat["x"][3])) < 1e-12,
                 "scan heatmap: z[j][i] is the NPY's row j (y) and column i (x); NaN is a gap")


def write_physics_log(folder, log, active_from, with_mse=True):
    """log.jsonl of a physics run: energies every epoch, active (the validation loss then the
    selection loss log MSE + w log E, negative here) from epoch index active_from."""
    with open(os.path.join(folder, "log.jsonl"), "w") as f:
        for k, r in enumerate(log):
            r = dict(r)
            r.update(physics_active=k >= active_from, train_energy=1000.0 + k, valid_energy=2000.0 - k,
                     physics_scale=1e-7)
            if k >= active_from:
                r["valid_loss"] = -0.5 + k * 0.01
            if not with_mse:
                del r["valid_mse"]
            f.write(json.dumps(r) + "\n")


def check_physics_log(tmp, run_dir):
    """A run logged with energies: energy curves; the loss figure compares MSE with MSE and the
    checkpoint-selection loss of the physics epochs (negative) gets its own linear axis."""
    physics = os.path.join(tmp, "physics-run")
    shutil.copytree(run_dir, physics)
    log = read_log(physics)
    active_from = 1
    write_physics_log(physics, log, active_from)
    out = os.path.join(tmp, "physics-out")
    os.makedirs(out)
    html_path = os.path.join(out, "p.html")
    run("report", physics, "--threads", "1", "--midpoints", "2", "-o", html_path)
    figures = page_figures(html_path)
    energy = figures.get("fig-energy_curve", {}).get("data", [])
    checks.check(len(energy) == 2 and energy[0]["y"] == [1000.0 + k for k in range(len(log))] and
                 energy[1]["y"] == [2000.0 - k for k in range(len(log))],
                 "a run logged with energies gets the energy curves of log.jsonl")
    loss = figures["fig-loss"]["data"]
    checks.check(loss[1]["y"] == [r["valid_mse"] for r in log],
                 "with the physics loss the loss figure still plots the validation MSE, not the selection loss")
    selection = figures.get("fig-selection_loss", {}).get("data", [])
    expected = [None] * active_from + [-0.5 + k * 0.01 for k in range(active_from, len(log))]
    checks.check(len(selection) == 1 and selection[0]["y"] == expected,
                 f"the selection loss of the physics epochs has its own figure: {selection and selection[0]['y']}")
    checks.check(figures["fig-selection_loss"]["layout"]["yaxis"].get("type") != "log",
                 "the (negative) selection loss is not put on a log axis")
    # A log written before valid_mse: the physics epochs' validation MSE is unknown, not the selection loss.
    write_physics_log(physics, log, active_from, with_mse=False)
    old_html = os.path.join(out, "old.html")
    run("report", physics, "--threads", "1", "--midpoints", "2", "-o", old_html)
    loss = page_figures(old_html)["fig-loss"]["data"]
    checks.check(loss[1]["y"] == [log[0]["valid_loss"]] + [None] * (len(log) - 1),
                 "an older log: the validation loss curve leaves out the epochs whose loss was the selection loss")
    checks.check(os.path.exists(os.path.join(out, "p_figures", "energy_curve.png")) and
                 os.path.exists(os.path.join(out, "p.json")), "names follow -o: p.json, p_figures/energy_curve.png")


def check_figures(folder):
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    pngs = [n for n in names if n.endswith(".png")]
    want = ["loss.png", "valid_rmsd.png", "rmsd_hist.png", "latent.png", "ramachandran.png", "scan_error.png",
            "scan_drift.png"]
    missing = [w for w in want if w not in pngs]
    good = True
    for n in pngs:
        with open(os.path.join(folder, n), "rb") as f:
            good &= f.read(8) == b"\x89PNG\r\n\x1a\n"
    checks.check(not missing and good and len([n for n in names if n.endswith(".svg")]) == len(pngs),
                 f"{len(pngs)} PNG figures (+ SVG) beside the report; missing: {missing}")


def check_in_browser(html_path, shot):
    if shutil.which("node") is None:
        print("SKIPPED (browser part): node is not installed")
        return SKIP
    proc = subprocess.run(["node", checker, html_path, shot], capture_output=True, text=True, timeout=300)
    print(proc.stdout + proc.stderr)
    if proc.returncode == SKIP:
        return SKIP
    checks.check(proc.returncode == 0 and os.path.exists(shot),
                 f"headless Chromium draws every section, fetches nothing (exit {proc.returncode})")
    if os.path.exists(shot):
        shutil.copyfile(shot, SHOT_COPY)
    return 0


def check_bad_input(tmp, run_dir, data):
    bad = os.path.join(tmp, "bad")
    os.makedirs(bad)
    empty_run = os.path.join(tmp, "empty-run")
    os.makedirs(empty_run)
    no_ckpt = os.path.join(tmp, "no-ckpt")
    os.makedirs(no_ckpt)
    shutil.copyfile(os.path.join(run_dir, "log.jsonl"), os.path.join(no_ckpt, "log.jsonl"))
    other = os.path.join(tmp, "backbone.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", other, "--atoms", "backbone")
    no_tables = os.path.join(tmp, "no-tables")
    os.makedirs(no_tables)
    last_scan = os.path.join(tmp, "scan-of-last")  # the run's other checkpoint: other heatmaps
    write_scan(last_scan, os.path.join(run_dir, "last.ckpt"))
    out = os.path.join(bad, "r.html")
    for what, args, fragments in [
        ("run folder without log.jsonl", [empty_run], ["log.jsonl", "molearn train"]),
        ("run folder without checkpoint", [no_ckpt], ["best.ckpt", "not found"]),
        ("dataset of another topology", [run_dir, "--data", other], ["backbone.mlds", "another topology"]),
        ("--data-dir without the reference tables", [run_dir, "--data-dir", no_tables], ["rama8000"]),
        ("scan folder without scan.json", [run_dir, "--scan", no_tables], ["scan.json", "molearn scan"]),
        ("scan of another checkpoint", [run_dir, "--scan", last_scan], ["was scanned with checkpoint", "last.ckpt"]),
        ("output that is not .html", [run_dir, "-o", os.path.join(bad, "r.txt")], ["r.txt", "html"]),
    ]:
        argv = ["report", *args] + ([] if "-o" in args else ["-o", out])
        code, _, err = run(*argv, "--threads", "1", expect_ok=False)
        left = os.listdir(bad)
        checks.check(code == 2 and all(f in err for f in fragments) and not left,
                     f"{what}: exit {code}, nothing written {left}, '{err.strip()}'")


with temp_dir() as tmp:
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", data, "--align", "--valid", "0.25")
    run_dir = os.path.join(tmp, "run")
    run("train", data, "-o", run_dir, "--epochs", "2", "--threads", "1", "--seed", "3", "--batch-size", "8")
    log = read_log(run_dir)
    header, _ = mlds.load(data)

    # fp32, as the report reconstructs (generate's default, auto, is bf16 on CPUs with AVX512-BF16)
    _, rec_out, _ = run("generate", os.path.join(run_dir, "best.ckpt"), "--reconstruct", "--threads", "1",
                        "--precision", "fp32", "-o", os.path.join(tmp, "rec.dcd"))
    rec_rmsd = [float(l.split()[4]) for l in rec_out.splitlines() if l.startswith("frame ")]

    scan = os.path.join(tmp, "scan")
    write_scan(scan, os.path.join(run_dir, "best.ckpt"))
    out_dir = os.path.join(tmp, "out")
    os.makedirs(out_dir)
    html_path = os.path.join(out_dir, "report.html")
    code, out, err = run("report", run_dir, "--scan", scan, "--threads", "1", "-o", html_path)
    print(out + err)
    checks.check(sorted(os.listdir(out_dir)) == ["report.html", "report.json", "report_figures"],
                 f"writes report.html, report.json, report_figures/ and nothing else: {sorted(os.listdir(out_dir))}")
    with open(os.path.join(out_dir, "report.json")) as f:
        report = json.load(f)
    check_json(report, log, header, rec_rmsd)
    check_html(html_path)
    check_figures(os.path.join(out_dir, "report_figures"))
    check_page_data(page_figures(html_path), log, header, report)
    check_physics_log(tmp, run_dir)
    browser = check_in_browser(html_path, os.path.join(tmp, "shot.png"))
    check_bad_input(tmp, run_dir, data)

if browser == SKIP and not checks.failed:
    print(f"report cli: {checks.passed} passed; SKIPPED the browser check (no Chromium / playwright-core)")
    sys.exit(SKIP)
checks.finish()
