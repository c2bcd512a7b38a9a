"""Search parity (`vmigrate verify --search N`, issue 15 part 3): after a migration, N sample
queries run as exact searches on Qdrant and as Milvus Search on the target must find the same
top-k ids. The figures vmigrate prints are asserted, and a few queries are run again here with
the official clients (qdrant-client exact query_points vs pymilvus search) so the check does not
rest on vmigrate's word. A negative test corrupts target vectors with pymilvus and expects the
command to say "different" (exit 5, as verify's).
"""

import json

import numpy as np
import pytest

from tests.datagen import datagen
from tests.integration.checks import run_vmigrate

W1 = "single_cosine_768"  # 768-d cosine, like bench W1
NAMED = "named_mixed"     # dense64 Dot, dense32 Euclid, sparse (Milvus Lite only)
LITE = pytest.mark.targets("lite")
N_W1 = 3000


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin):
    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.base = ["--source", qdrant.url, "--target", milvus.url]
    e.lite = milvus.target == "lite"
    e.w1 = datagen.generate(qdrant_client, W1, n=N_W1, seed=3)
    run_vmigrate(vmigrate_bin, "migrate", *e.base, "-c", e.w1, "--quiet", check=True)
    if e.lite:
        e.named = datagen.generate(qdrant_client, NAMED, seed=3)
        run_vmigrate(vmigrate_bin, "migrate", *e.base, "-c", e.named, "--quiet", check=True)
    return e


def search_json(env, coll, *extra):
    p = run_vmigrate(env.bin, "verify", *env.base, "-c", coll, "--search", "20", "--json",
                     *extra)
    doc = json.loads(p.stdout)
    assert len(doc) == 1 and doc[0]["collection"] == coll
    return p, doc[0]


def client_topk(env, coll, vec_name, field, pid, k=10, metric="COSINE"):
    """(qdrant ids, milvus ids) of the k nearest to point pid's vector, through the clients."""
    from qdrant_client import models
    rec = env.qc.retrieve(coll, [pid], with_vectors=True)[0]
    vec = rec.vector if vec_name == "" else rec.vector[vec_name]
    q = env.qc.query_points(coll, query=vec, using=vec_name or None, limit=k,
                            search_params=models.SearchParams(exact=True))
    qids = [p.id for p in q.points]
    mres = env.mc.search(coll, data=[vec], anns_field=field, limit=k,
                         search_params={"metric_type": metric, "params": {"ef": 512}},
                         consistency_level="Strong")
    mids = [h["id"] for h in mres[0]]
    return qids, mids, [p.score for p in q.points], [h["distance"] for h in mres[0]]


def test_w1_search_parity_is_one(env):
    p, row = search_json(env, env.w1)
    assert p.returncode == 0, p.stderr
    s = row["search"]
    assert s["ok"] and s["verdict"] == "same" and s["k"] == 10
    (f,) = s["fields"]
    assert f["field"] == "vector" and f["compared"]
    assert f["queries"] == 20 and f["min_overlap"] == 1.0 and f["mean_overlap"] == 1.0
    assert f["identical"] == 20
    assert f["differences"] == 0 and f["index_misses"] == 0 and f["diff_point"] is None
    assert f["max_score_diff"] is not None and f["max_score_diff"] < 1e-4
    # the text form says the same
    t = run_vmigrate(env.bin, "verify", *env.base, "-c", env.w1, "--search", "5", "--top-k", "7")
    assert t.returncode == 0, t.stderr
    assert "search top-7: same" in t.stdout
    assert "field 'vector': 5 queries, overlap mean 1.0000 min 1.0000, identical 5/5" in t.stdout


def test_w1_cross_check_with_clients(env):
    """A few queries by hand: qdrant-client exact search and pymilvus search agree."""
    rng = np.random.default_rng(11)
    for pid in rng.choice(N_W1, size=4, replace=False):
        qids, mids, qs, ms = client_topk(env, env.w1, "", "vector", int(pid))
        assert qids == mids, (pid, qids, mids)
        assert qids[0] == int(pid)  # the query point is its own nearest
        assert np.allclose(qs, ms, atol=1e-4)


@LITE
def test_named_vectors_parity_on_lite(env):
    p, row = search_json(env, env.named)
    assert p.returncode == 0, p.stdout + p.stderr
    fields = {f["field"]: f for f in row["search"]["fields"]}
    assert set(fields) == {"dense64", "dense32", "sparse"}
    for name in ("dense64", "dense32"):
        f = fields[name]
        assert f["compared"] and f["queries"] > 0 and f["min_overlap"] == 1.0, f
        assert f["max_score_diff"] < 1e-3, f  # Euclid: Milvus's squared L2 converted back
    sp = fields["sparse"]
    assert sp["compared"] or sp["reason"], sp
    if sp["compared"]:
        assert sp["min_overlap"] == 1.0, sp
    # by hand: the Dot field and the Euclid field
    for vec, metric in (("dense64", "IP"), ("dense32", "L2")):
        qids, mids, _, _ = client_topk(env, env.named, vec, vec, 5, metric=metric)
        assert qids == mids, (vec, qids, mids)


def test_job_form(env):
    p = run_vmigrate(env.bin, "jobs", "list", "--json")
    jobs = [j for j in json.loads(p.stdout) if env.w1 in json.dumps(j)]
    assert jobs, p.stdout
    jid = jobs[0]["id"]
    p = run_vmigrate(env.bin, "verify", "--job", jid, "--search", "3", "--json")
    assert p.returncode == 0, p.stderr
    (row,) = [r for r in json.loads(p.stdout) if r["collection"] == env.w1]
    assert row["search"]["fields"][0]["queries"] == 3
    assert row["search"]["fields"][0]["min_overlap"] == 1.0


def test_corrupted_vectors_lower_overlap(env):
    """Move many target vectors far away (pymilvus upsert): the queries near them no longer
    find them, overlap drops below 1.0 and the command says different (exit 5)."""
    coll = datagen.generate(env.qc, W1, n=400, seed=5, name="sp_corrupt")
    run_vmigrate(env.bin, "migrate", *env.base, "-c", coll, "--quiet", check=True)
    rows = env.mc.query(coll, filter="id < 200", output_fields=["*"], limit=200)
    rng = np.random.default_rng(1)
    for r in rows:
        r["vector"] = rng.standard_normal(768).astype(np.float32).tolist()
    env.mc.upsert(coll, rows)
    p, row = search_json(env, coll, "--sample", "0")
    assert p.returncode == 5, p.stdout + p.stderr
    s = row["search"]
    assert not s["ok"] and s["verdict"] == "different"
    f = s["fields"][0]
    assert f["min_overlap"] < 1.0 and f["mean_overlap"] < 1.0 and f["worst_point"]
    # the hits that differ are the moved points, read back on both sides
    assert f["differences"] > 0 and int(f["diff_point"]) < 200, f
    assert "search parity" in s["error"] and "overlap" in s["error"]
    t = run_vmigrate(env.bin, "verify", *env.base, "-c", coll, "--search", "20", "--sample", "0")
    assert t.returncode == 5 and "search top-10: different" in t.stdout, t.stdout + t.stderr


def test_bad_search_options(env):
    for args, needle in ((["--search", "0"], "--search"), (["--search", "20", "--top-k", "0"],
                                                           "--top-k")):
        p = run_vmigrate(env.bin, "verify", *env.base, "-c", env.w1, *args)
        assert p.returncode == 2 and needle in p.stderr, p.stderr


def test_grpc_source_is_not_compared(env):
    """The gRPC source connector has no search yet: each field says so and how to get out."""
    p = run_vmigrate(env.bin, "verify", "--source", env.q.grpc_url, "--target", env.m.url,
                     "-c", env.w1, "--search", "3", "--sample", "0", "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)[0]["search"]
    assert s["verdict"] == "not compared" and not s["ok"]
    (f,) = s["fields"]
    assert not f["compared"] and "cannot search" in f["reason"] and "http://" in f["reason"]
