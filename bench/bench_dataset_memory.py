#!/usr/bin/env python3
"""Training memory against dataset size: does `molearn train` need the dataset
in memory?

Makes synthetic datasets of about 1 and 4 GB with molearn's own tools
(`molearn prepare` of the demo's villin trajectory, every atom, listed as
many times as needed), trains on each (conv1d, batch 16) until a fixed number
of batches is done, interrupts it (SIGINT: the way a user stops it), and
reads the process's peak resident memory (getrusage). The reference, in the
same run: the smallest dataset trained with every frame in memory
(`--data-access memory`, the way training worked before).

    OMP_WAIT_POLICY=passive python3 bench/bench_dataset_memory.py [--sizes 1,4] \\
        [--batches 300] [--threads 2] [--workdir DIR] [--keep]

Needs about 6x the largest size in free disk (the datasets) and 2x in memory
(for `prepare`, which holds the frames it writes). Prints a Markdown table;
bench/README.md keeps the measured one.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MOLEARN = os.environ.get("MOLEARN_BIN", os.path.join(HERE, "..", "build", "molearn"))
DATA = os.path.join(HERE, "..", "examples", "data")
TRAJECTORY, TOPOLOGY = os.path.join(DATA, "villin_md.dcd"), os.path.join(DATA, "villin_md.pdb")


def make_dataset(path, gigabytes):
    """A dataset of about `gigabytes` GB: the villin trajectory, every atom, repeated."""
    frame_bytes = 582 * 3 * 4  # villin with hydrogens: 582 atoms, float32
    copies = max(1, round(gigabytes * 1e9 / (400 * frame_bytes)))
    start = time.time()
    subprocess.run([MOLEARN, "prepare", *([TRAJECTORY] * copies), "--top", TOPOLOGY, "--atoms", "all",
                    "--valid", "0.01", "-o", path], check=True, stdout=subprocess.DEVNULL)
    return os.path.getsize(path), time.time() - start


def peak_rss_of_training(dataset, output, batches, threads, access):
    """Trains until `batches` batches are done, then SIGINT; returns (peak RSS bytes, seconds, batches seen)."""
    args = [MOLEARN, "train", dataset, "-o", output, "--model", "conv1d", "--batch-size", "16", "--epochs", "1",
            "--threads", str(threads), "--data-access", access]
    start = time.time()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = [0]
    text = []

    def watch():
        buffer = b""
        while True:
            chunk = proc.stdout.read1(4096)
            if not chunk:
                return
            buffer = (buffer + chunk)[-4096:]
            text.append(chunk.decode(errors="replace"))
            done = re.findall(rb"batch (\d+)/", buffer)
            if done:
                seen[0] = int(done[-1])

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    while proc.poll() is None and seen[0] < batches:
        time.sleep(0.2)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = status
    reader.join(timeout=10)
    if seen[0] < batches:
        sys.exit(f"training stopped after {seen[0]} batches:\n" + "".join(text)[-2000:])
    return usage.ru_maxrss * 1024, time.time() - start, seen[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,4", help="dataset sizes in GB (comma-separated)")
    parser.add_argument("--batches", type=int, default=300, help="batches trained before the interruption")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", help="where the datasets go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the datasets")
    a = parser.parse_args()
    sizes = [float(s) for s in a.sizes.split(",")]
    work = a.workdir or tempfile.mkdtemp(prefix="molearn-bench-memory-")
    os.makedirs(work, exist_ok=True)
    rows = []
    try:
        for gb in sizes:
            path = os.path.join(work, f"villin_{gb:g}GB.mlds")
            if not os.path.exists(path):
                size, seconds = make_dataset(path, gb)
                print(f"prepared {path}: {size / 1e9:.2f} GB in {seconds:.0f} s", flush=True)
            size = os.path.getsize(path)
            accesses = ["auto", "memory"] if gb == min(sizes) else ["auto"]
            for access in accesses:
                out = os.path.join(work, f"run_{gb:g}_{access}")
                shutil.rmtree(out, ignore_errors=True)
                rss, seconds, seen = peak_rss_of_training(path, out, a.batches, a.threads, access)
                rows.append((gb, size, access, rss, seconds, seen))
                print(f"{size / 1e9:.2f} GB, --data-access {access}: peak RSS {rss / 2**20:.0f} MiB "
                      f"({seconds:.0f} s, {seen} batches)", flush=True)
    finally:
        if not a.keep and not a.workdir:
            shutil.rmtree(work, ignore_errors=True)

    print("\n| dataset | --data-access | peak RSS of train | RSS / dataset size |")
    print("|---|---|---|---|")
    for gb, size, access, rss, _, _ in rows:
        print(f"| {size / 1e9:.2f} GB | {access} | {rss / 2**20:.0f} MiB | {rss / size:.2f} |")
    streamed = [r for r in rows if r[2] == "auto"]
    if len(streamed) >= 2:
        ratio = streamed[-1][3] / streamed[0][3]
        print(f"\npeak RSS, {streamed[-1][1] / 1e9:.2f} GB vs {streamed[0][1] / 1e9:.2f} GB dataset (streamed): "
              f"{ratio:.3f}x (goal: within 10%)")
    memory = [r for r in rows if r[2] == "memory"]
    if memory and streamed:
        print(f"streamed vs in memory, {memory[0][1] / 1e9:.2f} GB dataset: {streamed[0][3] / memory[0][3]:.3f}x")


if __name__ == "__main__":
    main()
