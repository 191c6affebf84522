"""The stdlib transport's per-request deadline, over plain TCP (no daemon needed).

``http.client``'s own timeout bounds each socket read; an engine that trickles its
answer one byte at a time would never trip it. Unix sockets are covered against a
real dockerd in ``tests/integration/test_faults.py``; this covers ``tcp://``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from image_lineage.errors import SourceUnavailable
from image_lineage.sources.engine.transport import connect
from testbed.local_server import serve_in_background

VERSION = json.dumps({"ApiVersion": "1.41", "Version": "20.10.24"}).encode()


class _Engine(BaseHTTPRequestHandler):
    """Answers ``/version``; at a trickle when the server's ``interval`` is set."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(VERSION)))
        self.end_headers()
        for index in range(len(VERSION)):
            if self.server.interval and self.server.stopping.wait(self.server.interval):
                return
            self.wfile.write(VERSION[index : index + 1])
            self.wfile.flush()

    def log_message(self, *_: object) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    interval = 0.0
    stopping = threading.Event()


@pytest.fixture
def engine() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Engine)
    server.stopping = threading.Event()
    serve_in_background(server)
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()


def test_a_prompt_tcp_engine_is_read(engine: _Server) -> None:
    transport = connect(f"tcp://127.0.0.1:{engine.server_address[1]}", 5.0)
    try:
        assert transport.version()["Version"] == "20.10.24"
    finally:
        transport.close()


def test_a_trickling_tcp_engine_times_out_per_request(engine: _Server) -> None:
    engine.interval = 0.2  # every read gets a byte well within 1 s; the whole answer takes 10 s
    endpoint = f"tcp://127.0.0.1:{engine.server_address[1]}"
    transport = connect(endpoint, 1.0)
    try:
        with pytest.raises(SourceUnavailable, match=r"did not answer within 1 s"):
            transport.version()
    finally:
        transport.close()
