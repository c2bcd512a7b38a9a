"""Start and stop the test servers as child processes: Milvus Lite (the `milvus-lite server`
from .venv), a real Milvus 2.3.5 standalone server (PyPI `milvus`, `milvus-server` from .venv)
and the Qdrant test server (tests/qdrant_server). Used by pytest fixtures
(tests/conftest.py) and by plain scripts (demo, benchmarks) alike. Each server gets a free port,
a data directory (temporary unless given), and a log file in that directory; it is always torn
down (context manager, atexit, SIGKILL after a timeout), and a start failure shows the log tail.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV_BIN = os.path.join(REPO, ".venv", "bin")
PYTHON = os.path.join(VENV_BIN, "python") if os.path.exists(os.path.join(VENV_BIN, "python")) \
    else sys.executable

_LIVE = weakref.WeakSet()


@atexit.register
def _stop_all():
    for srv in list(_LIVE):
        try:
            srv.stop()
        except Exception:  # noqa: BLE001
            pass


def free_port(host="127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _tcp_open(host, port, timeout=0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tail(path, lines=40) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read()[-16384:]
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class ServerError(RuntimeError):
    pass


class _Process:
    """Common lifecycle: data dir, log file, start/stop/restart, context manager."""

    name = "server"
    host = "127.0.0.1"
    start_timeout = 60.0
    stop_timeout = 15.0

    def __init__(self, data_dir=None, port=None):
        self._own_dir = data_dir is None
        self.data_dir = os.path.abspath(data_dir) if data_dir else \
            tempfile.mkdtemp(prefix=f"vmig-{self.name}-")
        os.makedirs(self.data_dir, exist_ok=True)
        self.port = port or free_port()
        self.proc = None
        self._log_fh = None
        self._lock = threading.Lock()

    # subclasses: command(), ready(), scheme
    scheme = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def log_path(self) -> str:
        return os.path.join(self.data_dir, f"{self.name}.log")

    def command(self):
        raise NotImplementedError

    def log_since_start(self) -> bytes:
        """Log output of the current run only (the log file is appended across restarts)."""
        with open(self.log_path, "rb") as fh:
            fh.seek(getattr(self, "_log_start", 0))
            return fh.read()

    def ready(self) -> bool:
        return _tcp_open(self.host, self.port)

    def cwd(self):
        return REPO

    def env(self):
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
        return env

    def start(self):
        with self._lock:
            if self.proc is not None and self.proc.poll() is None:
                return self
            self._log_fh = open(self.log_path, "ab")
            self._log_start = self._log_fh.tell()
            self._log_fh.write(f"--- start {time.strftime('%H:%M:%S')}: {' '.join(self.command())}\n"
                               .encode())
            self._log_fh.flush()
            self.proc = subprocess.Popen(self.command(), cwd=self.cwd(), env=self.env(),
                                         stdin=subprocess.DEVNULL, stdout=self._log_fh,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            _LIVE.add(self)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.proc.returncode} during start; "
                                  f"log {self.log_path}:\n{tail(self.log_path)}")
            try:
                if self.ready():
                    return self
            except Exception:  # noqa: BLE001 - not ready yet
                pass
            time.sleep(0.1)
        self.stop()
        raise ServerError(f"{self.name} not ready after {self.start_timeout}s; "
                          f"log {self.log_path}:\n{tail(self.log_path)}")

    def stop(self, remove=None):
        """SIGINT, wait, then SIGKILL. remove: delete a temporary data dir (default for owned
        dirs only when the object is being discarded; see close())."""
        with self._lock:
            proc, self.proc = self.proc, None
            if proc is not None and proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGINT)
                    proc.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except OSError:
                        proc.kill()
                    proc.wait(10)
            if self._log_fh is not None:
                self._log_fh.close()
                self._log_fh = None
        if remove:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def kill(self):
        """SIGKILL without a clean shutdown (crash simulation)."""
        with self._lock:
            if self.proc is not None and self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
                _wait_group_gone(self.proc, 10)

    def restart(self, down_seconds=0.0):
        """Stop, optionally stay down, start again on the same port and data dir."""
        self.stop()
        if down_seconds:
            time.sleep(down_seconds)
        return self.start()

    def close(self):
        """Stop and remove the data dir if it was created here."""
        self.stop(remove=self._own_dir)
        _LIVE.discard(self)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=40) -> str:
        return tail(self.log_path, lines)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is not None:
            sys.stderr.write(f"--- {self.name} log tail ({self.log_path}):\n{self.log_tail()}\n")
        self.close()

    def __del__(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.stop()
        except Exception:  # noqa: BLE001
            pass

    def __repr__(self):
        return f"<{type(self).__name__} {self.url} data_dir={self.data_dir}>"


class MilvusLite(_Process):
    """`milvus-lite server` on 127.0.0.1:port with its data in data_dir/db (plaintext gRPC)."""

    name = "milvus-lite"
    start_timeout = 90.0

    def __init__(self, data_dir=None, port=None):
        super().__init__(data_dir, port)
        self.db_dir = os.path.join(self.data_dir, "db")

    def command(self):
        exe = os.path.join(VENV_BIN, "milvus-lite")
        base = [exe] if os.path.exists(exe) else [PYTHON, "-m", "milvus_lite"]
        return base + ["server", "--data-dir", self.db_dir, "--host", self.host,
                       "--port", str(self.port)]

    @property
    def uri(self) -> str:
        return self.url

    def ready(self) -> bool:
        if not _tcp_open(self.host, self.port):
            return False
        return b"listening on" in self.log_since_start()


class MilvusServer(_Process):
    """A real Milvus standalone server (PyPI `milvus==2.3.5`: the Milvus 2.3.5 binary with
    embedded etcd, local storage and rocksmq) on 127.0.0.1:port, everything in data_dir.

    The package's `milvus-server` launcher is not used to run it: on a restart it silently
    moves the proxy to port+1 when the old port still has TIME_WAIT connections (it probes
    with a bind without SO_REUSEADDR), and it ignores SIGTERM. Instead the package's own
    config code writes configs/milvus.yaml once (every port chosen here) and extracts the
    binary, and the binary runs directly (`milvus run standalone`, cwd = its base dir). The
    embedded etcd's peer port (2380, no config key) moves through an etcd config file given
    in ETCD_CONFIG_PATH, so several servers can run at once. Ports are kept for restarts on
    the same data dir. auth=True: user root / password Milvus (token "root:Milvus").
    tls=True: one-way TLS with a self-signed certificate (cert_path; CN localhost, SAN
    127.0.0.1). Ready when /healthz on its metrics port says OK and the proxy port accepts.
    stop(): SIGTERM, then SIGKILL after stop_timeout (Milvus 2.3.5's graceful stop did not
    finish in 60 s here; what it acknowledged is in rocksmq/etcd either way).
    """

    name = "milvus-server"
    start_timeout = 180.0
    stop_timeout = 3.0
    version = "2.3.5"
    TOKEN = "root:Milvus"

    _PORT_KEYS = ("root_coord_port", "proxy_internal_port", "query_coord_port",
                  "query_node_port", "index_coord_port", "index_node_port",
                  "data_coord_port", "data_node_port")

    def __init__(self, data_dir=None, port=None, auth=False, tls=False):
        super().__init__(data_dir, port)
        self.auth, self.tls = auth, tls
        self.scheme = "https" if tls else "http"
        self.token = self.TOKEN if auth else None
        self.ports = {k: free_port() for k in self._PORT_KEYS}
        self.etcd_client_port, self.etcd_peer_port = free_port(), free_port()
        self.metrics_port = free_port()
        self.base_dir = os.path.join(self.data_dir, "milvus")
        # a data dir made before (e.g. kept by a benchmark) is served on the ports written
        # into its config: its etcd knows the coordinators by them
        self._ports_file = os.path.join(self.data_dir, "ports.json")
        if os.path.exists(self._ports_file):
            import json
            with open(self._ports_file) as fh:
                saved = json.load(fh)
            self.port, self.ports = saved["proxy"], saved["ports"]
            self.etcd_client_port, self.etcd_peer_port = saved["etcd"]
            self.metrics_port = saved["metrics"]
        self.cert_path = os.path.join(self.data_dir, "cert.pem") if tls else None
        self.key_path = os.path.join(self.data_dir, "key.pem") if tls else None
        self.etcd_config = os.path.join(self.data_dir, "etcd.yaml")
        self.start_seconds = None

    def _prepare(self):
        if os.path.exists(os.path.join(self.base_dir, "configs", "milvus.yaml")):
            return
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        client = f"http://127.0.0.1:{self.etcd_client_port}"
        with open(self.etcd_config, "w") as fh:
            fh.write(f"name: default\nlisten-peer-urls: {peer}\n"
                     f"initial-advertise-peer-urls: {peer}\ninitial-cluster: default={peer}\n"
                     f"listen-client-urls: {client}\nadvertise-client-urls: {client}\n")
        cfg = dict(self.ports, proxy_port=self.port, etcd_port=self.etcd_client_port)
        if self.auth:
            cfg["authorization_enabled"] = True
        if self.tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", self.key_path, "-out", self.cert_path, "-days", "30",
                            "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           check=True, capture_output=True)
            cfg.update(tls_mode=1, server_pem_path=self.cert_path,
                       server_key_path=self.key_path, ca_pem_path=self.cert_path)
        script = ("import json, sys, milvus\n"
                  "cfg = json.loads(sys.argv[2])\n"
                  "c = milvus.MilvusServerConfig(data_dir=sys.argv[1])\n"
                  "[c.set(k, v) for k, v in cfg.items()]\n"
                  "c.resolve()\n"
                  "milvus._initialize_data_files(sys.argv[1])\n")
        import json
        res = subprocess.run([PYTHON, "-c", script, self.base_dir, json.dumps(cfg)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise ServerError("could not prepare the real Milvus server (PyPI `milvus==2.3.5`, "
                              "tests/requirements.txt; run scripts/setup): "
                              + res.stderr.strip()[-2000:])
        with open(self._ports_file, "w") as fh:
            json.dump({"proxy": self.port, "ports": self.ports, "metrics": self.metrics_port,
                       "etcd": [self.etcd_client_port, self.etcd_peer_port]}, fh)

    def command(self):
        return [os.path.join(self.base_dir, "bin", "milvus"), "run", "standalone"]

    def cwd(self):
        return self.base_dir

    def env(self):
        env = super().env()
        bindir = os.path.join(self.base_dir, "bin")
        env.update(DEPLOY_MODE="STANDALONE", METRICS_PORT=str(self.metrics_port),
                   MILVUS_RUN_DIR=os.path.join(self.base_dir, "run"),
                   ETCD_CONFIG_PATH=self.etcd_config,
                   LD_LIBRARY_PATH=bindir + os.pathsep + env.get("LD_LIBRARY_PATH", ""))
        return env

    def start(self):
        self._prepare()
        t0 = time.monotonic()
        super().start()
        self.start_seconds = time.monotonic() - t0
        return self

    def ready(self) -> bool:
        import urllib.request
        url = f"http://127.0.0.1:{self.metrics_port}/healthz"
        with urllib.request.urlopen(url, timeout=2) as resp:
            if b"OK" not in resp.read():
                return False
        return _tcp_open(self.host, self.port)

    def stop(self, remove=None):
        with self._lock:
            proc = self.proc
            if proc is not None and proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except OSError:
                    pass
                _wait_group_gone(proc, self.stop_timeout)
        super().stop(remove)

    def rss_mib(self) -> float:
        """Resident memory of the server's processes (MiB), from /proc."""
        total = 0
        if self.proc is None:
            return 0.0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                if os.getpgid(int(pid)) != self.proc.pid:
                    continue
                with open(f"/proc/{pid}/statm") as fh:
                    total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError):
                continue
        return total / (1 << 20)


def _wait_group_gone(proc, timeout):
    """Wait until every process of proc's process group has exited; SIGKILL them after
    timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.poll()
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        except OSError:
            return
        time.sleep(0.1)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


class QdrantTestServer(_Process):
    """tests/qdrant_server on 127.0.0.1:port, optional API key, TLS and fault injection, with
    its gRPC face always on a second free port (grpc_port, grpc_url).

    faults: dict with any of p503, delay (fraction), delay_s (seconds), cut, seed; or None.
    extra_args: further server flags (e.g. ["--eager-vector-cache"]).
    grpc_vectors: None (by version: new from 1.17.0), "old" or "new" (--grpc-vectors).
    grpc_empty_dense: empty dense placeholders for missing named vectors (--grpc-empty-dense).
    version: the Qdrant version the server reports and emulates (--version).
    rate_window_s: the strict-mode read rate limit window in seconds (--rate-window-s).
    """

    name = "qdrant-test-server"

    def __init__(self, data_dir=None, port=None, api_key=None, tls=False, faults=None,
                 extra_args=None, grpc_vectors=None, grpc_empty_dense=False, version=None,
                 rate_window_s=None, grpc_port=None):
        super().__init__(data_dir, port)
        self.api_key = api_key
        self.tls = tls
        self.faults = dict(faults or {})
        self.extra_args = list(extra_args or [])
        self.scheme = "https" if tls else "http"
        self.cert_path = os.path.join(self.data_dir, "cert.pem") if tls else None
        self.grpc_port = grpc_port or free_port()
        self.grpc_vectors = grpc_vectors
        self.grpc_empty_dense = grpc_empty_dense
        self.version = version
        self.rate_window_s = rate_window_s

    @property
    def grpc_url(self) -> str:
        return f"{'grpcs' if self.tls else 'grpc'}://{self.host}:{self.grpc_port}"

    def command(self):
        cmd = [PYTHON, "-m", "tests.qdrant_server", "--host", self.host, "--port",
               str(self.port), "--data-dir", os.path.join(self.data_dir, "storage"),
               "--grpc-port", str(self.grpc_port)]
        if self.grpc_vectors:
            cmd += ["--grpc-vectors", self.grpc_vectors]
        if self.grpc_empty_dense:
            cmd.append("--grpc-empty-dense")
        if self.version:
            cmd += ["--version", self.version]
        if self.rate_window_s is not None:
            cmd += ["--rate-window-s", str(self.rate_window_s)]
        if self.api_key:
            cmd += ["--api-key", self.api_key]
        if self.tls:
            cmd += ["--tls", "--cert-dir", self.data_dir]
        f = self.faults
        if f.get("p503"):
            cmd += ["--fault-503", str(f["p503"])]
        if f.get("delay"):
            cmd += ["--fault-delay", f"{f['delay']}:{f.get('delay_s', 30)}"]
        if f.get("cut"):
            cmd += ["--fault-cut", str(f["cut"])]
        if "seed" in f:
            cmd += ["--fault-seed", str(f["seed"])]
        return cmd + self.extra_args

    def ready(self) -> bool:
        if not _tcp_open(self.host, self.port):
            return False
        return b"listening on http" in self.log_since_start()

    def stats(self, reset=False):
        """The test-only counters (GET /__test/stats; reset=True: DELETE, then zero)."""
        import requests
        r = requests.request("DELETE" if reset else "GET", self.url + "/__test/stats",
                             headers=self.auth_headers(), verify=self.cert_path or True,
                             timeout=10)
        r.raise_for_status()
        return r.json()["result"]

    def _faults_put(self, body):
        """PUT the test-only control endpoint /__test/faults; its answer (the faults now)."""
        import requests
        r = requests.put(self.url + "/__test/faults", json=body, headers=self.auth_headers(),
                         verify=self.cert_path or True, timeout=10)
        r.raise_for_status()
        return r.json()["result"]

    def set_faults(self, p503=0.0, delay=0.0, delay_s=0.0, cut=0.0, seed=0):
        """Change fault injection at run time (test-only endpoint PUT /__test/faults)."""
        return self._faults_put({"p503": p503, "delay": delay, "delay_s": delay_s, "cut": cut,
                                 "seed": seed})

    def throttle_pages(self, n, retry_after_s=1):
        """Answer the next n page reads (either face) as rate-limited, with Retry-After
        retry_after_s (test-only PUT /__test/faults {"throttle_pages": n})."""
        self._faults_put({"throttle_pages": n, "retry_after_s": retry_after_s})

    def reset_rate_window(self):
        """End the strict-mode read rate window of every collection now: the next read opens
        a new one (test-only PUT /__test/faults {"rate_window_reset": true})."""
        self._faults_put({"rate_window_reset": True})

    def page_reads(self, reset=False):
        """{collection: [monotonic seconds of each page read answered]} (test-only GET
        /__test/reads; reset=True: DELETE, then empty)."""
        import requests
        r = requests.request("DELETE" if reset else "GET", self.url + "/__test/reads",
                             headers=self.auth_headers(), verify=self.cert_path or True,
                             timeout=10)
        r.raise_for_status()
        return r.json()["result"]

    def auth_headers(self):
        return {"api-key": self.api_key} if self.api_key else {}


def qdrant_client_for(server: QdrantTestServer, **kw):
    """The official qdrant-client (REST) pointed at a QdrantTestServer."""
    from qdrant_client import QdrantClient
    opts = dict(url=server.url, api_key=server.api_key, prefer_grpc=False, timeout=60)
    if server.tls:
        import ssl
        opts["verify"] = ssl.create_default_context(cafile=server.cert_path)
        # qdrant-client's version probe uses a bare httpx.get without `verify`; skip it.
        opts["check_compatibility"] = False
    opts.update(kw)
    return QdrantClient(**opts)


def qdrant_grpc_client_for(server: QdrantTestServer, **kw):
    """The official qdrant-client over the test server's gRPC face (prefer_grpc=True, API key
    applied). Not for TLS servers: qdrant-client's gRPC channel takes no CA file; use a raw
    grpc.secure_channel with server.cert_path there."""
    from qdrant_client import QdrantClient
    opts = dict(host=server.host, port=server.port, grpc_port=server.grpc_port,
                prefer_grpc=True, api_key=server.api_key, timeout=60)
    opts.update(kw)
    return QdrantClient(**opts)


def milvus_client_for(server, **kw):
    """The official pymilvus MilvusClient pointed at a MilvusLite or MilvusServer (token and
    CA certificate applied)."""
    from pymilvus import MilvusClient
    opts = dict(uri=server.url)
    if getattr(server, "token", None):
        opts["token"] = server.token
    if getattr(server, "tls", False):
        opts.update(server_pem_path=server.cert_path, server_name="localhost")
    opts.update(kw)
    return MilvusClient(**opts)
