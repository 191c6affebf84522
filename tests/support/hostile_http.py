"""An HTTP server on 127.0.0.1 whose every answer a test writes: for hostile-input tests.

``hostile(answer)`` runs one (polling for shutdown every 10 ms, so a test never waits on
``serve_forever``'s half second); ``answer(handler)`` answers each request, with
``handler.reply`` or byte by byte with ``handler.trickle``; ``server.seen`` is every request
(method, path, headers, body). No pytest import.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from testbed.local_server import serve_in_background

TRICKLE = 0.02  # seconds between two bytes of a trickling answer


class HostileHandler(BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.handle_request()

    def do_HEAD(self) -> None:
        self.handle_request()

    def do_POST(self) -> None:
        self.handle_request()

    def handle_request(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.seen.append((self.command, self.path, dict(self.headers.items()), body))
        self.server.answer(self)

    def reply(self, status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def trickle(self, data: bytes) -> None:
        """``data`` one byte at a time, until it ends, the client hangs up or the test ends."""
        for byte in data:
            if self.server.stopping.wait(TRICKLE):
                return
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return
            with self.server.lock:
                self.server.trickled += 1

    def log_message(self, *_: object) -> None:
        return


class HostileServer(ThreadingHTTPServer):
    """Answers every request with ``answer(handler)``; ``seen`` is every request it got."""

    daemon_threads = True

    def __init__(self, answer: Callable[[HostileHandler], None]) -> None:
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.answer = answer
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.trickled = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def secrets_seen(self) -> str:
        """Everything the server was sent, as text (credentials decoded where they are base64)."""
        text = json.dumps([[m, p, h, b.decode("latin-1")] for m, p, h, b in self.seen])
        for _, _, headers, _ in self.seen:
            value = headers.get("Authorization", "")
            if value.startswith("Basic "):
                text += base64.b64decode(value[6:]).decode("latin-1")
        return text


@contextmanager
def hostile(answer: Callable[[HostileHandler], None]) -> Iterator[HostileServer]:
    server = HostileServer(answer)
    serve_in_background(server)
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
