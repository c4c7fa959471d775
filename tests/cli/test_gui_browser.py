"""`molearn gui` as a person sees it: a small model trained on the shipped
2MI7 ensemble, the server started on a free loopback port, and
tests/browser/check_gui.mjs driving Debian's Chromium (playwright-core from
npm): the map draws, two clicks make a path, the 3D viewer shows its frames,
the PDB download has one model per step, an error shows on the page. The
screenshot is kept in the build tree (tests/artefacts/gui.png).

Skipped (77) only when Chromium, node or web/node_modules is missing.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import SKIP, Checks, molearn_bin, run, source_dir, temp_dir, train_small_model  # noqa: E402

checks = Checks("gui browser")
checker = os.path.join(source_dir(), "tests", "browser", "check_gui.mjs")
chromium = os.environ.get("MOLEARN_CHROMIUM", "/usr/bin/chromium")
for need, what in ((shutil.which("node"), "node"), (os.path.exists(chromium) and chromium, "Chromium"),
                   (os.path.isdir(os.path.join(source_dir(), "web", "node_modules", "playwright-core")),
                    "web/node_modules/playwright-core (npm ci --prefix web)")):
    if not need:
        print(f"SKIPPED: {what} is not installed")
        sys.exit(SKIP)

artefacts = os.path.join(os.getcwd(), "artefacts")
os.makedirs(artefacts, exist_ok=True)
shot = os.path.join(artefacts, "gui.png")

with temp_dir() as tmp:
    data, ckpt = train_small_model(tmp)
    # As the demo does: a scan first, so the map shows at once (maps computed
    # on demand are tested through the API in test_gui_api.py).
    scan = os.path.join(tmp, "scan")
    run("scan", ckpt, "--grid", "10", "--metrics", "error,drift", "--threads", "1", "-o", scan)
    proc = subprocess.Popen([molearn_bin(), "gui", ckpt, "--scan", scan, "--port", "0", "--threads", "1"],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    url = None
    lines = []
    deadline = time.time() + 180
    while time.time() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        m = re.search(r"serving on (http://[\d.]+:\d+/)", line)
        url = m.group(1) if m else None
    try:
        checks.check(url is not None, f"molearn gui printed its URL: {url or lines}")
        if url:
            t0 = time.time()
            browser = subprocess.run(["node", checker, url, shot], capture_output=True, text=True, timeout=400)
            print(browser.stdout.strip())
            if browser.returncode == SKIP:
                print("SKIPPED: the browser could not start")
                sys.exit(SKIP)
            checks.check(browser.returncode == 0,
                         f"the page works in headless Chromium ({time.time() - t0:.1f} s): {browser.stderr.strip()}")
            checks.check(os.path.exists(shot) and os.path.getsize(shot) > 20000, f"screenshot kept: {shot}")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

checks.finish()
