"""One target collection, one active job (issue 9 items 1 and 5), on both targets, the real
Milvus 2.3.5 server first: it answers CreateCollection for an existing identical collection
with success, which is how concurrent jobs used to pile their rows into one collection.

- 16 jobs naming the same target collection race across two `vmigrate worker` processes and
  `vmigrate serve` (6 created through its HTTP API), all on one job store; a proxy holds
  CreateCollection, so the race is decided by the jobs' progress, not by timing: exactly one
  job reaches CreateCollection, the 15 others fail naming it having written nothing, and
  pymilvus counts exactly the source's distinct ids.
- A job never writes into a collection it did not create, even when the collection appears
  between planning and running.
- A create sequence that fails half-way (CreateIndex refused) drops what it created; index
  parameters out of range and a sparse vector into Milvus 2.3 create nothing.
"""

import json
import os
import signal
import subprocess
import threading
import time

import pytest

from tests.datagen import datagen
from tests.harness.gates import HoldingLedgerProxy
from tests.harness.milvus_proxy import MilvusLedgerProxy
from tests.integration.checks import run_vmigrate, source_points, target_rows
from tests.integration.test_http_api import Serve, call

M23 = pytest.mark.targets("milvus23")  # Lite de-duplicates ids: exactness needs the real server
WAIT_S = 600  # deadline of every wait: only a broken run takes this long
TERMINAL = ("SUCCESSFUL", "FAILED", "CANCELLED")


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.dir = str(tmp_path_factory.mktemp("reserve"))
    e.store = os.path.join(e.dir, "vm.db")  # the store Serve(e.dir) opens too
    e.env = {"VMIGRATE_SECRET_KEY_FILE": os.path.join(e.dir, "secret.key"),
             "XDG_DATA_HOME": os.path.join(e.dir, "data"),
             "XDG_CONFIG_HOME": os.path.join(e.dir, "cfg")}
    return e


def vm(env, *args, check=False):
    return run_vmigrate(env.bin, *args, "--store", env.store, env=env.env, check=check)


def show(env, jid):
    return json.loads(vm(env, "jobs", "show", jid, "--json", check=True).stdout)


def count_star(mc, coll):
    return mc.query(coll, filter="", output_fields=["count(*)"],
                    consistency_level="Strong")[0]["count(*)"]


@M23
def test_sixteen_jobs_one_target_across_workers_and_the_api(env):
    n = 3000
    coll = datagen.generate(env.qc, "ids_int", n=n, name="race_one")
    assert len(source_points(env.qc, coll)) == n
    workers, srv = [], None
    with HoldingLedgerProxy(f"127.0.0.1:{env.m.port}") as px:
        px.hold(before=["CreateCollection"])
        try:
            srv = Serve(env.bin, env.dir)
            api = lambda method, path, **kw: call(srv.url, method, "/api/v1" + path, **kw)
            ids, lock = [], threading.Lock()

            def post():
                r = api("POST", "/jobs", json={"source": {"url": env.q.url},
                                               "target": {"url": px.url},
                                               "collections": [coll],
                                               "options": {"page_size": 500}})
                assert r.status_code == 201, r.text
                with lock:
                    ids.append(r.json()["id"])

            ts = [threading.Thread(target=post) for _ in range(6)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            assert len(ids) == 6
            for _ in range(10):
                p = vm(env, "migrate", "--detach", "--source", env.q.url, "--target", px.url,
                       "-c", coll, "--page-size", "500", check=True)
                ids.append(p.stdout.strip())
            assert len(set(ids)) == 16
            e = dict(os.environ, **env.env, ASAN_OPTIONS="detect_leaks=0")
            for k in range(2):
                log = open(os.path.join(env.dir, f"worker{k}.log"), "w")
                workers.append(subprocess.Popen(
                    [env.bin, "worker", "--concurrency", "8", "--store", env.store, "-q"],
                    env=e, stdout=subprocess.DEVNULL, stderr=log))
            # every job either ended or waits in CreateCollection; before the reservation
            # every running job reached CreateCollection
            deadline = time.monotonic() + WAIT_S
            while True:
                jobs = {j: show(env, j) for j in ids}
                ended = [j for j, v in jobs.items() if v["status"] in TERMINAL]
                held = px.waiting("CreateCollection")
                if len(ended) + held >= 16 or held > 1:
                    break
                assert time.monotonic() < deadline, (
                    f"within {WAIT_S} s: {len(ended)} jobs ended, {held} in CreateCollection")
                time.sleep(0.2)
            assert held == 1, f"{held} jobs sent CreateCollection for one target"
            assert not env.mc.has_collection(coll)
            (winner,) = [j for j in ids if j not in ended]
            for j in ended:
                v = jobs[j]
                assert v["status"] == "FAILED", v
                assert winner in v["error"], v["error"]
                (c,) = v["collections"]
                assert c["error_fix"] == "busy" and c["error_fix_arg"] == winner, c
                assert v["written"] == 0, v
            px.hold()
            while show(env, winner)["status"] not in TERMINAL:
                assert time.monotonic() < deadline, "the holder did not end"
                time.sleep(0.2)
            w = show(env, winner)
            assert w["status"] == "SUCCESSFUL", w
        finally:
            px.hold()
            for w in workers:
                w.send_signal(signal.SIGINT)
            for w in workers:
                w.wait(timeout=120)
            if srv:
                srv.stop()
    assert all(w.returncode == 0 for w in workers)
    assert count_star(env.mc, coll) == n
    rows = target_rows(env.mc, coll)
    assert len(rows) == n and len({r["id"] for r in rows}) == n
    env.mc.drop_collection(coll)


def test_job_never_writes_into_a_collection_it_did_not_create(env):
    """The collection appears between `migrate --detach` (planned: absent) and the run."""
    src = datagen.generate(env.qc, "ids_int", name=f"foreign_src_{env.m.target}")
    target = "foreign_target"
    p = vm(env, "migrate", "--detach", "--source", env.q.url, "--target", env.m.url, "-c", src,
           "--target-name", f"{src}={target}", check=True)
    jid = p.stdout.strip()
    # someone else makes an identical-looking collection meanwhile, with one row of their own
    from pymilvus import DataType, MilvusClient
    dim = len(env.qc.scroll(src, limit=1, with_vectors=True)[0][0].vector)
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    env.mc.create_collection(target, schema=schema)
    env.mc.insert(target, [{"id": 424242, "vector": [0.5] * dim}])
    env.mc.flush(target)
    r = vm(env, "jobs", "resume", jid)
    assert r.returncode != 0
    j = show(env, jid)
    assert j["status"] == "FAILED" and "did not create it" in (j.get("error") or ""), j
    assert [c["error_fix"] for c in j["collections"]] == ["target_name"], j
    idx = env.mc.prepare_index_params()
    idx.add_index(field_name="vector", index_type="FLAT", metric_type="COSINE")
    env.mc.create_index(target, idx)
    env.mc.load_collection(target)
    rows = env.mc.query(target, filter="", output_fields=["count(*)"])
    assert rows[0]["count(*)"] == 1  # still only their row
    env.mc.drop_collection(target)


def _varint(x):
    out = b""
    while True:
        b, x = x & 0x7F, x >> 7
        out += bytes([b | (0x80 if x else 0)])
        if not x:
            return out


class RefusingCreateIndex(MilvusLedgerProxy):
    """Answers CreateIndex with a permanent Milvus status (code 1100, invalid parameter),
    as a server does for index parameters it does not take; everything else passes."""

    REASON = b"invalid parameter[key=M][value=9999] (refused by the test's proxy)"

    def _forward(self, method, req, ctx):
        if method.endswith("/CreateIndex"):
            return (b"\x08" + _varint(5) + b"\x12" + _varint(len(self.REASON)) + self.REASON
                    + b"\x18" + _varint(1100))
        return super()._forward(method, req, ctx)


def test_create_sequence_failing_half_way_leaves_nothing(env):
    coll = datagen.generate(env.qc, "ids_int", n=200, name="half_way")
    with RefusingCreateIndex(f"127.0.0.1:{env.m.port}") as px:
        r = vm(env, "migrate", "--source", env.q.url, "--target", px.url, "-c", coll)
    assert r.returncode != 0
    assert "invalid parameter[key=M]" in r.stderr, r.stderr
    assert f"the empty target collection '{coll}' this job had created was dropped again" \
        in r.stderr, r.stderr
    assert not env.mc.has_collection(coll)


@pytest.mark.parametrize("hnsw,needle", [({"m": -1}, "hnsw.m"), ({"m": 1}, "hnsw m must be 2..2048"),
                                         ({"ef_construct": 0}, "ef_construct")])
def test_index_parameters_out_of_range_create_nothing(env, tmp_path, hnsw, needle):
    src = datagen.generate(env.qc, "ids_int", name=f"hnswrange_src_{env.m.target}")
    p = run_vmigrate(env.bin, "plan", "--source", env.q.url, "--target", env.m.url, "-c", src,
                     "--index", "hnsw", "--json", check=True)
    plan = json.loads(p.stdout)
    for c in plan["collections"]:
        c["target"] = "hnswrange_target"
        for v in c["vectors"]:
            v["hnsw"] = dict({"m": 16, "ef_construct": 100}, **hnsw)
    f = tmp_path / "plan.json"
    f.write_text(json.dumps(plan))
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "--plan", str(f),
           "--index", "hnsw")
    assert p.returncode == 2 and needle in p.stderr, p.stderr
    assert not env.mc.has_collection("hnswrange_target")


@M23
def test_sparse_vector_into_milvus_23_is_refused_before_creating(env, tmp_path):
    coll = datagen.generate(env.qc, "sparse_only", name="caps_sparse")
    r = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", coll)
    assert r.returncode != 0
    assert "has no sparse vectors" in r.stderr and "Milvus 2.3.5" in r.stderr, r.stderr
    assert not env.mc.has_collection(coll)
    # a plan file made against another target (Milvus Lite plans sparse vectors) is refused
    # the same way by the 2.3 server before anything is created
    p = run_vmigrate(env.bin, "plan", "--source", env.q.url, "--target", env.m.url, "-c", coll,
                     "--json", env=env.env)
    plan = json.loads(p.stdout)
    plan["collections"][0].pop("error", None)  # as if planned against Milvus Lite
    f = tmp_path / "plan.json"
    f.write_text(json.dumps(plan))
    r = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "--plan", str(f))
    assert r.returncode != 0
    assert "has no sparse vectors" in r.stderr, r.stderr
    assert not env.mc.has_collection(coll)
