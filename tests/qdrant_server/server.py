"""Qdrant REST test server: the real Qdrant storage engine (qdrant-edge-py) behind a small HTTP/1.1
front end that answers the subset of Qdrant's REST API vmigrate reads (collections, scroll, count,
retrieve) plus what tests need to fill it (create, upsert, delete, payload indexes), with Qdrant's
envelope, error texts, status codes and JSON shapes. It exists so vmigrate's integration tests and benchmarks can run
against the genuine engine without a Qdrant binary or Docker. It also injects faults (503, delays,
cut bodies) and can serve TLS and require an API key. See docs/internals/TESTING.md.

Run from the repository root: `python -m tests.qdrant_server --port 0 [--data-dir D] ...`.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import orjson
import qdrant_edge as qe

VERSION = "1.19.0"
VERSION_TUPLE = (1, 19, 0)


def set_version(v):
    global VERSION, VERSION_TUPLE
    VERSION = v
    VERSION_TUPLE = tuple(int(x) for x in v.split(".")[:3])
COMMIT = "74f3e85b94c9d2bc0ba0d5e8d8fdc0f94e0c1e3a"  # test server, not a real build
U64_MAX = (1 << 64) - 1
NP_OPT = orjson.OPT_SERIALIZE_NUMPY

DISTANCES = {"Cosine": qe.Distance.Cosine, "Euclid": qe.Distance.Euclid,
             "Dot": qe.Distance.Dot, "Manhattan": qe.Distance.Manhattan}
DATATYPES = {"float32": qe.VectorStorageDatatype.Float32,
             "float16": qe.VectorStorageDatatype.Float16,
             "uint8": qe.VectorStorageDatatype.Uint8}
# Qdrant 1.19 defaults as shown by a live server (reference qdrant.md §7.10 Example A).
DEFAULT_HNSW = {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000,
                "max_indexing_threads": 0, "on_disk": False}
DEFAULT_OPTIMIZER = {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000,
                     "default_segment_number": 0, "max_segment_size": None,
                     "memmap_threshold": None, "indexing_threshold": 10000,
                     "flush_interval_sec": 5, "max_optimization_threads": None,
                     "prevent_unoptimized": None}
DEFAULT_WAL = {"wal_capacity_mb": 32, "wal_segments_ahead": 0, "wal_retain_closed": 1}
VECTOR_PARAM_ORDER = ("size", "distance", "hnsw_config", "quantization_config", "on_disk",
                      "memory", "datatype", "multivector_config")


class ApiError(Exception):
    """An error answered with Qdrant's JSON error envelope."""

    def __init__(self, status: int, message: str, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def not_found(name: str) -> ApiError:
    return ApiError(404, f"Not found: Collection `{name}` doesn't exist!")


def format_error(msg: str) -> ApiError:
    return ApiError(400, f"Format error in JSON body: {msg}")


def validation_error(field: str, msg: str) -> ApiError:
    return ApiError(422, f"Validation error in JSON body: [{field}: {msg}]")


# ---------------------------------------------------------------------------------------------
# Point ids and request decoding
# ---------------------------------------------------------------------------------------------

def parse_point_id(value):
    """Return an int (u64) or a canonical lowercase UUID string; raise ApiError otherwise."""
    if isinstance(value, bool):
        raise format_error(f"value {value!r} is not a valid point ID")
    if isinstance(value, int):
        if 0 <= value <= U64_MAX:
            return value
        raise format_error(f"value {value} is not a valid point ID, valid values are either an "
                           "unsigned integer or a UUID")
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise format_error(f"value {value} is not a valid point ID, valid values are either "
                               "an unsigned integer or a UUID") from None
    raise format_error(f"value {value!r} is not a valid point ID")


def id_json(pid) -> bytes:
    if isinstance(pid, int):
        return str(pid).encode()
    return b'"' + str(pid).encode() + b'"'


def id_key(pid):
    """Hashable canonical key for cache lookups (Edge returns int or uuid.UUID)."""
    return pid if isinstance(pid, int) else str(pid)


def decode_json(raw: bytes):
    if not raw:
        raise format_error("EOF while parsing a value at line 1 column 0")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    import json  # orjson refuses integers beyond 64 bits; the stdlib keeps them exact
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise format_error(str(exc)) from None


def payload_values(payload, key):
    """The values a payload holds at a key path ("a.b", "a[].b"), arrays flattened, as Qdrant's
    filters see them."""
    vals = [payload]
    for part in key.split("."):
        arr = part.endswith("[]")
        part = part[:-2] if arr else part
        nxt = []
        for v in vals:
            if isinstance(v, dict) and part in v:
                x = v[part]
                nxt.extend(x if isinstance(x, list) else [x])
            elif isinstance(v, list):
                for e in v:
                    if isinstance(e, dict) and part in e:
                        x = e[part]
                        nxt.extend(x if isinstance(x, list) else [x])
        vals = nxt
    return vals


def bool_match_ids(coll, key, wanted):
    """Ids of the points whose value at key is (or holds) the bool `wanted`. qdrant_edge's
    MatchValue reads a Python bool as the integer 1/0 (it then never matches a JSON true), so
    a bool match is answered from the payloads and handed to the engine as a has_id condition.
    The scan is O(points): fine for a test server."""
    ids, offset = set(), None
    top = key.split(".")[0].removesuffix("[]")
    while True:
        records, offset = coll.shard.scroll(qe.ScrollRequest(
            offset=offset, limit=4096, with_payload=qe.PayloadSelector.Include([top]),
            with_vector=False))
        for r in records:
            if any(v is wanted for v in payload_values(r.payload or {}, key)):
                ids.add(r.id if isinstance(r.id, int) else str(r.id))
        if offset is None:
            return ids


def build_range(key, r):
    """range: numbers -> RangeFloat (integer and float indexes), RFC 3339 strings ->
    RangeDateTime, as Qdrant's untagged RangeInterface."""
    if not isinstance(r, dict):
        raise format_error("data did not match any variant of untagged enum RangeInterface")
    bounds = {k: r.get(k) for k in ("gte", "gt", "lte", "lt")}
    given = [v for v in bounds.values() if v is not None]
    if given and all(isinstance(v, str) for v in given):
        try:
            return qe.FieldCondition(key, range=qe.RangeDateTime(**bounds))
        except Exception as exc:  # noqa: BLE001 - a bad date is a format error in Qdrant too
            raise format_error(f"data did not match any variant of untagged enum "
                               f"RangeInterface ({exc})") from None
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in given):
        raise format_error("data did not match any variant of untagged enum RangeInterface")
    return qe.FieldCondition(key, range=qe.RangeFloat(**bounds))


def build_condition(cond, coll=None):
    if not isinstance(cond, dict):
        raise format_error("data did not match any variant of untagged enum Condition")
    if "has_id" in cond:
        return qe.HasIdCondition({parse_point_id(x) for x in cond["has_id"]})
    if "slice" in cond:
        if VERSION_TUPLE < (1, 19, 0):  # servers before 1.19 have no slice condition
            raise format_error("data did not match any variant of untagged enum Condition")
        s = cond["slice"]
        total, index = s.get("total"), s.get("index")
        if not isinstance(total, int) or not isinstance(index, int) or total < 0 or index < 0:
            raise format_error("invalid slice condition")
        if total == 0:
            raise ApiError(400, "Bad request: slice total must be greater than 0")
        if index >= total:
            raise validation_error("filter.slice", f"index {index} must be less than total {total}")
        return qe.SliceCondition(total, index)
    if "is_empty" in cond:
        return qe.IsEmptyCondition(cond["is_empty"]["key"])
    if "is_null" in cond:
        return qe.IsNullCondition(cond["is_null"]["key"])
    if "key" in cond:
        key = cond["key"]
        if "match" in cond:
            m = cond["match"]
            if "value" in m:
                if isinstance(m["value"], bool):
                    if coll is None:
                        raise format_error("bool match needs a collection in test server")
                    return qe.HasIdCondition(bool_match_ids(coll, key, m["value"]))
                return qe.FieldCondition(key, match=qe.MatchValue(m["value"]))
            if "any" in m:
                return qe.FieldCondition(key, match=qe.MatchAny(m["any"]))
            if "except" in m:
                return qe.FieldCondition(key, match=qe.MatchExcept(m["except"]))
            raise format_error("unsupported match condition in test server")
        if "range" in cond:
            return build_range(key, cond["range"])
        if "geo_bounding_box" in cond:
            b = cond["geo_bounding_box"]
            pt = lambda g: qe.GeoPoint(lon=float(g["lon"]), lat=float(g["lat"]))  # noqa: E731
            return qe.FieldCondition(key, geo_bounding_box=qe.GeoBoundingBox(
                top_left=pt(b["top_left"]), bottom_right=pt(b["bottom_right"])))
        raise format_error("unsupported field condition in test server")
    if any(k in cond for k in ("must", "should", "must_not")):
        return build_filter(cond, coll)
    raise format_error("data did not match any variant of untagged enum Condition")


def build_filter(f, coll=None):
    """A JSON filter -> qe.Filter. coll: the collection the filter runs on (bool matches are
    resolved against its payloads, see bool_match_ids)."""
    if f is None:
        return None
    if not isinstance(f, dict):
        raise format_error("invalid type: expected struct Filter")

    def conds(key):
        v = f.get(key)
        if v is None:
            return None
        if isinstance(v, dict):
            v = [v]
        return [build_condition(c, coll) for c in v]

    return qe.Filter(must=conds("must"), should=conds("should"), must_not=conds("must_not"))


def parse_with_payload(v):
    if v is None or isinstance(v, bool):
        return True if v is None else v
    if isinstance(v, list):
        return qe.PayloadSelector.Include([str(x) for x in v])
    if isinstance(v, dict):
        if "include" in v:
            return qe.PayloadSelector.Include(list(v["include"]))
        if "exclude" in v:
            return qe.PayloadSelector.Exclude(list(v["exclude"]))
    raise format_error("data did not match any variant of untagged enum WithPayloadInterface")


def parse_with_vector(v):
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return v
    raise format_error("data did not match any variant of untagged enum WithVector")


def parse_limit(body, default=10):
    limit = body.get("limit", default)
    if limit is None:
        return default
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise format_error(f"invalid value: {limit!r}, expected usize")
    if limit == 0:
        raise validation_error("limit", "value 0 invalid, must be 1 or larger")
    return limit


def to_edge_vector(v, where="vector"):
    """JSON vector (unnamed list / multivector / named map) -> qdrant_edge vector."""
    if isinstance(v, list):
        return v
    if isinstance(v, dict):
        out = {}
        for name, val in v.items():
            if isinstance(val, dict):
                if "indices" not in val or "values" not in val:
                    raise format_error(f"{where}.{name}: sparse vector needs indices and values")
                if len(val["indices"]) != len(val["values"]):
                    raise ApiError(422, "Validation error in JSON body: [" + where + "." + name +
                                   ": must be the same length as indices]")
                out[name] = qe.SparseVector(list(val["indices"]), [float(x) for x in val["values"]])
            elif isinstance(val, list):
                out[name] = val
            else:
                raise format_error(f"{where}.{name}: data did not match any variant of "
                                   "untagged enum VectorStruct")
        return out
    raise format_error("data did not match any variant of untagged enum VectorStruct")


# ---------------------------------------------------------------------------------------------
# Vector encoding: float32 in shortest round-trip form (orjson prints numpy float32 like ryu)
# ---------------------------------------------------------------------------------------------

def dense_rows_json(rows):
    """List of equal-length float lists -> list of JSON byte strings, one np+orjson call per page."""
    if not rows:
        return []
    arr = np.asarray(rows, dtype=np.float32)
    if arr.ndim != 2:
        return [orjson.dumps(np.asarray(r, dtype=np.float32), option=NP_OPT) for r in rows]
    if arr.shape[1] == 0:
        return [b"[]"] * arr.shape[0]
    text = orjson.dumps(arr, option=NP_OPT)
    parts = text[2:-2].split(b"],[")
    return [b"[" + p + b"]" for p in parts]


def sparse_json(sv) -> bytes:
    idx = list(sv.indices)
    vals = np.asarray(list(sv.values), dtype=np.float32)
    return (b'{"indices":' + orjson.dumps(idx) + b',"values":' +
            orjson.dumps(vals, option=NP_OPT) + b"}")


def multi_json(mv) -> bytes:
    if not mv:
        return b"[]"
    return orjson.dumps(np.asarray(mv, dtype=np.float32), option=NP_OPT)


def encode_vectors(vectors):
    """Edge vectors for a page (list aligned with records, None = not requested) -> JSON bytes."""
    out = [None] * len(vectors)
    groups = {}  # dense vectors grouped by (name, dim) for one numpy conversion each
    named = {}
    for i, v in enumerate(vectors):
        if v is None:
            continue
        if isinstance(v, list):
            if v and isinstance(v[0], list):
                out[i] = multi_json(v)
            else:
                groups.setdefault((None, len(v)), []).append((i, v))
        elif isinstance(v, dict):
            named[i] = {}
            for name, val in v.items():
                if isinstance(val, list):
                    if val and isinstance(val[0], list):
                        named[i][name] = multi_json(val)
                    else:
                        named[i][name] = None
                        groups.setdefault((name, len(val)), []).append((i, val))
                else:
                    named[i][name] = sparse_json(val)
        else:
            out[i] = b"null"
    for (name, _dim), items in groups.items():
        encoded = dense_rows_json([v for _, v in items])
        for (i, _), txt in zip(items, encoded):
            if name is None:
                out[i] = txt
            else:
                named[i][name] = txt
    for i, m in named.items():
        out[i] = b"{" + b",".join(orjson.dumps(k) + b":" + t for k, t in m.items()) + b"}"
    return out


# ---------------------------------------------------------------------------------------------
# Collections
# ---------------------------------------------------------------------------------------------

def _check_vector_params(p, where):
    if not isinstance(p, dict):
        raise format_error(f"{where}: data did not match any variant of untagged enum VectorsConfig")
    size, dist = p.get("size"), p.get("distance")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise format_error(f"{where}.size: invalid value, expected u64")
    if size < 1 or size > 65536:
        raise validation_error(f"{where}.size", f"value {size} invalid, must be in range 1..=65536")
    if dist not in DISTANCES:
        raise format_error(f"unknown variant `{dist}`, expected one of `Cosine`, `Euclid`, "
                           "`Dot`, `Manhattan`")
    dt = p.get("datatype")
    if dt is not None and dt not in DATATYPES:
        raise format_error(f"unknown variant `{dt}`, expected one of `float32`, `uint8`, "
                           "`float16`")
    mv = p.get("multivector_config")
    if mv is not None and (not isinstance(mv, dict) or mv.get("comparator") != "max_sim"):
        raise format_error("unknown multivector comparator, expected `max_sim`")
    return {k: p[k] for k in VECTOR_PARAM_ORDER if k in p and p[k] is not None}


def normalize_create_request(body):
    """Validate a PUT /collections/{c} body; return (normalized config dict, EdgeConfig)."""
    if not isinstance(body, dict):
        raise format_error("invalid type: expected struct CreateCollection")
    vectors = body.get("vectors")
    if vectors is None:
        vectors = {}
    if not isinstance(vectors, dict):
        raise format_error("data did not match any variant of untagged enum VectorsConfig")
    if "size" in vectors or "distance" in vectors:
        vectors = _check_vector_params(vectors, "vectors")
        unnamed = True
    else:
        vectors = {n: _check_vector_params(p, f"vectors.{n}") for n, p in sorted(vectors.items())}
        unnamed = False
    sparse = body.get("sparse_vectors") or {}
    if not isinstance(sparse, dict):
        raise format_error("invalid type: expected a map for sparse_vectors")
    sparse_norm = {}
    for n, p in sorted(sparse.items()):
        p = p or {}
        mod = p.get("modifier")
        if mod is not None and mod not in ("none", "idf"):
            raise format_error(f"unknown variant `{mod}`, expected `none` or `idf`")
        sparse_norm[n] = {k: p[k] for k in ("index", "modifier") if p.get(k) is not None}
    cfg = {
        "unnamed": unnamed,
        "vectors": vectors,
        "sparse_vectors": sparse_norm if body.get("sparse_vectors") is not None else None,
        "shard_number": body.get("shard_number") or 1,
        "replication_factor": body.get("replication_factor") or 1,
        "write_consistency_factor": body.get("write_consistency_factor") or 1,
        "on_disk_payload": body.get("on_disk_payload", True) if body.get("on_disk_payload") is not None else True,
        "hnsw_config": {**DEFAULT_HNSW, **(body.get("hnsw_config") or {})},
        "optimizer_config": {**DEFAULT_OPTIMIZER, **(body.get("optimizers_config") or {})},
        "wal_config": {**DEFAULT_WAL, **(body.get("wal_config") or {})},
        "quantization_config": body.get("quantization_config"),
        "metadata": body.get("metadata"),
        "strict_mode_config": _check_strict_mode(body.get("strict_mode_config")),
    }
    return cfg, edge_config(cfg)


STRICT_INT_FIELDS = ("max_query_limit", "max_timeout", "read_rate_limit", "write_rate_limit",
                     "upsert_max_batchsize", "search_max_batchsize", "filter_max_conditions",
                     "condition_max_size", "max_points_count", "search_max_hnsw_ef")


def _check_strict_mode(sm):
    """The create body's strict_mode_config: kept as given (known keys checked), shown in the
    collection info; max_query_limit and read_rate_limit are enforced (see check_read)."""
    if sm is None:
        return None
    if not isinstance(sm, dict):
        raise format_error("invalid type: expected struct StrictModeConfig")
    for k in STRICT_INT_FIELDS:
        v = sm.get(k)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise format_error(f"strict_mode_config.{k}: invalid value: {v!r}, expected usize")
    return {k: v for k, v in sm.items() if v is not None}


def _edge_vector_params(p):
    kw = {}
    if "datatype" in p:
        kw["datatype"] = DATATYPES[p["datatype"]]
    if "multivector_config" in p:
        kw["multivector_config"] = qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim)
    if "on_disk" in p:
        kw["on_disk"] = bool(p["on_disk"])
    return qe.EdgeVectorParams(size=p["size"], distance=DISTANCES[p["distance"]], **kw)


def edge_config(cfg):
    if cfg["unnamed"]:
        vectors = _edge_vector_params(cfg["vectors"])
    else:
        vectors = {n: _edge_vector_params(p) for n, p in cfg["vectors"].items()}
    sparse = {}
    for n, p in (cfg["sparse_vectors"] or {}).items():
        kw = {}
        if p.get("modifier") == "idf":
            kw["modifier"] = qe.Modifier.Idf
        sparse[n] = qe.EdgeSparseVectorParams(**kw)
    return qe.EdgeConfig(vectors=vectors if (cfg["unnamed"] or vectors) else None,
                         sparse_vectors=sparse or None, on_disk_payload=cfg["on_disk_payload"])


class Collection:
    """One Qdrant collection = one Edge shard + its creation config + a vector text cache."""

    def __init__(self, name, path, cfg, shard, cache_limit):
        self.name = name
        self.path = path
        self.cfg = cfg
        self.shard = shard
        self.lock = threading.Lock()      # serializes writes and cache invalidation
        self.generation = 0               # bumped by every write; guards cache fills
        self.cache = {}                   # id key -> JSON bytes of the full `vector` value
        self.cache_bytes = 0
        self.cache_limit = cache_limit
        self.op_id = 0
        self.cache_cold = True            # see ep_scroll: cold pages are read in one call
        self.gcache = {}                  # id key -> protobuf bytes of its VectorsOutput (gRPC)
        self.gcache_bytes = 0
        self.gcache_cold = True
        self.rate_lock = threading.Lock()  # read rate limit window (strict mode), both faces
        self.rate_start = 0.0
        self.rate_count = 0

    def save_config(self):
        """Rewrite config.json (the creation config plus the payload index params)."""
        path = os.path.join(self.path, "config.json")
        with open(path + ".tmp", "wb") as fh:
            fh.write(orjson.dumps({"name": self.name, "config": self.cfg},
                                  option=orjson.OPT_INDENT_2))
        os.replace(path + ".tmp", path)

    def info_json(self):
        info = self.shard.info()
        params = {"vectors": self.cfg["vectors"],
                  "shard_number": self.cfg["shard_number"],
                  "replication_factor": self.cfg["replication_factor"],
                  "write_consistency_factor": self.cfg["write_consistency_factor"],
                  "on_disk_payload": self.cfg["on_disk_payload"]}
        if self.cfg["sparse_vectors"] is not None:
            params["sparse_vectors"] = self.cfg["sparse_vectors"]
        config = {"params": params, "hnsw_config": self.cfg["hnsw_config"],
                  "optimizer_config": self.cfg["optimizer_config"],
                  "wal_config": self.cfg["wal_config"],
                  "quantization_config": self.cfg["quantization_config"]}
        if self.cfg.get("strict_mode_config") is not None:
            config["strict_mode_config"] = self.cfg["strict_mode_config"]
        if self.cfg.get("metadata") is not None:
            config["metadata"] = self.cfg["metadata"]
        return {"status": "green", "optimizer_status": "ok",
                "indexed_vectors_count": info.indexed_vectors_count,
                "points_count": info.points_count,
                "segments_count": info.segments_count,
                "config": config, "payload_schema": payload_schema(self),
                "update_queue": {"length": 0}}

    # -- cache -----------------------------------------------------------------------------
    def cache_store(self, generation, items):
        with self.lock:
            if generation != self.generation:
                return
            for k, txt in items:
                if self.cache_bytes + len(txt) > self.cache_limit:
                    return
                if k not in self.cache:
                    self.cache[k] = txt
                    self.cache_bytes += len(txt)

    def cache_drop(self, keys=None):
        if keys is None:
            self.cache.clear()
            self.cache_bytes = 0
            self.gcache.clear()
            self.gcache_bytes = 0
            return
        for k in keys:
            txt = self.cache.pop(k, None)
            if txt is not None:
                self.cache_bytes -= len(txt)
            b = self.gcache.pop(k, None)
            if b is not None:
                self.gcache_bytes -= len(b)

    def gcache_store(self, generation, items):
        with self.lock:
            if generation != self.generation:
                return
            for k, b in items:
                if self.gcache_bytes + len(b) > self.cache_limit:
                    return
                if k not in self.gcache:
                    self.gcache[k] = b
                    self.gcache_bytes += len(b)

    def check_read(self, face, limit=None, op=None, vectors=None):
        """Strict mode for one read request (both faces): the limit against max_query_limit
        (Qdrant's check_limit_opt wording, a BadRequest), then the collection's read rate
        limit: at most read_rate_limit reads per window (RATE_WINDOW_S seconds, 60 as in
        Qdrant's per-minute limit), beyond that 429 / RESOURCE_EXHAUSTED with the seconds
        until the window ends. Qdrant uses a token bucket; a fixed window is enough to test
        that a client paces itself."""
        wait = THROTTLE.take(limit)
        if wait:
            STATS.add_throttled(face)
            raise ApiError(429, "Rate limiting exceeded: Read rate limit exceeded: Operation "
                                f"requires 1 tokens but only 0.0 were available. Retry after "
                                f"{wait}s", headers={"Retry-After": str(wait)})
        sm = self.cfg.get("strict_mode_config")
        if not sm or not sm.get("enabled"):
            READS.add(self.name, limit, op, vectors, time.monotonic())
            return
        mx = sm.get("max_query_limit")
        if mx is not None and limit is not None and limit > mx:
            STATS.add_strict(face)
            raise ApiError(400, f'Bad request: Limit exceeded {limit} > {mx} for "limit". '
                                f'Help: Reduce the "limit" parameter to or below {mx}.')
        rl = sm.get("read_rate_limit")
        if rl is None:
            READS.add(self.name, limit, op, vectors, time.monotonic())
            return
        now = time.monotonic()
        with self.rate_lock:
            if now - self.rate_start >= RATE_WINDOW_S:
                self.rate_start, self.rate_count = now, 0
            if self.rate_count < rl:
                self.rate_count += 1
                READS.add(self.name, limit, op, vectors, now)
                return
            wait = max(1, int(-(-(self.rate_start + RATE_WINDOW_S - now) // 1)))
        STATS.add_throttled(face)
        raise ApiError(429, "Rate limiting exceeded: Read rate limit exceeded: Operation "
                            f"requires 1 tokens but only 0.0 were available. Retry after "
                            f"{wait}s", headers={"Retry-After": str(wait)})

    def reset_rate_window(self):
        """Test-only: end the read rate limit window now (the next read opens a new one)."""
        with self.rate_lock:
            self.rate_start, self.rate_count = -RATE_WINDOW_S, 0

    def full_vectors(self, records):
        """JSON of all vectors for records (with_vector=true), through the cache."""
        gen = self.generation
        out = [None] * len(records)
        missing = []
        for i, r in enumerate(records):
            txt = self.cache.get(id_key(r.id)) if self.cache_limit else None
            if txt is None:
                missing.append(i)
            else:
                out[i] = txt
        # A page that mostly missed switches the next scrolls to one-call mode (see ep_scroll).
        self.cache_cold = not self.cache_limit or len(missing) * 2 > len(records)
        if missing:
            ids = [records[i].id for i in missing]
            got = self.shard.retrieve(ids, with_payload=False, with_vector=True)
            by_id = {id_key(r.id): r.vector for r in got}
            keys = [id_key(records[i].id) for i in missing]
            enc = encode_vectors([by_id.get(k) for k in keys])
            fill = []
            for i, k, txt in zip(missing, keys, enc):
                if txt is None:
                    txt = b"{}"
                out[i] = txt
                fill.append((k, txt))
            if self.cache_limit:
                self.cache_store(gen, fill)
        return out


class Store:
    """All collections under one data directory."""

    def __init__(self, data_dir, cache_limit, eager_cache):
        self.data_dir = data_dir
        self.root = os.path.join(data_dir, "collections")
        os.makedirs(self.root, exist_ok=True)
        self.lock = threading.Lock()
        self.collections = {}
        self.cache_limit = cache_limit
        self.eager_cache = eager_cache
        for entry in sorted(os.listdir(self.root)):
            path = os.path.join(self.root, entry)
            cfg_path = os.path.join(path, "config.json")
            if not os.path.isfile(cfg_path):
                continue
            with open(cfg_path, "rb") as fh:
                saved = orjson.loads(fh.read())
            shard = qe.EdgeShard.load(os.path.join(path, "shard"))
            name = saved["name"]
            self.collections[name] = Collection(name, path, saved["config"], shard, cache_limit)

    def get(self, name) -> Collection:
        c = self.collections.get(name)
        if c is None:
            raise not_found(name)
        return c

    def create(self, name, body):
        if not name or len(name) > 255 or "/" in name or "\0" in name:
            raise validation_error("collection_name",
                                   "collection name cannot be empty or contain `/`")
        cfg, ecfg = normalize_create_request(body)
        with self.lock:
            if name in self.collections:
                raise ApiError(409, f"Wrong input: Collection `{name}` already exists!")
            path = os.path.join(self.root, urllib.parse.quote(name, safe=""))
            if os.path.exists(path):
                shutil.rmtree(path)
            os.makedirs(path)
            try:
                shard = qe.EdgeShard.create(os.path.join(path, "shard"), ecfg)
            except Exception as exc:  # noqa: BLE001 - engine errors become 400 like the server
                shutil.rmtree(path, ignore_errors=True)
                raise ApiError(400, f"Wrong input: {exc}") from None
            with open(os.path.join(path, "config.json"), "wb") as fh:
                fh.write(orjson.dumps({"name": name, "config": cfg}, option=orjson.OPT_INDENT_2))
            self.collections[name] = Collection(name, path, cfg, shard, self.cache_limit)

    def delete(self, name):
        with self.lock:
            c = self.collections.pop(name, None)
        if c is None:
            return False
        with c.lock:
            try:
                c.shard.close()
            except Exception:  # noqa: BLE001
                pass
            shutil.rmtree(c.path, ignore_errors=True)
        return True

    def close(self):
        with self.lock:
            for c in self.collections.values():
                try:
                    c.shard.flush()
                    c.shard.close()
                except Exception:  # noqa: BLE001
                    pass
            self.collections.clear()


# ---------------------------------------------------------------------------------------------
# Payload indexes: PUT /collections/{c}/index, DELETE /collections/{c}/index/{field}. The engine
# builds the index (UpdateOperation.create_field_index, persisted in the shard) and counts its
# points; the params object a client gave is kept in config.json, to echo in payload_schema.
# ---------------------------------------------------------------------------------------------

SCHEMA_TYPES = {"keyword": qe.PayloadSchemaType.Keyword, "integer": qe.PayloadSchemaType.Integer,
                "float": qe.PayloadSchemaType.Float, "geo": qe.PayloadSchemaType.Geo,
                "text": qe.PayloadSchemaType.Text, "bool": qe.PayloadSchemaType.Bool,
                "datetime": qe.PayloadSchemaType.Datetime, "uuid": qe.PayloadSchemaType.Uuid}
SCHEMA_NAMES = {str(v).rsplit(".", 1)[-1].lower(): k for k, v in SCHEMA_TYPES.items()}
# Params object per type: the engine's class and the keys Qdrant serialises, in its struct order
# (every one skipped when null, except text's tokenizer, which defaults to "word").
INDEX_PARAMS = {
    "keyword": (qe.KeywordIndexParams, ("is_tenant", "on_disk", "enable_hnsw")),
    "integer": (qe.IntegerIndexParams, ("lookup", "range", "is_principal", "on_disk",
                                        "enable_hnsw")),
    "float": (qe.FloatIndexParams, ("is_principal", "on_disk", "enable_hnsw")),
    "geo": (qe.GeoIndexParams, ("on_disk", "enable_hnsw")),
    "text": (qe.TextIndexParams, ("tokenizer", "min_token_len", "max_token_len", "lowercase",
                                  "ascii_folding", "phrase_matching", "on_disk", "enable_hnsw")),
    "bool": (qe.BoolIndexParams, ("on_disk", "enable_hnsw")),
    "datetime": (qe.DatetimeIndexParams, ("is_principal", "on_disk", "enable_hnsw")),
    "uuid": (qe.UuidIndexParams, ("is_tenant", "on_disk", "enable_hnsw")),
}
# Params Qdrant has that this server refuses (400) rather than drop; other unknown keys are
# ignored, as Qdrant's serde does.
UNSUPPORTED_PARAMS = ("stopwords", "stemmer", "scoring", "prefix", "memory", "nested")
TOKENIZERS = {"prefix": qe.TokenizerType.Prefix, "whitespace": qe.TokenizerType.Whitespace,
              "word": qe.TokenizerType.Word, "multilingual": qe.TokenizerType.Multilingual,
              "code": qe.TokenizerType.Code}


def schema_error(raw) -> ApiError:
    col = len(raw.decode("utf-8", "replace").rstrip()) if raw else 0
    return format_error("data did not match any variant of untagged enum PayloadFieldSchema at "
                        f"line 1 column {col}")


def parse_field_schema(fs, raw):
    """field_schema (a type name or a params object) -> (engine schema, params JSON or None).
    The params JSON is what Qdrant echoes in payload_schema: "type" first, then the given keys
    in Qdrant's order, nulls dropped."""
    if isinstance(fs, str):
        if fs not in SCHEMA_TYPES:
            raise schema_error(raw)
        return SCHEMA_TYPES[fs], None
    if not isinstance(fs, dict) or fs.get("type") not in INDEX_PARAMS:
        raise schema_error(raw)
    kind = fs["type"]
    cls, keys = INDEX_PARAMS[kind]
    for k in UNSUPPORTED_PARAMS:
        if fs.get(k) is not None:  # Qdrant knows these; echoing them unapplied would mislead
            raise ApiError(400, f"Bad request: the test server does not implement the index "
                                f"param `{k}`")
    kw, echo = {}, {"type": kind}
    for k in keys:
        v = fs.get(k)
        if k == "tokenizer":
            v = "word" if v is None else v
            if v not in TOKENIZERS:
                raise schema_error(raw)
            kw[k], echo[k] = TOKENIZERS[v], v
            continue
        if v is None:
            continue
        if k in ("min_token_len", "max_token_len"):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise schema_error(raw)
        elif not isinstance(v, bool):
            raise schema_error(raw)
        kw[k], echo[k] = v, v
    try:
        return cls(**kw), echo
    except Exception:  # noqa: BLE001
        raise schema_error(raw) from None


def ep_create_index(store, coll, body, query, raw=b""):
    if not isinstance(body, dict):
        raise format_error("invalid type: expected struct CreateFieldIndex")
    field = body.get("field_name")
    if not isinstance(field, str):
        raise format_error("missing field `field_name`" if field is None
                           else "invalid type: expected a string for field_name")
    if not field:
        raise validation_error("field_name", "must not be empty")
    fs = body.get("field_schema")
    if fs is None:  # Qdrant infers nothing from the data here either
        raise ApiError(400, "Bad request: Can't auto-detect field type, please specify "
                            "`field_schema` in the request")
    schema, echo = parse_field_schema(fs, raw)
    with coll.lock:
        try:
            coll.shard.update(qe.UpdateOperation.create_field_index(field, schema))
        except Exception as exc:  # noqa: BLE001
            raise ApiError(400, f"Wrong input: {exc}") from None
        params = dict(coll.cfg.get("payload_index_params") or {})
        if echo is None:
            params.pop(field, None)
        else:
            params[field] = echo
        coll.cfg["payload_index_params"] = params
        coll.save_config()
        coll.op_id += 1
        op = coll.op_id
    wait = query.get("wait", ["false"])[0] in ("true", "1")
    return {"operation_id": op, "status": "completed" if wait else "acknowledged"}


def ep_delete_index(store, coll, field, query):
    """Deleting an index that does not exist is a no-op, as in Qdrant."""
    with coll.lock:
        if field in coll.shard.info().payload_schema:
            coll.shard.update(qe.UpdateOperation.delete_field_index(field))
        params = dict(coll.cfg.get("payload_index_params") or {})
        if params.pop(field, None) is not None:
            coll.cfg["payload_index_params"] = params
            coll.save_config()
        coll.op_id += 1
        op = coll.op_id
    wait = query.get("wait", ["false"])[0] in ("true", "1")
    return {"operation_id": op, "status": "completed" if wait else "acknowledged"}


def payload_schema(coll):
    """{field: {"data_type", "params"?, "points"}} from the engine's indexes (sorted by field;
    Qdrant's is a hash map, so any order is Qdrant's). params only for an index made from a
    params object."""
    params = coll.cfg.get("payload_index_params") or {}
    out = {}
    for field, info in sorted(coll.shard.info().payload_schema.items()):
        e = {"data_type": SCHEMA_NAMES[str(info.data_type).rsplit(".", 1)[-1].lower()]}
        if field in params:
            e["params"] = params[field]
        e["points"] = info.points
        out[field] = e
    return out


# ---------------------------------------------------------------------------------------------
# Endpoint implementations (return Python objects or raw JSON bytes for `result`)
# ---------------------------------------------------------------------------------------------

class Raw(bytes):
    """Pre-serialized JSON for the `result` field."""


def ep_upsert(store, coll, body, query):
    if not isinstance(body, dict):
        raise format_error("invalid type: expected struct PointInsertOperations")
    points = []
    if "points" in body:
        for i, p in enumerate(body["points"]):
            if "id" not in p:
                raise format_error(f"points[{i}]: missing field `id`")
            vec = p.get("vector", p.get("vectors"))
            if vec is None:
                vec = {}
            payload = p.get("payload")
            if payload is not None and not isinstance(payload, dict):
                raise format_error(f"points[{i}].payload: invalid type, expected a map")
            points.append(qe.Point(parse_point_id(p["id"]), to_edge_vector(vec), payload))
    elif "batch" in body:
        b = body["batch"]
        ids = b.get("ids") or []
        vectors = b.get("vectors")
        payloads = b.get("payloads") or [None] * len(ids)
        if isinstance(vectors, dict):
            per_point = [{n: vs[i] for n, vs in vectors.items() if vs[i] is not None}
                         for i in range(len(ids))]
        else:
            per_point = vectors or [{}] * len(ids)
        if len(per_point) != len(ids) or len(payloads) != len(ids):
            raise validation_error("batch", "number of ids, vectors and payloads must match")
        for i, pid in enumerate(ids):
            points.append(qe.Point(parse_point_id(pid), to_edge_vector(per_point[i]), payloads[i]))
    else:
        raise format_error("data did not match any variant of untagged enum PointInsertOperations")
    keys = [id_key(p.id) for p in points]
    with coll.lock:
        try:
            coll.shard.update(qe.UpdateOperation.upsert_points(points))
        except Exception as exc:  # noqa: BLE001
            raise ApiError(400, f"Wrong input: {exc}") from None
        coll.generation += 1
        coll.cache_drop(keys)
        coll.op_id += 1
        op = coll.op_id
    if store.eager_cache and coll.cache_limit and points:
        recs = coll.shard.retrieve([p.id for p in points], with_payload=False, with_vector=False)
        coll.full_vectors(recs)
    wait = query.get("wait", ["false"])[0] in ("true", "1")
    return {"operation_id": op, "status": "completed" if wait else "acknowledged"}


def ep_delete_points(store, coll, body, query):
    if not isinstance(body, dict):
        raise format_error("invalid type: expected struct PointsSelector")
    with coll.lock:
        if "points" in body:
            ids = [parse_point_id(x) for x in body["points"]]
            coll.shard.update(qe.UpdateOperation.delete_points(ids))
            coll.cache_drop([id_key(x) for x in ids])
        elif "filter" in body:
            coll.shard.update(qe.UpdateOperation.delete_points_by_filter(
                build_filter(body["filter"], coll)))
            coll.cache_drop()
        else:
            raise format_error("data did not match any variant of untagged enum PointsSelector")
        coll.generation += 1
        coll.op_id += 1
        op = coll.op_id
    wait = query.get("wait", ["false"])[0] in ("true", "1")
    return {"operation_id": op, "status": "completed" if wait else "acknowledged"}


def records_json(coll, records, with_payload, with_vector) -> bytes:
    if isinstance(with_vector, list) and with_vector and isinstance(with_vector[0], bytes):
        vecs = with_vector  # already encoded by the caller
    elif with_vector is True:
        vecs = coll.full_vectors(records)
    elif with_vector:
        vecs = encode_vectors([r.vector for r in records])
    else:
        vecs = None
    parts = [b"["]
    add = parts.append
    for i, r in enumerate(records):
        add(b'{"id":' if i == 0 else b',{"id":')
        add(id_json(r.id))
        if with_payload is not False:
            p = r.payload
            add(b',"payload":')
            add(orjson.dumps(p) if p is not None else b"{}")
        if vecs is not None:
            add(b',"vector":')
            add(vecs[i] if vecs[i] is not None else b"{}")
        add(b"}")
    add(b"]")
    return b"".join(parts)


def ep_scroll(store, coll, body, query):
    body = body or {}
    if not isinstance(body, dict):
        raise format_error("invalid type: expected struct ScrollRequest")
    if body.get("order_by") is not None and body.get("offset") is not None:
        raise ApiError(400, "Bad request: Cannot use an `offset` when using `order_by`. The "
                            "alternative for paging is to use `order_by.start_from` and a filter "
                            "to exclude the IDs that you've already seen for the "
                            "`order_by.start_from` value")
    limit = parse_limit(body)
    offset = body.get("offset")
    offset = parse_point_id(offset) if offset is not None else None
    flt = build_filter(body.get("filter"), coll)
    wp = parse_with_payload(body.get("with_payload"))
    wv = parse_with_vector(body.get("with_vector", body.get("with_vectors")))
    # Full vectors normally come from the cache (Collection.full_vectors), so the scroll asks
    # Edge for none; while the cache is cold (last page mostly missed) one scroll with vectors
    # is cheaper than scroll + retrieve.
    cold = wv is True and coll.cache_cold
    edge_wv = True if cold else (wv if (wv is not True and wv) else False)
    gen = coll.generation
    try:
        records, nxt = coll.shard.scroll(qe.ScrollRequest(
            offset=offset, limit=limit, filter=flt, with_payload=wp, with_vector=edge_wv))
    except Exception as exc:  # noqa: BLE001
        raise ApiError(400, f"Bad request: {exc}") from None
    if cold:
        keys = [id_key(r.id) for r in records]
        hits = sum(1 for k in keys if k in coll.cache)
        if coll.cache_limit and records and hits * 2 > len(records):
            coll.cache_cold = False  # warmed meanwhile (earlier pass or eager fill)
        vecs = encode_vectors([r.vector for r in records])
        vecs = [v if v is not None else b"{}" for v in vecs]
        if coll.cache_limit:
            coll.cache_store(gen, list(zip(keys, vecs)))
        pts = records_json(coll, records, wp, vecs)
    else:
        pts = records_json(coll, records, wp, wv)
    nxt_json = id_json(nxt) if nxt is not None else b"null"
    return Raw(b'{"points":' + pts + b',"next_page_offset":' + nxt_json + b"}")


def sample_ids(coll, limit):
    """limit ids of coll chosen at random (both faces' random-sample query): every id, then a
    random choice (fine for a test server)."""
    ids, offset = [], None
    while True:
        records, offset = coll.shard.scroll(qe.ScrollRequest(
            offset=offset, limit=4096, with_payload=False, with_vector=False))
        ids.extend(r.id for r in records)
        if offset is None:
            break
    return random.sample(ids, min(limit, len(ids)))


def nearest_query(coll, body):
    """The nearest-neighbour form of /points/query as qdrant_edge objects: `query` is a dense
    vector (a list), a sparse one ({"indices","values"}) or {"nearest": either}; `using` names
    the vector (absent: the unnamed one); params.exact / params.hnsw_ef as Qdrant takes them."""
    q = body.get("query")
    if isinstance(q, dict) and "nearest" in q:
        q = q["nearest"]
    using = body.get("using")
    if using is not None and not isinstance(using, str):
        raise format_error("invalid type: expected a string for `using`")
    if isinstance(q, list):
        if not q or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in q):
            raise format_error("data did not match any variant of untagged enum VectorInput")
        named = coll.cfg["vectors"] if not coll.cfg["unnamed"] else {}
        if using is None and not coll.cfg["unnamed"]:
            raise ApiError(400, "Wrong input: Not existing vector name error: ")
        if using is not None and using not in named:
            raise ApiError(400, f"Wrong input: Not existing vector name error: {using}")
        size = (coll.cfg["vectors"] if coll.cfg["unnamed"] else named[using])["size"]
        if len(q) != size:
            raise ApiError(400, f"Wrong input: Vector dimension error: expected dim: {size}, "
                                f"got {len(q)}")
        vec = [float(x) for x in q]
    elif isinstance(q, dict) and "indices" in q and "values" in q:
        if using is None or using not in (coll.cfg["sparse_vectors"] or {}):
            raise ApiError(400, f"Wrong input: Not existing vector name error: {using or ''}")
        if len(q["indices"]) != len(q["values"]):
            raise validation_error("query.indices", "must be the same length as values")
        vec = qe.SparseVector([int(i) for i in q["indices"]], [float(v) for v in q["values"]])
    else:
        raise ApiError(400, "Bad request: the test server implements the nearest-vector and "
                            "the random sample queries only")
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise format_error("invalid type: expected struct SearchParams")
    sp = qe.SearchParams(hnsw_ef=params.get("hnsw_ef"), exact=bool(params.get("exact", False)))
    return qe.QueryRequest(limit=parse_limit(body), offset=body.get("offset"),
                           query=qe.Query.Nearest(vec, using=using),
                           filter=build_filter(body.get("filter"), coll), params=sp,
                           with_payload=parse_with_payload(body.get("with_payload", False)),
                           with_vector=parse_with_vector(body.get("with_vector")),
                           score_threshold=body.get("score_threshold"))


def scored_json(coll, points):
    """ScoredPoint objects as Qdrant's JSON list: id, version, score, then payload and vector
    when asked for (the vector as records_json writes it)."""
    parts = []
    for p in points:
        item = b'{"id":' + id_json(p.id) + b',"version":' + str(p.version or 0).encode() + \
            b',"score":' + orjson.dumps(float(p.score))
        if p.payload is not None:
            item += b',"payload":' + orjson.dumps(p.payload)
        if p.vector is not None:
            item += b',"vector":' + (encode_vectors([p.vector])[0] or b"{}")
        parts.append(item + b"}")
    return b"[" + b",".join(parts) + b"]"


def ep_query(store, coll, body, query):
    """POST /points/query: the `sample: random` query (Qdrant >= 1.11), which vmigrate uses to
    cut id ranges on servers without the slice filter, and the nearest-vector query (dense or
    sparse, `using`, params.exact), which `verify --search` runs: that one is qdrant-edge's own
    search, exact when asked. Points come back in the ScoredPoint shape {"id","version","score"}."""
    body = body or {}
    if not isinstance(body, dict):
        raise format_error("invalid type: expected struct QueryRequest")
    q = body.get("query")
    if isinstance(q, dict) and q.get("sample") == "random":
        pick = sample_ids(coll, parse_limit(body))
        pts = b",".join(b'{"id":' + id_json(i) + b',"version":0,"score":0.0}' for i in pick)
        return Raw(b'{"points":[' + pts + b"]}")
    req = nearest_query(coll, body)
    try:
        found = coll.shard.query(req)
    except Exception as exc:  # noqa: BLE001
        raise ApiError(400, f"Bad request: {exc}") from None
    return Raw(b'{"points":' + scored_json(coll, found) + b"}")


def ep_count(store, coll, body, query):
    body = body or {}
    if not isinstance(body, dict):
        raise format_error("invalid type: expected struct CountRequest")
    flt = build_filter(body.get("filter"), coll)
    exact = body.get("exact", True)
    n = coll.shard.count(qe.CountRequest(exact=bool(exact) if exact is not None else True,
                                         filter=flt))
    return {"count": n}


def ep_retrieve(store, coll, body, query):
    if not isinstance(body, dict) or "ids" not in body:
        raise format_error("missing field `ids`")
    ids = [parse_point_id(x) for x in body["ids"]]
    wp = parse_with_payload(body.get("with_payload"))
    wv = parse_with_vector(body.get("with_vector", body.get("with_vectors")))
    edge_wv = wv if (wv is not True and wv) else False
    records = coll.shard.retrieve(ids, with_payload=wp, with_vector=edge_wv)
    # Qdrant returns each id once even if requested twice.
    seen, uniq = set(), []
    for r in records:
        k = id_key(r.id)
        if k not in seen:
            seen.add(k)
            uniq.append(r)
    return Raw(records_json(coll, uniq, wp, wv))


def ep_get_point(store, coll, pid_text):
    try:
        pid = int(pid_text)
    except ValueError:
        pid = pid_text
    pid = parse_point_id(pid)
    records = coll.shard.retrieve([pid], with_payload=True, with_vector=False)
    if not records:
        raise ApiError(404, f"Not found: No point with id {pid} found")
    body = records_json(coll, records[:1], True, True)
    return Raw(body[1:-1])


# ---------------------------------------------------------------------------------------------
# HTTP layer
# ---------------------------------------------------------------------------------------------

RATE_WINDOW_S = 60.0  # --rate-window-s


class Stats:
    """Test-only counters per face (GET/DELETE /__test/stats): requests answered, response
    bytes sent (REST: body bytes as sent; gRPC: serialized message + 5 framing bytes), reads
    throttled by the strict-mode rate limit and requests refused by max_query_limit."""

    FACES = ("rest", "grpc")

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.data = {f: {"requests": 0, "response_bytes": 0, "throttled": 0,
                             "strict_rejected": 0} for f in self.FACES}

    def add(self, face, nbytes):
        with self.lock:
            d = self.data[face]
            d["requests"] += 1
            d["response_bytes"] += nbytes

    def add_throttled(self, face):
        with self.lock:
            self.data[face]["throttled"] += 1

    def add_strict(self, face):
        with self.lock:
            self.data[face]["strict_rejected"] += 1

    def as_dict(self):
        with self.lock:
            out = {f: dict(v) for f, v in self.data.items()}
        out["throttled"] = sum(out[f]["throttled"] for f in self.FACES)
        return out


STATS = Stats()


class Reads:
    """Test-only: the monotonic time of each page read (a read asking for more than one point,
    either face) the server answered past its throttles and strict-mode checks, per collection
    and which read it was (GET /__test/reads: {collection: [[seconds, op, vectors], ...]}, op
    the REST endpoint or gRPC method: "scroll", "query", "retrieve", ...; vectors: whether it
    asked for vectors (a copy's pages do, an id-only scan does not), null when unknown; DELETE,
    or DELETE /__test/stats: forget). A test checks a client's pacing from the gaps, timing
    nothing itself."""

    def __init__(self):
        self.lock = threading.Lock()
        self.data = {}

    def add(self, coll, limit, op, vectors, t):
        if limit is None or limit <= 1:
            return
        with self.lock:
            self.data.setdefault(coll, []).append([t, op, vectors])

    def reset(self):
        with self.lock:
            self.data = {}

    def as_dict(self):
        with self.lock:
            return {k: list(v) for k, v in self.data.items()}


READS = Reads()


class Throttle:
    """Test-only: answer the next `pages` page reads (a scroll, query or get asking for more
    than one point, on either face) as rate-limited (429 / RESOURCE_EXHAUSTED, Retry-After
    retry_after_s), as a strict-mode server under other clients' load does; set by PUT
    /__test/faults {"throttle_pages": N, "retry_after_s": S}. Id probes (limit 1) pass."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pages, self.retry_after_s = 0, 1

    def set(self, pages, retry_after_s=1):
        with self.lock:
            self.pages, self.retry_after_s = int(pages), int(retry_after_s)

    def take(self, limit):
        with self.lock:
            if self.pages <= 0 or limit is None or limit <= 1:
                return 0
            self.pages -= 1
            return self.retry_after_s


THROTTLE = Throttle()


class Faults:
    """Deterministic fault injection for /collections/* routes (REST) and the gRPC face."""

    def __init__(self, p503=0.0, delay=0.0, delay_s=0.0, cut=0.0, seed=0):
        self.lock = threading.Lock()
        self.set(p503, delay, delay_s, cut, seed)

    def set(self, p503=0.0, delay=0.0, delay_s=0.0, cut=0.0, seed=0):
        with getattr(self, "lock", threading.Lock()):
            self.p503, self.delay, self.delay_s, self.cut = p503, delay, delay_s, cut
            self.seed = seed
            self.rng = random.Random(seed)
            self.counts = {"requests": 0, "503": 0, "delay": 0, "cut": 0}

    def as_dict(self):
        return {"p503": self.p503, "delay": self.delay, "delay_s": self.delay_s,
                "cut": self.cut, "seed": self.seed, "counts": dict(self.counts)}

    def draw(self):
        """Return None or one of "503", "delay", "cut" for the next data request."""
        with self.lock:
            self.counts["requests"] += 1
            if not (self.p503 or self.delay or self.cut):
                return None
            x = self.rng.random()
            if x < self.p503:
                kind = "503"
            elif x < self.p503 + self.delay:
                kind = "delay"
            elif x < self.p503 + self.delay + self.cut:
                kind = "cut"
            else:
                return None
            self.counts[kind] += 1
            return kind


ROUTES = [
    ("GET", re.compile(r"^/collections$"), "list"),
    ("GET", re.compile(r"^/collections/([^/]+)$"), "info"),
    ("GET", re.compile(r"^/collections/([^/]+)/exists$"), "exists"),
    ("PUT", re.compile(r"^/collections/([^/]+)$"), "create"),
    ("DELETE", re.compile(r"^/collections/([^/]+)$"), "delete"),
    ("PUT", re.compile(r"^/collections/([^/]+)/points$"), "upsert"),
    ("POST", re.compile(r"^/collections/([^/]+)/points/delete$"), "delete_points"),
    ("POST", re.compile(r"^/collections/([^/]+)/points/scroll$"), "scroll"),
    ("POST", re.compile(r"^/collections/([^/]+)/points/count$"), "count"),
    ("POST", re.compile(r"^/collections/([^/]+)/points$"), "retrieve"),
    ("POST", re.compile(r"^/collections/([^/]+)/points/query$"), "query"),
    ("GET", re.compile(r"^/collections/([^/]+)/points/([^/]+)$"), "get_point"),
    ("PUT", re.compile(r"^/collections/([^/]+)/index$"), "create_index"),
    ("DELETE", re.compile(r"^/collections/([^/]+)/index/([^/]+)$"), "delete_index"),
    ("GET", re.compile(r"^/collections/([^/]+)/cluster$"), "coll_cluster"),
    ("GET", re.compile(r"^/collections/([^/]+)/aliases$"), "coll_aliases"),
    ("GET", re.compile(r"^/aliases$"), "aliases"),
    ("GET", re.compile(r"^/cluster$"), "cluster"),
]
POINT_ENDPOINTS = {"query": ep_query, "upsert": ep_upsert, "delete_points": ep_delete_points, "scroll": ep_scroll,
                   "count": ep_count, "retrieve": ep_retrieve}
OPEN_PATHS = ("/", "/healthz", "/readyz", "/livez")
READ_ENDPOINTS = ("scroll", "count", "retrieve", "query")


def read_limit(name, body):
    """The `limit` a read request asks for, for strict mode (None: not limited): scroll's
    default 10, query's limit, the number of ids a retrieve asks for."""
    if not isinstance(body, dict):
        body = {}
    if name == "scroll":
        lim = body.get("limit", 10)
        return lim if isinstance(lim, int) else None
    if name == "query":
        lim = body.get("limit", 10)
        return lim if isinstance(lim, int) else None
    if name == "retrieve":
        ids = body.get("ids")
        return len(ids) if isinstance(ids, list) else None
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "qdrant-test-server"
    sys_version = ""

    def log_message(self, fmt, *args):  # access log only when asked
        if self.server.cfg.access_log:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    # -- plumbing ----------------------------------------------------------------------------
    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            raw = b"".join(chunks)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
        if self.headers.get("Content-Encoding", "").lower() == "gzip" and raw:
            raw = gzip.decompress(raw)
        return raw

    def send(self, status, body: bytes, ctype="application/json", fault=None, extra=None,
             count=True):
        headers = [("Content-Type", ctype)] + list((extra or {}).items())
        if (body and len(body) > 1024 and self.server.cfg.compress and fault != "cut"
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body, compresslevel=1)
            headers.append(("Content-Encoding", "gzip"))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if count:
            STATS.add("rest", len(body))
        if fault == "cut":
            # Promise the whole body, deliver half, then drop the connection.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_result(self, result, t0, fault=None, count=True):
        elapsed = time.perf_counter() - t0
        if isinstance(result, Raw):
            body = (b'{"result":' + bytes(result) + b',"status":"ok","time":' +
                    orjson.dumps(elapsed) + b"}")
        else:
            body = orjson.dumps({"result": result, "status": "ok", "time": elapsed})
        self.send(200, body, fault=fault, count=count)

    def send_error_json(self, status, message, t0, extra=None):
        body = orjson.dumps({"status": {"error": message}, "time": time.perf_counter() - t0})
        self.send(status, body, extra=extra)

    def check_auth(self, path) -> bool:
        key = self.server.cfg.api_key
        if not key or path in OPEN_PATHS or path.startswith(("/readyz", "/livez")):
            return True
        given = self.headers.get("api-key")
        if given is None:
            auth = self.headers.get("Authorization")
            if auth is not None and auth.startswith("Bearer "):
                given = auth[len("Bearer "):]
        if given is None:
            self.send(401, b"Must provide an API key or an Authorization bearer token",
                      ctype="text/plain; charset=utf-8")
            return False
        if given != key:
            self.send(401, b"Invalid API key or JWT", ctype="text/plain; charset=utf-8")
            return False
        return True

    def dispatch(self, method):
        t0 = time.perf_counter()
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path.rstrip("/") or "/"
        query = urllib.parse.parse_qs(parsed.query)
        try:
            raw = self.read_body()
        except Exception:  # noqa: BLE001
            self.close_connection = True
            return
        if not self.check_auth(path):
            return
        store = self.server.store
        try:
            if path == "/" and method == "GET":
                self.send(200, orjson.dumps({"title": "qdrant - vector search engine",
                                             "version": VERSION, "commit": COMMIT}))
                return
            if path == "/healthz" or path.startswith(("/livez", "/readyz")):
                text = {"/healthz": b"healthz check passed", "/livez": b"livez check passed"}
                self.send(200, text.get(path, b"all shards are ready"),
                          ctype="text/plain; charset=utf-8")
                return
            if path == "/__test/faults":  # test-only control endpoint, not part of Qdrant
                if method in ("PUT", "POST"):
                    b = decode_json(raw) if raw else {}
                    if "throttle_pages" in b:
                        THROTTLE.set(b["throttle_pages"], b.get("retry_after_s", 1))
                    if b.get("rate_window_reset"):  # end every read rate window now
                        with store.lock:
                            colls = list(store.collections.values())
                        for c in colls:
                            c.reset_rate_window()
                    self.server.faults.set(float(b.get("p503", 0)), float(b.get("delay", 0)),
                                           float(b.get("delay_s", 0)), float(b.get("cut", 0)),
                                           int(b.get("seed", 0)))
                self.send_result(self.server.faults.as_dict(), t0, count=False)
                return
            if path == "/__test/stats":  # test-only counters (benchmark), not part of Qdrant
                if method == "DELETE":
                    STATS.reset()
                    READS.reset()
                self.send_result(STATS.as_dict(), t0, count=False)
                return
            if path == "/__test/reads":  # test-only page read times (pacing), not Qdrant
                if method == "DELETE":
                    READS.reset()
                self.send_result(READS.as_dict(), t0, count=False)
                return
            for m, rx, name in ROUTES:
                if m == method:
                    mt = rx.match(path)
                    if mt:
                        break
            else:
                self.send(404, b"", ctype="text/plain")
                return
            fault = None
            if path.startswith("/collections"):
                fault = self.server.faults.draw()
                if fault == "503":
                    self.send_error_json(503, "Service unavailable: injected fault "
                                              "(qdrant-test-server)", t0)
                    return
                if fault == "delay":
                    time.sleep(self.server.faults.delay_s)
            args = [urllib.parse.unquote(g) for g in mt.groups()]
            result = self.route(name, args, raw, query, store)
            self.send_result(result, t0, fault=fault)
        except ApiError as exc:
            self.send_error_json(exc.status, exc.message, t0, extra=exc.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001
            import traceback
            traceback.print_exc()
            self.send_error_json(500, f"Service internal error: {exc}", t0)

    def route(self, name, args, raw, query, store):
        if name == "list":
            return {"collections": [{"name": n} for n in list(store.collections)]}
        if name == "aliases":
            return {"aliases": []}
        if name == "cluster":
            return {"status": "disabled"}
        if name == "exists":
            return {"exists": args[0] in store.collections}
        if name == "create":
            store.create(args[0], decode_json(raw) if raw else {})
            return True
        if name == "delete":
            return store.delete(args[0])
        coll = store.get(args[0])
        if name == "info":
            return coll.info_json()
        if name == "coll_aliases":
            return {"aliases": []}
        if name == "coll_cluster":
            return {"peer_id": 1, "shard_count": 1,
                    "local_shards": [{"shard_id": 0, "points_count": coll.shard.info().points_count,
                                      "state": "Active"}],
                    "remote_shards": [], "shard_transfers": []}
        if name == "get_point":
            coll.check_read("rest")
            return ep_get_point(store, coll, args[1])
        if name == "delete_index":
            return ep_delete_index(store, coll, args[1], query)
        body = decode_json(raw) if raw else None
        if name == "create_index":
            if body is None:
                raise format_error("EOF while parsing a value at line 1 column 0")
            return ep_create_index(store, coll, body, query, raw)
        if name in READ_ENDPOINTS:
            coll.check_read("rest", read_limit(name, body), op=name,
                            vectors=bool(body.get("with_vector", body.get("with_vectors")))
                            if isinstance(body, dict) else None)
        if name in ("upsert", "retrieve", "delete_points") and body is None:
            raise format_error("EOF while parsing a value at line 1 column 0")
        return POINT_ENDPOINTS[name](store, coll, body, query)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, cfg, store, faults, ssl_ctx=None):
        self.cfg = cfg
        self.store = store
        self.faults = faults
        self.ssl_ctx = ssl_ctx
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_ctx is not None:
            # Handshake lazily in the handler thread so a slow client cannot stall accept().
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def make_cert(cert_dir):
    cert = os.path.join(cert_dir, "cert.pem")
    key = os.path.join(cert_dir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "7", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def bare_stub_packages():
    """Make `qdrant_client.grpc.*_pb2` importable without running qdrant_client's package
    __init__ (which imports the whole client, about a second per server start). Only for this
    server process, which uses nothing else of qdrant_client."""
    if "qdrant_client" in sys.modules:
        return
    import importlib.util
    import types
    spec = importlib.util.find_spec("qdrant_client")
    if spec is None or not spec.submodule_search_locations:
        return
    root = list(spec.submodule_search_locations)[0]
    for name, path in (("qdrant_client", root), ("qdrant_client.grpc", os.path.join(root, "grpc"))):
        mod = types.ModuleType(name)
        mod.__path__ = [path]
        sys.modules[name] = mod


def parse_fraction(text, flag):
    f = float(text)
    if not 0.0 <= f <= 1.0:
        raise SystemExit(f"{flag}: fraction must be within 0..1")
    return f


def main(argv=None):
    ap = argparse.ArgumentParser(prog="qdrant-test-server", description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6333, help="0 picks a free port (printed)")
    ap.add_argument("--data-dir", help="keep collections here (default: temporary, removed)")
    ap.add_argument("--api-key", help="require this key (api-key header or Bearer token)")
    ap.add_argument("--tls", action="store_true", help="serve HTTPS with a self-signed cert")
    ap.add_argument("--cert-dir", help="where to write cert.pem/key.pem (default: data dir)")
    ap.add_argument("--fault-503", default="0", help="fraction of data requests answered 503")
    ap.add_argument("--fault-delay", default=None, help="F:SECONDS, fraction delayed by SECONDS")
    ap.add_argument("--fault-cut", default="0", help="fraction of responses cut mid-body")
    ap.add_argument("--fault-seed", type=int, default=0)
    ap.add_argument("--vector-cache-mb", type=int, default=2048,
                    help="per-collection cache of serialized vectors (0 disables)")
    ap.add_argument("--eager-vector-cache", action="store_true",
                    help="fill the vector cache at upsert time, so first scrolls are fast")
    ap.add_argument("--no-compress", dest="compress", action="store_false",
                    help="ignore Accept-Encoding: gzip")
    ap.add_argument("--access-log", action="store_true")
    ap.add_argument("--version", dest="server_version", default=VERSION,
                    help="the Qdrant version to report and emulate (before 1.19: no slice "
                         "filter condition)")
    ap.add_argument("--grpc-port", type=int, default=None,
                    help="also serve Qdrant's gRPC API on this port (0 picks a free port)")
    ap.add_argument("--grpc-vectors", choices=("old", "new"), default=None,
                    help="gRPC vector wire format: old = deprecated data/indices/vectors_count "
                         "(Qdrant < 1.17), new = the dense/sparse/multi_dense oneof "
                         "(default: by --version)")
    ap.add_argument("--grpc-empty-dense", action="store_true",
                    help="gRPC: send an empty dense placeholder for each configured dense "
                         "vector a point lacks (as Qdrant does for hybrid collections)")
    ap.add_argument("--rate-window-s", type=float, default=60.0,
                    help="strict mode: the window of read_rate_limit, in seconds")
    cfg = ap.parse_args(argv)
    set_version(cfg.server_version)
    global RATE_WINDOW_S
    RATE_WINDOW_S = cfg.rate_window_s

    delay, delay_s = 0.0, 0.0
    if cfg.fault_delay:
        f, _, s = cfg.fault_delay.partition(":")
        delay, delay_s = parse_fraction(f, "--fault-delay"), float(s or 30)
    faults = Faults(parse_fraction(cfg.fault_503, "--fault-503"), delay, delay_s,
                    parse_fraction(cfg.fault_cut, "--fault-cut"), cfg.fault_seed)

    tmp_dir = None
    data_dir = cfg.data_dir
    if not data_dir:
        tmp_dir = data_dir = tempfile.mkdtemp(prefix="qdrant-test-server-")
    os.makedirs(data_dir, exist_ok=True)
    store = Store(os.path.abspath(data_dir), cfg.vector_cache_mb << 20, cfg.eager_vector_cache)

    ssl_ctx = None
    scheme = "http"
    if cfg.tls:
        cert_dir = cfg.cert_dir or data_dir
        os.makedirs(cert_dir, exist_ok=True)
        cert, key = make_cert(cert_dir)
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(cert, key)
        scheme = "https"
        print(f"qdrant-test-server cert {os.path.abspath(cert)}", flush=True)

    server = Server((cfg.host, cfg.port), cfg, store, faults, ssl_ctx)
    port = server.server_address[1]
    grpc_server = None
    if cfg.grpc_port is not None:
        bare_stub_packages()
        from tests.qdrant_server import grpc_face
        fmt = cfg.grpc_vectors or ("new" if VERSION_TUPLE >= (1, 17, 0) else "old")
        grpc_server, gport = grpc_face.start(
            cfg.host, cfg.grpc_port, store, faults, api_key=cfg.api_key, vectors=fmt,
            empty_dense=cfg.grpc_empty_dense, tls_files=(cert, key) if cfg.tls else None)
        if not gport:
            raise SystemExit(f"cannot bind the gRPC port {cfg.host}:{cfg.grpc_port}")
        gscheme = "grpcs" if cfg.tls else "grpc"
        print(f"qdrant-test-server grpc listening on {gscheme}://{cfg.host}:{gport} "
              f"(vectors={fmt}{', empty-dense' if cfg.grpc_empty_dense else ''})", flush=True)

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"qdrant-test-server listening on {scheme}://{cfg.host}:{port} "
          f"(data_dir={os.path.abspath(data_dir)})", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        if grpc_server is not None:
            grpc_server.stop(grace=1).wait(5)
        server.server_close()
        store.close()
        if tmp_dir:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        print("qdrant-test-server stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
