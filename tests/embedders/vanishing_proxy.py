"""An HTTP endpoint that forwards ``limit`` requests to a stand-in, then vanishes.

Put in front of any hosted-backend stand-in (Bedrock, Gemini, Vertex), it models an
endpoint stopped in the middle of a run: the first ``limit`` requests are forwarded and
their answers delivered whole; the next request makes it close its listening socket (new
connections are then refused, as for a stopped server) and drop every open keep-alive
connection without an answer. ``forwarded`` counts what reached the stand-in.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
_OWN = {"server", "date"}  # send_response writes its own


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True
    block_on_close = False


class VanishingProxy:
    """Forward ``limit`` requests to ``upstream`` (``http://host:port``), then vanish."""

    def __init__(self, upstream: str, limit: int) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.limit = limit
        self.forwarded = 0
        self.answered_ok = 0
        self.gone = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> VanishingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._vanish()

    def take_slot(self) -> bool:
        """Reserve a forward (True), or vanish once ``limit`` are used up (False)."""
        with self._lock:
            if not self.gone.is_set() and self.forwarded < self.limit:
                self.forwarded += 1
                return True
        if not self.gone.is_set():
            # not from this handler thread: shutdown() waits for serve_forever to return
            threading.Thread(target=self._vanish, daemon=True).start()
        return False

    def _vanish(self) -> None:
        with self._lock:
            if self.gone.is_set():
                return
            self.gone.set()
        self._server.shutdown()
        self._server.server_close()  # the port now refuses connections


def _handler_for(proxy: VanishingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            self._forward("GET")

        def do_POST(self) -> None:
            self._forward("POST")

        def _forward(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not proxy.take_slot():
                self.close_connection = True  # dropped without an answer
                return
            conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(method, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            conn.close()
            if response.status == 200:
                with proxy._lock:
                    proxy.answered_ok += 1
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_BY_HOP | _OWN:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
