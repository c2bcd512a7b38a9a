"""The real Milvus 2.3.5 server with authentication and TLS on (tests/harness MilvusServer(auth,
tls): one-way TLS with a self-signed certificate): the right token works and what landed is
checked through pymilvus; a wrong token is exit 3 naming the target and "authentication"; a
self-signed certificate without --ca-file is a clear TLS error and --insecure gets through; the
token never appears in output, logs, the job store or `jobs show`. A dedicated user with a
unique password is created so a leak cannot hide behind common words ("root", "Milvus").
"""

import glob
import json
import os

import pytest

from tests.datagen import datagen
from tests.harness import MilvusServer, milvus_client_for
from tests.integration.checks import compare, run_vmigrate

USER, PASSWORD = "migrator", "Pw-7d1c-a9e4-unique"
TOKEN = f"{USER}:{PASSWORD}"
ONE = {"": ("vector", "dense")}


@pytest.fixture(scope="module")
def secure_milvus():
    with MilvusServer(auth=True, tls=True) as m:
        root = milvus_client_for(m)  # root:Milvus over TLS with the CA
        root.create_user(USER, PASSWORD)
        root.grant_role(USER, "admin")
        root.close()
        yield m


@pytest.fixture(scope="module")
def coll(qdrant, qdrant_client):
    return datagen.generate(qdrant_client, "ids_mixed")


def leaks(text):
    return PASSWORD in text or TOKEN in text


def test_right_token_and_ca_file_migrate_exactly(secure_milvus, qdrant, qdrant_client, coll,
                                                 vmigrate_bin, tmp_path):
    m = secure_milvus
    p = run_vmigrate(vmigrate_bin, "migrate", "--source", qdrant.url, "--target", m.url,
                     "-c", coll, "--ca-file", m.cert_path, "--json",
                     env={"MILVUS_TOKEN": TOKEN})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["collections"][0]["status"] == "SUCCESSFUL"
    assert not leaks(p.stdout + p.stderr)
    mc = milvus_client_for(m)
    n = compare(qdrant_client, mc, coll, coll, ONE, pk_varchar=True)
    got = mc.query(coll, filter="", output_fields=["count(*)"], consistency_level="Strong")
    assert got[0]["count(*)"] == n == 300
    mc.drop_collection(coll)
    mc.close()


def test_wrong_token_is_exit_3_naming_the_target(secure_milvus, qdrant, coll, vmigrate_bin):
    m = secure_milvus
    for cmd in ("plan", "migrate"):
        p = run_vmigrate(vmigrate_bin, cmd, "--source", qdrant.url, "--target", m.url, "-c",
                         coll, "--ca-file", m.cert_path, "--token", f"{USER}:not-{PASSWORD}")
        out = p.stdout + p.stderr
        assert p.returncode == 3, out
        assert "authentication" in out.lower() and ("target" in out or "Milvus" in out), out
        assert "--token" in out or "MILVUS_TOKEN" in out, out  # the way out, in CLI words
        assert not leaks(out) and f"not-{PASSWORD}" not in out
    # no token at all
    p = run_vmigrate(vmigrate_bin, "plan", "--source", qdrant.url, "--target", m.url, "-c",
                     coll, "--ca-file", m.cert_path)
    assert p.returncode == 3 and "authentication" in (p.stdout + p.stderr).lower(), p.stderr
    assert not milvus_client_for(m).has_collection(coll)


def test_self_signed_needs_ca_file_or_insecure(secure_milvus, qdrant, coll, vmigrate_bin):
    m = secure_milvus
    base = ["plan", "--source", qdrant.url, "--target", m.url, "-c", coll]
    p = run_vmigrate(vmigrate_bin, *base, env={"MILVUS_TOKEN": TOKEN})
    assert p.returncode == 3 and "TLS" in p.stderr and "--ca-file" in p.stderr, p.stderr
    p = run_vmigrate(vmigrate_bin, *base, "--insecure", env={"MILVUS_TOKEN": TOKEN})
    assert p.returncode == 0, p.stdout + p.stderr
    assert not leaks(p.stdout + p.stderr)


def test_token_never_in_store_logs_or_job_answers(secure_milvus, qdrant, qdrant_client, coll,
                                                  vmigrate_bin, tmp_path):
    m = secure_milvus
    store = str(tmp_path / "vmigrate.db")
    env = {"MILVUS_TOKEN": TOKEN, "VMIGRATE_SECRET_KEY_FILE": str(tmp_path / "secret.key")}
    p = run_vmigrate(vmigrate_bin, "migrate", "--detach", "--source", qdrant.url, "--target",
                     m.url, "-c", coll, "--ca-file", m.cert_path, "--store", store, env=env)
    assert p.returncode == 0, p.stderr
    jobs = json.loads(run_vmigrate(vmigrate_bin, "jobs", "--json", "--store", store, env=env,
                                   check=True).stdout)
    assert len(jobs) == 1, jobs
    jid = jobs[0]["id"]
    # resumed without the token in the environment: it comes (encrypted) from the store
    r = run_vmigrate(vmigrate_bin, "jobs", "resume", jid, "--store", store,
                     env={"VMIGRATE_SECRET_KEY_FILE": env["VMIGRATE_SECRET_KEY_FILE"]})
    assert r.returncode == 0, r.stdout + r.stderr
    show = run_vmigrate(vmigrate_bin, "jobs", "show", jid, "--json", "--store", store, env=env,
                        check=True).stdout
    assert json.loads(show)["status"] == "SUCCESSFUL"
    mc = milvus_client_for(m)
    compare(qdrant_client, mc, coll, coll, ONE, pk_varchar=True)
    mc.drop_collection(coll)
    mc.close()
    texts = [p.stdout, p.stderr, r.stdout, r.stderr, show]
    for path in glob.glob(str(tmp_path / "*")) + glob.glob(os.path.join(m.data_dir, "*.log")):
        if os.path.isfile(path) and not path.endswith("secret.key"):
            with open(path, "rb") as fh:
                texts.append(fh.read().decode("latin-1"))
    assert not any(leaks(t) for t in texts)
