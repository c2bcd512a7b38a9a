"""Writes the protobuf seed corpora of the libFuzzer harnesses (tests/fuzz/corpus/):
fuzz_qdrant_grpc from the scroll fixtures of tests/data/qdrant/scroll (each page that is
valid JSON re-encoded as the ScrollResponse / GetResponse a Qdrant server sends, in the
pre-1.17 vector form and the 1.17+ oneof form) and the collection infos of
tests/data/qdrant/info, encoded with the qdrant-client stubs; fuzz_milvus_dec from answers
built with pymilvus's milvus_pb2, one per decoder the Milvus connector calls. The seeds
are committed; run again (`.venv/bin/python tests/fuzz/make_seeds.py`) after a fixture
changes. The harnesses' input formats are in their top comments."""

from __future__ import annotations

import json
import pathlib
import struct

from pymilvus.grpc_gen import common_pb2 as MC, milvus_pb2 as M, schema_pb2 as MS
from qdrant_client.grpc import collections_pb2 as QC, points_pb2 as P, json_with_int_pb2 as J

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests/fuzz/corpus"


def value(v) -> J.Value:
    out = J.Value()
    if v is None:
        out.null_value = 0
    elif isinstance(v, bool):
        out.bool_value = v
    elif isinstance(v, int) and -(1 << 63) <= v < (1 << 63):
        out.integer_value = v
    elif isinstance(v, (int, float)):
        out.double_value = float(v)
    elif isinstance(v, str):
        out.string_value = v
    elif isinstance(v, list):
        out.list_value.values.extend(value(x) for x in v)
    else:
        for k, x in v.items():
            out.struct_value.fields[k].CopyFrom(value(x))
    return out


def vector(v, new: bool) -> P.VectorOutput:
    out = P.VectorOutput()
    if isinstance(v, dict):  # sparse
        if new:
            out.sparse.indices.extend(v["indices"])
            out.sparse.values.extend(v["values"])
        else:
            out.data.extend(v["values"])
            out.indices.data.extend(v["indices"])
    elif v and isinstance(v[0], list):  # multi
        if new:
            for row in v:
                out.multi_dense.vectors.add().data.extend(row)
        else:
            for row in v:
                out.data.extend(row)
            out.vectors_count = len(v)
    elif new:
        out.dense.data.extend(v)
    else:
        out.data.extend(v)
    return out


def point(rec, new: bool) -> P.RetrievedPoint:
    p = P.RetrievedPoint()
    pid = rec.get("id")
    if isinstance(pid, str):
        p.id.uuid = pid
    elif isinstance(pid, int) and 0 <= pid < (1 << 64):
        p.id.num = pid
    for k, x in (rec.get("payload") or {}).items():
        p.payload[k].CopyFrom(value(x))
    v = rec.get("vector")
    if isinstance(v, dict) and not ("indices" in v and "values" in v):
        for name, x in v.items():
            p.vectors.vectors.vectors[name].CopyFrom(vector(x, new))
    elif v is not None:
        p.vectors.vector.CopyFrom(vector(v, new))
    return p


def qdrant_grpc() -> None:
    d = CORPUS / "fuzz_qdrant_grpc"
    d.mkdir(parents=True, exist_ok=True)
    for f in sorted((ROOT / "tests/data/qdrant/scroll").glob("*.test")):
        text = f.read_text()
        head, rest = text.split("--- input\n", 1)
        page = rest.split("--- expect\n", 1)[0]
        try:
            doc = json.loads(page)
            retrieve = "page retrieve" in head
            recs = doc["result"] if retrieve else doc["result"]["points"]
        except (ValueError, KeyError, TypeError):
            continue
        head = head.replace("page retrieve\n", "")
        for new in (False, True):
            try:
                pts = [point(r, new) for r in recs]
            except (TypeError, KeyError, AttributeError, ValueError):
                continue
            try:  # payloads nested past protobuf's depth limit cannot be encoded here
                if retrieve:
                    msg, kind = P.GetResponse(result=pts), "get"
                else:
                    msg, kind = P.ScrollResponse(result=pts), "scroll"
            except Exception:  # noqa: BLE001 - google.protobuf's DecodeError
                continue
                nxt = doc["result"].get("next_page_offset")
                if isinstance(nxt, int):
                    msg.next_page_offset.num = nxt
                elif isinstance(nxt, str):
                    msg.next_page_offset.uuid = nxt
            out = (head + f"page {kind}\n--- input\n").encode() + msg.SerializeToString()
            (d / f"{f.stem}_{'new' if new else 'old'}").write_bytes(out)
    # the small answers
    info = QC.GetCollectionInfoResponse()
    r = info.result
    r.status = QC.Green
    r.points_count = 1000
    r.config.params.vectors_config.params_map.map["image"].size = 4
    r.config.params.vectors_config.params_map.map["image"].distance = QC.Cosine
    r.config.params.vectors_config.params_map.map["colbert"].size = 8
    r.config.params.vectors_config.params_map.map["colbert"].distance = QC.Dot
    r.config.params.vectors_config.params_map.map["colbert"].multivector_config.comparator = 0
    r.config.params.sparse_vectors_config.map["text"].modifier = QC.Idf
    r.config.hnsw_config.m = 16
    r.config.hnsw_config.ef_construct = 100
    r.payload_schema["city"].data_type = QC.PayloadSchemaType.Keyword
    r.payload_schema["city"].points = 1000
    (d / "info_named").write_bytes(b"page info\n--- input\n" + info.SerializeToString())
    info2 = QC.GetCollectionInfoResponse()
    info2.result.config.params.vectors_config.params.size = 4
    info2.result.config.params.vectors_config.params.distance = QC.Euclid
    (d / "info_unnamed").write_bytes(b"page info\n--- input\n" + info2.SerializeToString())
    lst = QC.ListCollectionsResponse()
    lst.collections.add().name = "a"
    lst.collections.add().name = "docs"
    (d / "list").write_bytes(b"page list\n--- input\n" + lst.SerializeToString())
    cnt = P.CountResponse()
    cnt.result.count = 12345
    (d / "count").write_bytes(b"page count\n--- input\n" + cnt.SerializeToString())
    from qdrant_client.grpc import qdrant_pb2 as Q
    h = Q.HealthCheckReply(title="qdrant", version="1.16.2")
    (d / "health").write_bytes(b"page health\n--- input\n" + h.SerializeToString())


def st(code=0, reason=""):
    return MC.Status(code=code, reason=reason, error_code=MC.Success if not code else MC.UnexpectedError)


def milvus() -> None:
    d = CORPUS / "fuzz_milvus_dec"
    d.mkdir(parents=True, exist_ok=True)

    def put(name, sel, sub, msg):
        (d / name).write_bytes(bytes([sel, sub]) + msg.SerializeToString())

    put("status", 0, 0, st())
    put("status_err", 0, 0, st(1, "collection not found[collection=a]"))
    put("version", 1, 0, M.GetVersionResponse(status=st(), version="v2.3.5"))
    put("health", 2, 0, M.CheckHealthResponse(status=st(), isHealthy=False, reasons=["querynode down"]))
    put("connect", 3, 0, M.ConnectResponse(status=st(), identifier=42))
    put("bool", 4, 0, M.BoolResponse(status=st(), value=True))
    fl = M.FlushResponse(status=st(), db_name="default")
    fl.coll_segIDs["a"].data.extend([1, 2, 3])
    fl.coll_flush_ts["a"] = 445566
    put("flush", 5, 0, fl)
    put("flush_ts", 7, 0, fl)
    put("flush_segments", 8, 0, fl)
    di = M.DescribeIndexResponse(status=st())
    di.index_descriptions.add(index_name="vector", field_name="vector", state=MC.Finished,
                              indexed_rows=10, total_rows=10)
    put("index_progress", 6, 0, di)
    put("has_database", 9, 0, M.ListDatabasesResponse(status=st(), db_names=["default", "x"]))
    put("load_state", 10, 0, M.GetLoadStateResponse(status=st(), state=MC.LoadStateLoaded))
    mr = M.MutationResult(status=st(), insert_cnt=3, upsert_cnt=3)
    mr.IDs.int_id.data.extend([1, 2, 3])
    put("mutation_insert", 11, 6, mr)
    put("mutation_upsert", 11, 7, mr)
    cq = M.QueryResults(status=st())
    cq.fields_data.add(field_name="count(*)", type=MS.Int64).scalars.long_data.data.append(7)
    put("count", 12, 0, cq)
    # rows, plan 0: VarChar id, image (dense 4), text (sparse), typed fields, $meta
    q = M.QueryResults(status=st())
    f = q.fields_data.add(field_name="id", type=MS.VarChar)
    f.scalars.string_data.data.extend(["1d675313-d3dd-4646-8b98-8052364872da", "7"])
    f = q.fields_data.add(field_name="image", type=MS.FloatVector)
    f.vectors.dim = 4
    f.vectors.float_vector.data.extend([0.1, 0.2, 0.3, 0.4, 1, 2, 3, 4])
    f = q.fields_data.add(field_name="text", type=MS.SparseFloatVector)
    f.vectors.dim = 100
    f.vectors.sparse_float_vector.dim = 100
    f.vectors.sparse_float_vector.contents.extend(
        [struct.pack("<IfIf", 1, 0.5, 7, 1.5), struct.pack("<If", 99, 2.0)])
    f = q.fields_data.add(field_name="category", type=MS.VarChar)
    f.scalars.string_data.data.extend(["x", "y"])
    f = q.fields_data.add(field_name="tags", type=MS.Array)
    f.scalars.array_data.element_type = MS.VarChar
    f.scalars.array_data.data.add().string_data.data.extend(["t1", "t2"])
    f.scalars.array_data.data.add().string_data.data.extend([])
    f.valid_data.extend([True, False])
    f = q.fields_data.add(field_name="price", type=MS.Double)
    f.scalars.double_data.data.extend([1.5, 0])
    f.valid_data.extend([True, False])
    f = q.fields_data.add(field_name="n", type=MS.Int64)
    f.scalars.long_data.data.extend([5, 0])
    f.valid_data.extend([True, False])
    f = q.fields_data.add(field_name="ok", type=MS.Bool)
    f.scalars.bool_data.data.extend([True, False])
    f.valid_data.extend([True, True])
    f = q.fields_data.add(field_name="$meta", type=MS.JSON, is_dynamic=True)
    f.scalars.json_data.data.extend([b'{"city":"Berlin"}', b"{}"])
    put("rows_docs", 13, 0, q)
    q = M.QueryResults(status=st())
    f = q.fields_data.add(field_name="id", type=MS.Int64)
    f.scalars.long_data.data.extend([1, 2])
    f = q.fields_data.add(field_name="vector", type=MS.FloatVector)
    f.vectors.dim = 4
    f.vectors.float_vector.data.extend([0.1, 0.2, 0.3, 0.4, 1, 2, 3, 4])
    f = q.fields_data.add(field_name="$meta", type=MS.JSON, is_dynamic=True)
    f.scalars.json_data.data.extend([b'{"a":1}', b'{"b":[1,2]}'])
    put("rows_int", 13, 1, q)
    put("import", 14, 0, M.ImportResponse(status=st(), tasks=[77]))
    ist = M.GetImportStateResponse(status=st(), state=MC.ImportFailed, row_count=5, id=77)
    ist.infos.add(key="failed_reason", value="bad file")
    put("import_state", 15, 0, ist)
    li = M.ListImportTasksResponse(status=st())
    li.tasks.add(id=77, state=MC.ImportStarted)
    li.tasks.add(id=78, state=MC.ImportCompleted)
    put("list_imports", 16, 0, li)
    put("refresh_progress", 17, 0, M.GetLoadingProgressResponse(status=st(), refresh_progress=50))


if __name__ == "__main__":
    qdrant_grpc()
    milvus()
