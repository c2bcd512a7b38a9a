"""One target collection, one active job (issue 9 items 1 and 5), on both targets, the real
Milvus 2.3.5 server first: it answers CreateCollection for an existing identical collection
with success, which is how concurrent jobs used to pile their rows into one collection.

- 16 jobs naming the same target collection race across two `vmigrate worker` processes and
  `vmigrate serve` (jobs created through its HTTP API too), all on one job store: exactly one
  job succeeds, every other one is refused (at creation, or FAILED naming the job that holds
  the target / saying it exists), and pymilvus counts exactly the source's distinct ids.
- A job never writes into a collection it did not create, even when the collection appears
  between planning and running.
- A create sequence that fails half-way (CreateIndex refused) drops what it created.
"""

import json
import os
import signal
import subprocess
import time

import pytest
import requests

from tests.datagen import datagen
from tests.integration.checks import compare, run_vmigrate
from tests.integration.test_http_api import Serve

ONE = {"": ("vector", "dense")}
ENDED = {"SUCCESSFUL", "FAILED", "CANCELLED"}


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


def test_sixteen_jobs_one_target_exactly_one_writes(env):
    src = datagen.generate(env.qc, "paging_100k", n=3000, name=f"race_src_{env.m.target}")
    target = "race_target"
    ids = []
    for _ in range(10):  # queued before anything runs
        p = vm(env, "migrate", "--detach", "--source", env.q.url, "--target", env.m.url,
               "-c", src, "--target-name", f"{src}={target}", check=True)
        ids.append(p.stdout.strip())
    e = dict(os.environ, **env.env, ASAN_OPTIONS="detect_leaks=0")
    srv = Serve(env.bin, env.dir)  # a worker inside, concurrency 2, on the same store
    workers = [subprocess.Popen([env.bin, "worker", "--concurrency", "4", "--store", env.store,
                                 "-q"], env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for _ in range(2)]
    refused_at_creation = []
    try:
        for _ in range(6):  # and created through the API while the others run
            r = requests.post(srv.url + "/api/v1/jobs", timeout=120, json={
                "source": {"url": env.q.url}, "target": {"url": env.m.url},
                "collections": [src],
                "edits": [{"kind": "target-name", "value": f"{src}={target}"}]})
            if r.status_code in (200, 201, 202):
                ids.append(r.json()["id"])
            else:  # the target already exists by now: refused before a job is made
                assert r.status_code in (409, 422), r.text
                refused_at_creation.append(r.json())
        deadline = time.monotonic() + 900
        while True:
            jobs = {j: show(env, j) for j in ids}
            if all(x["status"] in ENDED for x in jobs.values()):
                break
            assert time.monotonic() < deadline, {j: x["status"] for j, x in jobs.items()}
            time.sleep(0.5)
    finally:
        for w in workers:
            w.send_signal(signal.SIGINT)
        for w in workers:
            w.communicate(timeout=120)
        srv.stop()
    won = [j for j, x in jobs.items() if x["status"] == "SUCCESSFUL"]
    assert len(won) == 1, {j: (x["status"], x.get("error")) for j, x in jobs.items()}
    for j, x in jobs.items():
        if j in won:
            continue
        assert x["status"] == "FAILED", x
        err = x.get("error") or ""
        assert (f"is being written by job {won[0]}" in err or "already exists" in err
                or "is being written by job" in err), err
    # the target holds exactly the source's points, once each
    n = env.qc.count(src, exact=True).count
    env.mc.load_collection(target)
    rows = env.mc.query(target, filter="", output_fields=["count(*)"])
    assert rows[0]["count(*)"] == n
    got = env.mc.query(target, filter="id >= 0", output_fields=["id"], limit=16384)
    assert len({r["id"] for r in got}) == n == len(got)
    compare(env.qc, env.mc, src, target, ONE)


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
    assert "--target-name" in j["error"]
    idx = env.mc.prepare_index_params()
    idx.add_index(field_name="vector", index_type="FLAT", metric_type="COSINE")
    env.mc.create_index(target, idx)
    env.mc.load_collection(target)
    rows = env.mc.query(target, filter="", output_fields=["count(*)"])
    assert rows[0]["count(*)"] == 1  # still only their row
    env.mc.drop_collection(target)


def test_index_refused_after_create_drops_the_collection(env, tmp_path):
    """ef_construct far out of the server's range: CreateIndex fails after CreateCollection;
    the job takes back the collection it made and says so."""
    src = datagen.generate(env.qc, "ids_int", name=f"badindex_src_{env.m.target}")
    p = run_vmigrate(env.bin, "plan", "--source", env.q.url, "--target", env.m.url, "-c", src,
                     "--index", "hnsw", "--json", check=True)
    plan = json.loads(p.stdout)
    for c in plan["collections"]:
        c["target"] = "badindex_target"
        for v in c["vectors"]:
            v["hnsw"] = {"m": 16, "ef_construct": 1000000000}
    f = tmp_path / "plan.json"
    f.write_text(json.dumps(plan))
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "--plan", str(f),
           "--index", "hnsw")
    if p.returncode == 0:  # a server that takes it built the index: nothing to take back
        assert env.mc.has_collection("badindex_target")
        pytest.skip(f"{env.m.target} accepts ef_construct = 10^9")
    assert "dropped again" in p.stderr, p.stderr
    assert not env.mc.has_collection("badindex_target")


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
