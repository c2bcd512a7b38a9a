"""Reading Qdrant over gRPC (grpc://host:6334): every shape the REST connector migrates migrates
over gRPC with the same result, read back through pymilvus and compared with what qdrant-client
reads from the source (exact ids, bit-exact float32 vectors, equal sparse vectors and payloads),
from a server sending the 1.17+ vector format (oneof) and from one sending the pre-1.17 format
(deprecated data / indices / vectors_count; version 1.16, so no slice filter: id ranges from
sampled ids). Then: REST and gRPC targets hold identical rows; a point without a vector fails the
same way on both connectors (an empty dense placeholder is "absent"); kill -9 at progress points
and resume is exact over gRPC; a REST port given as gRPC and the reverse get clear errors;
--source-protocol; API key and TLS; strict mode paced, not failed.

Runs on both targets: the real Milvus 2.3.5 server for the shapes it holds, Milvus Lite for the
rest.
"""

import json
import os
import random

import pytest

from tests.datagen import datagen
from tests.harness import QdrantTestServer
from tests.harness.gates import HoldingLedgerProxy
from tests.harness.servers import qdrant_client_for
from tests.integration.checks import compare, run_vmigrate, target_rows
from tests.integration import test_jobs as tj

LITE = pytest.mark.targets("lite")

SHAPES = {
    # shape: vector fields {qdrant name: (milvus field, kind)}, pk varchar?, Lite only?
    "single_cosine_768": ({"": ("vector", "dense")}, False, False),
    "named_mixed": ({"dense64": ("dense64", "dense"), "dense32": ("dense32", "dense"),
                     "sparse": ("sparse", "sparse")}, False, True),
    "four_vectors": ({k: (k, "dense") for k in "abcd"}, False, True),
    "sparse_only": ({"text": ("text", "sparse")}, False, True),
    "float16": ({"": ("vector", "dense")}, False, False),
    "uint8": ({"": ("vector", "dense")}, False, False),
    "ids_int": ({"": ("vector", "dense")}, False, False),
    "ids_uuid": ({"": ("vector", "dense")}, True, False),
    "ids_mixed": ({"": ("vector", "dense")}, True, False),
    "ids_big": ({"": ("vector", "dense")}, True, False),
    "payload_rich": ({"": ("vector", "dense")}, False, False),
    "empty": ({"": ("vector", "dense")}, False, False),
}


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    """The module's Qdrant (1.19, new vector format) plus a 1.16 server (old format, no
    slices) holding the same shapes."""
    old = QdrantTestServer(version="1.16.0", grpc_vectors="old")
    old.start()
    oc = qdrant_client_for(old)
    for s in list(SHAPES) + ["paging_100k", "multivector", "manhattan"]:
        n = 20000 if s == "paging_100k" else None
        datagen.generate(qdrant_client, s, n=n)
        datagen.generate(oc, s, n=n)

    class Env:
        pass
    e = Env()
    e.q, e.m, e.qc, e.mc, e.bin = qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin
    e.old, e.oc = old, oc
    e.real = milvus.target == "milvus23"
    e.dir = str(tmp_path_factory.mktemp("grpc"))
    e.store = os.path.join(e.dir, "vmigrate.db")
    e.env = {"VMIGRATE_SECRET_KEY_FILE": os.path.join(e.dir, "secret.key"),
             "ASAN_OPTIONS": "detect_leaks=0"}
    yield e
    oc.close()
    old.stop()


def migrate(env, source, *args, check=False):
    return run_vmigrate(env.bin, "migrate", "--source", source, "--target", env.m.url, *args,
                        check=check)


def name(shape):
    return datagen.collection_name(shape)


def drop(env, coll):
    if env.mc.has_collection(coll):
        env.mc.drop_collection(coll)


@pytest.mark.parametrize("fmt", ["new", "old"])
@pytest.mark.parametrize("shape", [pytest.param(s, marks=LITE) if SHAPES[s][2] else s
                                   for s in SHAPES])
def test_shape_migrates_exactly_over_grpc(env, shape, fmt):
    fields, varchar, _ = SHAPES[shape]
    q, qc = (env.q, env.qc) if fmt == "new" else (env.old, env.oc)
    coll, target = name(shape), f"g{fmt}_{name(shape)}"
    drop(env, target)
    p = migrate(env, q.grpc_url, "-c", coll, "--target-name", f"{coll}={target}", "--json",
                "--page-size", "64")
    assert p.returncode == 0, p.stderr[-3000:]
    summary = json.loads(p.stdout)
    assert summary["collections"][0]["status"] == "SUCCESSFUL", p.stderr[-3000:]
    n = compare(qc, env.mc, coll, target, fields, pk_varchar=varchar)
    assert env.mc.get_collection_stats(target)["row_count"] == n
    drop(env, target)


# the Lite-only shapes that fit Milvus 2.3.5's one vector field with --skip-vector
SKIP_ON_23 = {"named_mixed": ["dense32", "sparse"], "four_vectors": ["b", "c", "d"]}


@pytest.mark.targets("milvus23")
@pytest.mark.parametrize("fmt", ["new", "old"])
@pytest.mark.parametrize("shape", sorted(SKIP_ON_23))
def test_shape_with_skipped_vectors_migrates_exactly_over_grpc_on_milvus23(env, shape, fmt):
    """named_mixed without dense32 and sparse, four_vectors without b, c and d: one vector
    field each, so Milvus 2.3.5 holds them; the kept vector and the payloads land exactly and
    the skipped vectors are no fields."""
    fields, varchar, _ = SHAPES[shape]
    skipped = SKIP_ON_23[shape]
    kept = {k: v for k, v in fields.items() if k not in skipped}
    assert len(kept) == 1
    q, qc = (env.q, env.qc) if fmt == "new" else (env.old, env.oc)
    coll, target = name(shape), f"g{fmt}_skip_{name(shape)}"
    drop(env, target)
    skips = [a for v in skipped for a in ("--skip-vector", f"{coll}.{v}")]
    p = migrate(env, q.grpc_url, "-c", coll, "--target-name", f"{coll}={target}", *skips,
                "--json", "--page-size", "64")
    assert p.returncode == 0, p.stderr[-3000:]
    summary = json.loads(p.stdout)
    assert summary["collections"][0]["status"] == "SUCCESSFUL", p.stderr[-3000:]
    got = {f["name"] for f in env.mc.describe_collection(target)["fields"]}
    assert not set(skipped) & got and {f for f, _ in kept.values()} <= got, got
    n = compare(qc, env.mc, coll, target, kept, pk_varchar=varchar)
    assert n == qc.count(coll, exact=True).count
    assert env.mc.get_collection_stats(target)["row_count"] == n
    drop(env, target)


@pytest.mark.parametrize("shape", ["manhattan", "multivector"])
def test_a_refused_shape_is_refused_alike(env, shape):
    """What cannot be migrated is refused in the same words over both protocols, and nothing
    is created."""
    coll = name(shape)
    drop(env, coll)
    errs = []
    for url in (env.q.url, env.q.grpc_url, env.old.grpc_url):
        p = migrate(env, url, "-c", coll)
        assert p.returncode == 4, p.stderr[-2000:]
        errs.append([ln for ln in p.stderr.splitlines() if ln.startswith("vmigrate:")])
    assert errs[0] and errs[0] == errs[1] == errs[2], errs
    assert not env.mc.has_collection(coll)


def test_rest_and_grpc_targets_hold_identical_rows(env):
    """The same collection through both connectors: pymilvus reads the same rows."""
    coll = name("payload_rich")
    rest_t, grpc_t = "rest_same", "grpc_same"
    for t in (rest_t, grpc_t):
        drop(env, t)
    for url, t in ((env.q.url, rest_t), (env.q.grpc_url, grpc_t)):
        p = migrate(env, url, "-c", coll, "--target-name", f"{coll}={t}")
        assert p.returncode == 0, p.stderr[-3000:]
    a = {r["id"]: r for r in target_rows(env.mc, rest_t)}
    b = {r["id"]: r for r in target_rows(env.mc, grpc_t)}
    assert len(a) == len(b) == env.qc.count(coll, exact=True).count
    for t in (rest_t, grpc_t):  # each also holds exactly the source
        assert compare(env.qc, env.mc, coll, t, tj.ONE) == len(a)
    for k in a:
        ra, rb = dict(a[k]), dict(b[k])
        va, vb = ra.pop("vector"), rb.pop("vector")
        assert list(map(float, va)) == list(map(float, vb)), f"point {k}: vectors differ"
        assert ra == rb, f"point {k}: rows differ\nREST {ra}\ngRPC {rb}"


def test_a_point_without_a_vector_fails_alike_and_a_placeholder_is_absent(env, tmp_path):
    """A hybrid collection where one point lacks the named dense vector 'e': migrating 'e' (one
    vector field, so on Milvus 2.3.5 too), the REST connector and the gRPC one (whose server
    sends an empty dense placeholder for it) fail with the same words naming the point and the
    vector - "missing", not "0 values"; migrating 'd' lands every point, placeholders and all."""
    from qdrant_client import models
    srv = QdrantTestServer(grpc_empty_dense=True)
    srv.start()
    try:
        qc = qdrant_client_for(srv)
        qc.create_collection("hybrid", vectors_config={
            "d": models.VectorParams(size=4, distance=models.Distance.DOT),
            "e": models.VectorParams(size=4, distance=models.Distance.DOT)})
        qc.upsert("hybrid", [models.PointStruct(id=i, vector={"d": [1, 2, 3, i]} if i == 7 else
                                                {"d": [1, 2, 3, i], "e": [4, 3, 2, i]},
                                                payload={"i": i}) for i in range(10)])
        errs = []
        for url in (srv.url, srv.grpc_url):
            drop(env, "hybrid")
            p = migrate(env, url, "-c", "hybrid", "--skip-vector", "hybrid.d")
            assert p.returncode != 0, p.stderr[-2000:]
            line = [ln for ln in p.stderr.splitlines() if "point 7" in ln]
            assert line, p.stderr[-2000:]
            errs.append(line[0])
        assert "vector 'e' is missing" in errs[0], errs
        assert errs[0] == errs[1], errs
        # leaving the vector out migrates every point over gRPC, placeholders and all
        drop(env, "hybrid")
        p = migrate(env, srv.grpc_url, "-c", "hybrid", "--skip-vector", "hybrid.e")
        assert p.returncode == 0, p.stderr[-2000:]
        assert compare(qc, env.mc, "hybrid", "hybrid", {"d": ("d", "dense")}) == 10
        qc.close()
    finally:
        drop(env, "hybrid")
        srv.stop()


def test_kill9_at_progress_points_then_resume_is_exact_over_grpc(env):
    """kill -9 while the runner is inside a write Milvus never saw, or one Milvus did but the
    runner never heard of, at three progress points; the resume over gRPC is exact. Each run
    is held at its m-th write (m = 6, 8, 10 writes of PAGE points; the proxy counts the calls),
    so it has written m - 1 pages of its own and cannot finish first (40 pages, at most 24 by
    the three runs), however fast the machine."""
    n = 20000
    coll = name("paging_100k")
    target = "grpc_kill9"
    drop(env, target)
    rpcs = ["Insert", "Upsert"]
    steps = [(6, "write unsent"), (8, "write unacked"), (10, "write unsent")]
    assert sum(m for m, _ in steps) * tj.PAGE < n  # no run can finish before its hold

    class Src:
        url = env.q.grpc_url
    with HoldingLedgerProxy(f"127.0.0.1:{env.m.port}") as px:
        jid = tj.create_job(env, [coll], q=Src, target=px.url,
                            extra=("--target-name", f"{coll}={target}"))
        kills = []
        for m, kind in steps:
            w0 = px.received(*rpcs)
            px.hold(**{"before" if kind == "write unsent" else "after": rpcs},
                    from_call=w0 + m)
            p = tj.start_run(env, jid, "grpc_kill9.log")
            j = tj.wait_for(env, jid, p, f"a held write ({kind}, the run's write {m})",
                            lambda j: px.waiting(*rpcs))
            assert px.received(*rpcs) - w0 >= m, (px.received(*rpcs), w0, m)
            tj.kill(p)
            px.release_after_kill()
            kills.append((j["written"], m, kind))
        j = tj.job_json(env, jid)
        assert j["status"] == "IN_PROGRESS" and j["orphaned"], j
        assert not j["collections"][0]["state"]["copied"], j
        assert j["written"] < n, (kills, j)
        r = tj.vm(env, "jobs", "resume", jid, "-q")
        assert r.returncode == 0, f"kills at {kills}\n{r.stderr[-3000:]}"
        j = tj.job_json(env, jid)
        assert j["status"] == "SUCCESSFUL", j
        assert j["source"]["url"].startswith("grpc://"), j["source"]
        tj.assert_exact(env, px, coll, n, dst=target)
    drop(env, target)


def test_wrong_port_for_the_protocol_is_named(env):
    # Qdrant's REST port given as gRPC
    rest_port = env.q.url.rsplit(":", 1)[1]
    p = run_vmigrate(env.bin, "collections", "--source", f"grpc://127.0.0.1:{rest_port}")
    assert p.returncode == 3, p.stderr
    assert "not with gRPC" in p.stderr and "6334" in p.stderr and \
        f"http://host:6333" in p.stderr, p.stderr
    # Qdrant's gRPC port given as REST
    p = run_vmigrate(env.bin, "collections", "--source", f"http://127.0.0.1:{env.q.grpc_port}")
    assert p.returncode == 3, p.stderr
    assert "looks like a gRPC port" in p.stderr and \
        f"grpc://127.0.0.1:{env.q.grpc_port}" in p.stderr, p.stderr
    # ... and the way out the message names works, as does --source-protocol
    for args in (["--source", f"grpc://127.0.0.1:{env.q.grpc_port}"],
                 ["--source", f"http://127.0.0.1:{env.q.grpc_port}", "--source-protocol", "grpc"]):
        p = run_vmigrate(env.bin, "collections", *args, "--json")
        assert p.returncode == 0, p.stderr
        got = {c["name"] for c in json.loads(p.stdout)}
        assert name("payload_rich") in got, got
    p = run_vmigrate(env.bin, "collections", "--source", env.q.url, "--source-protocol", "soap")
    assert p.returncode == 2 and "--source-protocol must be rest or grpc" in p.stderr, p.stderr


def test_api_key_and_tls_over_grpc(env):
    srv = QdrantTestServer(api_key="s3cret-key", tls=True)
    srv.start()
    try:
        qc = qdrant_client_for(srv)
        datagen.generate(qc, "ids_uuid")
        coll = name("ids_uuid")
        base = ["--source", srv.grpc_url, "--ca-file", srv.cert_path]
        assert srv.grpc_url.startswith("grpcs://")
        p = run_vmigrate(env.bin, "collections", *base)
        assert p.returncode != 0 and "API key" in p.stderr, p.stderr
        assert "s3cret" not in p.stderr
        p = run_vmigrate(env.bin, "collections", *base, "--api-key", "wrong")
        assert p.returncode != 0 and "authentication failed" in p.stderr, p.stderr
        assert "wrong" not in p.stderr.replace("wrong or", "")
        drop(env, coll)
        p = run_vmigrate(env.bin, "migrate", *base, "--target", env.m.url, "-c", coll,
                         env={"QDRANT_API_KEY": "s3cret-key"})
        assert p.returncode == 0, p.stderr[-2000:]
        assert compare(qc, env.mc, coll, coll, {"": ("vector", "dense")}, pk_varchar=True) == 300
        qc.close()
    finally:
        drop(env, name("ids_uuid"))
        srv.stop()


@pytest.mark.parametrize("proto", ["rest", "grpc"])
def test_strict_mode_is_paced_not_failed(env, proto):
    """A collection in strict mode (pages of at most 50 points, a read rate limit) on a server
    that answers four page reads as rate-limited (429 with Retry-After / RESOURCE_EXHAUSTED with
    retry-after), as a cluster under other clients' load does: the migration keeps every page
    within the limit (the server refuses larger ones), waits what the server asks, says so in
    its progress and log, and lands every point. The read rate limit (600 a minute) paces the
    copy: the server records when it answered each page read, and no second of the copy holds
    more reads than the pace allows (vmigrate schedules them 111 ms apart) but for the retries
    of the throttled ones."""
    from qdrant_client import models
    coll = "strict_paced"
    qc = env.qc
    if qc.collection_exists(coll):
        qc.delete_collection(coll)
    qc.create_collection(coll, vectors_config=models.VectorParams(size=8,
                                                                  distance=models.Distance.DOT),
                         strict_mode_config=models.StrictModeConfig(
                             enabled=True, max_query_limit=50, read_rate_limit=600))
    rng = random.Random(5)
    qc.upsert(coll, [models.PointStruct(id=i, vector=[rng.random() for _ in range(8)],
                                        payload={"i": i, "t": f"p{i}"}) for i in range(1000)],
              wait=True)
    drop(env, coll)
    env.q.stats(reset=True)
    env.q.throttle_pages(4, retry_after_s=1)
    url = env.q.url if proto == "rest" else env.q.grpc_url
    env.q.reset_rate_window()  # the copy starts a fresh window
    env.q.page_reads(reset=True)
    p = migrate(env, url, "-c", coll, "--json")
    assert p.returncode == 0, p.stderr[-3000:]
    assert json.loads(p.stdout)["collections"][0]["status"] == "SUCCESSFUL", p.stderr[-3000:]
    # the copy's page reads (scrolls with vectors; not the verify's id-only scan), as the
    # server answered them, read before compare reads the collection too
    reads = [t for t, op, vec in env.q.page_reads()[coll] if op == "scroll" and vec]
    assert len(reads) >= 1000 // 50, reads
    # vmigrate paces reads on a schedule 111 ms apart (10 % under 600 a minute): a read the
    # machine delays is followed by one closer than the pace, so single gaps prove nothing;
    # the pace is a rate. In every second of the copy at most 9 paced reads (+1 at the
    # edge) plus the 4 retries of the throttled ones, which go when the server's Retry-After
    # says; unpaced, this collection reads ~100 pages a second. And over the whole copy no
    # more reads than the pace allows.
    gaps = [round(b - a, 4) for a, b in zip(reads, reads[1:])]
    busiest = max(sum(1 for u in reads if t <= u < t + 1.0) for t in reads)
    assert busiest <= 10 + 4, f"{busiest} page reads within one second: {gaps}"
    assert reads[-1] - reads[0] >= (len(reads) - 1 - 4) * 0.100, gaps
    assert compare(qc, env.mc, coll, coll, {"": ("vector", "dense")}, src_page=50) == 1000
    st = env.q.stats()[proto]
    assert st["throttled"] == 4 and st["strict_rejected"] == 0, st
    events = [json.loads(ln) for ln in p.stderr.splitlines() if ln.startswith('{"event":"progress"')]
    assert max(e.get("throttled", 0) for e in events) >= 1, events[-3:]
    assert max(e.get("throttled_ms", 0) for e in events) >= 1000, events[-3:]
    assert "throttled" in p.stderr and "as the server asked" in p.stderr, p.stderr[-3000:]
    drop(env, coll)
    qc.delete_collection(coll)


def test_unavailable_answers_are_retried_over_grpc(env):
    """A fifth of the gRPC calls answered UNAVAILABLE (a restarting server, a proxy): retried
    with backoff, every point lands once."""
    coll, target = name("ids_mixed"), "grpc_faults"
    drop(env, target)
    env.q.set_faults(p503=0.2, seed=3)
    try:
        p = migrate(env, env.q.grpc_url, "-c", coll, "--target-name", f"{coll}={target}",
                    "--page-size", "32")
    finally:
        env.q.set_faults()
    assert p.returncode == 0, p.stderr[-3000:]
    assert "retry" in p.stderr, p.stderr[-2000:]
    assert compare(env.qc, env.mc, coll, target, {"": ("vector", "dense")}, pk_varchar=True) == 300
    drop(env, target)
