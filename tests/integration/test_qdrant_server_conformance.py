"""Conformance of the Qdrant test server (tests/qdrant_server) with real Qdrant's REST API, checked
through the official qdrant-client (REST) and raw HTTP: every datagen shape is written and read
back (collection info, paged scroll, exact count, retrieve, slice and has_id filters), error shapes
and status codes, float32/uint64 JSON formatting, persistence across a restart, and congruence with
qdrant-client's local mode. vmigrate's integration tests rely on this server behaving like Qdrant.
"""

import re

import numpy as np
import orjson
import pytest
import requests
from qdrant_client import QdrantClient, models

from tests.datagen import SHAPES, generate, make_points
from tests.harness import qdrant_client_for

SMALL_SHAPES = [s for s in SHAPES if s != "paging_100k"]
NUM_RE = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def id_sort_key(pid):
    # Qdrant: every integer id before every UUID; UUIDs by their lowercase hex string.
    return (1, pid) if isinstance(pid, str) else (0, pid)


@pytest.fixture(scope="module")
def client(qdrant):
    c = qdrant_client_for(qdrant)
    yield c
    c.close()


@pytest.fixture(scope="module")
def loaded(client):
    """All small shapes generated once for the module: shape -> (collection, points)."""
    out = {}
    for shape in SMALL_SHAPES:
        name = generate(client, shape, seed=7)
        out[shape] = (name, make_points(shape, seed=7))
    return out


def post(qdrant, path, body):
    return requests.post(qdrant.url + path, data=orjson.dumps(body),
                         headers={"Content-Type": "application/json"}, timeout=60)


def scroll_all(client, name, limit=37, **kw):
    records, offset = [], None
    while True:
        page, offset = client.scroll(name, limit=limit, offset=offset, with_payload=True,
                                     with_vectors=True, **kw)
        records.extend(page)
        if offset is None:
            return records


def f32_close(got, want, cosine):
    got = np.asarray(got, dtype=np.float32)
    want = np.asarray(want, dtype=np.float32)
    assert got.shape == want.shape
    if not cosine:
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
        return
    # Qdrant stores v * (1 / sqrt(sum(v*v))) in f32. Its SIMD sum adds in another order than
    # numpy, so 1/length may differ from ours in the last bits: accept the scale factor within
    # a few ulp of numpy's, and then every element within 1 ulp of v * factor.
    inv = np.float32(1) / np.sqrt(np.sum(want * want, dtype=np.float32), dtype=np.float32)
    best = None
    for step in range(-3, 4):
        f = np.array([inv], np.float32).view(np.int32)[0] + step
        factor = np.array([f], np.int32).view(np.float32)[0]
        norm = (want * factor).astype(np.float32)
        ulps = int(np.abs(got.view(np.int32).astype(np.int64) - norm.view(np.int32)).max())
        best = ulps if best is None else min(best, ulps)
    assert best <= 1, f"cosine normalisation differs by {best} ulp"


def check_vector(spec, got, want):
    vectors = spec["vectors"]
    if "size" in vectors:
        f32_close(got, want, vectors["distance"] == "Cosine")
        return
    assert isinstance(got, dict)
    expected_names = set(vectors) | set(spec.get("sparse", {}))
    assert set(got) == expected_names
    for name, params in vectors.items():
        if params.get("multivector_config"):
            assert np.array_equal(np.asarray(got[name], np.float32), np.asarray(want[name], np.float32))
        else:
            f32_close(got[name], want[name], params["distance"] == "Cosine")
    for name in spec.get("sparse", {}):
        sv = got[name]
        order = np.argsort(want[name]["indices"])
        assert list(sv.indices) == sorted(want[name]["indices"])
        assert np.array_equal(np.asarray(sv.values, np.float32),
                              np.asarray(want[name]["values"], np.float32)[order])


# --------------------------------------------------------------------------------------------
# Root, listing, collection info
# --------------------------------------------------------------------------------------------

def test_root_not_enveloped(qdrant):
    r = requests.get(qdrant.url + "/", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["title", "version", "commit"]
    assert body["title"] == "qdrant - vector search engine" and body["version"] == "1.19.0"


def test_list_and_exists(qdrant, client, loaded):
    names = {c.name for c in client.get_collections().collections}
    assert {name for name, _ in loaded.values()} <= names
    assert client.collection_exists("dg_ids_int")
    assert not client.collection_exists("no_such_collection")
    r = requests.get(qdrant.url + "/collections/no_such_collection/exists", timeout=10).json()
    assert r["result"] == {"exists": False} and r["status"] == "ok"


@pytest.mark.parametrize("shape", SMALL_SHAPES)
def test_collection_info(qdrant, client, loaded, shape):
    name, points = loaded[shape]
    spec = SHAPES[shape]
    info = client.get_collection(name)
    assert info.status == models.CollectionStatus.GREEN
    assert info.points_count == len(points)
    vectors = info.config.params.vectors
    if "size" in spec["vectors"]:
        assert isinstance(vectors, models.VectorParams)
        vectors = {"": vectors}
        want = {"": spec["vectors"]}
    else:
        want = spec["vectors"]
    assert set(vectors) == set(want)
    for vname, p in want.items():
        got = vectors[vname]
        assert got.size == p["size"] and got.distance.value == p["distance"]
        assert (got.datatype.value if got.datatype else None) == p.get("datatype")
        assert (got.multivector_config is not None) == ("multivector_config" in p)
    sparse = info.config.params.sparse_vectors
    assert set(sparse or {}) == set(spec.get("sparse", {}))
    # Raw JSON: Qdrant's field order and fixed values.
    raw = requests.get(f"{qdrant.url}/collections/{name}", timeout=10).json()
    res = raw["result"]
    assert list(res)[:8] == ["status", "optimizer_status", "indexed_vectors_count",
                             "points_count", "segments_count", "config", "payload_schema",
                             "update_queue"]
    params = res["config"]["params"]
    assert list(params)[:5] == ["vectors", "shard_number", "replication_factor",
                                "write_consistency_factor", "on_disk_payload"]
    assert params["shard_number"] == 1 and params["replication_factor"] == 1
    if "size" not in spec["vectors"]:
        assert list(params["vectors"]) == sorted(params["vectors"])
    assert res["config"]["quantization_config"] is None
    # payload_schema lists the shape's payload indexes only (none unless it has `indexes`)
    assert {k: v["data_type"] for k, v in res["payload_schema"].items()} == spec.get("indexes", {})


# --------------------------------------------------------------------------------------------
# Scroll, count, retrieve: everything written comes back
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SMALL_SHAPES)
def test_scroll_roundtrip(client, loaded, shape):
    name, points = loaded[shape]
    spec = SHAPES[shape]
    records = scroll_all(client, name)
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)) == len(points)
    assert ids == sorted(ids, key=id_sort_key)
    want = {p["id"]: p for p in points}
    assert set(ids) == set(want)
    for r in records:
        assert r.payload == want[r.id]["payload"]
        check_vector(spec, r.vector, want[r.id]["vector"])
    assert client.count(name, exact=True).count == len(points)


@pytest.mark.parametrize("shape", ["ids_big", "ids_mixed", "payload_rich", "payload_nulls",
                                   "named_mixed", "single_cosine_768"])
def test_raw_json_exact(qdrant, loaded, shape):
    """Ids, payload numbers and key order, nulls, f32 shortest floats, as Qdrant writes them."""
    name, points = loaded[shape]
    want = {p["id"]: p for p in points}
    r = post(qdrant, f"/collections/{name}/points/scroll",
             {"limit": 1000, "with_payload": True, "with_vector": True})
    assert r.status_code == 200
    text = r.content
    import json
    body = json.loads(text)  # stdlib keeps big integers exact
    assert body["status"] == "ok" and list(body) == ["result", "status", "time"]
    for rec in body["result"]["points"]:
        assert list(rec) == ["id", "payload", "vector"]
        p = want[rec["id"]]["payload"]
        assert rec["payload"] == p and list(rec["payload"]) == list(p)
        assert json.dumps(rec["payload"]) == json.dumps(p)  # -0.0, 1.0, 5e-324 survive
    for pid in want:
        if isinstance(pid, int):
            assert re.search(rb'"id":%d[,}]' % pid, text)
        else:
            assert ('"id":"%s"' % pid).encode() in text
    # Vector numbers: float32 in shortest round-trip form (at most 9 significant digits).
    vec_text = b"".join(re.findall(rb'"vector":(\[[^\]]*\]|\{.*?\}\})', text)[:20])
    for tok in NUM_RE.findall(vec_text):
        if b"." not in tok and b"e" not in tok.lower():
            continue  # sparse indices are integers
        mant = tok.lower().split(b"e")[0].replace(b"-", b"").replace(b".", b"").lstrip(b"0")
        assert len(mant.rstrip(b"0")) <= 9, tok
    if shape == "payload_rich":
        assert b"9007199254740993" in text and b"-9223372036854775808" in text


def test_retrieve_by_ids(qdrant, client, loaded):
    name, points = loaded["ids_mixed"]
    pick = [points[0]["id"], points[-1]["id"], points[len(points) // 2]["id"]]
    got = client.retrieve(name, ids=pick + [123456789012], with_payload=True, with_vectors=True)
    assert sorted((r.id for r in got), key=id_sort_key) == sorted(pick, key=id_sort_key)
    want = {p["id"]: p for p in points}
    for r in got:
        assert r.payload == want[r.id]["payload"]
        f32_close(r.vector, want[r.id]["vector"], False)
    # REST body shape used by vmigrate's verify
    r = post(qdrant, f"/collections/{name}/points", {"ids": pick[:1], "with_payload": False})
    assert r.status_code == 200 and list(r.json()["result"][0]) == ["id"]


def test_scroll_selectors(qdrant, client, loaded):
    name, points = loaded["named_mixed"]
    page, _ = client.scroll(name, limit=5, with_payload=["title"], with_vectors=["dense32"])
    for r in page:
        assert list(r.payload) == ["title"] and set(r.vector) == {"dense32"}
    page, _ = client.scroll(name, limit=5, with_payload=False, with_vectors=False)
    assert all(r.payload is None and r.vector is None for r in page)
    uname, _ = loaded["ids_int"]
    body = post(qdrant, f"/collections/{uname}/points/scroll",
                {"limit": 2, "with_vector": [""], "with_payload": False}).json()
    for rec in body["result"]["points"]:
        assert list(rec) == ["id", "vector"] and isinstance(rec["vector"], list)


def test_offset_inclusive_and_next_page(client, loaded):
    name, points = loaded["ids_int"]
    ids = sorted(p["id"] for p in points)
    page, nxt = client.scroll(name, limit=10)
    assert [r.id for r in page] == ids[:10] and nxt == ids[10]
    page, nxt = client.scroll(name, limit=10, offset=ids[10])
    assert page[0].id == ids[10]
    page, nxt = client.scroll(name, limit=len(ids) + 5)
    assert nxt is None and len(page) == len(ids)


@pytest.mark.parametrize("total", [1, 3, 4])
def test_slices_partition(client, loaded, total):
    name, points = loaded["ids_mixed"]
    all_ids = {p["id"] for p in points}
    seen = []
    for index in range(total):
        flt = models.Filter(must=[models.SliceCondition(
            slice=models.Slice(total=total, index=index))])
        recs, off = [], None
        while True:
            page, off = client.scroll(name, limit=40, offset=off, scroll_filter=flt)
            recs.extend(r.id for r in page)
            if off is None:
                break
        assert recs == sorted(recs, key=id_sort_key)
        assert client.count(name, count_filter=flt, exact=True).count == len(recs)
        seen.extend(recs)
    assert len(seen) == len(set(seen)) and set(seen) == all_ids


def test_slice_raw_and_has_id(qdrant, loaded):
    name, points = loaded["ids_mixed"]
    ids = [p["id"] for p in points][:10]
    path = f"/collections/{name}/points/scroll"
    got = post(qdrant, path, {"limit": 100, "filter": {"must": [{"has_id": ids}]}}).json()
    assert sorted((r["id"] for r in got["result"]["points"]), key=id_sort_key) == \
        sorted(ids, key=id_sort_key)
    union = []
    for i in range(2):
        body = {"limit": 100, "filter": {"must": [{"slice": {"total": 2, "index": i}},
                                                  {"has_id": ids}]}}
        union += [r["id"] for r in post(qdrant, path, body).json()["result"]["points"]]
    assert sorted(union, key=id_sort_key) == sorted(ids, key=id_sort_key)
    r = post(qdrant, path, {"filter": {"must": [{"slice": {"total": 2, "index": 2}}]}})
    assert r.status_code == 422
    r = post(qdrant, path, {"filter": {"must": [{"slice": {"total": 0, "index": 0}}]}})
    assert r.status_code == 400


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

def test_error_shapes(qdrant, loaded):
    r = requests.get(qdrant.url + "/collections/missing_x", timeout=10)
    assert r.status_code == 404
    body = r.json()
    assert body["status"] == {"error": "Not found: Collection `missing_x` doesn't exist!"}
    assert "result" not in body and isinstance(body["time"], float)
    assert post(qdrant, "/collections/missing_x/points/scroll", {}).status_code == 404
    name, _ = loaded["ids_int"]
    r = post(qdrant, f"/collections/{name}/points/scroll", {"limit": 0})
    assert r.status_code == 422
    assert r.json()["status"]["error"].startswith("Validation error in JSON body: [limit:")
    r = requests.post(f"{qdrant.url}/collections/{name}/points/scroll", data=b"{",
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400
    assert r.json()["status"]["error"].startswith("Format error in JSON body:")
    r = requests.get(qdrant.url + "/no/such/route", timeout=10)
    assert r.status_code == 404 and r.content == b""
    r = requests.put(f"{qdrant.url}/collections/{name}", json={"vectors": {"size": 8, "distance": "Dot"}},
                     timeout=10)
    assert r.status_code == 409
    r = requests.put(qdrant.url + "/collections/bad_dist",
                     json={"vectors": {"size": 8, "distance": "Hamming"}}, timeout=10)
    assert r.status_code == 400


# --------------------------------------------------------------------------------------------
# Congruence with qdrant-client local mode
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["ids_mixed", "payload_nulls", "payload_rich", "named_mixed"])
def test_congruent_with_local_mode(client, loaded, shape):
    name, points = loaded[shape]
    local = QdrantClient(":memory:")
    try:
        generate(local, shape, seed=7)
        a = scroll_all(client, name, limit=23)
        b = scroll_all(local, "dg_" + shape, limit=23)
        assert [r.id for r in a] == [r.id for r in b]
        assert [r.payload for r in a] == [r.payload for r in b]
    finally:
        local.close()


# --------------------------------------------------------------------------------------------
# Paging at size, persistence
# --------------------------------------------------------------------------------------------

def test_paging_100k(qdrant, client):
    import time
    t = time.perf_counter()
    name = generate(client, "paging_100k", seed=3)
    load_s = time.perf_counter() - t
    n = SHAPES["paging_100k"]["n"]
    assert client.count(name, exact=True).count == n
    t = time.perf_counter()
    offset, got, last = None, 0, 0
    s = requests.Session()
    while True:
        body = {"limit": 1000, "with_payload": True, "with_vector": True}
        if offset is not None:
            body["offset"] = offset
        res = orjson.loads(s.post(f"{qdrant.url}/collections/{name}/points/scroll",
                                  data=orjson.dumps(body), timeout=60).content)["result"]
        ids = [p["id"] for p in res["points"]]
        assert ids == sorted(ids) and (not ids or ids[0] > last)
        last = ids[-1] if ids else last
        got += len(ids)
        offset = res["next_page_offset"]
        if offset is None:
            break
    print(f"paging_100k: load {load_s:.1f}s, scroll {time.perf_counter() - t:.1f}s")
    assert got == n and last == n


def test_restart_keeps_data(qdrant, loaded):
    name, points = loaded["payload_rich"]
    before = post(qdrant, f"/collections/{name}/points/scroll",
                  {"limit": 1000, "with_vector": True}).json()["result"]
    qdrant.restart()
    after = post(qdrant, f"/collections/{name}/points/scroll",
                 {"limit": 1000, "with_vector": True}).json()["result"]
    assert after == before and len(after["points"]) == len(points)
    info = requests.get(f"{qdrant.url}/collections/{name}", timeout=10).json()["result"]
    assert info["config"]["params"]["vectors"] == SHAPES["payload_rich"]["vectors"]
