"""Checker for the console's browser test: proves, with qdrant-client and pymilvus (not
vmigrate), that a Qdrant collection landed in Milvus under the names edited in the console.

  .venv/bin/python tests/browser/check.py SPEC_JSON

SPEC_JSON: {"qdrant": URL, "qdrant_api_key": KEY|null, "milvus": URL, "checks": [
  {"source": "dg_x", "target": "renamed", "pk": "id", "description": TEXT|null,
   "vectors": {"": ["embedding", "dense"], "sparse": ["sparse", "sparse"]}}]}

Exits 0 and prints "ok ..." per check, or exits 1 with the reason.
"""

import json
import os
import sys
import warnings

warnings.filterwarnings("ignore", message="Api key is used with an insecure connection")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.integration.checks import compare  # noqa: E402


def main():
    spec = json.loads(sys.argv[1])
    from pymilvus import MilvusClient
    from qdrant_client import QdrantClient
    qc = QdrantClient(url=spec["qdrant"], api_key=spec.get("qdrant_api_key"), prefer_grpc=False,
                      timeout=60)
    mc = MilvusClient(uri=spec["milvus"])
    try:
        for c in spec["checks"]:
            vectors = {k: tuple(v) for k, v in c["vectors"].items()}
            compare(qc, mc, c["source"], c["target"], vectors, pk=c.get("pk", "id"))
            desc = mc.describe_collection(c["target"])
            fields = {f["name"] for f in desc["fields"]}
            want = {c.get("pk", "id")} | {f for f, _ in vectors.values()}
            assert want <= fields, f"{c['target']}: fields {sorted(fields)}, expected {sorted(want)}"
            if c.get("description") is not None:
                assert desc.get("description") == c["description"], \
                    f"{c['target']}: description {desc.get('description')!r}"
            print(f"ok {c['source']} -> {c['target']} ({', '.join(sorted(want))})")
    except AssertionError as e:
        print(f"check failed: {e}", file=sys.stderr)
        return 1
    finally:
        qc.close()
        mc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
