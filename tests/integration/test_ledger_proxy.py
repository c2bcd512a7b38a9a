"""The ledger proxy must see what Milvus Lite hides: a key inserted twice is one row on Lite
but two on real Milvus. Proves the duplicate checks of the job tests can fail."""

from pymilvus import MilvusClient

from tests.harness.milvus_proxy import MilvusLedgerProxy


def test_proxy_counts_reinserted_keys_as_real_milvus(milvus):
    with MilvusLedgerProxy(f"127.0.0.1:{milvus.port}") as px:
        c = MilvusClient(uri=px.url)
        c.create_collection("ledger_probe", dimension=4)
        rows = [{"id": i, "vector": [0.5, 0.25, 0.125, float(i)]} for i in range(10)]
        c.insert("ledger_probe", rows)
        c.insert("ledger_probe", rows[:3])  # a re-sent batch
        assert px.duplicates("ledger_probe") == {0: 2, 1: 2, 2: 2}
        # ... which Milvus Lite itself hides:
        assert c.query("ledger_probe", filter="", output_fields=["count(*)"])[0]["count(*)"] == 10
        c.upsert("ledger_probe", rows[:3])  # upsert replaces: one row each again
        assert px.duplicates("ledger_probe") == {}
        c.drop_collection("ledger_probe")
        c.close()
