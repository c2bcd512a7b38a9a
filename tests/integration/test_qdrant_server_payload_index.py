"""Payload indexes on the Qdrant test server (tests/qdrant_server), checked with the official
qdrant-client over REST and over gRPC (prefer_grpc=True): an index of every schema type in the
string form and in the params form, `get_collection().payload_schema` (data_type, points as the
engine counts them, params echoed only for a params object, the same over both faces), delete,
persistence across a restart, Qdrant's errors for a bad type and a missing collection, and
filtered scroll/count on the indexed keys equal to a Python filter over the points written. Also
the datagen shape `payload_typed`, whose generate() creates seven indexes. No Milvus needed.

The gRPC face has no write methods: points are written over REST, indexes made and read over
the face under test.
"""

import datetime
import uuid

import grpc
import pytest
import requests
from qdrant_client import models as m
from qdrant_client.grpc import collections_pb2, points_pb2
from qdrant_client.http.exceptions import UnexpectedResponse

from tests.datagen import SHAPES, generate, make_points
from tests.harness import QdrantTestServer, qdrant_client_for
from tests.harness.servers import qdrant_grpc_client_for

FACES = ["rest", "grpc"]
TYPES = ["keyword", "integer", "float", "bool", "geo", "text", "datetime", "uuid"]
KEY = {"keyword": "k", "integer": "n", "float": "f", "bool": "b", "geo": "g", "text": "t",
       "datetime": "d", "uuid": "u"}
U = [str(uuid.UUID(int=0x6F1C7D3E00004000800000000000000 + j)) for j in range(7)]


def make_data(n=60):
    """Points covering every type, with missing keys, nulls, arrays and values of the wrong
    type (which an index does not count)."""
    pts = []
    for i in range(1, n + 1):
        p = {}
        if i % 11:
            p["k"] = ["w1", "w2"] if i % 7 == 0 else f"w{i % 4}"
        if i % 13 == 0:
            p["n"] = None
        elif i % 9 == 0:
            p["n"] = "n/a"
        else:
            p["n"] = [i, i + 100] if i % 17 == 0 else i % 25 - 5
        p["f"] = [0.5, 7] if i % 19 == 0 else (round(i * 0.137, 3) if i % 3 else float(i % 5))
        if i % 5:
            p["b"] = [True, False] if i % 23 == 0 else (i % 2 == 0)
        if i % 6 == 0:
            p["b"] = i  # an integer: no bool match, not in the bool index
        p["g"] = {"lon": i % 180, "lat": i % 90 - 45} if i % 4 else "nowhere"
        p["t"] = f"hello world {i}" if i % 8 else 42
        p["d"] = f"2026-01-{i % 28 + 1:02d}T0{i % 10}:00:00Z" if i % 10 != 3 else "not a date"
        p["u"] = U[i % 7] if i % 12 else "not-a-uuid"
        if i % 14 == 0:
            p["k"] = []
        pts.append({"id": i, "payload": p})
    return pts


DATA = make_data()


# ---------------------------------------------------------------------------------------------
# Python model of Qdrant's typing and filters
# ---------------------------------------------------------------------------------------------

def values(payload, key):
    v = payload.get(key)
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


def parse_dt(s):
    try:
        d = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except (ValueError, AttributeError, TypeError):
        return None
    return d if d.tzinfo else d.replace(tzinfo=datetime.timezone.utc)


def is_uuid(s):
    try:
        uuid.UUID(s)
        return True
    except (ValueError, AttributeError, TypeError):
        return False


def of_type(v, kind):
    num = isinstance(v, (int, float)) and not isinstance(v, bool)
    return {"keyword": isinstance(v, str), "text": isinstance(v, str),
            "integer": isinstance(v, int) and not isinstance(v, bool) and -2**63 <= v < 2**63,
            "float": num, "bool": isinstance(v, bool),
            "geo": isinstance(v, dict) and {"lon", "lat"} <= set(v),
            "datetime": isinstance(v, str) and parse_dt(v) is not None,
            "uuid": isinstance(v, str) and is_uuid(v)}[kind]


def index_points(points, key, kind):
    """What Qdrant reports as an index's `points`: points with a value of the index's type."""
    return sum(1 for p in points if any(of_type(v, kind) for v in values(p["payload"], key)))


def matches(payload, f):
    """A Python filter over one payload: (kind, key, arg) as built in FILTERS."""
    kind, key, arg = f
    vals = values(payload, key)
    if kind == "match":
        return any(type(v) is type(arg) and v == arg for v in vals)
    if kind == "not_match":
        return not any(type(v) is type(arg) and v == arg for v in vals)
    if kind == "range":
        lo, hi = arg
        return any(of_type(v, "float") and lo <= v < hi for v in vals)
    if kind == "dt_range":
        return any(isinstance(v, str) and parse_dt(v) is not None and parse_dt(v) >= arg
                   for v in vals)
    if kind == "is_empty":
        return key not in payload or payload[key] is None or payload[key] == []
    if kind == "is_null":
        return key in payload and payload[key] is None
    raise AssertionError(kind)


def to_model(f):
    kind, key, arg = f
    if kind in ("match", "not_match"):
        c = m.FieldCondition(key=key, match=m.MatchValue(value=arg))
        return m.Filter(must_not=[c]) if kind == "not_match" else m.Filter(must=[c])
    if kind == "range":
        return m.Filter(must=[m.FieldCondition(key=key, range=m.Range(gte=arg[0], lt=arg[1]))])
    if kind == "dt_range":
        return m.Filter(must=[m.FieldCondition(key=key, range=m.DatetimeRange(gte=arg))])
    if kind == "is_empty":
        return m.Filter(must=[m.IsEmptyCondition(is_empty=m.PayloadField(key=key))])
    if kind == "is_null":
        return m.Filter(must=[m.IsNullCondition(is_null=m.PayloadField(key=key))])
    raise AssertionError(kind)


DT = datetime.datetime(2026, 1, 15, 5, tzinfo=datetime.timezone.utc)
FILTERS = [("match", "k", "w1"), ("match", "k", "w2"), ("match", "n", 3), ("match", "n", -5),
           ("match", "b", True), ("match", "b", False), ("not_match", "b", True),
           ("range", "n", (0, 10)), ("range", "n", (100, 200)), ("range", "f", (0.5, 2.5)),
           ("range", "f", (3, 4)), ("dt_range", "d", DT), ("is_empty", "k", None),
           ("is_null", "n", None), ("match", "u", U[3]), ("is_empty", "b", None)]


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served():
    """One server: (server, REST client, gRPC client)."""
    with QdrantTestServer() as q:
        rc, gc = qdrant_client_for(q), qdrant_grpc_client_for(q)
        yield q, rc, gc
        rc.close()
        gc.close()


def client_of(served, face):
    return served[1] if face == "rest" else served[2]


def load(rc, name, points=DATA):
    if rc.collection_exists(name):
        rc.delete_collection(name)
    rc.create_collection(name, vectors_config=m.VectorParams(size=2, distance=m.Distance.DOT))
    rc.upsert(name, points=[m.PointStruct(id=p["id"], vector=[1.0, 0.5], payload=p["payload"])
                            for p in points], wait=True)


def raw_schema(q, name):
    r = requests.get(f"{q.url}/collections/{name}", timeout=10)
    assert r.status_code == 200
    return r.json()["result"]["payload_schema"]


def scroll_ids(client, name, flt):
    ids, offset = [], None
    while True:
        page, offset = client.scroll(name, scroll_filter=flt, limit=17, offset=offset,
                                     with_payload=False)
        ids.extend(r.id for r in page)
        if offset is None:
            return ids


PARAMS = {  # client model, the params as Qdrant echoes them in payload_schema
    "keyword": (m.KeywordIndexParams(type="keyword", is_tenant=True),
                {"type": "keyword", "is_tenant": True}),
    "integer": (m.IntegerIndexParams(type="integer", lookup=True, range=True),
                {"type": "integer", "lookup": True, "range": True}),
    "float": (m.FloatIndexParams(type="float", is_principal=True),
              {"type": "float", "is_principal": True}),
    "bool": (m.BoolIndexParams(type="bool", on_disk=True), {"type": "bool", "on_disk": True}),
    "geo": (m.GeoIndexParams(type="geo"), {"type": "geo"}),
    "text": (m.TextIndexParams(type="text", tokenizer=m.TokenizerType.WORD, lowercase=True,
                               min_token_len=2),
             {"type": "text", "tokenizer": "word", "min_token_len": 2, "lowercase": True}),
    "datetime": (m.DatetimeIndexParams(type="datetime", is_principal=True),
                 {"type": "datetime", "is_principal": True}),
    "uuid": (m.UuidIndexParams(type="uuid", is_tenant=True), {"type": "uuid", "is_tenant": True}),
}


# ---------------------------------------------------------------------------------------------
# Create, read, delete, restart
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("face", FACES)
def test_string_form_every_type(served, face):
    q, rc, gc = served
    c = client_of(served, face)
    name = f"pi_str_{face}"
    load(rc, name)
    for kind in TYPES:
        res = c.create_payload_index(name, KEY[kind], m.PayloadSchemaType(kind), wait=True)
        assert res.status == m.UpdateStatus.COMPLETED and res.operation_id is not None
    want = {KEY[k]: {"data_type": k, "points": index_points(DATA, KEY[k], k)} for k in TYPES}
    assert raw_schema(q, name) == dict(sorted(want.items()))  # no params for a type name
    for client in (rc, gc):
        got = client.get_collection(name).payload_schema
        assert {k: (v.data_type.value, v.points, v.params) for k, v in got.items()} == \
            {k: (v["data_type"], v["points"], None) for k, v in want.items()}
    # later writes are indexed too: a new point counts, an overwritten value stops counting
    rc.upsert(name, points=[m.PointStruct(id=1000, vector=[1.0, 0.0], payload={"k": "new"}),
                            m.PointStruct(id=1, vector=[1.0, 0.0], payload={"n": 7})], wait=True)
    after = raw_schema(q, name)
    assert after["k"]["points"] == want["k"]["points"] + 1 - ("k" in DATA[0]["payload"])
    assert after["n"]["points"] == want["n"]["points"] + (not of_type(DATA[0]["payload"]["n"],
                                                                      "integer"))
    assert after["f"]["points"] == want["f"]["points"] - 1


@pytest.mark.parametrize("face", FACES)
def test_params_form_every_type(served, face):
    q, rc, gc = served
    c = client_of(served, face)
    name = f"pi_params_{face}"
    load(rc, name)
    for kind in TYPES:
        c.create_payload_index(name, KEY[kind], PARAMS[kind][0], wait=True)
    want = {KEY[k]: {"data_type": k, "params": PARAMS[k][1],
                     "points": index_points(DATA, KEY[k], k)} for k in TYPES}
    got = raw_schema(q, name)
    assert got == want
    for entry in got.values():
        assert list(entry) == ["data_type", "params", "points"]
    for k in TYPES:
        assert list(got[KEY[k]]["params"]) == list(PARAMS[k][1])  # Qdrant's key order
    a, b = rc.get_collection(name).payload_schema, gc.get_collection(name).payload_schema
    assert a == b
    for kind in TYPES:
        info = a[KEY[kind]]
        assert info.data_type.value == kind and info.points == want[KEY[kind]]["points"]
        assert info.params.type.value == kind
        for k, v in PARAMS[kind][1].items():
            if k != "type":
                got_v = getattr(info.params, k)
                assert (got_v.value if hasattr(got_v, "value") else got_v) == v, (kind, k)


@pytest.mark.parametrize("face", FACES)
def test_delete_and_replace(served, face):
    q, rc, gc = served
    c = client_of(served, face)
    name = f"pi_del_{face}"
    load(rc, name)
    c.create_payload_index(name, "k", PARAMS["keyword"][0], wait=True)
    c.create_payload_index(name, "n", "integer", wait=True)
    res = c.delete_payload_index(name, "k", wait=True)
    assert res.status == m.UpdateStatus.COMPLETED
    assert set(c.get_collection(name).payload_schema) == {"n"}
    c.delete_payload_index(name, "never_indexed", wait=True)  # a no-op, as in Qdrant
    # the same key again as another form: the params go with the old index
    c.create_payload_index(name, "k", "keyword", wait=True)
    assert raw_schema(q, name)["k"] == {"data_type": "keyword",
                                        "points": index_points(DATA, "k", "keyword")}


def test_indexes_survive_restart():
    with QdrantTestServer() as q:
        # no background version probes racing the restart
        rc = qdrant_client_for(q, check_compatibility=False)
        load(rc, "pi_restart")
        for kind in TYPES:
            rc.create_payload_index("pi_restart", KEY[kind],
                                    PARAMS[kind][0] if kind in ("keyword", "text") else kind)
        rc.delete_payload_index("pi_restart", "g")
        before = raw_schema(q, "pi_restart")
        assert "g" not in before and before["k"]["params"] == PARAMS["keyword"][1]
        rc.close()
        q.restart()
        assert raw_schema(q, "pi_restart") == before
        gc = qdrant_grpc_client_for(q, check_compatibility=False)
        rc = qdrant_client_for(q, check_compatibility=False)
        assert gc.get_collection("pi_restart").payload_schema == \
            rc.get_collection("pi_restart").payload_schema
        # filters still run on the reloaded indexes
        flt = to_model(("match", "k", "w1"))
        assert sorted(scroll_ids(gc, "pi_restart", flt)) == \
            [p["id"] for p in DATA if matches(p["payload"], ("match", "k", "w1"))]
        gc.close()
        rc.close()


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

def test_rest_errors(served):
    q, rc, gc = served
    load(rc, "pi_err")
    url = f"{q.url}/collections/pi_err/index?wait=true"
    for schema in ("bogus", {"type": "bogus"}, {"type": "text", "tokenizer": "nope"}, 5):
        r = requests.put(url, json={"field_name": "k", "field_schema": schema}, timeout=10)
        assert r.status_code == 400, schema
        body = r.json()
        assert list(body) == ["status", "time"]
        assert body["status"]["error"].startswith(
            "Format error in JSON body: data did not match any variant of untagged enum "
            "PayloadFieldSchema"), body
    r = requests.put(url, json={"field_name": "t", "field_schema": {
        "type": "text", "stopwords": "english"}}, timeout=10)
    assert r.status_code == 400  # not implemented here: refused, not echoed unapplied
    r = requests.put(f"{q.url}/collections/pi_missing/index",
                     json={"field_name": "k", "field_schema": "keyword"}, timeout=10)
    assert r.status_code == 404
    assert r.json()["status"]["error"] == "Not found: Collection `pi_missing` doesn't exist!"
    r = requests.delete(f"{q.url}/collections/pi_missing/index/k", timeout=10)
    assert r.status_code == 404
    with pytest.raises(UnexpectedResponse) as exc:
        rc.create_payload_index("pi_missing", "k", "keyword")
    assert exc.value.status_code == 404
    assert raw_schema(q, "pi_err") == {}  # nothing half-made
    r = requests.put(url, json={"field_name": "k", "field_schema": "keyword"}, timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["result", "status", "time"] and body["status"] == "ok"
    assert list(body["result"]) == ["operation_id", "status"]
    assert body["result"]["status"] == "completed"


def test_grpc_errors(served):
    q, rc, gc = served
    load(rc, "pi_gerr")
    with pytest.raises(grpc.RpcError) as exc:
        gc.create_payload_index("pi_missing", "k", "keyword")
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND
    assert "Collection `pi_missing` doesn't exist" in exc.value.details()
    with grpc.insecure_channel(f"{q.host}:{q.grpc_port}") as ch:
        call = ch.unary_unary("/qdrant.Points/CreateFieldIndex",
                              request_serializer=lambda x: x.SerializeToString(),
                              response_deserializer=points_pb2.PointsOperationResponse.FromString)
        with pytest.raises(grpc.RpcError) as exc:
            call(points_pb2.CreateFieldIndexCollection(collection_name="pi_gerr", field_name="k",
                                                       field_type=99), timeout=10)
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        ok = call(points_pb2.CreateFieldIndexCollection(
            collection_name="pi_gerr", field_name="k", wait=True,
            field_index_params=collections_pb2.PayloadIndexParams(
                keyword_index_params=collections_pb2.KeywordIndexParams(is_tenant=True))),
            timeout=10)
        assert ok.result.status == points_pb2.Completed
    assert raw_schema(q, "pi_gerr") == {"k": {"data_type": "keyword",
                                              "params": {"type": "keyword", "is_tenant": True},
                                              "points": index_points(DATA, "k", "keyword")}}


# ---------------------------------------------------------------------------------------------
# Filters on indexed keys
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f"{f[0]}-{f[1]}-{f[2]}")
def test_filtered_scroll_on_indexes(served, face, f):
    q, rc, gc = served
    c = client_of(served, face)
    name = "pi_filter"
    if not rc.collection_exists(name):
        load(rc, name)
        for kind in TYPES:
            rc.create_payload_index(name, KEY[kind], kind)
    want = [p["id"] for p in DATA if matches(p["payload"], f)]
    assert want, f"filter {f} selects nothing: a weak test"
    assert sorted(scroll_ids(c, name, to_model(f))) == want
    assert c.count(name, count_filter=to_model(f), exact=True).count == len(want)


# ---------------------------------------------------------------------------------------------
# The datagen shape payload_typed
# ---------------------------------------------------------------------------------------------

TYPED_FILTERS = [("match", "category", "toys"), ("range", "price", (100.0, 250.5)),
                 ("range", "qty", (-1000, 10**9)), ("match", "active", True),
                 ("dt_range", "created", datetime.datetime(2026, 6, 1,
                                                           tzinfo=datetime.timezone.utc)),
                 ("is_empty", "rating", None), ("match", "rating", 5)]


@pytest.mark.parametrize("face", FACES)
def test_payload_typed_shape(served, face):
    q, rc, gc = served
    c = client_of(served, face)
    name = generate(rc, "payload_typed", name=f"dg_payload_typed_{face}")
    points = make_points("payload_typed")
    spec = SHAPES["payload_typed"]
    assert len(points) == spec["n"] == 300
    assert spec["indexes"] == {"category": "keyword", "price": "float", "qty": "integer",
                               "active": "bool", "created": "datetime", "ref": "uuid",
                               "rating": "integer"}
    # the shape is what it says: n/a quantities, missing ratings, long titles, whole prices
    pay = [p["payload"] for p in points]
    assert 0 < sum(p["qty"] == "n/a" for p in pay) < 15
    assert 60 < sum("rating" not in p for p in pay) < 130
    assert any(len(p["title"].encode()) > 300 for p in pay)
    assert any(p["price"] == int(p["price"]) for p in pay)
    assert all(isinstance(p["price"], float) and isinstance(p["extra"], dict) for p in pay)
    schema = c.get_collection(name).payload_schema
    got = {k: (v.data_type.value, v.points, v.params) for k, v in schema.items()}
    want = {k: (t, index_points(points, k, t), None) for k, t in spec["indexes"].items()}
    assert got == want
    assert got["qty"][1] < 300 and got["rating"][1] < 300 and got["category"][1] == 300
    for f in TYPED_FILTERS:
        ids = [p["id"] for p in points if matches(p["payload"], f)]
        assert ids, f
        assert sorted(scroll_ids(c, name, to_model(f))) == ids, f
