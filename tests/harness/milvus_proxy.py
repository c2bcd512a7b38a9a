"""A gRPC proxy in front of Milvus Lite that keeps a ledger with real Milvus's primary-key
semantics, to catch what Milvus Lite hides.

Milvus Lite de-duplicates primary keys on Insert (the last row wins), while real Milvus stores
every inserted row: a client that re-sends a batch with Insert after a crash doubles points on
real Milvus but looks exact on Lite. The proxy forwards every call unchanged (raw bytes) and,
for each acknowledged Insert/Upsert, updates a ledger per collection: Insert adds one row per
primary key, Upsert replaces all rows of the key with one, Delete/Drop clear them. A test then
asserts every key has exactly one row, as real Milvus would hold.
"""

from __future__ import annotations

import collections
import threading
from concurrent import futures

import grpc

from tests.harness.servers import free_port

MAX = 512 << 20
_OPTS = [("grpc.max_receive_message_length", MAX), ("grpc.max_send_message_length", MAX)]


class MilvusLedgerProxy:
    def __init__(self, backend: str, pk: str = "id"):
        """backend: "host:port" of Milvus (Lite); pk: the primary-key field name."""
        from pymilvus.grpc_gen import common_pb2, milvus_pb2  # the official message types
        self._pb, self._common = milvus_pb2, common_pb2
        self.backend, self.pk = backend, pk
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.rows = collections.defaultdict(collections.Counter)  # coll -> pk -> rows
        self.calls = collections.Counter()
        self.stall_index = False  # DescribeIndex answers "InProgress, 0 rows indexed"
        self._mu = threading.Lock()
        self._chan = grpc.insecure_channel(backend, options=_OPTS)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=_OPTS)
        self._server.add_generic_rpc_handlers((self._Handler(self),))
        self._server.add_insecure_port(f"127.0.0.1:{self.port}")

    class _Handler(grpc.GenericRpcHandler):
        def __init__(self, proxy):
            self.p = proxy

        def service(self, details):
            method = details.method
            return grpc.unary_unary_rpc_method_handler(
                lambda req, ctx: self.p._forward(method, req, ctx))

    def _forward(self, method, req: bytes, ctx):
        call = self._chan.unary_unary(method)
        left = ctx.time_remaining()  # "no deadline" reads as ~9e18 s
        meta = [(m.key, m.value) for m in ctx.invocation_metadata() if m.key != "user-agent"]
        try:
            resp = call(req, metadata=meta, timeout=left if left and left < 1e6 else None)
        except grpc.RpcError as e:
            ctx.abort(e.code(), e.details() or "")
        rpc = method.rsplit("/", 1)[-1]
        self._account(rpc, req, resp)
        if rpc == "DescribeIndex" and self.stall_index:
            resp = self._stalled_index(resp)
        return resp

    def _stalled_index(self, resp: bytes) -> bytes:
        """The answer of a server whose index build does not move: every index InProgress
        with none of its rows indexed (the counts of rows stay Milvus's own)."""
        r = self._pb.DescribeIndexResponse.FromString(resp)
        for d in r.index_descriptions:
            d.pending_index_rows = d.total_rows
            d.indexed_rows = 0
            d.state = self._common.IndexState.InProgress
        return r.SerializeToString()

    def _pks(self, fields):
        for fd in fields:
            if fd.field_name == self.pk:
                sc = fd.scalars
                return list(sc.long_data.data) if sc.HasField("long_data") else \
                    list(sc.string_data.data)
        return []

    def _account(self, rpc, req, resp):
        pb = self._pb
        with self._mu:
            self.calls[rpc] += 1
            if rpc in ("Insert", "Upsert"):
                r = (pb.InsertRequest if rpc == "Insert" else pb.UpsertRequest).FromString(req)
                res = pb.MutationResult.FromString(resp)
                if res.status.code != 0 or res.status.error_code != 0:
                    return
                ledger = self.rows[r.collection_name]
                for k in self._pks(r.fields_data):
                    ledger[k] = ledger[k] + 1 if rpc == "Insert" else 1
            elif rpc == "DropCollection":
                self.rows.pop(pb.DropCollectionRequest.FromString(req).collection_name, None)

    def duplicates(self, coll):
        """Keys real Milvus would hold more than once."""
        with self._mu:
            return {k: n for k, n in self.rows[coll].items() if n != 1}

    def keys(self, coll):
        with self._mu:
            return set(self.rows[coll])

    def start(self):
        self._server.start()
        return self

    def stop(self):
        self._server.stop(grace=1).wait()
        self._chan.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
