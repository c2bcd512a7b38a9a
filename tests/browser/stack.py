"""Launcher of the real stack for the console's browser tests (tests/browser/console.test.mjs).

Starts Milvus Lite and the Qdrant test server (tests/harness/servers.py), seeds the datagen
collections dg_single_cosine_768 (n=500), dg_named_mixed and dg_manhattan (Qdrant requires a
random API key, printed as qdrant_api_key, so the console's secret handling is exercised), starts
`vmigrate serve --web-root web` on a free port with its job store, secret key and XDG dirs in a
temporary folder, and prints ONE JSON line on stdout:

  {"console": URL, "qdrant": URL, "qdrant_api_key": KEY, "milvus": URL, "closed_port": N,
   "tmp": DIR, "logs": {...}}

Then it waits; on stdin EOF or SIGTERM/SIGINT it stops everything and removes the temporary
folder (unless --keep). Progress and errors go to stderr.

  .venv/bin/python tests/browser/stack.py [--vmigrate build/dev/vmigrate] [--no-serve] [--keep]
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import urllib.request
import warnings

warnings.filterwarnings("ignore", message="Api key is used with an insecure connection")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.harness.servers import (  # noqa: E402
    MilvusLite,
    QdrantTestServer,
    _Process,
    free_port,
    qdrant_client_for,
)
from tests.datagen.datagen import generate  # noqa: E402

SEED = [("single_cosine_768", 500), ("named_mixed", None), ("manhattan", None)]


class VmigrateServe(_Process):
    """`vmigrate serve` on a free port; ready when GET /api/v1/health answers."""

    name = "vmigrate-serve"
    start_timeout = 60.0

    def __init__(self, binary, home, web_root, data_dir=None):
        super().__init__(data_dir)
        self.binary = binary
        self.home = home
        self.web_root = web_root
        self.store = os.path.join(home, "jobs.db")

    def command(self):
        return [self.binary, "serve", "--listen", f"{self.host}:{self.port}",
                "--store", self.store, "--web-root", self.web_root]

    def env(self):
        env = super().env()
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        env["XDG_DATA_HOME"] = os.path.join(self.home, "data")
        env["XDG_CONFIG_HOME"] = os.path.join(self.home, "config")
        env["VMIGRATE_SECRET_KEY_FILE"] = os.path.join(self.home, "secret.key")
        for k in ("QDRANT_API_KEY", "MILVUS_TOKEN", "VMIGRATE_SOURCE", "VMIGRATE_TARGET"):
            env.pop(k, None)
        return env

    def ready(self):
        with urllib.request.urlopen(self.url + "/api/v1/health", timeout=1) as r:
            return r.status == 200


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vmigrate", default=os.environ.get("VMIGRATE_BIN") or
                    os.path.join(REPO, "build", "dev", "vmigrate"))
    ap.add_argument("--no-serve", action="store_true", help="only the two databases")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="vmig-console-")
    servers = []
    done = threading.Event()

    def stop(*_):
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        milvus = MilvusLite(data_dir=os.path.join(tmp, "milvus"))
        qdrant = QdrantTestServer(data_dir=os.path.join(tmp, "qdrant"),
                                  api_key="qk-" + secrets.token_hex(12))
        servers += [milvus, qdrant]
        for s in servers:
            s.start()
        qc = qdrant_client_for(qdrant)
        for shape, n in SEED:
            generate(qc, shape, n=n)
        qc.close()
        serve = None
        if not args.no_serve:
            serve = VmigrateServe(args.vmigrate, tmp, os.path.join(REPO, "web"),
                                  data_dir=os.path.join(tmp, "serve"))
            servers.append(serve)
            serve.start()
        info = {"console": serve.url if serve else None, "qdrant": qdrant.url,
                "qdrant_api_key": qdrant.api_key, "milvus": milvus.url, "closed_port": free_port(), "tmp": tmp,
                "logs": {s.name: s.log_path for s in servers}}
        print(json.dumps(info), flush=True)

        def watch_stdin():
            try:
                while sys.stdin.read(4096):
                    pass
            finally:
                done.set()

        threading.Thread(target=watch_stdin, daemon=True).start()
        done.wait()
    except Exception as e:  # noqa: BLE001
        print(f"stack.py: {e}", file=sys.stderr, flush=True)
        print(json.dumps({"error": str(e)}), flush=True)
        return 1
    finally:
        for s in reversed(servers):
            try:
                s.close() if not args.keep else s.stop(remove=False)
            except Exception:  # noqa: BLE001
                pass
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
