"""A recording HTTP proxy in front of a Docker Engine unix socket (no pytest import).

``RecordingProxy(upstream)`` listens on a new unix socket in a temporary directory,
forwards every request to the engine's socket and records its method and target.
Point a client at :attr:`RecordingProxy.endpoint` (``unix:///tmp/il-proxy-XXXX/proxy.sock``)
and read :attr:`RecordingProxy.requests` afterwards::

    with RecordingProxy(daemon.socket_path) as proxy:
        main(["tree", "--source", f"docker:{proxy.endpoint}"])
    assert_read_only(proxy.requests)

Each client connection gets its own thread and its own keep-alive connection to the
engine, so clients that keep connections open (``http.client``, docker-py) work as
they would against the engine. Answers are read whole, then sent on with a
``Content-Length`` (a chunked answer is de-chunked): streaming endpoints such as
``/events`` are not supported, and a scan never uses them.

Faults are injected with three hooks, all called on the connection's thread:

* ``before(request)`` before the request is forwarded (delay it, stop the engine ...);
* ``after(request, response)`` once the engine has answered, before the answer is
  sent on (delete an image between list and inspect ...);
* ``send(request, sock, data, closing)`` sends the answer's bytes (default:
  ``sendall``); :func:`drip` sends them one byte at a time.

Hooks that wait should wait on :attr:`RecordingProxy.closing` (``closing.wait(s)``)
so that :meth:`RecordingProxy.close` never waits for them. When the engine cannot be
reached or drops the connection, the proxy closes the client's connection without an
answer, which is what a client sees when the engine dies under it.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

__all__ = [
    "READ_ONLY_METHODS",
    "RecordingProxy",
    "Request",
    "Response",
    "assert_read_only",
    "drip",
    "inspected_images",
]

#: The only methods a read-only client may send.
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})

# Headers that describe one hop, not the message: never forwarded as they came.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
)
_MAX_LINE = 65536


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the client sent it: ``path`` is the raw target, query included."""

    method: str
    path: str

    @property
    def route(self) -> str:
        """The decoded path without the query and without a ``/v1.41``-style prefix."""
        path = unquote(urlsplit(self.path).path)
        first, _, rest = path.lstrip("/").partition("/")
        if first.startswith("v") and first[1:].replace(".", "").isdigit():
            return "/" + rest
        return path


@dataclass(frozen=True, slots=True)
class Response:
    """The engine's answer, body read whole (de-chunked)."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def encode(self, *, head: bool, keep_alive: bool) -> bytes:
        """The answer as bytes for the client, with an exact ``Content-Length``."""
        lines = [f"HTTP/1.1 {self.status} {self.reason}"]
        lines += [f"{k}: {v}" for k, v in self.headers if k.lower() not in _HOP_BY_HOP | {"content-length"}]
        if head:  # a HEAD answer announces the length of the body it does not send
            lines += [f"{k}: {v}" for k, v in self.headers if k.lower() == "content-length"]
        else:
            lines.append(f"Content-Length: {len(self.body)}")
        lines.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head else self.body)


Before = Callable[[Request], None]
After = Callable[[Request, Response], None]
Sender = Callable[[Request, socket.socket, bytes, threading.Event], None]


def _sendall(_request: Request, sock: socket.socket, data: bytes, _closing: threading.Event) -> None:
    sock.sendall(data)


def drip(interval: float, only: Callable[[Request], bool] | None = None) -> Sender:
    """A sender that sends one byte every ``interval`` seconds (an engine that stalls).

    ``only``: which requests get the slow answer; the others are answered at once.
    """

    def send(request: Request, sock: socket.socket, data: bytes, closing: threading.Event) -> None:
        if only is not None and not only(request):
            sock.sendall(data)
            return
        for index in range(len(data)):
            sock.sendall(data[index : index + 1])
            if closing.wait(interval):
                return

    return send


class _UpstreamConnection(http.client.HTTPConnection):
    """``http.client`` over the engine's unix socket."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(str(self._path))
        except OSError:
            sock.close()
            raise
        self.sock = sock


class RecordingProxy:
    """A threaded unix-socket HTTP proxy that records every request; a context manager.

    ``upstream`` is the engine's socket path. ``upstream_timeout`` bounds each wait
    for the engine (it only matters when the engine itself hangs).
    """

    def __init__(
        self,
        upstream: str | Path,
        *,
        before: Before | None = None,
        after: After | None = None,
        send: Sender | None = None,
        upstream_timeout: float = 60.0,
    ) -> None:
        self.upstream = Path(upstream)
        self.before = before
        self.after = after
        self.send = send or _sendall
        self.upstream_timeout = upstream_timeout
        #: Set by :meth:`close`: hooks that wait should wait on it.
        self.closing = threading.Event()
        self.dir = Path(tempfile.mkdtemp(prefix="il-proxy-", dir="/tmp"))
        self.socket_path = self.dir / "proxy.sock"
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._clients: set[socket.socket] = set()
        self._connections = 0
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None

    # ------------------------------------------------------------------ public
    @property
    def endpoint(self) -> str:
        """The ``unix://`` URL to give a client (``--source docker:`` + this)."""
        return f"unix://{self.socket_path}"

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def connections(self) -> int:
        """How many client connections were accepted (fewer than requests: keep-alive)."""
        with self._lock:
            return self._connections

    def clear(self) -> None:
        """Forget the requests and connections counted so far."""
        with self._lock:
            self._requests.clear()
            self._connections = 0

    def start(self) -> RecordingProxy:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        listener.listen(64)
        listener.settimeout(0.1)  # so the accept loop notices ``closing``
        self._listener = listener
        self._spawn(self._accept_loop, "proxy-accept")
        return self

    def close(self) -> None:
        """Stop accepting, drop every client connection, wait for the threads; idempotent."""
        self.closing.set()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=10)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RecordingProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --------------------------------------------------------------- internals
    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self.closing.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self._lock:
                self._clients.add(client)
                self._connections += 1
            self._spawn(self._serve, "proxy-client", client)

    def _serve(self, client: socket.socket) -> None:
        """Answer one client connection's requests, in order, until either side closes."""
        upstream = _UpstreamConnection(self.upstream, self.upstream_timeout)
        reader = client.makefile("rb")
        try:
            while not self.closing.is_set():
                parsed = _read_request(reader)
                if parsed is None:
                    return
                request, headers, body = parsed
                with self._lock:
                    self._requests.append(request)
                if self.before:
                    self.before(request)
                try:
                    response = _forward(upstream, request, headers, body)
                except (OSError, http.client.HTTPException):
                    return  # the engine is gone: so is this connection, without an answer
                if self.after:
                    self.after(request, response)
                keep_alive = _keep_alive(headers)
                data = response.encode(head=request.method == "HEAD", keep_alive=keep_alive)
                self.send(request, client, data, self.closing)
                if not keep_alive:
                    return
        except OSError:
            return  # the client went away
        finally:
            upstream.close()
            reader.close()
            with self._lock:
                self._clients.discard(client)
            with contextlib.suppress(OSError):
                client.close()


def _read_request(reader: BinaryIO) -> tuple[Request, list[tuple[str, str]], bytes] | None:
    """The next request on a connection, or None at its end (or on garbage)."""
    line = reader.readline(_MAX_LINE)
    while line in (b"\r\n", b"\n"):  # tolerated between requests (RFC 9112 2.2)
        line = reader.readline(_MAX_LINE)
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        return None
    method, target, _version = parts
    headers: list[tuple[str, str]] = []
    while True:
        header = reader.readline(_MAX_LINE)
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    body = reader.read(length) if length else b""
    return Request(method, target), headers, body


def _forward(
    upstream: _UpstreamConnection, request: Request, headers: list[tuple[str, str]], body: bytes
) -> Response:
    kept = {k: v for k, v in headers if k.lower() not in _HOP_BY_HOP | {"content-length"}}
    upstream.request(request.method, request.path, body=body or None, headers=kept)
    answer = upstream.getresponse()
    data = answer.read()
    return Response(answer.status, answer.reason, tuple(answer.getheaders()), data)


def _keep_alive(headers: list[tuple[str, str]]) -> bool:
    return not any(k.lower() == "connection" and v.lower() == "close" for k, v in headers)


# --------------------------------------------------------------------------- assertions


def assert_read_only(requests: Iterable[Request]) -> None:
    """Fail unless at least one request was made and every one was a GET or HEAD.

    Use it on :attr:`RecordingProxy.requests` after any scan (CLI, docker-py, the app).
    An empty recording fails too: a check that saw nothing proves nothing.
    """
    seen = list(requests)
    if not seen:
        raise AssertionError("no requests were recorded: nothing was checked")
    writes = [f"{r.method} {r.path}" for r in seen if r.method not in READ_ONLY_METHODS]
    if writes:
        raise AssertionError(
            f"{len(writes)} of {len(seen)} requests were not read-only: " + "; ".join(writes[:10])
        )


def inspected_images(requests: Iterable[Request], kind: str = "json") -> set[str]:
    """Image ids (or names) asked about with ``/images/{name}/{kind}`` (``json`` or ``history``)."""
    found = set()
    for request in requests:
        parts = request.route.split("/")
        if len(parts) == 4 and parts[1] == "images" and parts[3] == kind and parts[2] != "json":
            found.add(parts[2])
    return found
