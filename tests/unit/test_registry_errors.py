"""Registry failures: found by exception type and status, worded for any front end, with a hint."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from image_lineage.errors import Hint, LineageError, SourceUnavailable
from image_lineage.sources import open_source
from image_lineage.sources.registry import RegistrySource
from testbed.local_server import serve_in_background


class _Registry(BaseHTTPRequestHandler):
    """Answers every GET with the server's ``status`` (and hangs first when ``hang`` is set)."""

    server: _Server

    def do_GET(self) -> None:
        if self.server.hang:
            self.server.stopping.wait(10)
            return
        self.send_response(self.server.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: object) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    status = 200
    hang = False
    stopping = threading.Event()


@pytest.fixture
def registry() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Registry)
    server.stopping = threading.Event()
    serve_in_background(server)
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()


def failure(url: str, timeout: float = 5.0) -> SourceUnavailable:
    with pytest.raises(SourceUnavailable) as caught:
        RegistrySource(url, timeout=timeout).scan()
    text = str(caught.value)
    assert "--" not in text
    assert "registry:" not in text
    return caught.value


def test_a_closed_port_is_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        error = failure(url)
    assert (
        str(error) == f"Cannot reach the registry at {url} (connection refused); check the address and port"
    )
    assert error.hint is Hint.TRY_SAMPLE


def test_a_registry_that_never_answers_times_out(registry: _Server) -> None:
    registry.hang = True
    url = f"http://127.0.0.1:{registry.server_address[1]}"
    error = failure(url, timeout=0.5)
    assert str(error) == f"The registry at {url} did not answer within 0.5 s"
    assert error.hint is Hint.RAISE_TIMEOUT


def test_a_registry_that_wants_credentials(registry: _Server) -> None:
    registry.status = 401
    error = failure(f"http://127.0.0.1:{registry.server_address[1]}")
    assert "wants credentials (401)" in str(error)


def test_a_registry_error_status(registry: _Server) -> None:
    registry.status = 503
    url = f"http://127.0.0.1:{registry.server_address[1]}"
    assert str(failure(url)) == f"The registry at {url} answered 503 to GET /v2/_catalog?n=1000."


def test_an_address_that_is_not_a_registry_url() -> None:
    with pytest.raises(LineageError) as caught:
        open_source("registry:ftp://example.org").scan()
    assert str(caught.value) == "'ftp://example.org' is not a registry address."
    assert caught.value.hint is Hint.REGISTRY_ADDRESS
