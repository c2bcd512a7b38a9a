"""The console's typed payload fields (issue 13, item 8), in chromium against the real stack on
Milvus Lite (nullable fields and a partition key: 2.3.5 has no nullable fields): the Qdrant test
server with the `payload_typed` shape, `vmigrate serve`. tests/browser/typed_fields.test.mjs
walks the Schema step (promotes tags to ARRAY_VARCHAR with capacity 8, keeps rating in $meta,
renames price to cost, makes category the partition key, is refused a partition key on the
nullable qty and recovers) and starts the job; this file checks with pymilvus that what landed
is what was chosen: field types, nullable, partition key, and every row read back equal to the
source payloads (typed values in their fields, rating in $meta).
"""

import json
import os
import subprocess

import pytest

from tests.browser.stack import VmigrateServe
from tests.datagen import datagen
from tests.integration.checks import fresh_source, strong_count, target_rows
from tests.integration.test_console_browser import CHROMIUM, REPO, _require

pytestmark = pytest.mark.targets("lite")
SHAPE = "payload_typed"
TARGET = "wiz_typed"
MJS = os.path.join("tests", "browser", "typed_fields.test.mjs")


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    _require()
    fresh_source(qdrant_client, milvus_client, SHAPE)
    if milvus_client.has_collection(TARGET):
        milvus_client.drop_collection(TARGET)
    home = str(tmp_path_factory.mktemp("typed-serve"))
    serve = VmigrateServe(vmigrate_bin, home, os.path.join(REPO, "web"),
                          data_dir=os.path.join(home, "serve"))
    serve.start()

    class Env:
        pass
    e = Env()
    e.mc, e.serve = milvus_client, serve
    e.info = {"console": serve.url, "qdrant": qdrant.url, "milvus": milvus.url, "target": TARGET}
    yield e
    serve.close()


def walk(env):
    shots = os.path.join(REPO, "build", "reports", "console-typed")
    os.makedirs(shots, exist_ok=True)
    e = dict(os.environ, VMIG_TYPED=json.dumps(env.info), VMIG_SCREENSHOTS=shots,
             CHROMIUM=CHROMIUM)
    p = subprocess.run(["node", "--test", "--test-concurrency=1", MJS], cwd=REPO, env=e,
                       capture_output=True, text=True, timeout=900)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and "# pass 1" in p.stdout and "# fail 0" in p.stdout, out[-8000:]
    jobs = [json.loads(line.split("WIZARD_JOB ", 1)[1]) for line in p.stdout.splitlines()
            if "WIZARD_JOB " in line]
    assert jobs and jobs[-1]["status"] == "SUCCESSFUL", out[-4000:]


def type_name(t):
    return getattr(t, "name", str(t))


def test_typed_fields_chosen_in_the_console_land_in_milvus(env):
    walk(env)
    desc = env.mc.describe_collection(TARGET)
    fields = {f["name"]: f for f in desc["fields"]}
    assert set(fields) == {"id", "vector", "active", "category", "created", "cost", "qty", "ref",
                           "tags"}, sorted(fields)
    assert "rating" not in fields and "price" not in fields  # in $meta / renamed
    assert desc["enable_dynamic_field"]
    tags = fields["tags"]
    assert type_name(tags["type"]) == "ARRAY" and type_name(tags["element_type"]) == "VARCHAR"
    assert int(tags["params"]["max_capacity"]) == 8
    assert type_name(fields["cost"]["type"]) == "DOUBLE"
    assert type_name(fields["category"]["type"]) == "VARCHAR"
    assert fields["category"].get("is_partition_key") is True
    assert [n for n, f in fields.items() if f.get("is_partition_key")] == ["category"]
    assert fields["qty"].get("nullable") is True
    assert not fields["category"].get("nullable") and not fields["tags"].get("nullable")

    points = {p["id"]: p["payload"] for p in datagen.make_points(SHAPE)}
    rows = {r["id"]: r for r in target_rows(env.mc, TARGET)}
    assert set(rows) == set(points) and strong_count(env.mc, TARGET) == len(points)
    for pid, src in points.items():
        row = rows[pid]
        assert row["category"] == src["category"], pid
        assert row["tags"] == src["tags"], pid
        assert row["cost"] == src["price"], pid
        assert row.get("rating") == src.get("rating"), pid  # the dynamic field ($meta)
        if isinstance(src.get("qty"), int):
            assert row["qty"] == src["qty"], pid
        else:  # "n/a": a misfit, kept in $meta by the default policy, the field null
            assert row["qty"] is None, pid
    # a filtered query on the partition key reads back the same ids as the source has
    want = sorted(pid for pid, src in points.items() if src["category"] == "books")
    got = env.mc.query(TARGET, filter='category == "books"', output_fields=["id"],
                       consistency_level="Strong")
    assert sorted(r["id"] for r in got) == want
