"""A hostile engine for tests: an in-process HTTP server on a unix socket answering what it is told.

It speaks just enough of the Engine API for a scan (``/version``, ``/info``, ``/images/json``,
``/images/{id}/json``, ``/images/{id}/history``); every answer is a (status, body) chosen by the
test, so it can forge an answer for an id another engine has, send one too big, or put escapes
in an error message. Requests are recorded (method and path), to show a scan only reads.
"""

from __future__ import annotations

import json
import re
import socketserver
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from testbed.local_server import serve_in_background

#: path pattern (searched, the version prefix and query left on) -> (status, body), or
#: (status, body, False) for an answer with no length, ended by closing the connection.
Reply = tuple[int, bytes] | tuple[int, bytes, bool]
Routes = Mapping[str, Reply]

VERSION = {"ApiVersion": "1.41", "Version": "20.10.24", "Os": "linux", "Arch": "amd64"}


def answers(
    image_id: str, inspect: Mapping[str, Any], history: Sequence[Mapping[str, Any]], tag: str
) -> Routes:
    """The routes of an engine holding one image ``image_id`` tagged ``tag``, described as given."""
    summary = {"Id": image_id, "RepoTags": [tag], "RepoDigests": [], "Created": 0, "Size": 1}
    return {
        r"/images/json": (200, json.dumps([summary]).encode()),
        r"/images/[^/]+/json": (200, json.dumps(inspect).encode()),
        r"/images/[^/]+/history": (200, json.dumps(history).encode()),
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _UnixServer

    def do_GET(self) -> None:
        self.server.requests.append(f"GET {self.path}")
        status, body, *sized = self.server.answer(self.path)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if sized == [False]:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up (a size cap): nothing to do
            return

    def address_string(self) -> str:  # a unix socket's peer has no address
        return "unix"

    def log_message(self, *_: object) -> None:
        return


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, routes: Routes) -> None:
        self.routes = dict(routes)
        self.requests: list[str] = []
        super().__init__(str(path), _Handler)

    def answer(self, path: str) -> Reply:
        for pattern, reply in self.routes.items():
            if re.search(pattern, path):
                return reply
        if re.search(r"/version$", path):
            return 200, json.dumps(VERSION).encode()
        if re.search(r"/info$", path):
            return 200, json.dumps({"ID": "hostile", "DriverStatus": []}).encode()
        return 404, b'{"message": "page not found"}'


class FakeEngine:
    """``with FakeEngine(tmp_path, routes) as engine:`` then scan ``engine.address``."""

    def __init__(self, directory: Path, routes: Routes) -> None:
        self._server = _UnixServer(directory / "hostile.sock", routes)
        self.address = f"unix://{directory / 'hostile.sock'}"

    @property
    def requests(self) -> list[str]:
        return self._server.requests

    def __enter__(self) -> FakeEngine:
        self._thread = serve_in_background(self._server)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
