"""Gates for tests that must interrupt a job at a known point, whatever the machine's speed
(issue 8: no wall-clock sleeps decide when to kill, cancel or stop): SourceGate, an HTTP proxy
in front of a Qdrant server that decides how far a job may read, and HoldingLedgerProxy, the
Milvus ledger proxy that can hold chosen RPCs so the runner waits inside a call until the test
kills it. Used by tests/integration/test_jobs.py and test_http_api.py.
"""

import collections
import gzip
import http.client
import http.server
import json
import sys
import threading
import time
import urllib.parse

import grpc

from tests.harness.milvus_proxy import MilvusLedgerProxy


class SourceGate:
    """An HTTP proxy in front of a Qdrant (test) server that decides how far a job may read.

    mode "open": every request passes unchanged. "ends" (the default): a scroll answer that
    would end a read range (next_page_offset null, at least one point) is replaced by a 503,
    which the runner retries with backoff; no read range can finish, so the job cannot
    complete, but every other page passes. "all": every page (a scroll of more than one point)
    is refused that way, so nothing can be read and nothing written. Probes (scrolls of one
    point), counts and collection info always pass. `pages` counts the pages passed on,
    `refused` the pages refused. Closed, a job still writes all but the last page of each
    range: thresholds below total - readers * page size are always reached.

    page_delay_s holds each page request that long before forwarding it (the runner's speed
    does not matter to any test; this only keeps a fast machine from running far past a
    threshold between two polls, so kills land near the drawn thresholds).
    """

    _HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
            "trailer", "upgrade", "content-length", "host"}

    def __init__(self, upstream_url, mode="ends", page_delay_s=0.0):
        u = urllib.parse.urlsplit(upstream_url)
        self.up_host, self.up_port = u.hostname, u.port
        self.mode, self.page_delay_s = mode, page_delay_s
        self.pages = self.refused = 0
        self._mu = threading.Lock()
        gate = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                self.up = None

            def finish(self):
                if self.up is not None:
                    self.up.close()
                super().finish()

            def forward(self, body):
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in gate._HOP}
                for attempt in (0, 1):  # a kept-alive upstream connection may have closed
                    if self.up is None:
                        self.up = http.client.HTTPConnection(gate.up_host, gate.up_port,
                                                             timeout=300)
                    try:
                        self.up.request(self.command, self.path, body=body, headers=hdrs)
                        r = self.up.getresponse()
                        return r.status, r.getheaders(), r.read()
                    except (OSError, http.client.HTTPException):
                        self.up.close()
                        self.up = None
                        if attempt:
                            raise

            def any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                scroll = (self.command == "POST"
                          and self.path.split("?", 1)[0].endswith("/points/scroll"))
                if scroll and gate.page_delay_s and _limit(body) > 1:
                    time.sleep(gate.page_delay_s)
                try:
                    status, headers, data = self.forward(body)
                except (OSError, http.client.HTTPException) as e:
                    return self.reply(502, [], json.dumps({"status": {"error": str(e)}}).encode())
                if status == 200 and scroll and gate._refuse(body, headers, data):
                    msg = "Service unavailable: range end held back by the test's SourceGate"
                    return self.reply(503, [("Content-Type", "application/json")],
                                      json.dumps({"status": {"error": msg}, "time": 0}).encode())
                self.reply(status, [(k, v) for k, v in headers if k.lower() not in gate._HOP],
                           data)

            def reply(self, status, headers, data):
                try:
                    self.send_response(status)
                    for k, v in headers:
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the runner was killed meanwhile
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = any

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                if not isinstance(sys.exc_info()[1], OSError):  # OSError: a killed runner
                    super().handle_error(request, client_address)

        self._srv = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._srv.server_address[1]}"
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)

    def _refuse(self, body, headers, data):
        if _limit(body) <= 1:
            return False  # a probe, not a page
        try:
            if dict((k.lower(), v) for k, v in headers).get("content-encoding") == "gzip":
                data = gzip.decompress(data)
            res = json.loads(data)["result"]
        except (ValueError, KeyError, TypeError, OSError):
            return False
        if not res.get("points"):
            return False
        with self._mu:
            refuse = self.mode == "all" or (self.mode == "ends"
                                            and res.get("next_page_offset") is None)
            if refuse:
                self.refused += 1
            else:
                self.pages += 1
            return refuse

    def set_mode(self, mode):
        assert mode in ("open", "ends", "all")
        with self._mu:
            self.mode = mode

    def counts(self):
        with self._mu:
            return self.pages, self.refused

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._srv.shutdown()
        self._srv.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class HoldingLedgerProxy(MilvusLedgerProxy):
    """The ledger proxy (tests/harness/milvus_proxy.py) that can also hold the calls of chosen
    RPCs, so the runner waits inside such a call, at a known point of its run, until the test
    kills it: `before` RPCs are held before they are forwarded (Milvus never sees them),
    `after` RPCs once Milvus has answered (Milvus did it, the runner never hears so). A held
    call is never answered to a client that went away. `waiting(rpc)`: calls held now.
    `hold(..., from_call=k)` holds the chosen RPCs only from their k-th call on, counted by the
    proxy over the chosen RPCs together since it started (`received(*rpcs)`: calls received so
    far, answered or not), so a test can let a run make exactly k - 1 - received() more calls
    first, whatever the machine's speed."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._cv = threading.Condition()
        self._before, self._after = set(), set()
        self._waiting = collections.Counter()
        self._received = collections.Counter()
        self._from = 1

    def hold(self, before=(), after=(), from_call=1):
        with self._cv:
            self._before, self._after = set(before), set(after)
            self._from = from_call
            self._cv.notify_all()

    def received(self, *rpcs):
        """Calls of these RPCs the proxy has received so far (held, answered or failed)."""
        with self._cv:
            return sum(self._received[r] for r in rpcs)

    def waiting(self, *rpcs):
        with self._cv:
            return sum(self._waiting[r] for r in rpcs)

    def release_after_kill(self, timeout=60):
        """Once every held call has seen its client go away: hold nothing any more."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while sum(self._waiting.values()):
                assert time.monotonic() < deadline, f"held calls still alive: {self._waiting}"
                self._cv.wait(0.1)
            self._before, self._after = set(), set()
            self._from = 1
            self._cv.notify_all()

    def _park(self, rpc, nth, held, ctx):
        def holds():
            return rpc in held() and nth >= self._from
        with self._cv:
            if not holds():
                return
            self._waiting[rpc] += 1
            while holds() and ctx.is_active():
                self._cv.wait(0.05)
            self._waiting[rpc] -= 1
            self._cv.notify_all()
        if not ctx.is_active():
            ctx.abort(grpc.StatusCode.CANCELLED, "held by the test; the client is gone")

    def _forward(self, method, req, ctx):
        rpc = method.rsplit("/", 1)[-1]
        with self._cv:
            self._received[rpc] += 1
            # this call's number among the chosen RPCs (all of them, counted together)
            nth = sum(self._received[r] for r in (self._before | self._after) | {rpc})
        self._park(rpc, nth, lambda: self._before, ctx)
        resp = super()._forward(method, req, ctx)
        self._park(rpc, nth, lambda: self._after, ctx)
        return resp


def _limit(body):
    """The limit of a scroll request body (10, Qdrant's default, when absent or unreadable)."""
    try:
        return int(json.loads(body or b"{}").get("limit", 10))
    except (ValueError, TypeError, AttributeError):
        return 10
