"""Range tasks (issue 14): a job's collections split into setup, range and finish tasks that
several `vmigrate worker` processes claim with a lease. Against the real Milvus 2.3.5 server
(it never de-duplicates a primary key, so a point written twice shows in count(*) and in the
ids read back): workers killed with SIGKILL at points chosen from the tasks' own progress, the
others finish, and every id is in the target exactly once; a cancel and a resume; a foreground
run split into tasks. Each test runs on every job store the harness has (SQLite here; the
PostgreSQL one when its server is started by the fixture `store_url`)."""

import collections
import json
import os
import random
import signal
import subprocess
import time

import pytest

from tests.datagen import datagen
from tests.harness.gates import SourceGate
from tests.integration.checks import (compare, run_vmigrate, strong_count, target_rows,
                                      vmigrate_env)

ONE = {"": ("vector", "dense")}
DEADLINE_S = 900  # a bound on a broken run, never a decision


class Env:
    pass


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.dir = str(tmp_path_factory.mktemp("tasks"))
    e.env = {"VMIGRATE_SECRET_KEY_FILE": os.path.join(e.dir, "secret.key")}
    e.n = 0
    return e


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, env):
    """A fresh job store of each kind for each test."""
    env.n += 1
    if request.param == "sqlite":
        return os.path.join(env.dir, f"store{env.n}.db")
    pg = request.getfixturevalue("postgres")  # tests/conftest.py: a server per module
    env.env["PGPASSWORD"] = pg.password        # never in the URL
    return pg.database()


def vm(env, store, *args, check=False):
    return run_vmigrate(env.bin, *args, "--store", store, env=env.env, check=check)


def show(env, store, jid):
    return json.loads(vm(env, store, "jobs", "show", jid, "--json", check=True).stdout)


def start_worker(env, store, *extra):
    e = vmigrate_env(env.env)
    return subprocess.Popen([env.bin, "worker", "--store", store, "--lease", "3", "-q", *extra],
                            env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(w):
    if w.poll() is None:
        w.send_signal(signal.SIGINT)
    try:
        return w.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        w.kill()
        return w.communicate()


def wait_status(env, store, jid, want, deadline):
    while True:
        j = show(env, store, jid)
        if j["status"] in want:
            return j
        assert time.monotonic() < deadline, f"job {jid} is {j['status']}: {json.dumps(j)[-3000:]}"
        time.sleep(0.2)


def owner_pid(task):
    # "host:pid/thread"
    return int(task["owner"].rsplit(":", 1)[1].split("/", 1)[0])


def exactly_once(env, coll, n):
    """count(*) and every id read back once (the real server keeps a doubled key twice)."""
    assert strong_count(env.mc, coll) == n
    ids = collections.Counter(r["id"] for r in target_rows(env.mc, coll))
    doubled = [k for k, c in ids.items() if c > 1]
    assert not doubled, f"{len(doubled)} ids written twice, e.g. {doubled[:5]}"
    assert len(ids) == n


@pytest.mark.targets("milvus23")
def test_workers_killed_mid_task_others_finish_exactly(env, store):
    """Three workers share a job of 8 range tasks; two of them are killed with SIGKILL, each
    when a task it holds has written a random part of its range (read from the task rows);
    the third takes their tasks over when the leases run out and resumes them from their
    checkpoints: count(*) Strong and every id exactly once, and the take-overs are recorded."""
    n = 40000
    coll = datagen.generate(env.qc, "paging_100k", n=n, name="tk_kill")
    if env.mc.has_collection(coll):
        env.mc.drop_collection(coll)
    rnd = random.Random(14)
    with SourceGate(env.q.url, mode="open", page_delay_s=0.03) as gate:
        jid = vm(env, store, "migrate", "--detach", "--source", gate.url, "--target", env.m.url,
                 "-c", coll, "--tasks", "8", "--page-size", "400", "--writers", "2",
                 check=True).stdout.strip()
        workers = [start_worker(env, store, "--concurrency", "2") for _ in range(3)]
        killed = []
        try:
            deadline = time.monotonic() + DEADLINE_S
            for _ in range(2):
                # any worker still alive holding a task that has written between 10 % and
                # 60 % of its share (drawn anew for each kill); one worker always survives
                frac = rnd.uniform(0.1, 0.6)
                share = n / 8
                alive = {w.pid: w for w in workers if w.poll() is None}
                while True:
                    j = show(env, store, jid)
                    held = [t for t in j.get("tasks", []) if t["kind"] == "range" and
                            t["status"] == "IN_PROGRESS" and t["owner"] and
                            owner_pid(t) in alive and frac * share <= t["written"] < share]
                    if held:
                        break
                    assert j["status"] in ("PENDING", "IN_PROGRESS"), json.dumps(j)[-3000:]
                    assert time.monotonic() < deadline, "no task of a live worker progressed"
                    time.sleep(0.05)
                t = rnd.choice(held)
                victim = alive[owner_pid(t)]
                victim.kill()  # SIGKILL: no checkpoint, no release
                victim.wait()
                killed.append((victim.pid, t["task"], t["written"]))
            j = wait_status(env, store, jid, {"SUCCESSFUL", "FAILED", "CANCELLED"}, deadline)
        finally:
            outs = [stop(w) for w in workers if w.poll() is None]
    assert j["status"] == "SUCCESSFUL", json.dumps(j)[-4000:] + repr(outs)
    exactly_once(env, coll, n)
    compare(env.qc, env.mc, coll, coll, ONE)
    tasks = {t["task"]: t for t in j["tasks"] if t["kind"] == "range"}
    assert len(tasks) == 8
    for pid, task, _ in killed:
        t = tasks[task]
        assert t["reclaims"] >= 1 and t["attempts"] >= 2, t
        assert owner_pid(t) != pid, t  # finished by another worker
    assert sum(t["written"] for t in tasks.values()) == n
    logs = vm(env, store, "jobs", "logs", jid).stdout
    assert "its last worker died" in logs, logs[-3000:]


@pytest.mark.targets("milvus23")
def test_cancel_then_resume_runs_the_tasks_on(env, store):
    """A job run as tasks by two workers is cancelled once it has written a part: it ends
    Cancelled with its tasks back to Pending and their checkpoints; `jobs resume` (in the
    foreground, taking the tasks itself) finishes it exactly."""
    n = 20000
    coll = datagen.generate(env.qc, "paging_100k", n=n, name="tk_cancel")
    if env.mc.has_collection(coll):
        env.mc.drop_collection(coll)
    with SourceGate(env.q.url, mode="open", page_delay_s=0.03) as gate:
        jid = vm(env, store, "migrate", "--detach", "--source", gate.url, "--target", env.m.url,
                 "-c", coll, "--tasks", "4", "--page-size", "400", check=True).stdout.strip()
        workers = [start_worker(env, store, "--concurrency", "2") for _ in range(2)]
        try:
            deadline = time.monotonic() + DEADLINE_S
            while True:
                j = show(env, store, jid)
                if sum(t["written"] for t in j.get("tasks", [])) >= n // 4:
                    break
                assert time.monotonic() < deadline
                time.sleep(0.05)
            r = vm(env, store, "jobs", "cancel", jid)
            assert r.returncode == 0, r.stderr
            j = wait_status(env, store, jid, {"CANCELLED"}, deadline)
        finally:
            for w in workers:
                stop(w)
        # every task that was running went back to Pending (or had finished)
        assert {t["status"] for t in j["tasks"]} <= {"PENDING", "SUCCESSFUL"}, j["tasks"]
        assert strong_count(env.mc, coll) < n
        r = vm(env, store, "jobs", "resume", jid, "-q")
        assert r.returncode == 0, r.stderr + r.stdout
    assert show(env, store, jid)["status"] == "SUCCESSFUL"
    exactly_once(env, coll, n)


def test_foreground_run_as_tasks(env, store):
    """`migrate --tasks 4` in the foreground: the process runs the tasks itself (no worker),
    prints the collection's progress as one, and lands every point (both targets)."""
    coll = datagen.generate(env.qc, "paging_100k", n=6000, name="tk_fg")
    if env.mc.has_collection(coll):
        env.mc.drop_collection(coll)
    r = vm(env, store, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", coll,
           "--tasks", "4", "--json")
    assert r.returncode == 0, r.stderr
    jid = json.loads(r.stdout)["id"]
    j = show(env, store, jid)
    assert j["status"] == "SUCCESSFUL"
    kinds = collections.Counter(t["kind"] for t in j["tasks"])
    assert kinds == {"setup": 1, "range": 4, "finish": 1}, kinds
    assert all(t["status"] == "SUCCESSFUL" for t in j["tasks"])
    assert j["collections"][0]["written"] == 6000
    compare(env.qc, env.mc, coll, coll, ONE)


@pytest.mark.targets("milvus23")
def test_racing_workers_never_share_a_task(env, store):
    """Four workers with four threads each start together on a job of 16 range tasks: every
    task is claimed exactly once (one claim, one worker's "taken by" line in the job's log),
    and the copy lands exactly once."""
    n = 16000
    coll = datagen.generate(env.qc, "paging_100k", n=n, name="tk_race")
    if env.mc.has_collection(coll):
        env.mc.drop_collection(coll)
    jid = vm(env, store, "migrate", "--detach", "--source", env.q.url, "--target", env.m.url,
             "-c", coll, "--tasks", "16", "--page-size", "250", check=True).stdout.strip()
    workers = [start_worker(env, store, "--concurrency", "4") for _ in range(4)]
    try:
        j = wait_status(env, store, jid, {"SUCCESSFUL", "FAILED", "CANCELLED"},
                        time.monotonic() + DEADLINE_S)
    finally:
        for w in workers:
            stop(w)
    assert j["status"] == "SUCCESSFUL", json.dumps(j)[-3000:]
    ranges = [t for t in j["tasks"] if t["kind"] == "range"]
    assert len(ranges) == 16
    assert all(t["attempts"] == 1 and t["reclaims"] == 0 for t in j["tasks"]), j["tasks"]
    logs = vm(env, store, "jobs", "logs", jid).stdout
    taken = collections.Counter(int(line.split("range ", 1)[1].split(" ", 1)[0])
                                for line in logs.splitlines() if " taken by " in line)
    assert taken == {i: 1 for i in range(1, 17)}, taken
    assert len({t["owner"] for t in ranges}) > 1  # shared among the workers
    exactly_once(env, coll, n)


def test_failed_tasks_then_retry_runs_only_them(env, store):
    """A job of two collections run as tasks, one of which fails in its range tasks (every
    point has a null payload value and nulls fail by default): the job ends Failed with the
    other collection Successful, the failing tasks Failed with the point named; `jobs retry
    --null-values=drop` runs only the failed collection's tasks again and lands it."""
    a = datagen.generate(env.qc, "ids_int", name="tk_retry_a")
    bad = datagen.generate(env.qc, "payload_nulls", name="tk_retry_bad")
    for c in (a, bad):
        if env.mc.has_collection(c):
            env.mc.drop_collection(c)
    r = vm(env, store, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", a,
           "-c", bad, "--tasks", "3", "--json")
    assert r.returncode != 0, r.stdout[-2000:]
    jid = json.loads(vm(env, store, "jobs", "--json", check=True).stdout)[0]["id"]
    j = show(env, store, jid)
    st = {c["source"]: c for c in j["collections"]}
    assert j["status"] == "FAILED"
    assert st[a]["status"] == "SUCCESSFUL" and st[bad]["status"] == "FAILED", st
    assert st[bad]["error_point"], st[bad]
    failed = [t for t in j["tasks"] if t["status"] == "FAILED"]
    assert failed and all(t["collection"] == bad and t["error"] for t in failed), j["tasks"]
    done_a = st[a]["finished_ms"]
    r = vm(env, store, "jobs", "retry", jid, "--null-values=drop", "-q")
    assert r.returncode == 0, r.stderr[-3000:]
    j = show(env, store, jid)
    st = {c["source"]: c for c in j["collections"]}
    assert j["status"] == "SUCCESSFUL"
    assert st[a]["finished_ms"] == done_a  # not run again
    assert all(t["status"] == "SUCCESSFUL" for t in j["tasks"]), j["tasks"]
    compare(env.qc, env.mc, a, a, ONE)
    compare(env.qc, env.mc, bad, bad, ONE, drop_nulls=True)
