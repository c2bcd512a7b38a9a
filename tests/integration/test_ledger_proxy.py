"""The ledger proxy must see what Milvus Lite hides: a key inserted twice is one row on Lite
but two on real Milvus. Proves the duplicate checks of the job tests can fail, and that the
proxy's ledger agrees with what the real Milvus 2.3.5 server itself counts; and that its insert
quota throttles writes as Milvus's rate limiter does while vmigrate still lands every point."""

import json
import time

import pytest
from pymilvus import MilvusClient

from tests.harness.milvus_proxy import MilvusLedgerProxy
from tests.integration.checks import fresh_source, run_vmigrate, strong_count


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


@pytest.mark.targets("milvus23")
def test_quota_throttles_and_vmigrate_lands_every_point(milvus, qdrant, qdrant_client,
                                                        milvus_client, vmigrate_bin, tmp_path):
    """An insert quota (bytes/s and requests/s, one bucket for every connection) answers the
    writes over it with Milvus's rate-limit status (code 8, retriable) without forwarding
    them; vmigrate paces and retries them, so every point lands once (count(*) Strong with
    pymilvus, and the ledger: no key twice), the proxy counted throttled answers, and it
    forwarded no more than the quota lets through over the run."""
    n, page = 4000, 200
    coll = fresh_source(qdrant_client, milvus_client, "paging_100k", n=n, name="quota_probe")
    rate_b, rps = 40_000, 8.0  # ~20 pages of ~7 KB: several seconds over quota at this rate
    with MilvusLedgerProxy(f"127.0.0.1:{milvus.port}", insert_rate_mb_s=rate_b / 1e6,
                           insert_rps=rps) as px:
        t0 = time.monotonic()
        p = run_vmigrate(vmigrate_bin, "migrate", "--source", qdrant.url,
                         "--target", px.url, "-c", coll, "--page-size", str(page),
                         "--no-verify", "--json", "--store", str(tmp_path / "s.db"),
                         check=True)
        elapsed = time.monotonic() - t0
        st = px.stats()
        assert px.duplicates(coll) == {} and len(px.keys(coll)) == n
    assert st["throttled"] > 0, st
    assert "throttled" in p.stderr, p.stderr[-2000:]  # vmigrate says it was paced
    out = json.loads(p.stdout)
    assert out["collections"][0]["status"] == "SUCCESSFUL", out
    # a bucket of one second's burst that may go into debt by one request: an upper bound
    biggest = st["insert_bytes"] / max(st["inserts"], 1) * 4
    assert st["insert_bytes"] <= rate_b * (elapsed + 1) + biggest, (st, elapsed)
    assert st["inserts"] <= rps * (elapsed + 1) + 1, (st, elapsed)
    milvus_client.load_collection(coll)
    assert strong_count(milvus_client, coll) == n
    milvus_client.drop_collection(coll)
