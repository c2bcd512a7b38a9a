"""pytest fixtures shared by every Python test: a Milvus target and a Qdrant test server per
test module (started on free ports in temporary folders, always torn down), helpers returning the
official clients for them, and the path of the vmigrate binary under test. The server classes
live in tests/harness/servers.py so scripts can use them without pytest.

Target matrix: every test that uses the `milvus` fixture runs once per Milvus target,
"milvus23" (the real Milvus 2.3.5 standalone server from PyPI `milvus`) and "lite" (Milvus
Lite, for the shapes 2.3 cannot hold: several vector fields, sparse). A test or parameter
marked `@pytest.mark.targets("lite")` runs only on the named targets; the other variants are
deselected (not skipped), so the summary counts what really ran. `--targets lite` narrows a
local run.
"""

import os
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.harness.servers import (  # noqa: E402
    MilvusLite,
    MilvusServer,
    QdrantTestServer,
    milvus_client_for,
    qdrant_client_for,
)

__all__ = ["milvus_client_for", "qdrant_client_for"]


def _serve(request, server):
    server.start()

    def fin():
        failed = getattr(request.module, "_vmig_failed", False)
        if failed:
            sys.stderr.write(f"\n--- {server.name} log tail ({server.log_path}):\n"
                             f"{server.log_tail()}\n")
        server.close()

    request.addfinalizer(fin)
    return server


TARGETS = ("milvus23", "lite")


def pytest_addoption(parser):
    parser.addoption("--targets", default=",".join(TARGETS),
                     help="comma-separated Milvus targets to run on (milvus23, lite)")


def pytest_configure(config):
    config.addinivalue_line("markers", "targets(*names): run only on these Milvus targets "
                            "(milvus23 = real Milvus 2.3.5 server, lite = Milvus Lite)")


def pytest_generate_tests(metafunc):
    if "milvus" in metafunc.fixturenames:
        wanted = [t for t in metafunc.config.getoption("targets").split(",") if t]
        bad = [t for t in wanted if t not in TARGETS]
        if bad:
            raise pytest.UsageError(f"--targets: unknown target(s) {bad}; known: {TARGETS}")
        metafunc.parametrize("milvus", [t for t in TARGETS if t in wanted], indirect=True,
                             scope="module")


def item_target(item):
    """The Milvus target an item runs on, or None when it uses no `milvus` fixture."""
    cs = getattr(item, "callspec", None)
    return cs.params.get("milvus") if cs else None


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        t = item_target(item)
        allowed = set()
        for m in item.iter_markers("targets"):
            allowed.update(m.args)
        (drop if t and allowed and t not in allowed else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        # Mark the module so module-scoped server finalizers print their log tails.
        item.module._vmig_failed = True  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def milvus(request):
    """A fresh Milvus target for this test module: MilvusServer (real Milvus 2.3.5) for
    "milvus23", MilvusLite for "lite". `.target` names which."""
    target = getattr(request, "param", "lite")
    srv = MilvusServer() if target == "milvus23" else MilvusLite()
    srv.target = target
    return _serve(request, srv)


@pytest.fixture(scope="module")
def qdrant(request):
    """A fresh Qdrant test server for this test module (QdrantTestServer object)."""
    srv = QdrantTestServer()
    return _serve(request, srv)


@pytest.fixture(scope="module")
def qdrant_client(qdrant):
    """qdrant_client.QdrantClient (REST) for the module's Qdrant test server."""
    client = qdrant_client_for(qdrant)
    yield client
    client.close()


@pytest.fixture(scope="module")
def milvus_client(milvus):
    """pymilvus.MilvusClient for the module's Milvus target."""
    client = milvus_client_for(milvus)
    yield client
    client.close()


@pytest.fixture(scope="session")
def vmigrate_bin():
    """Path of the vmigrate binary: $VMIGRATE_BIN or build/dev/vmigrate. Fails if missing."""
    path = os.environ.get("VMIGRATE_BIN") or os.path.join(REPO, "build", "dev", "vmigrate")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"vmigrate binary not found or not executable: {path} "
                    "(build it with `make dev` or set VMIGRATE_BIN)", pytrace=False)
    return path


@pytest.fixture(scope="module")
def postgres(request):
    """A PostgreSQL server for this test module (tests/harness/postgres.py PostgresServer):
    `.url(db)` (no password in it), `.env()` (PGPASSWORD set), `.database()` a fresh one."""
    from tests.harness.postgres import PostgresServer
    return _serve(request, PostgresServer())


@pytest.fixture
def pg_store(postgres):
    """A fresh database on the module's PostgreSQL server for one test: (url, env)."""
    return postgres.database(), postgres.env()
