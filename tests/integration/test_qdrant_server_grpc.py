"""The Qdrant test server's gRPC face (tests/qdrant_server/grpc_face.py) against its REST face:
the official qdrant-client over gRPC (prefer_grpc) reads the datagen shapes exactly as the REST
client does (collection facts, count, scroll pages and offsets, retrieve), in both vector wire
formats; raw stubs check which fields each format fills, the slice filter, the random sample
query, payload Value kinds, the empty-dense placeholder, the API key, TLS, strict mode on both
faces, fault injection and the byte counters. No Milvus needed.
"""


import grpc
import numpy as np
import orjson
import pytest
import requests
from qdrant_client import models
from qdrant_client.grpc import collections_pb2, points_pb2, qdrant_common_pb2, qdrant_pb2

from tests.datagen import generate
from tests.harness import QdrantTestServer, qdrant_client_for
from tests.harness.servers import qdrant_grpc_client_for
from tests.qdrant_server import grpc_face

SHAPES = ["single_cosine_768", "named_mixed", "sparse_only", "multivector", "ids_uuid",
          "ids_mixed", "ids_big", "payload_nulls", "payload_rich", "float16", "uint8", "empty"]


def stub_call(channel, method, req, resp_cls, metadata=None):
    fn = channel.unary_unary(method, request_serializer=lambda m: m.SerializeToString(),
                             response_deserializer=resp_cls.FromString)
    return fn(req, metadata=metadata, timeout=30)


@pytest.fixture(scope="module", params=["new", "old"])
def served(request):
    """A server per vector format with the shapes loaded: (server, REST client, gRPC client,
    {shape: collection})."""
    with QdrantTestServer(grpc_vectors=request.param) as q:
        rc = qdrant_client_for(q)
        gc = qdrant_grpc_client_for(q)
        names = {s: generate(rc, s, seed=7) for s in SHAPES}
        q.fmt = request.param
        yield q, rc, gc, names
        rc.close()
        gc.close()


def norm_vec(v):
    """A vector as comparable values: float32 arrays, sparse as (indices, float32 values)."""
    if v is None:
        return None
    if isinstance(v, dict):
        return {k: norm_vec(x) for k, x in v.items()}
    if isinstance(v, models.SparseVector):
        return (tuple(v.indices), tuple(np.asarray(v.values, dtype=np.float32).tolist()))
    return tuple(np.asarray(v, dtype=np.float32).ravel().tolist()) + (np.asarray(v).shape,)


def rec(r):
    return (r.id, r.payload, norm_vec(r.vector))


def scroll_pages(client, name, limit=37, **kw):
    pages, offset = [], None
    while True:
        page, offset = client.scroll(name, limit=limit, offset=offset, with_payload=True,
                                     with_vectors=True, **kw)
        pages.append(([rec(r) for r in page], offset))
        if offset is None:
            return pages


@pytest.mark.parametrize("shape", SHAPES)
def test_collection_info_same(served, shape):
    q, rc, gc, names = served
    a, b = rc.get_collection(names[shape]), gc.get_collection(names[shape])
    assert (a.status, a.points_count, a.segments_count) == (b.status, b.points_count,
                                                           b.segments_count)
    assert a.config.params.vectors == b.config.params.vectors
    assert a.config.params.sparse_vectors == b.config.params.sparse_vectors
    assert a.config.hnsw_config == b.config.hnsw_config
    assert a.config.params.shard_number == b.config.params.shard_number
    assert a.config.wal_config == b.config.wal_config


@pytest.mark.parametrize("shape", SHAPES)
def test_scroll_count_retrieve_same(served, shape):
    q, rc, gc, names = served
    name = names[shape]
    pages_rest, pages_grpc = scroll_pages(rc, name), scroll_pages(gc, name)
    assert pages_rest == pages_grpc
    assert rc.count(name, exact=True).count == gc.count(name, exact=True).count
    ids = [r[0] for page, _ in pages_rest for r in page][::7][:20]
    if ids:
        a = sorted((rec(r) for r in rc.retrieve(name, ids, with_payload=True,
                                                with_vectors=True)), key=str)
        b = sorted((rec(r) for r in gc.retrieve(name, ids, with_payload=True,
                                                with_vectors=True)), key=str)
        assert a == b and len(a) == len(ids)


def test_collection_config_details(served):
    """Per-vector hnsw / datatype / multivector, sparse index and idf modifier, as REST."""
    q, rc, gc, names = served
    name = "grpc_cfg_" + q.fmt
    requests.put(f"{q.url}/collections/{name}", json={
        "vectors": {"a": {"size": 8, "distance": "Cosine", "datatype": "float16",
                          "hnsw_config": {"m": 32, "ef_construct": 64}, "on_disk": True},
                    "m": {"size": 4, "distance": "Dot", "datatype": "uint8",
                          "multivector_config": {"comparator": "max_sim"}}},
        "sparse_vectors": {"s": {"modifier": "idf", "index": {"full_scan_threshold": 500,
                                                               "on_disk": False}}},
        "hnsw_config": {"m": 8}}).raise_for_status()
    a, b = rc.get_collection(name), gc.get_collection(name)
    assert a.config.params.vectors == b.config.params.vectors
    assert a.config.params.sparse_vectors == b.config.params.sparse_vectors
    assert b.config.params.sparse_vectors["s"].modifier == models.Modifier.IDF
    assert b.config.params.vectors["a"].hnsw_config.m == 32
    assert a.config.hnsw_config == b.config.hnsw_config and b.config.hnsw_config.m == 8


def test_has_id_filter_and_named_selection(served):
    q, rc, gc, names = served
    name = names["named_mixed"]
    flt = models.Filter(must=[models.HasIdCondition(has_id=[3, 5, 8, 13])])
    kw = dict(limit=10, scroll_filter=flt, with_payload=["title"], with_vectors=["dense32"])
    a, _ = rc.scroll(name, **kw)
    b, _ = gc.scroll(name, **kw)
    assert [rec(r) for r in a] == [rec(r) for r in b] and len(a) == 4
    assert all(set(r.vector) == {"dense32"} for r in b)
    assert rc.count(name, count_filter=flt).count == gc.count(name, count_filter=flt).count == 4


def test_slice_filter_over_raw_stub(served):
    q, rc, gc, names = served
    name = names["ids_mixed"]
    total, seen = 3, []
    with grpc.insecure_channel(f"127.0.0.1:{q.grpc_port}") as ch:
        for index in range(total):
            cond = qdrant_common_pb2.Condition(
                slice=qdrant_common_pb2.SliceCondition(total=total, index=index))
            req = points_pb2.ScrollPoints(collection_name=name, limit=1000,
                                          filter=qdrant_common_pb2.Filter(must=[cond]))
            got = stub_call(ch, "/qdrant.Points/Scroll", req, points_pb2.ScrollResponse)
            ids = [p.id.num if p.id.HasField("num") else p.id.uuid for p in got.result]
            r = requests.post(f"{q.url}/collections/{name}/points/scroll", json={
                "limit": 1000, "filter": {"must": [{"slice": {"total": total, "index": index}}]}})
            assert ids == [p["id"] for p in r.json()["result"]["points"]]
            seen.extend(ids)
    assert len(seen) == len(set(seen)) == rc.count(name).count


def _scroll_raw(q, name, **kw):
    with grpc.insecure_channel(f"127.0.0.1:{q.grpc_port}") as ch:
        req = points_pb2.ScrollPoints(collection_name=name, limit=5,
                                      with_vectors=points_pb2.WithVectorsSelector(enable=True),
                                      **kw)
        return stub_call(ch, "/qdrant.Points/Scroll", req, points_pb2.ScrollResponse)


def test_vector_wire_format(served):
    """old: only data / indices / vectors_count; new: only the oneof, data empty."""
    q, rc, gc, names = served
    outs = []
    for shape in ("single_cosine_768", "named_mixed", "multivector"):
        for p in _scroll_raw(q, names[shape]).result:
            if p.vectors.HasField("vector"):
                outs.append(("unnamed", p.vectors.vector))
            else:
                outs.extend(p.vectors.vectors.vectors.items())
    kinds = set()
    for name, vo in outs:
        if q.fmt == "new":
            assert len(vo.data) == 0 and not vo.HasField("indices")
            assert not vo.HasField("vectors_count")
            kind = vo.WhichOneof("vector")
            assert kind is not None
            kinds.add(kind)
        else:
            assert vo.WhichOneof("vector") is None and len(vo.data) > 0
            kinds.add("sparse" if vo.HasField("indices") else
                      "multi_dense" if vo.HasField("vectors_count") else "dense")
    assert kinds == {"dense", "sparse", "multi_dense"}


def test_payload_values_and_ids(served):
    q, rc, gc, names = served
    name = "grpc_payload_" + q.fmt
    rc.create_collection(name, vectors_config=models.VectorParams(size=2,
                                                                  distance=models.Distance.DOT))
    requests.put(f"{q.url}/collections/{name}/points?wait=true", data=orjson.dumps({"points": [
        {"id": 18446744073709551615, "vector": [1, 2], "payload": {
            "big": 9223372036854775808, "neg": -3, "f": 1.5, "n": None, "b": False,
            "nested": {"a": [1, "x", None]}}}]}), headers={"Content-Type": "application/json"}
    ).raise_for_status()
    p = _scroll_raw(q, name).result[0]
    assert p.id.num == 18446744073709551615
    kinds = {k: v.WhichOneof("kind") for k, v in p.payload.items()}
    assert kinds == {"big": "double_value", "neg": "integer_value", "f": "double_value",
                     "n": "null_value", "b": "bool_value", "nested": "struct_value"}
    assert p.payload["big"].double_value == 9223372036854775808.0
    a = p.payload["nested"].struct_value.fields["a"].list_value.values
    assert [v.WhichOneof("kind") for v in a] == ["integer_value", "string_value", "null_value"]


def test_health_list_not_found_and_query_sample(served):
    q, rc, gc, names = served
    with grpc.insecure_channel(f"127.0.0.1:{q.grpc_port}") as ch:
        h = stub_call(ch, "/qdrant.Qdrant/HealthCheck", qdrant_pb2.HealthCheckRequest(),
                      qdrant_pb2.HealthCheckReply)
        assert h.title == "qdrant - vector search engine" and h.version == "1.19.0"
        lst = stub_call(ch, "/qdrant.Collections/List", collections_pb2.ListCollectionsRequest(),
                        collections_pb2.ListCollectionsResponse)
        assert {c.name for c in lst.collections} >= set(names.values())
        with pytest.raises(grpc.RpcError) as ei:
            stub_call(ch, "/qdrant.Collections/Get",
                      collections_pb2.GetCollectionInfoRequest(collection_name="nope"),
                      collections_pb2.GetCollectionInfoResponse)
        assert ei.value.code() == grpc.StatusCode.NOT_FOUND
        assert ei.value.details() == "Not found: Collection `nope` doesn't exist!"
        name = names["ids_uuid"]
        req = points_pb2.QueryPoints(collection_name=name, limit=25,
                                     query=points_pb2.Query(sample=points_pb2.Sample.Random))
        got = stub_call(ch, "/qdrant.Points/Query", req, points_pb2.QueryResponse)
        ids = [p.id.uuid for p in got.result]
        all_ids = {str(p.id) for p in rc.scroll(name, limit=1000)[0]}
        assert len(ids) == len(set(ids)) == 25 and set(ids) <= all_ids


def test_faults_and_stats(served):
    q, rc, gc, names = served
    name = names["single_cosine_768"]
    q.stats(reset=True)
    r = requests.post(f"{q.url}/collections/{name}/points/scroll", json={
        "limit": 50, "with_vector": True}, headers={"Accept-Encoding": "identity"})
    gc.scroll(name, limit=50, with_vectors=True)
    st = q.stats()
    assert st["rest"]["requests"] == 1 and st["grpc"]["requests"] == 1
    assert st["rest"]["response_bytes"] == len(r.content)
    # 50 x 768 float32: 4 bytes per float packed, about 12 as JSON text
    assert 50 * 768 * 4 < st["grpc"]["response_bytes"] < st["rest"]["response_bytes"] / 2.5
    q.set_faults(p503=1.0)
    try:
        with pytest.raises(Exception) as ei:
            gc.count(name)
        assert "UNAVAILABLE" in str(ei.value) or "injected fault" in str(ei.value)
        q.set_faults(cut=1.0)
        with grpc.insecure_channel(f"127.0.0.1:{q.grpc_port}") as ch:
            with pytest.raises(grpc.RpcError) as ei:
                stub_call(ch, "/qdrant.Points/Count", points_pb2.CountPoints(
                    collection_name=name), points_pb2.CountResponse)
            assert ei.value.code() == grpc.StatusCode.INTERNAL
            # HealthCheck is outside fault injection, as REST's `/`
            stub_call(ch, "/qdrant.Qdrant/HealthCheck", qdrant_pb2.HealthCheckRequest(),
                      qdrant_pb2.HealthCheckReply)
    finally:
        q.set_faults()
    assert gc.count(name).count == 200


def test_codec_old_empty_dense_placeholder():
    """The old format's placeholder is an empty VectorOutput (data empty)."""
    codec = grpc_face.VectorCodec("old", True)
    sv = models.SparseVector(indices=[3, 1], values=[0.5, 0.25])
    out = codec.page([{"s": sv}], ("d",))[0]
    # VectorsOutput bytes -> decode with the official message
    vo = points_pb2.VectorsOutput.FromString(out)
    vecs = vo.vectors.vectors
    assert set(vecs) == {"s", "d"} and len(vecs["d"].data) == 0
    assert list(vecs["s"].indices.data) == [3, 1] and list(vecs["s"].data) == [0.5, 0.25]


@pytest.fixture(scope="module")
def hybrid():
    with QdrantTestServer(grpc_empty_dense=True) as q:
        rc = qdrant_client_for(q)
        rc.create_collection("hy", vectors_config={"d": models.VectorParams(
            size=4, distance=models.Distance.DOT)}, sparse_vectors_config={
            "s": models.SparseVectorParams()})
        rc.upsert("hy", points=[
            models.PointStruct(id=1, vector={"s": models.SparseVector(indices=[2], values=[1.0])}),
            models.PointStruct(id=2, vector={"d": [1, 2, 3, 4]})], wait=True)
        yield q
        rc.close()


def test_empty_dense_placeholder(hybrid):
    res = _scroll_raw(hybrid, "hy").result
    v1, v2 = res[0].vectors.vectors.vectors, res[1].vectors.vectors.vectors
    assert set(v1) == {"s", "d"}
    assert v1["d"].WhichOneof("vector") == "dense" and len(v1["d"].dense.data) == 0
    assert len(v1["d"].data) == 0
    assert set(v2) == {"d"} and list(v2["d"].dense.data) == [1, 2, 3, 4]


@pytest.fixture(scope="module")
def secure():
    with QdrantTestServer(api_key="k3y", tls=True, version="1.16.2") as q:
        with open(q.cert_path, "rb") as fh:
            creds = grpc.ssl_channel_credentials(root_certificates=fh.read())
        q.channel = grpc.secure_channel(f"127.0.0.1:{q.grpc_port}", creds, options=[
            ("grpc.ssl_target_name_override", "localhost")])
        yield q
        q.channel.close()


def test_api_key_and_tls(secure):
    q, ch = secure, secure.channel
    assert q.grpc_url == f"grpcs://127.0.0.1:{q.grpc_port}"
    h = stub_call(ch, "/qdrant.Qdrant/HealthCheck", qdrant_pb2.HealthCheckRequest(),
                  qdrant_pb2.HealthCheckReply)
    assert h.version == "1.16.2"
    req = collections_pb2.ListCollectionsRequest()
    for md, text in ((None, "Must provide an API key or an Authorization bearer token"),
                     ((("api-key", "wrong"),), "Invalid API key or JWT")):
        with pytest.raises(grpc.RpcError) as ei:
            stub_call(ch, "/qdrant.Collections/List", req,
                      collections_pb2.ListCollectionsResponse, metadata=md)
        assert ei.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert ei.value.details() == text
    for md in ((("api-key", "k3y"),), (("authorization", "Bearer k3y"),)):
        stub_call(ch, "/qdrant.Collections/List", req, collections_pb2.ListCollectionsResponse,
                  metadata=md)


def test_old_format_by_version(secure):
    """A 1.16 server defaults to the deprecated vector fields."""
    q = secure
    rc = qdrant_client_for(q)
    rc.create_collection("v", vectors_config=models.VectorParams(size=3,
                                                                 distance=models.Distance.DOT))
    rc.upsert("v", points=[models.PointStruct(id=1, vector=[1, 2, 3])], wait=True)
    req = points_pb2.ScrollPoints(collection_name="v",
                                  with_vectors=points_pb2.WithVectorsSelector(enable=True))
    p = stub_call(q.channel, "/qdrant.Points/Scroll", req, points_pb2.ScrollResponse,
                  metadata=(("api-key", "k3y"),)).result[0]
    assert list(p.vectors.vector.data) == [1, 2, 3]
    assert p.vectors.vector.WhichOneof("vector") is None
    # no slice condition before 1.19, as over REST
    req.filter.must.add().slice.total = 2
    with pytest.raises(grpc.RpcError) as ei:
        stub_call(q.channel, "/qdrant.Points/Scroll", req, points_pb2.ScrollResponse,
                  metadata=(("api-key", "k3y"),))
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    rc.close()


@pytest.fixture(scope="module")
def strict():
    with QdrantTestServer(rate_window_s=60) as q:  # ended by the test (rate_window_reset)
        r = requests.put(f"{q.url}/collections/sm", json={
            "vectors": {"size": 2, "distance": "Dot"},
            "strict_mode_config": {"enabled": True, "max_query_limit": 50,
                                   "read_rate_limit": 3}})
        r.raise_for_status()
        requests.put(f"{q.url}/collections/sm/points?wait=true", json={"points": [
            {"id": i, "vector": [1, i]} for i in range(1, 6)]}).raise_for_status()
        q.channel = grpc.insecure_channel(f"127.0.0.1:{q.grpc_port}")
        yield q
        q.channel.close()


def test_strict_mode(strict):
    q, ch = strict, strict.channel
    info = requests.get(f"{q.url}/collections/sm").json()["result"]["config"]
    assert info["strict_mode_config"] == {"enabled": True, "max_query_limit": 50,
                                          "read_rate_limit": 3}
    g = stub_call(ch, "/qdrant.Collections/Get",
                  collections_pb2.GetCollectionInfoRequest(collection_name="sm"),
                  collections_pb2.GetCollectionInfoResponse)
    smc = g.result.config.strict_mode_config
    assert (smc.enabled, smc.max_query_limit, smc.read_rate_limit) == (True, 50, 3)
    rc, gc = qdrant_client_for(q), qdrant_grpc_client_for(q)
    assert rc.get_collection("sm").config.strict_mode_config == \
        gc.get_collection("sm").config.strict_mode_config
    rc.close()
    gc.close()
    text = ('Bad request: Limit exceeded 51 > 50 for "limit". Help: Reduce the "limit" '
            'parameter to or below 50.')
    r = requests.post(f"{q.url}/collections/sm/points/scroll", json={"limit": 51})
    assert r.status_code == 400 and r.json()["status"]["error"] == text
    with pytest.raises(grpc.RpcError) as ei:
        stub_call(ch, "/qdrant.Points/Scroll",
                  points_pb2.ScrollPoints(collection_name="sm", limit=51),
                  points_pb2.ScrollResponse)
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT and ei.value.details() == text

    q.stats(reset=True)
    # three reads per window, counted over both faces together
    scroll = points_pb2.ScrollPoints(collection_name="sm", limit=5)
    q.reset_rate_window()  # a fresh window, whatever read before
    assert requests.post(f"{q.url}/collections/sm/points/scroll", json={}).status_code == 200
    stub_call(ch, "/qdrant.Points/Scroll", scroll, points_pb2.ScrollResponse)
    stub_call(ch, "/qdrant.Points/Count", points_pb2.CountPoints(collection_name="sm"),
              points_pb2.CountResponse)
    with pytest.raises(grpc.RpcError) as ei:
        stub_call(ch, "/qdrant.Points/Scroll", scroll, points_pb2.ScrollResponse)
    assert ei.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert ei.value.details().startswith("Rate limiting exceeded: Read rate limit exceeded")
    trailers = dict(ei.value.trailing_metadata())
    assert 1 <= int(trailers["retry-after"]) <= 60
    r = requests.post(f"{q.url}/collections/sm/points/scroll", json={})
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json()["status"]["error"].startswith("Rate limiting exceeded: ")
    st = q.stats()
    assert st["throttled"] == 2 and st["grpc"]["throttled"] == 1 and st["rest"]["throttled"] == 1
    # the window is over (ended by the test, not waited for): reads pass again
    q.reset_rate_window()
    got = stub_call(ch, "/qdrant.Points/Scroll", scroll, points_pb2.ScrollResponse)
    assert len(got.result) == 5

