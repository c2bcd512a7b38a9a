"""The ledger proxy must see what Milvus Lite hides: a key inserted twice is one row on Lite
but two on real Milvus. Proves the duplicate checks of the job tests can fail, and that the
proxy's ledger agrees with what the real Milvus 2.3.5 server itself counts."""

from pymilvus import MilvusClient

from tests.harness.milvus_proxy import MilvusLedgerProxy


def count(c):
    return c.query("ledger_probe", filter="", output_fields=["count(*)"],
                   consistency_level="Strong")[0]["count(*)"]


def test_proxy_counts_reinserted_keys_as_real_milvus(milvus):
    with MilvusLedgerProxy(f"127.0.0.1:{milvus.port}") as px:
        c = MilvusClient(uri=px.url)
        c.create_collection("ledger_probe", dimension=4, consistency_level="Strong")
        rows = [{"id": i, "vector": [0.5, 0.25, 0.125, float(i)]} for i in range(10)]
        c.insert("ledger_probe", rows)
        c.insert("ledger_probe", rows[:3])  # a re-sent batch
        assert px.duplicates("ledger_probe") == {0: 2, 1: 2, 2: 2}
        # ... which Milvus Lite itself hides, and the real server holds:
        real = milvus.target == "milvus23"
        assert count(c) == (13 if real else 10)
        c.upsert("ledger_probe", rows[:3])  # upsert replaces: one row each again
        assert px.duplicates("ledger_probe") == {}
        assert count(c) == 10
        c.drop_collection("ledger_probe")
        c.close()
