"""The harness itself: each Milvus target (the real Milvus 2.3.5 server, Milvus Lite) starts on
a free port, keeps data across restart() on the same port and data dir (outage tests rely on
it), two real servers run side by side (their embedded etcd ports are moved too), and servers
are torn down and cleaned up.
"""

import os

import numpy as np
from pymilvus import DataType, MilvusClient

from tests.harness import MilvusLite, MilvusServer, QdrantTestServer, milvus_client_for


def test_milvus_restart_keeps_data(milvus, milvus_client):
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=4)
    index = milvus_client.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="L2")  # real Milvus: no load without
    milvus_client.create_collection("h", schema=schema, index_params=index)
    rows = [{"pk": i, "v": np.random.default_rng(i).random(4).tolist()} for i in range(10)]
    milvus_client.insert("h", rows)
    milvus_client.flush("h")
    port = milvus.port
    milvus.restart()
    assert milvus.port == port and milvus.running
    fresh = milvus_client_for(milvus)
    fresh.load_collection("h")
    got = fresh.query("h", filter="pk >= 0", output_fields=["pk"], consistency_level="Strong")
    assert sorted(r["pk"] for r in got) == list(range(10))
    fresh.close()


def test_two_real_milvus_servers_side_by_side():
    with MilvusServer() as a, MilvusServer() as b:
        assert a.etcd_peer_port != b.etcd_peer_port
        for srv in (a, b):
            c = milvus_client_for(srv)
            assert c.get_server_version().startswith("v2.3.5")
            c.close()


def test_servers_cleaned_up():
    with QdrantTestServer() as q, MilvusLite() as m:
        dirs = [q.data_dir, m.data_dir]
        procs = [q.proc, m.proc]
        assert all(os.path.isdir(d) for d in dirs)
    assert all(p.poll() is not None for p in procs)
    assert not any(os.path.exists(d) for d in dirs)
