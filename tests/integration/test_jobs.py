"""The job center against the real servers (issue 4, "Done when"): kill -9 at random moments then
`jobs resume`, `jobs cancel` then resume, a Milvus Lite outage, a flaky Qdrant, a job of three
collections where one fails and `jobs retry --null-values=drop`, and secrets never in plain text
in the job store or the logs. Every result is checked through pymilvus against qdrant-client
(tests/integration/checks.py: exact count, each id once, vectors bit-identical), never only on
what vmigrate reports.

Jobs are created with `vmigrate migrate --detach --store S` and run with `vmigrate jobs resume`
(which also starts a PENDING job). Until `migrate` creates jobs, these tests skip, unless
VMIG_TEST_JOB_CREATE names a program called as `PROG create STORE SRC DST COLL[,COLL] [nulls]
[page]` that creates one and prints its id (a development aid).
"""

import glob
import json
import os
import random
import signal
import subprocess
import time

import pytest

from tests.datagen import datagen
from tests.harness.milvus_proxy import MilvusLedgerProxy
from tests.integration.checks import compare, run_vmigrate

PAGE = 500  # small pages: many checkpoints, many moments to be killed at
ONE = {"": ("vector", "dense")}


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.dir = str(tmp_path_factory.mktemp("jobs"))
    e.store = os.path.join(e.dir, "vmigrate.db")
    e.env = {"VMIGRATE_SECRET_KEY_FILE": os.path.join(e.dir, "secret.key"),
             "ASAN_OPTIONS": "detect_leaks=0"}
    return e


def vm(env, *args, check=False, timeout=900):
    return run_vmigrate(env.bin, *args, "--store", env.store, env=env.env, check=check,
                        timeout=timeout)


def job_json(env, jid):
    return json.loads(vm(env, "jobs", "show", jid, "--json", check=True).stdout)


def job_ids(env):
    return {j["id"] for j in json.loads(vm(env, "jobs", "--json", check=True).stdout)}


def create_job(env, colls, nulls=None, extra=(), q=None, target=None):
    """A PENDING job migrating colls (into target, default the Milvus Lite); returns its id."""
    q = q or env.q
    target = target or env.m.url
    prog = os.environ.get("VMIG_TEST_JOB_CREATE")
    if prog:
        e = dict(os.environ, **env.env)
        r = subprocess.run([prog, "create", env.store, q.url, env.m.url, ",".join(colls),
                            nulls or "fail", str(PAGE)], capture_output=True, text=True, env=e)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()
    before = job_ids(env)
    args = ["migrate", "--detach", "--source", q.url, "--target", target,
            "--page-size", str(PAGE)]
    for c in colls:
        args += ["-c", c]
    if nulls:
        args += ["--null-values", nulls]
    p = vm(env, *args, *extra)
    new = job_ids(env) - before
    if len(new) != 1:
        pytest.skip("`vmigrate migrate --detach` does not create a job yet "
                    f"(exit {p.returncode}: {p.stderr[-300:]})")
    return new.pop()


def start_run(env, jid, log_name):
    """`jobs resume ID` in the background (runs a PENDING job too)."""
    e = dict(os.environ, **env.env)
    log = open(os.path.join(env.dir, log_name), "ab")
    return subprocess.Popen([env.bin, "jobs", "resume", jid, "--store", env.store, "-q"],
                            stdout=log, stderr=log, env=e, start_new_session=True)


def wait_written(env, jid, at_least, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = job_json(env, jid)
        if sum(c["written"] for c in j["collections"]) >= at_least:
            return j
        time.sleep(0.1)
    raise AssertionError(f"job {jid} did not reach {at_least} written points")


def fresh(env, shape, n=None, name=None):
    """(Re)generate a source collection and drop any target of the same name."""
    coll = datagen.generate(env.qc, shape, n=n, name=name)
    if env.mc.has_collection(coll):
        env.mc.drop_collection(coll)
    return coll


def test_kill9_at_random_moments_then_resume_is_exact(env):
    coll = fresh(env, "paging_100k", n=50_000, name="jobs_kill9")
    # Milvus Lite de-duplicates re-inserted keys; the ledger proxy keeps real Milvus's count
    px = MilvusLedgerProxy(f"127.0.0.1:{env.m.port}").start()
    request_cleanup = px.stop
    jid = create_job(env, [coll], target=px.url)
    rng = random.Random(4)
    kills = 0
    for i in range(40):
        p = start_run(env, jid, "kill9.log")
        # spread over the run: right after start (create/count), mid-copy, around writes
        time.sleep(rng.uniform(0.05, 0.9) if i % 3 else rng.uniform(0.4, 0.7))
        if p.poll() is not None:
            break
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        kills += 1
        if kills >= 12:
            break
    assert kills >= 10, f"the job finished after only {kills} kills; make it slower"
    j = job_json(env, jid)
    assert j["status"] in ("IN_PROGRESS", "SUCCESSFUL")
    r = vm(env, "jobs", "resume", jid, "-q")
    if j["status"] != "SUCCESSFUL":
        assert r.returncode == 0, r.stderr[-3000:]
    assert job_json(env, jid)["status"] == "SUCCESSFUL"
    compare(env.qc, env.mc, coll, coll, ONE)
    assert px.duplicates(coll) == {}, "real Milvus would hold these keys twice"
    assert len(px.keys(coll)) == 50_000 and px.calls["Upsert"] > 0
    request_cleanup()


def test_cancel_stops_within_seconds_then_resume_is_exact(env):
    coll = fresh(env, "paging_100k", n=50_000, name="jobs_cancel")
    px = MilvusLedgerProxy(f"127.0.0.1:{env.m.port}").start()
    jid = create_job(env, [coll], target=px.url)
    p = start_run(env, jid, "cancel.log")
    wait_written(env, jid, 2000)
    t0 = time.monotonic()
    r = vm(env, "jobs", "cancel", jid, check=True)
    j = job_json(env, jid)
    if j["status"] != "SUCCESSFUL":  # did not finish just before the cancel
        assert j["status"] == "CANCELLED", r.stdout + r.stderr
        assert time.monotonic() - t0 < 5.0
        assert p.wait(timeout=10) != 0
        assert j["collections"][0]["status"] == "CANCELLED"
        r = vm(env, "jobs", "resume", jid, "-q")
        assert r.returncode == 0, r.stderr[-3000:]
    else:
        p.wait(timeout=10)
    assert job_json(env, jid)["status"] == "SUCCESSFUL"
    compare(env.qc, env.mc, coll, coll, ONE)
    assert px.duplicates(coll) == {}, "real Milvus would hold these keys twice"
    assert len(px.keys(coll)) == 50_000
    px.stop()


def test_milvus_down_20s_job_waits_and_finishes_exact(env):
    coll = fresh(env, "paging_100k", n=30_000, name="jobs_outage")
    px = MilvusLedgerProxy(f"127.0.0.1:{env.m.port}").start()
    jid = create_job(env, [coll], target=px.url)
    p = start_run(env, jid, "outage.log")
    wait_written(env, jid, 3000)
    env.m.restart(down_seconds=20)  # same port, same data directory
    rc = p.wait(timeout=600)
    j = job_json(env, jid)
    assert rc == 0 and j["status"] == "SUCCESSFUL", open(os.path.join(env.dir, "outage.log")).read()[-3000:]
    logs = vm(env, "jobs", "logs", jid, check=True).stdout
    assert "retry" in logs
    compare(env.qc, env.mc, coll, coll, ONE)
    assert px.duplicates(coll) == {}, "real Milvus would hold these keys twice"
    px.stop()


def test_flaky_qdrant_job_finishes_exact_and_logs_retries(env):
    coll = fresh(env, "paging_100k", n=20_000, name="jobs_flaky")
    jid = create_job(env, [coll])
    env.q.set_faults(p503=0.2, delay=0.02, delay_s=3, seed=7)
    try:
        r = vm(env, "jobs", "resume", jid, "-q")
    finally:
        env.q.set_faults()
    assert r.returncode == 0, r.stderr[-3000:]
    assert job_json(env, jid)["status"] == "SUCCESSFUL"
    logs = vm(env, "jobs", "logs", jid, check=True).stdout
    assert "retry" in logs and "503" in logs
    compare(env.qc, env.mc, coll, coll, ONE)


def test_one_of_three_fails_then_retry_with_drop_migrates_only_it(env):
    a = fresh(env, "ids_int")
    b = fresh(env, "payload_rich")
    bad = fresh(env, "payload_nulls")
    jid = create_job(env, [a, bad, b])
    r = vm(env, "jobs", "resume", jid, "-q")
    assert r.returncode != 0
    j = job_json(env, jid)
    st = {c["source"]: c for c in j["collections"]}
    assert j["status"] == "FAILED"
    assert st[a]["status"] == "SUCCESSFUL" and st[b]["status"] == "SUCCESSFUL"
    assert st[bad]["status"] == "FAILED"
    logs = vm(env, "jobs", "logs", jid, "--json", check=True).stdout.splitlines()
    errs = [json.loads(x) for x in logs if json.loads(x)["level"] == "error"
            and json.loads(x)["collection"] == bad]
    assert errs and errs[0]["point_id"], logs
    assert "null" in errs[0]["message"]
    done_a, done_b = st[a]["finished_ms"], st[b]["finished_ms"]

    r = vm(env, "jobs", "retry", jid, "--null-values=drop", "-q")
    assert r.returncode == 0, r.stderr[-3000:]
    j = job_json(env, jid)
    st = {c["source"]: c for c in j["collections"]}
    assert j["status"] == "SUCCESSFUL"
    assert st[a]["finished_ms"] == done_a and st[b]["finished_ms"] == done_b  # not re-run
    plan = {c["source"]: c for c in j.get("plan", {}).get("collections", [])}
    if plan:
        assert plan[bad]["null_values"] == "drop" and plan[a]["null_values"] == "fail"
    compare(env.qc, env.mc, a, a, ONE)
    compare(env.qc, env.mc, b, b, ONE)
    compare(env.qc, env.mc, bad, bad, ONE, drop_nulls=True)


def test_secrets_never_in_plain_text(env, tmp_path):
    from tests.harness.servers import QdrantTestServer, qdrant_client_for
    key = "qdrant-KEY-" + os.urandom(8).hex()
    token = "root:Milvus-" + os.urandom(8).hex()
    with QdrantTestServer(api_key=key) as q:
        qc = qdrant_client_for(q)
        coll = datagen.generate(qc, "ids_int", name="jobs_secret")
        if env.mc.has_collection(coll):
            env.mc.drop_collection(coll)
        env.env.update(QDRANT_API_KEY=key, MILVUS_TOKEN=token)
        try:
            jid = create_job(env, [coll], q=q)
            env.env.pop("QDRANT_API_KEY")  # resume must use the stored (encrypted) key
            env.env.pop("MILVUS_TOKEN")
            r = vm(env, "jobs", "resume", jid, "-v")
            out = r.stdout + r.stderr
            logs = vm(env, "jobs", "logs", jid, check=True).stdout
            show = vm(env, "jobs", "show", jid, "--json", check=True).stdout
        finally:
            env.env.pop("QDRANT_API_KEY", None)
            env.env.pop("MILVUS_TOKEN", None)
        assert r.returncode == 0, out[-3000:]
        compare(qc, env.mc, coll, coll, ONE)
        qc.close()
    secrets = [key, token, token.split(":", 1)[1]]
    for f in glob.glob(env.store + "*"):
        data = open(f, "rb").read()
        for s in secrets:
            assert s.encode() not in data, f"{s!r} in {f}"
    for text in (out, logs, show):
        for s in secrets:
            assert s not in text
    assert os.stat(env.env["VMIGRATE_SECRET_KEY_FILE"]).st_mode & 0o777 == 0o600
