"""Prometheus metrics (GET /metrics, text format 0.0.4) against the real servers, parsed by
prometheus_client's own parser (the independent checker of the format): a job run by
`vmigrate serve` behind a gate that refuses read-range ends (503) and a Qdrant that answers
two page reads as rate-limited, scraped while it runs (jobs in progress, its collection's
points from the store) and after (points written equal what pymilvus counts, retries by side
and cause, throttling, phase times, runs by status); the API token guarding /metrics; and
`vmigrate worker --metrics-listen` running a detached job. Every wait polls a status."""

import os
import re
import signal
import subprocess
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.datagen import datagen
from tests.harness.gates import SourceGate
from tests.integration.checks import run_vmigrate, strong_count
from tests.integration.test_http_api import Serve

TOKEN = "tok-metrics-Secret-9c1d"


def scrape(url, headers=None):
    """{family name: {frozenset(labels.items()): value}} of one scrape (samples by name)."""
    r = requests.get(url + "/metrics", headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    out = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out.setdefault(s.name, {})[frozenset(s.labels.items())] = s.value
    return out


def value(m, name, **labels):
    return m.get(name, {}).get(frozenset(labels.items()))


def poll(what, fn, timeout=300):
    """fn() until it returns something truthy (a deadline, not a speed)."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.dir = str(tmp_path_factory.mktemp("metrics"))
    return e


def test_serve_metrics(env):
    n = 3000
    coll = datagen.generate(env.qc, "paging_100k", n=n, name="metrics_serve")
    srv = Serve(env.bin, env.dir)
    try:
        api = srv.url + "/api/v1"
        m = scrape(srv.url)
        assert value(m, "vmigrate_jobs", status="in_progress") == 0
        assert value(m, "vmigrate_throttled_total") == 0
        with SourceGate(env.q.url, mode="ends") as gate:
            env.q.throttle_pages(2, retry_after_s=1)
            r = requests.post(api + "/jobs", json={
                "source": {"url": gate.url}, "target": {"url": env.m.url},
                "collections": [coll], "options": {"page_size": 200, "readers": 2}}, timeout=300)
            assert r.status_code == 201, r.text
            jid = r.json()["id"]
            # the gate holds the job: in progress, its collection's points in the store's view
            def running():
                s = scrape(srv.url)
                w = value(s, "vmigrate_collection_points", job=jid, collection=coll,
                          kind="written")
                return s if w and w > 0 else None
            m = poll("the job writes through the gate", running)
            assert value(m, "vmigrate_jobs", status="in_progress") == 1
            assert value(m, "vmigrate_collection_points", job=jid, collection=coll,
                         kind="total") == n
            assert value(m, "vmigrate_points_written_total", job=jid, collection=coll) > 0
            poll("a range end refused", lambda: gate.refused > 0)
            gate.set_mode("open")

            def ended():
                j = requests.get(f"{api}/jobs/{jid}", timeout=60).json()
                return j if j["status"] in ("SUCCESSFUL", "FAILED", "CANCELLED") else None
            j = poll("the job ends", ended)
        assert j["status"] == "SUCCESSFUL", j
        got = strong_count(env.mc, coll)
        assert got == n
        m = scrape(srv.url)
        assert value(m, "vmigrate_points_written_total", job=jid, collection=coll) == got
        assert value(m, "vmigrate_points_read_total", job=jid, collection=coll) >= got
        assert value(m, "vmigrate_bytes_written_total", job=jid, collection=coll) > 0
        assert value(m, "vmigrate_jobs", status="successful") == 1
        assert value(m, "vmigrate_jobs", status="in_progress") == 0
        assert value(m, "vmigrate_job_runs_total", status="successful") == 1
        assert value(m, "vmigrate_job_runs_total", status="failed") == 0
        # an ended job is no longer in the per-collection view
        assert value(m, "vmigrate_collection_points", job=jid, collection=coll,
                     kind="total") is None
        # the gate's 503s and the server's 429s, by side and cause
        assert value(m, "vmigrate_retries_total", side="source", cause="unavailable") >= 1
        # the two 429s, unless one met the API's planning rather than the run
        throttled = value(m, "vmigrate_throttled_total")
        assert 1 <= throttled <= 2, m.get("vmigrate_throttled_total")
        assert value(m, "vmigrate_retries_total", side="source", cause="rate_limit") == throttled
        assert value(m, "vmigrate_throttled_seconds_total") >= 0.9 * throttled  # Retry-After: 1
        assert value(m, "vmigrate_phase_seconds_total", job=jid, collection=coll,
                     phase="copying") > 0
        # no range tasks in this store's jobs: nothing about tasks
        assert "vmigrate_tasks" not in m
        assert requests.post(srv.url + "/metrics", timeout=60).status_code == 405
    finally:
        srv.stop()


def test_metrics_behind_the_api_token(env, tmp_path):
    srv = Serve(env.bin, str(tmp_path), "--api-token", TOKEN)
    try:
        r = requests.get(srv.url + "/metrics", timeout=60)
        assert r.status_code == 401 and r.headers.get("WWW-Authenticate") == "Bearer"
        r = requests.get(srv.url + "/metrics", headers={"Authorization": "Bearer wrong"},
                         timeout=60)
        assert r.status_code == 401
        m = scrape(srv.url, headers={"Authorization": "Bearer " + TOKEN})
        assert value(m, "vmigrate_jobs", status="pending") == 0
    finally:
        srv.stop()


def test_worker_metrics_listen(env):
    n = 2000
    coll = datagen.generate(env.qc, "paging_100k", n=n, name="metrics_worker")
    store = os.path.join(env.dir, "worker.db")
    e = {"VMIGRATE_SECRET_KEY_FILE": os.path.join(env.dir, "secret.key")}
    p = run_vmigrate(env.bin, "migrate", "--detach", "--source", env.q.url, "--target",
                     env.m.url, "-c", coll, "--store", store, env=e, check=True)
    jid = p.stdout.strip()
    log_path = os.path.join(env.dir, "worker.log")
    log = open(log_path, "w")
    w = subprocess.Popen([env.bin, "worker", "--store", store, "--metrics-listen", "127.0.0.1:0",
                          "-q"], env=dict(os.environ, **e, ASAN_OPTIONS="detect_leaks=0"),
                         stdout=subprocess.DEVNULL, stderr=log)
    try:
        def url():
            mt = re.search(r"metrics on (http://127\.0\.0\.1:\d+)/metrics", open(log_path).read())
            assert w.poll() is None, open(log_path).read()
            return mt and mt.group(1)
        base = poll("the worker prints its metrics address", url, timeout=120)
        assert not base.endswith(":0")

        def ended():
            s = scrape(base)
            return s if value(s, "vmigrate_jobs", status="successful") == 1 else None
        m = poll("the worker's job ends", ended)
        got = strong_count(env.mc, coll)
        assert got == n
        # the run is counted before the store says it ended
        assert value(m, "vmigrate_job_runs_total", status="successful") == 1
        assert value(m, "vmigrate_points_written_total", job=jid, collection=coll) == got
        assert value(m, "vmigrate_jobs", status="pending") == 0
        assert value(m, "vmigrate_throttled_total") == 0
        assert value(m, "vmigrate_throttled_seconds_total") == 0
        assert value(m, "vmigrate_retries_total", side="target", cause="timeout") == 0
        r = requests.get(base + "/api/v1/health", timeout=60)
        assert r.status_code == 404  # the worker serves nothing else
    finally:
        w.send_signal(signal.SIGINT)
        w.wait(timeout=60)
        log.close()
    assert w.returncode == 0, open(log_path).read()[-2000:]
