"""A slow link between a client and a server on this machine: a TCP proxy whose server-to-client
bytes share one token bucket of a given bandwidth (the downlink of a site reading a cloud cluster
over the internet), so a benchmark can measure what bytes on the wire cost there. Any number of
listening ports (say Qdrant's REST and gRPC ports) share the one link; client-to-server bytes
pass unshaped (requests are small). Counts the bytes it carried.

per_connection=True gives every TCP connection a link of its own of that bandwidth instead
(each of several clients on its own site, e.g. one `vmigrate worker --concurrency 1` per
machine: its one reading connection carries the data), so clients added scale the total.

    with SlowLink(mbit=200) as link:
        rest = link.forward("127.0.0.1", 6333)   # -> "127.0.0.1:PORT" to connect to instead
"""

import socket
import threading
import time

CHUNK = 64 * 1024


class _Bucket:
    def __init__(self, bytes_per_s):
        self.rate = float(bytes_per_s)
        self.burst = max(CHUNK, self.rate / 20)  # at most 50 ms of traffic at once
        self.tokens = self.burst
        self.t = time.monotonic()
        self.lock = threading.Lock()

    def take(self, n):
        """Block until n bytes may pass."""
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.t) * self.rate)
                self.t = now
                if self.tokens >= n:
                    self.tokens -= n
                    return
                wait = (n - self.tokens) / self.rate
            time.sleep(wait)


class SlowLink:
    def __init__(self, mbit, per_connection=False):
        self.mbit, self.per_connection = mbit, per_connection
        self.bucket = _Bucket(mbit * 1e6 / 8)
        self.down_bytes = 0
        self._lock = threading.Lock()
        self._socks = []
        self._stop = False

    def forward(self, host, port):
        """A listening port that forwards to host:port through the link; returns 'host:port'."""
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(64)
        self._socks.append(ls)
        threading.Thread(target=self._accept, args=(ls, host, port), daemon=True).start()
        return f"127.0.0.1:{ls.getsockname()[1]}"

    def _accept(self, ls, host, port):
        while not self._stop:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            try:
                s = socket.create_connection((host, port))
            except OSError:
                c.close()
                continue
            for x in (c, s):
                x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            bucket = _Bucket(self.mbit * 1e6 / 8) if self.per_connection else self.bucket
            threading.Thread(target=self._pump, args=(c, s, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c, bucket), daemon=True).start()

    def _pump(self, src, dst, bucket):
        try:
            while True:
                b = src.recv(CHUNK)
                if not b:
                    break
                if bucket is not None:
                    bucket.take(len(b))
                    with self._lock:
                        self.down_bytes += len(b)
                dst.sendall(b)
        except OSError:
            pass
        finally:
            for x in (src, dst):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self._stop = True
        for ls in self._socks:
            ls.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
