"""Sockets whose every read and write ends by one deadline: a whole exchange, not one receive.

``http.client``'s timeout bounds each socket operation, not a request: a server that sends
one byte a second (of its status line, its headers or its body) never trips a 3 s timeout,
and could keep a scan waiting as long as it likes. The owner of the socket sets
``deadline`` (``time.monotonic()`` seconds) before each request; every operation then waits
at most for the time left, and raises ``TimeoutError`` once there is none, so one exchange
takes at most its timeout. (``http.client`` reads answers through ``makefile``, which calls
``recv_into``.) ``DeadlineSSLSocket`` does the same over TLS (``SSLContext.sslsocket_class``).
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer


def for_size(timeout: float, size: int, rate: float) -> float:
    """The seconds an exchange carrying ``size`` bytes may take: the timeout, plus the size at
    ``rate`` (bytes a second, the slowest it may come). A big body has time; a trickle still
    ends, later. The registry's streamed blobs and the engine's exports both use it."""
    return timeout + max(size, 0) / rate


def time_left(deadline: float) -> float:
    """Seconds until ``deadline``; ``TimeoutError`` when none are left."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


class _Bounded(socket.socket):
    """The deadline check before each operation; the class after it in the MRO does the I/O."""

    deadline: float | None = None

    def _time_left(self) -> None:
        if self.deadline is not None:
            self.settimeout(time_left(self.deadline))

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._time_left()
        return super().recv(bufsize, flags)

    def recv_into(self, buffer: WriteableBuffer, nbytes: int = 0, flags: int = 0) -> int:
        self._time_left()
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: ReadableBuffer, flags: int = 0) -> int:
        self._time_left()
        return super().send(data, flags)

    def sendall(self, data: ReadableBuffer, flags: int = 0) -> None:
        self._time_left()
        super().sendall(data, flags)


class DeadlineSocket(_Bounded):
    """A plain socket (TCP or unix) bounded by ``deadline``."""

    @classmethod
    def adopt(cls, sock: socket.socket) -> DeadlineSocket:
        """The same connected socket (its file descriptor), as a ``DeadlineSocket``."""
        timeout = sock.gettimeout()
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.settimeout(timeout)
        return adopted


class DeadlineSSLSocket(_Bounded, ssl.SSLSocket):  # type: ignore[misc]  # typeshed's two recv() differ in names only
    """A TLS socket bounded by ``deadline`` (made by a context whose ``sslsocket_class`` it is)."""


def tls_context() -> ssl.SSLContext:
    """The system's default verifying context, making ``DeadlineSSLSocket`` sockets."""
    context = ssl.create_default_context()
    context.sslsocket_class = DeadlineSSLSocket
    return context
