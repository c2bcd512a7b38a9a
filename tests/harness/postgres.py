"""A throwaway PostgreSQL server for the job store tests: Debian's binaries
(/usr/lib/postgresql/*/bin) run `initdb` + `pg_ctl` in a temporary folder, listening on
127.0.0.1 on a free port with its unix socket in that folder, as the `postgres` OS user
when the tests run as root. A user with a password (scram-sha-256) is created, so the
tests pass the password the way users must: PGPASSWORD, never in the URL. start() waits
on readiness (pg_isready), stop() always tears the server down. `database()` gives each
test a fresh database.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import time
import weakref

from tests.harness.servers import ServerError, free_port, tail

_LIVE = weakref.WeakSet()


@atexit.register
def _stop_all():
    for srv in list(_LIVE):
        try:
            srv.stop()
        except Exception:  # noqa: BLE001
            pass


def pg_bin_dir() -> str | None:
    """The newest Debian PostgreSQL bin directory, or None when PostgreSQL is not installed."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0)
    dirs = [d for d in dirs if os.path.exists(os.path.join(d, "initdb"))]
    return dirs[-1] if dirs else None


class PostgresServer:
    name = "postgres"
    user = "vmig"
    password = "pg-Test-SECRET-4711"

    def __init__(self, port=None):
        self.bin = pg_bin_dir()
        if not self.bin:
            raise ServerError("PostgreSQL is not installed (apt-get install postgresql)")
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.dir = None
        self._started = False
        self._ndb = 0

    # -- paths and commands ------------------------------------------------------------
    @property
    def data_dir(self):
        return os.path.join(self.dir, "data")

    @property
    def log_path(self):
        return os.path.join(self.dir, "postgres.log")

    def _as_owner(self, argv):
        """argv run as the `postgres` OS user when we are root (initdb refuses root)."""
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def _run(self, argv, **kw):
        return subprocess.run(self._as_owner(argv), capture_output=True, text=True,
                              timeout=kw.pop("timeout", 120), **kw)

    def url(self, db="postgres") -> str:
        """The URL the tests give vmigrate: no password in it (PGPASSWORD carries it)."""
        return f"postgres://{self.user}@{self.host}:{self.port}/{db}"

    def env(self, base=None) -> dict:
        env = dict(os.environ if base is None else base)
        env["PGPASSWORD"] = self.password
        env.pop("PGSERVICE", None)
        return env

    # -- lifecycle ------------------------------------------------------------------------
    def start(self):
        self.dir = tempfile.mkdtemp(prefix="vmig_pg_")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as fh:
            fh.write(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        r = self._run([os.path.join(self.bin, "initdb"), "-D", self.data_dir, "-U", "postgres",
                       "--auth-local=trust", "--auth-host=scram-sha-256",
                       f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"])
        os.unlink(pwfile)
        if r.returncode:
            raise ServerError(f"initdb failed: {r.stderr[-2000:]}")
        self._pg_start()
        self.psql(f"CREATE ROLE {self.user} LOGIN CREATEDB PASSWORD '{self.password}'")
        return self

    def _pg_start(self):
        """pg_ctl start with the server's output in the log file (never in our pipes)."""
        opts = (f"-c listen_addresses={self.host} -c port={self.port}"
                f" -c unix_socket_directories={self.dir} -c fsync=off"
                f" -c max_connections=100 -c shared_buffers=32MB")
        r = self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data_dir, "-l",
                       self.log_path, "-o", opts, "-w", "-t", "60", "start"])
        self._started = True
        _LIVE.add(self)
        if r.returncode:
            raise ServerError(f"pg_ctl start failed: {r.stderr[-2000:]}\n{self.log_tail()}")
        self._wait_ready()

    def _wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while True:
            r = subprocess.run([os.path.join(self.bin, "pg_isready"), "-h", self.host, "-p",
                                str(self.port), "-t", "2"], capture_output=True)
            if r.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise ServerError(f"PostgreSQL did not become ready:\n{self.log_tail()}")
            time.sleep(0.1)

    def psql(self, sql, db="postgres") -> str:
        """Run SQL as the superuser over the unix socket (trust auth)."""
        r = self._run([os.path.join(self.bin, "psql"), "-h", self.dir, "-p", str(self.port),
                       "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
        if r.returncode:
            raise ServerError(f"psql failed: {sql}: {r.stderr.strip()}")
        return r.stdout.strip()

    def database(self, prefix="t") -> str:
        """A fresh database owned by the test user; its URL."""
        self._ndb += 1
        name = f"{prefix}_{os.getpid()}_{self._ndb}"
        self.psql(f"CREATE DATABASE {name} OWNER {self.user}")
        return self.url(name)

    def stop(self):
        if self._started and self.dir:
            self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data_dir, "-m", "immediate",
                       "-w", "-t", "30", "stop"], timeout=60)
            self._started = False
        _LIVE.discard(self)

    def close(self):
        self.stop()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def restart(self):
        """Stop and start again on the same port and data (a server restart)."""
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data_dir, "-m", "fast", "-w",
                   "-t", "60", "stop"], timeout=120)
        self._pg_start()

    def log_tail(self, lines=40) -> str:
        return tail(self.log_path, lines) if self.dir else "(no log)"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
