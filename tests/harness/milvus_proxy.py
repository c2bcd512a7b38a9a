"""A gRPC proxy in front of Milvus (Lite or the real 2.3.5 server) that keeps a ledger with real
Milvus's primary-key semantics, to catch what Milvus Lite hides, and can hold writes to a quota.

Milvus Lite de-duplicates primary keys on Insert (the last row wins), while real Milvus stores
every inserted row: a client that re-sends a batch with Insert after a crash doubles points on
real Milvus but looks exact on Lite. The proxy forwards every call unchanged (raw bytes) and,
for each acknowledged Insert/Upsert, updates a ledger per collection: Insert adds one row per
primary key, Upsert replaces all rows of the key with one, Delete/Drop clear them. A test then
asserts every key has exactly one row, as real Milvus would hold.

Quota (optional, `insert_rate_mb_s` and/or `insert_rps`): a cluster-wide cap on DML like Zilliz
Cloud's, one token bucket per limit shared by every connection, charged with the bytes of each
Insert/Upsert request body (resp. one per request). Over quota the proxy does not forward the
request and answers as Milvus's rate limiter does (shared/reference/milvus.md, "Application
errors"): gRPC OK with a MutationResult whose Status is code 8 "rate limit exceeded", legacy
error_code RateLimit (49) and retriable set; vmigrate reads that as VMIG_E_RATE_LIMIT
(target/milvus_codec.c) and paces. `throttled` counts those answers.
"""

from __future__ import annotations

import collections
import threading
import time
from concurrent import futures

import grpc

from tests.harness.servers import free_port

MAX = 512 << 20
_OPTS = [("grpc.max_receive_message_length", MAX), ("grpc.max_send_message_length", MAX)]


class TokenBucket:
    """Tokens refill at `rate` per second up to `burst` (default: one second's worth). A
    request passes while the bucket is not in debt and takes its whole cost, which may drive
    the bucket below zero: so a request larger than the burst still passes (once the debt is
    paid back) instead of never, and the long-run rate stays `rate`. Not thread-safe: the
    proxy calls it under its lock."""

    def __init__(self, rate: float, burst: float | None = None):
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else rate)
        self.tokens = self.burst
        self.t = time.monotonic()

    def ready(self) -> bool:
        """Refill for the time passed; True when not in debt."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.t) * self.rate)
        self.t = now
        return self.tokens >= 0

    def charge(self, cost: float):
        self.tokens -= cost


class MilvusLedgerProxy:
    def __init__(self, backend: str, pk: str = "id", insert_rate_mb_s: float = 0,
                 insert_rps: float = 0, ledger: bool = True):
        """backend: "host:port" of Milvus; pk: the primary-key field name. insert_rate_mb_s
        (10^6 bytes of Insert/Upsert request bodies per second) and insert_rps (Insert/Upsert
        requests per second): the quota, 0 = none. ledger=False skips decoding the writes
        (counters only)."""
        from pymilvus.grpc_gen import common_pb2, milvus_pb2  # the official message types
        self._pb, self._common = milvus_pb2, common_pb2
        self.backend, self.pk = backend, pk
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.rows = collections.defaultdict(collections.Counter)  # coll -> pk -> rows
        self.calls = collections.Counter()
        self.stall_index = False  # DescribeIndex answers "InProgress, 0 rows indexed"
        self.ledger = ledger
        self._buckets = []  # (bucket, cost of one request as a function of its body)
        if insert_rate_mb_s > 0:
            self._buckets.append((TokenBucket(insert_rate_mb_s * 1e6), len))
        if insert_rps > 0:
            self._buckets.append((TokenBucket(insert_rps), lambda req: 1))
        self.quota = {"insert_rate_mb_s": insert_rate_mb_s, "insert_rps": insert_rps}
        self.throttled = collections.Counter()  # rpc -> answers "rate limit exceeded"
        self.passed_bytes = 0  # Insert/Upsert request bytes forwarded (whatever the answer)
        self._mu = threading.Lock()
        self._chan = grpc.insecure_channel(backend, options=_OPTS)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=64), options=_OPTS)
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
        rpc = method.rsplit("/", 1)[-1]
        if rpc in ("Insert", "Upsert") and not self._admit(rpc, req):
            return self._rate_limited()
        call = self._chan.unary_unary(method)
        left = ctx.time_remaining()  # "no deadline" reads as ~9e18 s
        meta = [(m.key, m.value) for m in ctx.invocation_metadata() if m.key != "user-agent"]
        try:
            resp = call(req, metadata=meta, timeout=left if left and left < 1e6 else None)
        except grpc.RpcError as e:
            ctx.abort(e.code(), e.details() or "")
        self._account(rpc, req, resp)
        if rpc == "DescribeIndex" and self.stall_index:
            resp = self._stalled_index(resp)
        return resp

    def _admit(self, rpc, req: bytes) -> bool:
        """Charge the request to every bucket, or to none when one of them is in debt."""
        with self._mu:
            if not all([b.ready() for b, _ in self._buckets]):  # every bucket refilled
                self.throttled[rpc] += 1
                return False
            for b, cost in self._buckets:
                b.charge(cost(req))
            self.passed_bytes += len(req)
            return True

    def _rate_limited(self) -> bytes:
        """Milvus's answer to a write over its rate limit (merr ErrServiceRateLimit)."""
        c = self._common
        q = self.quota
        rate = q["insert_rate_mb_s"] * 1e6 if q["insert_rate_mb_s"] else q["insert_rps"]
        st = c.Status(code=8, error_code=c.ErrorCode.Value("RateLimit"), retriable=True,
                      reason=f"rate limit exceeded[rate={rate:g}]")
        return self._pb.MutationResult(status=st).SerializeToString()

    def stats(self):
        """The quota's counters: throttled answers per RPC and in all, write calls forwarded,
        bytes of Insert/Upsert bodies forwarded."""
        with self._mu:
            return {"quota": dict(self.quota), "throttled": sum(self.throttled.values()),
                    "throttled_by_rpc": dict(self.throttled),
                    "inserts": self.calls["Insert"] + self.calls["Upsert"],
                    "insert_bytes": self.passed_bytes}

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
            if rpc in ("Insert", "Upsert") and self.ledger:
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
