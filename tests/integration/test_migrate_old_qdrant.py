"""A Qdrant before 1.19 has no `slice` filter: vmigrate must still read in parallel, by
half-open id ranges cut at ids the server samples at random, with no point read twice or
missed at a boundary (checked through pymilvus against qdrant-client), for integer ids and
for mixed integer + UUID ids."""

import json

import pytest

from tests.datagen import datagen
from tests.harness.milvus_proxy import MilvusLedgerProxy
from tests.harness.servers import QdrantTestServer, qdrant_client_for
from tests.integration.checks import compare, run_vmigrate


@pytest.fixture(scope="module")
def old_qdrant():
    with QdrantTestServer(extra_args=["--version", "1.18.3"]) as q:
        qc = qdrant_client_for(q)
        datagen.generate(qc, "paging_100k", n=12000, name="old_paging")
        datagen.generate(qc, "ids_mixed", n=3000, name="old_mixed")
        yield q, qc


@pytest.mark.parametrize("coll,varchar", [("old_paging", False), ("old_mixed", True)])
def test_id_ranges_without_slices(old_qdrant, milvus, milvus_client, vmigrate_bin, coll,
                                  varchar):
    q, qc = old_qdrant
    # the server really refuses the slice condition, as Qdrant 1.18 would
    import requests
    r = requests.post(f"{q.url}/collections/{coll}/points/scroll",
                      json={"limit": 1, "filter": {"must": [{"slice": {"total": 2, "index": 0}}]}})
    assert r.status_code == 400
    # through the ledger proxy: a boundary point read by two ranges would be two rows on real
    # Milvus, while Milvus Lite would silently keep one
    with MilvusLedgerProxy(f"127.0.0.1:{milvus.port}") as px:
        p = run_vmigrate(vmigrate_bin, "migrate", "--source", q.url, "--target", px.url,
                         "-c", coll, "--readers", "4", "--page-size", "300", "--json",
                         check=True)
        assert px.duplicates(coll) == {} and px.calls["Insert"] > 0
        assert len(px.keys(coll)) == qc.count(coll, exact=True).count
    job = json.loads(p.stdout)
    ranges = job["collections"][0]["state"]["ranges"]
    assert len(ranges) >= 3, ranges          # split into id ranges, not one sequential scroll
    assert all(rg.get("slice_total", 0) == 0 for rg in ranges)
    compare(qc, milvus_client, coll, coll, {"": ("vector", "dense")}, pk_varchar=varchar)
