"""What users hand in is checked before anything happens (issue 9, items 3, 7 and 8): a password
written into the source URL is refused by the CLI and the HTTP API and never lands in the job
store; a key or token with a control character is refused before any request reaches a server;
every numeric option is checked against its documented range (the same in the CLI and the HTTP
API) before a target is created; too many or repeated -c options are named; -q still says why a
migration failed; http:// to a TLS Qdrant says to use https://. Outcomes are read back through
pymilvus, the job store file and a listener that records every connection."""

import json
import os
import socket
import threading

import pytest
import requests

from tests.datagen import datagen
from tests.harness.servers import QdrantTestServer
from tests.integration.checks import run_vmigrate
from tests.integration.test_http_api import Serve

PASSWORD = "Pw-9d1c-secret"


class Listener:
    """A TCP port that records every connection and the bytes sent to it (never answers)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections, self.data = 0, b""
        self.sock.settimeout(0.2)
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            c.settimeout(0.5)
            try:
                self.data += c.recv(65536)
            except OSError:
                pass
            c.close()

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def src(qdrant, qdrant_client):
    datagen.generate(qdrant_client, "ids_mixed", n=200)
    datagen.generate(qdrant_client, "payload_nulls")
    return qdrant


def store_bytes(path):
    data = b""
    for p in (path, path + "-wal"):
        if os.path.exists(p):
            data += open(p, "rb").read()
    return data


# ---- item 3: secrets -------------------------------------------------------------------------

def test_password_in_source_url_is_refused_and_never_stored(src, milvus, milvus_client,
                                                            vmigrate_bin, tmp_path):
    coll = datagen.collection_name("ids_mixed")
    store = str(tmp_path / "vm.db")
    url = src.url.replace("http://", f"http://admin:{PASSWORD}@")
    for cmd in (["migrate", "--target", milvus.url, "-c", coll, "--store", store],
                ["migrate", "--target", milvus.url, "-c", coll, "--store", store, "--detach"],
                ["plan", "--target", milvus.url, "-c", coll],
                ["collections"]):
        p = run_vmigrate(vmigrate_bin, cmd[0], "--source", url, *cmd[1:])
        assert p.returncode == 2, (cmd, p.stdout, p.stderr)
        assert "--source URL must not contain credentials" in p.stderr
        assert "QDRANT_API_KEY" in p.stderr and "--api-key" in p.stderr
        assert PASSWORD not in p.stdout + p.stderr
    # the same through the environment
    p = run_vmigrate(vmigrate_bin, "collections", env={"VMIGRATE_SOURCE": url})
    assert p.returncode == 2 and "QDRANT_API_KEY" in p.stderr and PASSWORD not in p.stderr
    # nothing was created, nothing stored
    assert not milvus_client.has_collection(coll)
    assert PASSWORD.encode() not in store_bytes(store)
    p = run_vmigrate(vmigrate_bin, "jobs", "--store", store, "--json")
    assert PASSWORD not in p.stdout + p.stderr
    # the target URL keeps being refused the same way
    p = run_vmigrate(vmigrate_bin, "plan", "--source", src.url, "-c", coll, "--target",
                     milvus.url.replace("http://", f"http://root:{PASSWORD}@"))
    assert p.returncode == 2 and "MILVUS_TOKEN" in p.stderr and PASSWORD not in p.stderr


@pytest.mark.parametrize("var,key,needle", [
    ("QDRANT_API_KEY", "k1\r\nX-Injected: yes", "Qdrant API key"),
    ("QDRANT_API_KEY", "k1\nX-Injected: yes", "Qdrant API key"),
    ("QDRANT_API_KEY", "k1\x7f", "Qdrant API key"),
    ("MILVUS_TOKEN", "root:Milvus\r\nx-injected: yes", "Milvus token"),
])
def test_control_characters_in_keys_are_refused_before_any_request(listener, vmigrate_bin,
                                                                   var, key, needle):
    p = run_vmigrate(vmigrate_bin, "plan", "--source", listener.url, "--target", listener.url,
                     "-c", "x", env={var: key})
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr and "control character" in p.stderr
    assert "X-Injected" not in p.stderr and "x-injected" not in p.stderr
    flag = "--api-key" if var == "QDRANT_API_KEY" else "--token"
    p = run_vmigrate(vmigrate_bin, "plan", "--source", listener.url, "--target", listener.url,
                     "-c", "x", flag, key)
    assert p.returncode == 2 and needle in p.stderr
    assert listener.connections == 0 and listener.data == b""


@pytest.fixture(scope="module")
def serve(vmigrate_bin, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("inputs-serve"))
    s = Serve(vmigrate_bin, d)
    s.dir = d
    yield s
    s.stop()


def api(serve, path, body):
    return requests.post(serve.url + "/api/v1" + path, json=body, timeout=120)


def test_api_refuses_passwords_in_urls_and_control_characters_in_keys(serve, listener):
    r = api(serve, "/jobs", {"source": {"url": listener.url.replace("//", f"//u:{PASSWORD}@")},
                             "target": {"url": listener.url}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "usage"
    assert "source.api_key" in r.json()["error"]["message"] and PASSWORD not in r.text
    r = api(serve, "/source/collections", {"source": {"url": listener.url,
                                                      "api_key": "k\r\nX-Injected: 1"}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "usage"
    msg = r.json()["error"]["message"]
    assert "source.api_key" in msg and "control character" in msg and "X-Injected" not in msg
    r = api(serve, "/plan", {"source": {"url": listener.url},
                             "target": {"url": listener.url, "token": "root:x\ny"}})
    assert r.status_code == 400 and "target.token" in r.json()["error"]["message"]
    assert listener.connections == 0
    jobs = requests.get(serve.url + "/api/v1/jobs", timeout=60).json()["jobs"]
    assert jobs == []
    assert PASSWORD.encode() not in store_bytes(os.path.join(serve.dir, "vm.db"))


# ---- item 7: options and limits --------------------------------------------------------------

@pytest.mark.parametrize("cmd,opt,value,rng", [
    ("migrate", "--writers", "100000", "from 1 to 64"),
    ("migrate", "--writers", "0", "from 1 to 64"),
    ("migrate", "--readers", "65", "from 1 to 64"),
    ("migrate", "--timeout", "3000000", "from 1 to 86400"),
    ("migrate", "--timeout", "99999999999999999999", "from 1 to 86400"),
    ("migrate", "--page-size", "0", "from 1 to 100000"),
    ("migrate", "--sample", "-1", "from 0 to 1000000"),
    ("migrate", "--max-vector-fields", "11", "from 1 to 10"),
    ("worker", "--concurrency", "100000", "from 1 to 64"),
    ("serve", "--concurrency", "0", "from 1 to 64"),
])
def test_numeric_options_are_checked_before_anything_is_created(src, milvus, milvus_client,
                                                                vmigrate_bin, tmp_path, cmd,
                                                                opt, value, rng):
    coll = datagen.collection_name("ids_mixed")
    args = [cmd, opt, value, "--store", str(tmp_path / "vm.db")]
    if cmd == "migrate":
        args += ["--source", src.url, "--target", milvus.url, "-c", coll]
    p = run_vmigrate(vmigrate_bin, *args, timeout=60)
    assert p.returncode == 2, p.stderr
    assert f"{opt} takes a whole number {rng}, not '{value}'" in p.stderr
    assert "runtime error" not in p.stderr and "AddressSanitizer" not in p.stderr
    assert not milvus_client.has_collection(coll)
    assert not os.path.exists(tmp_path / "vm.db")


def test_help_shows_the_ranges(vmigrate_bin):
    p = run_vmigrate(vmigrate_bin, "migrate", "--help", check=True)
    assert "--writers N" in p.stdout and "[1..64]" in p.stdout and "[1..86400]" in p.stdout


def test_api_takes_the_same_ranges(serve, listener):
    r = api(serve, "/source/check", {"source": {"url": listener.url, "timeout_s": 86401}})
    assert r.status_code == 400 and "source.timeout_s" in r.json()["error"]["message"]
    assert "from 1 to 86400" in r.json()["error"]["message"]
    for field, value, rng in (("writers", 100000, "from 1 to 64"), ("readers", 65, "from 1 to 64"),
                              ("page_size", 100001, "from 1 to 100000")):
        r = api(serve, "/jobs", {"source": {"url": listener.url}, "target": {"url": listener.url},
                                 "options": {field: value}})
        assert r.status_code == 400, r.text
        assert f"options.{field} must be an integer {rng}" in r.json()["error"]["message"]
    assert listener.connections == 0


def test_api_accepts_a_long_timeout(serve, src):
    # 2 h per request was refused before (the API stopped at 3600 s, the CLI at none)
    r = api(serve, "/source/check", {"source": {"url": src.url, "timeout_s": 7200}})
    assert r.status_code == 200, r.text


def test_257_collections_named(vmigrate_bin):
    args = []
    for i in range(257):
        args += ["-c", f"c{i}"]
    p = run_vmigrate(vmigrate_bin, "plan", "--source", "http://127.0.0.1:1", "--target",
                     "http://127.0.0.1:1", *args)
    assert p.returncode == 2
    assert "at most 256 -c options" in p.stderr and "--all" in p.stderr


def test_a_collection_named_twice(src, milvus, milvus_client, vmigrate_bin, tmp_path):
    coll = datagen.collection_name("ids_mixed")
    p = run_vmigrate(vmigrate_bin, "migrate", "--source", src.url, "--target", milvus.url,
                     "-c", coll, "-c", coll, "--store", str(tmp_path / "vm.db"))
    assert p.returncode == 2
    assert f"collection '{coll}' is named twice with -c; drop the duplicate" in p.stderr
    assert "--target-name" not in p.stderr
    assert not milvus_client.has_collection(coll)


# ---- item 8: messages ------------------------------------------------------------------------

def test_quiet_still_says_why_the_migration_failed(src, milvus, milvus_client, vmigrate_bin,
                                                   tmp_path):
    coll = datagen.collection_name("payload_nulls")
    p = run_vmigrate(vmigrate_bin, "migrate", "-q", "--source", src.url, "--target", milvus.url,
                     "-c", coll, "--store", str(tmp_path / "vm.db"))
    assert p.returncode == 1
    assert "null" in p.stderr and "--null-values" in p.stderr and coll in p.stderr
    assert "\r" not in p.stderr and "points/s" not in p.stderr  # still no progress
    if milvus_client.has_collection(coll):
        milvus_client.drop_collection(coll)


@pytest.fixture(scope="module")
def tls_qdrant():
    with QdrantTestServer(tls=True) as q:
        yield q


def test_http_to_a_tls_qdrant_says_use_https(tls_qdrant, vmigrate_bin, serve):
    plain = tls_qdrant.url.replace("https://", "http://")
    p = run_vmigrate(vmigrate_bin, "collections", "--source", plain, timeout=120)
    assert p.returncode == 3, p.stderr
    assert f"the server at {plain} seems to speak TLS: use {tls_qdrant.url}" in p.stderr
    assert "Empty reply" not in p.stderr
    # https:// to it works (the fixture's certificate is self-signed)
    p = run_vmigrate(vmigrate_bin, "collections", "--source", tls_qdrant.url, "--ca-file",
                     tls_qdrant.cert_path)
    assert p.returncode == 0, p.stderr
    r = api(serve, "/source/check", {"source": {"url": plain}})
    assert r.status_code == 502 and "seems to speak TLS" in r.json()["error"]["message"]
    assert json.loads(r.text)["error"]["code"] == "connect"


def test_api_refuses_a_collection_named_twice(serve, listener):
    r = api(serve, "/plan", {"source": {"url": listener.url}, "target": {"url": listener.url},
                             "collections": ["a", "b", "a"]})
    assert r.status_code == 400, r.text
    msg = r.json()["error"]["message"]
    assert "collections[2]: 'a' is named twice" in msg and "drop the duplicate" in msg
    assert "target-name" not in msg
    assert listener.connections == 0


def test_listen_port_range_is_named(vmigrate_bin, tmp_path):
    p = run_vmigrate(vmigrate_bin, "serve", "--listen", "127.0.0.1:99999", "--store",
                     str(tmp_path / "vm.db"), timeout=60)
    assert p.returncode == 2
    assert "--listen must be HOST:PORT with PORT from 0 to 65535" in p.stderr
