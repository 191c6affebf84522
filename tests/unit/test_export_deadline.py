"""An engine export's deadline grows with the image's size (``transport.export_timeout``).

One deadline bounds a whole exchange (issue 15: a server that trickles its answer must not
keep a scan waiting), but a fixed one cut a big image's export short however fast it came:
an export may take the timeout plus the image's size at ``EXPORT_RATE_FLOOR``. Against an
in-process engine on a unix socket whose export takes about twice the timeout.
"""

from __future__ import annotations

import json
import socketserver
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import BinaryIO

import pytest

from image_lineage.errors import SourceUnavailable
from image_lineage.sources.engine import transport
from testbed.local_server import serve_in_background

TIMEOUT = 0.8  # seconds: the transport's own
CHUNKS = 16  # the export's body: this many pieces of 1 kB, ...
PAUSE = 0.1  # ... this far apart: 1.6 s in all, twice the timeout


class _SlowExport(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.endswith("/version"):
            body = json.dumps({"ApiVersion": "1.41", "Version": "20.10.24"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-tar")
        self.send_header("Content-Length", str(CHUNKS * 1024))
        self.end_headers()
        try:
            for _ in range(CHUNKS):
                self.wfile.write(b"\0" * 1024)
                self.wfile.flush()
                time.sleep(PAUSE)
        except OSError:  # the client gave up
            return

    def address_string(self) -> str:
        return "unix"

    def log_message(self, *_: object) -> None:
        return


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def slow_engine(tmp_path: Path) -> Iterator[str]:
    server = _Server(str(tmp_path / "slow.sock"), _SlowExport)
    serve_in_background(server)
    try:
        yield f"unix://{tmp_path / 'slow.sock'}"
    finally:
        server.shutdown()
        server.server_close()


def _length(stream: BinaryIO) -> int:
    return len(stream.read())


def test_the_deadline_is_the_timeout_plus_the_size_at_the_floor_rate() -> None:
    assert transport.export_timeout(30, 0) == 30
    assert transport.export_timeout(30, 10 * transport.EXPORT_RATE_FLOOR) == 40
    assert transport.export_timeout(30, -5) == 30  # a hostile size lengthens nothing


def test_a_big_image_s_export_may_take_longer_than_the_timeout(slow_engine: str) -> None:
    client = transport.connect(slow_engine, TIMEOUT)
    try:
        big = 100 * 2**20  # 100 MB: five more seconds at the floor rate
        assert client.export("sha256:big", _length, size=big) == CHUNKS * 1024
    finally:
        client.close()


def test_a_small_image_s_export_is_still_cut_off_at_the_timeout(slow_engine: str) -> None:
    client = transport.connect(slow_engine, TIMEOUT)
    try:
        with pytest.raises(SourceUnavailable, match=f"did not answer within {TIMEOUT} s"):
            client.export("sha256:small", _length, size=1024)
    finally:
        client.close()
