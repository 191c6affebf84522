"""What went wrong with an engine, as a domain error that says what happened and what to do.

Both transports (``transport.py``) hand their failures here, so one fault reads the same
whichever transport met it. The fault is found by the *types* of the exceptions along the
cause chain, and by HTTP status codes, never by the text of a message: docker-py wraps
the operating system's answer two or three times over (``DockerException`` from a
``requests`` ``ConnectionError`` from urllib3's ``ProtocolError('Connection aborted.',
FileNotFoundError(2, ...))``), and the words in between change between versions and
languages; the ``errno`` types at the bottom do not.

Messages name the engine and its address and say what to do in words that fit any
front end (environment variables and commands, never a flag or a widget); the remedy
a front end offers in its own words is the error's ``Hint``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from image_lineage.errors import Hint, SourceUnavailable
from image_lineage.net.faults import Fault, fault_of
from image_lineage.net.pool import Vanished
from image_lineage.text import UNSAFE


@dataclass(frozen=True, slots=True)
class Engine:
    """What to call an engine in messages, and how its user gets it running; ``libpod``: it
    also answers libpod's inspect, which names the manifest's annotations (Podman)."""

    name: str
    start: str
    permission: str
    libpod: bool = False


DOCKER = Engine(
    name="Docker Engine",
    start="start Docker, or set DOCKER_HOST to its address",
    permission="add your user to the 'docker' group (then log in again), or point DOCKER_HOST "
    "at a socket you may use",
)

#: The schemes an engine address may have (docker-py's, less Windows' npipe).
SCHEMES = ("unix", "tcp", "http", "https", "ssh")


class ImageGone(Vanished):
    """The engine answered 404 for an image: it was removed after it was listed."""


def unavailable(
    endpoint: str, error: BaseException, timeout: float, engine: Engine = DOCKER
) -> SourceUnavailable:
    """One sentence for the many ways of failing to reach or read an engine."""
    fault, cause = fault_of(error)
    where, the = f"the {engine.name} at {endpoint}", f"The {engine.name} at {endpoint}"
    if fault is None:
        return SourceUnavailable(
            f"Cannot read images from {where} ({type(cause).__name__}: {_reason(cause)})"
        )
    start = _capital(engine.start)
    said = {
        Fault.NO_SOCKET: f"No {engine.name} is listening at {endpoint} (no such socket); {engine.start}",
        Fault.PERMISSION: f"Permission denied on {where}; {engine.permission}",
        Fault.REFUSED: f"{the} refused the connection: is it running? {start}",
        Fault.LOST: f"{the} dropped the connection before answering: did it stop or restart? {start}",
        Fault.TIMEOUT: f"{the} did not answer within {timeout:g} s; check that it is healthy",
        Fault.NO_HOST: f"The host of {endpoint} cannot be found ({_reason(cause)}); check the address",
        Fault.TLS: f"TLS with {where} failed ({_reason(cause)}); check DOCKER_CERT_PATH, DOCKER_TLS_VERIFY",
        Fault.NOT_HTTP: f"{endpoint} does not answer like a {engine.name} (not HTTP); check the address",
        Fault.NOT_JSON: f"{endpoint} answered with something that is not JSON: is it a {engine.name}? "
        "Check the address",
    }
    return SourceUnavailable(
        said[fault], hint=Hint.RAISE_TIMEOUT if fault is Fault.TIMEOUT else Hint.TRY_SAMPLE
    )


def http_error(
    endpoint: str, status: int, request: str, detail: str, engine: Engine = DOCKER, *, image: bool = False
) -> Exception:
    """An answer other than 200 to ``request`` (``GET /images/…/json``), by its status code.

    404 for an image is ``ImageGone`` (removed between list and inspect, normal on a busy
    host: the scan leaves it out with a diagnostic); ``detail`` is the engine's own
    explanation, shown, never matched.
    """
    if status == 404 and image:
        return ImageGone(request)
    request = _one_line(request)
    said = f": {_one_line(detail)}" if detail.strip() else ""
    where = f"The {engine.name} at {endpoint}"
    if status == 404:
        return SourceUnavailable(
            f"{endpoint} answered 404 to {request}: is it a {engine.name}? Check the address",
            hint=Hint.TRY_SAMPLE,
        )
    if status in {401, 403}:
        return SourceUnavailable(
            f"{where} refused access ({status}) to {request}{said}; check what stands in front of it "
            "(a proxy, an authorization plugin)",
            hint=Hint.TRY_SAMPLE,
        )
    if status >= 500:
        return SourceUnavailable(
            f"{where} failed to answer {request} (error {status}{said}); check that it is healthy",
            hint=Hint.TRY_SAMPLE,
        )
    return SourceUnavailable(f"{where} answered {status} to {request}{said}")


def too_large(endpoint: str, request: str, limit: int, engine: Engine = DOCKER) -> SourceUnavailable:
    """An answer larger than the transport reads whole (``transport.MAX_ANSWER``)."""
    return SourceUnavailable(
        f"The {engine.name} at {endpoint} sent more than {limit // 2**20} MiB in answer to "
        f"{_one_line(request)}; not read (no engine answer is that large: is it a {engine.name}?)",
        hint=Hint.TRY_SAMPLE,
    )


def address_error(endpoint: str, engine: Engine = DOCKER) -> SourceUnavailable | None:
    """Why ``endpoint`` cannot be an engine's address (no scheme, an unknown one), or None.

    Checked before any transport sees it: docker-py would take ``localhost:2375`` for a
    scheme ``localhost`` and say "Invalid bind address protocol".
    """
    scheme, separator, _ = endpoint.partition("://")
    if not separator:
        return SourceUnavailable(
            f"The {engine.name} address {endpoint!r} has no scheme", hint=Hint.ADD_SCHEME
        )
    if scheme.lower() not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        return SourceUnavailable(
            f"The {engine.name} address {endpoint!r} has an unknown scheme {scheme + '://'!r} "
            f"(known: {known})",
            hint=Hint.ADD_SCHEME,
        )
    try:
        urlsplit(endpoint).port  # noqa: B018 - parsing is the check
    except ValueError:
        return SourceUnavailable(f"The {engine.name} address {endpoint!r} has a port that is not a number")
    return None


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _reason(error: BaseException) -> str:
    """An OS error's own words (``strerror``) rather than its repr, on one line."""
    if isinstance(error, OSError) and error.strerror:
        return _one_line(error.strerror)
    return _one_line(str(error)) or type(error).__name__


def _one_line(text: str) -> str:
    """``text`` on one line, at most 200 characters, with nothing that could drive a terminal."""
    return UNSAFE.sub("\ufffd", " ".join(text.split()))[:200]
