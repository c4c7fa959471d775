#!/usr/bin/env python3
"""`molearn gui` on MurD (2,145 atoms, N/CA/CB/C/O), measured as its users
feel it, each against a reference measured in the same run:

- time to first map: from starting `molearn gui CKPT --scan DIR` to the map's
  data answered by /api/scan (what the page needs before it paints), against
  `molearn info` on the dataset (the start-up of any molearn process);
- latency of a 10-structure path with every metric (POST /api/path) against
  `molearn path --steps 10` doing the same work as a command (process start,
  model and metric loading included): the ratio is what the server saves
  per path;
- a load test: 200 concurrent POST /api/decode of one structure each on
  loopback, all checked against a serial decode of the same point, in
  requests per second against the same 200 decodes sent one after another.

The model is a FoldingNet trained for one epoch on MurD's 16 frames: the
cost of decoding does not depend on how well the model is trained.

    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/bench_gui.py [--build build] [--threads 2]
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time


def post(port, path, body, timeout=600):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    res = conn.getresponse()
    data = res.read()
    conn.close()
    if res.status != 200:
        sys.exit(f"POST {path}: {res.status} {data[:300]!r}")
    return json.loads(data)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--build", default=os.path.join(here, "..", "build"))
    p.add_argument("--data", default=os.environ.get("MOLEARN_DATA", os.path.join(here, "..", "..", "shared", "data")))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--grid", type=int, default=16)
    p.add_argument("--requests", type=int, default=200)
    args = p.parse_args()
    dcd = os.path.join(args.data, "murd", "MurD_test.dcd")
    top = os.path.join(args.data, "murd", "MurD_test_topo.pdb")
    if not os.path.exists(dcd):
        sys.exit(f"MurD data missing: {dcd} (--data or $MOLEARN_DATA)")
    molearn = os.path.join(args.build, "molearn")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="passive", MOLEARN_DATA=args.data)
    quiet = dict(env=env, check=True, stdout=subprocess.DEVNULL)

    with tempfile.TemporaryDirectory(prefix="molearn-bench-gui-") as tmp:
        data = os.path.join(tmp, "murd.mlds")
        subprocess.run([molearn, "prepare", dcd, "--top", top, "-o", data], **quiet)
        subprocess.run([molearn, "train", data, "-o", os.path.join(tmp, "run"), "--epochs", "1", "--threads",
                        str(args.threads), "--latent", "2"], **quiet)
        ckpt = os.path.join(tmp, "run", "best.ckpt")
        scan = os.path.join(tmp, "scan")
        subprocess.run([molearn, "scan", ckpt, "--grid", str(args.grid), "--metrics", "error", "--threads",
                        str(args.threads), "-o", scan], **quiet)

        t0 = time.perf_counter()
        subprocess.run([molearn, "info", data], **quiet)
        info_seconds = time.perf_counter() - t0

        t0 = time.perf_counter()
        cli_path = os.path.join(tmp, "cli.pdb")
        subprocess.run([molearn, "path", ckpt, "--from", "0", "--to", "15", "--steps", "10", "--threads",
                        str(args.threads), "-o", cli_path], **quiet)
        cli_path_seconds = time.perf_counter() - t0

        t0 = time.perf_counter()
        proc = subprocess.Popen([molearn, "gui", ckpt, "--scan", scan, "--port", "0", "--threads",
                                 str(args.threads)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        port = None
        while port is None:
            line = proc.stdout.readline()
            if not line:
                sys.exit("molearn gui exited before serving")
            m = re.search(r"serving on http://[\d.]+:(\d+)/", line)
            port = int(m.group(1)) if m else None
        try:
            first_map = post(port, "/api/scan", {"landscape": "error", "grid": args.grid})
            first_map_seconds = time.perf_counter() - t0
            assert first_map["state"] == "done"

            post(port, "/api/path", {"waypoints": [{"frame": 0}, {"frame": 15}], "steps": 10})  # warm-up
            latencies = []
            for _ in range(3):
                t1 = time.perf_counter()
                path = post(port, "/api/path", {"waypoints": [{"frame": 0}, {"frame": 15}], "steps": 10})
                latencies.append(time.perf_counter() - t1)
            path_seconds = sorted(latencies)[1]
            metrics = [m["name"] for m in path["metrics"]]

            points = [[float(x), float(y)] for x, y in path["plane_points"]]
            expected = []
            t1 = time.perf_counter()
            for k in range(args.requests):
                d = post(port, "/api/decode", {"points": [points[k % len(points)]], "format": "json"})
                if k < len(points):
                    expected.append(d["frames"][0])
            serial_seconds = time.perf_counter() - t1

            def decode(k):
                d = post(port, "/api/decode", {"points": [points[k % len(points)]], "format": "json"})
                return d["frames"][0] == expected[k % len(points)]

            t1 = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(max_workers=args.requests) as pool:
                correct = sum(pool.map(decode, range(args.requests)))
            concurrent_seconds = time.perf_counter() - t1
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)

    print(f"molearn gui on MurD (2,145 atoms), {args.threads} threads")
    print(f"time to first map ({args.grid}x{args.grid}, from --scan): {first_map_seconds:.2f} s "
          f"(molearn info start-up: {info_seconds:.2f} s; ratio {first_map_seconds / info_seconds:.1f}x)")
    print(f"10-structure path with {len(metrics)} metrics ({', '.join(metrics)}): {path_seconds:.2f} s per request "
          f"(median of 3) vs 'molearn path --steps 10' {cli_path_seconds:.2f} s: "
          f"{cli_path_seconds / path_seconds:.1f}x faster through the server")
    print(f"load: {args.requests} concurrent /api/decode: {correct}/{args.requests} correct in "
          f"{concurrent_seconds:.2f} s ({args.requests / concurrent_seconds:.1f} requests/s) vs one after another "
          f"{serial_seconds:.2f} s ({args.requests / serial_seconds:.1f} requests/s); ratio "
          f"{serial_seconds / concurrent_seconds:.2f}x")
    if correct != args.requests:
        sys.exit("some concurrent decodes were wrong")


if __name__ == "__main__":
    main()
