"""Start and stop the test servers as child processes: Milvus Lite (the `milvus-lite server`
from .venv) and the Qdrant test server (tests/qdrant_server). Used by pytest fixtures
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
            self.proc = subprocess.Popen(self.command(), cwd=REPO, env=self.env(),
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


class QdrantTestServer(_Process):
    """tests/qdrant_server on 127.0.0.1:port, optional API key, TLS and fault injection.

    faults: dict with any of p503, delay (fraction), delay_s (seconds), cut, seed; or None.
    extra_args: further server flags (e.g. ["--eager-vector-cache"]).
    """

    name = "qdrant-test-server"

    def __init__(self, data_dir=None, port=None, api_key=None, tls=False, faults=None,
                 extra_args=None):
        super().__init__(data_dir, port)
        self.api_key = api_key
        self.tls = tls
        self.faults = dict(faults or {})
        self.extra_args = list(extra_args or [])
        self.scheme = "https" if tls else "http"
        self.cert_path = os.path.join(self.data_dir, "cert.pem") if tls else None

    def command(self):
        cmd = [PYTHON, "-m", "tests.qdrant_server", "--host", self.host, "--port",
               str(self.port), "--data-dir", os.path.join(self.data_dir, "storage")]
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
        return b"listening on" in self.log_since_start()

    def set_faults(self, p503=0.0, delay=0.0, delay_s=0.0, cut=0.0, seed=0):
        """Change fault injection at run time (test-only endpoint PUT /__test/faults)."""
        import requests
        r = requests.put(self.url + "/__test/faults", json={
            "p503": p503, "delay": delay, "delay_s": delay_s, "cut": cut, "seed": seed},
            headers=self.auth_headers(), verify=self.cert_path or True, timeout=10)
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


def milvus_client_for(server: MilvusLite, **kw):
    """The official pymilvus MilvusClient pointed at a MilvusLite server."""
    from pymilvus import MilvusClient
    return MilvusClient(uri=server.url, **kw)
