#!/usr/bin/env python3
"""Training and inference throughput of molearn's FoldingNet against the same
architecture in Python PyTorch (tests/python/foldingnet_reference.py, Python
molearn's code path), measured in the same run with the same threads; the
cost against the number of atoms; and 1 vs 2 Gloo ranks.

Run with Debian's interpreter from the source tree after building:
    OMP_WAIT_POLICY=passive /usr/bin/python3 bench/bench_training.py [--build build] [--threads 2] [--bf16 [--rounds 3]]
        [--skip-scaling] [--skip-gloo]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import mlds  # noqa: E402
from foldingnet_reference import FoldingNet  # noqa: E402


def reference_throughput(x, threads, steps, warmup=1):
    """Python PyTorch: one training step = forward, MSE, backward, AdamW step."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = FoldingNet(x.shape[2])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    model.train()
    for s in range(warmup + steps):
        if s == warmup:
            start = time.perf_counter()
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), x).backward()
        optimizer.step()
    train = x.shape[0] * steps / (time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        for s in range(warmup + steps):
            if s == warmup:
                start = time.perf_counter()
            model(x)
    infer = x.shape[0] * steps / (time.perf_counter() - start)
    return train, infer


def ours_all(build, threads, steps, batch, dataset=None, atoms=None, precision="fp32", folding="onednn"):
    """molearn_bench_foldingnet's JSON line: training, inference and decoding frames/s."""
    args = [os.path.join(build, "bench", "molearn_bench_foldingnet"), "--threads", str(threads), "--steps", str(steps),
            "--batch", str(batch), "--precision", precision, "--folding", folding]
    args += ["--dataset", dataset] if dataset else ["--atoms", str(atoms)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def ours(build, threads, steps, batch, dataset=None, atoms=None, precision="fp32"):
    result = ours_all(build, threads, steps, batch, dataset, atoms, precision)
    return result["train_frames_per_s"], result["infer_frames_per_s"]


def precision_rounds(build, threads, steps, batch, dataset, rounds):
    """Issue 17's goals: bf16 training >= 1.6x fp32, bf16 inference >= 2x fp32.

    fp32 and bf16 interleaved `rounds` times (a busy machine drifts), each
    with FoldingNet's folding layers as one oneDNN chain (the default) and
    layer by layer through libtorch (the reference the chain replaces).
    Prints every round and the mean ratios."""
    kinds = [("fp32", "onednn"), ("bf16", "onednn"), ("fp32", "libtorch"), ("bf16", "libtorch")]
    results = {kind: [] for kind in kinds}
    for r in range(rounds):
        for precision, folding in kinds:
            result = ours_all(build, threads, steps, batch, dataset=dataset, precision=precision, folding=folding)
            results[(precision, folding)].append(result)
            print(f"  round {r + 1}, {precision}, folding {folding:8s}: training {result['train_frames_per_s']:6.2f}, "
                  f"inference {result['infer_frames_per_s']:6.2f}, decoding {result['decode_frames_per_s']:6.2f} "
                  "frames/s")
            sys.stdout.flush()

    def mean(precision, folding, key):
        return sum(x[key] for x in results[(precision, folding)]) / rounds

    for key, what, goal in (("train_frames_per_s", "training ", 1.6), ("infer_frames_per_s", "inference", 2.0),
                            ("decode_frames_per_s", "decoding ", 2.0)):
        fp32, bf16 = mean("fp32", "onednn", key), mean("bf16", "onednn", key)
        fp32_lib, bf16_lib = mean("fp32", "libtorch", key), mean("bf16", "libtorch", key)
        print(f"  {what} (mean of {rounds}): bf16 {bf16:6.2f} / fp32 {fp32:6.2f} frames/s = {bf16 / fp32:4.2f}x "
              f"(goal {goal}x); oneDNN chain vs libtorch layers: fp32 {fp32 / fp32_lib:4.2f}x, "
              f"bf16 {bf16 / bf16_lib:4.2f}x")
    return mean("bf16", "onednn", "train_frames_per_s")


def murd_dataset(build, data_dir, folder):
    """MurD N/CA/CB/C/O, its 16 frames repeated 4 times with 0.1 A noise (64 frames)."""
    import mdtraj as md
    traj = md.load_dcd(os.path.join(data_dir, "murd", "MurD_test.dcd"),
                       top=os.path.join(data_dir, "murd", "MurD_test_topo.pdb"))
    rng = np.random.default_rng(0)
    tiled = md.join([traj] * 4)
    tiled.xyz = tiled.xyz + rng.normal(0, 0.01, tiled.xyz.shape).astype(np.float32)  # nm
    dcd = os.path.join(folder, "murd64.dcd")
    tiled.save_dcd(dcd)
    out = os.path.join(folder, "murd64.mlds")
    subprocess.run([os.path.join(build, "molearn"), "prepare", dcd, "--top",
                    os.path.join(data_dir, "murd", "MurD_test_topo.pdb"), "-o", out, "--valid", "0.25"],
                   check=True, capture_output=True)
    return out


def gloo_ranks(build, dataset, folder, ranks, threads_per_rank, epochs=2):
    out = os.path.join(folder, f"gloo-{ranks}x{threads_per_rank}")
    common = [os.path.join(build, "molearn"), "train", dataset, "-o", out, "--epochs", str(epochs),
              "--batch-size", "16", "--threads", str(threads_per_rank), "--patience", "0"]
    if ranks == 1:
        subprocess.run(common, check=True, capture_output=True)
    else:
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        procs = [subprocess.Popen(common + ["--world-size", str(ranks), "--rank", str(r), "--master",
                                            f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for r in range(ranks)]
        for p in procs:
            if p.wait() != 0:
                raise RuntimeError("a Gloo rank failed")
    with open(os.path.join(out, "log.jsonl")) as f:
        return json.loads(f.read().splitlines()[-1])["frames_per_second"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--data", default=os.environ.get("MOLEARN_DATA", os.path.join(HERE, "..", "..", "shared",
                                                                                        "data")))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-gloo", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="also molearn with --precision bf16 (CPU autocast)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved fp32/bf16 rounds for --bf16")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.data, "murd", "MurD_test.dcd")):
        sys.exit(f"MurD data missing in {args.data} (set MOLEARN_DATA)")

    with tempfile.TemporaryDirectory(prefix="molearn-bench-") as folder:
        dataset = murd_dataset(args.build, args.data, folder)
        header, coords = mlds.load(dataset)
        x = torch.from_numpy(coords[np.arange(args.batch) % coords.shape[0]].copy()).permute(0, 2, 1).contiguous()
        print(f"FoldingNet on MurD ({header['atoms']} atoms, {header['frames']} frames), batch {args.batch}, "
              f"{args.threads} threads, best of one run of {args.steps} steps after a warm-up step")
        ref_train, ref_infer = reference_throughput(x, args.threads, args.steps)
        our_train, our_infer = ours(args.build, args.threads, args.steps, args.batch, dataset=dataset)
        print(f"  training : molearn {our_train:7.2f} frames/s | PyTorch reference {ref_train:7.2f} frames/s | "
              f"ratio {our_train / ref_train:5.2f}x")
        print(f"  inference: molearn {our_infer:7.2f} frames/s | PyTorch reference {ref_infer:7.2f} frames/s | "
              f"ratio {our_infer / ref_infer:5.2f}x")
        sys.stdout.flush()
        if args.bf16:
            bf_train = precision_rounds(args.build, args.threads, args.steps, args.batch, dataset, args.rounds)
            print(f"  bf16 training: {bf_train / ref_train:5.2f}x the PyTorch reference (goal 4x)")
            sys.stdout.flush()

        if not args.skip_scaling:
            print(f"cost against atoms (molearn, batch {args.batch}, {args.threads} threads; "
                  "time per frame should grow linearly)")
            base = None
            for atoms in (500, 1000, 2000, 4000):
                train, infer = ours(args.build, args.threads, args.steps, args.batch, atoms=atoms)
                ms = 1000.0 / train
                base = base or ms / atoms
                print(f"  {atoms:5d} atoms: training {train:7.2f} frames/s ({ms:7.1f} ms/frame, "
                      f"{ms / atoms / base:4.2f}x the 500-atom cost per atom), inference {infer:7.2f} frames/s")
                sys.stdout.flush()

        if not args.skip_gloo:
            print("data-parallel training on MurD (epoch 2 training frames/s, global batch 16)")
            one_1 = gloo_ranks(args.build, dataset, folder, 1, 1)
            one_2 = gloo_ranks(args.build, dataset, folder, 1, 2)
            two_1 = gloo_ranks(args.build, dataset, folder, 2, 1)
            print(f"  1 process x 1 thread : {one_1:6.2f} frames/s")
            print(f"  1 process x 2 threads: {one_2:6.2f} frames/s")
            print(f"  2 Gloo ranks x 1 thread: {two_1:6.2f} frames/s ({two_1 / one_1:4.2f}x one rank)")


if __name__ == "__main__":
    main()
