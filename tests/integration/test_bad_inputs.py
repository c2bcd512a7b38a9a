"""The bad-input suite (issue 15, part 5): what a user can hand vmigrate wrong, one case each,
none of them a copy of test_cli_inputs / test_connect_errors / test_http_api /
test_target_errors / test_cli_conventions. Every case asserts the documented exit code
(docs/user/cli.md "Exit codes", `vmigrate --help`, vmigrate(1)) or HTTP status
(docs/user/http-api.md), a message naming what and where, that every flag the message or its
hint names is a real flag of that command (read from its --help), that nothing was created on
Milvus (pymilvus: the collection list is unchanged) unless the message says so, and that no
secret is in any output: every run carries distinctive secrets (QDRANT_API_KEY, MILVUS_TOKEN;
the test servers ignore them) that stdout, stderr, API bodies, the server log and the store
files are searched for at the end. Servers: one Qdrant test server, one keyed one and Milvus
Lite per module (no case needs the real Milvus server), one `vmigrate serve`.

| category | cases | ids |
|---|---:|---|
| URLs (scheme, host, port, query, path, space, IPv6, userinfo) | 18 | url-* |
| credentials (wrong/empty/odd keys, control characters, tokens) | 9 | cred-* |
| names (collection and field names Milvus refuses, collisions, traversal) | 12 | name-* |
| plan files (not JSON, truncated, types, unknown keys, type changes, duplicates) | 20 | plan-* |
| options (ranges, conflicts, unknown, missing values, env vars) | 19 | opt-* |
| data shapes (dims, payload size, typed misfits, field names) | 6 | data-* |
| HTTP API bodies and paths (JSON, types, sizes, methods, traversal) | 24 | http-* |
| job-store states (corrupt, not a store, directory, unwritable, newer schema, race) | 8 | store-* |
| **total** | **116** | |

The count is checked by test_the_table_counts_every_case (CASES below must match it).
"""

import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.parse

import pytest
import requests
from qdrant_client import models

from tests.datagen import datagen
from tests.harness.servers import QdrantTestServer
from tests.integration.checks import run_vmigrate, vmigrate_env
from tests.integration.test_http_api import Serve

pytestmark = pytest.mark.targets("lite")

KEY = "qk-badin-Secret-4b1d77"         # the keyed Qdrant's real key
WRONG = "qk-badin-Wrong-9e2c31"        # a wrong one
TOKEN = "root:tok-badin-Secret-77aa0"  # a Milvus token (Lite ignores it)
PASSWORD = "pw-badin-Secret-c0ffee"    # a password written into a URL
SECRETS = (KEY, WRONG, TOKEN.split(":", 1)[1], PASSWORD)
SEEN = []  # every output of this module: searched for the secrets at the end
COLL = datagen.collection_name("ids_int")    # 300 points, one 8-d vector
COLL2 = datagen.collection_name("ids_mixed")
CASES = {}  # category -> ids, filled as the parameter lists are made


def cases(category, rows):
    CASES.setdefault(category, []).extend(r[0] for r in rows)
    return pytest.mark.parametrize("case", rows, ids=[r[0] for r in rows])


# ---- helpers -------------------------------------------------------------------------------------

_HELP = {}


def help_flags(binary, cmd):
    """The long options `vmigrate CMD --help` lists (plus the global ones of `vmigrate --help`)."""
    if cmd not in _HELP:
        words = cmd.split()
        text = run_vmigrate(binary, *words, "--help").stdout + run_vmigrate(binary, "--help").stdout
        _HELP[cmd] = set(re.findall(r"--[a-z][a-z-]*", text))
    return _HELP[cmd]


def flags_are_real(binary, text, *cmds, ignore=()):
    """Every --flag a message names is a flag of one of cmds (the way out exists)."""
    known = set(ignore)
    for c in cmds:
        known |= help_flags(binary, c)
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text))
    missing = named - known
    assert not missing, f"the message names flags that do not exist: {missing}\n{text}"


def no_crash(text):
    for bad in ("AddressSanitizer", "runtime error", "Segmentation", "Assertion", "core dumped"):
        assert bad not in text, text


class Env:
    pass


@pytest.fixture(scope="module")
def env(qdrant, qdrant_client, milvus, milvus_client, vmigrate_bin, tmp_path_factory):
    datagen.generate(qdrant_client, "ids_int")
    datagen.generate(qdrant_client, "ids_mixed")
    e = Env()
    e.q, e.qc, e.m, e.mc, e.bin = qdrant, qdrant_client, milvus, milvus_client, vmigrate_bin
    e.dir = str(tmp_path_factory.mktemp("badin"))
    e.store = os.path.join(e.dir, "vm.db")
    e.stores = [e.store]
    e.keyed = QdrantTestServer(api_key=KEY)
    e.keyed.start()
    e.env = {"QDRANT_API_KEY": KEY, "MILVUS_TOKEN": TOKEN,
             "VMIGRATE_SECRET_KEY_FILE": os.path.join(e.dir, "secret.key")}
    e.before = set(milvus_client.list_collections())
    yield e
    e.keyed.close()


def vm(e, *args, env=None, timeout=300):
    """Run vmigrate with the module's secrets in its environment; keep its output."""
    full = dict(e.env)
    full.update(env or {})
    p = run_vmigrate(e.bin, *args, env=full, timeout=timeout)
    SEEN.append(p.stdout + p.stderr)
    no_crash(p.stdout + p.stderr)
    return p


def nothing_created(e):
    now = set(e.mc.list_collections())
    assert now == e.before, f"collections appeared on Milvus: {now - e.before}"


def expect(p, code, *needles):
    assert p.returncode == code, (p.returncode, p.stdout[-2000:], p.stderr[-3000:])
    for n in needles:
        assert n in p.stderr, f"{n!r} not in stderr:\n{p.stderr[-3000:]}"


def jobs_in(e, store):
    p = vm(e, "jobs", "--store", store, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["jobs"] if p.stdout.strip().startswith("{") else json.loads(p.stdout)


# ---- URLs --------------------------------------------------------------------------------------

URL_CASES = [
    # id, side, url (Q = the Qdrant test server's host:port, M = Milvus's), exit, needle
    ("url-ftp-scheme", "source", "ftp://Q", 2, "must start with http:// or https://"),
    ("url-no-scheme", "source", "Q", 2, "must start with http:// or https://"),
    ("url-no-host", "source", "http://", 2, "has no host"),
    ("url-empty-host", "source", "http://:6333", 2, "has no host"),
    ("url-port-too-big", "source", "http://127.0.0.1:70000", 2, "has a bad port"),
    ("url-port-letters", "source", "http://127.0.0.1:abc", 2, "has a bad port"),
    ("url-port-zero", "source", "http://127.0.0.1:0", 2, "has a bad port"),
    ("url-query", "source", "http://Q?collection=x", 2, "has a query or fragment"),
    ("url-fragment", "source", "http://Q#top", 2, "has a query or fragment"),
    ("url-space-in-host", "source", "http://a b:6333", 2, "contains a space or a control"),
    ("url-open-ipv6", "source", "http://[::1:6333", 2, "unclosed IPv6 address"),
    ("url-user-no-password", "source", "http://admin@Q", 2, "must not contain credentials"),
    ("url-grpc-path", "source", "grpc://127.0.0.1:6334/x", 2, "has a path"),
    ("url-target-ftp", "target", "ftp://M", 2, "unsupported Milvus URL"),
    ("url-target-port", "target", "http://127.0.0.1:65536", 2, "bad port"),
    ("url-target-path-db", "target", "http://M/mydb", 2, "has a path"),
    ("url-target-query", "target", "http://M?db=x", 2, "has a query or fragment"),
]


@cases("urls", URL_CASES)
def test_url(env, case):
    _, side, url, code, needle = case
    url = url.replace("Q", f"127.0.0.1:{env.q.port}").replace("M", f"127.0.0.1:{env.m.port}")
    src = url if side == "source" else env.q.url
    dst = url if side == "target" else env.m.url
    p = vm(env, "plan", "--source", src, "--target", dst, "-c", COLL)
    expect(p, code, needle)
    if "credentials" not in needle:  # the URL is named as given, and the way out is a flag
        assert url in p.stderr, p.stderr
        assert "--source / --target" in p.stderr or "--source" in p.stderr, p.stderr
    flags_are_real(env.bin, p.stderr, "plan")
    nothing_created(env)


def test_url_with_a_password_in_the_environment(env):
    """cred + url: VMIGRATE_TARGET with user:password is refused, the password never shown."""
    url = env.m.url.replace("http://", f"http://root:{PASSWORD}@")
    p = vm(env, "plan", "--source", env.q.url, "-c", COLL, env={"VMIGRATE_TARGET": url})
    expect(p, 2, "--target URL must not contain credentials", "MILVUS_TOKEN")
    flags_are_real(env.bin, p.stderr, "plan")
    nothing_created(env)


CASES["urls"].append("url-target-password-env")  # the test above


# ---- credentials -------------------------------------------------------------------------------

CRED_CASES = [
    # id, how the key/token is given, exit, needles
    ("cred-wrong-key", {"QDRANT_API_KEY": WRONG}, 3, ["Qdrant rejected the API key (401)"]),
    ("cred-empty-key", {"QDRANT_API_KEY": ""}, 3, ["Qdrant rejected the API key (401)"]),
    ("cred-key-trailing-newline", {"QDRANT_API_KEY": KEY + "\n"}, 2,
     ["Qdrant API key (--api-key / QDRANT_API_KEY) contains a control character"]),
    ("cred-key-tab", {"QDRANT_API_KEY": "qk\t" + KEY}, 2, ["contains a control character"]),
    ("cred-key-utf8", {"QDRANT_API_KEY": "ключ-" + KEY}, 3, ["Qdrant rejected the API key"]),
    ("cred-key-20kb", {"QDRANT_API_KEY": KEY * 1000}, 3, ["Qdrant rejected the API key"]),
    ("cred-token-tab", {"MILVUS_TOKEN": "root:\t" + PASSWORD}, 2,
     ["Milvus token (--token / MILVUS_TOKEN) contains a control character"]),
]


@cases("credentials", CRED_CASES)
def test_credentials(env, case):
    _, given, code, needles = case
    if "MILVUS_TOKEN" in given:  # a command that reads the token
        p = vm(env, "plan", "--source", env.keyed.url, "--target", env.m.url, "-c", COLL,
               env=given)
    else:
        p = vm(env, "collections", "--source", env.keyed.url, env=given)
    expect(p, code, *needles)
    if code == 3:
        assert "--api-key / QDRANT_API_KEY" in p.stderr, p.stderr  # the hint names the way out
    flags_are_real(env.bin, p.stderr, "plan" if "MILVUS_TOKEN" in given else "collections")


def test_api_token_with_a_line_break(env, tmp_path):
    p = vm(env, "serve", "--listen", "127.0.0.1:0", "--store", str(tmp_path / "s.db"),
           env={"VMIGRATE_API_TOKEN": "tok-" + PASSWORD + "\r\n"})
    expect(p, 2, "the API token (--api-token / VMIGRATE_API_TOKEN) contains a control character")
    flags_are_real(env.bin, p.stderr, "serve")


def test_migrate_with_a_wrong_key_stores_nothing(env, tmp_path):
    store = str(tmp_path / "k.db")
    env.stores.append(store)
    p = vm(env, "migrate", "--source", env.keyed.url, "--target", env.m.url, "-c", COLL,
           "--store", store, env={"QDRANT_API_KEY": WRONG})
    expect(p, 3, "Qdrant rejected the API key")
    nothing_created(env)


CASES["credentials"] += ["cred-api-token-newline", "cred-wrong-key-migrate"]


# ---- names -------------------------------------------------------------------------------------

NAME_CASES = [
    # id, extra args, exit, needles
    ("name-dash", ["--target-name", f"{COLL}=bad-name"], 2,
     ["target name 'bad-name' is not valid", "only letters, digits and '_'"]),
    ("name-leading-digit", ["--target-name", f"{COLL}=1docs"], 2,
     ["must start with a letter or '_'"]),
    ("name-too-long", ["--target-name", f"{COLL}=" + "a" * 256], 2, ["at most 255 bytes"]),
    ("name-unicode", ["--target-name", f"{COLL}=colé"], 2, ["target name 'colé' is not valid"]),
    ("name-dollar-meta", ["--target-name", f"{COLL}=$meta"], 2, ["'$meta' is not valid"]),
    ("name-empty", ["--target-name", f"{COLL}="], 2, ["--target-name expects COLLECTION=NEW_NAME"]),
    ("name-two-onto-one", ["-c", COLL2, "--target-name", f"{COLL}=same", "--target-name",
                           f"{COLL2}=same"], 4, ["would both become Milvus collection 'same'"]),
    ("name-rename-collides", ["--rename", f"{COLL}.id=vector"], 2,
     ["field name 'vector' is given to both the primary key and the unnamed vector"]),
    ("name-rename-invalid", ["--rename", f"{COLL}.id=bad-name"], 2,
     ["cannot rename the primary key to 'bad-name'"]),
    ("name-rename-unknown-field", ["--rename", f"{COLL}.nosuch=x"], 2,
     ["no collection has a vector or field by that name"]),
    ("name-target-name-unknown", ["--target-name", "nosuch=x"], 2, ["no source collection 'nosuch'"]),
]


@cases("names", NAME_CASES)
def test_names(env, case):
    _, extra, code, needles = case
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", COLL, *extra,
           "--store", env.store)
    expect(p, code, *needles)
    flags_are_real(env.bin, p.stderr, "migrate")
    nothing_created(env)


def test_a_source_name_with_dot_dot_reads_no_other_collection(env):
    """'zzz/../COLL' is one name to Qdrant (escaped into the path), never COLL itself."""
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", f"zzz/../{COLL}",
           "--store", env.store)
    expect(p, 1, f"collection 'zzz/../{COLL}' not found on source")
    nothing_created(env)


CASES["names"].append("name-dot-dot-source")


# ---- plan files --------------------------------------------------------------------------------

def _edit(kind, plan):
    c = plan["collections"][0]
    if kind == "vectors-not-array":
        c["vectors"] = "x"
    elif kind == "dim-as-string":
        c["vectors"][0]["dim"] = "8"
    elif kind == "unknown-key":
        c["colour"] = "red"
    elif kind == "unknown-top-key":
        plan["extra"] = 1
    elif kind == "dim-changed":
        c["vectors"][0]["dim"] = 16
    elif kind == "metric-changed":
        c["vectors"][0]["metric"] = "IP"
    elif kind == "pk-type-changed":
        c["primary_key"]["type"] = "VarChar"
        c["primary_key"]["max_length"] = 36
    elif kind == "same-collection-twice":
        plan["collections"].append(dict(c))
    elif kind == "field-name-twice":
        c["vectors"][0]["field"] = "id"
    elif kind == "newer-version":
        plan["version"] = 99
    elif kind == "no-collections":
        plan["collections"] = []
    elif kind == "bad-target-name":
        c["target"] = "bad-name"
    elif kind == "source-gone":
        c["source"] = "nosuch"
    elif kind == "collections-object":
        plan["collections"] = {"a": 1}
    return json.dumps(plan, indent=2)


PLAN_CASES = [
    # id, how the file is made ("edit:KIND" or raw text), exit, needles
    ("plan-not-json", "raw:not json at all\n", 2, ["'[' or '{' expected", "line 1"]),
    ("plan-truncated", "trunc", 2, ["cannot read plan", "line "]),
    ("plan-empty", "raw:", 2, ["is empty", "vmigrate plan ... --json"]),
    ("plan-trailing-garbage", "garbage", 2, ["end of file expected", "line "]),
    ("plan-a-directory", "dir", 2, ["it is a directory"]),
    ("plan-missing-file", "missing", 2, ["No such file or directory"]),
    ("plan-vectors-not-array", "edit:vectors-not-array", 2, ["collections[0].vectors: must be an array"]),
    ("plan-dim-as-string", "edit:dim-as-string", 2, ["collections[0].vectors[0].dim: must be an integer"]),
    ("plan-unknown-key", "edit:unknown-key", 2, ["collections[0].colour: unknown key"]),
    ("plan-unknown-top-key", "edit:unknown-top-key", 2, ["extra: unknown key"]),
    ("plan-dim-changed", "edit:dim-changed", 2, ["field 'vector' type cannot change",
                                                 "FLOAT_VECTOR(16) in the plan file"]),
    ("plan-metric-changed", "edit:metric-changed", 2, ["metric cannot change (L2 in the source"]),
    ("plan-pk-type-changed", "edit:pk-type-changed", 2, ["primary key type cannot change"]),
    ("plan-same-collection-twice", "edit:same-collection-twice", 2,
     [f"collections[1].source: collection '{COLL}' is listed twice (also collections[0])",
      "drop the duplicate"]),
    ("plan-field-name-twice", "edit:field-name-twice", 2, ["field name 'id' is used twice"]),
    ("plan-newer-version", "edit:newer-version", 2, ["version: must be an integer from 1 to 1"]),
    ("plan-no-collections", "edit:no-collections", 2, ["the plan has no collections to migrate"]),
    ("plan-bad-target-name", "edit:bad-target-name", 2, ["target 'bad-name' is not valid"]),
    ("plan-source-gone", "edit:source-gone", 1, ["collection 'nosuch' not found on source"]),
    ("plan-collections-object", "edit:collections-object", 2, ["collections: must be an array"]),
]


@pytest.fixture(scope="module")
def good_plan(env):
    p = vm(env, "plan", "--source", env.q.url, "--target", env.m.url, "-c", COLL, "--json")
    assert p.returncode == 0, p.stderr
    return p.stdout


@cases("plan files", PLAN_CASES)
def test_plan_file(env, good_plan, tmp_path, case):
    _, how, code, needles = case
    path = str(tmp_path / "plan.json")
    if how.startswith("raw:"):
        open(path, "w").write(how[4:])
    elif how == "trunc":
        open(path, "w").write(good_plan[:len(good_plan) // 2])
    elif how == "garbage":
        open(path, "w").write(good_plan + "\nrc=0\n")
    elif how == "dir":
        os.mkdir(path)
    elif how == "missing":
        pass
    else:
        open(path, "w").write(_edit(how[5:], json.loads(good_plan)))
    store = str(tmp_path / "vm.db")
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "--plan", path,
           "--store", store)
    expect(p, code, *needles)
    if code == 2 and how not in ("missing",) and not how.startswith("edit:"):
        assert path in p.stderr, p.stderr  # the file is named
    flags_are_real(env.bin, p.stderr, "migrate", "plan")
    nothing_created(env)
    if os.path.exists(store):
        assert jobs_in(env, store) == []


# ---- options -----------------------------------------------------------------------------------

OPT_CASES = [
    # id, command line after the command, env, exit, needles
    ("opt-lease-1", ["--lease", "1"], {}, 2, ["--lease takes a whole number from 2 to 3600, not '1'"]),
    ("opt-bulk-file-size-0", ["--bulk-file-size", "0"], {}, 2, ["--bulk-file-size takes a whole number from 1 to 16384"]),
    ("opt-wait-timeout-negative", ["--wait-timeout", "-1"], {}, 2, ["--wait-timeout takes a whole number from 0 to 604800"]),
    ("opt-tasks-65", ["--tasks", "65"], {}, 2, ["--tasks takes a whole number from 1 to 64"]),
    ("opt-readers-suffix", ["--readers", "4x"], {}, 2, ["--readers takes a whole number from 1 to 64, not '4x'"]),
    ("opt-page-size-exponent", ["--page-size", "1e3"], {}, 2, ["not '1e3'"]),
    ("opt-c-and-all", ["--all"], {}, 2, ["-c NAME and --all pull opposite ways"]),
    ("opt-plan-and-c", ["--plan", "/nonexistent.json"], {}, 2, ["--plan FILE names the collections itself; drop -c"]),
    ("opt-quiet-and-verbose", ["-q", "-v"], {}, 2, ["-q (--quiet) and -v (--verbose) pull opposite ways"]),
    ("opt-unknown", ["--frobnicate"], {}, 2, ["unknown option '--frobnicate'", "vmigrate migrate --help"]),
    ("opt-missing-value", ["--store"], {}, 2, ["option --store needs a value (PATH)"]),
    ("opt-null-values-word", ["--null-values", "maybe"], {}, 2, ["--null-values must be fail, drop or keep, not 'maybe'"]),
    ("opt-index-word", ["--index", "bogus"], {}, 2, ["--index must be AUTOINDEX, HNSW or auto, not 'bogus'"]),
    ("opt-write-mode-word", ["--write-mode", "fast"], {}, 2, ["--write-mode must be rows, bulk or auto, not 'fast'"]),
    ("opt-bulk-on-lite", ["--write-mode", "bulk"], {}, 2, ["--write-mode rows"]),
    ("opt-env-protocol", [], {"VMIGRATE_SOURCE_PROTOCOL": "soap"}, 2, ["--source-protocol must be rest or grpc, not 'soap'"]),
    ("opt-env-db-missing", [], {"MILVUS_DB": "no db here"}, 1, ["database 'no db here' does not exist", "--db NAME"]),
]


@cases("options", OPT_CASES)
def test_option(env, tmp_path, case):
    _, extra, given, code, needles = case
    store = str(tmp_path / "vm.db")
    args = ["migrate", "--source", env.q.url, "--target", env.m.url, "-c", COLL]
    if extra != ["--store"]:
        args += ["--store", store]
    p = vm(env, *args, *extra, env=given)
    expect(p, code, *needles)
    flags_are_real(env.bin, p.stderr, "migrate", ignore=[a for a in extra if a.startswith("--")])
    nothing_created(env)
    if os.path.exists(store):
        assert jobs_in(env, store) == []


def test_env_source_that_is_no_url(env):
    p = vm(env, "collections", env={"VMIGRATE_SOURCE": "qdrant.example"})
    expect(p, 2, "Qdrant URL 'qdrant.example' must start with http:// or https://")


def test_env_metrics_listen_that_is_no_port(env, tmp_path):
    p = vm(env, "worker", "--store", str(tmp_path / "w.db"),
           env={"VMIGRATE_METRICS_LISTEN": "localhost:http"})
    expect(p, 2, "--metrics-listen must be [HOST:]PORT with PORT from 0 to 65535")
    flags_are_real(env.bin, p.stderr, "worker")


CASES["options"] += ["opt-env-source", "opt-env-metrics-listen"]


# ---- data shapes -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shapes(env):
    qc = env.qc

    def make(name, vc, points):
        if qc.collection_exists(name):
            qc.delete_collection(name)
        qc.create_collection(name, vectors_config=vc)
        if points:
            qc.upsert(name, points=points, wait=True)
    make("bad_dim_big", models.VectorParams(size=32769, distance=models.Distance.COSINE),
         [models.PointStruct(id=1, vector=[0.5] * 32769)])
    make("bad_dim_one", models.VectorParams(size=1, distance=models.Distance.DOT),
         [models.PointStruct(id=1, vector=[0.5])])
    make("bad_names", {"a-b": models.VectorParams(size=4, distance=models.Distance.DOT),
                       "a_b": models.VectorParams(size=4, distance=models.Distance.DOT)},
         [models.PointStruct(id=1, vector={"a-b": [1, 2, 3, 4], "a_b": [1, 2, 3, 5]})])
    make("bad_values", models.VectorParams(size=4, distance=models.Distance.DOT),
         [models.PointStruct(id=i, vector=[1.0, 2, 3, 4],
                             payload={"n": 2**64 - 1 if i == 7 else i,
                                      "title": "x" * 70000 if i == 9 else "t"})
          for i in range(20)])
    return env


DATA_CASES = [
    # id, collection, extra args, exit, needles, target left (named in the message) or None
    ("data-dim-over-32768", "bad_dim_big", [], 4,
     ["collection 'bad_dim_big'", "dimension 32769", "2 to 32768 dimensions"], None),
    ("data-dim-one", "bad_dim_one", [], 4, ["collection 'bad_dim_one'", "dimension 1"], None),
    ("data-rename-onto-a-vector", "bad_names", ["--rename", "bad_names.a-b=a_b"], 2,
     ["collection 'bad_names'", "'a_b'", "must be unique"], None),
    ("data-payload-over-64k", "bad_values", [], 1,
     ["point 9 in collection 'bad_values'", "over Milvus's 65536-byte JSON limit",
      "--rejects FILE", "left partially filled"], "bad_values"),
    ("data-int64-overflow", "bad_values", ["--target-name", "bad_values=bad_int",
                                           "--field", "bad_values.n=INT64", "--payload-misfit",
                                           "fail"], 1,
     ["point 7 in collection 'bad_values'", "payload key 'n' is out of the INT64 range",
      "--payload-misfit", "left partially filled"], "bad_int"),
    ("data-varchar-too-long", "bad_values", ["--target-name", "bad_values=bad_str",
                                             "--field", "bad_values.title=VARCHAR:max_length=8",
                                             "--payload-misfit", "fail", "--rejects",
                                             "/dev/null"], 1,
     ["point 9 in collection 'bad_values'", "title", "left partially filled"], "bad_str"),
]


@cases("data shapes", DATA_CASES)
def test_data_shape(shapes, tmp_path, case):
    env = shapes
    _, coll, extra, code, needles, left = case
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", coll, *extra,
           "--store", str(tmp_path / "vm.db"))
    expect(p, code, *needles)
    flags_are_real(env.bin, p.stderr, "migrate", "jobs retry")
    if left is None:
        nothing_created(env)
    else:  # the message said the target is left; its job is real and names it
        m = re.search(r"vmigrate jobs retry (j[0-9a-f]+)", p.stderr)
        assert m, p.stderr
        s = vm(env, "jobs", "show", m.group(1), "--store", str(tmp_path / "vm.db"), "--json")
        assert s.returncode == 0 and json.loads(s.stdout)["status"] == "FAILED", s.stdout
        assert env.mc.has_collection(left)
        env.mc.drop_collection(left)
        nothing_created(env)


# ---- HTTP API ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api(env, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("badin-serve"))
    s = Serve(env.bin, d, "--web-root", os.path.join(os.path.dirname(__file__), "..", "..", "web"))
    s.dir = d
    env.stores.append(os.path.join(d, "vm.db"))
    yield s
    s.stop()
    SEEN.append(s.stderr())


def dead():
    return "http://127.0.0.1:1"


HTTP_CASES = [
    # id, method, path, body (bytes, dict or None), status, needle in the body
    ("http-body-over-16mib", "POST", "/api/v1/plan", b" " * (16 * 1024 * 1024 + 10), 413,
     "larger than 16 MiB"),
    ("http-nesting-100k", "POST", "/api/v1/plan", b"[" * 100000, 400, "maximum parsing depth"),
    ("http-duplicate-key", "POST", "/api/v1/source/check",
     b'{"source":{"url":"http://x"},"source":{"url":"http://y"}}', 400, "duplicate object key"),
    ("http-number-overflow", "POST", "/api/v1/source/check",
     b'{"source":{"url":"http://127.0.0.1:1","timeout_s":1e400}}', 400, "real number overflow"),
    ("http-lone-surrogate", "POST", "/api/v1/source/check", b'{"source":{"url":"\\ud800"}}', 400,
     "invalid Unicode"),
    ("http-empty-body", "POST", "/api/v1/plan", b"", 400, "source is required"),
    ("http-url-a-number", "POST", "/api/v1/source/check", {"source": {"url": 5}}, 400,
     "source.url must be a string"),
    ("http-collections-a-string", "POST", "/api/v1/plan",
     {"source": {"url": dead()}, "target": {"url": dead()}, "collections": "abc"}, 400,
     "collections must be an array"),
    ("http-collections-numbers", "POST", "/api/v1/plan",
     {"source": {"url": dead()}, "target": {"url": dead()}, "collections": [1, 2]}, 400,
     "collections[0] must be a non-empty string"),
    ("http-readers-fraction", "POST", "/api/v1/jobs",
     {"source": {"url": dead()}, "target": {"url": dead()}, "options": {"readers": 1.5}}, 400,
     "options.readers must be an integer from 1 to 64"),
    ("http-source-no-host", "POST", "/api/v1/source/check", {"source": {"url": "http://"}}, 400,
     "has no host"),
    ("http-target-path", "POST", "/api/v1/target/check", {"target": {"url": dead() + "/db"}}, 400,
     "has a path"),
    ("http-key-tab", "POST", "/api/v1/jobs",
     {"source": {"url": dead(), "api_key": "a\t" + KEY}, "target": {"url": dead()}}, 400,
     "source.api_key"),
    ("http-status-word", "GET", "/api/v1/jobs?status=WHATEVER", None, 400,
     "status must be PENDING, IN_PROGRESS, SUCCESSFUL, FAILED or CANCELLED"),
    ("http-put-job", "PUT", "/api/v1/jobs/jdeadbeef", None, 405, "use GET"),
    ("http-delete-job", "DELETE", "/api/v1/jobs/jdeadbeef", None, 405, "use GET"),
    ("http-unknown-action", "POST", "/api/v1/jobs/jdeadbeef/explode", None, 404,
     "unknown job action 'explode'"),
    ("http-job-id-traversal", "GET", "/api/v1/jobs/..%2f..%2fetc%2fpasswd", None, 404, ""),
    ("http-job-id-5000", "GET", "/api/v1/jobs/" + "j" * 5000, None, 404, "no such job"),
    ("http-static-encoded-dotdot", "GET", "/..%2f..%2f..%2fetc/passwd", None, 404, "not found"),
    ("http-static-double-encoded", "GET", "/%252e%252e/%252e%252e/etc/passwd", None, 404,
     "not found"),
    ("http-static-backslash", "GET", "/js/..%5c..%5c..%5cetc%5cpasswd", None, 404, "not found"),
    ("http-static-nul", "GET", "/index.html%00.png", None, 404, "not found"),
    ("http-static-raw-dotdot", "GET", "/js/../../../../etc/passwd", None, 404, "not found"),
]


def raw_request(base, method, path, body):
    """One request with the path sent exactly as written (no client normalisation)."""
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    headers = {"Content-Type": "application/json"}
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    try:
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    except (BrokenPipeError, ConnectionResetError):
        return 413, "larger than 16 MiB (connection closed)"
    finally:
        c.close()


@cases("http", HTTP_CASES)
def test_http(env, api, case):
    _, method, path, body, status, needle = case
    code, text = raw_request(api.url, method, path, body)
    SEEN.append(text)
    assert code == status, (code, text[:2000])
    assert needle in text, text[:2000]
    assert "root:" not in text  # no /etc/passwd
    if path.startswith("/api/"):
        err = json.loads(text)["error"] if code != 413 or text.startswith("{") else None
        if err:
            assert err["code"] in ("usage", "not_found"), err
    r = requests.get(api.url + "/api/v1/jobs", timeout=60)
    assert r.status_code == 200 and r.json()["jobs"] == []
    nothing_created(env)


# ---- job-store states --------------------------------------------------------------------------

def test_store_corrupt_bytes(env, tmp_path):
    path = str(tmp_path / "vm.db")
    data = os.urandom(8192)
    open(path, "wb").write(data)
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", COLL,
           "--store", path)
    expect(p, 1, f"cannot open job store '{path}': file is not a database",
           "it is not a vmigrate job store")
    assert open(path, "rb").read() == data  # left as it was
    nothing_created(env)


def test_store_a_text_file(env, tmp_path):
    path = str(tmp_path / "notes.txt")
    open(path, "w").write("my notes, not a database\n")
    p = vm(env, "jobs", "--store", path)
    expect(p, 1, "it is not a vmigrate job store")
    assert open(path).read() == "my notes, not a database\n"


def test_store_path_is_a_directory(env, tmp_path):
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", COLL,
           "--store", str(tmp_path))
    expect(p, 2, f"job store '{tmp_path}' is a directory", f"'{tmp_path}/vmigrate.db'")
    nothing_created(env)


def test_serve_with_a_store_that_is_a_directory(env, tmp_path):
    p = vm(env, "serve", "--listen", "127.0.0.1:0", "--store", str(tmp_path), timeout=60)
    assert p.returncode != 0, p.stderr
    assert f"job store '{tmp_path}' is a directory" in p.stderr, p.stderr


def test_store_in_a_directory_nobody_can_write(env):
    """/proc takes no new files, even for root (the suite runs as root, so chmod would not do)."""
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", COLL,
           "--store", "/proc/vmigrate-badin.db")
    expect(p, 1, "cannot open job store '/proc/vmigrate-badin.db'", "can this user write")
    nothing_created(env)


def test_store_from_a_newer_vmigrate(env, tmp_path):
    path = str(tmp_path / "vm.db")
    p = vm(env, "jobs", "--store", path)
    assert p.returncode == 0, p.stderr
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA user_version = 999")
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", COLL,
           "--store", path)
    expect(p, 1, "job store schema version 999 is newer than this vmigrate knows",
           "upgrade vmigrate")
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 999  # not rewritten
    nothing_created(env)


def test_store_a_missing_parent_under_a_file(env, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    p = vm(env, "jobs", "--store", str(f / "sub" / "vm.db"))
    expect(p, 1, "cannot create the directory of job store")


@pytest.mark.targets("milvus23")  # and Lite (the module's): the real server keeps doubled keys
def test_two_workers_race_for_one_job(env, tmp_path):
    """Two `vmigrate worker`s on one store and one pending job: one claims it, the collection
    holds every point exactly once (pymilvus; on the real Milvus 2.3.5 too, which would keep a
    doubled row), the job ends SUCCESSFUL."""
    store = str(tmp_path / "race.db")
    env.stores.append(store)
    target = "badin_race"
    p = vm(env, "migrate", "--source", env.q.url, "--target", env.m.url, "-c", COLL,
           "--target-name", f"{COLL}={target}", "--store", store, "--detach", "--json")
    assert p.returncode == 0, p.stderr
    jid = json.loads(p.stdout)["id"]
    e = vmigrate_env(dict(env.env))
    logs = [open(tmp_path / f"w{i}.log", "w") for i in range(2)]
    ws = [subprocess.Popen([env.bin, "worker", "--store", store], stdout=subprocess.DEVNULL,
                           stderr=logs[i], env=e) for i in range(2)]
    try:
        deadline = time.monotonic() + 300
        while True:
            s = vm(env, "jobs", "show", jid, "--store", store, "--json")
            st = json.loads(s.stdout)["status"] if s.returncode == 0 else None
            if st in ("SUCCESSFUL", "FAILED", "CANCELLED"):
                break
            assert time.monotonic() < deadline, s.stdout + s.stderr
            time.sleep(0.2)
    finally:
        for w in ws:
            w.send_signal(signal.SIGINT)
        for w in ws:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                w.kill()
        for f in logs:
            f.close()
    out = [open(tmp_path / f"w{i}.log").read() for i in range(2)]
    SEEN.extend(out)
    assert st == "SUCCESSFUL", out
    ran = [o for o in out if jid in o]
    assert len(ran) == 1, out  # exactly one worker took it
    rows = env.mc.query(target, filter="", output_fields=["id"], limit=1000,
                        consistency_level="Strong")
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == 300
    n = env.mc.query(target, filter="", output_fields=["count(*)"],
                     consistency_level="Strong")[0]["count(*)"]
    assert n == 300, n
    env.mc.drop_collection(target)


CASES["store"] = ["store-corrupt", "store-text-file", "store-directory", "store-serve-directory",
                  "store-unwritable", "store-newer-schema", "store-parent-is-file",
                  "store-two-workers"]


# ---- the secrets and the table ------------------------------------------------------------------

def test_no_secret_in_any_output_or_store(env):
    assert SEEN
    for text in SEEN:
        for s in SECRETS:
            assert s not in text, f"secret {s!r} in output:\n{text[:2000]}"
    for path in env.stores:
        for p in (path, path + "-wal"):
            if os.path.exists(p):
                data = open(p, "rb").read()
                for s in SECRETS:
                    assert s.encode() not in data, (p, s)


def test_the_table_counts_every_case():
    table = {"urls": 18, "credentials": 9, "names": 12, "plan files": 20, "options": 19,
             "data shapes": 6, "http": 24, "store": 8}
    got = {k: len(v) for k, v in CASES.items()}
    assert got == table, got
    ids = [i for v in CASES.values() for i in v]
    assert len(ids) == len(set(ids)) == 116 and len(ids) >= 60
