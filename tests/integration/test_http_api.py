"""The HTTP API (`vmigrate serve`, docs/user/http-api.md) against the real servers: health,
source/target checks (a wrong port is a 502 that names the side, a wrong Qdrant key a 401 that
never echoes the key), the collections list, a plan with one refused collection, a job created
from an edited plan (renamed target and field) run by the in-process worker, its logs, cancel of
a bigger running job then resume (exact), 404/400/405/415, the bearer token, the static console,
and no secret in any response body or in the server's stderr. Every migrated collection is
checked through pymilvus against qdrant-client (checks.compare), never on what the API reports.
"""

import os
import signal
import subprocess
import time

import pytest
import requests

from tests.datagen import datagen
from tests.harness.gates import SourceGate
from tests.harness.servers import QdrantTestServer
from tests.integration.checks import REPO, compare, first_null_path, fresh_source, null_paths

QDRANT_KEY = "qk-http-api-Secret-7f3a9c"  # the keyed Qdrant's real key
WRONG_KEY = "qk-wrong-Secret-0d41e2"
API_TOKEN = "tok-http-api-Secret-55aa"
SECRETS = (QDRANT_KEY, WRONG_KEY, API_TOKEN)
BODIES = []  # every response body of this module, checked for secrets at the end


class Serve:
    """`vmigrate serve --listen 127.0.0.1:0` with its stderr in a file; url read from it."""

    def __init__(self, binary, d, *extra):
        self.dir = d
        self.log_path = os.path.join(d, f"serve{len(extra)}.log")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0",
                   VMIGRATE_SECRET_KEY_FILE=os.path.join(d, "secret.key"),
                   XDG_DATA_HOME=os.path.join(d, "data"), XDG_CONFIG_HOME=os.path.join(d, "cfg"))
        env.pop("VMIGRATE_API_TOKEN", None)
        self.log = open(self.log_path, "w")
        self.p = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--store", os.path.join(d, "vm.db"),
             "--concurrency", "2", *extra],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 120
        self.url = None
        while time.monotonic() < deadline and self.url is None:
            for line in open(self.log_path):
                if "listening on http://" in line:
                    self.url = line.split("listening on ", 1)[1].strip()
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        assert self.url, (f"serve did not start (exit {self.p.poll()}, waited up to 120 s): "
                          f"{open(self.log_path).read()[-2000:]}")
        assert self.url.startswith("http://127.0.0.1:") and not self.url.endswith(":0")

    def stderr(self):
        return open(self.log_path).read()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                rc = self.p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                raise AssertionError("serve did not stop within 60 s of SIGINT")
            assert rc == 0, f"serve exited {rc}: {self.stderr()[-2000:]}"
        self.log.close()


def call(base, method, path, headers=None, **kw):
    r = requests.request(method, base + path, timeout=300, headers=headers, **kw)
    BODIES.append(r.text)
    return r


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.dir = str(tmp_path_factory.mktemp("http"))
    e.keyed = QdrantTestServer(api_key=QDRANT_KEY)
    e.keyed.start()
    e.srv = Serve(vmigrate_bin, e.dir)
    e.api = lambda method, path, **kw: call(e.srv.url, method, "/api/v1" + path, **kw)
    e.src = {"url": qdrant.url}
    e.dst = {"url": milvus.url}
    yield e
    e.srv.stop()
    e.keyed.close()


def wait_job(env, jid, done=("SUCCESSFUL", "FAILED", "CANCELLED"), timeout=300):
    deadline = time.monotonic() + timeout
    while True:
        r = env.api("GET", f"/jobs/{jid}")
        assert r.status_code == 200, r.text
        j = r.json()
        if j["status"] in done or time.monotonic() > deadline:
            return j
        time.sleep(0.2)


def test_health(env):
    r = env.api("GET", "/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["version"]
    assert r.headers["Content-Type"].startswith("application/json")


def test_source_and_target_check(env):
    r = env.api("POST", "/source/check", json={"source": env.src})
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["version"]
    r = env.api("POST", "/target/check", json={"target": env.dst})
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True
    # nothing listens on port 1
    r = env.api("POST", "/source/check", json={"source": {"url": "http://127.0.0.1:1"}})
    assert r.status_code == 502, r.text
    err = r.json()["error"]
    assert err["code"] in ("unavailable", "connect") and "source" in err["message"]
    assert "127.0.0.1" in err["message"]
    r = env.api("POST", "/target/check", json={"target": {"url": "http://127.0.0.1:1"}})
    assert r.status_code == 502 and "target" in r.json()["error"]["message"]
    # credentials written into a URL are not echoed either
    r = env.api("POST", "/source/check",
                json={"source": {"url": f"http://user:{WRONG_KEY}@127.0.0.1:1"}})
    assert r.status_code == 400 and WRONG_KEY not in r.text
    # Qdrant's REST port given as the Milvus target: a clear connect error
    r = env.api("POST", "/target/check", json={"target": {"url": env.q.url}})
    assert r.status_code == 502 and r.json()["error"]["code"] == "connect"


def test_wrong_qdrant_key_is_401_without_the_key(env):
    r = env.api("POST", "/source/check",
                json={"source": {"url": env.keyed.url, "api_key": WRONG_KEY}})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "auth"
    assert "source" in r.json()["error"]["message"]
    assert WRONG_KEY not in r.text
    r = env.api("POST", "/source/collections",
                json={"source": {"url": env.keyed.url, "api_key": WRONG_KEY}})
    assert r.status_code == 401 and WRONG_KEY not in r.text
    r = env.api("POST", "/source/check", json={"source": {"url": env.keyed.url,
                                                          "api_key": QDRANT_KEY}})
    assert r.status_code == 200, r.text


def test_collections(env):
    name = datagen.generate(env.qc, "ids_int", name="http_list")
    r = env.api("POST", "/source/collections", json={"source": env.src})
    assert r.status_code == 200, r.text
    colls = {c["name"]: c for c in r.json()["collections"]}
    assert name in colls


def test_plan_with_a_refused_collection(env):
    ok = datagen.generate(env.qc, "ids_int", name="http_plan_ok")
    bad = datagen.generate(env.qc, "manhattan", name="http_plan_bad")
    r = env.api("POST", "/plan", json={"source": env.src, "target": env.dst,
                                       "collections": [ok, bad],
                                       "options": {"null_values": "fail", "index": "auto"}})
    assert r.status_code == 200, r.text
    colls = {c["source"]: c for c in r.json()["collections"]}
    assert set(colls) == {ok, bad}
    assert colls[ok]["error"] is None
    assert colls[bad]["error"]["code"] == "schema"
    assert "Manhattan" in colls[bad]["error"]["message"]
    # an edit that matches nothing is a usage error
    r = env.api("POST", "/plan", json={"source": env.src, "target": env.dst, "collections": [ok],
                                       "edits": [{"kind": "target-name", "value": "nope=x"}]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "usage"
    # every collection refused: no job, 422 with the refusal
    r = env.api("POST", "/plan", json={"source": env.src, "target": env.dst,
                                       "collections": [bad]})
    r = env.api("POST", "/jobs", json={"source": env.src, "target": env.dst,
                                       "plan": r.json()})
    assert r.status_code == 422 and r.json()["error"]["code"] == "schema"


def test_errors_carry_collection_point_and_field(env):
    """Issue 10: the facts of an error are JSON members. A job of only a refused collection is a
    422 naming the collection and the vector; a job failing on a point (a null payload value)
    names the point in the job's collection (error_point, error_field) and in its log line."""
    mv = datagen.generate(env.qc, "multivector", name="http_facts_mv")
    if env.mc.has_collection(mv):
        env.mc.drop_collection(mv)
    r = env.api("POST", "/jobs", json={"source": env.src, "target": env.dst,
                                       "collections": [mv]})
    assert r.status_code == 422, r.text
    e = r.json()["error"]
    assert e["code"] == "schema" and e["collection"] == mv and e["field"] == "colbert", e
    assert "point" not in e
    assert not env.mc.has_collection(mv)

    bad = datagen.generate(env.qc, "payload_nulls", name="http_facts_nulls")
    if env.mc.has_collection(bad):
        env.mc.drop_collection(bad)
    r = env.api("POST", "/jobs", json={"source": env.src, "target": env.dst,
                                       "collections": [bad],
                                       "options": {"null_values": "fail", "readers": 1}})
    assert r.status_code == 201, r.text
    j = wait_job(env, r.json()["id"])
    assert j["status"] == "FAILED", j
    c = j["collections"][0]
    pid = c["error_point"]
    assert pid and c["error_field"] and f"point {pid} " in c["error"], c
    (rec,) = env.qc.retrieve(bad, [int(pid)], with_payload=True)
    assert c["error_field"] in null_paths(rec.payload), (c["error_field"], rec.payload)
    # one reader, every point has a null: the first point Qdrant scrolls, its first null
    (first,), _ = env.qc.scroll(bad, limit=1, with_payload=True)
    assert int(pid) == first.id and c["error_field"] == first_null_path(first.payload), \
        (pid, c["error_field"], first.id, first.payload)
    got = env.mc.query(bad, filter="", output_fields=["count(*)"],
                       consistency_level="Strong")[0]["count(*)"]
    assert got == 0, got  # nothing of the failing page reached Milvus
    logs = env.api("GET", f"/jobs/{j['id']}/logs").json()["logs"]
    errs = [x for x in logs if x["level"] == "error" and x["collection"] == bad]
    assert errs and errs[0]["point_id"] == pid, logs


def test_job_from_an_edited_plan(env):
    src = datagen.generate(env.qc, "ids_int", name="http_edit")
    bad = datagen.generate(env.qc, "manhattan", name="http_edit_bad")
    r = env.api("POST", "/plan", json={"source": env.src, "target": env.dst,
                                       "collections": [src, bad]})
    assert r.status_code == 200, r.text
    plan = r.json()
    for c in plan["collections"]:
        if c["source"] == src:
            c["target"] = "http_edited"
            c["description"] = "edited through the API"
            c["vectors"][0]["field"] = "emb"
    r = env.api("POST", "/jobs", json={"source": env.src, "target": env.dst, "plan": plan,
                                       "options": {"readers": 2, "writers": 2,
                                                   "verify_sample": 50}})
    assert r.status_code == 201, r.text
    jid = r.json()["id"]
    assert r.json()["status"] == "PENDING" and jid.startswith("j")
    assert [x["source"] for x in r.json()["refused"]] == [bad]
    j = wait_job(env, jid)
    assert j["status"] == "SUCCESSFUL", j
    assert [c["target"] for c in j["collections"]] == ["http_edited"]
    assert j["plan"]["collections"][0]["vectors"][0]["field"] == "emb"
    compare(env.qc, env.mc, src, "http_edited", {"": ("emb", "dense")})
    # the list, newest first, and its status filter
    r = env.api("GET", "/jobs")
    assert r.status_code == 200 and jid in [x["id"] for x in r.json()["jobs"]]
    assert "plan" not in r.json()["jobs"][0]
    r = env.api("GET", "/jobs?status=SUCCESSFUL")
    assert jid in [x["id"] for x in r.json()["jobs"]]
    assert all(x["status"] == "SUCCESSFUL" for x in r.json()["jobs"])
    r = env.api("GET", "/jobs?status=FAILED")
    assert jid not in [x["id"] for x in r.json()["jobs"]]
    assert env.api("GET", "/jobs?status=bogus").status_code == 400
    # logs: all, then paging with after/limit
    r = env.api("GET", f"/jobs/{jid}/logs")
    assert r.status_code == 200, r.text
    logs, nxt = r.json()["logs"], r.json()["next"]
    assert logs and nxt == logs[-1]["seq"]
    assert {"seq", "ts_ms", "level", "collection", "point_id", "message"} <= set(logs[0])
    assert any("Successful" in x["message"] for x in logs)
    r = env.api("GET", f"/jobs/{jid}/logs?after={logs[0]['seq']}&limit=1")
    assert [x["seq"] for x in r.json()["logs"]] == [logs[1]["seq"]]
    r = env.api("GET", f"/jobs/{jid}/logs?after={nxt}")
    assert r.json() == {"logs": [], "next": nxt}
    # an ended job cannot be cancelled or retried
    assert env.api("POST", f"/jobs/{jid}/cancel").status_code == 400
    assert env.api("POST", f"/jobs/{jid}/retry").status_code == 400


def test_cancel_a_running_job_then_resume_exact(env):
    # The job reads through a SourceGate, which refuses (503, retried) the page that would
    # end the copy until it is opened: the cancel always lands mid-copy, however fast the
    # machine; the moment to cancel comes from the job's progress, not from a clock.
    n = 50_000
    coll = datagen.generate(env.qc, "paging_100k", n=n, name="http_cancel")
    with SourceGate(env.q.url) as gate:
        r = env.api("POST", "/jobs", json={"source": {"url": gate.url}, "target": env.dst,
                                           "collections": [coll],
                                           "options": {"page_size": 500, "readers": 1}})
        assert r.status_code == 201, r.text
        jid = r.json()["id"]
        deadline = time.monotonic() + 600
        while True:
            j = env.api("GET", f"/jobs/{jid}").json()
            if j["status"] == "IN_PROGRESS" and j["written"] >= 2000:
                break
            assert j["status"] in ("PENDING", "IN_PROGRESS"), j
            assert time.monotonic() < deadline, f"no 2000 points written within 600 s: {j}"
            time.sleep(0.1)
        r = env.api("POST", f"/jobs/{jid}/cancel")
        assert r.status_code in (200, 202), r.text
        j = wait_job(env, jid, timeout=600)
        assert j["status"] == "CANCELLED", j
        c = j["collections"][0]
        assert c["status"] == "CANCELLED" and 2000 <= c["written"] < n, c
        gate.set_mode("open")
        r = env.api("POST", f"/jobs/{jid}/resume")
        assert r.status_code == 202, r.text
        assert r.json()["status"] in ("IN_PROGRESS", "SUCCESSFUL")
        j = wait_job(env, jid, timeout=600)
        assert j["status"] == "SUCCESSFUL", j
    assert compare(env.qc, env.mc, coll, coll, {"": ("vector", "dense")}) == n


def test_job_with_a_stored_qdrant_key(env):
    from tests.harness.servers import qdrant_client_for
    kc = qdrant_client_for(env.keyed)
    try:
        coll = datagen.generate(kc, "ids_int", name="http_keyed")
        src = {"url": env.keyed.url, "api_key": QDRANT_KEY}
        r = env.api("POST", "/jobs", json={"source": src, "target": env.dst,
                                           "collections": [coll]})
        assert r.status_code == 201, r.text
        j = wait_job(env, r.json()["id"])
        assert j["status"] == "SUCCESSFUL", j
        assert j["secrets_stored"] is True
        compare(kc, env.mc, coll, coll, {"": ("vector", "dense")})
    finally:
        kc.close()


def test_errors(env):
    r = env.api("GET", "/jobs/jdeadbeef")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert env.api("GET", "/jobs/jdeadbeef/logs").status_code == 404
    assert env.api("POST", "/jobs/jdeadbeef/cancel").status_code == 404
    assert env.api("POST", "/jobs/jdeadbeef/resume").status_code == 404
    r = env.api("POST", "/plan", data='{"source": {"url": ',
                headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "usage"
    assert "JSON" in r.json()["error"]["message"]
    r = env.api("POST", "/plan", data="[1, 2]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = env.api("POST", "/source/check", json={"source": {}})
    assert r.status_code == 400 and "source.url" in r.json()["error"]["message"]
    r = env.api("POST", "/source/check", json={})
    assert r.status_code == 400
    r = env.api("POST", "/plan", data="source=x",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert env.api("GET", "/nope").status_code == 404
    assert env.api("DELETE", "/jobs").status_code == 405
    assert env.api("GET", "/plan").status_code == 405
    r = env.api("POST", "/jobs", json={"source": env.src, "target": env.dst,
                                       "options": {"readers": "four"}})
    assert r.status_code == 400
    # a cross-site write (browser form from another origin) is refused without a token
    r = env.api("POST", "/source/check", json={"source": env.src},
                headers={"Origin": "http://evil.example"})
    assert r.status_code == 403


def test_api_token(env, vmigrate_bin, tmp_path):
    s = Serve(vmigrate_bin, str(tmp_path), "--api-token", API_TOKEN)
    try:
        r = call(s.url, "GET", "/api/v1/health")
        assert r.status_code == 401 and r.json()["error"]["code"] == "auth"
        r = call(s.url, "GET", "/api/v1/jobs", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
        r = call(s.url, "GET", "/api/v1/health", headers={"Authorization": "Bearer " + API_TOKEN})
        assert r.status_code == 200
        r = call(s.url, "POST", "/api/v1/source/check", json={"source": env.src},
                 headers={"Authorization": "Bearer " + API_TOKEN})
        assert r.status_code == 200, r.text
    finally:
        s.stop()
    assert API_TOKEN not in s.stderr()


def test_static_console(env):
    index = os.path.join(REPO, "web", "index.html")
    r = call(env.srv.url, "GET", "/")
    if os.path.exists(index):
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/html")
        assert r.content == open(index, "rb").read()
    for bad in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/.git/config"):
        r = requests.get(env.srv.url + bad, timeout=10)
        assert r.status_code == 404 and "root:" not in r.text
    assert requests.post(env.srv.url + "/index.html", timeout=10).status_code == 405


def test_no_secret_in_any_response_or_in_stderr(env):
    assert BODIES
    for body in BODIES:
        for s in SECRETS:
            assert s not in body
    err = env.srv.stderr()
    for s in SECRETS:
        assert s not in err


def test_a_job_reads_the_source_over_grpc(env):
    """Issue 12: source.protocol "grpc" reads the URL's host and port over gRPC; the job stores
    the grpc:// URL, and its collection lands exactly. A protocol word it does not know is a 400
    naming the field and the words."""
    coll = fresh_source(env.qc, env.mc, "ids_uuid", name="http_grpc_src")
    src = {"url": f"http://127.0.0.1:{env.q.grpc_port}", "protocol": "grpc"}
    r = env.api("POST", "/jobs", json={"source": src, "target": env.dst, "collections": [coll]})
    assert r.status_code in (200, 201, 202), r.text
    j = wait_job(env, r.json()["id"])
    assert j["status"] == "SUCCESSFUL", j
    assert j["source"]["url"] == f"grpc://127.0.0.1:{env.q.grpc_port}", j["source"]
    assert compare(env.qc, env.mc, coll, coll, {"": ("vector", "dense")}, pk_varchar=True) == 300
    r = env.api("POST", "/plan", json={"source": dict(src, protocol="soap"), "target": env.dst,
                                       "collections": [coll]})
    assert r.status_code == 400 and "source.protocol must be rest or grpc" in r.text, r.text
