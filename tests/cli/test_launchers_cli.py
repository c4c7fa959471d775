"""`molearn train` started by the launchers users have, on loopback: two
ranks given only srun's variables (SLURM_PROCID, SLURM_NTASKS,
SLURM_JOB_NODELIST, SLURM_CPUS_PER_TASK; MASTER_PORT for a free port), and
two given only torchrun's (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT). Both
pairs train together (one log, written by rank 0) and say who started them.
"""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import Checks, molearn_bin, read_log, run, source_dir, temp_dir  # noqa: E402

checks = Checks("launchers")
fixtures = os.path.join(source_dir(), "examples", "data")
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "SLURM_PROCID",
                      "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS", "SLURM_JOB_NODELIST", "SLURM_STEP_NODELIST",
                      "SLURM_CPUS_PER_TASK", "SLURM_LOCALID")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_pair(data, out, variables_of_rank):
    base = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARIABLES}
    # fp32, so that the pair can be held to one process's loss curve to 1e-4 (bf16, the default on
    # CPUs with AVX512-BF16, rounds the two ways of summing apart by more)
    procs = [subprocess.Popen([molearn_bin(), "train", data, "-o", out, "--model", "conv1d", "--epochs", "2",
                               "--batch-size", "8", "--seed", "5", "--precision", "fp32"],
                              env={**base, **variables_of_rank(rank)}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
             for rank in (0, 1)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    return [p.returncode for p in procs], outputs


with temp_dir() as tmp:
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", data, "--align", "--valid", "0.25")

    port = free_port()
    codes, outputs = train_pair(data, os.path.join(tmp, "slurm"), lambda rank: {
        "SLURM_PROCID": str(rank), "SLURM_LOCALID": str(rank), "SLURM_NTASKS": "2",
        "SLURM_JOB_NODELIST": "localhost", "SLURM_CPUS_PER_TASK": "1", "MASTER_PORT": str(port)})
    checks.check(codes == [0, 0], f"srun's variables: both ranks finish (exit {codes})"
                 + ("" if codes == [0, 0] else "\n" + "\n".join(outputs)))
    checks.check(all(f"started by slurm: rank {r} of 2, rank 0 at localhost:{port}, 1 threads" in outputs[r]
                     for r in (0, 1)), "each rank says srun started it, with its rank, the host and 1 thread")
    checks.check(len(read_log(os.path.join(tmp, "slurm"))) == 2, "rank 0 wrote one log of 2 epochs")

    port = free_port()
    codes, outputs = train_pair(data, os.path.join(tmp, "torchrun"), lambda rank: {
        "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port)})
    checks.check(codes == [0, 0], f"torchrun's variables: both ranks finish (exit {codes})"
                 + ("" if codes == [0, 0] else "\n" + "\n".join(outputs)))
    checks.check("started by torchrun: rank 1 of 2" in outputs[1], "rank 1 says torchrun's variables started it")
    single = os.path.join(tmp, "single")
    run("train", data, "-o", single, "--model", "conv1d", "--epochs", "2", "--batch-size", "8", "--seed", "5",
        "--precision", "fp32")
    one, two = read_log(single), read_log(os.path.join(tmp, "torchrun"))
    worst = max(abs(a["train_loss"] - b["train_loss"]) / abs(a["train_loss"]) for a, b in zip(one, two))
    checks.check(len(two) == 2 and worst < 1e-4,
                 f"two ranks give the loss curve of one process (worst relative difference {worst:.2g})")

checks.finish()
