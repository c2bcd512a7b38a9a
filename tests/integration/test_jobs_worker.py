"""The rest of the job center's faces against the real servers: `migrate --detach` queues jobs
that `vmigrate worker --concurrency 2` runs; `jobs logs --follow` ends with its job; `jobs
restart` drops only the collection its job created and copies it again; `jobs` lists by status.
Results are checked through pymilvus against qdrant-client."""

import json
import os
import signal
import subprocess
import time

import pytest

from tests.datagen import datagen
from tests.integration.checks import compare, run_vmigrate

ONE = {"": ("vector", "dense")}


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    d = str(tmp_path_factory.mktemp("worker"))
    e.store = os.path.join(d, "vmigrate.db")
    e.env = {"VMIGRATE_SECRET_KEY_FILE": os.path.join(d, "secret.key")}
    return e


def vm(env, *args, check=False):
    return run_vmigrate(env.bin, *args, "--store", env.store, env=env.env, check=check)


def show(env, jid):
    return json.loads(vm(env, "jobs", "show", jid, "--json", check=True).stdout)


def detach(env, coll):
    p = vm(env, "migrate", "--detach", "--source", env.q.url, "--target", env.m.url, "-c", coll,
           check=True)
    return p.stdout.strip()


def test_worker_runs_detached_jobs(env):
    a = datagen.generate(env.qc, "ids_uuid", name="w_a")
    b = datagen.generate(env.qc, "paging_100k", n=8000, name="w_b")
    ja, jb = detach(env, a), detach(env, b)
    assert show(env, ja)["status"] == "PENDING" and show(env, jb)["status"] == "PENDING"
    pending = json.loads(vm(env, "jobs", "--status", "pending", "--json", check=True).stdout)
    assert {j["id"] for j in pending} == {ja, jb}
    e = dict(os.environ, **env.env, ASAN_OPTIONS="detect_leaks=0")
    w = subprocess.Popen([env.bin, "worker", "--concurrency", "2", "--store", env.store, "-q"],
                         env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # follow the log of one job until it ends (must return by itself)
        f = vm(env, "jobs", "logs", jb, "--follow")
        assert f.returncode == 0, f.stderr
        # the other job may still run: wait for both to end (a deadline, not a speed)
        deadline = time.monotonic() + 600
        while True:
            st = {show(env, ja)["status"], show(env, jb)["status"]}
            if st <= {"SUCCESSFUL", "FAILED", "CANCELLED"}:
                break
            assert time.monotonic() < deadline, f"the worker did not end both jobs in 600 s: {st}"
            time.sleep(0.3)
        assert show(env, ja)["status"] == "SUCCESSFUL" and show(env, jb)["status"] == "SUCCESSFUL"
    finally:
        w.send_signal(signal.SIGINT)
        out, err = w.communicate(timeout=60)
    assert w.returncode == 0, err
    compare(env.qc, env.mc, a, a, ONE, pk_varchar=True)
    compare(env.qc, env.mc, b, b, ONE)


def test_restart_drops_only_what_the_job_created(env):
    coll = datagen.generate(env.qc, "ids_int", name="w_restart")
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", coll, "--json",
           check=True)
    jid = json.loads(p.stdout)["id"]
    # an unrelated collection the job did not create
    env.mc.create_collection("w_bystander", dimension=4)
    env.mc.insert("w_bystander", [{"id": 1, "vector": [1.0, 2.0, 3.0, 4.0]}])
    # tamper with the migrated one: restart must drop it and copy it again
    env.mc.delete(coll, ids=[int(x.id) for x in env.qc.scroll(coll, limit=5)[0]])
    r = vm(env, "jobs", "restart", jid, "-q")
    assert r.returncode == 0, r.stderr
    assert show(env, jid)["status"] == "SUCCESSFUL"
    compare(env.qc, env.mc, coll, coll, ONE)
    assert env.mc.has_collection("w_bystander")
    assert env.mc.query("w_bystander", filter="id == 1", output_fields=["id"])[0]["id"] == 1


def test_two_jobs_in_one_worker_each_log_their_own_retries(env):
    """Lines from the engine's reader threads (a connector's retries) reach the job whose run
    they belong to, with two jobs running in one worker (the run context; before it, such
    lines reached no job when more than one ran). Both jobs retry (a's pages and b's range ends
    are refused by their gates): each job's log holds its own retries and none of the other's."""
    from tests.harness.gates import SourceGate
    a = datagen.generate(env.qc, "paging_100k", n=6000, name="w_logs_a")
    b = datagen.generate(env.qc, "paging_100k", n=6000, name="w_logs_b")
    for c in (a, b):
        if env.mc.has_collection(c):
            env.mc.drop_collection(c)
    with SourceGate(env.q.url) as ga, SourceGate(env.q.url) as gb:
        ga.set_mode("all")  # a's pages are refused (503, retried): a logs retries
        # gb keeps "ends": b runs (pages pass) but cannot finish until it is opened
        ja = vm(env, "migrate", "--detach", "--source", ga.url, "--target", env.m.url, "-c", a,
                check=True).stdout.strip()
        jb = vm(env, "migrate", "--detach", "--source", gb.url, "--target", env.m.url, "-c", b,
                check=True).stdout.strip()
        e = dict(os.environ, **env.env, ASAN_OPTIONS="detect_leaks=0")
        w = subprocess.Popen([env.bin, "worker", "--concurrency", "2", "--store", env.store,
                              "-q"], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 600
            while True:
                la = vm(env, "jobs", "logs", ja).stdout
                both = show(env, ja)["status"] == "IN_PROGRESS" and \
                    show(env, jb)["status"] == "IN_PROGRESS"
                if both and "retry" in la:
                    break
                assert time.monotonic() < deadline, f"job {ja} logged no retry:\n{la[-2000:]}"
                time.sleep(0.2)
            ga.set_mode("open")
            gb.set_mode("open")
            while {show(env, ja)["status"], show(env, jb)["status"]} != {"SUCCESSFUL"}:
                assert time.monotonic() < deadline, "the worker did not end both jobs"
                time.sleep(0.3)
        finally:
            w.send_signal(signal.SIGINT)
            w.communicate(timeout=60)
        la, lb = vm(env, "jobs", "logs", ja).stdout, vm(env, "jobs", "logs", jb).stdout
        assert f"scroll on {ga.url}" in la and f"scroll on {gb.url}" not in la, la[-2000:]
        assert "retry" in lb and f"scroll on {ga.url}" not in lb, lb[-2000:]
    compare(env.qc, env.mc, a, a, ONE)
    compare(env.qc, env.mc, b, b, ONE)


def test_worker_without_the_key_leaves_the_job_with_a_warning(env, tmp_path):
    """A PENDING job whose stored secret (the source API key) a worker's key file cannot open:
    that worker says so in the job's log, naming the way out, and leaves the job PENDING; a
    worker with the creator's key file runs it."""
    coll = datagen.generate(env.qc, "ids_int", name="w_key")
    secret = "w-key-SEKRET-7f3a"
    jid = vm(env, "migrate", "--detach", "--source", env.q.url, "--target", env.m.url, "-c",
             coll, "--api-key", secret, check=True).stdout.strip()
    wrong = dict(os.environ, ASAN_OPTIONS="detect_leaks=0",
                 VMIGRATE_SECRET_KEY_FILE=str(tmp_path / "other.key"))
    w = subprocess.Popen([env.bin, "worker", "--store", env.store, "-q"], env=wrong,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300  # a bound, not a speed: the warning decides
        while True:
            logs = vm(env, "jobs", "logs", jid, check=True).stdout
            warned = [ln for ln in logs.splitlines() if "cannot start this job" in ln]
            if warned:
                break
            assert w.poll() is None, w.communicate()
            assert time.monotonic() < deadline, "the worker without the key never warned"
            time.sleep(0.3)
        assert show(env, jid)["status"] == "PENDING"
        assert len(warned) == 1, warned
        assert "VMIGRATE_SECRET_KEY_FILE" in warned[0] and secret not in logs
    finally:
        w.send_signal(signal.SIGINT)
        out, err = w.communicate(timeout=60)
    assert secret not in out.decode() + err.decode()
    right = dict(os.environ, **env.env, ASAN_OPTIONS="detect_leaks=0")
    w = subprocess.Popen([env.bin, "worker", "--store", env.store, "-q"], env=right,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        f = vm(env, "jobs", "logs", jid, "--follow")
        assert f.returncode == 0, f.stderr
        assert show(env, jid)["status"] == "SUCCESSFUL"
    finally:
        w.send_signal(signal.SIGINT)
        w.communicate(timeout=60)
    compare(env.qc, env.mc, coll, coll, ONE)
