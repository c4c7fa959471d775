"""`molearn gui`'s HTTP API (docs/gui-api.md) against a server started on a
free loopback port, with a small model trained on the shipped 2MI7 ensemble:
info, maps from a scan folder and computed as jobs (with cancel), paths that
agree with `molearn path`, decode/export/metrics, bad requests answered 400
with a message, no file served outside the assets (path traversal, encoded
forms), foreign Host headers refused, a body over the limit, a slow client
timed out, a load test of 200 concurrent decodes all answered correctly,
Ctrl-C stopping the server and its temporary folder removed.
"""
import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import Checks, molearn_bin, native_bf16, run, temp_dir, train_small_model  # noqa: E402

checks = Checks("gui api")


def start_server(*args):
    """Starts `molearn gui ... --port 0`; returns (process, port, lines printed before serving)."""
    proc = subprocess.Popen([molearn_bin(), "gui", *map(str, args), "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    lines = []
    deadline = time.time() + 180
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        m = re.search(r"serving on http://([\d.]+):(\d+)/", line)
        if m:
            return proc, int(m.group(2)), lines
    proc.kill()
    raise AssertionError("molearn gui did not print its URL:\n" + "\n".join(lines))


class Api:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, headers=None, raw=None, timeout=120):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        res = conn.getresponse()
        payload = res.read()
        conn.close()
        return res.status, res.getheader("Content-Type", ""), payload

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def json(self, method, path, body=None):
        status, _, payload = self.request(method, path, body)
        return status, json.loads(payload)


def pdb_models(text):
    """Frames [F, atoms, 3] of a multi-model PDB."""
    models, current = [], None
    for line in text.splitlines():
        if line.startswith("MODEL"):
            current = []
        elif line.startswith(("ATOM", "HETATM")) and current is not None:
            current.append([float(line[30:38]), float(line[38:46]), float(line[46:54])])
        elif line.startswith("ENDMDL"):
            models.append(current)
            current = None
    return np.array(models)


def wait_for_job(api, job, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, doc = api.json("GET", f"/api/jobs/{job}")
        if doc.get("state") in ("done", "failed", "cancelled"):
            return doc
        time.sleep(0.1)
    raise AssertionError(f"job {job} did not finish")


def z_matrix(doc):
    return np.array([[np.nan if v is None else v for v in row] for row in doc["z"]])


with temp_dir() as tmp:
    data, ckpt = train_small_model(tmp)
    scan = os.path.join(tmp, "scan")
    # fp32 throughout, so that the server's answers can be held to the commands' to 1e-3 A: the default,
    # --precision auto, is bf16 on CPUs with AVX512-BF16 (checked with the second server below).
    run("scan", ckpt, "--grid", "8", "--metrics", "error,drift", "--threads", "1", "--precision", "fp32", "-o", scan)
    reference_pdb = os.path.join(tmp, "ref.pdb")
    run("path", ckpt, "--from", "0", "--to", "5", "--steps", "6", "-o", reference_pdb, "--threads", "1",
        "--precision", "fp32")
    with open(reference_pdb) as f:
        reference_frames = pdb_models(f.read())
    reference_points = np.loadtxt(os.path.join(tmp, "ref.csv"), delimiter=",", skiprows=1, usecols=(1, 2))

    # --- command-line errors come before any serving -------------------------
    code, out, err = run("gui", ckpt, "--port", "70000", expect_ok=False)
    checks.check(code == 2 and "--port" in err, f"--port 70000 refused (exit {code}): {err.strip()[-80:]}")
    code, out, err = run("gui", os.path.join(tmp, "none.ckpt"), "--port", "0", expect_ok=False)
    checks.check(code == 2 and "none.ckpt" in err, f"a missing checkpoint is named (exit {code})")

    proc, port, lines = start_server(ckpt, "--scan", scan, "--threads", "1", "--precision", "fp32")
    api = Api(port)
    try:
        # --- the page and its assets; nothing else -------------------------
        status, ctype, body = api.get("/")
        checks.check(status == 200 and "text/html" in ctype and b"<html" in body.lower(),
                     f"GET / serves the page ({status}, {ctype})")
        for name in ("gui.js", "gui.css", "plotly.min.js", "ngl.js"):
            status, ctype, body = api.get(f"/assets/{name}")
            checks.check(status == 200 and len(body) > 100, f"GET /assets/{name}: {status}, {len(body)} bytes")
        for path in ("/assets/../../../../etc/passwd", "/assets/..%2F..%2F..%2Fetc%2Fpasswd",
                     "/assets/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd", "/etc/passwd",
                     "/assets/index.html", "/assets/", "/assets/%252e%252e%252fetc%252fpasswd",
                     "/api/../../etc/passwd"):
            status, _, body = api.get(path)
            checks.check(status in (400, 404) and b"root:" not in body, f"GET {path} refused ({status})")
        # Large bodies go uncompressed: Debian's cpp-httplib would brotli them
        # anew for every request (seconds per asset), pointless on loopback.
        for method, path, body in (("GET", "/assets/plotly.min.js", None), ("GET", "/api/info", None)):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request(method, path, body=body, headers={"Accept-Encoding": "gzip, deflate, br"})
            res = conn.getresponse()
            res.read()
            conn.close()
            checks.check(res.status == 200 and res.getheader("Content-Encoding") is None,
                         f"{path} is sent uncompressed to a browser that accepts br "
                         f"(Content-Encoding: {res.getheader('Content-Encoding')})")
        status, _, body = api.get("/api/nothing")
        checks.check(status == 404 and "error" in json.loads(body), "unknown API path: 404 with a JSON message")
        status, _, body = api.get("/api/info", headers={"Host": "evil.example:8050"})
        checks.check(status == 403, f"a foreign Host header (DNS rebinding) is refused ({status})")

        # --- info ----------------------------------------------------------
        status, info = api.json("GET", "/api/info")
        splits = [e["split"] for e in info["encoded"]]
        checks.check(status == 200 and info["model"]["latent_dim"] == 2 and info["atoms"] == 326 and
                     info["dataset"]["frames"] == 32, f"info: model, atoms, frames ({info['model']})")
        checks.check(splits.count("train") == 24 and splits.count("valid") == 8 and
                     all(e.get("source") == "2mi7_heavy.dcd" for e in info["encoded"]) and
                     [e["source_frame"] for e in info["encoded"]] == list(range(32)),
                     "info: 24 training + 8 validation frames, each with its source file and frame")
        checks.check({"landscape": "error", "grid": 8} in info["scanned"] and info["default"]["grid"] == 8,
                     f"info lists the scan folder's maps: {info['scanned']}")
        with open(os.path.join(scan, "scan.json")) as f:
            scan_doc = json.load(f)
        checks.check(np.allclose(info["bounds"], scan_doc["bounds"]), "info bounds are the scan's")
        limits = info["limits"]

        # --- maps ------------------------------------------------------------
        status, doc = api.json("POST", "/api/scan", {"landscape": "error", "grid": 8})
        npy = np.load(os.path.join(scan, "error.npy"))
        checks.check(status == 200 and doc["state"] == "done" and doc["source"] == "scan folder" and
                     np.allclose(z_matrix(doc), npy, equal_nan=True),
                     f"the scanned error map is served as written ({status}, {doc.get('source')})")
        status, doc = api.json("POST", "/api/scan", {"landscape": "drift", "grid": 6})
        checks.check(status == 202 and doc["state"] in ("queued", "running") and doc["total"] == 36,
                     f"an unscanned map starts a job ({status}, {doc})")
        status2, doc2 = api.json("POST", "/api/scan", {"landscape": "drift", "grid": 6})
        checks.check(doc2.get("job") == doc["job"] or doc2.get("state") == "done",
                     "an identical request shares the job (or gets the finished map)")
        done = wait_for_job(api, doc["job"])
        z = z_matrix(done["result"]) if done["state"] == "done" else None
        checks.check(done["state"] == "done" and done["done"] == 36 and z.shape == (6, 6) and
                     np.all(np.isfinite(z)) and np.all(z >= 0), f"the drift map job finishes: {done['state']}")
        status, doc = api.json("POST", "/api/scan", {"landscape": "drift", "grid": 6})
        checks.check(status == 200 and doc["source"] == "computed" and np.allclose(z_matrix(doc), z),
                     "then the map is answered from the cache")
        status, doc = api.json("POST", "/api/scan", {"landscape": "error", "grid": limits["max_grid"]})
        time.sleep(0.3)
        status_c, cancelled = api.json("POST", f"/api/jobs/{doc['job']}/cancel")
        final = wait_for_job(api, doc["job"])
        checks.check(status == 202 and status_c == 200 and final["state"] == "cancelled" and
                     final["done"] < final["total"], f"a long map job is cancelled: {final['state']} at "
                     f"{final['done']}/{final['total']}")
        status, doc = api.json("GET", "/api/jobs/999999")
        checks.check(status == 404 and "999999" in doc["error"], "an unknown job: 404")

        # --- paths -----------------------------------------------------------
        status, path = api.json("POST", "/api/path", {"waypoints": [{"frame": 0}, {"frame": 5}], "steps": 6})
        frames = pdb_models(path["pdb"]) if status == 200 else np.zeros(0)
        checks.check(status == 200 and frames.shape == (6, 326, 3), f"a straight path of 6 structures: {frames.shape}")
        checks.check(np.allclose(np.array(path["points"]), reference_points, atol=1e-5) and
                     np.abs(frames - reference_frames).max() < 2e-3,
                     "its latent points and structures are those of 'molearn path --from 0 --to 5 --steps 6'")
        metrics = {m["name"]: m for m in path["metrics"]}
        # A model of 3 epochs may decode the two ends only thousandths of an
        # A apart: zero at its own end, the same distance both ways, and
        # rising along the path is what the metrics must show.
        to_start, to_end = metrics["rmsd_start"]["values"], metrics["rmsd_end"]["values"]
        checks.check({"error", "drift", "rmsd_start", "rmsd_end"} <= set(metrics) and
                     to_start[0] < 1e-4 and to_end[-1] < 1e-4 and to_start[-1] > 1e-3 and
                     abs(to_start[-1] - to_end[0]) < 1e-4 and to_start[-1] > to_start[len(to_start) // 2],
                     f"per-step metrics: {sorted(metrics)}; RMSD to the start "
                     f"{to_start[0]:.3g}..{to_start[-1]:.3g}, to the end {to_end[0]:.3g}..{to_end[-1]:.3g}")
        checks.check(np.allclose(path["plane_points"], path["points"]), "on a 2-D latent space plane = latent")
        a, b = reference_points[0], reference_points[-1]
        status, lc = api.json("POST", "/api/path", {"waypoints": [{"plane": list(a)}, {"plane": list(b)}],
                                                    "steps": 7, "landscape": "error", "grid": 8})
        checks.check(status == 200 and len(lc["points"]) == 7 and np.allclose(lc["points"][0], a) and
                     np.allclose(lc["points"][-1], b), f"a least-cost path over the error map ({status})")
        status, doc = api.json("POST", "/api/path", {"waypoints": [{"frame": 0}, {"frame": 5}], "steps": 5,
                                                     "landscape": "drift", "grid": 12})
        checks.check(status == 409 and "drift" in doc["error"], "least-cost over a map not computed: 409")
        with open(reference_pdb) as f:
            first_model = f.read().split("ENDMDL")[0] + "ENDMDL\nEND\n"
        status, up = api.json("POST", "/api/path", {"waypoints": [{"pdb": first_model}, {"frame": 5}], "steps": 4})
        checks.check(status == 200 and pdb_models(up["pdb"]).shape[0] == 4,
                     f"an uploaded PDB as an endpoint ({status})")
        status, doc = api.json("POST", "/api/path", {"waypoints": [{"pdb": "HEADER nothing\nEND\n"}, {"frame": 1}]})
        checks.check(status == 400 and "waypoints[0]" in doc["error"] and "uploaded PDB" in doc["error"] and
                     tmp not in doc["error"], f"a PDB that does not fit is a 400 naming it: {doc.get('error')}")

        # --- decode, export, metrics ------------------------------------------
        status, dec = api.json("POST", "/api/decode", {"points": [list(a), list(b)], "format": "json"})
        coords = np.array(dec["frames"]).reshape(2, 326, 3) if status == 200 else None
        checks.check(status == 200 and dec["atoms"] == 326 and
                     np.abs(coords - reference_frames[[0, -1]]).max() < 2e-3,
                     "decode (json) gives the path's end structures")
        status, ctype, body = api.post("/api/decode", {"points": [list(a)] * 3})
        checks.check(status == 200 and "pdb" in ctype and pdb_models(body.decode()).shape == (3, 326, 3),
                     f"decode (pdb) gives 3 models ({ctype})")
        status, ctype, body = api.post("/api/export", {"points": path["points"], "format": "dcd"})
        dcd = os.path.join(tmp, "export.dcd")
        with open(dcd, "wb") as f:
            f.write(body)
        import mdtraj
        top_pdb = os.path.join(tmp, "top.pdb")
        run("generate", ckpt, "--latent", "0,0", "-o", top_pdb)
        traj = mdtraj.load_dcd(dcd, top=top_pdb)
        checks.check(status == 200 and traj.n_frames == 6 and
                     np.abs(traj.xyz * 10 - reference_frames).max() < 2e-3,
                     f"export (dcd) reads back in MDTraj as the path ({traj.n_frames} frames)")
        status, m = api.json("POST", "/api/metrics", {"points": [list(a), list(b)]})
        mm = {x["name"]: x["values"] for x in m.get("metrics", [])}
        checks.check(status == 200 and np.allclose(mm["error"], [metrics["error"]["values"][0],
                                                                 metrics["error"]["values"][-1]], atol=1e-4),
                     "metrics of points equal the path's at its ends")

        # --- bad requests: 400 with a message naming the field ------------------
        bad = [
            ("/api/path", None, b"{not json", "not valid JSON"),
            ("/api/path", {"waypoints": [{"frame": 0}, {"frame": 1}], "steps": 100000}, None, "steps"),
            ("/api/path", {"waypoints": [{"frame": 0}, {"frame": 999}]}, None, "frame 999"),
            ("/api/path", {"waypoints": [{"frame": 0}]}, None, "waypoints"),
            ("/api/path", {"waypoints": [{"plane": [0, "x"]}, {"frame": 1}]}, None, "waypoints[0]"),
            ("/api/path", {"waypoints": [{"frame": 0}, {"frame": 1}], "landscape": "nope"}, None, "landscape"),
            ("/api/scan", {"landscape": "error", "grid": 100000}, None, "grid"),
            ("/api/scan", {"landscape": "error", "grid": 1}, None, "grid"),
            ("/api/scan", {"grid": 8}, None, "landscape"),
            ("/api/scan", [1, 2], None, "object"),
            ("/api/decode", {"points": [[0, 0]] * (limits["max_decode_points"] + 1)}, None, "points"),
            ("/api/decode", {"points": [[0, float("nan")]]}, b'{"points": [[0, NaN]]}', "JSON"),
            ("/api/decode", {"points": [[1e308, -1e308]], "format": "xyz"}, None, "format"),
            ("/api/export", {"points": [[0, 0, 0]]}, None, "points[0]"),
        ]
        for endpoint, body, raw, words in bad:
            status, _, payload = api.request("POST", endpoint, body if raw is None else None, raw=raw)
            message = json.loads(payload).get("error", "") if payload.startswith(b"{") else ""
            checks.check(status == 400 and words in message, f"POST {endpoint} bad input: 400 '{message[:70]}'")
        status, _, payload = api.request("POST", "/api/path", raw=b"{" + b" " * (limits["max_body_bytes"] + 10) + b"}")
        checks.check(status == 413, f"a body over {limits['max_body_bytes']} bytes: {status}")

        # --- what a hostile page or client may send --------------------------------
        status, _, body = api.get("/%FF%FE")
        checks.check(status == 404 and api.get("/api/info")[0] == 200,
                     f"a path of invalid UTF-8: 404 and the server lives on ({status})")
        deep = b'{"landscape": ' + b"[" * 100000 + b"]" * 100000 + b', "grid": 8}'
        status, _, body = api.request("POST", "/api/scan", raw=deep)
        checks.check(status == 400 and api.get("/api/info")[0] == 200,
                     f"a value nested 100,000 deep: 400 and the server lives on ({status})")
        status, _, body = api.request("POST", "/api/scan", raw=b'{"landscape": "error", "grid": 1e400}')
        checks.check(status == 400, f"a number beyond double: 400 ({status})")
        status, _, _ = api.post("/api/scan", {"landscape": "error", "grid": 8},
                                headers={"Origin": "https://evil.example"})
        checks.check(status == 403, f"a POST from another site's page (Origin): 403 ({status})")
        status, _, _ = api.post("/api/scan", {"landscape": "error", "grid": 8}, headers={"Content-Type": "text/plain"})
        checks.check(status == 415, f"a POST that is not JSON (what a form can send): 415 ({status})")
        status, _, _ = api.get("/assets/plotly.min.js", headers={"Range": "bytes=0-1000000," * 50})
        checks.check(status == 416, f"byte ranges are refused ({status})")
        status, doc = api.json("POST", "/api/decode", {"points": [[1e6, 1e6]], "format": "json"})
        checks.check(status == 400 and "points[0]" in doc["error"] and "far outside" in doc["error"],
                     f"a point far off the map: 400 ({doc.get('error', '')[:60]})")
        jobs = []
        for grid in range(40, 49):
            status, doc = api.json("POST", "/api/scan", {"landscape": "drift", "grid": grid})
            jobs.append((status, doc))
        checks.check([s for s, _ in jobs[:8]] == [202] * 8 and jobs[8][0] == 503 and "cancel" in jobs[8][1]["error"],
                     f"at most 8 maps wait or run: the 9th gets 503 ({[s for s, _ in jobs]})")
        for status, doc in jobs[:8]:
            api.json("POST", f"/api/jobs/{doc['job']}/cancel")
        status, doc = api.json("POST", "/api/scan", {"landscape": "drift", "grid": 49})
        checks.check(status == 202, f"cancelled jobs free their places at once ({status})")
        api.json("POST", f"/api/jobs/{doc.get('job')}/cancel")

        # --- load: 200 concurrent decodes, each answered correctly --------------
        points = [[float(x), float(y)] for x, y in zip(np.linspace(a[0], b[0], 10), np.linspace(a[1], b[1], 10))]
        expected = {}
        for p in points:
            _, d = api.json("POST", "/api/decode", {"points": [p], "format": "json"})
            expected[tuple(p)] = np.array(d["frames"][0])

        def decode(k):
            p = points[k % len(points)]
            s, _, body = api.request("POST", "/api/decode", {"points": [p], "format": "json"}, timeout=300)
            return s == 200 and np.array_equal(np.array(json.loads(body)["frames"][0]), expected[tuple(p)])

        start = time.time()
        with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
            results = list(pool.map(decode, range(200)))
        seconds = time.time() - start
        checks.check(all(results), f"200 concurrent /api/decode: {sum(results)} correct in {seconds:.1f} s")
        status, _ = api.json("GET", "/api/info")
        checks.check(status == 200, "the server still answers after the load")

        # --- a slow client is timed out; others are served meanwhile ------------
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes its headers
        status, _ = api.json("GET", "/api/info")
        checks.check(status == 200, "another client is served while one stalls")
        slow.settimeout(30)
        t0 = time.time()
        try:
            closed = slow.recv(1024) is not None
        except (socket.timeout, ConnectionResetError):
            closed = False
        checks.check(closed and time.time() - t0 < 25, f"the stalled client is dropped after {time.time() - t0:.0f} s")
        slow.close()
    finally:
        temp_folders = [d for d in os.listdir("/tmp") if d.startswith("molearn-gui-")]
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    checks.check(proc.returncode == 0 and "stopped" in out, f"Ctrl-C stops the server (exit {proc.returncode})")
    left = [d for d in os.listdir("/tmp") if d.startswith("molearn-gui-") and d in temp_folders]
    checks.check(len(left) < len(temp_folders) or not temp_folders, "its temporary folder is removed")

    # --- listening beyond this machine warns ----------------------------------
    proc, port, lines = start_server(ckpt, "--host", "0.0.0.0", "--threads", "1")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    checks.check(any(line.startswith("warning:") and "0.0.0.0" in line for line in lines),
                 "--host 0.0.0.0 prints a warning")
    expected = "bf16" if native_bf16() else "fp32"
    checks.check(any(line.startswith(f"precision: {expected} (--precision auto;") for line in lines),
                 f"without --precision the server decodes in {expected} on this CPU and says so")

checks.finish()
