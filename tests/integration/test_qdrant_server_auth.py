"""The Qdrant test server's API-key checks, TLS mode and fault injection. Auth must answer like
Qdrant (401 plain text, key via `api-key` or `Authorization: Bearer`, open health paths); TLS must
work with the generated certificate as CA; faults (503 envelope, delays, cut bodies) must really
happen, deterministically, so vmigrate's retry tests can rely on them.
"""

import http.client

import pytest
import requests

from tests.harness import QdrantTestServer, qdrant_client_for

KEY = "s3cret-test-key"


@pytest.fixture(scope="module")
def keyed():
    with QdrantTestServer(api_key=KEY) as srv:
        yield srv


@pytest.fixture(scope="module")
def tls():
    with QdrantTestServer(api_key=KEY, tls=True) as srv:
        yield srv


def test_missing_key_is_401_plain_text(keyed):
    r = requests.get(keyed.url + "/collections", timeout=10)
    assert r.status_code == 401
    assert r.text == "Must provide an API key or an Authorization bearer token"
    assert not r.headers["Content-Type"].startswith("application/json")


def test_wrong_key_is_401(keyed):
    for headers in ({"api-key": "nope"}, {"Authorization": "Bearer nope"}):
        r = requests.get(keyed.url + "/collections", headers=headers, timeout=10)
        assert r.status_code == 401 and r.text == "Invalid API key or JWT"


def test_right_key_both_headers(keyed):
    for headers in ({"api-key": KEY}, {"Authorization": f"Bearer {KEY}"}):
        r = requests.get(keyed.url + "/collections", headers=headers, timeout=10)
        assert r.status_code == 200 and r.json()["status"] == "ok"


def test_open_paths_need_no_key(keyed):
    for path in ("/", "/healthz", "/readyz", "/livez"):
        assert requests.get(keyed.url + path, timeout=10).status_code == 200, path


def test_official_client_with_key(keyed):
    client = qdrant_client_for(keyed)
    client.create_collection("k", vectors_config={"size": 4, "distance": "Dot"})
    assert client.collection_exists("k")
    client.close()


def test_tls_with_generated_ca(tls):
    assert tls.url.startswith("https://")
    r = requests.get(tls.url + "/", verify=tls.cert_path, timeout=10)
    assert r.status_code == 200 and r.json()["version"] == "1.19.0"
    r = requests.get(tls.url + "/collections", headers={"api-key": KEY}, verify=tls.cert_path,
                     timeout=10)
    assert r.status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls.url + "/", timeout=10)  # system CAs do not trust the test cert
    client = qdrant_client_for(tls)
    client.create_collection("t", vectors_config={"size": 4, "distance": "Dot"})
    assert [c.name for c in client.get_collections().collections] == ["t"]
    client.close()


# --------------------------------------------------------------------------------------------
# Fault injection
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def faulty():
    with QdrantTestServer(faults={"p503": 0.3, "seed": 42}) as srv:
        yield srv


def test_fault_503_from_flags(faulty):
    codes = []
    for _ in range(100):
        r = requests.get(faulty.url + "/collections", timeout=10)
        codes.append(r.status_code)
        if r.status_code == 503:
            body = r.json()
            assert set(body) == {"status", "time"} and "error" in body["status"]
    assert 10 <= codes.count(503) <= 50 and codes.count(200) == 100 - codes.count(503)
    # root and health are never faulted
    assert all(requests.get(faulty.url + "/", timeout=10).status_code == 200 for _ in range(30))


def test_faults_deterministic_by_seed(faulty):
    faulty.set_faults(p503=0.5, seed=7)
    first = [requests.get(faulty.url + "/collections", timeout=10).status_code for _ in range(40)]
    faulty.set_faults(p503=0.5, seed=7)
    second = [requests.get(faulty.url + "/collections", timeout=10).status_code for _ in range(40)]
    assert first == second and 503 in first and 200 in first
    faulty.set_faults()


def test_fault_cut_body(faulty):
    faulty.set_faults()
    s = requests.Session()
    s.put(faulty.url + "/collections/c", json={"vectors": {"size": 64, "distance": "Dot"}}
          ).raise_for_status()
    pts = [{"id": i, "vector": [0.5] * 64, "payload": {"i": i}} for i in range(200)]
    s.put(faulty.url + "/collections/c/points?wait=true", json={"points": pts}).raise_for_status()
    faulty.set_faults(cut=1.0, seed=1)
    conn = http.client.HTTPConnection("127.0.0.1", faulty.port, timeout=10)
    conn.request("POST", "/collections/c/points/scroll", body=b'{"limit":200,"with_vector":true}',
                 headers={"Content-Type": "application/json", "Accept-Encoding": "identity"})
    resp = conn.getresponse()
    assert resp.status == 200
    promised = int(resp.getheader("Content-Length"))
    with pytest.raises(http.client.IncompleteRead) as exc:
        resp.read()
    assert 0 < len(exc.value.partial) < promised
    conn.close()
    faulty.set_faults()


def test_fault_delay(faulty):
    faulty.set_faults(delay=1.0, delay_s=2.0, seed=3)
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(faulty.url + "/collections", timeout=0.5)
    faulty.set_faults()
    assert requests.get(faulty.url + "/collections", timeout=5).status_code == 200


def test_keep_alive_reuses_connection(faulty):
    faulty.set_faults()
    conn = http.client.HTTPConnection("127.0.0.1", faulty.port, timeout=10)
    conn.connect()
    local = conn.sock.getsockname()
    for _ in range(5):
        conn.request("GET", "/collections")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
    assert conn.sock is not None and conn.sock.getsockname() == local
    conn.close()
