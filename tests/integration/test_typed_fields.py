"""Payload keys as typed Milvus fields: the plan proposes one field per Qdrant payload index
(typed, nullable when some points lack the key, with the scalar index the Qdrant index implies),
the user promotes other keys (--field), values that do not fit follow --payload-misfit
(dynamic / reject / fail), a partition key goes on one field; pymilvus reads the typed values
back equal to qdrant-client's payloads, what stays in $meta equal to the rest, and filtered
queries on typed fields return the ids of the same filters run as Qdrant scrolls.

Source: the `payload_typed` datagen shape (7 indexed keys: keyword, float, integer with "n/a"
strings that do not fit INT64, bool, datetime, uuid, and an integer missing in ~30% of the
points; plus arrays, long titles and a nested object). Runs on Milvus Lite (nullable fields,
INVERTED indexes, partition key) and on the real Milvus 2.3.5 server (no nullable fields: the
plan leaves the keys that need them in $meta and says so; STL_SORT / Trie indexes).
"""

import json
import os
from datetime import datetime, timezone

import pytest
from qdrant_client import models

from tests.datagen import datagen
from tests.integration.checks import fresh_source, run_vmigrate, strong_count, target_rows

SHAPE = "payload_typed"
COLL = datagen.collection_name(SHAPE)
LITE = pytest.mark.targets("lite")
REAL = pytest.mark.targets("milvus23")


def plan(env, *args):
    p = run_vmigrate(env.bin, "plan", "--json", "--source", env.q.url, "--target", env.m.url,
                     "-c", COLL, "--target-name", f"{COLL}=typed_plan_only", *args)
    return p, (json.loads(p.stdout) if p.stdout.strip().startswith("{") else None)


def migrate(env, *args, check=True):
    return run_vmigrate(env.bin, "migrate", "--source", env.q.url, "--target", env.m.url,
                        "-c", COLL, "--store", env.store, *args, check=check)


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.real = milvus.target == "milvus23"
    d = str(tmp_path_factory.mktemp("typed"))
    e.dir, e.store = d, os.path.join(d, "vmigrate.db")
    fresh_source(qdrant_client, milvus_client, SHAPE)
    e.points = {p["id"]: p for p in datagen.make_points(SHAPE)}
    yield e


def typed_of(doc):
    return {f["key"]: f for f in doc["collections"][0]["typed_fields"]}


def test_the_plan_proposes_a_typed_field_per_payload_index(env):
    p, doc = plan(env)
    assert p.returncode == 0, p.stderr
    t = typed_of(doc)
    c = doc["collections"][0]
    assert t["category"]["type"] == "VARCHAR" and t["category"]["qdrant_index"] == "keyword"
    assert t["price"]["type"] == "DOUBLE" and not t["price"]["nullable"]
    assert t["active"]["type"] == "BOOL"
    assert t["ref"]["type"] == "VARCHAR" and t["ref"]["max_length"] == 36
    if env.real:  # no TIMESTAMPTZ on 2.3.5: the text, exactly
        assert t["created"]["type"] == "VARCHAR"
        assert any("'created'" in n and "no TIMESTAMPTZ" in n for n in c["notes"])
    else:
        assert t["created"]["type"] == "TIMESTAMPTZ"
        assert any("'created'" in n and "UTC microseconds" in n for n in c["notes"])
    assert "tags" not in t and "title" not in t  # not indexed: they stay in $meta
    if env.real:
        # Milvus 2.3.5 has no nullable fields: qty (4 "n/a" strings) and rating (missing in
        # ~30% of the points) stay in $meta, and the plan says why
        assert "qty" not in t and "rating" not in t
        notes = " ".join(c["notes"])
        assert "'qty'" in notes and "'rating'" in notes and "nullable" in notes
        assert t["price"]["index"] == "STL_SORT" and t["category"]["index"] == "Trie"
        assert t["active"]["index"] == "NONE"
    else:
        assert t["qty"]["type"] == "INT64" and t["qty"]["nullable"]
        assert t["rating"]["type"] == "INT64" and t["rating"]["nullable"]
        assert t["category"]["index"] == "INVERTED" and t["price"]["index"] == "INVERTED"
        assert not t["category"]["nullable"]


def read_back(env, coll):
    rows = target_rows(env.mc, coll)
    return {r["id"]: r for r in rows}


def check_typed(env, coll, typed, misfit_keys=(), rejected=()):
    """Every point once; typed keys in their fields (None where missing or misfit), the rest
    of the payload in $meta exactly, misfit values under payload_<key>."""
    rows = read_back(env, coll)
    want_ids = set(env.points) - set(rejected)
    assert set(rows) == want_ids
    assert strong_count(env.mc, coll) == len(want_ids)
    for pid in want_ids:
        src = env.points[pid]["payload"]
        row = rows[pid]
        meta = {k: v for k, v in row.items() if k not in typed and k not in ("id", "vector")}
        want_meta = {}
        for k, v in src.items():
            if k not in typed:
                want_meta[k] = v
        for key in typed:
            v = src.get(key)
            if key in misfit_keys and v is not None and not fits(typed[key], v):
                assert row[key] is None, f"point {pid}: {key} should be null (misfit)"
                want_meta["payload_" + key] = v
            elif typed[key] == "TIMESTAMPTZ":
                assert when(row[key]) == when(v), f"point {pid}: {key} {row[key]!r} != {v!r}"
            else:
                assert row[key] == v, f"point {pid}: typed {key} {row[key]!r} != {v!r}"
                if isinstance(v, float):
                    assert type(row[key]) is float
        assert meta == want_meta, f"point {pid}: $meta {meta} != {want_meta}"
    return rows


def when(text):
    """A datetime as the instant it names (naive = UTC, as Qdrant reads it)."""
    d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def fits(kind, v):
    if kind == "INT64":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind.startswith("VARCHAR:"):
        return isinstance(v, str) and len(v.encode()) <= int(kind.split(":")[1])
    return True


@LITE
def test_typed_nullable_indexed_fields_and_a_partition_key_on_lite(env):
    mc = env.mc
    if mc.has_collection(COLL):
        mc.drop_collection(COLL)
    p = migrate(env, "--field", f"{COLL}.tags=ARRAY_VARCHAR:max_capacity=8,max_length=32",
                "--field", f"{COLL}.title=VARCHAR:max_length=300,nullable",
                "--field", f"{COLL}.category=VARCHAR:partition_key,partitions=8")
    assert "did not fit" in p.stderr  # 4 qty strings and 2 long titles kept in $meta
    d = mc.describe_collection(COLL)
    f = {x["name"]: x for x in d["fields"]}
    assert f["category"].get("is_partition_key")
    assert f["qty"].get("nullable") and f["rating"].get("nullable")
    assert not f["price"].get("nullable")
    idx = {i: mc.describe_index(COLL, i)["index_type"] for i in mc.list_indexes(COLL)}
    assert idx.get("category") == "INVERTED" and idx.get("rating") == "INVERTED"
    typed = {"category": "VARCHAR", "price": "DOUBLE", "qty": "INT64", "active": "BOOL",
             "created": "TIMESTAMPTZ", "ref": "VARCHAR", "rating": "INT64", "tags": "ARRAY",
             "title": "VARCHAR:300"}
    check_typed(env, COLL, typed, misfit_keys=("qty", "title"))
    same_ids_as_qdrant(env, COLL)


def same_ids_as_qdrant(env, coll, lite=True, rejected=()):
    """Filters on typed fields give the ids Qdrant's filtered scrolls give."""
    cats = sorted({p["payload"]["category"] for p in env.points.values()})
    cases = [
        (f'category == "{cats[0]}"',
         models.Filter(must=[models.FieldCondition(key="category",
                                                   match=models.MatchValue(value=cats[0]))])),
        ("price > 500.5",
         models.Filter(must=[models.FieldCondition(key="price", range=models.Range(gt=500.5))])),
        ("active == true",
         models.Filter(must=[models.FieldCondition(key="active",
                                                   match=models.MatchValue(value=True))])),
        (("created >= ISO '2026-06-01T00:00:00Z'" if lite else 'created >= "2026-06-01T00:00:00Z"'),
         models.Filter(must=[models.FieldCondition(
             key="created", range=models.DatetimeRange(gte="2026-06-01T00:00:00Z"))])),
    ]
    if lite:
        cases += [
            ("rating >= 4",
             models.Filter(must=[models.FieldCondition(key="rating", range=models.Range(gte=4))])),
            ("qty < 500000000000",
             models.Filter(must=[models.FieldCondition(key="qty",
                                                       range=models.Range(lt=500000000000))])),
        ]
    for expr, flt in cases:
        got = {r["id"] for r in env.mc.query(coll, filter=expr, output_fields=["id"],
                                             consistency_level="Strong", limit=16384)}
        want, off = set(), None
        while True:
            recs, off = env.qc.scroll(COLL, scroll_filter=flt, limit=256, offset=off)
            want |= {r.id for r in recs}
            if off is None:
                break
        want -= set(rejected)
        assert want, f"{expr}: the test data has no match"
        assert got == want, f"{expr}: Milvus {len(got)} ids, Qdrant {len(want)}"


def test_typed_fields_over_grpc_land_as_over_rest(env):
    """The gRPC connector reads payload_schema too: the same plan, the same rows (on the real
    server too, which keeps a key written twice: check_typed counts the rows)."""
    mc = env.mc
    if mc.has_collection(COLL):
        mc.drop_collection(COLL)
    run_vmigrate(env.bin, "migrate", "--source", env.q.grpc_url, "--target", env.m.url,
                 "-c", COLL, "--store", env.store, check=True)
    if env.real:  # 2.3.5: qty and rating need nullable fields, created stays text
        typed = {"category": "VARCHAR", "price": "DOUBLE", "active": "BOOL",
                 "created": "VARCHAR", "ref": "VARCHAR"}
        check_typed(env, COLL, typed)
    else:
        typed = {"category": "VARCHAR", "price": "DOUBLE", "qty": "INT64", "active": "BOOL",
                 "created": "TIMESTAMPTZ", "ref": "VARCHAR", "rating": "INT64"}
        check_typed(env, COLL, typed, misfit_keys=("qty",))


@REAL
def test_typed_fields_on_milvus_23_with_rejects(env):
    """2.3.5: no nullable fields, so the long titles of a VARCHAR(300) field cannot stay in
    $meta: --payload-misfit reject sets those points aside in the rejects file, named with
    their key and reason; everything else lands typed, with STL_SORT and Trie indexes."""
    mc = env.mc
    if mc.has_collection(COLL):
        mc.drop_collection(COLL)
    rejects = os.path.join(env.dir, "rejects.jsonl")
    p = migrate(env, "--field", f"{COLL}.tags=ARRAY_VARCHAR:max_capacity=8,max_length=32",
                "--field", f"{COLL}.title=VARCHAR:max_length=300",
                "--field", f"{COLL}.category=VARCHAR:partition_key,partitions=4",
                "--payload-misfit", "reject", "--rejects", rejects)
    fields = {x["name"]: x for x in mc.describe_collection(COLL)["fields"]}
    assert fields["category"].get("is_partition_key")  # the real server's partition key
    long_titles = {pid for pid, pt in env.points.items()
                   if len(pt["payload"]["title"].encode()) > 300}
    assert long_titles
    lines = [json.loads(x) for x in open(rejects)]
    assert {int(x["id"]) for x in lines} == long_titles
    assert all("'title'" in x["reason"] and "max_length" in x["reason"] for x in lines)
    idx = {i: mc.describe_index(COLL, i)["index_type"] for i in mc.list_indexes(COLL)}
    assert idx.get("price") == "STL_SORT" and idx.get("category") == "Trie"
    typed = {"category": "VARCHAR", "price": "DOUBLE", "active": "BOOL", "created": "VARCHAR",
             "ref": "VARCHAR", "tags": "ARRAY", "title": "VARCHAR:300"}
    check_typed(env, COLL, typed, rejected=long_titles)
    same_ids_as_qdrant(env, COLL, lite=False, rejected=long_titles)
    assert "1 rejected" in p.stderr or f"{len(long_titles)} rejected" in p.stderr


@LITE
def test_a_misfit_fails_the_job_under_fail_and_the_hint_works(env):
    mc = env.mc
    if mc.has_collection(COLL):
        mc.drop_collection(COLL)
    p = migrate(env, "--payload-misfit", "fail", check=False)
    assert p.returncode != 0
    assert "'qty'" in p.stderr and "not an integer" in p.stderr
    assert "--payload-misfit dynamic" in p.stderr
    job = [ln for ln in p.stderr.splitlines() if "jobs retry" in ln]
    assert job, p.stderr
    jid = job[0].split("jobs retry ")[1].split()[0].strip("`'")
    r = run_vmigrate(env.bin, "jobs", "retry", jid, "--payload-misfit", "dynamic",
                     "--store", env.store, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    typed = {"category": "VARCHAR", "price": "DOUBLE", "qty": "INT64", "active": "BOOL",
             "created": "TIMESTAMPTZ", "ref": "VARCHAR", "rating": "INT64"}
    check_typed(env, COLL, typed, misfit_keys=("qty",))


@REAL
def test_a_misfit_fails_then_a_retry_rejects_it_on_milvus_23(env):
    """On the real server (which keeps a key written twice): a long title fails the job under
    --payload-misfit fail (other ranges may have landed); the retry with reject + --rejects goes on
    from the checkpoint and every other point is there exactly once."""
    mc = env.mc
    if mc.has_collection(COLL):
        mc.drop_collection(COLL)
    p = migrate(env, "--field", f"{COLL}.title=VARCHAR:max_length=300", "--payload-misfit",
                "fail", "--page-size", "20", check=False)
    assert p.returncode != 0 and "'title'" in p.stderr and "max_length" in p.stderr, p.stderr
    jid = [ln for ln in p.stderr.splitlines() if "jobs retry" in ln][0] \
        .split("jobs retry ")[1].split()[0].strip("`'")
    rejects = os.path.join(env.dir, "retry-rejects.jsonl")
    r = run_vmigrate(env.bin, "jobs", "retry", jid, "--payload-misfit", "reject", "--rejects",
                     rejects, "--store", env.store, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    long_titles = {pid for pid, pt in env.points.items()
                   if len(pt["payload"]["title"].encode()) > 300}
    assert {int(json.loads(x)["id"]) for x in open(rejects)} == long_titles
    typed = {"category": "VARCHAR", "price": "DOUBLE", "active": "BOOL", "created": "VARCHAR",
             "ref": "VARCHAR", "title": "VARCHAR:300"}
    check_typed(env, COLL, typed, rejected=long_titles)


def test_bad_field_edits_are_refused_naming_the_key_and_the_way_out(env):
    p, doc = plan(env, "--field", f"{COLL}.price=FLOAT128")
    err = doc["collections"][0]["error"]
    assert p.returncode == 2 and "'FLOAT128' is not a type" in err["message"]
    assert err["field"] == "price" and err["fix"] == "typed_field"
    p, doc = plan(env, "--field", f"{COLL}.rating=INT64:partition_key")
    c = doc["collections"][0]
    if env.real:
        assert c["error"] and "payload key 'rating'" in c["error"]["message"]
        assert "nullable" in c["error"]["message"] and "2.5" in c["error"]["message"]
    else:
        assert "cannot be nullable" in c["error"]["message"]
    assert c["error"]["fix"] == "typed_field"
    p2 = run_vmigrate(env.bin, "plan", "--source", env.q.url, "--target", env.m.url, "-c", COLL,
                      "--target-name", f"{COLL}=typed_plan_only",
                      "--field", f"{COLL}.rating=INT64:partition_key")
    assert f"--field '{COLL}.rating=dynamic'" in p2.stdout
    # the way out: keep it in $meta
    p, doc = plan(env, "--field", f"{COLL}.rating=dynamic")
    assert p.returncode == 0 and "rating" not in typed_of(doc)


def pow2(n, lo):
    r = lo
    while r < n:
        r *= 2
    return r


def test_a_profile_sizes_the_typed_fields(env):
    """plan --profile --full: VARCHAR max_length and ARRAY max_capacity from the values
    measured (the next power of two), not the 65 535 / 4 096 bounds."""
    p, doc = plan(env, "--profile", "--full", "--field", f"{COLL}.tags=ARRAY_VARCHAR")
    assert p.returncode == 0, p.stderr
    t = typed_of(doc)
    pays = [pt["payload"] for pt in env.points.values()]
    longest = lambda k: max(len(x[k].encode()) for x in pays)  # noqa: E731
    assert t["category"]["max_length"] == pow2(longest("category"), 16)
    if env.real:
        assert t["created"]["max_length"] == pow2(longest("created"), 16)
    assert t["ref"]["max_length"] == 36
    assert t["tags"]["max_capacity"] == pow2(max(len(x["tags"]) for x in pays), 4)
    assert t["tags"]["max_length"] == pow2(max(len(s.encode()) for x in pays for s in x["tags"]), 16)
    prof = doc["collections"][0]["profile"]
    assert prof["points"] == len(pays)
    est = prof["estimate"]
    assert est["scalar_bytes"] > 0 and est["meta_bytes"] > 0


@LITE
def test_geo_points_land_as_geometry_and_filter_like_qdrant(env):
    """A geo payload index becomes a GEOMETRY field (WKT POINT(lon lat), the same doubles);
    a point without the key is null, an out-of-range point stays in $meta; ST_WITHIN a box
    returns the ids of Qdrant's geo_bounding_box."""
    qc, mc, name = env.qc, env.mc, "typed_geo"
    if qc.collection_exists(name):
        qc.delete_collection(name)
    if mc.has_collection(name):
        mc.drop_collection(name)
    qc.create_collection(name, vectors_config=models.VectorParams(size=4,
                                                                  distance=models.Distance.COSINE))
    pts = []
    for i in range(1, 81):
        pay = {"n": i}
        if i % 10 != 0:
            pay["loc"] = {"lon": round(-10 + i * 0.37, 4), "lat": round(40 + (i % 13) * 0.91, 6)}
        if i == 77:
            pay["loc"] = {"lon": 500.0, "lat": 1.5}  # not a geo point: kept in $meta
        pts.append(models.PointStruct(id=i, vector=[1.0, 0.5, 0.25, i / 100], payload=pay))
    qc.upsert(name, pts)
    qc.create_payload_index(name, "loc", "geo")
    p = run_vmigrate(env.bin, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", name,
                     "--store", env.store, check=True)
    assert "did not fit" in p.stderr
    d = {f["name"]: f for f in mc.describe_collection(name)["fields"]}
    assert d["loc"]["type"].name == "GEOMETRY" and d["loc"].get("nullable")
    rows = {r["id"]: r for r in target_rows(mc, name)}
    assert len(rows) == 80 and strong_count(mc, name) == 80
    for pt in pts:
        row, loc = rows[pt.id], pt.payload.get("loc")
        if loc is None or pt.id == 77:
            assert row["loc"] is None
            if pt.id == 77:
                assert row["payload_loc"] == loc
            continue
        wkt = row["loc"].replace(" (", "(").strip()
        x, y = wkt[len("POINT("):-1].split()
        assert (float(x), float(y)) == (loc["lon"], loc["lat"]), (pt.id, row["loc"], loc)
    box = models.GeoBoundingBox(top_left=models.GeoPoint(lon=-5.0, lat=50.0),
                                bottom_right=models.GeoPoint(lon=10.0, lat=42.0))
    want, off = set(), None
    while True:
        recs, off = qc.scroll(name, scroll_filter=models.Filter(must=[models.FieldCondition(
            key="loc", geo_bounding_box=box)]), limit=256, offset=off)
        want |= {r.id for r in recs}
        if off is None:
            break
    got = {r["id"] for r in mc.query(
        name, filter="ST_WITHIN(loc, 'POLYGON((-5 42, 10 42, 10 50, -5 50, -5 42))')",
        output_fields=["id"], consistency_level="Strong", limit=1000)}
    assert want and got == want, (sorted(got ^ want))
