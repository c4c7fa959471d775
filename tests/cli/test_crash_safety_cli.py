"""Crash safety (issue 16): what a run killed with SIGKILL, or stopped by a
full disk, leaves behind.

1. Training (conv1d, 12 epochs) killed with SIGKILL at 10 points, seeded so
   that they are the same every run: during start-up and epoch 1 before any
   checkpoint exists, while best.ckpt of epoch 1 is written, between it and
   last.ckpt, while a later best.ckpt or last.ckpt is written, just after a
   last.ckpt was renamed into place, and at random moments of one run killed
   three times in a row. After each kill `train --resume` continues from a
   valid checkpoint -- or, killed before the first one, says clearly that
   there is none and its advice then works -- and the finished run has
   exactly the per-epoch losses, weights, optimiser and random state of an
   uninterrupted run. The state a kill between the final epoch's last.ckpt
   and its log.jsonl leaves (a window too short to hit reliably) is made by
   hand: --resume must complete the log.
2. prepare, convert (PDB, DCD), generate (PDB, DCD), report and simulate
   killed while reading, as their output's temporary file appears and with
   half of it written: the final name holds nothing, or the earlier
   complete file byte for byte, never a partial one. A killed run leaves
   NAME.tmp.PID behind; the next write of NAME removes it once it is a
   minute old (unit test AtomicFile.RemovesOnlyStaleTemporariesOfItsOwnOutput).
3. prepare, convert, generate, export, train (a checkpoint) and report with
   a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored: write() fails with EFBIG
   as on a full disk) of half the output's size: exit 3, one error line
   naming the file, the earlier output byte-identical, nothing left behind.
"""
import os
import random
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from molearn_testing import Checks, molearn_bin, read_log, run, source_dir, temp_dir  # noqa: E402

checks = Checks("crash safety")
rng = random.Random(16)  # the kill points; the same every run
fixtures = os.path.join(source_dir(), "examples", "data")
villin_dcd, villin_pdb = os.path.join(fixtures, "villin_md.dcd"), os.path.join(fixtures, "villin_md.pdb")
plotly_dir = os.path.join(source_dir(), "web", "node_modules", "plotly.js-dist-min")
os.environ.setdefault("MOLEARN_WEB_DIR", plotly_dir)
EPOCHS = 12
TIMING_KEYS = {"seconds", "frames_per_second"}
started = time.time()


class Process:
    """molearn running in the background; stderr (the progress) is collected."""

    def __init__(self, args, preexec_fn=None):
        self.proc = subprocess.Popen([molearn_bin(), *map(str, args)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=preexec_fn)
        self.pid = self.proc.pid
        self.out, self.err = [], []
        self.readers = [threading.Thread(target=self._read, args=(stream, into), daemon=True)
                        for stream, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(stream, into):
        for line in stream:
            into.append(line)

    def said(self, text):
        return any(text in line for line in self.out + self.err)

    def running(self):
        return self.proc.poll() is None

    def kill_when(self, condition, delay=0.0, interval=0.0002, near=None, timeout=300):
        """Polls condition() every `interval` s (every 2 ms while near() is
        false: polling costs CPU), waits `delay` s more, then sends SIGKILL;
        True when the kill found the process still running."""
        deadline = time.time() + timeout
        while self.running() and time.time() < deadline:
            if near is not None and not near():
                time.sleep(0.002)
                continue
            if condition():
                break
            time.sleep(interval)
        if delay:
            time.sleep(delay)
        self.proc.send_signal(signal.SIGKILL)
        return self.wait() == -signal.SIGKILL

    def wait(self):
        code = self.proc.wait()
        for reader in self.readers:
            reader.join()
        return code


def logged(folder):
    """Epochs in folder/log.jsonl, cheaply (it is polled every 0.2 ms)."""
    try:
        with open(os.path.join(folder, "log.jsonl"), "rb") as f:
            return f.read().count(b"\n")
    except OSError:
        return 0


def temporary(path, pid):
    return f"{path}.tmp.{pid}"


def leftovers(folder, expected):
    """Names in folder beyond `expected`, and those among them not named as
    temporary (NAME.tmp.PID, or NAME.old.PID for a report's figure folder)."""
    extra = sorted(set(os.listdir(folder)) - set(expected))
    return extra, [n for n in extra if not re.fullmatch(r".+\.(tmp|old)\.\d+", n)]


def read_bytes(path):
    """A file's bytes, or a folder's {name: bytes}, or None when absent."""
    if os.path.isdir(path):
        return {n: read_bytes(os.path.join(path, n)) for n in sorted(os.listdir(path))}
    if os.path.exists(path):
        with open(path, "rb") as f:
            return f.read()
    return None


def describe(content):
    if content is None:
        return "absent"
    if isinstance(content, dict):
        return f"{len(content)} files"
    return f"{len(content)} bytes"


# ---------------------------------------------------------------------------
# 1. Training killed with SIGKILL.

def train_args(data, out, *extra):
    return ["train", data, "-o", out, "--model", "conv1d", "--threads", "1", "--seed", "3", "--batch-size", "8",
            "--epochs", str(EPOCHS), "--patience", "0", *extra]


def same_records(log, reference):
    return len(log) == len(reference) and all(
        {k: v for k, v in a.items() if k not in TIMING_KEYS} == {k: v for k, v in b.items() if k not in TIMING_KEYS}
        for a, b in zip(log, reference))


def tensor_records(path):
    """The raw tensors of a checkpoint (weights, optimiser state, random
    state), sorted: libtorch numbers the optimiser's records in an order
    that changes from run to run. The metadata (with timings) is left out."""
    with zipfile.ZipFile(path) as archive:
        return sorted(archive.read(i) for i in archive.infolist() if "/data/" in i.filename)


def check_training_trials(tmp, data):
    reference_dir = os.path.join(tmp, "reference")
    run(*train_args(data, reference_dir))
    reference = read_log(reference_dir)
    reference_tensors = {n: tensor_records(os.path.join(reference_dir, n)) for n in ("best.ckpt", "last.ckpt")}
    epoch_seconds = max(0.02, sum(r["seconds"] for r in reference) / len(reference))
    improved = [r["epoch"] for r in reference if r["improved"]]
    checks.check(len(reference) == EPOCHS and len(improved) >= 3,
                 f"uninterrupted run: {EPOCHS} epochs of {epoch_seconds * 1000:.0f} ms, improved in "
                 f"{len(improved)}")
    run_files = ("best.ckpt", "last.ckpt", "log.jsonl")
    kills = []  # (trial, state after the kill)

    def tmp_of(folder, name, proc):
        return temporary(os.path.join(folder, name), proc.pid)

    def kill(proc, folder, what, condition, delay=0.0, **polling):
        killed = proc.kill_when(condition, delay, **polling)
        log_lines = len(read_log(folder))
        names = os.listdir(folder) if os.path.isdir(folder) else []
        partial = [n.split(".tmp.")[0] for n in names if n.endswith(f".tmp.{proc.pid}")]
        first = "last.ckpt" not in names
        state = (f"while writing {', '.join(partial)}" if partial else
                 "before the first last.ckpt" if first else f"between writes, {log_lines} epochs logged")
        if first and partial:
            state += ", before the first last.ckpt"
        if first and "best.ckpt" in names:
            state += " (best.ckpt written)"
        # train's probe of a writable folder lives for microseconds at the start.
        extra, badly_named = leftovers(folder, run_files + (".molearn-write-test",)) if names else ([], [])
        checks.check(killed and not badly_named,
                     f"kill {len(kills) + 1} ({what}): {'killed' if killed else 'NOT killed, the run had ended'} "
                     f"{state}; left {', '.join(sorted(set(names) & set(run_files))) or 'no run files'}"
                     f"{'; temporary ' + ', '.join(extra) if extra else ''}")
        kills.append((what, state))
        return state

    def resume(folder):
        """Resumes as a user would after a kill; True when it finished."""
        has_checkpoint = os.path.exists(os.path.join(folder, "last.ckpt"))
        epochs_logged = len(read_log(folder))
        code, out, err = run(*train_args(data, folder, "--resume"), expect_ok=False)
        if has_checkpoint:
            m = re.search(r"resuming after epoch (\d+)", out)
            checks.check(code == 0 and m is not None and int(m.group(1)) in (epochs_logged, epochs_logged + 1),
                         f"  --resume continues from last.ckpt: exit {code}, "
                         f"{m.group(0) if m else err.strip()[-300:]!r} ({epochs_logged} epochs were logged)")
            return code == 0
        # Killed before the first checkpoint: starting from scratch is fine,
        # and so is refusing clearly -- when the advice given then works.
        if code == 0:
            checks.check("epoch" in out, "  --resume without a checkpoint starts from epoch 1")
            return True
        advice = (["--overwrite"] if "--overwrite" in err else [] if "without --resume" in err else None)
        checks.check(code == 2 and "last.ckpt" in err and "no checkpoint" in err and advice is not None,
                     f"  --resume says clearly there is no checkpoint: exit {code}, {err.strip()!r}")
        code, out, err = run(*train_args(data, folder, *(advice or [])), expect_ok=False)
        errors = [line for line in err.splitlines() if line.startswith("molearn: error:")]
        checks.check(code == 0, f"  following its advice ({'with ' + advice[0] if advice else 'without --resume'}) "
                                f"starts the run again: exit {code}{' ' + repr(errors[-1]) if errors else ''}")
        if code != 0:  # go on with the other checks
            run(*train_args(data, folder, "--overwrite"))
        return True

    def finished_like_reference(folder, what):
        log = read_log(folder)
        tensors = {n: tensor_records(os.path.join(folder, n)) for n in ("best.ckpt", "last.ckpt")}
        differing = [f"epoch {a['epoch']}" for a, b in zip(log, reference)
                     if not same_records([a], [b])] if len(log) == len(reference) else [f"{len(log)} epochs"]
        checks.check(same_records(log, reference) and tensors == reference_tensors,
                     f"  {what}: log.jsonl losses {'equal' if not differing else 'differ: ' + ', '.join(differing)}; "
                     f"best.ckpt and last.ckpt tensors {'equal' if tensors == reference_tensors else 'differ'} "
                     f"(uninterrupted run)")
        extra, _ = leftovers(folder, run_files)
        return extra

    def trial(name, what, condition_of, delay=0.0, **polling):
        folder = os.path.join(tmp, name)
        proc = Process(train_args(data, folder))
        if "near" in polling:
            polling["near"] = polling["near"](folder)
        kill(proc, folder, what, condition_of(folder, proc), delay, **polling)
        if resume(folder):
            extra = finished_like_reference(folder, what)
            print(f"      after the resumed run: {', '.join(extra) or 'no temporary files'} left")

    def epochs_done(folder, n):
        return lambda: logged(folder) >= n

    # During start-up (loading libtorch and the dataset) and in epoch 1.
    trial("startup", f"{(d := rng.uniform(0.0, 0.4)):.2f} s after start", lambda f, p: lambda: True, d)
    trial("epoch1", f"{(d := rng.uniform(0.0, epoch_seconds)) * 1000:.0f} ms into epoch 1",
          lambda f, p: lambda: p.said("epoch 1/"), d, interval=0.001)
    # Around the checkpoint writes of epoch 1: best.ckpt first, then last.ckpt.
    trial("best1", "writing best.ckpt in epoch 1",
          lambda f, p: lambda: os.path.exists(tmp_of(f, "best.ckpt", p)))

    def between_best_and_last(f, p):
        """best.ckpt written, last.ckpt not (yet): in epoch 1 there is no
        last.ckpt; should that moment be missed, the same moment of a later
        epoch (last.ckpt older than best.ckpt) is taken."""
        def condition():
            try:
                best = os.stat(os.path.join(f, "best.ckpt")).st_mtime_ns
            except OSError:
                return False
            try:
                return os.stat(os.path.join(f, "last.ckpt")).st_mtime_ns < best
            except OSError:
                return True
        return condition
    trial("last1", "in epoch 1 after best.ckpt, before last.ckpt", between_best_and_last)
    # Around a later checkpoint: while it is written, and just after it.
    k = rng.choice([e for e in improved if 2 <= e <= EPOCHS - 2])
    trial("bestk", f"writing best.ckpt in epoch {k}", lambda f, p: lambda: os.path.exists(tmp_of(f, "best.ckpt", p)),
          near=lambda f, k=k: lambda: logged(f) >= k - 1)
    k = rng.randint(2, EPOCHS - 2)
    trial("lastk", f"writing last.ckpt in epoch {k}", lambda f, p: lambda: os.path.exists(tmp_of(f, "last.ckpt", p)),
          near=lambda f, k=k: lambda: logged(f) >= k - 1)
    k = rng.randint(2, EPOCHS - 2)

    def after_last_checkpoint(f, p):
        seen = []

        def condition():
            if os.path.exists(tmp_of(f, "last.ckpt", p)):
                seen.append(True)
                return False
            return bool(seen)
        return condition
    trial("afterk", f"just after last.ckpt of epoch {k} was renamed into place", after_last_checkpoint,
          near=lambda f, k=k: lambda: logged(f) >= k - 1)

    # One run killed three times at random points (an epoch, then a moment
    # in it), resumed each time, then finished.
    folder = os.path.join(tmp, "chain")
    proc = Process(train_args(data, folder))
    e = rng.randint(1, 4)
    kill(proc, folder, f"chain: first start, during epoch {e + 1}", epochs_done(folder, e),
         rng.uniform(0, epoch_seconds), interval=0.001)
    for round_ in (2, 3):
        before = len(read_log(folder))
        proc = Process(train_args(data, folder, "--resume"))
        e = min(before + rng.randint(1, 3), EPOCHS - 2)
        kill(proc, folder, f"chain: resumed run {round_ - 1}, during epoch {e + 1}", epochs_done(folder, e),
             rng.uniform(0, epoch_seconds), interval=0.001)
        checks.check(proc.said("resuming after epoch") and len(read_log(folder)) >= before,
                     f"  the resumed run continued from a valid checkpoint: {''.join(proc.out[:1]).strip()!r}")
    if resume(folder):
        extra = finished_like_reference(folder, "chain, after 3 kills")
        print(f"      after the resumed run: {', '.join(extra) or 'no temporary files'} left")

    states = [state for _, state in kills]
    first = sum("before the first last.ckpt" in s for s in states)
    mid_write = sum(s.startswith("while writing") for s in states)
    # Each aimed kill may land a little later on a loaded machine: at least
    # two of each kind.
    checks.check(len(kills) == 10 and first >= 2 and mid_write >= 2,
                 f"{len(kills)} kills: {first} before the first last.ckpt, {mid_write} while a checkpoint was being "
                 f"written, {sum(s.startswith('between') for s in states)} between writes")

    # The state a kill between best.ckpt and last.ckpt of epoch 1 leaves
    # (kill 4 aims at it, but may land in a later epoch on a loaded machine),
    # made by hand: an epoch-1 best.ckpt alone.
    folder = os.path.join(tmp, "best-only")
    args = train_args(data, folder)
    args[args.index("--epochs") + 1] = "1"
    run(*args)
    os.remove(os.path.join(folder, "last.ckpt"))
    os.remove(os.path.join(folder, "log.jsonl"))
    print("made by hand: best.ckpt of epoch 1 without last.ckpt and log.jsonl")
    if resume(folder):
        finished_like_reference(folder, "best.ckpt alone")

    # A kill after the final epoch's last.ckpt but before its log.jsonl
    # (written in that order, each renamed into place) leaves the log one
    # epoch short; --resume, with no epoch left to run, must still complete it.
    folder = os.path.join(tmp, "log-behind")
    shutil.copytree(reference_dir, folder)
    with open(os.path.join(folder, "log.jsonl")) as f:
        lines = f.readlines()
    with open(os.path.join(folder, "log.jsonl"), "w") as f:
        f.writelines(lines[:-1])
    code, out, err = run(*train_args(data, folder, "--resume"), expect_ok=False)
    log = read_log(folder)
    checks.check(code == 0 and same_records(log, reference),
                 f"killed after the final last.ckpt, before its log line: --resume exit {code}, log.jsonl has "
                 f"{len(log)} of {EPOCHS} epochs")
    return reference_dir


# ---------------------------------------------------------------------------
# 2. Commands killed while they write.

def check_kills_while_writing(name, args, folder, final, kill_points, expected, compared=None):
    """Runs `args`, which writes `final` (and the files named in `expected`
    into `folder`), killed at each of kill_points: (label, condition factory
    (pid, complete size) -> callable, delay). The first kill finds no earlier
    output: `final` must stay absent. Then a complete run writes it, and
    each later kill must leave it -- and the files named in `compared` --
    byte-identical (a complete new one would be too: outputs are
    reproducible). An output present after the first kill (the run got to
    rename it) must be the complete one; at least one kill must land while
    `final` is written."""
    compared = compared or [os.path.basename(final)]
    start = time.time()
    mid_write = 0
    complete, size, first_written = None, None, None
    for i, (label, condition_of, delay) in enumerate(kill_points):
        if i == 1:
            run(*args)
            complete = {n: read_bytes(os.path.join(folder, n)) for n in compared}
            size = os.path.getsize(final)
            if first_written is not None:
                checks.check(first_written == complete, f"{name}: what the first kill left under the final name "
                                                        f"is the complete output")
        proc = Process(args)
        killed = proc.kill_when(condition_of(proc.pid, size), delay)
        finished = not killed and proc.proc.returncode == 0
        now = {n: read_bytes(os.path.join(folder, n)) for n in compared}
        part = read_bytes(temporary(final, proc.pid))
        mid_write += killed and part is not None and (size is None or len(part) < size)
        extra, badly_named = leftovers(folder, expected)
        if complete is None:
            ok = True  # absent, or checked against the complete output below
            if now[compared[0]] is not None:
                first_written = now
            outcome = f"{os.path.basename(final)} " + ("absent" if now[compared[0]] is None else
                                                       f"written ({describe(now[compared[0]])})")
        else:
            ok = now == complete
            outcome = f"{', '.join(compared)} " + ("byte-identical to the complete run's" if ok else
                                                   "CHANGED: " + ", ".join(f"{n} {describe(now[n])}" for n in compared))
        how = ("killed" if killed else "it had ended before the kill" if finished else
               f"NOT killed: exit {proc.proc.returncode}")
        checks.check((killed or finished) and ok and not badly_named,
                     f"{name} killed {label}: {how}"
                     f"{f' with {describe(part)} in its temporary file' if part is not None else ''}; "
                     f"{outcome}{'; left ' + ', '.join(extra) if extra else ''}")
    checks.check(mid_write >= 1, f"{name}: {mid_write} of {len(kill_points)} kills landed while "
                                 f"{os.path.basename(final)} was being written ({time.time() - start:.0f} s)")


def grows_to(final, fraction):
    """Condition factory: the killed process's temporary file exists and
    holds `fraction` of the complete size -- or it was seen and is gone
    already (renamed into place faster than it was polled)."""
    def factory(pid, size):
        path = temporary(final, pid)
        seen = []

        def condition():
            try:
                seen.append(True)
                return os.path.getsize(path) >= fraction * (size or 0)
            except OSError:
                seen.pop()
                return bool(seen)
        return condition
    return factory


def at_start(pid, size):
    return lambda: True


def fraction_label(f):
    return f"with {f:.0%} written" if f else "as the file appears"


def check_command_kills(tmp, run_dir):
    """Returns (name, args, folder, output name) of the files written here,
    for the full-disk checks."""
    written = []
    # prepare: villin's 400 frames four times over, all atoms (11 MB).
    folder = os.path.join(tmp, "prepare")
    os.makedirs(folder)
    final = os.path.join(folder, "v.mlds")
    args = ["prepare", *[villin_dcd] * 4, "--top", villin_pdb, "--atoms", "all", "-o", final]
    delay = rng.uniform(0.05, 0.4)
    check_kills_while_writing("prepare", args, folder, final, [
        ("as the dataset file appears", grows_to(final, 0), 0),
        (f"{delay:.2f} s after start (reading)", at_start, delay),
        ("as the dataset file appears", grows_to(final, 0), 0),
        ("with 50% written", grows_to(final, 0.5), 0),
    ], ["v.mlds"])
    written.append(("prepare", args, folder, "v.mlds"))

    # convert: villin to multi-model PDB (18 MB, written frame by frame) and DCD (3 MB).
    for ext, fractions in (("pdb", (0, 0.5)), ("dcd", (0, 0.5))):
        folder = os.path.join(tmp, "convert-" + ext)
        os.makedirs(folder)
        final = os.path.join(folder, "v." + ext)
        args = ["convert", villin_dcd, "--top", villin_pdb, "-o", final]
        check_kills_while_writing(f"convert to {ext.upper()}", args, folder, final,
                                  [(fraction_label(f), grows_to(final, f), 0) for f in fractions], ["v." + ext])
        written.append((f"convert to {ext.upper()}", args, folder, "v." + ext))

    # generate: a path of 500 models as PDB (13 MB), of 1000 as DCD (4 MB).
    for ext, steps, fractions in (("pdb", 500, (0, 0.5)), ("dcd", 1000, (0, 0.5))):
        folder = os.path.join(tmp, "generate-" + ext)
        os.makedirs(folder)
        final = os.path.join(folder, "path." + ext)
        args = ["generate", os.path.join(run_dir, "best.ckpt"), "--interpolate", "0,31", "--steps", str(steps),
                "--threads", "1", "-o", final]
        check_kills_while_writing(f"generate {ext.upper()}", args, folder, final,
                                  [(fraction_label(f), grows_to(final, f), 0) for f in fractions], ["path." + ext])
        written.append((f"generate {ext.upper()}", args, folder, "path." + ext))

    # report: the HTML (5 MB: plotly.js is inlined), its JSON and its figure folder.
    if not os.path.exists(os.path.join(plotly_dir, "plotly.min.js")):
        print(f"note: report not tested: {plotly_dir}/plotly.min.js missing")
    else:
        folder = os.path.join(tmp, "report")
        os.makedirs(folder)
        final = os.path.join(folder, "r.html")
        outputs = ["r.html", "r.json", "r_figures"]

        def figures_drawn(pid, size):
            return lambda: os.path.exists(temporary(os.path.join(folder, "r_figures"), pid))
        delay = rng.uniform(0.0, 0.3)
        check_kills_while_writing("report", ["report", run_dir, "-o", final, "--threads", "1"], folder, final, [
            ("as the HTML file appears", grows_to(final, 0), 0),
            (f"{delay:.2f} s into drawing the figures", figures_drawn, delay),
            ("with 50% of the HTML written", grows_to(final, 0.5), 0),
        ], outputs, outputs)

    # simulate: Langevin dynamics writing a DCD, its topology and a checkpoint with each frame.
    folder = os.path.join(tmp, "simulate")
    os.makedirs(folder)
    final = os.path.join(folder, "s.dcd")
    # The Reference platform with a seed: a resumed run continues bit for bit (the CPU platform's may not).
    args = ["simulate", villin_pdb, "-o", final, "--steps", "400", "--report-every", "100", "--threads", "1",
            "--platform", "Reference", "--seed", "5"]

    def after_frame(n):
        def factory(pid, size):
            chk = os.path.join(folder, "s.chk")

            def condition():
                try:
                    with open(chk, "rb") as f:
                        return b"\nframes %d\n" % n in f.read(64)
                except OSError:
                    return False
            return condition
        return factory
    frame = rng.randint(2, 3)
    check_kills_while_writing("simulate", args, folder, final, [
        ("after its first frame", after_frame(1), 0),
        (f"after frame {frame}", after_frame(frame), 0),
    ], ["s.dcd", "s.pdb", "s.chk"])
    # The last kill left the frames up to its checkpoint in s.dcd.tmp.PID: --resume recovers them and
    # finishes the run as if it had never been killed (the complete run's bytes; s.dcd still holds them).
    complete = read_bytes(final)
    # Resumed later (the killed run's files untouched for minutes, as the writer's clean-up of dead writers'
    # files expects) and failing while it copies the frames (a 10 kB file size limit): the frames stay.
    for name in os.listdir(folder):
        if name.startswith("s.dcd.tmp."):
            os.utime(os.path.join(folder, name), (time.time() - 600, time.time() - 600))
    failing = Process([*args, "--resume"], preexec_fn=limited_to(10000))
    failing_code = failing.wait()
    checks.check(failing_code not in (0, None), f"simulate --resume that cannot write its copy fails: exit {failing_code}")
    code, out, err = run(*args, "--resume", expect_ok=False)
    recovered = re.search(r"recovered from (\S+), left by a killed run", out)
    checks.check(code == 0 and recovered is not None and read_bytes(final) == complete and
                 not os.path.exists(recovered.group(1)),
                 f"simulate --resume after kill -9 recovers the killed run's frames (its temporary file then "
                 f"removed) and ends with the uninterrupted run's bytes: exit {code}, "
                 f"{out.strip().splitlines()[-3:]}, {err.strip()[-160:]!r}")
    check_resume_from_damaged_frames(folder, args)
    return written


def nan_in_frame(path, index):
    """Writes a NaN over the first x coordinate of frame `index` of a DCD
    (little-endian, 32-bit markers, no fixed atoms: what molearn writes)."""
    with open(path, "r+b") as f:
        data = f.read()
        icntrl = struct.unpack_from("<20i", data, 8)
        title = struct.unpack_from("<i", data, 92)[0]
        atoms_at = 92 + 8 + title
        atoms = struct.unpack_from("<i", data, atoms_at + 4)[0]
        cell = 56 if icntrl[10] else 0
        frame_bytes = cell + 3 * (8 + 4 * atoms)
        f.seek(atoms_at + 12 + index * frame_bytes + cell + 4)
        f.write(struct.pack("<f", float("nan")))


def check_resume_from_damaged_frames(folder, args):
    """--resume checks only the checkpoint's frame of the earlier trajectory
    before copying it: a damaged frame before it must fail the copy with a
    clear error, leaving the trajectory as it was and no temporary file."""
    damaged = folder + "-damaged"
    os.makedirs(damaged)
    for name in ("s.dcd", "s.pdb", "s.chk"):
        shutil.copyfile(os.path.join(folder, name), os.path.join(damaged, name))
    final = os.path.join(damaged, "s.dcd")
    nan_in_frame(final, 1)
    before = read_bytes(final)
    moved = [final if a == os.path.join(folder, "s.dcd") else a for a in args]
    code, out, err = run(*moved, "--resume", expect_ok=False)
    checks.check(code == 2 and "damaged" in err and "without --resume" in err and final in err and
                 read_bytes(final) == before and sorted(os.listdir(damaged)) == ["s.chk", "s.dcd", "s.pdb"],
                 f"simulate --resume with a NaN in frame 2 of 4: exit {code}, the trajectory unchanged, nothing "
                 f"left: {err.strip()[-200:]!r}, {sorted(os.listdir(damaged))}")


# ---------------------------------------------------------------------------
# 3. A full disk: a file size limit below the output's size.

def limited_to(size):
    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return preexec


def check_full_disk(name, args, folder, outputs, failing, limit=None):
    """Runs args with a file size limit (default: half the size of `failing`,
    the output that cannot be written, which the error must name);
    `outputs` (names in folder) exist from a complete run and must stay
    byte-identical, and nothing new may be left in folder."""
    limit = limit or os.path.getsize(os.path.join(folder, failing)) // 2
    before = {n: read_bytes(os.path.join(folder, n)) for n in outputs}
    earlier_leftovers = set(leftovers(folder, outputs)[0])
    proc = Process(args, preexec_fn=limited_to(limit))
    code = proc.wait()
    err = "".join(proc.err)
    errors = [line for line in err.splitlines() if line.startswith("molearn: error:")]
    after = {n: read_bytes(os.path.join(folder, n)) for n in outputs}
    extra = sorted(set(leftovers(folder, outputs)[0]) - earlier_leftovers)
    message = errors[0] if errors else err.strip()[-300:]
    checks.check(code in (2, 3) and len(errors) == 1 and os.path.join(folder, failing) in errors[0]
                 and re.search(r"write failed|cannot write|no space|too large", errors[0]) is not None
                 and "frame #" not in err and "terminate" not in err,
                 f"{name} with a {limit / 1e6:.2f} MB file size limit: exit {code}, {message!r}")
    checks.check(after == before and not extra,
                 f"  {', '.join(outputs)} {'byte-identical' if after == before else 'CHANGED'}; "
                 f"{'left ' + ', '.join(extra) if extra else 'nothing left behind'}")


def check_full_disks(tmp, data, run_dir, written):
    """`written`: the complete outputs of check_command_kills (with the
    temporary files of its killed runs beside them), written again here."""
    for name, args, folder, output in written:
        check_full_disk(name, args, folder, [output], output)
    folder = os.path.join(tmp, "export")
    os.makedirs(folder)
    args = ["export", os.path.join(run_dir, "best.ckpt"), "-o", os.path.join(folder, "model.pt")]
    run(*args)
    check_full_disk("export", args, folder, ["model.pt"], "model.pt")

    # train --resume of the finished run for one more epoch, which improves:
    # best.ckpt, the first file it writes, cannot be written.
    train_dir = os.path.join(tmp, "full-train")
    shutil.copytree(run_dir, train_dir)
    args = train_args(data, train_dir, "--resume")
    args[args.index("--epochs") + 1] = str(EPOCHS + 1)
    check_full_disk("train (checkpoint)", args, train_dir, sorted(os.listdir(train_dir)), "best.ckpt")

    if os.path.exists(os.path.join(plotly_dir, "plotly.min.js")):
        report_dir = os.path.join(tmp, "full-report")
        os.makedirs(report_dir)
        args = ["report", run_dir, "-o", os.path.join(report_dir, "r.html"), "--threads", "1"]
        # The earlier report differs (fewer midpoints): a new r.json or
        # figure folder moved into place before r.html failed would show.
        run(*args, "--midpoints", "16")
        check_full_disk("report", args, report_dir, ["r.html", "r.json", "r_figures"], "r.html")


with temp_dir() as tmp:
    data = os.path.join(tmp, "demo.mlds")
    run("prepare", os.path.join(fixtures, "2mi7_heavy.dcd"), "--top",
        os.path.join(fixtures, "2mi7_heavy_topology.pdb"), "-o", data, "--align", "--valid", "0.25")
    run_dir = check_training_trials(tmp, data)
    print(f"training kills: {time.time() - started:.0f} s")
    written = check_command_kills(tmp, run_dir)
    print(f"command kills: {time.time() - started:.0f} s")
    check_full_disks(tmp, data, run_dir, written)
    print(f"total: {time.time() - started:.0f} s")

checks.finish()
