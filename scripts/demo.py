"""The demo behind scripts/demo: local servers, seeded collections, a real vmigrate migration,
and an independent read-back through pymilvus. Options: --points N (default 20000 for the
768-d collection), --bin PATH (default build/release/vmigrate)."""

import argparse
import os
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, REPO)

from tests.datagen import datagen  # noqa: E402
from tests.harness.servers import (MilvusLite, QdrantTestServer, milvus_client_for,  # noqa: E402
                                   qdrant_client_for)


def step(msg):
    print(f"\n\033[1m== {msg}\033[0m", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=20000)
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "release", "vmigrate"))
    a = ap.parse_args()
    with MilvusLite() as milvus, QdrantTestServer() as qdrant:
        step(f"Qdrant test server at {qdrant.url}, Milvus Lite at {milvus.url}")
        qc = qdrant_client_for(qdrant)
        t = time.time()
        demo = datagen.generate(qc, "single_cosine_768", n=a.points, name="demo_docs")
        multi = datagen.generate(qc, "named_mixed", name="demo_products")
        print(f"seeded '{demo}' ({a.points} points, 768-d Cosine) and '{multi}' "
              f"(two dense + one sparse vector) in {time.time() - t:.1f} s")
        base = ["--source", qdrant.url, "--target", milvus.url]

        def run(*args):
            print("$ vmigrate " + " ".join(args), flush=True)
            subprocess.run([a.bin, *args], check=True)

        step("what is in Qdrant")
        run("collections", "--source", qdrant.url)
        step("the Milvus schema vmigrate will create")
        run("plan", *base, "-c", demo, "-c", multi)
        step("migrate: parallel copy, index, load, verify")
        run("migrate", *base, "-c", demo, "-c", multi)
        step("read back independently with pymilvus")
        mc = milvus_client_for(milvus)
        for coll in (demo, multi):
            n = mc.query(coll, filter="", output_fields=["count(*)"])[0]["count(*)"]
            row = mc.query(coll, filter="", output_fields=["*"], limit=1)[0]
            keys = ", ".join(k for k in row if k != "id")
            print(f"{coll}: {n} rows in Milvus (Qdrant: {qc.count(coll, exact=True).count}); "
                  f"first row id={row['id']} fields: {keys}")
        hits = mc.search(demo, data=[qc.scroll(demo, limit=1, with_vectors=True)[0][0].vector],
                         limit=3, output_fields=["id"])
        print(f"search in '{demo}' works: top ids {[h['id'] for h in hits[0]]}")
    print("\ndemo done: servers stopped.")


if __name__ == "__main__":
    main()
