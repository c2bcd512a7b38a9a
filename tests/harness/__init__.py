"""Test harness: start/stop Milvus Lite, a real Milvus server and the Qdrant test server for pytest and scripts.

Import from here: `from tests.harness import MilvusLite, QdrantTestServer, qdrant_client_for,
milvus_client_for`. See servers.py and docs/internals/TESTING.md.
"""

from tests.harness.servers import (  # noqa: F401
    MilvusLite,
    MilvusServer,
    QdrantTestServer,
    ServerError,
    free_port,
    milvus_client_for,
    qdrant_client_for,
)
