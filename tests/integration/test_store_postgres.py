"""The PostgreSQL job store (issue 14, part 1) against a real PostgreSQL server
(tests/harness/postgres.py: Debian's binaries, a temporary cluster on a free port, scram
password auth) with a fresh database per test: the store conformance unit tests
(test_store, test_store_tasks) run with VMIG_TEST_PG_URL; `vmigrate migrate --store
postgres://...` of a small collection end to end into Milvus, checked through pymilvus
against qdrant-client, then `jobs` / `jobs show` on that store (also through VMIGRATE_STORE
and a libpq service file); and the refusals: a password in the URL (never echoed), a wrong
password (never echoed), a server that is not running (named host:port/db, with the way out).
"""

import json
import os
import signal
import subprocess
import time

import pytest

from tests.harness.servers import free_port
from tests.integration.checks import compare, fresh_source, run_vmigrate

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("VMIG_BUILD_DIR") or os.path.join(REPO, "build", "dev")
ONE = {"": ("vector", "dense")}


def vm(bin_, store, env, *args, check=False):
    return run_vmigrate(bin_, *args, "--store", store, env=env, check=check)


@pytest.fixture
def key_env(tmp_path, pg_store):
    url, env = pg_store
    env = {"PGPASSWORD": env["PGPASSWORD"],
           "VMIGRATE_SECRET_KEY_FILE": str(tmp_path / "secret.key")}
    return url, env


@pytest.mark.parametrize("binary", ["test_store", "test_store_tasks"])
def test_unit_conformance_on_postgres(postgres, binary):
    path = os.path.join(BUILD, binary)
    if not os.path.exists(path):
        pytest.fail(f"{path} not built (make dev, or set VMIG_BUILD_DIR)", pytrace=False)
    env = postgres.env()
    env["VMIG_TEST_PG_URL"] = postgres.url("postgres")
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    p = subprocess.run([path], capture_output=True, text=True, env=env, timeout=600,
                       cwd=REPO)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    assert "postgres: VMIG_TEST_PG_URL is not set" not in out
    assert out.count("[  PASSED  ]") == 2, out[-3000:]  # the SQLite group, then PostgreSQL
    assert "postgres store: no range tasks" not in out  # nothing passed through on PostgreSQL


def test_migrate_end_to_end_on_postgres_store(qdrant_client, qdrant, milvus, milvus_client,
                                              vmigrate_bin, key_env, postgres, tmp_path):
    url, env = key_env
    coll = fresh_source(qdrant_client, milvus_client, "ids_int")
    p = vm(vmigrate_bin, url, env, "migrate", "--source", qdrant.url, "--target", milvus.url,
           "-c", coll, "--page-size", "100")
    assert p.returncode == 0, p.stderr[-3000:]
    assert compare(qdrant_client, milvus_client, coll, coll, ONE) == 300

    jobs = json.loads(vm(vmigrate_bin, url, env, "jobs", "--json", check=True).stdout)
    assert len(jobs) == 1
    jid = jobs[0]["id"]
    assert jobs[0]["status"] == "SUCCESSFUL"
    show = json.loads(vm(vmigrate_bin, url, env, "jobs", "show", jid, "--json",
                         check=True).stdout)
    assert show["status"] == "SUCCESSFUL"
    assert show["collections"][0]["source"] == coll
    assert show["collections"][0]["written"] == 300
    text = vm(vmigrate_bin, url, env, "jobs", "show", jid, check=True).stdout
    assert jid in text and coll in text
    # the rows are where vmigrate says: in PostgreSQL, not in a SQLite file
    db = url.rsplit("/", 1)[1]
    assert postgres.psql(f"SELECT status FROM jobs WHERE id = '{jid}'", db=db) == "SUCCESSFUL"
    assert int(postgres.psql("SELECT count(*) FROM job_logs", db=db)) >= 0

    # the same store through VMIGRATE_STORE, and through a libpq service file
    e2 = dict(env, VMIGRATE_STORE=url)
    p = run_vmigrate(vmigrate_bin, "jobs", "--json", env=e2, check=True)
    assert [j["id"] for j in json.loads(p.stdout)] == [jid]
    svc = tmp_path / "pg_service.conf"
    svc.write_text(f"[vmigtest]\nhost={postgres.host}\nport={postgres.port}\n"
                   f"dbname={db}\nuser={postgres.user}\n")
    e3 = dict(env, PGSERVICEFILE=str(svc))
    p = vm(vmigrate_bin, "postgres:///?service=vmigtest", e3, "jobs", "--json", check=True)
    assert [j["id"] for j in json.loads(p.stdout)] == [jid]


def test_password_in_url_refused(vmigrate_bin, key_env, postgres):
    url, env = key_env
    secret = "Url-Pass-w0rd-XYZ"
    for bad in (url.replace(f"{postgres.user}@", f"{postgres.user}:{secret}@"),
                url + f"?password={secret}"):
        p = vm(vmigrate_bin, bad, env, "jobs")
        # a bad --store on the command line: exit 2, as a store path that is a directory
        assert p.returncode == 2, (p.returncode, p.stderr)
        assert secret not in p.stdout and secret not in p.stderr
        assert "carries a password" in p.stderr
        assert "PGPASSWORD" in p.stderr and "~/.pgpass" in p.stderr
        assert "service" in p.stderr
        # and before anything was written to the store
        db = url.rsplit("/", 1)[1]
        assert postgres.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'jobs'",
                             db=db) == "0"


def test_wrong_password(vmigrate_bin, key_env, postgres):
    url, env = key_env
    wrong = "Wr0ng-Pass-QQQ"
    p = vm(vmigrate_bin, url, dict(env, PGPASSWORD=wrong), "jobs")
    assert p.returncode == 1
    out = p.stdout + p.stderr
    assert wrong not in out and postgres.password not in out
    assert "password authentication failed" in p.stderr
    assert f"{postgres.host}:{postgres.port}/" in p.stderr
    assert "PGPASSWORD" in p.stderr


def test_postgres_not_running(vmigrate_bin, tmp_path):
    port = free_port()
    url = f"postgres://nobody@127.0.0.1:{port}/vmig"
    p = vm(vmigrate_bin, url, {"PGPASSWORD": "Not-Shown-123",
                               "VMIGRATE_SECRET_KEY_FILE": str(tmp_path / "k")}, "jobs")
    assert p.returncode == 1
    assert f"127.0.0.1:{port}/vmig" in p.stderr
    assert "check that the server is up" in p.stderr and "--store" in p.stderr
    assert "Not-Shown-123" not in p.stdout + p.stderr


def test_serve_survives_postgres_restart(vmigrate_bin, key_env, postgres, tmp_path):
    """A long-lived process (`vmigrate serve`) keeps its store across a PostgreSQL restart:
    the first call after it finds the connection gone, resets it once and runs again."""
    import requests
    url, env = key_env
    log_path = tmp_path / "serve.log"
    e = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", **env)
    with open(log_path, "w") as log:
        p = subprocess.Popen([vmigrate_bin, "serve", "--listen", "127.0.0.1:0", "--store", url],
                             env=e, stdout=subprocess.DEVNULL, stderr=log)
    try:
        base = None
        for _ in range(2400):
            for line in open(log_path):
                if "listening on http://" in line:
                    base = line.split("listening on ", 1)[1].strip()
            if base or p.poll() is not None:
                break
            time.sleep(0.05)
        assert base, f"serve did not start: {log_path.read_text()[-2000:]}"
        r = requests.get(base + "/api/v1/jobs", timeout=60)
        assert r.status_code == 200, r.text
        before = r.json()
        postgres.restart()
        for _ in range(2):  # the reset, then a statement prepared anew on the new connection
            r = requests.get(base + "/api/v1/jobs", timeout=60)
            assert r.status_code == 200, (r.text, log_path.read_text()[-2000:])
            assert r.json() == before
        assert requests.get(base + "/api/v1/jobs/jdeadbeef", timeout=60).status_code == 404
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
    assert postgres.password not in log_path.read_text()


@pytest.mark.targets("lite")
def test_two_workers_share_a_postgres_store(qdrant_client, qdrant, milvus, milvus_client,
                                            vmigrate_bin, key_env):
    """Two `vmigrate worker` processes on one PostgreSQL store: detached jobs are each run by
    one of them (the claim is a compare-and-swap in the database), and land whole."""
    from tests.datagen import datagen
    url, env = key_env
    colls = [datagen.generate(qdrant_client, "ids_int", name=f"pgw_{i}") for i in range(3)]
    for c in colls:
        if milvus_client.has_collection(c):
            milvus_client.drop_collection(c)
    ids = []
    for c in colls:
        p = vm(vmigrate_bin, url, env, "migrate", "--detach", "--source", qdrant.url,
               "--target", milvus.url, "-c", c, check=True)
        ids.append(p.stdout.strip())
    e = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", **env)
    workers = [subprocess.Popen([vmigrate_bin, "worker", "--concurrency", "1", "--store", url,
                                 "-q"], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for _ in range(2)]
    try:
        deadline = time.monotonic() + 600
        while True:
            st = [json.loads(vm(vmigrate_bin, url, env, "jobs", "show", j, "--json",
                                check=True).stdout)["status"] for j in ids]
            if set(st) <= {"SUCCESSFUL", "FAILED", "CANCELLED"}:
                break
            assert time.monotonic() < deadline, f"the workers did not end the jobs: {st}"
            time.sleep(0.3)
        assert st == ["SUCCESSFUL"] * 3
    finally:
        errs = []
        for w in workers:
            w.send_signal(signal.SIGINT)
            _, err = w.communicate(timeout=60)
            errs.append((w.returncode, err.decode(errors="replace")[-2000:]))
    assert all(rc == 0 for rc, _ in errs), errs
    for c in colls:
        assert compare(qdrant_client, milvus_client, c, c, ONE) == 300
