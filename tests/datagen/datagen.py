"""Deterministic test data for vmigrate: collection shapes (vector layouts, id kinds, payload
kinds, sizes) written into a Qdrant server through the official qdrant-client, so the data takes
the same path a real user's data does. Every shape is a collection with a stable name; the same
(shape, n, seed) always gives the same points, and `make_points` returns them so checkers can
compare what vmigrate moved against what was written.

Library: `generate(client, shape, n=None, seed=0) -> collection name`, `SHAPES`, `make_points`.
CLI: `python -m tests.datagen --url URL [--api-key K] --shapes a,b|all --n N --seed S`.
"""

from __future__ import annotations

import argparse
import sys
import uuid
import zlib

import numpy as np

# ---------------------------------------------------------------------------------------------
# Shapes: name -> description. `vectors` is the create-collection layout; ids/payload name the
# generators below. Collection name = "dg_" + shape name.
# ---------------------------------------------------------------------------------------------

D = lambda size, distance, **kw: {"size": size, "distance": distance, **kw}  # noqa: E731
# payload_typed's payload indexes: key -> Qdrant payload schema type
TYPED_INDEXES = {"category": "keyword", "price": "float", "qty": "integer", "active": "bool",
                 "created": "datetime", "ref": "uuid", "rating": "integer"}

SHAPES = {
    "single_cosine_768": dict(vectors=D(768, "Cosine"), n=200, ids="int", payload="mixed"),
    "named_mixed": dict(vectors={"dense64": D(64, "Dot"), "dense32": D(32, "Euclid")},
                        sparse={"sparse": {}}, n=300, ids="int", payload="mixed"),
    "four_vectors": dict(vectors={"a": D(8, "Cosine"), "b": D(16, "Dot"), "c": D(4, "Euclid"),
                                  "d": D(32, "Cosine")}, n=100, ids="int", payload="mixed"),
    "five_vectors": dict(vectors={"a": D(8, "Cosine"), "b": D(16, "Dot"), "c": D(4, "Euclid"),
                                  "d": D(32, "Cosine"), "e": D(8, "Dot")},
                         n=50, ids="int", payload="mixed"),
    "sparse_only": dict(vectors={}, sparse={"text": {}}, n=100, ids="int", payload="small"),
    "manhattan": dict(vectors=D(16, "Manhattan"), n=50, ids="int", payload="mixed"),
    "float16": dict(vectors=D(32, "Dot", datatype="float16"), n=100, ids="int", payload="mixed"),
    "uint8": dict(vectors=D(32, "Euclid", datatype="uint8"), n=100, ids="int", payload="mixed"),
    "multivector": dict(vectors={"colbert": D(16, "Dot", multivector_config={"comparator": "max_sim"})},
                        n=50, ids="int", payload="mixed"),
    "ids_int": dict(vectors=D(8, "Euclid"), n=300, ids="int_sparse", payload="small"),
    "ids_uuid": dict(vectors=D(8, "Euclid"), n=300, ids="uuid", payload="small"),
    "ids_mixed": dict(vectors=D(8, "Euclid"), n=300, ids="mixed", payload="small"),
    "ids_big": dict(vectors=D(8, "Euclid"), n=300, ids="big", payload="small"),
    "payload_rich": dict(vectors=D(8, "Dot"), n=100, ids="int", payload="rich"),
    "payload_nulls": dict(vectors=D(8, "Dot"), n=100, ids="int", payload="nulls"),
    # payload keys named like the Milvus schema's fields ("id", "vector"): the conflict policy
    "payload_conflict": dict(vectors=D(4, "Dot"), n=40, ids="int", payload="conflict"),
    "payload_big": dict(vectors=D(8, "Dot"), n=20, ids="int", payload="big"),
    "empty": dict(vectors=D(8, "Cosine"), n=0, ids="int", payload="small"),
    "paging_100k": dict(vectors=D(8, "Euclid"), n=100_000, ids="int", payload="small"),
    # one key per payload index type, indexed after the upsert (generate() creates `indexes`)
    "payload_typed": dict(vectors=D(8, "Cosine"), n=300, ids="int", payload="typed",
                          indexes=TYPED_INDEXES),
}
ALL_SHAPES = list(SHAPES)
BIG_PAYLOAD_BYTES = 70 * 1024   # one point of payload_big is larger than Milvus's 64 KiB JSON limit


def collection_name(shape: str) -> str:
    return "dg_" + shape


def _rng(shape, seed, salt=""):
    return np.random.default_rng([seed, zlib.crc32((shape + salt).encode())])


# ---------------------------------------------------------------------------------------------
# ids
# ---------------------------------------------------------------------------------------------

def _uuid(rng) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def make_ids(kind, n, rng):
    if kind == "int":
        return list(range(1, n + 1))
    if kind == "int_sparse":
        ids = set()
        while len(ids) < n:
            ids.update(int(x) for x in rng.integers(0, 10**12, n - len(ids)))
        return sorted(ids)
    if kind == "uuid":
        return [_uuid(rng) for _ in range(n)]
    if kind == "mixed":
        half = n // 2
        return [int(x) for x in rng.choice(10**9, half, replace=False)] + \
               [_uuid(rng) for _ in range(n - half)]
    if kind == "big":
        lo = 1 << 63
        edge = [lo, lo + 1, (1 << 64) - 2, (1 << 64) - 1]
        ids = set(edge[:n])
        while len(ids) < n:
            ids.add(lo + int(rng.integers(0, 1 << 62)) * 2 + int(rng.integers(0, 2)))
        return sorted(ids)
    raise ValueError(f"unknown id kind {kind!r}")


# ---------------------------------------------------------------------------------------------
# payloads
# ---------------------------------------------------------------------------------------------

WORDS = ["alpha", "beta", "gamma", "delta", "épsilon", "ζήτα", "эта", "θ", "日本", "🙂"]


def _mixed_payload(i, rng):
    return {
        "title": f"document {i}",
        "i": int(i),
        "score": float(np.float64(rng.random()).round(6)),
        "flag": bool(i % 2),
        "tags": [WORDS[int(k)] for k in rng.integers(0, len(WORDS), int(rng.integers(0, 4)))],
        "meta": {"lang": WORDS[i % len(WORDS)], "n": int(rng.integers(-1000, 1000)),
                 "nested": {"depth": 2, "ok": True}},
        "ratings": [float(x) for x in np.round(rng.random(2), 3)],
    }


RICH_CONSTANTS = {
    "int_2p53_plus_1": 9007199254740993,
    "int64_min": -9223372036854775808,
    "int64_max": 9223372036854775807,
    "float_max": 1.7976931348623157e308,
    "float_min_subnormal": 5e-324,
    "float_neg_zero": -0.0,
    "float_whole": 1.0,
    "empty_obj": {},
    "empty_arr": [],
    "nested_empty": {"a": {}, "b": [], "c": [[], {}]},
    "ключ": "значение",
    "日本語キー": "値 🙂",
    "quotes": "she said \"hi\" \\ back\nslash\ttab\u0001ctl",
    "arr_mixed": ["s", 1, -2.5, True, {"k": [1, 2, {"z": "deep"}]}, []],
    "geo": {"lon": 13.4050, "lat": 52.5200},
    "date": "2026-01-02T03:04:05Z",
}


def _rich_payload(i, rng):
    p = {"i": int(i), "text": f"rich {i} " + WORDS[i % len(WORDS)]}
    p.update(RICH_CONSTANTS)
    p["matrix"] = [[int(x) for x in row] for row in rng.integers(-9, 9, (2, 3))]
    p["deep"] = {"l1": {"l2": {"l3": {"l4": [i, str(i)]}}}}
    return p


def _nulls_payload(i, rng):
    p = _mixed_payload(i, rng)
    if i % 3 == 0:
        p["maybe"] = None
    if i % 4 == 0:
        p["meta"]["nested"] = None
    if i % 5 == 0:
        p["tags"] = [None, "x", None]
    p["always_null"] = None
    return p


def _big_payload(i, rng):
    p = {"i": int(i), "kind": "small"}
    if i == 1:
        p = {"i": 1, "kind": "big", "blob": "x" * BIG_PAYLOAD_BYTES,
             "chunks": ["y" * 100 for _ in range(10)]}
    return p


CATEGORIES = ["books", "garden", "toys", "tools", "music"]


def _typed_payload(i, rng):
    """payload_typed: every key of TYPED_INDEXES typed as its index (qty is the string "n/a" in
    ~2% of points, rating missing in ~30%), plus unindexed tags / title / extra."""
    price = float(round(rng.random() * 1000, 2))
    if rng.random() < 0.1:
        price = float(int(price))  # whole floats (3.0): still floats in Qdrant's float index
    qty = int(rng.integers(-1000, 10**12, endpoint=True))
    if rng.random() < 0.02:
        qty = "n/a"
    secs = int(rng.integers(0, 3 * 365 * 86400))
    t = np.datetime64("2025-01-01T00:00:00") + np.timedelta64(secs, "s")
    p = {
        "category": CATEGORIES[int(rng.integers(0, len(CATEGORIES)))],
        "price": price,
        "qty": qty,
        "active": bool(rng.random() < 0.5),
        "created": str(t) + "Z",
        "ref": _uuid(rng),
    }
    if rng.random() < 0.7:
        p["rating"] = int(rng.integers(1, 6))
    p["tags"] = [WORDS[int(k)] for k in rng.integers(0, len(WORDS), int(rng.integers(0, 5)))]
    title = f"item {i} " + WORDS[i % len(WORDS)]
    if rng.random() < 0.01:
        title += " " + "long " * 70  # > 300 bytes
    p["title"] = title
    p["extra"] = {"sku": f"SKU-{i:05d}", "dims": {"w": int(rng.integers(1, 100)),
                                                  "h": int(rng.integers(1, 100))}}
    return p


PAYLOADS = {"typed": _typed_payload, "mixed": _mixed_payload, "rich": _rich_payload, "nulls": _nulls_payload,
            "big": _big_payload,
            "conflict": lambda i, rng: {"id": f"p{i}", "vector": int(i), "k": int(i)}, "small": lambda i, rng: {"i": int(i), "g": int(i % 7)}}


# ---------------------------------------------------------------------------------------------
# vectors
# ---------------------------------------------------------------------------------------------

def _dense(params, n, rng):
    size = params["size"]
    if params.get("datatype") == "uint8":
        return rng.integers(0, 256, (n, size)).astype(np.float32)
    arr = rng.standard_normal((n, size)).astype(np.float32)
    if params.get("datatype") == "float16":
        arr = arr.astype(np.float16).astype(np.float32)  # representable, so stored exactly
    return arr


def _sparse(n, rng):
    out = []
    for _ in range(n):
        k = int(rng.integers(1, 21))
        idx = rng.choice(1 << 20, k, replace=False).astype(np.int64)
        idx[0] = int(rng.integers(0, 0xFFFFFFFF))  # indices up to the u32 limit
        idx = np.unique(idx)
        rng.shuffle(idx)  # unsorted on purpose: Qdrant returns them sorted
        # sparse weights are non-negative (BM25/SPLADE-like): Milvus refuses negative ones
        vals = (np.abs(rng.standard_normal(len(idx))) + 0.01).astype(np.float32)
        out.append({"indices": [int(x) for x in idx], "values": [float(x) for x in vals]})
    return out


def _multi(params, n, rng):
    return [rng.standard_normal((int(rng.integers(1, 5)), params["size"])).astype(np.float32)
            for _ in range(n)]


def make_points(shape, n=None, seed=0):
    """The points of a shape as plain dicts {id, vector, payload}, in insertion order.

    Vectors are as sent (float32 values as Python floats); the server may normalise (Cosine) or
    convert (float16/uint8) them, see TESTING.md. Sparse vectors are sent unsorted.
    """
    spec = SHAPES[shape]
    n = spec["n"] if n is None else n
    rng = _rng(shape, seed)
    ids = make_ids(spec["ids"], n, _rng(shape, seed, "ids"))
    vectors = spec["vectors"]
    if "size" in vectors:
        dense = {"": _dense(vectors, n, rng)}
    else:
        dense = {}
        for name, params in vectors.items():
            if params.get("multivector_config"):
                dense[name] = _multi(params, n, rng)
            else:
                dense[name] = _dense(params, n, rng)
    sparse = {name: _sparse(n, rng) for name in spec.get("sparse", {})}
    pay = PAYLOADS[spec["payload"]]
    prng = _rng(shape, seed, "payload")
    points = []
    for j in range(n):
        if "" in dense:
            vec = dense[""][j].tolist()
        else:
            vec = {name: arr[j].tolist() for name, arr in dense.items()}
            vec.update({name: sv[j] for name, sv in sparse.items()})
        points.append({"id": ids[j], "vector": vec, "payload": pay(j + 1, prng)})
    return points


# ---------------------------------------------------------------------------------------------
# Writing through qdrant-client
# ---------------------------------------------------------------------------------------------

def _vector_params(models, p):
    kw = {"size": p["size"], "distance": models.Distance(p["distance"])}
    if "datatype" in p:
        kw["datatype"] = models.Datatype(p["datatype"])
    if "multivector_config" in p:
        kw["multivector_config"] = models.MultiVectorConfig(
            comparator=models.MultiVectorComparator.MAX_SIM)
    return models.VectorParams(**kw)


def create_collection(client, shape, name=None, recreate=True):
    from qdrant_client import models
    spec = SHAPES[shape]
    name = name or collection_name(shape)
    if recreate and client.collection_exists(name):
        client.delete_collection(name)
    v = spec["vectors"]
    vectors = _vector_params(models, v) if "size" in v else \
        {k: _vector_params(models, p) for k, p in v.items()}
    sparse = {k: models.SparseVectorParams() for k in spec.get("sparse", {})} or None
    client.create_collection(name, vectors_config=vectors, sparse_vectors_config=sparse)
    return name


def _to_model_vector(models, vec):
    if isinstance(vec, dict):
        return {k: (models.SparseVector(**v) if isinstance(v, dict) else v) for k, v in vec.items()}
    return vec


def generate(client, shape, n=None, seed=0, name=None, batch=None):
    """Create the shape's collection (replacing it), upsert its points, then create the shape's
    payload indexes (`indexes`: key -> schema type); return its name."""
    from qdrant_client import models
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    name = create_collection(client, shape, name)
    points = make_points(shape, n, seed)
    if batch is None:
        dim = sum(p.get("size", 0) for p in SHAPES[shape]["vectors"].values()) \
            if "size" not in SHAPES[shape]["vectors"] else SHAPES[shape]["vectors"]["size"]
        batch = max(50, min(2000, 200_000 // max(dim, 1)))
    for start in range(0, len(points), batch):
        chunk = points[start:start + batch]
        client.upsert(name, points=[
            models.PointStruct(id=p["id"], vector=_to_model_vector(models, p["vector"]),
                               payload=p["payload"]) for p in chunk], wait=True)
    for field, schema in SHAPES[shape].get("indexes", {}).items():
        client.create_payload_index(name, field, models.PayloadSchemaType(schema), wait=True)
    return name


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests.datagen", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--api-key")
    ap.add_argument("--ca", help="CA file for an https URL (e.g. the test server's cert.pem)")
    ap.add_argument("--shapes", default="all", help="comma list or 'all'; known: " + ",".join(SHAPES))
    ap.add_argument("--n", type=int, default=None, help="points per shape (default per shape)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=None)
    args = ap.parse_args(argv)
    from qdrant_client import QdrantClient
    kw = {"verify": args.ca} if args.ca else {}
    client = QdrantClient(url=args.url, api_key=args.api_key, prefer_grpc=False, timeout=120, **kw)
    shapes = ALL_SHAPES if args.shapes == "all" else [s for s in args.shapes.split(",") if s]
    for shape in shapes:
        name = generate(client, shape, n=args.n, seed=args.seed, batch=args.batch)
        count = client.count(name, exact=True).count
        print(f"{shape}\t{name}\t{count}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
