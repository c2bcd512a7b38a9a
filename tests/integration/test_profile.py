"""`vmigrate plan --profile` (issue 13, the payload profile) against the Qdrant test server and a
Milvus target: the per-key facts of the shapes payload_rich and payload_nulls, computed here in
Python from datagen.make_points (types, presence, nulls, string bytes, int range, array
lengths, nesting), must equal what vmigrate measured with --full, over REST and gRPC; --sample
N reads N points; the CLI prints the table; the HTTP API's plan carries the profile; a plan file
with a profile runs through `migrate --plan FILE`; migrate profiles the same way.
"""

import json
import os
import types

import pytest

from tests.datagen import datagen
from tests.integration.checks import compare, fresh_source, run_vmigrate
from tests.integration.test_http_api import Serve, call

pytestmark = pytest.mark.targets("lite")  # payload facts do not depend on the Milvus version


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


def depth(v):
    if isinstance(v, list):
        return 1 + max((depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((depth(x) for x in v.values()), default=0)
    return 0


ORDER = ["null", "bool", "int", "float", "string", "array", "object"]


def expected(shape):
    """The facts vmigrate's profile must report, key by key, from the generator's points."""
    keys = {}
    for p in datagen.make_points(shape):
        for k, v in p["payload"].items():
            e = keys.setdefault(k, {"types": set(), "present": 0, "nulls": 0, "str_max": 0,
                                    "ints": [], "int_big": 0, "elem_types": set(),
                                    "arr_max": 0, "depth": 0, "values": set()})
            e["present"] += 1
            e["types"].add(jtype(v))
            e["nulls"] += v is None
            e["depth"] = max(e["depth"], depth(v))
            if v is not None and not isinstance(v, (list, dict)):
                e["values"].add((type(v).__name__, repr(v)))  # distinct scalar values
            items = [v]
            if isinstance(v, list):
                e["arr_max"] = max(e["arr_max"], len(v))
                e["elem_types"].update(jtype(x) for x in v)
                items = v
            for x in items:
                if isinstance(x, str):
                    e["str_max"] = max(e["str_max"], len(x.encode()))
                elif isinstance(x, int) and not isinstance(x, bool):
                    if -2**63 <= x < 2**63:
                        e["ints"].append(x)
                    else:
                        e["int_big"] += 1
    out = {}
    for k, e in keys.items():
        f = {"types": [t for t in ORDER if t in e["types"]], "present": e["present"],
             "nulls": e["nulls"], "str_max": e["str_max"], "int_big": e["int_big"],
             "elem_types": [t for t in ORDER if t in e["elem_types"]], "arr_max": e["arr_max"],
             "depth": e["depth"], "distinct": min(len(e["values"]), 32),
             "distinct_over": len(e["values"]) > 32}
        if e["ints"]:
            f["int_min"], f["int_max"] = min(e["ints"]), max(e["ints"])
        out[k] = f
    return out


def facts(profile):
    """vmigrate's key facts without the byte counts (which depend on the server's JSON)."""
    return {k: {f: v for f, v in e.items() if f != "bytes"} for k, e in profile["keys"].items()}


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin):
    return types.SimpleNamespace(q=qdrant, m=milvus, qc=qdrant_client, mc=milvus_client,
                                 bin=vmigrate_bin, base=["--source", qdrant.url, "--target",
                                                         milvus.url])


def plan_json(env, coll, *args, source=None):
    base = ["--source", source, "--target", env.m.url] if source else env.base
    p = run_vmigrate(env.bin, "plan", *base, "-c", coll, "--json", *args, check=True)
    return json.loads(p.stdout)


@pytest.mark.parametrize("face", ["rest", "grpc"])
@pytest.mark.parametrize("shape", ["payload_rich", "payload_nulls"])
def test_full_profile_equals_the_generated_payloads(env, shape, face):
    coll = fresh_source(env.qc, env.mc, shape)
    want = expected(shape)
    url = env.q.grpc_url if face == "grpc" else env.q.url
    prof = plan_json(env, coll, "--profile", "--full", source=url)["collections"][0]["profile"]
    assert prof["sample"] == "full" and prof["full"] is True
    assert prof["points"] == prof["total"] == len(datagen.make_points(shape))
    assert prof["malformed"] == 0 and prof["other_keys"] == 0
    assert facts(prof) == want
    est = prof["estimate"]
    assert est["vector_bytes"] == prof["total"] * 8 * 4  # 8-d float32
    assert est["meta_bytes"] == prof["payload_bytes"] and est["scalar_bytes"] == 0  # no indexes
    assert est["read_pps"] > 0 and est["copy_s"] > 0


def test_sample_reads_n_points(env):
    coll = fresh_source(env.qc, env.mc, "payload_rich")
    prof = plan_json(env, coll, "--sample", "50")["collections"][0]["profile"]
    assert prof["sample"] == "first 50" and prof["full"] is False
    assert prof["points"] == 50 and prof["total"] == 100
    assert prof["keys"]["i"]["int_min"] == 1 and prof["keys"]["i"]["int_max"] == 50
    # the estimate scales the sample's payload bytes to the whole collection
    assert prof["estimate"]["meta_bytes"] == prof["payload_bytes"] * 2
    default = plan_json(env, coll, "--profile")["collections"][0]["profile"]
    assert default["points"] == 100 and default["full"] is True  # 10000 > 100: all read


def test_sample_zero_and_both_are_refused(env):
    p = run_vmigrate(env.bin, "plan", *env.base, "--all", "--sample", "0")
    assert p.returncode != 0 and "--sample" in p.stderr and "--full" in p.stderr
    p = run_vmigrate(env.bin, "plan", *env.base, "--all", "--sample", "5", "--full")
    assert p.returncode != 0 and "not both" in p.stderr


def test_cli_prints_the_table(env):
    coll = fresh_source(env.qc, env.mc, "payload_nulls")
    p = run_vmigrate(env.bin, "plan", *env.base, "-c", coll, "--profile", check=True)
    out = p.stdout
    assert "payload profile (full): 100 of 100 points" in out
    assert "present" in out and "str_max" in out and "estimate: read" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("always_null "))
    assert "null" in line and "100.0%" in line and " 100 " in line
    plain = run_vmigrate(env.bin, "plan", *env.base, "-c", coll, check=True).stdout
    assert "payload profile" not in plain


def test_api_plan_carries_the_profile(env, tmp_path):
    coll = fresh_source(env.qc, env.mc, "payload_rich")
    srv = Serve(env.bin, str(tmp_path))
    try:
        body = {"source": {"url": env.q.url}, "target": {"url": env.m.url},
                "collections": [coll], "profile": {"sample": 30}}
        r = call(srv.url, "POST", "/api/v1/plan", json=body)
        assert r.status_code == 200, r.text
        prof = r.json()["collections"][0]["profile"]
        assert prof["points"] == 30 and prof["sample"] == "first 30"
        body["profile"] = {"full": True}
        r = call(srv.url, "POST", "/api/v1/plan", json=body)
        assert r.status_code == 200, r.text
        assert facts(r.json()["collections"][0]["profile"]) == expected("payload_rich")
        body["profile"] = {"sample": 0}
        r = call(srv.url, "POST", "/api/v1/plan", json=body)
        assert r.status_code == 400 and "profile.sample" in r.text
        del body["profile"]
        r = call(srv.url, "POST", "/api/v1/plan", json=body)
        assert r.status_code == 200 and "profile" not in r.json()["collections"][0]
    finally:
        srv.stop()


def test_plan_file_with_a_profile_round_trips(env, tmp_path):
    coll = fresh_source(env.qc, env.mc, "payload_rich")
    plan = plan_json(env, coll, "--profile", "--full")
    path = os.path.join(str(tmp_path), "plan.json")
    with open(path, "w") as f:
        json.dump(plan, f)
    migrated = run_vmigrate(env.bin, "migrate", *env.base, "--plan", path, "--quiet")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    c = plan["collections"][0]
    compare(env.qc, env.mc, coll, c["target"], {"": (c["vectors"][0]["field"], "dense")})
    bad = dict(plan)
    bad["collections"] = [dict(plan["collections"][0])]
    bad["collections"][0]["profile"] = dict(plan["collections"][0]["profile"], extra=1)
    with open(path, "w") as f:
        json.dump(bad, f)
    p = run_vmigrate(env.bin, "migrate", *env.base, "--plan", path)
    assert p.returncode != 0 and "collections[0].profile.extra: unknown key" in p.stderr


def test_migrate_profiles_the_same_way(env):
    coll = fresh_source(env.qc, env.mc, "payload_rich")
    p = run_vmigrate(env.bin, "migrate", *env.base, "-c", coll, "--profile-sample", "20",
                     "--quiet", "--json")
    assert p.returncode == 0, p.stderr[-3000:]
    plan = json.loads(run_vmigrate(env.bin, "plan", *env.base, "-c", coll, "--json").stdout)
    c = plan["collections"][0]
    compare(env.qc, env.mc, coll, c["target"], {"": (c["vectors"][0]["field"], "dense")})
    p = run_vmigrate(env.bin, "migrate", *env.base, "-c", coll, "--profile-sample", "0")
    assert p.returncode != 0 and "--profile-sample" in p.stderr and "--full" in p.stderr
