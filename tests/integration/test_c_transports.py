"""The C transports against the real test servers: check_qdrant (libcurl, REST) reads every
collection the data generator made and matches the exact counts, over plain HTTP and over TLS
with an API key; check_milvus (gRPC C core) makes several RPCs on one reused channel
(GetVersion, CheckHealth), then a full create/insert/upsert/index/load/count/retrieve round
trip, checked independently with pymilvus before it drops the collection."""

import os
import subprocess

import pytest

from tests.datagen import datagen
from tests.harness.servers import QdrantTestServer, qdrant_client_for

BUILD = os.environ.get("VMIG_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "dev")


def tool(name):
    path = os.path.join(BUILD, "tests_c", name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} missing: build with `make dev`", pytrace=False)
    return path


def run(*args, env=None):
    e = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    e.update(env or {})
    return subprocess.run(list(args), capture_output=True, text=True, env=e, timeout=300)


def test_qdrant_rest_over_libcurl(qdrant, qdrant_client):
    for shape in ("single_cosine_768", "named_mixed", "ids_mixed", "ids_big", "payload_rich",
                  "empty"):
        datagen.generate(qdrant_client, shape)
    p = run(tool("check_qdrant"), qdrant.url)
    assert p.returncode == 0, p.stdout + p.stderr
    for shape in ("single_cosine_768", "named_mixed", "ids_mixed", "ids_big"):
        assert datagen.collection_name(shape) in p.stdout
    p = run(tool("check_qdrant"), qdrant.url, env={"CHECK_SLICES": "3"})
    assert p.returncode == 0, p.stdout + p.stderr


def test_qdrant_rest_tls_and_api_key():
    with QdrantTestServer(api_key="s3cret-key", tls=True) as q:
        datagen.generate(qdrant_client_for(q), "ids_uuid")
        p = run(tool("check_qdrant"), q.url, "s3cret-key", env={"CHECK_CA_FILE": q.cert_path})
        assert p.returncode == 0, p.stdout + p.stderr
        p = run(tool("check_qdrant"), q.url, "wrong-key", env={"CHECK_CA_FILE": q.cert_path})
        assert p.returncode != 0 and "401" in p.stderr and "wrong-key" not in p.stderr
        p = run(tool("check_qdrant"), q.url, "s3cret-key")  # self-signed, no CA: clear TLS error
        assert p.returncode != 0 and "TLS" in p.stderr


def test_milvus_grpc_reused_channel(milvus, milvus_client):
    p = run(tool("check_milvus"), milvus.url, env={"CHECK_KEEP": "1"})
    assert p.returncode == 0 and "all ok" in p.stdout, p.stdout + p.stderr
    assert p.stdout.count("same channel") >= 3, p.stdout
    kept = [ln.split()[-1] for ln in p.stdout.splitlines() if ln.startswith("kept collection")]
    assert len(kept) == 2
    for name in kept:  # independently: what the C client wrote is what pymilvus reads
        milvus_client.load_collection(name)
        rows = milvus_client.query(name, filter="", output_fields=["*"], limit=100)
        assert len(rows) == 5 and len({r["id"] for r in rows}) == 5
        assert all(len(r["dense"]) == 4 for r in rows), rows[0]
