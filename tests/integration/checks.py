"""Independent checks of a migration: read the source with qdrant-client and the target with
pymilvus, and compare them point by point (ids present exactly once, float32 vectors bit-exact,
sparse vectors equal, payloads equal JSON). Nothing here trusts what vmigrate reports.
"""

import json
import math
import os
import subprocess
import tempfile

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# the job store and the secret key of every test run live in a throwaway folder, never in ~
_HOME = tempfile.mkdtemp(prefix="vmig-test-home-")


def vmigrate_env(env=None):
    """The environment a test runs vmigrate in: its job store and key under the run's
    throwaway home, never the user's."""
    e = dict(os.environ)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    e.setdefault("XDG_DATA_HOME", os.path.join(_HOME, "data"))
    e.setdefault("XDG_CONFIG_HOME", os.path.join(_HOME, "config"))
    e.update(env or {})
    return e


def run_vmigrate(binary, *args, env=None, timeout=600, check=False):
    e = vmigrate_env(env)
    p = subprocess.run([binary, *args], capture_output=True, text=True, env=e, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"vmigrate {' '.join(args)} exited {p.returncode}\n"
                             f"stdout: {p.stdout[-4000:]}\nstderr: {p.stderr[-4000:]}")
    return p


def source_points(qc, coll, page=256):
    """All points of a Qdrant collection through qdrant-client: {id: Record}."""
    out, offset = {}, None
    while True:
        recs, offset = qc.scroll(coll, limit=page, offset=offset, with_payload=True,
                                 with_vectors=True)
        for r in recs:
            assert r.id not in out, f"source returned id {r.id} twice"
            out[r.id] = r
        if offset is None:
            return out


def fresh_source(qc, mc, shape, n=None, name=None):
    """(Re)generate a shape's source collection and drop any target of the same name."""
    from tests.datagen import datagen
    coll = datagen.generate(qc, shape, n=n, name=name)
    if mc.has_collection(coll):
        mc.drop_collection(coll)
    return coll


def strong_count(mc, coll):
    """count(*) of a Milvus collection read with Strong consistency (every write seen)."""
    return mc.query(coll, filter="", output_fields=["count(*)"],
                    consistency_level="Strong")[0]["count(*)"]


def target_rows(mc, coll, pk="id"):
    """All rows of a Milvus collection through pymilvus, as a list (duplicates kept)."""
    rows = []
    it = mc.query_iterator(coll, batch_size=500, filter="", output_fields=["*"])
    while True:
        batch = it.next()
        if not batch:
            it.close()
            return rows
        rows.extend(batch)


def f32(v):
    return np.asarray(v, dtype=np.float32)


def sparse_pairs(sv):
    """A sparse vector (qdrant SparseVector or pymilvus dict {index: value}) as sorted pairs."""
    if hasattr(sv, "indices"):
        pairs = zip(sv.indices, sv.values)
    elif isinstance(sv, dict):
        pairs = sv.items()
    else:  # pymilvus may hand back a scipy-like or bytes form; normalise what it gives
        pairs = dict(sv).items()
    return sorted((int(i), np.float32(v).tobytes()) for i, v in pairs)


def canon(v):
    """JSON value in a canonical form for comparison (floats compared exactly)."""
    return json.loads(json.dumps(v))


def compare(qc, mc, src_coll, dst_coll, vector_fields, pk="id", pk_varchar=False,
            drop_nulls=False, expect_missing=(), src_page=256):
    """Assert the Milvus collection holds exactly the Qdrant collection: each expected id once
    (read with query_iterator) and as many rows as ids (count(*) read with Strong consistency,
    which sees a key written twice that the iterator may merge).

    vector_fields: {qdrant vector name ('' = unnamed): (milvus field, 'dense'|'sparse')}.
    """
    src = source_points(qc, src_coll, page=src_page)
    rows = target_rows(mc, dst_coll, pk)
    seen = {}
    for row in rows:
        key = row[pk]
        assert key not in seen, f"id {key} is in Milvus twice"
        seen[key] = row
    expected_ids = {(str(i) if pk_varchar else i) for i in src if i not in expect_missing}
    assert set(seen) == expected_ids, (
        f"ids differ: missing {sorted(expected_ids - set(seen))[:5]}, "
        f"extra {sorted(set(seen) - expected_ids)[:5]}")
    # query_iterator may merge rows by primary key (Milvus 2.3), so a key written twice can
    # read back once: count(*) with Strong consistency counts every row the server holds
    got = strong_count(mc, dst_coll)
    assert got == len(expected_ids), (
        f"Milvus counts {got} rows (count(*), Strong) for {len(expected_ids)} ids: "
        f"{'a key is held twice' if got > len(expected_ids) else 'rows are missing'}")
    schema_fields = {pk} | {f for f, _ in vector_fields.values()}
    for pid, rec in src.items():
        if pid in expect_missing:
            continue
        row = seen[str(pid) if pk_varchar else pid]
        for qname, (field, kind) in vector_fields.items():
            sv = rec.vector if qname == "" else rec.vector[qname]
            if kind == "dense":
                a, b = f32(sv), f32(row[field])
                assert a.tobytes() == b.tobytes(), f"point {pid}: vector {field} differs"
            else:
                assert sparse_pairs(sv) == sparse_pairs(row[field]), \
                    f"point {pid}: sparse {field} differs"
        payload = {k: v for k, v in row.items() if k not in schema_fields}
        want = rec.payload or {}
        if drop_nulls:
            want = strip_nulls(want)
        assert canon(payload) == canon(want), f"point {pid}: payload differs:\n{payload}\n{want}"
    return len(src)


def strip_nulls(v):
    if isinstance(v, dict):
        return {k: strip_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [strip_nulls(x) for x in v if x is not None]
    return v


def is_finite(x):
    return isinstance(x, (int, float)) and math.isfinite(x)


def first_null_path(value, path=""):
    """The first null of a Qdrant payload in document order (the order the scanner reads it),
    named as null_paths names them; None when there is none."""
    if value is None:
        return path
    items = value.items() if isinstance(value, dict) else \
        ((f"[{i}]", v) for i, v in enumerate(value)) if isinstance(value, list) else ()
    for k, v in items:
        sub = (f"{path}{k}" if k.startswith("[") else f"{path}.{k}" if path else k)
        hit = first_null_path(v, sub)
        if hit is not None:
            return hit
    return None


def null_paths(value, path=""):
    """The paths of every null in a Qdrant payload, written as vmigrate names them in errors
    ("a", "meta.nested", "tags[0]")."""
    if value is None:
        return {path}
    out = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out |= null_paths(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out |= null_paths(v, f"{path}[{i}]")
    return out
