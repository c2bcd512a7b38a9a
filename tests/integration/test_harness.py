"""The harness itself: Milvus Lite starts on a free port, keeps data across restart() on the
same port and data dir (outage tests rely on it), and servers are torn down and cleaned up.
"""

import os

import numpy as np
from pymilvus import DataType, MilvusClient

from tests.harness import MilvusLite, QdrantTestServer


def test_milvus_restart_keeps_data(milvus, milvus_client):
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=4)
    milvus_client.create_collection("h", schema=schema)
    rows = [{"pk": i, "v": np.random.default_rng(i).random(4).tolist()} for i in range(10)]
    milvus_client.insert("h", rows)
    milvus_client.flush("h")
    port = milvus.port
    milvus.restart()
    assert milvus.port == port and milvus.running
    fresh = MilvusClient(uri=milvus.url)
    got = fresh.query("h", filter="pk >= 0", output_fields=["pk"])
    assert sorted(r["pk"] for r in got) == list(range(10))
    fresh.close()


def test_servers_cleaned_up():
    with QdrantTestServer() as q, MilvusLite() as m:
        dirs = [q.data_dir, m.data_dir]
        procs = [q.proc, m.proc]
        assert all(os.path.isdir(d) for d in dirs)
    assert all(p.poll() is not None for p in procs)
    assert not any(os.path.exists(d) for d in dirs)
