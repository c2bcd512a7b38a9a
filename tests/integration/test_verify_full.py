"""`vmigrate verify --full` against the real servers (issue 15 part 1): a collection migrated,
then changed in Qdrant through qdrant-client (0.1 % of the points get a new vector or payload,
0.1 % are deleted, 0.1 % new ones added) and one row inserted straight into Milvus through
pymilvus; the diff file must name exactly those ids, each with what the test did to it
(changed -> different, deleted from the source or inserted into Milvus -> extra, added to the
source -> missing), and the counts must agree. An untouched copy reports nothing. Int ids, UUID
ids and mixed ids (a VarChar key holding decimal and UUID text). An interrupted run (Ctrl-C
once a SourceGate has passed a few pages; the gate keeps any read range from ending first)
continues where it stopped and leaves the same diff file, no line twice. Both targets.
"""

import json
import os
import signal
import subprocess
import time
import uuid

import numpy as np
import pytest

from tests.harness.gates import SourceGate
from tests.integration.checks import fresh_source, run_vmigrate, vmigrate_env

N = 3000
K = N // 1000  # 0.1 %


def diff_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def diff_set(path):
    return {(str(d["id"]), d["what"]) for d in diff_lines(path)}


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.base = ["--source", qdrant.url, "--target", milvus.url]
    e.dir = tmp_path_factory.mktemp("verify_full")
    return e


def migrate(env, coll):
    p = run_vmigrate(env.bin, "migrate", *env.base, "-c", coll, "--json", check=True)
    return json.loads(p.stdout)["id"]


def verify(env, coll, diff, *extra, base=None):
    p = run_vmigrate(env.bin, "verify", *(base or env.base), "-c", coll, "--full", "--diff",
                     str(diff), "--json", *extra)
    assert p.returncode in (0, 5), (p.stdout, p.stderr[-1500:])
    return p, json.loads(p.stdout)[0]


def mutate(env, coll, rng):
    """Change, delete and add K points each through qdrant-client; insert one row into Milvus
    through pymilvus. Returns the expected {(id text, what)}."""
    from qdrant_client import models
    recs, _ = env.qc.scroll(coll, limit=N + 10, with_payload=True, with_vectors=True)
    ids = [r.id for r in recs]
    pick = rng.choice(len(ids), 3 * K, replace=False)
    changed = [recs[i] for i in pick[:K]]
    deleted = [ids[i] for i in pick[K:2 * K]]
    expect = set()
    for n, r in enumerate(changed):
        if n % 2 == 0:  # a new vector, same payload
            vec = [float(x) + 0.5 for x in r.vector]
            env.qc.upsert(coll, [models.PointStruct(id=r.id, vector=vec, payload=r.payload)],
                          wait=True)
        else:  # same vector, a changed payload value
            env.qc.upsert(coll, [models.PointStruct(id=r.id, vector=r.vector,
                                                    payload={**r.payload, "g": 1000 + n})],
                          wait=True)
        expect.add((str(r.id), "different"))
    env.qc.delete(coll, points_selector=models.PointIdsList(points=deleted), wait=True)
    expect |= {(str(i), "extra") for i in deleted}
    uuids = isinstance(ids[0], str)
    added = [str(uuid.UUID(int=int(rng.integers(1, 1 << 62)) << 64)) if uuids
             else int(10**13 + n) for n in range(K)]
    env.qc.upsert(coll, [models.PointStruct(id=i, vector=[0.25] * 8, payload={"i": 1, "g": 2})
                         for i in added], wait=True)
    expect |= {(str(i), "missing") for i in added}
    # a row only Milvus has
    only = str(uuid.UUID(int=7 << 100)) if uuids else 10**13 + 999
    pk = [f for f in env.mc.describe_collection(coll)["fields"] if f.get("is_primary")][0]
    varchar = int(pk["type"]) == 21  # DataType.VARCHAR
    env.mc.insert(coll, [{"id": str(only) if varchar else only, "vector": [0.5] * 8, "i": 3}])
    expect.add((str(only), "extra"))
    return expect


@pytest.mark.parametrize("shape", ["ids_int", "ids_uuid", "ids_mixed"])
def test_full_reports_exactly_what_changed(env, shape):
    coll = fresh_source(env.qc, env.mc, shape, n=N, name=f"vfull_{shape}")
    migrate(env, coll)
    clean = env.dir / f"{coll}.clean.jsonl"
    p, r = verify(env, coll, clean, "--readers", "3")
    assert p.returncode == 0, (p.stdout, p.stderr[-2000:], open(clean).read()[:2000])
    assert (r["verdict"], r["missing"], r["extra"], r["different"]) == ("same", 0, 0, 0)
    assert r["compared"] == N and r["source_count"] == N and r["target_count"] == N
    assert r["diff_file"] == str(clean) and diff_lines(clean) == []
    assert not os.path.exists(f"{clean}.state")  # a finished run leaves no state behind

    expect = mutate(env, coll, np.random.default_rng(15))
    diff = env.dir / f"{coll}.jsonl"
    p, r = verify(env, coll, diff, "--readers", "3", "--page-size", "200")
    assert p.returncode == 5, p.stderr
    lines = diff_lines(diff)
    assert diff_set(diff) == expect
    assert len(lines) == len(expect)  # one line per point
    assert r["verdict"] == "different"
    assert (r["missing"], r["extra"], r["different"]) == (K, K + 1, K)
    assert r["source_count"] == N and r["compared"] == N
    assert r["target_count"] == env.mc.query(coll, filter="", output_fields=["count(*)"],
                                             consistency_level="Strong")[0]["count(*)"]
    for d in lines:
        assert d["collection"] == coll and d["target"] == coll
        if d["what"] == "different":
            assert d["field"] in ("vector", "$meta") and d["detail"]
        if shape == "ids_uuid":
            assert isinstance(d["id"], str)
        if shape == "ids_int":
            assert isinstance(d["id"], int)


def test_full_with_job_default_file_and_text_output(env, tmp_path):
    coll = fresh_source(env.qc, env.mc, "ids_int", n=N, name="vfull_job")
    jid = migrate(env, coll)
    expect = mutate(env, coll, np.random.default_rng(3))
    p = subprocess.run([env.bin, "verify", "--full", "--job", jid], capture_output=True,
                       text=True, env=vmigrate_env(), cwd=tmp_path, timeout=600)
    assert p.returncode == 5, p.stderr
    name = f"vmigrate-verify-{jid}-{coll}.jsonl"
    assert f"diff file {name}" in p.stdout and "DIFFERENT" in p.stdout
    assert f"{K} missing, {K + 1} extra, {K} different" in p.stdout
    assert diff_set(tmp_path / name) == expect


def test_interrupted_full_run_continues_to_the_same_file(env):
    coll = fresh_source(env.qc, env.mc, "ids_uuid", n=N, name="vfull_resume")
    migrate(env, coll)
    expect = mutate(env, coll, np.random.default_rng(8))
    diff = env.dir / "resume.jsonl"
    with SourceGate(env.q.url) as gate:
        args = [env.bin, "verify", "--source", gate.url, "--target", env.m.url, "-c", coll,
                "--full", "--diff", str(diff), "--page-size", "100", "--readers", "2", "--json"]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=vmigrate_env())
        deadline = time.monotonic() + 300
        # the gate refuses every page that would end a range: the run cannot finish before
        while gate.counts()[0] < 8:
            assert p.poll() is None, p.communicate()
            assert time.monotonic() < deadline, "the verification read no 8 pages in 300 s"
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert os.path.exists(f"{diff}.state"), err
    first = len(diff_lines(diff))
    p, r = verify(env, coll, diff, "--page-size", "100", "--readers", "2")
    assert p.returncode == 5, p.stderr
    assert r["resumed"] is True
    lines = diff_lines(diff)
    assert len(lines) == len(expect) >= first  # no line twice
    assert diff_set(diff) == expect
    assert (r["missing"], r["extra"], r["different"], r["compared"]) == (K, K + 1, K, N)
    assert not os.path.exists(f"{diff}.state")


def test_diff_without_full_and_file_for_many_collections_are_refused(env, tmp_path):
    p = run_vmigrate(env.bin, "verify", *env.base, "-c", "a", "--diff", "x.jsonl")
    assert p.returncode == 2 and "--diff goes with --full" in p.stderr
    p = run_vmigrate(env.bin, "verify", *env.base, "-c", "a", "--readers", "2")
    assert p.returncode == 2 and "--readers goes with --full" in p.stderr


def test_job_option_verifies_every_point_at_the_finish(env, tmp_path):
    coll = fresh_source(env.qc, env.mc, "ids_int", n=N, name="vfull_opt")
    p = run_vmigrate(env.bin, "migrate", *env.base, "-c", coll, "--verify-full", "--diff",
                     str(tmp_path), "--json", check=True)
    job = json.loads(p.stdout)
    c = job["collections"][0]
    assert c["status"] == "SUCCESSFUL", p.stderr
    v = c["verify"]
    assert v["full"] is True and v["sampled"] == N and v["missing"] == 0
    assert v["extra"] == 0 and v["different"] == 0 and v["target_count"] == N
    assert v["diff_file"] == str(tmp_path / f"vmigrate-verify-{job['id']}-{coll}.jsonl")
    assert diff_lines(v["diff_file"]) == []
    assert job["options"]["verify_full"] is True
    p = run_vmigrate(env.bin, "migrate", *env.base, "-c", coll, "--verify-full", "--no-verify")
    assert p.returncode == 2 and "contradict" in p.stderr


def test_api_job_option_and_full_verify_in_the_background(env, tmp_path):
    import requests
    from tests.integration.test_http_api import Serve
    coll = fresh_source(env.qc, env.mc, "ids_int", n=N, name="vfull_api")
    srv = Serve(env.bin, str(tmp_path))
    try:
        api = lambda m, p, **kw: requests.request(m, srv.url + "/api/v1" + p, timeout=120, **kw)  # noqa: E731
        first, second = tmp_path / "first", tmp_path / "second"
        first.mkdir()
        second.mkdir()
        r = api("POST", "/jobs", json={"source": {"url": env.q.url},
                                       "target": {"url": env.m.url}, "collections": [coll],
                                       "options": {"verify_full": True,
                                                   "verify_diff": str(first)}})
        assert r.status_code == 201, r.text
        jid = r.json()["id"]
        deadline = time.monotonic() + 600
        while (j := api("GET", f"/jobs/{jid}").json())["status"] not in ("SUCCESSFUL", "FAILED"):
            assert time.monotonic() < deadline, j
            time.sleep(0.2)
        assert j["status"] == "SUCCESSFUL", j
        v = j["collections"][0]["verify"]
        assert v["full"] is True and v["sampled"] == N and v["diff_file"].startswith(str(first))
        r = api("POST", "/jobs", json={"source": {"url": env.q.url},
                                       "target": {"url": env.m.url}, "collections": [coll],
                                       "options": {"verify_diff": "rel/dir"}})
        assert r.status_code == 400 and "options.verify_diff" in r.json()["error"]["message"]

        expect = mutate(env, coll, np.random.default_rng(21))
        r = api("POST", f"/jobs/{jid}/verify", json={"full": True, "diff": str(second)})
        assert r.status_code == 202, r.text
        assert r.json()["poll"] == f"/api/v1/jobs/{jid}/verify"
        while (s := api("GET", f"/jobs/{jid}/verify").json())["status"] == "running":
            assert time.monotonic() < deadline + 600, s
            time.sleep(0.2)
        assert s["status"] == "done" and s["verdict"] == "different", s
        c = s["collections"][0]
        assert (c["missing"], c["extra"], c["different"], c["compared"]) == (K, K + 1, K, N)
        assert diff_set(c["diff_file"]) == expect
        assert c["diff_file"] == str(second / f"vmigrate-verify-{jid}-{coll}.jsonl")
        assert api("POST", f"/jobs/{jid}/verify",
                   json={"full": True, "diff": "x.jsonl"}).status_code == 400
    finally:
        srv.stop()
