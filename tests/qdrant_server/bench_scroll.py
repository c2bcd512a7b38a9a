"""Measure the Qdrant test server's scroll throughput (points/s) for dense vectors, cold (first
pass, vectors serialized on the fly) and warm (second pass, served from the vector cache), over
the REST face and the gRPC face (grpc_face.py), with the bytes each face sent (/__test/stats).
Usage: `python -m tests.qdrant_server.bench_scroll [--n 20000] [--dim 768] [--page 500]
[--grpc-vectors old|new]`.
"""

import argparse
import http.client
import re
import sys
import time
import urllib.parse

import numpy as np
import orjson
import requests

from tests.harness import QdrantTestServer


NEXT = re.compile(rb'"next_page_offset":(null|\d+|"[^"]*")')
HEADERS = {"Content-Type": "application/json", "Accept-Encoding": "identity"}


def scroll_all(url, page):
    """Scroll everything over one keep-alive connection; reads raw bytes and takes
    next_page_offset from the end of the body, so client-side JSON decoding is not measured."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    n, off, nbytes = 0, None, 0
    while True:
        body = {"limit": page, "with_vector": True, "with_payload": True}
        if off is not None:
            body["offset"] = off
        conn.request("POST", u.path, body=orjson.dumps(body), headers=HEADERS)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"scroll: HTTP {r.status}: {data[:200]!r}")
        nbytes += len(data)
        n += data.count(b'{"id":')
        m = NEXT.search(data, len(data) - 200)
        off = orjson.loads(m.group(1))
        if off is None:
            conn.close()
            return n, nbytes


def grpc_scroll_all(q, name, page):
    """Scroll everything over one gRPC channel; the response is decoded by protobuf's C
    (upb) parser, which a C client's decode is not slower than."""
    import grpc
    from qdrant_client.grpc import points_pb2
    with grpc.insecure_channel(f"127.0.0.1:{q.grpc_port}", options=[
            ("grpc.max_receive_message_length", -1)]) as ch:
        fn = ch.unary_unary("/qdrant.Points/Scroll",
                            request_serializer=lambda m: m.SerializeToString(),
                            response_deserializer=points_pb2.ScrollResponse.FromString)
        n, off = 0, None
        while True:
            req = points_pb2.ScrollPoints(
                collection_name=name, limit=page,
                with_payload=points_pb2.WithPayloadSelector(enable=True),
                with_vectors=points_pb2.WithVectorsSelector(enable=True))
            if off is not None:
                req.offset.CopyFrom(off)
            r = fn(req, timeout=120)
            n += len(r.result)
            if not r.HasField("next_page_offset"):
                return n
            off = r.next_page_offset


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--page", type=int, default=500)
    ap.add_argument("--eager", action="store_true", help="server fills its cache at upsert")
    ap.add_argument("--grpc-vectors", choices=("old", "new"), default=None)
    a = ap.parse_args(argv)
    extra = ["--eager-vector-cache"] if a.eager else []
    with QdrantTestServer(extra_args=extra, grpc_vectors=a.grpc_vectors) as q:
        s = requests.Session()
        s.put(f"{q.url}/collections/b", json={"vectors": {"size": a.dim, "distance": "Cosine"}}
              ).raise_for_status()
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        for start in range(0, a.n, 500):
            v = rng.standard_normal((min(500, a.n - start), a.dim)).astype(np.float32)
            pts = [{"id": start + i, "vector": v[i].tolist(), "payload": {"i": start + i}}
                   for i in range(len(v))]
            s.put(f"{q.url}/collections/b/points?wait=true", data=orjson.dumps({"points": pts}),
                  headers=HEADERS).raise_for_status()
        print(f"load: {a.n / (time.perf_counter() - t):.0f} points/s", flush=True)
        url = f"{q.url}/collections/b/points/scroll"
        for label in ("first pass", "second pass"):
            t = time.perf_counter()
            n, nbytes = scroll_all(url, a.page)
            el = time.perf_counter() - t
            print(f"REST scroll {label}: {n / el:.0f} points/s, {nbytes / el / 1e6:.0f} MB/s, "
                  f"{nbytes / max(n, 1):.0f} B/point ({a.dim}-d, page {a.page}, raw bytes, "
                  "no client-side decode)", flush=True)
        for label in ("first pass", "second pass"):
            q.stats(reset=True)
            t = time.perf_counter()
            n = grpc_scroll_all(q, "b", a.page)
            el = time.perf_counter() - t
            nbytes = q.stats()["grpc"]["response_bytes"]
            print(f"gRPC scroll {label}: {n / el:.0f} points/s, {nbytes / el / 1e6:.0f} MB/s, "
                  f"{nbytes / max(n, 1):.0f} B/point ({a.dim}-d, page {a.page}, decoded by "
                  "upb)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
