"""The Qdrant test server's gRPC face: Qdrant's gRPC API (port 6334 in a real server) answered
from the same Store, the same engine calls and the same strict-mode, fault and counter objects as
the REST face in server.py, so a collection reads the same over both. Requests are decoded with
the official generated messages shipped in qdrant_client.grpc; Scroll and Get answers are
assembled as protobuf bytes here (packed floats straight from numpy, per-point vector bytes
cached like the REST face caches JSON) so the server does not hide the cost difference between
the two wire formats. Vectors go out in the pre-1.17 form (deprecated `data` / `indices` /
`vectors_count`) or the 1.17+ form (the dense / sparse / multi_dense oneof), chosen at start.
Payload indexes (CreateFieldIndex / DeleteFieldIndex, CollectionInfo.payload_schema) go through
the REST face's code. No other writes: tests fill collections over REST.
See docs/internals/TESTING.md.
"""

from __future__ import annotations

import struct
import time
import uuid
from concurrent import futures

import grpc
import numpy as np
import qdrant_edge as qe
from qdrant_client.grpc import (collections_pb2, json_with_int_pb2, points_pb2, qdrant_common_pb2,
                                qdrant_pb2)

from tests.qdrant_server import server as S

# ---------------------------------------------------------------------------------------------
# Protobuf wire encoding (only what the answers need)
# ---------------------------------------------------------------------------------------------

I64_MAX = (1 << 63) - 1
I64_MIN = -(1 << 63)
_PACK_D = struct.Struct("<d").pack


def varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def ld(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, bytes."""
    return tag + varint(len(payload)) + payload


def point_id(pid) -> bytes:
    """PointId message bytes: num = 1 (varint) or uuid = 2 (string)."""
    if isinstance(pid, int):
        return b"\x08" + varint(pid)
    return ld(b"\x12", str(pid).encode())


def value(v) -> bytes:
    """json_with_int.Value bytes, as Qdrant's json_to_proto: ints that fit i64 are
    integer_value, every other number a double_value."""
    if v is None:
        return b"\x08\x00"
    if v is True:
        return b"\x28\x01"
    if v is False:
        return b"\x28\x00"
    if isinstance(v, int):
        if I64_MIN <= v <= I64_MAX:
            return b"\x18" + varint(v)
        return b"\x11" + _PACK_D(float(v))
    if isinstance(v, float):
        return b"\x11" + _PACK_D(v)
    if isinstance(v, str):
        return ld(b"\x22", v.encode())
    if isinstance(v, dict):
        return ld(b"\x32", struct_fields(v))
    if isinstance(v, (list, tuple)):
        return ld(b"\x3a", b"".join(ld(b"\x0a", value(x)) for x in v))
    return ld(b"\x22", str(v).encode())


def struct_fields(d: dict, tag=b"\x0a") -> bytes:
    """map<string, Value> entries under field `tag` (Struct.fields = 1, payload = 2)."""
    return b"".join(ld(tag, ld(b"\x0a", str(k).encode()) + ld(b"\x12", value(x)))
                    for k, x in d.items())


def f32(arr) -> bytes:
    return np.asarray(arr, dtype="<f4").tobytes()


def u32_packed(xs) -> bytes:
    return b"".join(varint(int(x)) for x in xs)


# VectorOutput: old = data 1 (packed float), indices 2 (SparseIndices{data 1}), vectors_count 3;
# new = oneof dense 101 (DenseVector{data 1}), sparse 102 (SparseVector{values 1, indices 2}),
# multi_dense 103 (MultiDenseVector{repeated DenseVector vectors 1}).
T_DENSE, T_SPARSE, T_MULTI = varint((101 << 3) | 2), varint((102 << 3) | 2), varint((103 << 3) | 2)


class VectorCodec:
    """Edge vectors -> VectorsOutput bytes in one wire format."""

    def __init__(self, fmt: str, empty_dense: bool):
        self.old = fmt == "old"
        self.empty_dense = empty_dense

    def dense(self, raw: bytes) -> bytes:
        if self.old:
            return ld(b"\x0a", raw) if raw else b""
        return ld(T_DENSE, ld(b"\x0a", raw) if raw else b"")

    def sparse(self, sv) -> bytes:
        vals, idx = f32(list(sv.values)), u32_packed(sv.indices)
        data = ld(b"\x0a", vals) if vals else b""
        if self.old:  # values in data, indices in SparseIndices{data}
            return data + ld(b"\x12", ld(b"\x0a", idx) if idx else b"")
        return ld(T_SPARSE, data + (ld(b"\x12", idx) if idx else b""))

    def multi(self, rows) -> bytes:
        arr = np.asarray(rows, dtype="<f4")
        if self.old:
            raw = arr.tobytes()
            return (ld(b"\x0a", raw) if raw else b"") + b"\x18" + varint(len(rows))
        return ld(T_MULTI, b"".join(ld(b"\x0a", ld(b"\x0a", r.tobytes()) if r.size else b"")
                                    for r in arr))

    def one(self, v, dense_raw=None) -> bytes:
        """VectorOutput bytes for one Edge vector value."""
        if dense_raw is not None:
            return self.dense(dense_raw)
        if isinstance(v, list):
            if v and isinstance(v[0], list):
                return self.multi(v)
            return self.dense(f32(v))
        return self.sparse(v)

    def page(self, vectors, dense_names=()):
        """VectorsOutput bytes for a page (list aligned with records; None = none asked).
        Dense vectors of one (name, dim) go through numpy once. dense_names: the configured
        dense vectors a named point gets an empty placeholder for when it lacks them."""
        out = [None] * len(vectors)
        groups = {}
        for i, v in enumerate(vectors):
            if isinstance(v, list) and (not v or not isinstance(v[0], list)):
                groups.setdefault((None, len(v)), []).append(i)
            elif isinstance(v, dict):
                for name, x in v.items():
                    if isinstance(x, list) and (not x or not isinstance(x[0], list)):
                        groups.setdefault((name, len(x)), []).append(i)
        raws = {}
        for (name, _dim), idx in groups.items():
            rows = [vectors[i] if name is None else vectors[i][name] for i in idx]
            arr = np.asarray(rows, dtype="<f4")
            if arr.ndim == 2:
                for i, r in zip(idx, arr):
                    raws[(i, name)] = r.tobytes()
        for i, v in enumerate(vectors):
            if v is None:
                continue
            if isinstance(v, dict):
                parts = []
                for name, x in v.items():
                    vo = self.one(x, raws.get((i, name)))
                    parts.append(ld(b"\x0a", ld(b"\x0a", name.encode()) + ld(b"\x12", vo)))
                if self.empty_dense:
                    for name in dense_names:
                        if name not in v:
                            vo = self.dense(b"")
                            parts.append(ld(b"\x0a", ld(b"\x0a", name.encode()) + ld(b"\x12", vo)))
                out[i] = ld(b"\x12", b"".join(parts))
            else:
                out[i] = ld(b"\x0a", self.one(v, raws.get((i, None))))
        return out


def retrieved_point(pid, payload, vec) -> bytes:
    """RetrievedPoint: id 1, payload 2 (map), vectors 4."""
    b = ld(b"\x0a", point_id(pid))
    if payload:
        b += struct_fields(payload, b"\x12")
    if vec is not None:
        b += ld(b"\x22", vec)
    return b


# ---------------------------------------------------------------------------------------------
# Requests -> the REST face's forms (one filter builder, one selector parser)
# ---------------------------------------------------------------------------------------------

def pid_of(p):
    kind = p.WhichOneof("point_id_options")
    if kind == "num":
        return p.num
    if kind == "uuid":
        try:
            return str(uuid.UUID(p.uuid))
        except ValueError:
            raise S.format_error(f"Unable to parse UUID: {p.uuid}") from None
    raise S.format_error("Unable to parse PointId: empty")


def cond_json(c):
    kind = c.WhichOneof("condition_one_of")
    if kind == "has_id":
        return {"has_id": [pid_of(p) for p in c.has_id.has_id]}
    if kind == "slice":
        return {"slice": {"total": c.slice.total, "index": c.slice.index}}
    if kind == "filter":
        return filter_json(c.filter)
    if kind == "is_empty":
        return {"is_empty": {"key": c.is_empty.key}}
    if kind == "is_null":
        return {"is_null": {"key": c.is_null.key}}
    if kind == "field":
        f = c.field
        out = {"key": f.key}
        if f.HasField("match"):
            m = f.match
            mk = m.WhichOneof("match_value")
            if mk in ("keyword", "integer", "boolean", "text"):
                out["match"] = {"value": getattr(m, mk)}
            elif mk == "keywords":
                out["match"] = {"any": list(m.keywords.strings)}
            elif mk == "integers":
                out["match"] = {"any": list(m.integers.integers)}
            elif mk == "except_keywords":
                out["match"] = {"except": list(m.except_keywords.strings)}
            elif mk == "except_integers":
                out["match"] = {"except": list(m.except_integers.integers)}
            else:
                raise S.format_error("unsupported match condition in test server")
        elif f.HasField("range"):
            r = f.range
            out["range"] = {k: getattr(r, k) for k in ("gte", "gt", "lte", "lt") if r.HasField(k)}
        elif f.HasField("datetime_range"):
            r = f.datetime_range
            out["range"] = {k: rfc3339(getattr(r, k)) for k in ("gte", "gt", "lte", "lt")
                            if r.HasField(k)}
        else:
            raise S.format_error("unsupported field condition in test server")
        return out
    raise S.format_error("unsupported condition in test server")


def rfc3339(ts) -> str:
    """google.protobuf.Timestamp -> an RFC 3339 UTC string the engine parses."""
    frac = f".{ts.nanos:09d}" if ts.nanos else ""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts.seconds)) + frac + "Z"


def filter_json(f):
    out = {}
    for key in ("must", "should", "must_not"):
        conds = getattr(f, key)
        if conds:
            out[key] = [cond_json(c) for c in conds]
    return out


def with_payload_of(sel, default=True):
    kind = sel.WhichOneof("selector_options") if sel is not None else None
    if kind is None:
        return default
    if kind == "enable":
        return sel.enable
    if kind == "include":
        return qe.PayloadSelector.Include(list(sel.include.fields))
    return qe.PayloadSelector.Exclude(list(sel.exclude.fields))


def with_vectors_of(req):
    if not req.HasField("with_vectors"):
        return False
    sel = req.with_vectors
    kind = sel.WhichOneof("selector_options")
    if kind == "enable":
        return sel.enable
    if kind == "include":
        return list(sel.include.names)
    return False


GRPC_CODES = {400: grpc.StatusCode.INVALID_ARGUMENT, 422: grpc.StatusCode.INVALID_ARGUMENT,
              404: grpc.StatusCode.NOT_FOUND, 409: grpc.StatusCode.ALREADY_EXISTS,
              429: grpc.StatusCode.RESOURCE_EXHAUSTED, 503: grpc.StatusCode.UNAVAILABLE,
              401: grpc.StatusCode.UNAUTHENTICATED, 403: grpc.StatusCode.PERMISSION_DENIED}


class Abort(Exception):
    def __init__(self, code, message, trailers=()):
        super().__init__(message)
        self.code, self.message, self.trailers = code, message, tuple(trailers)


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------

class GrpcFace:
    def __init__(self, store, faults, api_key=None, vectors="new", empty_dense=False):
        self.store = store
        self.faults = faults
        self.api_key = api_key
        self.codec = VectorCodec(vectors, empty_dense)

    # -- plumbing -----------------------------------------------------------------------------
    def check_auth(self, context):
        if not self.api_key:
            return
        md = dict(context.invocation_metadata())
        given = md.get("api-key")
        if given is None:
            auth = md.get("authorization")
            if auth is not None and auth.startswith("Bearer "):
                given = auth[len("Bearer "):]
        if given is None:
            raise Abort(grpc.StatusCode.UNAUTHENTICATED,
                        "Must provide an API key or an Authorization bearer token")
        if given != self.api_key:
            raise Abort(grpc.StatusCode.UNAUTHENTICATED, "Invalid API key or JWT")

    def wrap(self, fn, req_cls, raw_out, data=True, auth=True):
        """A unary handler: auth, faults, engine call, ApiError -> status, byte counters."""

        def handler(request, context):
            try:
                if auth:
                    self.check_auth(context)
                fault = self.faults.draw() if data else None
                if fault == "503":
                    raise Abort(grpc.StatusCode.UNAVAILABLE,
                                "Service unavailable: injected fault (qdrant-test-server)")
                if fault == "delay":
                    time.sleep(self.faults.delay_s)
                if fault == "cut":
                    raise Abort(grpc.StatusCode.INTERNAL,
                                "injected fault: response cut (qdrant-test-server)")
                t0 = time.perf_counter()
                out = fn(request, t0)
                if not raw_out:
                    out = out.SerializeToString()
                S.STATS.add("grpc", len(out) + 5)
                return out
            except Abort as exc:
                S.STATS.add("grpc", 0)
                if exc.trailers:
                    context.set_trailing_metadata(exc.trailers)
                context.abort(exc.code, exc.message)
            except S.ApiError as exc:
                S.STATS.add("grpc", 0)
                trailers = ()
                if "Retry-After" in exc.headers:
                    trailers = (("retry-after", exc.headers["Retry-After"]),)
                    context.set_trailing_metadata(trailers)
                context.abort(GRPC_CODES.get(exc.status, grpc.StatusCode.INTERNAL), exc.message)
            except Exception as exc:  # noqa: BLE001 - as the REST face's 500
                if isinstance(exc, grpc.RpcError) or type(exc).__name__ == "_AbortError":
                    raise
                import traceback
                traceback.print_exc()
                context.abort(grpc.StatusCode.INTERNAL, f"Service internal error: {exc}")

        return grpc.unary_unary_rpc_method_handler(
            handler, request_deserializer=req_cls.FromString,
            response_serializer=lambda b: b)

    def handlers(self):
        P, C = points_pb2, collections_pb2
        w = self.wrap
        return [
            grpc.method_handlers_generic_handler("qdrant.Qdrant", {
                "HealthCheck": w(self.health, qdrant_pb2.HealthCheckRequest, False, data=False,
                                 auth=False)}),
            grpc.method_handlers_generic_handler("qdrant.Collections", {
                "List": w(self.list, C.ListCollectionsRequest, False),
                "Get": w(self.get_collection, C.GetCollectionInfoRequest, False),
                "CollectionExists": w(self.exists, C.CollectionExistsRequest, False)}),
            grpc.method_handlers_generic_handler("qdrant.Points", {
                "Scroll": w(self.scroll, P.ScrollPoints, True),
                "Count": w(self.count, P.CountPoints, False),
                "Get": w(self.get, P.GetPoints, True),
                "Query": w(self.query, P.QueryPoints, False),
                "CreateFieldIndex": w(self.create_index, P.CreateFieldIndexCollection, False),
                "DeleteFieldIndex": w(self.delete_index, P.DeleteFieldIndexCollection, False)}),
        ]

    # -- methods ------------------------------------------------------------------------------
    def health(self, req, t0):
        return qdrant_pb2.HealthCheckReply(title="qdrant - vector search engine",
                                           version=S.VERSION, commit=S.COMMIT)

    def list(self, req, t0):
        names = list(self.store.collections)
        return collections_pb2.ListCollectionsResponse(
            collections=[collections_pb2.CollectionDescription(name=n) for n in names],
            time=time.perf_counter() - t0)

    def exists(self, req, t0):
        return collections_pb2.CollectionExistsResponse(
            result=collections_pb2.CollectionExists(
                exists=req.collection_name in self.store.collections),
            time=time.perf_counter() - t0)

    def get_collection(self, req, t0):
        coll = self.store.get(req.collection_name)
        return collections_pb2.GetCollectionInfoResponse(
            result=collection_info(coll), time=time.perf_counter() - t0)

    def count(self, req, t0):
        coll = self.store.get(req.collection_name)
        coll.check_read("grpc")
        flt = S.build_filter(filter_json(req.filter), coll) if req.HasField("filter") else None
        exact = req.exact if req.HasField("exact") else True
        n = coll.shard.count(qe.CountRequest(exact=exact, filter=flt))
        return points_pb2.CountResponse(result=points_pb2.CountResult(count=n),
                                        time=time.perf_counter() - t0)

    def create_index(self, req, t0):
        """Points.CreateFieldIndex: field_type (FieldType enum) or field_index_params (the
        PayloadIndexParams oneof) -> the REST body, then the REST face's code."""
        coll = self.store.get(req.collection_name)
        if req.HasField("field_index_params"):
            schema = index_params_json(req.field_index_params)
            if req.HasField("field_type") and FIELD_TYPES.get(req.field_type) != schema["type"]:
                raise S.ApiError(400, "Bad request: field_type does not match "
                                      "field_index_params")
        elif req.HasField("field_type"):
            schema = FIELD_TYPES.get(req.field_type)
            if schema is None:
                raise S.format_error(f"Unknown field type: {req.field_type}")
        else:
            schema = None
        body = {"field_name": req.field_name, "field_schema": schema}
        res = S.ep_create_index(self.store, coll, body, self.wait_query(req))
        return self.op_response(res, t0)

    def delete_index(self, req, t0):
        coll = self.store.get(req.collection_name)
        res = S.ep_delete_index(self.store, coll, req.field_name, self.wait_query(req))
        return self.op_response(res, t0)

    @staticmethod
    def wait_query(req):
        return {"wait": ["true" if req.HasField("wait") and req.wait else "false"]}

    @staticmethod
    def op_response(res, t0):
        status = 2 if res["status"] == "completed" else 1
        return points_pb2.PointsOperationResponse(
            result=points_pb2.UpdateResult(operation_id=res["operation_id"], status=status),
            time=time.perf_counter() - t0)

    def query(self, req, t0):
        coll = self.store.get(req.collection_name)
        if not (req.HasField("query") and req.query.WhichOneof("variant") == "sample"):
            raise S.ApiError(400, "Bad request: the test server only implements the random "
                                  "sample query")
        limit = req.limit if req.HasField("limit") else 10
        coll.check_read("grpc", limit, op="query")
        pick = S.sample_ids(coll, limit)
        res = []
        for i in pick:
            p = qdrant_common_pb2.PointId.FromString(point_id(i))
            res.append(points_pb2.ScoredPoint(id=p, score=0.0, version=0))
        return points_pb2.QueryResponse(result=res, time=time.perf_counter() - t0)

    def scroll(self, req, t0):
        coll = self.store.get(req.collection_name)
        limit = req.limit if req.HasField("limit") else 10
        if limit == 0:
            raise S.validation_error("limit", "value 0 invalid, must be 1 or larger")
        coll.check_read("grpc", limit, op="scroll", vectors=bool(with_vectors_of(req)))
        offset = pid_of(req.offset) if req.HasField("offset") else None
        flt = S.build_filter(filter_json(req.filter), coll) if req.HasField("filter") else None
        wp = with_payload_of(req.with_payload if req.HasField("with_payload") else None)
        wv = with_vectors_of(req)
        cold = wv is True and (coll.gcache_cold or not coll.cache_limit)
        edge_wv = True if cold else (wv if (wv is not True and wv) else False)
        gen = coll.generation
        try:
            records, nxt = coll.shard.scroll(qe.ScrollRequest(
                offset=offset, limit=limit, filter=flt, with_payload=wp, with_vector=edge_wv))
        except Exception as exc:  # noqa: BLE001
            raise S.ApiError(400, f"Bad request: {exc}") from None
        vecs = self.vectors_for(coll, records, wv, gen, have=cold)
        body = b"".join(ld(b"\x12", retrieved_point(r.id, r.payload if wp is not False else None,
                                                   vecs[i] if vecs else None))
                        for i, r in enumerate(records))
        if nxt is not None:
            body = ld(b"\x0a", point_id(nxt)) + body
        return body + b"\x19" + _PACK_D(time.perf_counter() - t0)

    def get(self, req, t0):
        coll = self.store.get(req.collection_name)
        ids = [pid_of(p) for p in req.ids]
        coll.check_read("grpc", len(ids), op="retrieve")
        wp = with_payload_of(req.with_payload if req.HasField("with_payload") else None)
        wv = with_vectors_of(req)
        gen = coll.generation
        records = coll.shard.retrieve(ids, with_payload=wp, with_vector=wv if wv else False)
        seen, uniq = set(), []
        for r in records:
            k = S.id_key(r.id)
            if k not in seen:
                seen.add(k)
                uniq.append(r)
        vecs = self.vectors_for(coll, uniq, wv, gen, have=bool(wv))
        body = b"".join(ld(b"\x0a", retrieved_point(r.id, r.payload if wp is not False else None,
                                                   vecs[i] if vecs else None))
                        for i, r in enumerate(uniq))
        return body + b"\x11" + _PACK_D(time.perf_counter() - t0)

    # -- vectors ------------------------------------------------------------------------------
    def dense_names(self, coll):
        cfg = coll.cfg
        if cfg["unnamed"]:
            return ()
        return tuple(n for n, p in cfg["vectors"].items() if "multivector_config" not in p)

    def vectors_for(self, coll, records, wv, gen, have):
        """VectorsOutput bytes per record, or None when no vectors were asked. have: the
        records carry the vectors already. Full vectors (wv is True) go through the
        collection's gRPC cache; a page that mostly missed makes the next scroll read
        vectors in the same engine call (as the REST face does)."""
        if not wv:
            return None
        if wv is not True:
            return self.codec.page([r.vector for r in records], self.names_in(coll, wv))
        names = self.dense_names(coll)
        if have:
            out = self.codec.page([r.vector if r.vector is not None else {} for r in records],
                                  names)
            if coll.cache_limit:
                keys = [S.id_key(r.id) for r in records]
                hits = sum(1 for k in keys if k in coll.gcache)
                if records and hits * 2 > len(records):
                    coll.gcache_cold = False
                coll.gcache_store(gen, list(zip(keys, out)))
            return out
        out = [None] * len(records)
        missing = []
        for i, r in enumerate(records):
            b = coll.gcache.get(S.id_key(r.id))
            if b is None:
                missing.append(i)
            else:
                out[i] = b
        coll.gcache_cold = len(missing) * 2 > len(records)
        if missing:
            got = coll.shard.retrieve([records[i].id for i in missing], with_payload=False,
                                      with_vector=True)
            by_id = {S.id_key(r.id): r.vector for r in got}
            keys = [S.id_key(records[i].id) for i in missing]
            enc = self.codec.page([by_id.get(k) or {} for k in keys], names)
            for i, b in zip(missing, enc):
                out[i] = b
            coll.gcache_store(gen, list(zip(keys, enc)))
        return out

    def names_in(self, coll, wanted):
        return tuple(n for n in self.dense_names(coll) if n in wanted)


# ---------------------------------------------------------------------------------------------
# CollectionInfo from the creation config (the same facts as REST's info_json)
# ---------------------------------------------------------------------------------------------

DIST = {"Cosine": 1, "Euclid": 2, "Dot": 3, "Manhattan": 4}
DTYPE = {"float32": 1, "uint8": 2, "float16": 3}


def _hnsw(d):
    keys = ("m", "ef_construct", "full_scan_threshold", "max_indexing_threads", "on_disk",
            "payload_m")
    return collections_pb2.HnswConfigDiff(**{k: d[k] for k in keys if d.get(k) is not None})


def _vector_params(p):
    vp = collections_pb2.VectorParams(size=p["size"], distance=DIST[p["distance"]])
    if p.get("hnsw_config"):
        vp.hnsw_config.CopyFrom(_hnsw(p["hnsw_config"]))
    if p.get("on_disk") is not None:
        vp.on_disk = bool(p["on_disk"])
    if p.get("datatype"):
        vp.datatype = DTYPE[p["datatype"]]
    if p.get("multivector_config"):
        vp.multivector_config.comparator = 0  # MaxSim
    return vp


STRICT_FIELDS = None


def _strict(sm):
    global STRICT_FIELDS
    if STRICT_FIELDS is None:
        STRICT_FIELDS = set(collections_pb2.StrictModeConfig.DESCRIPTOR.fields_by_name)
    kw = {k: v for k, v in sm.items() if k in STRICT_FIELDS and not isinstance(v, dict)}
    return collections_pb2.StrictModeConfig(**kw)


def collection_info(coll):
    cfg = coll.cfg
    info = coll.shard.info()
    params = collections_pb2.CollectionParams(
        shard_number=cfg["shard_number"], on_disk_payload=cfg["on_disk_payload"],
        replication_factor=cfg["replication_factor"],
        write_consistency_factor=cfg["write_consistency_factor"])
    if cfg["unnamed"]:
        params.vectors_config.params.CopyFrom(_vector_params(cfg["vectors"]))
    else:
        params.vectors_config.params_map.SetInParent()
        for n, p in cfg["vectors"].items():
            params.vectors_config.params_map.map[n].CopyFrom(_vector_params(p))
    if cfg["sparse_vectors"] is not None:
        for n, p in cfg["sparse_vectors"].items():
            sp = params.sparse_vectors_config.map[n]
            sp.SetInParent()
            idx = p.get("index") or {}
            if isinstance(idx, dict) and idx:
                if idx.get("full_scan_threshold") is not None:
                    sp.index.full_scan_threshold = idx["full_scan_threshold"]
                if idx.get("on_disk") is not None:
                    sp.index.on_disk = bool(idx["on_disk"])
                if idx.get("datatype") in DTYPE:
                    sp.index.datatype = DTYPE[idx["datatype"]]
            if p.get("modifier") == "idf":
                sp.modifier = 1
            elif p.get("modifier") == "none":
                sp.modifier = 0
    oc = cfg["optimizer_config"]
    opt = collections_pb2.OptimizersConfigDiff(**{
        k: oc[k] for k in ("deleted_threshold", "vacuum_min_vector_number",
                           "default_segment_number", "max_segment_size", "memmap_threshold",
                           "indexing_threshold", "flush_interval_sec")
        if oc.get(k) is not None})
    wc = cfg["wal_config"]
    wal = collections_pb2.WalConfigDiff(**{k: wc[k] for k in
                                           ("wal_capacity_mb", "wal_segments_ahead",
                                            "wal_retain_closed") if wc.get(k) is not None})
    config = collections_pb2.CollectionConfig(params=params, hnsw_config=_hnsw(cfg["hnsw_config"]),
                                              optimizer_config=opt, wal_config=wal)
    if cfg.get("strict_mode_config") is not None:
        config.strict_mode_config.CopyFrom(_strict(cfg["strict_mode_config"]))
    if cfg.get("metadata"):
        for k, v in cfg["metadata"].items():
            config.metadata[k].CopyFrom(json_with_int_pb2.Value.FromString(value(v)))
    out = collections_pb2.CollectionInfo(
        status=1, optimizer_status=collections_pb2.OptimizerStatus(ok=True),
        segments_count=info.segments_count, config=config, points_count=info.points_count,
        indexed_vectors_count=info.indexed_vectors_count,
        update_queue=collections_pb2.UpdateQueueInfo(length=0))
    for field, e in S.payload_schema(coll).items():
        psi = out.payload_schema[field]
        psi.data_type = SCHEMA_TYPE_ENUM[e["data_type"]]
        psi.points = e["points"]
        if "params" in e:
            psi.params.CopyFrom(index_params_pb(e["params"]))
    return out


# ---------------------------------------------------------------------------------------------
# Payload index types and params: gRPC enums and the PayloadIndexParams oneof <-> REST JSON
# ---------------------------------------------------------------------------------------------

# points.FieldType (CreateFieldIndexCollection.field_type)
FIELD_TYPES = {0: "keyword", 1: "integer", 2: "float", 3: "geo", 4: "text", 5: "bool",
               6: "datetime", 7: "uuid"}
# collections.PayloadSchemaType (PayloadSchemaInfo.data_type)
SCHEMA_TYPE_ENUM = {"keyword": 1, "integer": 2, "float": 3, "geo": 4, "text": 5, "bool": 6,
                    "datetime": 7, "uuid": 8}
PARAMS_FIELD = {"keyword": "keyword_index_params", "integer": "integer_index_params",
                "float": "float_index_params", "geo": "geo_index_params",
                "text": "text_index_params", "bool": "bool_index_params",
                "datetime": "datetime_index_params", "uuid": "uuid_index_params"}
PARAMS_TYPE = {v: k for k, v in PARAMS_FIELD.items()}
TOKENIZER_ENUM = {"prefix": 1, "whitespace": 2, "word": 3, "multilingual": 4, "code": 5}
TOKENIZER_NAME = {v: k for k, v in TOKENIZER_ENUM.items()}


def index_params_json(p):
    """PayloadIndexParams -> the REST params object ({"type": ..., the set fields})."""
    which = p.WhichOneof("index_params")
    if which is None:
        raise S.format_error("Unable to parse PayloadIndexParams: empty")
    kind = PARAMS_TYPE[which]
    msg = getattr(p, which)
    out = {"type": kind}
    for k in S.INDEX_PARAMS[kind][1]:
        if k == "tokenizer":
            out[k] = TOKENIZER_NAME.get(msg.tokenizer, "word")
        elif k in msg.DESCRIPTOR.fields_by_name and msg.HasField(k):
            out[k] = getattr(msg, k)
    return out


def index_params_pb(params):
    """The REST params object -> PayloadIndexParams."""
    out = collections_pb2.PayloadIndexParams()
    msg = getattr(out, PARAMS_FIELD[params["type"]])
    msg.SetInParent()
    for k, v in params.items():
        if k == "type":
            continue
        if k == "tokenizer":
            msg.tokenizer = TOKENIZER_ENUM[v]
        elif k in msg.DESCRIPTOR.fields_by_name:
            setattr(msg, k, v)
    return out


# ---------------------------------------------------------------------------------------------
# Start
# ---------------------------------------------------------------------------------------------

def start(host, port, store, faults, api_key=None, vectors="new", empty_dense=False,
          tls_files=None, workers=8):
    """Serve the gRPC face; return (grpc.Server, bound port)."""
    face = GrpcFace(store, faults, api_key, vectors, empty_dense)
    opts = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1),
            ("grpc.so_reuseport", 0)]
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=opts)
    srv.add_generic_rpc_handlers(face.handlers())
    addr = f"{host}:{port}"
    if tls_files:
        cert, key = tls_files
        with open(cert, "rb") as fh:
            cert_b = fh.read()
        with open(key, "rb") as fh:
            key_b = fh.read()
        bound = srv.add_secure_port(addr, grpc.ssl_server_credentials([(key_b, cert_b)]))
    else:
        bound = srv.add_insecure_port(addr)
    srv.start()
    return srv, bound

