"""`vmigrate repair`: a collection migrated while its source still took writes is made identical
again from a verification's diff file (docs/user/cli.md "The diff file").

On both targets (the real Milvus 2.3.5 server, which never de-duplicates a primary key, so a
doubled row shows in count(*), and Milvus Lite): a few thousand points are migrated, then in
Qdrant (qdrant-client) 0.1 % of them are changed, 0.1 % deleted and 0.1 % added, and in Milvus
(pymilvus) one row that the source never had is inserted and one changed point is doubled. The
diff file is written from the ids the test changed (what `verify --full` reports for them);
after `repair` every point is checked through pymilvus against qdrant-client (ids, vectors,
payload) and count(*) with Strong consistency equals the source count. A second repair with
the same file changes nothing. Bad diff files give a clear error naming file and line.
"""

import json
import os
import uuid

import numpy as np
import pytest
from qdrant_client import models

from tests.integration.checks import (compare, fresh_source, run_vmigrate, source_points,
                                      strong_count)

N = 3000
K = 3  # 0.1 % of N


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.base = ["--source", qdrant.url, "--target", milvus.url]
    e.dir = str(tmp_path_factory.mktemp("repair"))
    e.store = os.path.join(e.dir, "vmigrate.db")
    return e


def vm(env, *args, check=False):
    return run_vmigrate(env.bin, *args, "--store", env.store, check=check)


def new_vector(rng, dim=8):
    return [float(x) for x in rng.standard_normal(dim).astype(np.float32)]


def drift(env, coll, uuids, seed):
    """Writes after the copy: K points changed, K deleted, K added in Qdrant; one row inserted
    into Milvus that the source never had, and one changed point doubled there. Returns the
    diff file's lines, as `verify --full` words them."""
    rng = np.random.default_rng(seed)
    ids = sorted(source_points(env.qc, coll), key=str)
    picks = [ids[i] for i in rng.choice(len(ids), 2 * K, replace=False)]
    changed, deleted = picks[:K], picks[K:]
    if uuids:
        added = [str(uuid.UUID(int=int(rng.integers(1, 2**62)) << 64)) for _ in range(K)]
        stray = str(uuid.UUID(int=7 << 100))
    else:
        top = max(ids)
        added = [top + 1000 + k for k in range(K)]
        stray = top + 5000
    env.qc.upsert(coll, [models.PointStruct(id=i, vector=new_vector(rng),
                                            payload={"i": -1, "g": 99, "changed": True})
                         for i in changed + added], wait=True)
    env.qc.delete(coll, points_selector=models.PointIdsList(points=deleted), wait=True)
    old = env.mc.query(coll, filter=f'id in {json.dumps([changed[0]])}', output_fields=["*"])[0]
    env.mc.insert(coll, [old, {"id": stray, "vector": new_vector(rng), "stray": 1}])
    env.mc.flush(coll)
    held = strong_count(env.mc, coll)
    # the real server keeps both rows of the doubled key (Milvus Lite may fold them)
    assert held == N + 2 if env.m.target == "milvus23" else N + 1 <= held <= N + 2, held

    def line(i, what):
        return {"collection": coll, "target": coll, "id": i, "what": what,
                **({"field": "vector", "detail": "vector vector differs"}
                   if what == "different" else {})}
    return ([line(i, "different") for i in changed] + [line(i, "extra") for i in deleted] +
            [line(i, "missing") for i in added] + [line(stray, "extra")])


def write_diff(env, name, lines):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        for ln in lines:
            f.write(json.dumps(ln) + "\n")
    return path


def check_same(env, coll, uuids):
    n = compare(env.qc, env.mc, coll, coll, {"": ("vector", "dense")}, pk_varchar=uuids)
    assert n == N, n  # K deleted, K added


def repair_ok(env, *args):
    p = vm(env, "repair", *args, "--json")
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    out = json.loads(p.stdout)
    assert all(c["ok"] and c["verdict"] == "same" for c in out), out
    return out


def test_repair_from_a_diff_file_makes_the_target_identical(env):
    coll = fresh_source(env.qc, env.mc, "ids_int", n=N, name="repair_int")
    vm(env, "migrate", *env.base, "-c", coll, "-q", check=True)
    lines = drift(env, coll, uuids=False, seed=1)
    diff = write_diff(env, "int.jsonl", lines)
    out = repair_ok(env, *env.base, "-c", coll, "--diff", diff)
    c = out[0]
    assert c["before"] == {"listed": 3 * K + 1, "missing": K, "extra": K + 1, "different": K}
    assert c["upserted"] == 2 * K and c["deleted"] == K + 1, c
    assert c["after"]["source_count"] == c["after"]["target_count"] == N, c
    check_same(env, coll, uuids=False)
    # idempotent: the same file again writes the same rows, deletes nothing that exists
    out = repair_ok(env, *env.base, "-c", coll, "--diff", diff)
    assert out[0]["upserted"] == 2 * K
    check_same(env, coll, uuids=False)


def test_repair_of_a_job_with_uuid_ids(env):
    coll = fresh_source(env.qc, env.mc, "ids_uuid", n=N, name="repair_uuid")
    vm(env, "migrate", *env.base, "-c", coll, "-q", check=True)
    jobs = json.loads(vm(env, "jobs", "--json", check=True).stdout)
    jid = [j["id"] for j in jobs if coll in json.dumps(j)][0]
    lines = drift(env, coll, uuids=True, seed=2)
    diff = write_diff(env, "uuid.jsonl", lines)
    out = repair_ok(env, "--job", jid[:8], "--diff", diff)
    assert out[0]["upserted"] == 2 * K and out[0]["deleted"] == K + 1, out
    check_same(env, coll, uuids=True)
    repair_ok(env, jid, "--diff", diff)  # `repair JOB` is `repair --job JOB`
    check_same(env, coll, uuids=True)
    p = vm(env, "repair", jid, "--job", jid, "--diff", diff)
    assert p.returncode == 2 and "one too many" in p.stderr, p.stderr
    # a collection the job does not have
    bad = write_diff(env, "other.jsonl", lines[:1] + [{"collection": "nope", "id": 1,
                                                        "what": "missing"}])
    p = vm(env, "repair", "--job", jid, "--diff", bad)
    assert p.returncode == 2, p.stderr
    assert f"'{bad}' line 2" in p.stderr and "'nope'" in p.stderr and coll in p.stderr, p.stderr


@pytest.mark.parametrize("text,why", [
    ('{"collection":"C","id":1,"what":"missing"}\nnot json\n', "not a JSON line"),
    ('\n{"collection":"C","id":-4,"what":"extra"}\n', '"id" is not a point id'),
    ('{"collection":"C","id":"12","what":"extra"}\n', '"id" is not a point id'),
    ('{"collection":"C","id":1,"what":"gone"}\n', "must be missing, extra or different"),
    ('{"id":1,"what":"missing"}\n', 'no "collection"'),
    ('[1,2]\n', "not a JSON object"),
    ('{"collection":"other","id":1,"what":"missing"}\n', "add -c 'other'"),
])
def test_bad_diff_lines_name_file_and_line(env, text, why):
    coll = "repair_int"
    if not env.mc.has_collection(coll):
        pytest.skip("needs the collection of the first test")
    path = write_diff(env, "bad.jsonl", [])
    with open(path, "w") as f:
        f.write(text.replace('"C"', json.dumps(coll)))
    before = env.mc.query(coll, filter="", output_fields=["count(*)"],
                          consistency_level="Strong")[0]["count(*)"]
    p = vm(env, "repair", *env.base, "-c", coll, "--diff", path)
    assert p.returncode == 2, (p.returncode, p.stderr)
    lineno = 2 if text.startswith("\n") or "not json" in text else 1
    assert f"diff file '{path}' line {lineno}:" in p.stderr and why in p.stderr, p.stderr
    after = env.mc.query(coll, filter="", output_fields=["count(*)"],
                         consistency_level="Strong")[0]["count(*)"]
    assert before == after


def test_missing_diff_file(env):
    p = vm(env, "repair", *env.base, "-c", "repair_int", "--diff",
           os.path.join(env.dir, "absent.jsonl"))
    assert p.returncode == 2 and "cannot open diff file" in p.stderr, p.stderr


def test_verify_full_then_repair_until_clean(env):
    """The documented loop: `verify --full` lists what drifted (the diff file holds exactly
    the ids the test changed, deleted and added, and the stray row), `repair` from that file
    leaves every point identical and its own full verification after (NAME.after.jsonl)
    empty; a second drift is repaired without --diff (a full pass writes the file first)."""
    coll = fresh_source(env.qc, env.mc, "ids_int", n=N, name="repair_cycle")
    vm(env, "migrate", *env.base, "-c", coll, "-q", check=True)
    lines = drift(env, coll, uuids=False, seed=3)
    diff = os.path.join(env.dir, "cycle.jsonl")
    p = vm(env, "verify", "--full", *env.base, "-c", coll, "--diff", diff, "--json")
    assert p.returncode == 5, (p.returncode, p.stdout, p.stderr)
    with open(diff) as f:
        got = sorted((json.loads(ln)["id"], json.loads(ln)["what"]) for ln in f)
    assert got == sorted((ln["id"], ln["what"]) for ln in lines)
    c = repair_ok(env, *env.base, "-c", coll, "--diff", diff)[0]
    assert c["after"] == {"source_count": N, "target_count": N, "missing": 0, "extra": 0,
                          "different": 0}, c
    assert c["after_file"] == os.path.join(env.dir, "cycle.after.jsonl"), c
    assert os.path.getsize(c["after_file"]) == 0
    check_same(env, coll, uuids=False)
    # drift again; no --diff: the repair's own full pass finds it
    drift(env, coll, uuids=False, seed=4)
    c = repair_ok(env, *env.base, "-c", coll)[0]
    assert c["before"]["listed"] == 3 * K + 1 and c["after"]["extra"] == 0, c
    if os.path.exists(c["diff_file"]):
        os.unlink(c["diff_file"])  # written in the current directory
    if c.get("after_file") and os.path.exists(c["after_file"]):
        os.unlink(c["after_file"])
    check_same(env, coll, uuids=False)
