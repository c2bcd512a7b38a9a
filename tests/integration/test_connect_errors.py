"""Connect errors in plain words with the way out (issue 11, problem 7), in the CLI and in the
API's /source/check and /target/check answers: nothing listening (refused), a host name that does
not resolve, a server that accepts and never answers (timeout), and the wrong protocol (Qdrant's
URL on Milvus's gRPC port, Milvus's URL on Qdrant's REST port). Each message names the server and
its URL, says what went wrong in words ("connection refused", "is not known"), asks the question
that leads out, carries no transport text (curl's "Couldn't connect to server", "after 0 ms",
"gave up after"), and the API answers the way out as a fact (`fix`: "endpoint").
"""

import socket
import threading

import pytest

from tests.integration.checks import run_vmigrate
from tests.integration.test_http_api import Serve, call

TRANSPORT = ("Couldn't connect", "after 0 ms", "gave up after", "Could not resolve",
             "Failed to connect", "GET / on")


def closed_port():
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Silent:
    """A TCP server that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def plain(text):
    for t in TRANSPORT:
        assert t not in text, f"transport text {t!r} in: {text}"


def last_error(stderr):
    """The final error line of a CLI run (warnings about retries come before it)."""
    lines = [ln for ln in stderr.splitlines() if ln.startswith("vmigrate: ")
             and not ln.startswith("vmigrate: warning:")]
    assert lines, stderr
    return lines[-1]


def test_cli_qdrant_refused(vmigrate_bin):
    port = closed_port()
    p = run_vmigrate(vmigrate_bin, "collections", "--source", f"http://127.0.0.1:{port}")
    assert p.returncode == 3, p.stderr
    e = last_error(p.stderr)
    assert (f"cannot reach Qdrant at http://127.0.0.1:{port}: connection refused "
            f"(is the server running, and is {port} its REST port?)") in e, e
    plain(p.stderr)


def test_cli_qdrant_unknown_host(vmigrate_bin):
    p = run_vmigrate(vmigrate_bin, "collections", "--source", "http://no-such-host.invalid:6333")
    assert p.returncode == 3, p.stderr
    e = last_error(p.stderr)
    assert "cannot reach Qdrant at http://no-such-host.invalid:6333" in e, e
    assert "the host name 'no-such-host.invalid' is not known" in e, e
    plain(p.stderr)


def test_cli_qdrant_no_answer(vmigrate_bin):
    s = Silent()
    try:
        p = run_vmigrate(vmigrate_bin, "collections", "--source", f"http://127.0.0.1:{s.port}",
                         "--timeout", "1")
    finally:
        s.close()
    assert p.returncode == 3, p.stderr
    e = last_error(p.stderr)
    assert f"Qdrant at http://127.0.0.1:{s.port}: no answer within 1.0 s to the first request" in e, e
    plain(p.stderr)


def test_cli_milvus_refused_and_wrong_protocol(vmigrate_bin, qdrant, milvus):
    port = closed_port()
    p = run_vmigrate(vmigrate_bin, "plan", "--all", "--source", qdrant.url, "--target",
                     f"http://127.0.0.1:{port}")
    assert p.returncode == 3, p.stderr
    e = last_error(p.stderr)
    assert (f"cannot reach Milvus at 127.0.0.1:{port}: connection refused (is the server "
            f"running, and is {port} its gRPC port?)") in e, e
    plain(p.stderr)
    # Milvus's gRPC port given as Qdrant's URL, Qdrant's REST port as Milvus's
    # (Milvus Lite speaks only HTTP/2; Milvus 2.3.5 answers HTTP/1.1 on the same port, 404)
    p = run_vmigrate(vmigrate_bin, "collections", "--source", milvus.url.replace("tcp", "http"))
    assert p.returncode == 3, p.stderr
    assert ("cannot talk to Qdrant at" in p.stderr and "looks like a gRPC port" in p.stderr) or \
        "does not answer like Qdrant's REST API" in p.stderr, p.stderr
    assert "6334" in p.stderr and "6333" in p.stderr, p.stderr
    plain(p.stderr)
    p = run_vmigrate(vmigrate_bin, "plan", "--all", "--source", qdrant.url, "--target", qdrant.url)
    assert p.returncode == 3, p.stderr
    assert "cannot talk to Milvus at" in p.stderr and "not with gRPC" in p.stderr, p.stderr


@pytest.fixture(scope="module")
def api(vmigrate_bin, tmp_path_factory):
    srv = Serve(vmigrate_bin, str(tmp_path_factory.mktemp("connect")))
    yield lambda path, body: call(srv.url, "POST", "/api/v1" + path, json=body)
    srv.stop()


def test_api_checks_answer_plain_words_and_the_fix(api):
    """The words first; the fix facts (the API's error reply carries them) checked last."""
    port = closed_port()
    fixes = []
    r = api("/source/check", {"source": {"url": f"http://127.0.0.1:{port}"}})
    assert r.status_code == 502, r.text
    e = r.json()["error"]
    assert e["code"] == "unavailable", e
    assert f"connection refused (is the server running, and is {port} its REST port?)" in \
        e["message"], e
    fixes.append(e)
    plain(e["message"])
    r = api("/target/check", {"target": {"url": f"http://127.0.0.1:{port}"}})
    assert r.status_code == 502, r.text
    e = r.json()["error"]
    assert f"cannot reach Milvus at 127.0.0.1:{port}: connection refused" in e["message"], e
    fixes.append(e)
    r = api("/target/check", {"target": {"url": "http://no-such-host.invalid:19530"}})
    assert r.status_code == 502, r.text
    e = r.json()["error"]
    assert e["code"] == "connect", e
    assert "the host name 'no-such-host.invalid' is not known" in e["message"], e
    fixes.append(e)
    for e in fixes:
        assert e.get("fix") == "endpoint", e


def test_cli_milvus_no_answer(vmigrate_bin, qdrant):
    s = Silent()
    try:
        p = run_vmigrate(vmigrate_bin, "plan", "--all", "--source", qdrant.url, "--target",
                         f"http://127.0.0.1:{s.port}", "--timeout", "1")
    finally:
        s.close()
    assert p.returncode == 3, p.stderr
    e = last_error(p.stderr)
    assert f"cannot reach Milvus at 127.0.0.1:{s.port}: no answer" in e, e
    plain(p.stderr)
