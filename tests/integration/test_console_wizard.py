"""The console wizard's ways out of a refusal (issue 11, problems 3, 4 and 5), in chromium against
the real stack: the Qdrant test server, `vmigrate serve` and each Milvus target (Milvus Lite, and
the real Milvus 2.3.5 for all but the five-vector paths: 2.3 holds one vector field). Each test runs one test of tests/browser/wizard_recovery.test.mjs (node --test,
playwright-core, Debian's chromium), which walks the path through the UI until the job it started
has ended, then checks with pymilvus what landed in Milvus:

- a five-vector collection is refused (plain words, no CLI flags) and migrated from the console
  with one vector left out, or with the vector limit raised to 5;
- a target that exists: no stale "Target exists" after a valid rename, a new name that exists
  too is refused on the schema step (no job), and the renamed target lands with every point; a
  stale "Fix the connection errors" goes once both sides are green;
- a target created in Milvus while the user reviews: Start goes back to the schema step with it
  refused (no job without it), and after a rename both collections land;
- the other plan edits of the CLI: null values dropped, payload keys equal to a field name
  prefixed, HNSW M / ef_construct, a rejects file.
"""

import json
import os
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.browser.stack import VmigrateServe
from tests.datagen import datagen
from tests.harness.servers import free_port
from tests.integration.checks import compare, strong_count, target_rows
from tests.integration.test_console_browser import CHROMIUM, REPO, _require

LITE_ONLY = pytest.mark.targets("lite")  # five vector fields in one collection (2.3 holds one)
MJS = os.path.join("tests", "browser", "wizard_recovery.test.mjs")
FIVE = {v: (v, "dense") for v in "abcde"}


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    _require()
    for shape, n in [("five_vectors", None), ("single_cosine_768", 60), ("payload_nulls", None),
                     ("payload_big", None), ("ids_int", 80), ("uint8", 40)]:
        datagen.generate(qdrant_client, shape, n=n)
    # payload keys equal to the schema's field names ("id", "vector"): the conflict policy
    datagen.generate(qdrant_client, "payload_conflict", n=10, name="wiz_conflict")
    # taken names: the source's own name (refused when planned) and one the user picks later
    for name in ("dg_single_cosine_768", "wiz_taken"):
        milvus_client.create_collection(name, dimension=8)
    home = str(tmp_path_factory.mktemp("wizard-serve"))
    serve = VmigrateServe(vmigrate_bin, home, os.path.join(REPO, "web"),
                          data_dir=os.path.join(home, "serve"))
    serve.start()

    class Env:
        pass
    e = Env()
    e.qc, e.mc, e.serve = qdrant_client, milvus_client, serve
    e.rejects = os.path.join(home, "rejects.jsonl")
    e.info = {"console": serve.url, "qdrant": qdrant.url, "milvus": milvus.url,
              "closed_port": free_port(), "rejects": e.rejects}
    yield e
    serve.close()


def walk(env, name):
    """Run one test of the .mjs file; the job it reported (GET /api/v1/jobs/{id})."""
    shots = os.path.join(REPO, "build", "reports", "console-wizard")
    os.makedirs(shots, exist_ok=True)
    e = dict(os.environ, VMIG_WIZARD=json.dumps(env.info), VMIG_SCREENSHOTS=shots,
             CHROMIUM=CHROMIUM)
    p = subprocess.run(["node", "--test", "--test-concurrency=1", f"--test-name-pattern={name}",
                        MJS], cwd=REPO, env=e, capture_output=True, text=True, timeout=900)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and "# pass 1" in p.stdout and "# fail 0" in p.stdout, out[-8000:]
    jobs = [json.loads(line.split("WIZARD_JOB ", 1)[1]) for line in p.stdout.splitlines()
            if "WIZARD_JOB " in line]
    assert jobs and jobs[-1]["status"] == "SUCCESSFUL", out[-4000:]
    with urllib.request.urlopen(f"{env.serve.url}/api/v1/jobs/{jobs[-1]['id']}") as r:
        return json.loads(r.read())


def vector_fields(mc, coll):
    return sorted(f["name"] for f in mc.describe_collection(coll)["fields"]
                  if "VECTOR" in getattr(f["type"], "name", str(f["type"])))


@LITE_ONLY
def test_five_vectors_one_left_out(env):
    walk(env, "five vectors: leave one vector out")
    assert vector_fields(env.mc, "wiz_five_skip") == ["a", "b", "c", "d"]
    n = compare(env.qc, env.mc, "dg_five_vectors", "wiz_five_skip",
                {k: v for k, v in FIVE.items() if k != "e"})
    assert n == 50


@LITE_ONLY
def test_five_vectors_limit_raised(env):
    walk(env, "five vectors: raise the vector limit")
    assert vector_fields(env.mc, "wiz_five_all") == ["a", "b", "c", "d", "e"]
    assert compare(env.qc, env.mc, "dg_five_vectors", "wiz_five_all", FIVE) == 50


def test_exists_then_renamed(env):
    job = walk(env, "target exists")
    assert [c["target"] for c in job["collections"]] == ["wiz_renamed"]
    assert compare(env.qc, env.mc, "dg_single_cosine_768", "wiz_renamed",
                   {"": ("vector", "dense")}) == 60
    # the collections that existed are untouched, and nothing went under the first new name
    for name in ("dg_single_cosine_768", "wiz_taken"):
        assert strong_count(env.mc, name) == 0, name
    assert not env.mc.has_collection("wiz_fresh")


def test_plan_edits_nulls_prefix_hnsw_rejects(env):
    walk(env, "plan edits")
    rows = target_rows(env.mc, "wiz_conflict")
    assert sorted(r["id"] for r in rows) == list(range(1, 11))
    for r in rows:
        assert (r["qd_id"], r["qd_vector"], r["k"]) == (f"p{r['id']}", r["id"], r["id"]), r
    idx = env.mc.describe_index("dg_payload_nulls", "vector")
    params = {**idx, **idx.get("params", {})}
    assert idx["index_type"] == "HNSW", idx
    assert int(params["M"]) == 24 and int(params["efConstruction"]) == 200, idx
    compare(env.qc, env.mc, "dg_payload_nulls", "dg_payload_nulls", {"": ("vector", "dense")},
            drop_nulls=True)
    with open(env.rejects) as fh:
        lines = [json.loads(x) for x in fh.read().splitlines()]
    assert len(lines) == 1 and "65536" in lines[0]["reason"], lines
    compare(env.qc, env.mc, "dg_payload_big", "dg_payload_big", {"": ("vector", "dense")},
            expect_missing={lines[0]["id"]})


def test_target_created_while_reviewing(env):
    job = walk(env, "a target created while reviewing")
    assert sorted(c["target"] for c in job["collections"]) == ["wiz_late_2", "wiz_sibling"]
    assert compare(env.qc, env.mc, "dg_ids_int", "wiz_late_2", {"": ("vector", "dense")}) == 80
    assert compare(env.qc, env.mc, "dg_uint8", "wiz_sibling", {"": ("vector", "dense")}) == 40
    assert strong_count(env.mc, "wiz_late") == 0  # created behind the console's back, untouched


def test_jobs_api_rejects_must_be_absolute(env):
    """POST /jobs options.rejects (the console's rejects file) is a path on the server's machine:
    a relative one is refused naming the field, and no job is created."""
    before = _get(env, "/api/v1/jobs")["jobs"]
    body = {"source": {"url": env.info["qdrant"]}, "target": {"url": env.info["milvus"]},
            "collections": ["dg_payload_big"], "options": {"rejects": "rejects.jsonl"}}
    req = urllib.request.Request(f"{env.serve.url}/api/v1/jobs", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    err = json.loads(e.value.read())["error"]
    assert e.value.code == 400 and err["code"] == "usage", err
    assert "options.rejects" in err["message"] and "absolute path" in err["message"], err
    assert len(_get(env, "/api/v1/jobs")["jobs"]) == len(before)


def _get(env, path):
    with urllib.request.urlopen(f"{env.serve.url}{path}") as r:
        return json.loads(r.read())
