"""Permanent Milvus errors and bounded waits (issue 9, items 2 and 4), against the real Milvus
2.3.5 server ("milvus23") and, where the answer differs, Milvus Lite ("lite").

Item 2: a --db naming a database the server does not have fails at once with the server's
reason, the database and the way out (`plan` too, with a nonzero exit); nothing is retried
(vmigrate logs every retry as "retry N in M ms", so the test counts them instead of timing
the run), and nothing is created. An existing database still works, read back through pymilvus.

Item 4: the index-build wait is bounded by --wait-timeout (a tiny bound against a real build on
the real server fails naming the wait and the option), and a SIGINT sent when the job reports
its 'indexing' phase ends the job while the build is still running: the collection is left
unloaded (read through pymilvus), which it would not be had the wait run to its end. The build
is made slow on purpose (many 768-dim rows, HNSW with Qdrant's m=64 / ef_construct=512), so no
wall clock decides anything.
"""

import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest
from pymilvus import MilvusClient
from qdrant_client import models

from tests.harness.gates import HoldingLedgerProxy
from tests.integration.checks import run_vmigrate, vmigrate_env

REAL = pytest.mark.targets("milvus23")
SMALL = "errs_small"
BIG = "errs_big"
BIG_N = 30000
DIM = 768
WAIT_S = 600  # generous deadline of every subprocess: only a broken (retrying) run needs it


def _load(qc, name, n, hnsw=None):
    if qc.collection_exists(name):  # the Qdrant server is shared by both Milvus targets
        return
    qc.create_collection(name, vectors_config=models.VectorParams(size=DIM,
                                                                  distance=models.Distance.COSINE),
                         hnsw_config=hnsw)
    rng = np.random.default_rng(7)
    for lo in range(0, n, 1000):
        hi = min(n, lo + 1000)
        vecs = rng.random((hi - lo, DIM), dtype=np.float32)
        qc.upsert(name, points=models.Batch(ids=list(range(lo, hi)), vectors=vecs.tolist(),
                                            payloads=[{"i": i} for i in range(lo, hi)]),
                  wait=True)


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin):
    _load(qdrant_client, SMALL, 200)

    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.base = ["--source", qdrant.url, "--target", milvus.url]
    return e


def retries(stderr):
    return [ln for ln in stderr.splitlines() if "; retry " in ln]


def test_migrate_missing_db_fails_at_once(env):
    p = run_vmigrate(env.bin, "migrate", *env.base, "--db", "nosuchdb", "-c", SMALL,
                     timeout=WAIT_S)
    assert p.returncode not in (0, 130), p.stderr
    assert "nosuchdb" in p.stderr and "--db" in p.stderr, p.stderr
    assert "does not exist" in p.stderr, p.stderr
    assert retries(p.stderr) == [], p.stderr
    # nothing made: no such database appeared, no collection in the default one
    assert "nosuchdb" not in env.mc.list_databases()
    assert not env.mc.has_collection(SMALL)


def test_plan_missing_db_exits_nonzero(env):
    p = run_vmigrate(env.bin, "plan", *env.base, "--db", "nosuchdb", "-c", SMALL,
                     timeout=WAIT_S)
    assert p.returncode not in (0, 130), (p.returncode, p.stdout, p.stderr)
    assert "nosuchdb" in p.stderr and "--db" in p.stderr, p.stderr
    assert retries(p.stderr) == [], p.stderr


def test_existing_db_still_works(env):
    env.mc.create_database("otherdb")
    run_vmigrate(env.bin, "plan", *env.base, "--db", "otherdb", "-c", SMALL, check=True)
    run_vmigrate(env.bin, "migrate", *env.base, "--db", "otherdb", "-c", SMALL, check=True,
                 timeout=WAIT_S)
    c = MilvusClient(uri=env.m.url, db_name="otherdb")
    try:
        rows = c.query(SMALL, filter="id >= 0", output_fields=["id"], limit=1000)
        assert sorted(r["id"] for r in rows) == list(range(200))
    finally:
        c.close()
    assert not env.mc.has_collection(SMALL)  # went into otherdb, not default


def test_collection_made_by_someone_else_meanwhile_is_refused(env):
    """Between vmigrate's HasCollection and its CreateCollection someone else creates the
    collection (held there by a proxy, no clock). Milvus Lite answers code 1 "already exists",
    real Milvus refuses the other schema: permanent, not retried, and vmigrate does not take the
    stranger's collection for its own (it holds none of vmigrate's rows)."""
    name = "errs_taken"
    e = vmigrate_env()
    with HoldingLedgerProxy(f"127.0.0.1:{env.m.port}") as px:
        px.hold(before=["CreateCollection"])
        proc = subprocess.Popen([env.bin, "migrate", "--source", env.q.url, "--target", px.url,
                                 "-c", SMALL, "--target-name", f"{SMALL}={name}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
        try:
            deadline = time.monotonic() + WAIT_S
            while not px.waiting("CreateCollection"):
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "vmigrate never sent CreateCollection"
                time.sleep(0.05)
            env.mc.create_collection(name, dimension=8)  # another schema: someone else's
            px.hold()
            _, err = proc.communicate(timeout=WAIT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode not in (0, 130), err
    assert "already exists" in err and name in err, err
    assert retries(err) == [], err
    env.mc.flush(name)
    assert env.mc.get_collection_stats(name)["row_count"] == 0
    dims = [f["params"].get("dim") for f in env.mc.describe_collection(name)["fields"]
            if f.get("params", {}).get("dim")]
    assert dims == [8]


@pytest.fixture(scope="module")
def big(env):
    if env.m.target != "milvus23":
        pytest.skip("real server only")
    # slow on purpose: HNSW with a large graph degree and build beam over 30k x 768 rows
    _load(env.qc, BIG, BIG_N, hnsw=models.HnswConfigDiff(m=64, ef_construct=512))
    return BIG


def _index_progress(mc, name):
    d = mc.describe_index(name, mc.list_indexes(name)[0])
    return int(d.get("indexed_rows", 0)), int(d.get("total_rows", 0)), str(d.get("state"))


@REAL
def test_index_wait_bound_is_honoured(env, big):
    name = "errs_bound"
    p = run_vmigrate(env.bin, "migrate", *env.base, "-c", big, "--target-name", f"{big}={name}",
                     "--index", "hnsw", "--wait-index", "--wait-timeout", "1", "--no-verify",
                     timeout=WAIT_S)
    assert p.returncode not in (0, 130), p.stderr
    # the wait that ran out (the flush of the copied rows, the load, or the index build)
    # is named, with the option that bounds it
    assert "--wait-timeout" in p.stderr and "after 1 s" in p.stderr, p.stderr
    assert f"collection '{name}'" in p.stderr, p.stderr
    assert any(w in p.stderr for w in ("not built after 1 s", "flush of collection",
                                       "not loaded after 1 s")), p.stderr
    # every row was copied; only the wait was cut short
    assert env.mc.get_collection_stats(name)["row_count"] == BIG_N


@REAL
def test_cancel_during_index_wait_ends_the_job(env, big):
    name = "errs_cancel"
    e = vmigrate_env()
    proc = subprocess.Popen([env.bin, "migrate", *env.base, "-c", big, "--target-name",
                             f"{big}={name}", "--index", "hnsw", "--wait-index", "--json",
                             "--no-verify"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    lines = []
    try:
        for ln in proc.stderr:
            lines.append(ln)
            if ln.startswith("{"):
                ev = json.loads(ln)
                if ev.get("event") == "progress" and ev.get("phase") == "indexing":
                    proc.send_signal(signal.SIGINT)
                    break
        else:
            pytest.fail("the job never reported 'indexing':\n" + "".join(lines[-40:]))
        _, rest = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(lines) + (rest or "")
    assert proc.returncode == 130, err
    assert "cancelled" in err, err
    # the job ended inside the wait for the build; the collection was loaded (searchable)
    # before it, with every row
    assert "Loaded" in str(env.mc.get_load_state(name)["state"]), err
    # (row_count of get_collection_stats counts persisted segments only: the cancel may land
    # while the last flush is being persisted, so count what a search sees)
    got = env.mc.query(name, filter="", output_fields=["count(*)"],
                       consistency_level="Strong")[0]["count(*)"]
    assert got == BIG_N, (got, err[-2000:])
