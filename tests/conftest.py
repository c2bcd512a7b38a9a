"""pytest fixtures shared by every Python test: a Milvus Lite server and a Qdrant test server per
test module (started on free ports in temporary folders, always torn down), helpers returning the
official clients for them, and the path of the vmigrate binary under test. The server classes
live in tests/harness/servers.py so scripts can use them without pytest.
"""

import os
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.harness.servers import (  # noqa: E402
    MilvusLite,
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        # Mark the module so module-scoped server finalizers print their log tails.
        item.module._vmig_failed = True  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def milvus(request):
    """A fresh Milvus Lite server for this test module (MilvusLite object)."""
    srv = MilvusLite()
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
    """pymilvus.MilvusClient for the module's Milvus Lite server."""
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
