"""Searchable as soon as the data is in (issue 10 item 6), on the real Milvus 2.3.5 server: the
job loads and verifies a collection right after its last Flush and leaves the index build to the
server; it waits for the build only with `--wait-index` (API: options.wait_index).

Every outcome is read back through pymilvus: the collection is Loaded, count(*) (Strong) equals
the source count, a search returns hits, and the index progress the job stored (`jobs show
--json`, GET /api/v1/jobs/{id}: index_rows, index_total, index_built per collection) is never
ahead of what utility.index_building_progress reports afterwards (the build only moves forward).
With --wait-index the job ends only when pymilvus reports every row indexed. Nothing here waits
on the clock to decide anything: the index build is as slow as the server makes it, and only
the consistency of what the job says with what Milvus says is asserted.
"""

import json
import os
import re
import time

import numpy as np
import pytest

from tests.harness.milvus_proxy import MilvusLedgerProxy
from tests.integration.checks import run_vmigrate
from tests.integration.test_http_api import Serve, call, wait_job

pytestmark = pytest.mark.targets("milvus23")  # the index build of the real server

N = 30_000  # 30 000 x 128-d: a build that takes the 2.3.5 server a while after the Flush
DIM = 128
SMALL = 3_000
WAIT_S = 900  # deadline of the wait for the server's build: only a broken server takes this long


def grouped(n):
    return f"{n:,}".replace(",", " ")


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    from pymilvus import connections

    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.dir = str(tmp_path_factory.mktemp("index"))
    e.store = os.path.join(e.dir, "vm.db")  # the store `Serve` opens: the API sees CLI jobs
    e.env = {"VMIGRATE_SECRET_KEY_FILE": os.path.join(e.dir, "secret.key"),
             "ASAN_OPTIONS": "detect_leaks=0"}
    e.alias = "index_trailing"
    connections.connect(alias=e.alias, uri=milvus.url)
    e.big = make_source(qdrant_client, "idx_trail_src", N, seed=1)
    e.small = make_source(qdrant_client, "idx_trail_small", SMALL, seed=2)
    # the first point's vector of each source: the query of the search checks
    e.vectors = {name: list(qdrant_client.retrieve(name, ids=[1], with_vectors=True)[0].vector)
                 for name in (e.big, e.small)}
    yield e
    connections.disconnect(e.alias)


def make_source(qc, name, n, seed):
    """A Qdrant collection of n random 128-d vectors (Euclid), ids 1..n, payload {"i": id}."""
    from qdrant_client import models
    if qc.collection_exists(name):
        qc.delete_collection(name)
    qc.create_collection(name, vectors_config=models.VectorParams(
        size=DIM, distance=models.Distance.EUCLID))
    rng = np.random.default_rng(seed)
    vecs = rng.standard_normal((n, DIM), dtype=np.float32)
    for start in range(0, n, 1000):
        qc.upsert(name, points=models.Batch(
            ids=list(range(start + 1, min(n, start + 1000) + 1)),
            vectors=vecs[start:start + 1000].tolist(),
            payloads=[{"i": i} for i in range(start + 1, min(n, start + 1000) + 1)]), wait=True)
    assert qc.count(name, exact=True).count == n
    return name


def vm(env, *args, check=False, timeout=900):
    return run_vmigrate(env.bin, *args, "--store", env.store, env=env.env, check=check,
                        timeout=timeout)


def drop(env, name):
    if env.mc.has_collection(name):
        env.mc.drop_collection(name)


def live_progress(env, name):
    from pymilvus import utility
    p = utility.index_building_progress(name, using=env.alias)
    return int(p["indexed_rows"]), int(p["total_rows"])


def assert_searchable(env, name, n, src):
    from pymilvus import utility
    from pymilvus.client.types import LoadState
    assert utility.load_state(name, using=env.alias) == LoadState.Loaded
    rows = env.mc.query(name, filter="", output_fields=["count(*)"],
                        consistency_level="Strong")
    assert rows[0]["count(*)"] == n, rows
    hits = env.mc.search(name, data=[env.vectors[src]], limit=5,
                         output_fields=["i"], consistency_level="Strong")
    assert len(hits[0]) == 5, hits
    assert all(1 <= h["id"] <= n and h["entity"]["i"] == h["id"] for h in hits[0]), hits


def migrate(env, src, dst, *extra):
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", src,
           "--target-name", f"{src}={dst}", "--index", "hnsw", *extra)
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stderr[-4000:]}"
    m = re.search(r"vmigrate: job (\S+) ", p.stderr)
    assert m, p.stderr[-2000:]
    return m.group(1), p


def job_json(env, jid):
    return json.loads(vm(env, "jobs", "show", jid, "--json", check=True).stdout)


def test_done_once_loaded_and_verified_index_trailing(env):
    """Without --wait-index the job ends SUCCESSFUL with the collection loaded, complete and
    searchable; the index progress it stored is at most what Milvus reports afterwards."""
    dst = "idx_trailing"
    drop(env, dst)
    jid, p = migrate(env, env.big, dst)
    j = job_json(env, jid)  # read first: the build only moves forward after this
    indexed, total = live_progress(env, dst)
    assert j["status"] == "SUCCESSFUL", j
    assert j["options"]["wait_index"] is False
    c = j["collections"][0]
    assert c["status"] == "SUCCESSFUL" and c["verify"]["target_count"] == N, c
    assert_searchable(env, dst, N, env.big)
    assert total == N
    assert c["index_total"] == N, c
    assert 0 <= c["index_rows"] <= indexed <= total, (c, indexed, total)
    assert c["index_rows"] == c["state"]["index_rows"] and c["index_built"] == c["state"]["index_built"]
    if c["index_built"]:
        assert c["index_rows"] == N and indexed == N
    # the CLI showed the build's progress, in the words of the INDEXING phase
    assert f"indexing: {grouped(c['index_rows'])} / {grouped(N)} rows" in p.stderr, p.stderr[-3000:]
    text = vm(env, "jobs", "show", jid, check=True).stdout
    if c["index_built"]:
        assert f"index: built ({N} rows)" in text, text
    else:
        assert (f"index: building: {c['index_rows']} of {N} rows indexed when the job ended - "
                "searchable now") in text, text
        assert "searchable now, index building in Milvus" in p.stderr, p.stderr[-3000:]
    env.trailing_job = jid


def test_refresh_index_asks_milvus(env):
    """`jobs show --refresh-index` reports the live build of the finished collection: never
    behind what the job stored, never ahead of pymilvus, and built once pymilvus says every row
    is indexed (the build is followed to its end; nothing is stored)."""
    jid = env.trailing_job
    stored = job_json(env, jid)["collections"][0]
    deadline = time.monotonic() + WAIT_S
    last = stored["index_rows"]
    while True:
        p = vm(env, "jobs", "show", jid, "--json", "--refresh-index", check=True)
        c = json.loads(p.stdout)["collections"][0]
        indexed, total = live_progress(env, "idx_trailing")
        assert c["index_total"] == total == N, c
        assert last <= c["index_rows"] <= indexed, (last, c, indexed)
        last = c["index_rows"]
        if stored["index_built"]:  # built before the job ended: nothing to ask
            assert c["index_live"] is False and c["index_built"] is True, c
            break
        assert c["index_live"] is True, c
        if c["index_built"]:
            assert c["index_rows"] == indexed == N, c
            break
        assert time.monotonic() < deadline, f"index of idx_trailing not built in {WAIT_S} s: {c}"
        time.sleep(0.5)
    text = vm(env, "jobs", "show", jid, "--refresh-index", check=True).stdout
    assert f"index: built ({N} rows)" in text, text
    # nothing was written: the stored progress is still the job's own
    assert job_json(env, jid)["collections"][0]["index_rows"] == stored["index_rows"]


def test_wait_index_holds_the_job_until_built(env):
    dst = "idx_waited"
    drop(env, dst)
    jid, p = migrate(env, env.big, dst, "--wait-index")
    j = job_json(env, jid)
    assert j["status"] == "SUCCESSFUL" and j["options"]["wait_index"] is True, j
    c = j["collections"][0]
    assert c["index_built"] is True and c["index_rows"] == c["index_total"] == N, c
    indexed, total = live_progress(env, dst)
    assert indexed == total == N
    assert_searchable(env, dst, N, env.big)
    assert f"index: built ({N} rows)" in vm(env, "jobs", "show", jid, check=True).stdout
    assert "; index built" in p.stderr, p.stderr[-2000:]


def test_api_job_fields_and_wait_index_option(env):
    srv = Serve(env.bin, env.dir)
    try:
        api = lambda method, path, **kw: call(srv.url, method, "/api/v1" + path, **kw)  # noqa: E731
        srv.api = api  # what wait_job polls through
        dst = "idx_api_waited"
        drop(env, dst)
        body = {"source": {"url": env.q.url}, "target": {"url": env.m.url},
                "collections": [env.small],
                "options": {"index": "hnsw", "wait_index": "yes"}}
        r = api("POST", "/jobs", json=body)
        assert r.status_code == 400 and "options.wait_index" in r.json()["error"]["message"], r.text
        assert not env.mc.has_collection(dst)
        plan = api("POST", "/plan", json={"source": body["source"], "target": body["target"],
                                          "collections": [env.small],
                                          "options": {"index": "hnsw"}}).json()
        plan["collections"][0]["target"] = dst
        r = api("POST", "/jobs", json={"source": body["source"], "target": body["target"],
                                       "plan": plan, "options": {"wait_index": True}})
        assert r.status_code == 201, r.text
        j = wait_job(srv, r.json()["id"], timeout=900)
        assert j["status"] == "SUCCESSFUL" and j["options"]["wait_index"] is True, j
        c = j["collections"][0]
        assert c["index_built"] is True and c["index_rows"] == c["index_total"] == SMALL, c
        assert live_progress(env, dst) == (SMALL, SMALL)
        assert_searchable(env, dst, SMALL, env.small)
        # the CLI's job (the tests above): its finished build asked live through the API
        if hasattr(env, "trailing_job"):
            g = api("GET", f"/jobs/{env.trailing_job}?index=live")
            assert g.status_code == 200, g.text
            gc = g.json()["collections"][0]
            assert gc["index_built"] is True and gc["index_rows"] == gc["index_total"] == N, gc
            assert live_progress(env, "idx_trailing") == (N, N)
        bad = api("GET", f"/jobs/{r.json()['id']}?index=soon")
        assert bad.status_code == 400 and "index must be live or stored" in bad.text, bad.text
        # every job carries the fields in the API's answer
        jobs = api("GET", "/jobs").json()["jobs"]
        for jj in jobs:
            g = api("GET", f"/jobs/{jj['id']}").json()
            for gc in g["collections"]:
                assert {"index_rows", "index_total", "index_built"} <= set(gc), gc
                assert gc["index_rows"] <= gc["index_total"] or gc["index_total"] == 0, gc
    finally:
        srv.stop()


def test_a_build_that_does_not_move(env):
    """A server whose index build does not move (a proxy answers DescribeIndex with 0 rows
    indexed, InProgress): without --wait-index the job still ends SUCCESSFUL, loaded and
    searchable, with index_built false - it did not wait; `--refresh-index` then asks Milvus
    (index_live) and reports the build once it moves. With --wait-index the job stays in its
    indexing phase for as long as the build does not move, and ends once it does, with every
    row indexed as pymilvus reads it."""
    import subprocess
    dst, held = "idx_stalled", "idx_stalled_wait"
    drop(env, dst)
    drop(env, held)
    with MilvusLedgerProxy(f"127.0.0.1:{env.m.port}") as px:
        px.stall_index = True
        p = vm(env, "migrate", "--source", env.q.url, "--target", px.url, "-c", env.small,
               "--target-name", f"{env.small}={dst}", "--index", "hnsw")
        assert p.returncode == 0, p.stderr[-3000:]
        jid = re.search(r"vmigrate: job (\S+) ", p.stderr).group(1)
        c = job_json(env, jid)["collections"][0]
        assert c["status"] == "SUCCESSFUL" and not c["index_built"] and c["index_rows"] == 0, c
        assert c["index_total"] == SMALL, c
        assert_searchable(env, dst, SMALL, env.small)
        c = json.loads(vm(env, "jobs", "show", jid, "--json", "--refresh-index",
                          check=True).stdout)["collections"][0]
        assert c["index_live"] is True and not c["index_built"], c

        # --wait-index: held in the indexing phase while the build does not move
        e = dict(os.environ, **env.env)
        w = subprocess.Popen([env.bin, "migrate", "--source", env.q.url, "--target", px.url,
                              "-c", env.small, "--target-name", f"{env.small}={held}",
                              "--index", "hnsw", "--wait-index", "--store", env.store, "-q"],
                             env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + WAIT_S
            while True:
                jobs = json.loads(vm(env, "jobs", "--json", check=True).stdout)
                mine = [j for j in jobs if j["collections"][0]["target"] == held]
                if mine:
                    c = job_json(env, mine[0]["id"])["collections"][0]
                    if c["phase"] == "indexing" and c["index_total"] == SMALL:
                        break
                assert w.poll() is None, f"the job ended while the build did not move: " \
                                         f"{w.stderr.read()[-2000:]}"
                assert time.monotonic() < deadline, "the job never reached its index wait"
                time.sleep(0.2)
            assert job_json(env, mine[0]["id"])["status"] == "IN_PROGRESS"
            assert_searchable(env, held, SMALL, env.small)  # loaded while it waits
            px.stall_index = False  # the build moves: the job ends once it is done
            assert w.wait(timeout=WAIT_S) == 0, w.stderr.read()[-3000:]
        finally:
            if w.poll() is None:
                w.kill()
                w.wait()
        c = job_json(env, mine[0]["id"])["collections"][0]
        assert c["status"] == "SUCCESSFUL" and c["index_built"] and c["index_rows"] == SMALL, c
        assert live_progress(env, held) == (SMALL, SMALL)
        # and the first job's build, asked again now that it moves
        while True:
            c = json.loads(vm(env, "jobs", "show", jid, "--json", "--refresh-index",
                              check=True).stdout)["collections"][0]
            if c["index_built"]:
                break
            assert time.monotonic() < deadline, f"the build of {dst} never ended: {c}"
            time.sleep(0.5)
        assert live_progress(env, dst) == (SMALL, SMALL)
