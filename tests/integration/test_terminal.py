"""What a terminal shows while jobs run (issue 11, problem 6).

- On a terminal (a real pseudo-terminal with its window set to 80 and to 200 columns) the
  progress line fits the window: no rendered line is wider than the window minus one column
  (so no refresh wraps), one line per collection stays once it is done, and a wider window
  gets a wider line.
- Not on a terminal (stderr a pipe) `migrate` prints a line per phase change (and about every
  10 s), never a redraw stream (no carriage return).
- `jobs logs --follow` and `vmigrate worker` stream each collection's phases and a periodic
  progress line between "starting" and the end. The copy is kept from finishing by a SourceGate
  (the last page of each read range is refused until the test opens the gate), so the periodic
  line (every 10 s) is waited for on the job's own output, never on a sleep.

Every migration is checked through pymilvus against qdrant-client (checks.compare).
"""

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from tests.harness.gates import SourceGate
from tests.integration.checks import compare, run_vmigrate, vmigrate_env
from tests.integration.test_jobs import ONE, env, fresh, job_json, vm  # noqa: F401

N = 3000
LONG = "term_progress_a_collection_whose_name_is_longer_than_any_column"
PHASES = ("creating", "loading", "copying", "verifying", "done")


def run_on_pty(env, cols, args, timeout=600):
    """Run vmigrate with its stdin/stdout/stderr on a pseudo-terminal of `cols` columns;
    returns (exit code, everything it wrote, as the terminal received it)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    e = vmigrate_env(env.env)
    e.pop("COLUMNS", None)
    p = subprocess.Popen([env.bin, *args, "--store", env.store], stdin=slave, stdout=slave,
                         stderr=slave, env=e, start_new_session=True)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 1.0)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    rc = p.wait(timeout=60)
    return rc, out.decode("utf-8", "replace").replace("\r\n", "\n")


def segments(text):
    """Every line as the terminal drew it: split at newlines, then at carriage returns."""
    for line in text.split("\n"):
        for seg in line.split("\r"):
            yield line, seg


@pytest.mark.parametrize("cols", [80, 200])
def test_progress_fits_the_terminal(env, cols):
    colls = [fresh(env, "paging_100k", n=N, name=f"{LONG}_{cols}_{i}") for i in (1, 2)]
    with SourceGate(env.q.url, mode="open", page_delay_s=0.05) as gate:
        args = ["migrate", "--source", gate.url, "--target", env.m.url, "--page-size", "100"]
        for c in colls:
            args += ["-c", c]
        rc, out = run_on_pty(env, cols, args)
    assert rc == 0, out[-3000:]
    drawn = [seg for _, seg in segments(out) if seg.strip() and not seg.startswith("vmigrate")
             and not seg.startswith("job ") and "[" in seg]
    assert len(drawn) >= 4, out[-3000:]  # redrawn as the copy goes on
    for line, seg in segments(out):
        if "\r" not in line or seg.startswith("vmigrate"):
            continue  # messages and the summary on stdout: printed once, not redrawn
        assert len(seg) <= cols - 1, f"a {len(seg)}-column line on a {cols}-column terminal: " \
                                     f"{seg!r}"
    widest = max(len(s.rstrip()) for s in drawn)
    if cols == 200:
        assert widest > 80, drawn[-3:]
    # one line per collection stays: the last drawing of each collection's line says done
    finals = [line.split("\r")[-1].rstrip() for line in out.split("\n")
              if "[" in line and not line.startswith("vmigrate")]
    done = [f for f in finals if f.endswith("done") and f" {N}/{N} " in f]
    names = [f.split(" [")[0].rstrip() for f in done]
    assert len(done) == 2 and names[0].endswith("_1") and names[1].endswith("_2"), finals
    for c in colls:
        assert compare(env.qc, env.mc, c, c, ONE) == N


def test_not_a_terminal_prints_a_line_per_phase(env):
    c = fresh(env, "paging_100k", n=N, name="term_progress_pipe")
    t0 = time.monotonic()
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "--page-size", "100",
           "-c", c)
    took_s = time.monotonic() - t0
    assert p.returncode == 0, p.stderr[-3000:]
    assert "\r" not in p.stderr, "a redraw stream where no terminal is"
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith(c[:20])]
    seen = [next((ph for ph in PHASES if ln.rstrip().endswith(ph)), None) for ln in lines]
    for ph in PHASES:
        assert ph in seen, (ph, lines)
    # a line per phase change (and one every ~10 s of a phase), not one per progress call
    runs = []  # (phase, lines in a row), e.g. loading comes back after the copy (the load)
    for ph in seen:
        if runs and runs[-1][0] == ph:
            runs[-1][1] += 1
        else:
            runs.append([ph, 1])
    for ph, k in runs:
        assert k <= 2 + took_s / 10, (ph, k, lines)
    assert compare(env.qc, env.mc, c, c, ONE) == N


def read_until(fd, buf, pred, p, what, timeout=600):
    """Read fd into buf (a list of str) until pred(text) holds; fails if p exits first."""
    deadline = time.monotonic() + timeout
    while not pred("".join(buf)):
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s:\n{''.join(buf)[-3000:]}", pytrace=False)
        r, _, _ = select.select([fd], [], [], 1.0)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                pytest.fail(f"output ended before {what}:\n{''.join(buf)[-3000:]}",
                            pytrace=False)
            buf.append(chunk.decode("utf-8", "replace"))
        elif p.poll() is not None and not pred("".join(buf)):
            pytest.fail(f"exited ({p.returncode}) before {what}:\n{''.join(buf)[-3000:]}",
                        pytrace=False)
    return "".join(buf)


def test_logs_follow_and_worker_stream_phases_and_progress(env):
    c = fresh(env, "paging_100k", n=N, name="term_follow")
    e = vmigrate_env(env.env)
    with SourceGate(env.q.url, mode="ends") as gate:
        p = vm(env, "migrate", "--detach", "--source", gate.url, "--target", env.m.url,
               "--page-size", "100", "-c", c)
        assert p.returncode == 0, p.stderr
        jid = p.stdout.strip().splitlines()[-1]
        follow = subprocess.Popen([env.bin, "jobs", "logs", jid, "--follow", "--store",
                                   env.store], stdout=subprocess.PIPE, env=e,
                                  start_new_session=True)
        worker = subprocess.Popen([env.bin, "worker", "--store", env.store],
                                  stderr=subprocess.PIPE, env=e, start_new_session=True)
        fbuf, wbuf = [], []
        try:
            progress = re.compile(r"copying: \d+ of %d points written \(" % N)
            read_until(follow.stdout.fileno(), fbuf, lambda t: progress.search(t), follow,
                       "periodic progress line in `jobs logs --follow`")
            read_until(worker.stderr.fileno(), wbuf, lambda t: progress.search(t), worker,
                       "periodic progress line from the worker")
            gate.set_mode("open")
            text = read_until(follow.stdout.fileno(), fbuf, lambda t: "job Successful" in t,
                              follow, "the job's end in `jobs logs --follow`")
            wtext = read_until(worker.stderr.fileno(), wbuf,
                               lambda t: "Successful" in t, worker, "the job's end from the worker")
            assert follow.wait(timeout=60) == 0
        finally:
            for q in (follow, worker):
                if q.poll() is None:
                    os.killpg(q.pid, signal.SIGINT)
                    q.wait(timeout=60)
    # phases in order, between "starting" and the end
    marks = ["starting", "creating the target collection", "loading the target collection",
             "copying (", "copying: ", "verifying (", "points migrated", "job Successful"]
    pos = [text.find(m) for m in marks]
    assert all(x >= 0 for x in pos) and pos == sorted(pos), (list(zip(marks, pos)), text)
    # the worker printed the same lines as they happened, named by the job's id
    assert f"job {jid} started by a worker" in wtext, wtext
    for m in marks[1:-2]:
        assert f"job {jid}: collection '{c}': {m}" in wtext, (m, wtext)
    assert job_json(env, jid)["status"] == "SUCCESSFUL"
    assert compare(env.qc, env.mc, c, c, ONE) == N
