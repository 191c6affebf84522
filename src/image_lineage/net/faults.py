"""Why a request failed, found by the *types* of the exceptions along the cause chain.

Shared by every source that speaks to a server (the engines' transports, the registry, its
token service): the words in between change between versions and languages (docker-py
wraps the operating system's answer two or three times over: ``DockerException`` from a
``requests`` ``ConnectionError`` from urllib3's ``ProtocolError('Connection aborted.',
FileNotFoundError(2, ...))``); the ``errno`` types at the bottom do not. Each source words
the fault its own way (``sources/engine/errors.py``, ``sources/registry_client.py``).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Iterator
from enum import Enum

#: How far down a cause chain to look: docker-py's chains are five deep.
_MAX_CAUSES = 32


class Fault(Enum):
    """Why a server could not be read, as the exception types along the chain tell it."""

    NO_SOCKET = "no_socket"
    PERMISSION = "permission"
    REFUSED = "refused"
    LOST = "lost"
    TIMEOUT = "timeout"
    NO_HOST = "no_host"
    TLS = "tls"
    NOT_HTTP = "not_http"
    NOT_JSON = "not_json"


# Order matters: subclasses before their bases (RemoteDisconnected is a
# ConnectionResetError and a BadStatusLine; every one of these is an OSError but the last two).
_FAULTS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Fault], ...] = (
    (FileNotFoundError, Fault.NO_SOCKET),
    (PermissionError, Fault.PERMISSION),
    (ConnectionRefusedError, Fault.REFUSED),
    (TimeoutError, Fault.TIMEOUT),  # socket.timeout is TimeoutError
    (
        (
            ConnectionResetError,
            ConnectionAbortedError,
            BrokenPipeError,
            http.client.RemoteDisconnected,
            http.client.IncompleteRead,
        ),
        Fault.LOST,
    ),
    (socket.gaierror, Fault.NO_HOST),
    (ssl.SSLError, Fault.TLS),
    (http.client.HTTPException, Fault.NOT_HTTP),
    ((json.JSONDecodeError, UnicodeDecodeError, RecursionError), Fault.NOT_JSON),
)


def causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and everything it wraps, outermost first, each once.

    Follows what Python shows in a traceback (``__cause__``, else ``__context__`` unless
    suppressed with ``from None``), plus where urllib3 keeps the error it wraps: in
    ``reason`` (``MaxRetryError``, ``urllib.error.URLError``) or among its ``args``
    (``ProtocolError('Connection aborted.', FileNotFoundError(...))``).
    """
    queue, seen = [error], set[int]()
    while queue and len(seen) < _MAX_CAUSES:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner: list[object] = [current.__cause__]
        if current.__cause__ is None and not current.__suppress_context__:
            inner.append(current.__context__)
        inner.append(getattr(current, "reason", None))
        inner.extend(current.args)
        queue.extend(item for item in inner if isinstance(item, BaseException))


def classify(error: BaseException) -> Fault | None:
    """The fault one exception stands for by its type, or None for a wrapper that says nothing."""
    for types, fault in _FAULTS:
        if isinstance(error, types):
            return fault
    return None


def fault_of(error: BaseException) -> tuple[Fault | None, BaseException]:
    """The deepest exception in the chain that names a fault, and that fault.

    The deepest, because the operating system's own answer at the bottom is the most
    precise: urllib3's ``NewConnectionError`` is a (urllib3) timeout class by
    inheritance, yet wraps a ``ConnectionRefusedError``. With no fault named, the
    innermost exception (for the message) and None.
    """
    found: tuple[Fault | None, BaseException] = (None, error)
    innermost = error
    for cause in causes(error):
        innermost = cause
        fault = classify(cause)
        if fault is not None:
            found = (fault, cause)
    return found if found[0] is not None else (None, innermost)


class Status(Enum):
    """What an HTTP status says about the request, for any server (the caller words it)."""

    OK = "ok"
    REDIRECT = "redirect"
    CHALLENGE = "challenge"  # 401: credentials wanted (or refused)
    FORBIDDEN = "forbidden"  # 403
    GONE = "gone"  # 404: named, and not (or no longer) there
    RATE_LIMITED = "rate_limited"  # 429
    SERVER = "server"  # 5xx: the server is unhealthy, not the request wrong
    OTHER = "other"


def status_of(code: int) -> Status:
    """``401`` -> ``Status.CHALLENGE``, ``503`` -> ``Status.SERVER``..."""
    named = {
        200: Status.OK,
        401: Status.CHALLENGE,
        403: Status.FORBIDDEN,
        404: Status.GONE,
        429: Status.RATE_LIMITED,
    }
    if code in named:
        return named[code]
    if code in {301, 302, 303, 307, 308}:
        return Status.REDIRECT
    return Status.SERVER if 500 <= code <= 599 else Status.OTHER
