"""One request, one job, whatever the face (issue 10, bug 2 and item 7): vmig_job_submit() decides
for the CLI and the HTTP API alike. The same request (a normal collection and one refused for its
Manhattan distance) sent through `vmigrate migrate --detach` and through POST /api/v1/jobs creates
the same job (compared through `vmigrate jobs show ID --json`: collections, targets, plan), both
report the refusal with the same code and message, and nothing of the refused collection exists
in Milvus. A resume, retry or restart of a running job is answered 409 from the runner's own
claim decision (no store polling), and the job runs on to an exact copy. Outcomes are read back
through pymilvus and qdrant-client (checks.compare)."""

import json
import os
import time

import pytest
import requests

from tests.datagen import datagen
from tests.harness.gates import SourceGate
from tests.integration.checks import compare, run_vmigrate
from tests.integration.test_http_api import Serve

EXIT_SCHEMA = 4  # src/cli/cli.h


@pytest.fixture(scope="module")
def serve(vmigrate_bin, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("submit"))
    s = Serve(vmigrate_bin, d)
    s.store = os.path.join(d, "vm.db")
    s.env = {"VMIGRATE_SECRET_KEY_FILE": os.path.join(d, "secret.key")}
    yield s
    s.stop()


def api(serve, method, path, body=None):
    return requests.request(method, serve.url + "/api/v1" + path, json=body, timeout=300)


def show(binary, store, jid, env=None):
    p = run_vmigrate(binary, "jobs", "show", jid, "--json", "--store", store, env=env,
                     check=True)
    return json.loads(p.stdout)


def wait_job(serve, jid, timeout=600):
    deadline = time.monotonic() + timeout
    while True:
        j = api(serve, "GET", f"/jobs/{jid}").json()
        if j["status"] in ("SUCCESSFUL", "FAILED", "CANCELLED"):
            return j
        assert time.monotonic() < deadline, f"job {jid} did not end within {timeout} s: {j}"
        time.sleep(0.2)


def same_job(j):
    """What a request decides: the collections, their targets and the plan."""
    return {"collections": [(c["source"], c["target"]) for c in j["collections"]],
            "plan": j["plan"]}


def ok_and_refused(qdrant_client, milvus_client, prefix):
    """A normal collection and one refused for its Manhattan distance, neither in Milvus."""
    ok = datagen.generate(qdrant_client, "ids_int", name=f"{prefix}_ok")
    bad = datagen.generate(qdrant_client, "manhattan", name=f"{prefix}_bad")
    for c in (ok, bad):
        if milvus_client.has_collection(c):
            milvus_client.drop_collection(c)
    return ok, bad


def cli_env(tmp_path):
    return {"VMIGRATE_SECRET_KEY_FILE": str(tmp_path / "secret.key")}


def test_cli_and_api_create_the_same_job(qdrant, milvus, qdrant_client, milvus_client,
                                         vmigrate_bin, serve, tmp_path):
    ok, bad = ok_and_refused(qdrant_client, milvus_client, "submit")
    cli_store, env = str(tmp_path / "cli.db"), cli_env(tmp_path)
    # the CLI first: its job stays PENDING in its own store (no worker runs it)
    p = run_vmigrate(vmigrate_bin, "migrate", "--detach", "--source", qdrant.url, "--target",
                     milvus.url, "-c", ok, "-c", bad, "--store", cli_store, env=env)
    assert p.returncode == EXIT_SCHEMA, (p.returncode, p.stderr)
    cli_id = p.stdout.strip()
    assert cli_id.startswith("j"), p.stdout
    # the API: the same request
    r = api(serve, "POST", "/jobs", {"source": {"url": qdrant.url},
                                     "target": {"url": milvus.url}, "collections": [ok, bad]})
    assert r.status_code == 201, r.text
    answer = r.json()
    api_id = answer["id"]
    assert [(x["source"], x["code"]) for x in answer["refused"]] == [(bad, "schema")]
    assert "Manhattan" in answer["refused"][0]["message"]
    # the CLI said the same refusal, in the same words
    assert f"vmigrate: {answer['refused'][0]['message']}" in p.stderr, p.stderr
    # the answer says what the job holds
    assert answer["collections"] == [{"source": ok, "target": ok, "points": 300}]
    assert answer["points"] == 300

    cli_job = show(vmigrate_bin, cli_store, cli_id, env=env)
    api_job = show(vmigrate_bin, serve.store, api_id, env=serve.env)
    assert same_job(cli_job) == same_job(api_job)
    assert [c["source"] for c in cli_job["collections"]] == [ok]
    assert [c["source"] for c in cli_job["plan"]["collections"]] == [ok]

    # the API's job runs (the server's worker) and ends SUCCESSFUL: the refused collection
    # was never part of it, and nothing exists for it in Milvus
    j = wait_job(serve, api_id)
    assert j["status"] == "SUCCESSFUL", j
    assert compare(qdrant_client, milvus_client, ok, ok, {"": ("vector", "dense")}) == 300
    assert not milvus_client.has_collection(bad)


def test_cli_foreground_runs_only_what_is_not_refused(qdrant, milvus, qdrant_client,
                                                      milvus_client, vmigrate_bin, tmp_path):
    ok, bad = ok_and_refused(qdrant_client, milvus_client, "submit_fg")
    store, env = str(tmp_path / "fg.db"), cli_env(tmp_path)
    p = run_vmigrate(vmigrate_bin, "migrate", "--source", qdrant.url, "--target", milvus.url,
                     "-c", ok, "-c", bad, "--store", store, "--json", env=env)
    # the refusal's exit code although the job itself succeeded
    assert p.returncode == EXIT_SCHEMA, (p.returncode, p.stderr)
    assert "Manhattan" in p.stderr
    j = json.loads(p.stdout)
    assert j["status"] == "SUCCESSFUL", j
    assert [c["source"] for c in j["collections"]] == [ok]
    assert compare(qdrant_client, milvus_client, ok, ok, {"": ("vector", "dense")}) == 300
    assert not milvus_client.has_collection(bad)


def test_every_collection_refused_creates_no_job(qdrant, milvus, qdrant_client, milvus_client,
                                                 vmigrate_bin, serve, tmp_path):
    bad = datagen.generate(qdrant_client, "manhattan", name="submit_only_bad")
    if milvus_client.has_collection(bad):
        milvus_client.drop_collection(bad)
    store, env = str(tmp_path / "none.db"), cli_env(tmp_path)
    p = run_vmigrate(vmigrate_bin, "migrate", "--detach", "--source", qdrant.url, "--target",
                     milvus.url, "-c", bad, "--store", store, env=env)
    assert p.returncode == EXIT_SCHEMA and not p.stdout.strip(), (p.stdout, p.stderr)
    assert json.loads(run_vmigrate(vmigrate_bin, "jobs", "--json", "--store", store, env=env,
                                   check=True).stdout) == []
    before = {j["id"] for j in api(serve, "GET", "/jobs").json()["jobs"]}
    r = api(serve, "POST", "/jobs", {"source": {"url": qdrant.url},
                                     "target": {"url": milvus.url}, "collections": [bad]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "schema", r.text
    assert {j["id"] for j in api(serve, "GET", "/jobs").json()["jobs"]} == before
    assert not milvus_client.has_collection(bad)  # neither face created anything


def test_actions_on_a_running_job_answer_409_from_the_claim(qdrant, milvus, qdrant_client,
                                                             milvus_client, serve):
    # The SourceGate refuses (503, retried) every page that would end a read range until it
    # is opened, so the job stays IN_PROGRESS for as long as the test needs, however fast the
    # machine; the moment to act comes from the job's progress, not from a clock.
    n = 5000
    coll = datagen.generate(qdrant_client, "paging_100k", n=n, name="submit_running")
    if milvus_client.has_collection(coll):
        milvus_client.drop_collection(coll)
    with SourceGate(qdrant.url) as gate:
        r = api(serve, "POST", "/jobs", {"source": {"url": gate.url},
                                         "target": {"url": milvus.url}, "collections": [coll],
                                         "options": {"page_size": 500, "readers": 1}})
        assert r.status_code == 201, r.text
        jid = r.json()["id"]
        deadline = time.monotonic() + 600
        while True:
            j = api(serve, "GET", f"/jobs/{jid}").json()
            if j["status"] == "IN_PROGRESS" and j["written"] >= 500:
                break
            assert j["status"] in ("PENDING", "IN_PROGRESS"), j
            assert time.monotonic() < deadline, f"nothing written within 600 s: {j}"
            time.sleep(0.1)
        # many tries: the old answer compared heartbeat times, which move every second
        for action in ["resume"] * 10 + ["retry", "restart"]:
            r = api(serve, "POST", f"/jobs/{jid}/{action}")
            assert r.status_code == 409, (action, r.text)
            err = r.json()["error"]
            assert err["code"] == "usage" and "is running" in err["message"], (action, err)
        assert api(serve, "GET", f"/jobs/{jid}").json()["status"] == "IN_PROGRESS"
        gate.set_mode("open")
        j = wait_job(serve, jid)
        assert j["status"] == "SUCCESSFUL", j
    assert compare(qdrant_client, milvus_client, coll, coll, {"": ("vector", "dense")}) == n
