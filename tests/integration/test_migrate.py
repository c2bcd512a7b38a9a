"""End-to-end migrations with the real servers: every generated shape is migrated by the vmigrate
binary, then checked through pymilvus against what qdrant-client reads from the source (exact
ids, bit-exact float32 vectors, equal sparse vectors and payloads). Refused shapes must give a
clear error and create nothing in Milvus.

Runs on both targets (tests/conftest.py): the real Milvus 2.3.5 server, which holds one vector
field per collection and no sparse vectors, and Milvus Lite for those shapes. On 2.3 the
multi-vector shapes are planned with --skip-vector (the way out its refusal names), so plan
files, renames and HNSW run on the real server too.
"""

import json
import os

import pytest

from tests.datagen import datagen
from tests.harness.milvus_proxy import MilvusLedgerProxy
from tests.integration.checks import compare, run_vmigrate


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin):
    shapes = ["single_cosine_768", "named_mixed", "four_vectors", "five_vectors", "manhattan",
              "sparse_only",
              "float16", "uint8", "multivector", "ids_int", "ids_uuid", "ids_mixed", "ids_big",
              "payload_rich", "payload_nulls", "payload_big", "empty"]
    for s in shapes:
        datagen.generate(qdrant_client, s)
    datagen.generate(qdrant_client, "paging_100k", n=20000)

    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.base = ["--source", qdrant.url, "--target", milvus.url]
    e.real = milvus.target == "milvus23"  # the real Milvus 2.3.5: one vector field, no sparse
    return e


def migrate(env, *args, check=True):
    return run_vmigrate(env.bin, "migrate", *env.base, *args, check=check)


def names(shape):
    return datagen.collection_name(shape)


LITE = pytest.mark.targets("lite")  # shapes Milvus 2.3 cannot hold (several vectors, sparse)

SIMPLE = {
    # shape: vector fields {qdrant name: (milvus field, kind)}, pk varchar?
    "single_cosine_768": ({"": ("vector", "dense")}, False),
    "named_mixed": ({"dense64": ("dense64", "dense"), "dense32": ("dense32", "dense"),
                     "sparse": ("sparse", "sparse")}, False),
    "four_vectors": ({k: (k, "dense") for k in "abcd"}, False),
    "sparse_only": ({"text": ("text", "sparse")}, False),
    "float16": ({"": ("vector", "dense")}, False),
    "uint8": ({"": ("vector", "dense")}, False),
    "ids_int": ({"": ("vector", "dense")}, False),
    "ids_uuid": ({"": ("vector", "dense")}, True),
    "ids_mixed": ({"": ("vector", "dense")}, True),
    "ids_big": ({"": ("vector", "dense")}, True),
    "payload_rich": ({"": ("vector", "dense")}, False),
    "empty": ({"": ("vector", "dense")}, False),
}


@pytest.mark.parametrize("shape", [
    pytest.param(s, marks=LITE) if s in ("named_mixed", "four_vectors", "sparse_only") else s
    for s in SIMPLE])
def test_shape_migrates_exactly(env, shape):
    fields, varchar = SIMPLE[shape]
    p = migrate(env, "-c", names(shape), "--json")
    summary = json.loads(p.stdout)
    assert summary["collections"][0]["status"] == "SUCCESSFUL", p.stderr
    n = compare(env.qc, env.mc, names(shape), names(shape), fields, pk_varchar=varchar)
    assert env.mc.get_collection_stats(names(shape))["row_count"] == n
    desc = env.mc.describe_collection(names(shape))
    pk = [f for f in desc["fields"] if f.get("is_primary")][0]
    assert pk["name"] == "id" and not desc.get("auto_id")
    assert desc["enable_dynamic_field"]
    # searchable at once: indexed and loaded
    assert str(env.mc.get_load_state(names(shape))["state"]).endswith("Loaded")


def test_paging_parallel_readers(env):
    """20k points read by 4 parallel slices: every id exactly once (the ledger proxy counts
    rows as real Milvus would, where Milvus Lite would hide a point written twice)."""
    with MilvusLedgerProxy(f"127.0.0.1:{env.m.port}") as px:
        run_vmigrate(env.bin, "migrate", "--source", env.q.url, "--target", px.url,
                     "-c", names("paging_100k"), "--readers", "4", "--page-size", "700",
                     check=True)
        assert px.duplicates(names("paging_100k")) == {}
        assert len(px.keys(names("paging_100k"))) == 20000
    n = compare(env.qc, env.mc, names("paging_100k"), names("paging_100k"),
                {"": ("vector", "dense")})
    assert n == 20000


@pytest.mark.parametrize("shape,needle", [
    ("five_vectors", "at most 4"),
    ("manhattan", "Manhattan"),
    ("multivector", "multivector"),
])
def test_refused_shapes_create_nothing(env, shape, needle):
    if env.real and shape == "five_vectors":
        needle = "holds one vector field per collection"
    p = migrate(env, "-c", names(shape), check=False)
    assert p.returncode == 4, p.stderr
    assert needle in p.stderr and names(shape) in p.stderr
    assert not env.mc.has_collection(names(shape))


def test_nulls_fail_by_default_then_drop_and_keep(env):
    p = migrate(env, "-c", names("payload_nulls"), check=False)
    assert p.returncode != 0
    assert "null" in p.stderr and "--null-values" in p.stderr and "point" in p.stderr
    # nothing half-written is left without saying so: the error names the collection
    assert names("payload_nulls") in p.stderr
    if env.mc.has_collection(names("payload_nulls")):
        env.mc.drop_collection(names("payload_nulls"))
    migrate(env, "-c", names("payload_nulls"), "--null-values", "drop")
    compare(env.qc, env.mc, names("payload_nulls"), names("payload_nulls"),
            {"": ("vector", "dense")}, drop_nulls=True)
    migrate(env, "-c", names("payload_nulls"), "--null-values", "keep",
            "--target-name", f"{names('payload_nulls')}=nulls_kept")
    compare(env.qc, env.mc, names("payload_nulls"), "nulls_kept", {"": ("vector", "dense")})


def test_oversize_payload_rejects_file(env, tmp_path):
    p = migrate(env, "-c", names("payload_big"), check=False)
    assert p.returncode != 0 and "65536" in p.stderr
    if env.mc.has_collection(names("payload_big")):
        env.mc.drop_collection(names("payload_big"))
    rej = tmp_path / "rejects.jsonl"
    migrate(env, "-c", names("payload_big"), "--rejects", str(rej))
    lines = [json.loads(x) for x in rej.read_text().splitlines()]
    assert len(lines) == 1 and "65536" in lines[0]["reason"]
    big_id = lines[0]["id"]
    compare(env.qc, env.mc, names("payload_big"), names("payload_big"),
            {"": ("vector", "dense")}, expect_missing={big_id})


def test_target_exists_is_refused(env):
    p = migrate(env, "-c", names("ids_int"), check=False)  # migrated above
    assert p.returncode == 4 and "already exists" in p.stderr


def mixed_args(env, coll, keep):
    """On Milvus 2.3, --skip-vector for every vector of named_mixed but keep."""
    if not env.real:
        return []
    return [a for v in ("dense64", "dense32", "sparse") if v != keep
            for a in ("--skip-vector", f"{coll}.{v}")]


def mixed_fields(env, fields, keep):
    return {k: v for k, v in fields.items() if not env.real or k == keep}


def test_target_capabilities_are_known_before_anything_is_created(env):
    """`plan` against Milvus 2.3.5 refuses three vectors and a sparse vector, naming the
    server version, the feature's first version and the way out, exit 4, nothing created;
    Milvus Lite plans the same collections fine."""
    for shape in ("named_mixed", "sparse_only", "four_vectors"):
        for cmd in ("plan", "migrate"):
            p = run_vmigrate(env.bin, cmd, *env.base, "-c", names(shape),
                             "--target-name", f"{names(shape)}=caps_{shape}")
            if not env.real:
                if cmd == "plan":
                    assert p.returncode == 0, p.stderr
                continue
            out = p.stdout + p.stderr
            assert p.returncode == 4, out
            assert "Milvus 2.3.5" in out and "2.4.0 or newer" in out, out
            if shape == "sparse_only":
                assert "has no sparse vectors" in out, out
            else:
                assert "holds one vector field per collection" in out, out
                # the way out: the plan names what to leave out, the CLI its flag
                assert "keep one (leave out " in out, out
                assert f"--skip-vector '{names(shape)}." in out, out
            assert not env.mc.has_collection(f"caps_{shape}")
    p = run_vmigrate(env.bin, "plan", *env.base, "-c", names("ids_int"), "--json",
                     "--target-name", f"{names('ids_int')}=caps_probe", check=True)
    server = json.loads(p.stdout)["target_server"]
    assert server["known"] and server["product"] == ("Milvus" if env.real else "Milvus Lite")
    if env.real:
        assert server["release"] == "2.3.5"
        # the way out the refusal names works: keep one dense vector
        p = run_vmigrate(env.bin, "plan", *env.base, "-c", names("named_mixed"),
                         *mixed_args(env, names("named_mixed"), "dense64"))
        assert p.returncode == 0, p.stdout + p.stderr


def test_plan_json_edit_and_run(env, tmp_path):
    p = run_vmigrate(env.bin, "plan", *env.base, "-c", names("named_mixed"), "--json",
                     "--target-name", f"{names('named_mixed')}=edited_named",
                     *mixed_args(env, names("named_mixed"), "dense64"), check=True)
    plan = json.loads(p.stdout)
    coll = plan["collections"][0]
    assert coll["target"] == "edited_named"
    coll["description"] = "edited by a test"
    for v in coll["vectors"]:
        if v["source"] == "dense64":
            v["field"] = "image_embedding"
    f = tmp_path / "plan.json"
    f.write_text(json.dumps(plan))
    migrate(env, "--plan", str(f))
    # Milvus Lite does not keep collection descriptions (pymilvus's own schema description
    # reads back as ''): the encoding is covered by the codec unit test instead.
    compare(env.qc, env.mc, names("named_mixed"), "edited_named", mixed_fields(env,
            {"dense64": ("image_embedding", "dense"), "dense32": ("dense32", "dense"),
             "sparse": ("sparse", "sparse")}, "dense64"))
    # a type change is refused
    for v in coll["vectors"]:
        if v["source"] == "dense64":
            v["dim"] = 33
    coll["target"] = "edited_named_2"
    f.write_text(json.dumps(plan))
    p = migrate(env, "--plan", str(f), check=False)
    assert p.returncode != 0 and "cannot change" in p.stderr
    assert not env.mc.has_collection("edited_named_2")


def test_verify_detects_a_changed_vector(env):
    coll = names("ids_int")
    p = run_vmigrate(env.bin, "verify", *env.base, "-c", coll, "--sample", "1000", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)[0]["sampled"] == 300
    row = env.mc.query(coll, filter="", output_fields=["*"], limit=1)[0]
    row["vector"] = [x + 1.0 for x in row["vector"]]
    env.mc.upsert(coll, [row])
    p = run_vmigrate(env.bin, "verify", *env.base, "-c", coll, "--sample", "1000")
    assert p.returncode == 5 and "differs" in p.stderr


def test_clear_errors_for_common_mistakes(env):
    # the Milvus port given as the Qdrant REST endpoint (Lite: gRPC only; a real Milvus
    # proxy answers HTTP/1.1 REST on the same port, with 404 for GET /)
    p = run_vmigrate(env.bin, "collections", "--source", env.m.url)
    assert p.returncode == 3 and "gRPC" in p.stderr and "6333" in p.stderr, p.stderr
    # nothing listens
    p = run_vmigrate(env.bin, "collections", "--source", "http://127.0.0.1:9")
    assert p.returncode == 3
    p = run_vmigrate(env.bin, "plan", "--source", env.q.url, "--target", env.q.url,
                     "-c", names("ids_int"))
    assert p.returncode == 3


def test_collections_lists_vector_config(env):
    p = run_vmigrate(env.bin, "collections", "--source", env.q.url, "--json", check=True)
    colls = {c["name"]: c for c in json.loads(p.stdout)}
    assert names("named_mixed") in colls and names("empty") in colls


def test_hnsw_index_and_renames(env):
    src = names("named_mixed")
    migrate(env, "-c", src, "--index", "hnsw", "--target-name", f"{src}=hnsw_named",
            "--rename", f"{src}.dense32=small_vec", "--rename", f"{src}.id=pk",
            *mixed_args(env, src, "dense32"))
    idx = env.mc.describe_index("hnsw_named", "small_vec")
    assert idx["index_type"] == "HNSW" and idx["metric_type"] == "L2", idx
    assert int(idx.get("M", idx.get("params", {}).get("M", 0))) == 16, idx
    if not env.real:
        sp = env.mc.describe_index("hnsw_named", "sparse")
        assert sp["index_type"] == "SPARSE_INVERTED_INDEX" and sp["metric_type"] == "IP", sp
    compare(env.qc, env.mc, src, "hnsw_named", mixed_fields(env,
            {"dense64": ("dense64", "dense"), "dense32": ("small_vec", "dense"),
             "sparse": ("sparse", "sparse")}, "dense32"), pk="pk")


def test_verify_compares_payloads_as_json_values(env):
    """Issue 9 item 6: a string holding U+0000, an integer above 2^63-1 and decimals with more
    digits than a double holds land exactly (pymilvus reads back the source payload) and verify
    passes; a change in one of them is still found."""
    from qdrant_client import models
    coll = "verify_json_values"
    if env.qc.collection_exists(coll):  # the Qdrant server is shared by both targets
        env.qc.delete_collection(coll)
    env.qc.create_collection(coll, vectors_config=models.VectorParams(
        size=4, distance=models.Distance.COSINE))
    payloads = [
        {"s": "a\u0000b", "big": 2**63 + 5, "u": "caf\u00e9 \U0001F600", "d": 0.1},
        {"s": "\u0000", "big": 2**64 - 1, "nested": {"z": [1, "x\u0000"], "a": -0.0}},
        {"s": "plain", "big": -(2**63), "d": 1e-7, "e": 12345.678901234567},
    ]
    env.qc.upsert(coll, points=[models.PointStruct(id=i + 1, vector=[0.1 * (i + 1), 0.2, 0.3, 0.4],
                                                   payload=p) for i, p in enumerate(payloads)])
    src = {p.id: p.payload for p in env.qc.scroll(coll, limit=10, with_payload=True)[0]}
    assert src[2]["big"] == 2**64 - 1 and src[1]["s"] == "a\u0000b"  # the source holds them
    p = migrate(env, "-c", coll, "--sample", "100", check=False)
    assert p.returncode == 0, p.stderr
    rows = env.mc.query(coll, filter="", output_fields=["*"], limit=10)
    got = {r["id"]: {k: v for k, v in r.items() if k not in ("id", "vector")} for r in rows}
    assert got == src
    p = run_vmigrate(env.bin, "verify", *env.base, "-c", coll, "--sample", "100")
    assert p.returncode == 0, p.stderr
    row = next(r for r in rows if r["id"] == 3)
    row["s"] = "plain\u0000"
    env.mc.upsert(coll, [row])
    p = run_vmigrate(env.bin, "verify", *env.base, "-c", coll, "--sample", "100")
    assert p.returncode == 5 and "point 3: payload differs" in p.stderr, p.stderr
