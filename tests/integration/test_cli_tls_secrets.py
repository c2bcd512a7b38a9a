"""The CLI against an https Qdrant with an API key: the key comes from QDRANT_API_KEY, TLS is
verified against --ca-file, a self-signed certificate without it gives a clear TLS error, a
wrong key a clear 401 error, and no output ever contains the key."""

import json

import pytest

from tests.datagen import datagen
from tests.harness.servers import QdrantTestServer, qdrant_client_for
from tests.integration.checks import compare, run_vmigrate

KEY = "qk-7f3a9c1e-secret"


@pytest.fixture(scope="module")
def tls_qdrant():
    with QdrantTestServer(api_key=KEY, tls=True) as q:
        datagen.generate(qdrant_client_for(q), "ids_mixed")
        yield q


def test_https_with_key_from_env(tls_qdrant, milvus, milvus_client, vmigrate_bin):
    q = tls_qdrant
    coll = datagen.collection_name("ids_mixed")
    p = run_vmigrate(vmigrate_bin, "migrate", "--source", q.url, "--target", milvus.url,
                     "-c", coll, "--ca-file", q.cert_path, "--json",
                     env={"QDRANT_API_KEY": KEY})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["collections"][0]["status"] == "SUCCESSFUL"
    assert KEY not in p.stdout + p.stderr
    compare(qdrant_client_for(q), milvus_client, coll, coll, {"": ("vector", "dense")},
            pk_varchar=True)


def test_self_signed_without_ca_is_a_clear_tls_error(tls_qdrant, vmigrate_bin):
    p = run_vmigrate(vmigrate_bin, "collections", "--source", tls_qdrant.url,
                     env={"QDRANT_API_KEY": KEY})
    assert p.returncode == 3 and "TLS" in p.stderr and "--ca-file" in p.stderr
    assert KEY not in p.stdout + p.stderr
    p = run_vmigrate(vmigrate_bin, "collections", "--source", tls_qdrant.url, "--insecure",
                     env={"QDRANT_API_KEY": KEY})
    assert p.returncode == 0, p.stderr


def test_wrong_key_is_a_clear_auth_error(tls_qdrant, vmigrate_bin):
    p = run_vmigrate(vmigrate_bin, "collections", "--source", tls_qdrant.url, "--ca-file",
                     tls_qdrant.cert_path, "--api-key", "not-the-key")
    assert p.returncode == 3 and "401" in p.stderr and "API key" in p.stderr
    assert "not-the-key" not in p.stdout + p.stderr
