#!/usr/bin/env python3
"""Search parity on W1 (issue 15 part 3): load bench/run's W1 (100 000 x 768-d Cosine) into the
Qdrant test server, migrate it to the real Milvus 2.3.5 server (or --target lite) with the release
build, then time `vmigrate verify --search N --sample 0 --json` and record its figures (overlap
mean/min, identical lists, max score difference) in bench/results/search-<date>-<commit>.json.
Not part of `make bench` (one run, not a rate); docs/internals/PERFORMANCE.md quotes it.

Usage: bench/search_parity.py [--points 100000] [--queries 100] [--top-k 10]
       [--target milvus23|lite]
"""

import argparse
import datetime
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, REPO)

from tests.harness import MilvusLite, MilvusServer, QdrantTestServer  # noqa: E402


def bench_run_module():
    """bench/run (no .py suffix) as a module, for its W1 definition and loader."""
    loader = importlib.machinery.SourceFileLoader("bench_run", os.path.join(REPO, "bench", "run"))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    mod = importlib.util.module_from_spec(spec)
    os.environ["VMIG_BENCH_NO_REEXEC"] = "1"
    loader.exec_module(mod)
    return mod


def client_recall(q, m, k, n=20):
    """Independent figures: qdrant-client exact top-k vs pymilvus search of the same vectors
    with several search params (which of them the index honours shows in the recall)."""
    from qdrant_client import models

    from tests.harness import milvus_client_for, qdrant_client_for
    qc, mc = qdrant_client_for(q), milvus_client_for(m)
    ids = [p.id for p in qc.query_points(
        "w1", query=models.SampleQuery(sample=models.Sample.RANDOM), limit=n).points]
    recs = qc.retrieve("w1", ids, with_vectors=True)
    truth = [{p.id for p in qc.query_points("w1", query=r.vector, limit=k,
                                            search_params=models.SearchParams(exact=True)).points}
             for r in recs]
    out = {}
    for params in ({}, {"ef": 512}, {"ef": 4096}, {"level": 5}):
        try:
            res = mc.search("w1", data=[r.vector for r in recs], anns_field="vector", limit=k,
                            search_params={"metric_type": "COSINE", "params": params},
                            consistency_level="Strong")
            got = [{h["id"] for h in hits} for hits in res]
            out[json.dumps(params)] = round(sum(len(t & g) for t, g in zip(truth, got))
                                            / (k * len(recs)), 4)
        except Exception as exc:  # noqa: BLE001
            out[json.dumps(params)] = f"error: {exc}"[:200]
    out["index"] = {kk: str(v) for kk, v in mc.describe_index("w1", "vector").items()}
    qc.close()
    mc.close()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--target", default="milvus23", choices=("milvus23", "lite"))
    a = ap.parse_args()
    br = bench_run_module()
    binary = os.path.join(REPO, "build", "release", "vmigrate")
    env = dict(os.environ)
    env.setdefault("XDG_DATA_HOME", "/tmp/vmig-search-bench/data")
    env.setdefault("XDG_CONFIG_HOME", "/tmp/vmig-search-bench/config")
    q = QdrantTestServer()
    m = MilvusServer() if a.target == "milvus23" else MilvusLite()
    q.start()
    m.start()
    try:
        facts = br.load_workload(q.url, "w1", br.WORKLOADS["W1"], a.points)
        base = ["--source", q.url, "--target", m.url, "-c", "w1"]
        t0 = time.monotonic()
        # --wait-index: search the built index (unindexed segments would be searched exactly)
        subprocess.run([binary, "migrate", *base, "--no-verify", "--wait-index", "--quiet"],
                       env=env, check=True)
        migrate_s = time.monotonic() - t0
        t0 = time.monotonic()
        p = subprocess.run([binary, "verify", *base, "--sample", "0", "--search", str(a.queries),
                            "--top-k", str(a.top_k), "--json"], env=env, capture_output=True,
                           text=True)
        search_s = time.monotonic() - t0
        doc = json.loads(p.stdout)[0]
        recall = client_recall(q, m, a.top_k)
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        out = {"commit": commit, "date": datetime.date.today().isoformat(), "target": a.target,
               "workload": "W1", "points": a.points, "queries": a.queries, "top_k": a.top_k,
               "exit_code": p.returncode, "migrate_seconds": round(migrate_s, 1),
               "verify_search_seconds": round(search_s, 1), "search": doc["search"],
               "client_recall": recall,
               "data": facts}
        path = os.path.join(REPO, "bench", "results",
                            f"search-{out['date']}-{commit}-{a.target}.json")
        with open(path, "w") as f:
            json.dump(out, f, indent=1)
        print(json.dumps(out, indent=1))
        print("written", path, file=sys.stderr)
        return 0 if p.returncode in (0, 5) else p.returncode
    finally:
        q.close()
        m.close()


if __name__ == "__main__":
    sys.exit(main())
