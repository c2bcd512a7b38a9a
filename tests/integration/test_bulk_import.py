"""The bulk-import fast path (`--write-mode bulk|rows|auto`, issue 14 part 3) against the real
Milvus 2.3.5 server (its Import RPC reads row-based JSON files by absolute path from local
storage), checked through pymilvus against qdrant-client: every id once (count(*) with Strong
consistency: the real server never de-duplicates, so a doubled row shows), float32 vectors bit
for bit, payloads equal; typed fields compared with a rows migration of the same collection.

Crash tests stop the process with SIGKILL at the exact point (VMIG_TEST_BULK_CRASH, a test-only
fault point in target/milvus_bulk.c: right after a file is made available to the server, or
right after Import accepted it) and resume the job: no row doubled. Milvus Lite does not
implement Import: `bulk` is refused there before anything is created. The S3 upload is checked
against a moto server (no Milvus here reads S3: its import then fails, and the copy falls back
to rows, which is checked too).
"""

import json
import os
import re
import subprocess

import pytest

from tests.integration.checks import compare, fresh_source, run_vmigrate, strong_count, target_rows
from tests.integration.test_jobs import ONE, create_job, env, job_json, vm  # noqa: F401

REAL = pytest.mark.targets("milvus23")
LITE = pytest.mark.targets("lite")


def bulk_dir(env):
    d = os.path.join(env.dir, "bulk")
    os.makedirs(d, exist_ok=True)
    return d


def bulk_args(env, size_mib=1):
    return ["--write-mode", "bulk", "--bulk-dir", bulk_dir(env), "--bulk-file-size", str(size_mib)]


def migrate(env, *args, extra_env=None):
    e = dict(env.env, **(extra_env or {}))
    return run_vmigrate(env.bin, "migrate", "--source", env.q.url, "--target", env.m.url,
                        "--store", env.store, *args, env=e, timeout=900)


SHAPES = {
    # shape: (vector fields, pk varchar)
    "single_cosine_768": (ONE, False),  # 200 x 768 floats: two 1 MiB files
    "ids_int": (ONE, False),
    "ids_uuid": (ONE, True),
    "ids_big": (ONE, True),
    "payload_rich": (ONE, False),  # escapes, unicode, big ints, -0.0, subnormals in $meta
}


@REAL
@pytest.mark.parametrize("shape", list(SHAPES))
def test_bulk_lands_the_shape_exactly(env, shape):
    coll = fresh_source(env.qc, env.mc, shape)
    p = migrate(env, "-c", coll, *bulk_args(env), "-v")
    assert p.returncode == 0, p.stderr[-4000:]
    assert "writing with bulk import" in p.stderr, p.stderr[-3000:]
    assert "import files (NumPy columns)" in p.stderr, p.stderr[-3000:]  # pk + dense vectors only
    assert re.search(r"import files? \(\d+ rows\) imported", p.stderr), p.stderr[-3000:]
    fields, varchar = SHAPES[shape]
    compare(env.qc, env.mc, coll, coll, fields, pk_varchar=varchar)
    # nothing left behind once imported
    assert not [f for f in os.listdir(bulk_dir(env)) if f.startswith(coll)]


@REAL
def test_bulk_typed_fields_equal_a_rows_migration(env):
    """Typed payload fields (INT64, DOUBLE, BOOL, VARCHAR, ...) and nulls: the bulk copy reads
    back exactly like the rows copy of the same collection."""
    src = fresh_source(env.qc, env.mc, "payload_typed")
    rows_name, bulk_name = src + "_rows", src + "_bulk"
    for name in (rows_name, bulk_name):
        if env.mc.has_collection(name):
            env.mc.drop_collection(name)
    p = migrate(env, "-c", src, "--target-name", f"{src}={rows_name}")
    assert p.returncode == 0, p.stderr[-3000:]
    p = migrate(env, "-c", src, "--target-name", f"{src}={bulk_name}", *bulk_args(env))
    assert p.returncode == 0, p.stderr[-3000:]
    a = {r["id"]: r for r in target_rows(env.mc, rows_name)}
    b = {r["id"]: r for r in target_rows(env.mc, bulk_name)}
    assert strong_count(env.mc, bulk_name) == len(a) == len(b) > 0
    assert a.keys() == b.keys()
    for k in a:
        assert json.dumps(a[k], sort_keys=True, default=str) == \
            json.dumps(b[k], sort_keys=True, default=str), f"row {k} differs"


@REAL
@pytest.mark.parametrize("at", ["after-upload", "after-import"])
def test_a_crash_around_the_import_then_resume_doubles_nothing(env, at):
    coll = fresh_source(env.qc, env.mc, "paging_100k", n=20000, name=f"bulk_crash_{at[6:]}")
    jid = create_job(env, [coll], extra=bulk_args(env, size_mib=1))
    e = dict(env.env, VMIG_TEST_BULK_CRASH=at)
    p = subprocess.run([env.bin, "jobs", "resume", jid, "--store", env.store],
                       capture_output=True, text=True, env=dict(os.environ, **e), timeout=900)
    assert p.returncode == -9, f"exit {p.returncode}: {p.stderr[-3000:]}"  # SIGKILL at the point
    r = vm(env, "jobs", "resume", jid)
    assert r.returncode == 0, r.stderr[-4000:]
    assert job_json(env, jid)["status"] == "SUCCESSFUL"
    compare(env.qc, env.mc, coll, coll, ONE)  # each id once: count(*) Strong == 20000


@REAL
def test_auto_writes_rows_for_a_small_collection_and_says_why(env):
    coll = fresh_source(env.qc, env.mc, "ids_int")
    p = migrate(env, "-c", coll, "--write-mode", "auto", "--bulk-dir", bulk_dir(env), "-v")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "writing rows (auto: 300 points, under the 1000000 of bulk import)" in p.stderr
    compare(env.qc, env.mc, coll, coll, ONE)


@LITE
def test_bulk_is_refused_on_milvus_lite_before_anything_is_created(env):
    coll = fresh_source(env.qc, env.mc, "ids_int")
    p = migrate(env, "-c", coll, *bulk_args(env))
    assert p.returncode == 2, p.stderr[-3000:]
    assert "Milvus Lite does not implement bulk import" in p.stderr
    assert "--write-mode rows" in p.stderr  # the way out
    assert not env.mc.has_collection(coll)


@LITE
def test_auto_on_milvus_lite_writes_rows(env):
    coll = fresh_source(env.qc, env.mc, "ids_int")
    p = migrate(env, "-c", coll, "--write-mode", "auto", "--bulk-dir", bulk_dir(env))
    assert p.returncode == 0, p.stderr[-3000:]
    compare(env.qc, env.mc, coll, coll, ONE)


@pytest.fixture(scope="module")
def moto():
    """A moto S3 server on a free port (PyPI moto[server])."""
    import socket
    import time
    import urllib.request
    from tests.harness.servers import PYTHON
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


@REAL
def test_s3_upload_lands_the_files_and_a_failed_import_falls_back_to_rows(env, moto):
    import boto3
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret",
             "AWS_REGION": "us-east-1",
             "VMIG_BULK_JSON": "1"}  # JSON row files (NumPy sets: the other tests), read back here
    s3 = boto3.client("s3", endpoint_url=moto, aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                      region_name=creds["AWS_REGION"])
    s3.create_bucket(Bucket="milvus-bucket")
    coll = fresh_source(env.qc, env.mc, "ids_uuid")
    p = migrate(env, "-c", coll, "--write-mode", "bulk", "--bulk-url", "s3://milvus-bucket/vmig",
                "--bulk-endpoint", moto, "-v", extra_env=creds)
    assert p.returncode == 0, p.stderr[-4000:]
    assert "testing-secret" not in p.stderr  # never logged
    objs = s3.list_objects_v2(Bucket="milvus-bucket", Prefix="vmig/").get("Contents", [])
    assert objs, "no import file uploaded"
    got = {}
    for o in objs:
        body = s3.get_object(Bucket="milvus-bucket", Key=o["Key"])["Body"].read()
        assert body.startswith(b'{"rows":[\n') and body.endswith(b"\n]}\n")
        for row in json.loads(body)["rows"]:
            got[row["id"]] = row
    src = {str(k): v for k, v in __import__("tests.integration.checks", fromlist=["x"])
           .source_points(env.qc, coll).items()}
    assert set(got) == set(src)
    import numpy as np
    for k, rec in src.items():
        assert np.asarray(got[k]["vector"], dtype=np.float32).tobytes() == \
            np.asarray(rec.vector, dtype=np.float32).tobytes()
        assert got[k]["$meta"] == (rec.payload or {})
    # this Milvus reads local storage: the import of "vmig/<file>" fails, twice, and the
    # copy is repeated as rows from the durable point
    assert "bulk import failed" in p.stderr and "writing rows from the last durable" in p.stderr
    compare(env.qc, env.mc, coll, coll, ONE, pk_varchar=True)
