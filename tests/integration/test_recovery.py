"""Every failure has a way out, and the way out the CLI names works (issue 11, problems 1 and 2).

Each test makes a job fail (or be cancelled) as a user meets it, takes the command the CLI
printed as the way out *from its own output*, runs it, and asserts through pymilvus against
qdrant-client that the job then holds exactly the source. On the real Milvus 2.3.5 server
(which never de-duplicates inserts) `compare` seeing each id once proves a collection that
had succeeded was not written again by the retry.
"""

import json
import os
import re
import shlex
import time

from tests.integration.checks import compare, run_vmigrate
from tests.integration.test_jobs import ONE, create_job, env, fresh, job_json, vm  # noqa: F401

RETRY = re.compile(r"`(vmigrate jobs retry [^`]+)`")


def suggested(stderr):
    """The `vmigrate jobs retry …` command the CLI suggested, as argv (without 'vmigrate')."""
    m = RETRY.search(stderr)
    assert m, f"no `vmigrate jobs retry …` suggested:\n{stderr[-3000:]}"
    return shlex.split(m.group(1))[1:]


def colls(env, jid):
    return {c["source"]: c for c in job_json(env, jid)["collections"]}


def test_the_suggested_retry_fixes_a_null_failure_and_leaves_the_sibling_alone(env):
    ok = fresh(env, "ids_int")
    bad = fresh(env, "payload_nulls")
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", ok, "-c", bad,
           "--page-size", "50")
    assert p.returncode == 1, p.stderr[-3000:]
    # the way out is the retry of this job, not a new `migrate` (which would meet the target
    # collection the job created)
    assert "--null-values=drop" not in p.stderr and "vmigrate migrate" not in p.stderr
    argv = suggested(p.stderr)
    jid = argv[2]
    st = colls(env, jid)
    assert st[ok]["status"] == "SUCCESSFUL" and st[bad]["status"] == "FAILED"
    assert st[bad]["error_fix"] == "null_values" and st[bad]["error_code"] == "data"
    assert st[bad]["error_hint"] and "--" not in st[bad]["error_hint"]  # plain words
    done_ok = st[ok]["finished_ms"]

    r = vm(env, *argv)
    assert r.returncode == 0, r.stderr[-3000:]
    st = colls(env, jid)
    assert st[bad]["status"] == "SUCCESSFUL" and st[bad]["error_fix"] is None
    assert st[ok]["finished_ms"] == done_ok  # not run again
    compare(env.qc, env.mc, ok, ok, ONE)  # each id once: not re-copied
    compare(env.qc, env.mc, bad, bad, ONE, drop_nulls=True)


def test_a_target_someone_else_made_is_fixed_by_the_suggested_rename(env):
    """The job's collection appears in Milvus between the job's creation and its run (made by
    someone else): the run refuses to write into it and suggests a retry under a new name."""
    src = fresh(env, "ids_int")
    other = fresh(env, "payload_rich")
    jid = create_job(env, [other, src])
    env.mc.create_collection(src, dimension=8)  # not this job's
    env.mc.insert(src, [{"id": 1, "vector": [0.5] * 8}])
    r = vm(env, "jobs", "resume", jid)
    assert r.returncode != 0
    st = colls(env, jid)
    assert st[src]["status"] == "FAILED" and st[src]["error_fix"] == "target_name", st[src]
    argv = [a.replace("=NEW", f"={src}_v2") for a in suggested(r.stderr)]
    assert "--target-name" in argv and argv[2] == jid
    r = vm(env, *argv)
    assert r.returncode == 0, r.stderr[-3000:]
    st = colls(env, jid)
    assert st[src]["status"] == "SUCCESSFUL" and st[src]["target"] == f"{src}_v2"
    compare(env.qc, env.mc, src, f"{src}_v2", ONE)
    compare(env.qc, env.mc, other, other, ONE)  # the sibling: written once
    # the other party's collection is untouched
    assert env.mc.query(src, filter="id >= 0", output_fields=["id"],
                        consistency_level="Strong") == [{"id": 1}]


def test_a_retry_under_a_new_name_drops_what_this_job_half_wrote(env):
    """A failed collection the job had created and partly written: retried under another name,
    the half-written one is dropped (it was the job's own), the new one holds everything."""
    bad = fresh(env, "payload_nulls", n=400)
    jid = create_job(env, [bad])
    r = vm(env, "jobs", "resume", jid)
    assert r.returncode != 0
    st = colls(env, jid)
    assert st[bad]["state"]["created"] and env.mc.has_collection(bad)
    r = vm(env, "jobs", "retry", jid, "--null-values", "drop", "--target-name", f"{bad}=nulls_b")
    assert r.returncode == 0, r.stderr[-3000:]
    assert not env.mc.has_collection(bad)
    compare(env.qc, env.mc, bad, "nulls_b", ONE, drop_nulls=True)
    logs = vm(env, "jobs", "logs", jid, check=True).stdout
    assert f"dropped target collection '{bad}'" in logs and "is now 'nulls_b'" in logs


def test_a_cancelled_collection_is_retried_with_a_vector_left_out(env):
    """A cancelled job is retried with a changed plan, from the CLI: one vector left out (on
    Milvus Lite, which holds several); on Milvus 2.3 (one vector field, planned already with one)
    another index, which also makes the collection anew."""
    src = fresh(env, "named_mixed")
    keep = {"dense64": ("dense64", "dense")}
    if env.real:
        jid = create_job(env, [src], extra=("--skip-vector", f"{src}.dense32",
                                            "--skip-vector", f"{src}.sparse"))
        change = ("--index", "hnsw")
    else:
        keep["sparse"] = ("sparse", "sparse")
        jid = create_job(env, [src])
        change = ("--skip-vector", f"{src}.dense32")
    assert vm(env, "jobs", "cancel", jid).returncode == 0
    assert job_json(env, jid)["status"] == "CANCELLED"
    r = vm(env, "jobs", "retry", jid, *change)
    assert r.returncode == 0, r.stderr[-3000:]
    fields = {f["name"] for f in env.mc.describe_collection(src)["fields"]}
    assert "dense64" in fields and "dense32" not in fields, fields
    if env.real:
        assert env.mc.describe_index(src, "dense64")["index_type"] == "HNSW"
    compare(env.qc, env.mc, src, src, keep)


def test_a_retry_refuses_to_touch_a_collection_that_succeeded(env):
    ok = fresh(env, "ids_int")
    bad = fresh(env, "payload_nulls")
    jid = create_job(env, [ok, bad])
    assert vm(env, "jobs", "resume", jid).returncode != 0
    r = vm(env, "jobs", "retry", jid, "--target-name", f"{ok}=elsewhere")
    assert r.returncode == 2
    assert f"collection '{ok}' of job {jid} is Successful" in r.stderr, r.stderr
    assert not env.mc.has_collection("elsewhere")
    st = colls(env, jid)
    assert st[bad]["status"] == "FAILED" and st[ok]["status"] == "SUCCESSFUL"  # nothing ran
    compare(env.qc, env.mc, ok, ok, ONE)  # untouched: each id once, as in Qdrant


def test_a_new_migration_onto_a_failed_jobs_collection_points_to_that_job(env):
    """The trap of problem 2: after a failure, a new `migrate` meets the collection the failed
    job created. The refusal names that job and the retry that continues it; following it
    (with the change the failure needed) migrates everything, once."""
    bad = fresh(env, "payload_nulls")
    jid = create_job(env, [bad])
    assert vm(env, "jobs", "resume", jid).returncode != 0
    assert env.mc.has_collection(bad)
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", bad,
           "--null-values", "drop")
    assert p.returncode == 4, p.stderr[-3000:]
    assert f"job {jid} (Failed) created it" in p.stderr, p.stderr
    argv = suggested(p.stderr)
    assert argv[:3] == ["jobs", "retry", jid], argv
    r = vm(env, *argv, "--null-values", "drop")
    assert r.returncode == 0, r.stderr[-3000:]
    compare(env.qc, env.mc, bad, bad, ONE, drop_nulls=True)


def test_the_api_plan_names_the_job_that_made_the_target(env):
    """The console's preview (POST /plan) of a collection whose target a failed job of the
    server's store created names that job (fix "job", fix_arg the job) instead of a bare
    "exists"; the job's own retry through the API then migrates it."""
    from tests.integration.test_http_api import Serve, call
    store = os.path.join(env.dir, "vm.db")  # the store Serve uses
    bad = fresh(env, "payload_nulls")
    p = run_vmigrate(env.bin, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", bad,
                     "--store", store, env=env.env)
    assert p.returncode == 1, p.stderr[-3000:]
    jid = suggested(p.stderr)[2]
    srv = Serve(env.bin, env.dir)
    try:
        api = lambda m, path, **kw: call(srv.url, m, "/api/v1" + path, **kw)  # noqa: E731
        ends = {"source": {"url": env.q.url}, "target": {"url": env.m.url}}
        r = api("POST", "/plan", json=dict(ends, collections=[bad]))
        assert r.status_code == 200, r.text
        (c,) = r.json()["collections"]
        e = c["error"]
        assert e["code"] == "exists" and e["fix"] == "job" and e["fix_arg"] == jid, e
        assert f"job {jid} (Failed) created it" in e["message"] and "--" not in e["hint"]
        r = api("POST", f"/jobs/{jid}/retry", json={"collections": {bad: {"null_values": "drop"}}})
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 600
        while api("GET", f"/jobs/{jid}").json()["status"] not in ("SUCCESSFUL", "FAILED"):
            assert time.monotonic() < deadline, "the retry did not end"
            time.sleep(0.2)
        assert api("GET", f"/jobs/{jid}").json()["status"] == "SUCCESSFUL"
    finally:
        srv.stop()
    compare(env.qc, env.mc, bad, bad, ONE, drop_nulls=True)


def test_the_suggested_prefix_fixes_a_payload_key_named_like_a_field(env):
    """A payload key 'id' (the primary key's name): the suggested retry stores it as payload_id."""
    name = fresh(env, "payload_conflict", name="rec_conflict")
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", name)
    assert p.returncode == 1, p.stderr[-3000:]
    argv = suggested(p.stderr)
    assert "--payload-conflict" in argv, argv
    assert colls(env, argv[2])[name]["error_fix"] == "payload_conflict"
    r = vm(env, *argv)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = env.mc.query(name, filter="id >= 0", output_fields=["*"], consistency_level="Strong")
    assert sorted((r["id"], r["payload_id"], r["payload_vector"], r["k"]) for r in rows) == \
        [(i, f"p{i}", i, i) for i in range(1, 41)]


def test_the_suggested_rejects_file_sets_oversized_points_aside(env, tmp_path):
    big = fresh(env, "payload_big")
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", big)
    assert p.returncode == 1, p.stderr[-3000:]
    rejects = str(tmp_path / "rejects.jsonl")
    argv = [rejects if a == "FILE" else a for a in suggested(p.stderr)]
    assert "--rejects" in argv and rejects in argv, argv
    r = vm(env, *argv)
    assert r.returncode == 0, r.stderr[-3000:]
    set_aside = [json.loads(x)["id"] for x in open(rejects)]
    assert set_aside, "nothing in the rejects file"
    compare(env.qc, env.mc, big, big, ONE, expect_missing=set(set_aside))


def test_a_retry_never_drops_a_collection_another_job_made_since(env):
    """Job J created and half wrote 'bad'; the user dropped it and job K migrated 'bad' anew.
    Retrying J under another name must not drop K's collection (J is no longer the last to
    have reserved that name); J's copy lands under the new name."""
    bad = fresh(env, "payload_nulls", n=300)
    jid = create_job(env, [bad])
    assert vm(env, "jobs", "resume", jid).returncode != 0
    assert colls(env, jid)[bad]["state"]["created"]
    env.mc.drop_collection(bad)
    k = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", bad,
           "--null-values", "drop", "-q")
    assert k.returncode == 0, k.stderr[-3000:]
    r = vm(env, "jobs", "retry", jid, "--null-values", "drop", "--target-name", f"{bad}=bad_j")
    assert r.returncode == 0, r.stderr[-3000:]
    compare(env.qc, env.mc, bad, bad, ONE, drop_nulls=True)  # K's, untouched
    compare(env.qc, env.mc, bad, "bad_j", ONE, drop_nulls=True)
    logs = vm(env, "jobs", "logs", jid, check=True).stdout
    assert "not this job's any more" in logs, logs[-2000:]
