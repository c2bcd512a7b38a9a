"""Conformance of the Qdrant test server's nearest-vector query (POST /points/query, which
`vmigrate verify --search` relies on) with real Qdrant, through the official qdrant-client
(REST): query_points with exact=True on unnamed, named (Cosine, Dot, Euclid) and sparse vectors
returns what the engine (qdrant-edge, queried here directly on a shard of the same points)
returns, which is also the brute-force answer computed with numpy in Qdrant's conventions
(Cosine on normalised vectors, Dot, Euclid as a distance ascending, sparse dot product).
"""

import numpy as np
import pytest
import qdrant_edge as qe
from qdrant_client import models

from tests.harness import qdrant_client_for

N, K = 400, 10
DIMS = {"cos": (24, models.Distance.COSINE, qe.Distance.Cosine),
        "dot": (16, models.Distance.DOT, qe.Distance.Dot),
        "l2": (8, models.Distance.EUCLID, qe.Distance.Euclid)}


@pytest.fixture(scope="module")
def client(qdrant):
    c = qdrant_client_for(qdrant)
    yield c
    c.close()


def points(seed=4):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(N):
        vec = {n: rng.standard_normal(d).astype(np.float32) for n, (d, _, _) in DIMS.items()}
        idx = np.sort(rng.choice(50, size=5, replace=False))
        vals = rng.random(5).astype(np.float32)
        out.append((i + 1, vec, (idx.tolist(), vals.tolist())))
    return out


@pytest.fixture(scope="module")
def named(client, tmp_path_factory):
    """The collection on the test server, and the same points in a local qdrant-edge shard."""
    pts = points()
    name = "search_named"
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(
        name, vectors_config={n: models.VectorParams(size=d, distance=dist)
                              for n, (d, dist, _) in DIMS.items()},
        sparse_vectors_config={"sp": models.SparseVectorParams()})
    client.upsert(name, [models.PointStruct(
        id=i, payload={"i": i},
        vector={**{n: v.tolist() for n, v in vec.items()},
                "sp": models.SparseVector(indices=sp[0], values=sp[1])})
        for i, vec, sp in pts])
    cfg = qe.EdgeConfig(vectors={n: qe.EdgeVectorParams(size=d, distance=ed)
                                 for n, (d, _, ed) in DIMS.items()},
                        sparse_vectors={"sp": qe.EdgeSparseVectorParams()})
    shard = qe.EdgeShard.create(str(tmp_path_factory.mktemp("edge")), cfg)
    shard.update(qe.UpdateOperation.upsert_points([
        qe.Point(i, {**{n: v.tolist() for n, v in vec.items()}, "sp": qe.SparseVector(*sp)},
                 {"i": i}) for i, vec, sp in pts]))
    yield name, pts, shard
    shard.close()


def brute(pts, vname, q):
    """(ids, scores) best first, as Qdrant ranks them."""
    if vname == "sp":
        qd = dict(zip(*q))
        s = np.array([sum(qd.get(i, 0.0) * v for i, v in zip(*sp)) for _, _, sp in pts])
        order = np.argsort(-s, kind="stable")
    else:
        m = np.stack([vec[vname] for _, vec, _ in pts]).astype(np.float64)
        qq = np.asarray(q, np.float64)
        if vname == "cos":
            m = m / np.linalg.norm(m, axis=1, keepdims=True)
            qq = qq / np.linalg.norm(qq)
        if vname == "l2":
            s = np.linalg.norm(m - qq, axis=1)
            order = np.argsort(s, kind="stable")
        else:
            s = m @ qq
            order = np.argsort(-s, kind="stable")
    return [pts[i][0] for i in order[:K]], [float(s[i]) for i in order[:K]]


@pytest.mark.parametrize("vname", ["cos", "dot", "l2", "sp"])
def test_exact_query_matches_engine_and_brute_force(client, named, vname):
    name, pts, shard = named
    rng = np.random.default_rng(9)
    for qi in rng.choice(N, size=5, replace=False):
        _, vec, sp = pts[qi]
        if vname == "sp":
            query = models.SparseVector(indices=sp[0], values=sp[1])
            eq = qe.SparseVector(*sp)
            bq = sp
        else:
            query = vec[vname].tolist()
            eq = bq = query
        got = client.query_points(name, query=query, using=vname, limit=K,
                                  search_params=models.SearchParams(exact=True)).points
        eng = shard.query(qe.QueryRequest(limit=K, query=qe.Query.Nearest(eq, using=vname),
                                          params=qe.SearchParams(exact=True),
                                          with_payload=False, with_vector=False))
        assert [p.id for p in got] == [p.id for p in eng]
        assert [p.score for p in got] == pytest.approx([p.score for p in eng], rel=1e-6)
        ids, scores = brute(pts, vname, bq)
        assert [p.id for p in got] == ids
        assert [p.score for p in got] == pytest.approx(scores, rel=1e-4, abs=1e-5)


def test_query_options_and_errors(client, named):
    name, pts, _ = named
    q = pts[0][1]["cos"].tolist()
    got = client.query_points(name, query=q, using="cos", limit=3, with_payload=True,
                              search_params=models.SearchParams(exact=True)).points
    assert len(got) == 3 and got[0].id == 1 and got[0].payload == {"i": 1}
    assert got[0].score == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(Exception, match="(?i)vector name|400"):
        client.query_points(name, query=q, using="nope", limit=3)
    with pytest.raises(Exception, match="(?i)dimension|400"):
        client.query_points(name, query=q[:5], using="cos", limit=3)


def test_unnamed_vector(client):
    name = "search_unnamed"
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(
        size=4, distance=models.Distance.DOT))
    rng = np.random.default_rng(2)
    vecs = rng.standard_normal((50, 4)).astype(np.float32)
    client.upsert(name, [models.PointStruct(id=i, vector=v.tolist()) for i, v in enumerate(vecs)])
    q = vecs[7].tolist()
    got = client.query_points(name, query=q, limit=5,
                              search_params=models.SearchParams(exact=True)).points
    want = np.argsort(-(vecs.astype(np.float64) @ np.asarray(q, np.float64)))[:5]
    assert [p.id for p in got] == want.tolist()
