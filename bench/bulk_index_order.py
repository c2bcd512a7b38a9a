"""bench/bulk_index_order.py - experiment (issue 14, bulk speed): Milvus 2.3.5 CPU for a NumPy bulk import of W1-shaped
data (100 000 x 768-d float32, int64 pk) with the HNSW index defined before the import vs
after it (cases before, after, before, after; N points, default 100 000). CPU seconds of the
server's session (load-independent), wall seconds for reference. Run:
    .venv/bin/python bench/bulk_index_order.py   (N=20000 for a shorter run)"""
import os, sys, time, tempfile, json
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.harness.servers import MilvusServer
from pymilvus import MilvusClient, DataType, utility, connections

CLK = os.sysconf("SC_CLK_TCK")
def session_cpu(sid):
    t = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                f = open(f"/proc/{pid}/stat", "rb").read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(f[3]) == sid:
                t += int(f[11]) + int(f[12])
    return t / CLK

N, D = int(os.environ.get("N", "100000")), 768
tmp = tempfile.mkdtemp(prefix="idxorder-")
rng = np.random.default_rng(1)
files = []
per = N // 2  # two import tasks, like two ~150 MB files
for k in range(2):
    d = os.path.join(tmp, f"set{k}")
    os.makedirs(d)
    np.save(os.path.join(d, "id.npy"), np.arange(k * per, (k + 1) * per, dtype=np.int64))
    v = rng.standard_normal((per, D), dtype=np.float32)
    np.save(os.path.join(d, "vector.npy"), v)
    files.append([os.path.join(d, "id.npy"), os.path.join(d, "vector.npy")])

def idle(sid, quiet=0.15, win=2.0, limit=240):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        a = session_cpu(sid); time.sleep(win); b = session_cpu(sid)
        if b - a < quiet * win:
            return

with MilvusServer(data_dir=os.path.join(tmp, "milvus")) as m:
    sid = os.getsid(m.proc.pid)
    connections.connect(uri=m.url)
    mc = MilvusClient(uri=m.url)
    out = {}
    for order in ("before", "after", "before", "after"):
        name = f"w1_{order}_{len(out)}"
        s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("id", DataType.INT64, is_primary=True)
        s.add_field("vector", DataType.FLOAT_VECTOR, dim=D)
        mc.create_collection(name, schema=s)
        ip = mc.prepare_index_params()
        ip.add_index("vector", index_type="HNSW", metric_type="COSINE",
                     params={"M": 16, "efConstruction": 100})
        idle(sid)
        c0, t0 = session_cpu(sid), time.monotonic()
        if order == "before":
            mc.create_index(name, ip)
        tasks = [utility.do_bulk_insert(name, f) for f in files]
        while True:
            st = [utility.get_bulk_insert_state(t) for t in tasks]
            if all(x.state_name in ("Completed", "Failed") for x in st):
                break
            time.sleep(0.5)
        assert all(x.state_name == "Completed" for x in st), [x.failed_reason for x in st]
        t_imp = time.monotonic() - t0
        if order == "after":
            mc.create_index(name, ip)
        while True:
            i = mc.describe_index(name, "vector")
            if i.get("indexed_rows", 0) >= N and i.get("pending_index_rows", 1) == 0:
                break
            time.sleep(0.5)
        mc.load_collection(name)
        t_all = time.monotonic() - t0
        idle(sid)  # compactions after it are billed to it too
        c1 = session_cpu(sid)
        n = mc.query(name, output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"]
        out[f"{order}_{len(out)}"] = {"import_s": round(t_imp, 1), "to_loaded_s": round(t_all, 1),
                                     "milvus_cpu_s": round(c1 - c0, 1), "count": n}
        print(json.dumps(out), flush=True)
        mc.drop_collection(name)
