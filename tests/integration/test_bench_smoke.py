"""Smoke test of the benchmark code, so it cannot rot: `bench/run --quick --reps 1` (tiny W1 and
W2 into Milvus Lite, W1 into the real Milvus 2.3.5 server; reads and migrations over REST and
gRPC) into a temporary results folder, then the JSON must hold every measurement of every tool
with sane non-zero figures (bytes on the wire from the test server's counters too), the table and
chart must exist, and the collections `vmigrate migrate` made must hold exactly the source's
points - counted with pymilvus on the kept data folders of both servers, not taken from
vmigrate's report. No timing is asserted (see bench/run for the real run).
"""

import glob
import json
import os
import subprocess
import sys

import pytest

from tests.harness.servers import MilvusLite, MilvusServer, milvus_client_for

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RELEASE = os.path.join(REPO, "build", "release")
TOOLS = ["read", "read-grpc", "write", "migrate", "migrate-grpc", "migrate+verify", "reference"]


@pytest.fixture(scope="module")
def bench_result(tmp_path_factory):
    for exe in ("vmigrate", "bench_read", "bench_write"):
        if not os.access(os.path.join(RELEASE, exe), os.X_OK):
            pytest.fail(f"build/release/{exe} missing: `make release` first", pytrace=False)
    out = tmp_path_factory.mktemp("bench-results")
    keep = tmp_path_factory.mktemp("bench-milvus")
    keep23 = tmp_path_factory.mktemp("bench-milvus23")
    p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "run"), "--quick", "--reps",
                        "1", "--out", str(out), "--keep-milvus", str(keep),
                        "--keep-milvus23", str(keep23)],
                       capture_output=True, text=True, timeout=900, cwd=REPO)
    assert p.returncode == 0, f"bench/run failed ({p.returncode}):\n{p.stderr[-6000:]}"
    files = glob.glob(os.path.join(out, "*.json"))
    assert len(files) == 1, files
    with open(files[0]) as fh:
        doc = json.load(fh)
    return doc, out, {"Milvus Lite": (MilvusLite, keep), "Milvus 2.3.5": (MilvusServer, keep23)}


def test_report_files(bench_result):
    doc, out, _ = bench_result
    assert doc["commit"] and doc["machine"]["nproc"] >= 1 and doc["machine"]["cpu_model"]
    assert doc["machine"]["versions"]["pymilvus"]
    md = open(os.path.join(out, "latest.md")).read()
    for tool in TOOLS:
        assert f"| {tool} |" in md
    with open(os.path.join(out, "latest.png"), "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("wl", ["W1", "W2", "W1@milvus23"])
def test_every_measurement_is_sane(bench_result, wl):
    doc, _, _ = bench_result
    w = doc["workloads"][wl]
    n = w["dataset"]["points"]
    assert n > 0 and w["dataset"]["vector_bytes"] > 0
    for tool in TOOLS:
        m = w["median"][tool]
        assert m["seconds"] > 0, (tool, m)
        assert m["points_per_s"] > 0 and m["vector_mb_per_s"] > 0, (tool, m)
        # a quick run of a few hundred points may use less CPU than the clock tick that
        # getrusage counts in: >= 0, never a figure that depends on the machine's speed
        assert m["cpu_seconds"] >= 0, (tool, m)
        assert 1 < m["maxrss_mib"] < 4096, (tool, m)
        assert m["servers_cpu_seconds"] > 0, (tool, m)
        assert 0 <= m["cpu_share"] < 1, (tool, m)
        (run,) = w["runs"][tool]
        assert run["points"] == n, (tool, run)
    assert w["median"]["migrate"]["copy_seconds"] > 0
    assert w["median"]["migrate-grpc"]["copy_seconds"] > 0
    # bytes on the wire from the test server's counters, of the face each tool used
    for tool in ("read", "read-grpc", "migrate", "migrate-grpc"):
        (run,) = w["runs"][tool]
        face = "grpc" if tool.endswith("-grpc") else "rest"
        assert run["wire_bytes"] > 0 and run["requests"] > 0, (tool, run)
        assert run["wire"][face]["response_bytes"] == run["wire_bytes"], (tool, run)
        assert w["median"][tool]["wire_bytes_per_point"] > 0, tool
    r = w["ratios"]
    for k in ("grpc_read_speedup", "wire_reduction", "grpc_migrate_speedup"):
        assert r[k] > 0, (k, r)
    assert w["runs"]["migrate+verify"][0]["detail"]["verify"], "verification did not run"
    assert r["efficiency"] > 0 and r["speedup"] > 0 and 0 <= r["cpu_share"] < 1
    ref = w["runs"]["reference"][0]
    assert ref["detail"]["loaded_seconds"] >= ref["seconds"], ref


def test_read_tools_alone_start_no_milvus(tmp_path):
    """--tools read,read-grpc: no Milvus is needed; the ratios and targets are still there."""
    p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "run"), "--quick", "--reps",
                        "1", "--workloads", "W1", "--tools", "read,read-grpc", "--out",
                        str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert p.returncode == 0, p.stderr[-4000:]
    assert " up in " not in p.stderr, p.stderr  # bench/run logs "<Milvus> up in N s"
    (f,) = glob.glob(os.path.join(tmp_path, "*.json"))
    with open(f) as fh:
        doc = json.load(fh)
    w = doc["workloads"]["W1"]
    assert set(w["median"]) == {"read", "read-grpc"} and w["target_id"] is None
    assert w["ratios"]["wire_reduction"] > 1, w["ratios"]
    names = {t["target"] for t in doc["targets"]}
    assert "gRPC read >= 2x REST read points/s (W1)" in names, names
    md = open(os.path.join(tmp_path, "latest.md")).read()
    assert "| read-grpc |" in md and "REST vs gRPC reads (W1" in md


def test_read_tools_through_a_slow_link(tmp_path):
    """--link-mbit 50 (tests/harness/link.py between the readers and Qdrant): both read tools
    move every point, and every byte the server sent went through the link."""
    p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "run"), "--quick", "--reps",
                        "1", "--workloads", "W1", "--tools", "read,read-grpc", "--link-mbit",
                        "50", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=300, cwd=REPO)
    assert p.returncode == 0, p.stderr[-4000:]
    assert "through a 50 Mbit/s link" in p.stderr, p.stderr[-4000:]
    (f,) = glob.glob(os.path.join(tmp_path, "*.json"))
    with open(f) as fh:
        doc = json.load(fh)
    assert doc["link_mbit"] == 50 and not doc["failures"], doc["failures"]
    w = doc["workloads"]["W1"]
    n = w["dataset"]["points"]
    assert n > 0
    for tool in ("read", "read-grpc"):
        (run,) = w["runs"][tool]
        assert run["points"] == n, (tool, run)
        assert run["wire_bytes"] > 0 and run["link_down_bytes"] >= run["wire_bytes"], (tool, run)


def test_migrate_moved_exact_count(bench_result):
    """Count what `vmigrate migrate` wrote, with pymilvus, on the kept data of each server."""
    doc, _, kept = bench_result
    for target, (cls, keep) in kept.items():
        mine = {wl: w for wl, w in doc["workloads"].items() if w["target"].startswith(target)}
        assert mine, (target, list(doc["workloads"]))
        with cls(data_dir=str(keep)) as milvus:
            mc = milvus_client_for(milvus)
            try:
                for wl, w in mine.items():
                    for tool in ("migrate", "migrate-grpc", "migrate+verify"):
                        name = w["runs"][tool][0]["target"]
                        assert mc.has_collection(name), name
                        mc.load_collection(name)
                        res = mc.query(name, filter="", output_fields=["count(*)"],
                                       consistency_level="Strong")
                        assert res[0]["count(*)"] == w["dataset"]["points"], (wl, tool, res)
            finally:
                mc.close()


def test_workers_tool(tmp_path):
    """--tools workers (issue 14) on 2 000 W1 points with 1 and 2 workers, on the real Milvus
    2.3.5 server through the ledger proxy's insert quota (2 MB/s: ~7 MB of inserts cannot pass
    without throttled answers): each run moved every point (bench/run counts the collection
    with pymilvus and fails otherwise; the proxy's ledger holds no key twice), each worker's
    peak RSS and CPU are recorded, and latest.md keeps what it held before, with the
    workers section added."""
    (tmp_path / "latest.md").write_text("earlier tables\n")
    p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "run"), "--workloads", "W1",
                        "--points", "2000", "--targets", "milvus23", "--tools", "workers",
                        "--worker-counts", "1,2", "--tasks", "4", "--quota-mb-s", "2",
                        "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=600, cwd=REPO)
    assert p.returncode == 0, p.stderr[-6000:]
    (f,) = glob.glob(os.path.join(tmp_path, "*.json"))
    with open(f) as fh:
        doc = json.load(fh)
    assert not doc["failures"], doc["failures"]
    w = doc["workloads"]["W1@milvus23"]
    n = w["dataset"]["points"]
    assert n == 2000
    throttled = 0
    for k in (1, 2):
        m = w["median"][f"workers:{k}"]
        (run,) = w["runs"][f"workers:{k}"]
        d = run["detail"]
        assert run["points"] == n and run["target_count"] == n, run
        assert d["ledger_keys"] == n and d["ledger_duplicates"] == 0, d
        assert len(d["per_worker"]) == k and d["tasks"] == 4, d
        assert sum(e["range_tasks"] for e in d["per_worker"]) == 4, d
        for e in d["per_worker"]:
            assert 1 < e["maxrss_mib"] < 4096 and e["cpu_seconds"] >= 0 and e["exit"] == 0, e
        assert 0 < m["copy_seconds"] <= m["seconds"], m
        assert m["points_per_s"] > 0 and m["servers_cpu_seconds"] > 0, m
        throttled += m["throttled_answers"]
    assert throttled > 0, "the quota never answered 'rate limit exceeded'"
    md = (tmp_path / "latest.md").read_text()
    assert md.startswith("earlier tables\n"), md[:200]
    assert "Workers scaling (issue 14)" in md and "| W1 | 2,000 | 2 x 2 |" in md, md
