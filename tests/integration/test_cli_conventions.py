"""CLI conventions (issue 11, problem 8), as git and kubectl have them, against the real binary, the
Qdrant test server and Milvus: "did you mean" for a mistyped command, subcommand and option (exit 2,
the suggestion on stderr); `help CMD [SUB]` and `CMD SUB --help`; jobs named by a unique prefix of
their id in show, logs, cancel, resume and retry (an ambiguous prefix names the candidates); one
"vmigrate:" prefix per message; `--json` always one JSON document on stdout, refusals and failures
included (the error's code, message, collection, point, field and fix word); `vmigrate jobs` lists
each job's collections; `verify --job ID` (and POST /jobs/{id}/verify) uses the job's plan, so a
migration with a target name and a renamed primary key verifies SAME, read back through pymilvus
too, and a changed row is found DIFFERENT. Every assertion reads the binary's real output or the
databases; none of these held before this change.
"""

import json
import os
import subprocess
import time

import pytest
import requests

from tests.datagen import datagen
from tests.harness.gates import SourceGate
from tests.integration.checks import compare, run_vmigrate
from tests.integration.test_http_api import Serve
from tests.integration.test_jobs import ONE

IDS = datagen.collection_name("ids_int")  # 300 points, one 8-d vector
NULLS = datagen.collection_name("payload_nulls")  # a null payload value: the run fails
MANHATTAN = datagen.collection_name("manhattan")  # a distance Milvus lacks: refused


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    for shape in ("ids_int", "payload_nulls", "manhattan"):
        datagen.generate(qdrant_client, shape)

    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.dir = str(tmp_path_factory.mktemp("conventions"))
    e.store = os.path.join(e.dir, "vm.db")
    e.env = {"VMIGRATE_SECRET_KEY_FILE": os.path.join(e.dir, "secret.key")}
    e.base = ["--source", qdrant.url, "--target", milvus.url]
    return e


def vm(env, *args, check=False):
    return run_vmigrate(env.bin, *args, "--store", env.store, env=env.env, check=check)


def plain(binary, *args):
    return run_vmigrate(binary, *args)


def one_prefix_per_line(stderr):
    bad = [ln for ln in stderr.splitlines() if ln.count("vmigrate:") > 1]
    assert not bad, f"doubled prefixes: {bad}"


# ---- did you mean ------------------------------------------------------------------------------

@pytest.mark.parametrize("args, suggestion", [
    (["migrat"], "did you mean 'migrate'?"),
    (["jobs", "shwo", "j1"], "did you mean 'show'?"),
    (["migrate", "--null-value", "drop"], "did you mean '--null-values'?"),
    (["migrate", "--null-value=drop"], "did you mean '--null-values'?"),
    (["hlep"], "did you mean 'help'?"),
    (["jobs", "--follw"], "did you mean '--follow'?"),
    (["verify", "--all"], "option '--all' is for plan, migrate, not verify"),
])
def test_a_mistyped_word_gets_a_suggestion(vmigrate_bin, args, suggestion):
    p = plain(vmigrate_bin, *args)
    assert p.returncode == 2, p.stderr
    assert suggestion in p.stderr
    assert p.stdout == ""
    one_prefix_per_line(p.stderr)


def test_a_word_far_from_every_command_gets_none(vmigrate_bin):
    p = plain(vmigrate_bin, "frobnicate")
    assert p.returncode == 2
    assert "unknown command 'frobnicate'" in p.stderr and "did you mean" not in p.stderr


# ---- help ---------------------------------------------------------------------------------------

def test_help_command_prints_that_commands_help(vmigrate_bin):
    p = plain(vmigrate_bin, "help", "migrate")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: vmigrate migrate ")
    assert "--null-values" in p.stdout and "--detach" in p.stdout
    assert "exit codes:" not in p.stdout  # not the top-level help
    assert plain(vmigrate_bin, "migrate", "--help").stdout == p.stdout


def test_an_option_of_another_jobs_subcommand_is_refused(env, tmp_path):
    """`jobs resume ID --null-values drop` would run with the option silently dropped (only a
    retry takes changes): refused, naming who takes it; nothing runs."""
    store = str(tmp_path / "vm.db")  # a store of its own: the prefix test counts the jobs

    def vm(env, *args):
        return run_vmigrate(env.bin, *args, "--store", store, env=env.env)

    p = vm(env, "migrate", "--detach", *env.base, "-c", IDS, "--target-name", f"{IDS}=sub_opts")
    assert p.returncode == 0, p.stderr
    jid = p.stdout.strip()
    r = vm(env, "jobs", "resume", jid, "--null-values", "drop")
    assert r.returncode == 2
    assert "`jobs resume` takes no --null-values (an option of jobs retry)" in r.stderr, r.stderr
    assert json.loads(vm(env, "jobs", "show", jid, "--json").stdout)["status"] == "PENDING"
    assert not env.mc.has_collection("sub_opts")
    s = vm(env, "jobs", "show", jid, "--status", "failed")
    assert s.returncode == 2 and "an option of jobs list" in s.stderr, s.stderr


def test_help_of_a_jobs_subcommand(vmigrate_bin):
    p = plain(vmigrate_bin, "help", "jobs", "show")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: vmigrate jobs show ID")
    assert "--refresh-index" in p.stdout
    assert "--follow" not in p.stdout and "--status" not in p.stdout  # other subcommands'
    q = plain(vmigrate_bin, "jobs", "show", "--help")
    assert q.returncode == 0 and q.stdout == p.stdout
    logs = plain(vmigrate_bin, "jobs", "logs", "--help").stdout
    assert logs.startswith("usage: vmigrate jobs logs ID") and "--follow" in logs
    assert "--refresh-index" not in logs
    # the jobs help lists the subcommands
    j = plain(vmigrate_bin, "help", "jobs").stdout
    assert all(f"  {s} " in j for s in ("list", "show", "logs", "cancel", "retry", "restart"))


def test_help_of_an_unknown_command_suggests(vmigrate_bin):
    p = plain(vmigrate_bin, "help", "verfy")
    assert p.returncode == 2 and "did you mean 'verify'?" in p.stderr and p.stdout == ""
    p = plain(vmigrate_bin, "help", "jobs", "restrat")
    assert p.returncode == 2 and "did you mean 'restart'?" in p.stderr


# ---- job-id prefixes, jobs list, one prefix -----------------------------------------------------

def detach(env, target):
    p = vm(env, "migrate", "--detach", *env.base, "-c", IDS, "--target-name", f"{IDS}={target}")
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def shortest_unique_prefix(a, b):
    n = 2
    while b.startswith(a[:n]):
        n += 1
    return a[:n]


def test_jobs_take_unique_id_prefixes(env):
    ja, jb = detach(env, "prefix_a"), detach(env, "prefix_b")
    assert ja != jb and ja[0] == jb[0] == "j"
    # "j" begins both: ambiguous, the candidates named, exit 2
    p = vm(env, "jobs", "show", "j")
    assert p.returncode == 2, p.stderr
    assert "ambiguous" in p.stderr and ja in p.stderr and jb in p.stderr
    one_prefix_per_line(p.stderr)
    pa = shortest_unique_prefix(ja, jb)
    assert len(pa) < len(ja)
    shown = json.loads(vm(env, "jobs", "show", pa, "--json", check=True).stdout)
    assert shown["id"] == ja and shown["status"] == "PENDING"
    assert vm(env, "jobs", "logs", pa).returncode == 0
    c = vm(env, "jobs", "cancel", pa, check=True)
    assert c.stdout.strip() == f"job {ja}: Canceled"
    assert json.loads(vm(env, "jobs", "show", jb, "--json").stdout)["status"] == "PENDING"
    r = vm(env, "jobs", "resume", pa, "-q")
    assert r.returncode == 0, r.stderr
    compare(env.qc, env.mc, IDS, "prefix_a", ONE)
    # retry of a successful job is refused, about the whole id the prefix named
    t = vm(env, "jobs", "retry", pa)
    assert t.returncode != 0 and ja in t.stderr
    one_prefix_per_line(t.stderr)
    # an unknown prefix
    u = vm(env, "jobs", "show", "jzzzzzzzzz")
    assert u.returncode == 2 and "'jzzzzzzzzz' not found" in u.stderr
    # `jobs` lists each job's collections, source -> target
    lines = vm(env, "jobs", check=True).stdout.splitlines()
    row = {ln.split()[0]: ln for ln in lines[1:]}
    assert row[ja].rstrip().endswith(f"{IDS} -> prefix_a"), row[ja]
    assert row[jb].rstrip().endswith(f"{IDS} -> prefix_b"), row[jb]
    assert "COLLECTIONS" in lines[0]
    # restart by a prefix of the other job runs that one
    pb = shortest_unique_prefix(jb, ja)
    r = vm(env, "jobs", "restart", pb, "-q")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"job {jb}: Successful"
    compare(env.qc, env.mc, IDS, "prefix_b", ONE)


def test_a_failed_run_says_it_with_one_prefix(env):
    p = vm(env, "migrate", *env.base, "-c", NULLS, "--target-name", f"{NULLS}=nulls_one")
    assert p.returncode == 1, p.stderr
    one_prefix_per_line(p.stderr)
    last = [ln for ln in p.stderr.splitlines() if ln.startswith("vmigrate: job ")][-1]
    assert f"collection '{NULLS}'" in last and "null" in last
    assert "vmigrate: job j" in last and ": vmigrate:" not in last


def test_a_cancelled_migration_says_it_once(env):
    """`jobs cancel` of a foreground migrate: before, "vmigrate: job J: vmigrate: job 'J'
    cancelled". The gate refuses every page, so the job is still copying when it is cancelled,
    however fast the machine is."""
    with SourceGate(env.q.url, mode="all") as gate:
        args = [env.bin, "migrate", "--source", gate.url, "--target", env.m.url, "-c", IDS,
                "--target-name", f"{IDS}=cancelled_once", "--store", env.store, "--json"]
        before = {j["id"] for j in json.loads(vm(env, "jobs", "--json", check=True).stdout)}
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0", **env.env))
        try:
            deadline, jid = time.monotonic() + 300, None
            while jid is None and time.monotonic() < deadline and p.poll() is None:
                jobs = json.loads(vm(env, "jobs", "--json", check=True).stdout)
                new = [j for j in jobs if j["id"] not in before and j["status"] == "IN_PROGRESS"]
                jid = new[0]["id"] if new else None
                time.sleep(0.1)
            assert jid, f"no running job appeared (exit {p.poll()})"
            vm(env, "jobs", "cancel", jid[:7], check=True)
            out, err = p.communicate(timeout=300)
        finally:
            if p.poll() is None:
                p.kill()
    assert p.returncode == 130, err
    one_prefix_per_line(err)
    assert f"vmigrate: job '{jid}' cancelled" in err
    doc = json.loads(out)
    assert doc["id"] == jid and doc["status"] == "CANCELLED"
    assert doc["failure"]["code"] == "cancelled"


# ---- --json: always one document ----------------------------------------------------------------

def test_json_when_every_collection_is_refused(env):
    p = vm(env, "migrate", *env.base, "-c", MANHATTAN, "--json")
    assert p.returncode == 4, p.stderr
    doc = json.loads(p.stdout)
    assert doc["id"] is None and doc["failure"]["code"] == "schema"
    assert [r["source"] for r in doc["refused"]] == [MANHATTAN]
    err = doc["refused"][0]["error"]
    assert err["code"] == "schema" and "Manhattan" in err["message"]
    assert err["collection"] == MANHATTAN
    assert {"point", "field", "fix", "fix_arg"} <= set(err)
    assert not env.mc.has_collection(MANHATTAN)


def test_plan_json_with_a_refusal_is_one_document(env):
    p = run_vmigrate(env.bin, "plan", *env.base, "-c", IDS, "-c", MANHATTAN, "--json")
    assert p.returncode == 4, p.stderr
    plan = json.loads(p.stdout)  # one document: the plan, its refusal inside
    assert [c["source"] for c in plan["collections"]] == [IDS, MANHATTAN]


def test_json_when_one_is_refused_and_one_runs(env):
    p = vm(env, "migrate", *env.base, "-c", IDS, "-c", MANHATTAN, "--target-name",
           f"{IDS}=json_mixed", "--json")
    assert p.returncode == 4, p.stderr
    doc = json.loads(p.stdout)
    assert doc["id"].startswith("j") and doc["failure"] is None
    assert [c["source"] for c in doc["collections"]] == [IDS]
    assert doc["collections"][0]["status"] == "SUCCESSFUL"
    assert [r["source"] for r in doc["refused"]] == [MANHATTAN]
    compare(env.qc, env.mc, IDS, "json_mixed", ONE)


def test_json_when_the_run_fails(env):
    p = vm(env, "migrate", *env.base, "-c", NULLS, "--target-name", f"{NULLS}=nulls_json",
           "--json")
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    assert doc["status"] == "FAILED" and doc["refused"] == []
    f = doc["failure"]
    assert f["code"] == "data" and f["collection"] == NULLS and "null" in f["message"]
    assert f["point"] is not None and "fix" in f
    assert doc["collections"][0]["status"] == "FAILED"


def test_json_for_a_bad_command_line_and_an_unknown_job(env):
    p = run_vmigrate(env.bin, "migrate", "--json", "-c", IDS)
    assert p.returncode == 2
    assert json.loads(p.stdout)["error"]["code"] == "usage"
    assert "--source" in json.loads(p.stdout)["error"]["message"]
    p = vm(env, "jobs", "show", "jnosuchjob", "--json")
    assert p.returncode == 2
    e = json.loads(p.stdout)["error"]
    assert e["code"] == "not_found" and "jnosuchjob" in e["message"]
    p = run_vmigrate(env.bin, "migrat", "--json")
    assert p.returncode == 2 and "did you mean" in json.loads(p.stdout)["error"]["message"]
    # a server that cannot be reached: the error document, exit 3
    p = run_vmigrate(env.bin, "collections", "--source", "http://127.0.0.1:1", "--timeout", "1",
                     "--json")
    assert p.returncode == 3
    assert json.loads(p.stdout)["error"]["code"] in ("unavailable", "connect")


# ---- verify --job ---------------------------------------------------------------------------------

def test_verify_job_uses_the_jobs_plan(env, tmp_path):
    d = str(tmp_path)
    store, e = os.path.join(d, "vm.db"), {"VMIGRATE_SECRET_KEY_FILE": os.path.join(d, "secret.key")}

    def run(*args):
        return run_vmigrate(env.bin, *args, "--store", store, env=e)

    p = run("migrate", *env.base, "-c", IDS, "--target-name", f"{IDS}=verify_renamed",
            "--rename", f"{IDS}.id=pk", "--json")
    assert p.returncode == 0, p.stderr
    jid = json.loads(p.stdout)["id"]
    desc = env.mc.describe_collection("verify_renamed")
    assert [f["name"] for f in desc["fields"] if f.get("is_primary")] == ["pk"]
    compare(env.qc, env.mc, IDS, "verify_renamed", ONE, pk="pk")
    # without the job, verify cannot know the renames: not SAME
    p = run("verify", *env.base, "-c", IDS)
    assert p.returncode != 0 and "SAME" not in p.stdout
    # with it (a prefix of the id), every point sampled
    p = run("verify", "--job", jid[:6], "--sample", "300")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == (f"{IDS} -> verify_renamed: source 300, target 300, sampled 300: "
                                "SAME")
    # the job's endpoints, whatever VMIGRATE_SOURCE says; -c is the job's business
    q = run_vmigrate(env.bin, "verify", "--job", jid, "--store", store,
                     env=dict(e, VMIGRATE_SOURCE="http://127.0.0.1:1"))
    assert q.returncode == 0 and q.stdout.endswith("SAME\n"), q.stderr
    q = run("verify", "--job", jid, "-c", IDS)
    assert q.returncode == 2 and "leave out -c" in q.stderr
    v = json.loads(run("verify", "--job", jid, "--json").stdout)
    assert v[0]["verdict"] == "same" and v[0]["target"] == "verify_renamed"
    assert v[0]["source_count"] == v[0]["target_count"] == 300 and v[0]["sampled"] == 100
    # the API answers the same, from the job's stored plan and secrets
    srv = Serve(env.bin, d)
    try:
        r = requests.post(f"{srv.url}/api/v1/jobs/{jid}/verify", json={"sample": 300}, timeout=300)
        assert r.status_code == 200, r.text
        c = r.json()["collections"]
        assert c == [{"source": IDS, "target": "verify_renamed", "verdict": "same",
                      "source_count": 300, "target_count": 300, "sampled": 300, "missing": 0,
                      "vector_diffs": 0, "payload_diffs": 0, "error": None}]
        # one changed vector in Milvus: both faces find it
        row = env.mc.query("verify_renamed", filter="", output_fields=["*"], limit=1)[0]
        row["vector"] = [x + 1.0 for x in row["vector"]]
        env.mc.upsert("verify_renamed", [row])
        p = run("verify", "--job", jid, "--sample", "300")
        assert p.returncode == 5 and "DIFFERENT" in p.stdout, p.stdout + p.stderr
        one_prefix_per_line(p.stderr)
        r = requests.post(f"{srv.url}/api/v1/jobs/{jid}/verify", json={"sample": 300}, timeout=300)
        assert r.status_code == 200, r.text
        c = r.json()["collections"][0]
        assert c["verdict"] == "different" and c["vector_diffs"] == 1 and c["sampled"] == 300
        r = requests.post(f"{srv.url}/api/v1/jobs/jnosuch/verify", json={}, timeout=60)
        assert r.status_code == 404
        # the target collection dropped: different, saying why
        env.mc.drop_collection("verify_renamed")
        r = requests.post(f"{srv.url}/api/v1/jobs/{jid}/verify", json={}, timeout=300)
        assert r.status_code == 200, r.text
        c = r.json()["collections"][0]
        assert c["verdict"] == "different" and "verify_renamed" in c["error"], c
        p = run("verify", "--job", jid)
        assert p.returncode != 0 and "verify_renamed" in p.stderr, p.stderr
        one_prefix_per_line(p.stderr)
    finally:
        srv.stop()


def test_verify_job_knows_the_skipped_vector(env, qdrant_client):
    """Four vectors, d left out (on Milvus 2.3, which holds one vector field, b, c and d)."""
    four = datagen.generate(qdrant_client, "four_vectors")
    skipped = ["b", "c", "d"] if env.m.target == "milvus23" else ["d"]
    skips = [a for v in skipped for a in ("--skip-vector", f"{four}.{v}")]
    p = vm(env, "migrate", *env.base, "-c", four, "--target-name", f"{four}=verify_skipped",
           *skips, "--json")
    assert p.returncode == 0, p.stderr
    jid = json.loads(p.stdout)["id"]
    fields = {f["name"] for f in env.mc.describe_collection("verify_skipped")["fields"]}
    kept = {"a", "b", "c", "d"} - set(skipped)
    assert kept <= fields and not set(skipped) & fields, fields
    compare(env.qc, env.mc, four, "verify_skipped", {v: (v, "dense") for v in kept})
    # the edits not repeated: verify -c does not know them
    p = vm(env, "verify", *env.base, "-c", four, "--target-name", f"{four}=verify_skipped")
    assert p.returncode != 0 and "SAME" not in p.stdout
    p = vm(env, "verify", "--job", jid, "--sample", "100")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().endswith("sampled 100: SAME")
