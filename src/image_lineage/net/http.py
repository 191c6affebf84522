"""One HTTP client for registries and their token services: deadline, size cap, redirects.

What every exchange here guarantees, whoever calls it:

* **one deadline** on the whole exchange, redirects included: connecting, sending, the
  status line, the headers and the body (``deadline.DeadlineSocket``); a server trickling
  one byte a second cannot hold a scan past its timeout;
* **a size cap** on every read: the body up to ``Request.limit`` (a larger ``200`` answer
  is ``AnswerTooLarge``, refused unread when its ``Content-Length`` says so), at most
  ``ERROR_BODY`` of any other answer; ``http.client`` caps the status line and each header
  line at 64 KiB and the headers at 100;
* **credentials bound to their origin**: the ``Authorization`` header goes to the origin
  the request was made for and never follows a redirect to another; ``Answer.url`` says
  where the answer came from, so a caller never answers another host's ``401`` with them;
* **redirects** (301, 302, 303, 307, 308) followed for GET and HEAD only, to ``http`` and
  ``https`` URLs only, at most ``MAX_REDIRECTS``;
* **faults by type**: anything that ends an exchange without an answer is
  ``ExchangeFailed``, whose ``fault`` comes from the exception types along the chain
  (``faults.fault_of``), never from a message's words;
* requests sent as bytes the server reads: a non-ASCII path or query (a hostile
  repository, digest or ``Link`` target) is percent-encoded, and a header value that is
  not printable ASCII is refused (``RequestRefused``) rather than raised from deep inside
  ``http.client``.

Connections are kept alive, one per origin and worker thread.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from image_lineage.net.deadline import DeadlineSocket, DeadlineSSLSocket, for_size, time_left, tls_context
from image_lineage.net.faults import Fault, fault_of

if TYPE_CHECKING:
    import ssl

MAX_REDIRECTS = 5
#: The slowest a streamed body may come (bytes a second): a stream's deadline is the timeout
#: plus its size at this rate, so a big layer has time and a trickle still ends.
MIN_RATE = 256 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: What is read (and dropped) of an answer other than 200: enough for an error's words.
ERROR_BODY = 64 * 1024
_CHUNK = 64 * 1024
# RFC 3986 reserved and unreserved characters, and '%' (an escape already made): kept as they are.
_SAFE = "/?&=%:@!$'()*+,;~-._[]"


@dataclass(frozen=True, slots=True)
class Request:
    """One request: ``limit`` is the most body bytes a ``200`` answer may have."""

    method: str
    url: str
    limit: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # names lowercased
    body: bytes
    url: str  # where the answer came from, after any redirects
    stream: IO[bytes] | None = None  # a streamed 200 answer's body (``HttpClient.stream``), unread

    @property
    def origin(self) -> str:
        return origin_of(self.url)


class ExchangeFailed(Exception):
    """No whole answer arrived from ``url``: ``fault`` (None: unknown) and the ``cause`` naming it."""

    def __init__(self, url: str, error: BaseException) -> None:
        super().__init__(f"{url}: {type(error).__name__}")
        self.url = url
        self.fault: Fault | None
        self.fault, self.cause = fault_of(error)


class AnswerTooLarge(Exception):
    """A ``200`` answer from ``url`` larger than the request's ``limit``: refused."""

    def __init__(self, url: str, limit: int) -> None:
        super().__init__(f"{url}: more than {limit} bytes")
        self.url = url
        self.limit = limit


class RequestRefused(Exception):
    """A request (or a redirect) this client will not send; ``str()`` says why, in words."""


def origin_of(url: str) -> str:
    """``https://User:pw@Host:5000/v2/x`` -> ``https://host:5000``: scheme and host, no user info."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2].lower()}"


def request_target(url: str) -> str:
    """The path and query to send, percent-encoded where they are not ASCII."""
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return urllib.parse.quote(target, safe=_SAFE)


class _Connection(http.client.HTTPConnection):
    """A connection whose socket is bounded by ``deadline`` from the first byte of ``connect``."""

    deadline: float = 0.0

    def start(self, deadline: float) -> bool:
        """Bound everything from now on by ``deadline``; whether a connection is already open."""
        self.deadline = deadline
        if isinstance(self.sock, DeadlineSocket | DeadlineSSLSocket):
            self.sock.deadline = deadline
        return self.sock is not None

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), time_left(self.deadline))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = DeadlineSocket.adopt(sock)
        self.sock.deadline = self.deadline


class _TlsConnection(_Connection):
    def __init__(self, host: str, port: int | None, context: ssl.SSLContext) -> None:
        super().__init__(host, port)
        self._context = context

    def connect(self) -> None:
        super().connect()
        sock = self._context.wrap_socket(self.sock, server_hostname=self.host)
        if isinstance(sock, DeadlineSSLSocket):  # the handshake ran under the connect's timeout
            sock.deadline = self.deadline
        self.sock = sock


class _Connections(threading.local):
    """Each worker thread's keep-alive connections, by origin."""

    def __init__(self) -> None:
        self.open: dict[str, _Connection] = {}


class HttpClient:
    """Exchanges under ``timeout`` seconds each (redirects included); safe to share between threads."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._connections = _Connections()
        self._tls: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def send(self, request: Request) -> Answer:
        """The answer to ``request``, after redirects; see the module's docstring for the rules."""
        return self._follow(request, time.monotonic() + self.timeout, stream=False)

    @contextmanager
    def stream(self, request: Request) -> Iterator[Answer]:
        """The answer to a GET whose ``200`` body (``Answer.stream``) is read by the caller as it
        comes, at most ``request.limit`` bytes (more is ``AnswerTooLarge``), under a deadline of
        the timeout plus ``limit`` bytes at ``MIN_RATE``. Every other rule of ``send`` holds; the
        connection is closed after (a body read in part cannot be reused)."""
        deadline = time.monotonic() + for_size(self.timeout, request.limit, MIN_RATE)
        answer = self._follow(request, deadline, stream=True)
        try:
            yield answer
        finally:
            if answer.stream is not None:
                answer.stream.close()

    def _follow(self, request: Request, deadline: float, *, stream: bool) -> Answer:
        for value in request.headers.values():
            if not (value.isascii() and value.isprintable()):
                raise RequestRefused("a header value that is not printable ASCII")
        url, headers = request.url, dict(request.headers)
        first = origin_of(url)
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._exchange(request, url, headers, deadline, stream)
            location = answer.headers.get("location")
            if answer.status not in REDIRECTS or not location or request.method not in {"GET", "HEAD"}:
                return answer
            url = urllib.parse.urljoin(url, location)
            scheme = urllib.parse.urlsplit(url).scheme
            if scheme not in {"http", "https"}:
                raise RequestRefused(f"a redirect to a {scheme or 'relative'} URL")
            if origin_of(url) != first:
                headers.pop("Authorization", None)  # credentials stay with the origin they are for
        raise RequestRefused(f"more than {MAX_REDIRECTS} redirects")

    def _exchange(
        self, request: Request, url: str, headers: Mapping[str, str], deadline: float, stream: bool = False
    ) -> Answer:
        origin = origin_of(url)
        target = request_target(url)
        for attempt in (1, 2):
            reused = False
            try:
                connection = self._connection(url)
                reused = connection.start(deadline)
                connection.request(request.method, target, body=request.body, headers=dict(headers))
                response = connection.getresponse()
                if stream and response.status == 200:
                    return self._streamed(response, request, origin, url)
                return self._answer(response, request, origin, url)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._drop(origin)
                if reused and attempt == 1:
                    continue  # the server closed an idle keep-alive connection: ask again
                raise ExchangeFailed(url, error) from error
            except (OSError, http.client.HTTPException, UnicodeError, ValueError) as error:
                # ValueError: a port out of range, a header http.client refuses.
                self._drop(origin)
                raise ExchangeFailed(url, error) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _answer(self, response: http.client.HTTPResponse, request: Request, origin: str, url: str) -> Answer:
        headers = {k.lower(): v for k, v in response.getheaders()}
        limit = request.limit if response.status == 200 else ERROR_BODY
        length = headers.get("content-length", "")
        if request.method == "HEAD":
            body = response.read()  # nothing: ends the answer so the connection is kept
        elif response.status == 200 and length.isdigit() and int(length) > limit:
            self._drop(origin)
            raise AnswerTooLarge(url, limit)
        else:
            body = _read(response, limit + 1)
            if len(body) > limit:
                self._drop(origin)
                if response.status == 200:
                    raise AnswerTooLarge(url, limit)
                body = body[:limit]
        if response.will_close or not response.isclosed():
            self._drop(origin)  # not read to its end (or the server ends it): not reusable
        return Answer(response.status, headers, body, url)

    def _streamed(
        self, response: http.client.HTTPResponse, request: Request, origin: str, url: str
    ) -> Answer:
        """A ``200`` answer left unread: its connection leaves the pool (the caller reads it)."""
        headers = {k.lower(): v for k, v in response.getheaders()}
        connection = self._connections.open.pop(origin, None)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > request.limit:
            if connection is not None:
                connection.close()
            raise AnswerTooLarge(url, request.limit)
        body = _Capped(response, connection, request.limit, url)
        return Answer(response.status, headers, b"", url, cast("IO[bytes]", body))

    def _connection(self, url: str) -> _Connection:
        origin = origin_of(url)
        connection = self._connections.open.get(origin)
        if connection is None:
            parts = urllib.parse.urlsplit(url)
            host, port = parts.hostname or "", parts.port  # ValueError for a port out of range
            if parts.scheme == "https":
                connection = _TlsConnection(host, port, self._context())
            else:
                connection = _Connection(host, port)
            self._connections.open[origin] = connection
        return connection

    def _context(self) -> ssl.SSLContext:
        with self._lock:
            if self._tls is None:
                self._tls = tls_context()
            return self._tls

    def _drop(self, origin: str) -> None:
        connection = self._connections.open.pop(origin, None)
        if connection is not None:
            connection.close()


def _read(response: http.client.HTTPResponse, limit: int) -> bytes:
    """Up to ``limit`` bytes of the body (the socket's deadline bounds the wait)."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = response.read1(min(_CHUNK, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if response.length == 0:
        response.read()  # all read: this marks the answer done, so the connection is kept
    return b"".join(chunks)


class _Capped(io.RawIOBase):
    """A streamed body: at most ``limit`` bytes (one more is ``AnswerTooLarge``); closing it
    closes its connection."""

    def __init__(
        self, response: http.client.HTTPResponse, connection: _Connection | None, limit: int, url: str
    ) -> None:
        self._response = response
        self._connection = connection
        self._left = limit
        self._limit = limit
        self._url = url

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # One byte past the limit is asked for, to tell a body that is too long.
        window = memoryview(buffer).cast("B")[: self._left + 1]
        try:
            count = self._response.readinto(window)
        except (OSError, http.client.HTTPException) as error:
            raise ExchangeFailed(self._url, error) from error
        if count > self._left:
            raise AnswerTooLarge(self._url, self._limit)
        self._left -= count
        return count

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._response.close()
        super().close()
