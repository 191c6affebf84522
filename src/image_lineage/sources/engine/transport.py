"""How requests reach an engine: two transports, one deadline per request, one API version.

docker-py splits transport, API and models; so does this package. This module is the
transport: it opens connections, sends the few GET requests a scan needs
(``/version``, ``/images/json``, ``/images/{id}/json``, ``/images/{id}/history``) and
negotiates the API version the same way for both transports:

On the containerd image store a scan also sends ``/info``, ``platform=`` history
requests and ``/images/get`` (the export ``docker save`` reads: a GET that changes
nothing), whose tar answer is handed, as a stream, to a reader.

* local unix sockets and plain ``tcp://`` use the standard library's
  ``http.client`` on keep-alive connections, one per worker thread;
* TLS (``DOCKER_TLS_VERIFY``) and ``ssh://`` endpoints use the Docker SDK's
  low-level ``APIClient``, which knows how to set those up.

Why two: measured in ``bench/scan.py``, docker-py costs about 2 ms of client CPU
per request and ~0.3 s just to import, which is most of a scan's time; the
standard library does the same requests in a fraction of it.

Every failure leaves here as a domain error made by ``errors.py``.
"""

from __future__ import annotations

import http.client
import io
import itertools
import json
import os
import queue
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO, Protocol, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from image_lineage.cache import Details
from image_lineage.errors import Hint, LineageError, SourceUnavailable
from image_lineage.net.deadline import DeadlineSocket as _DeadlineSocket
from image_lineage.net.deadline import for_size
from image_lineage.net.faults import causes
from image_lineage.sources.engine.errors import (
    DOCKER,
    Engine,
    ImageGone,
    address_error,
    http_error,
    too_large,
    unavailable,
)
from image_lineage.text import may_hold_surrogates, parsed_without_surrogates

DEFAULT_ENDPOINT = "unix:///var/run/docker.sock"
T = TypeVar("T")

#: The largest answer read whole (JSON). A list of 50,000 images is about 50 MiB; an
#: inspect or a history is kilobytes. More is refused, in one line, before it is held.
MAX_ANSWER = 128 * 2**20
_API_VERSION = re.compile(r"[0-9]{1,4}\.[0-9]{1,4}")
#: What is read of an error's body (its message), and of what follows an export's tar.
_MAX_ERROR_BODY = 64 * 2**10
#: Bytes a second an export may be as slow as (``net.deadline.for_size``): an image of 10 GB
#: may take 8 minutes more than the timeout, which alone cut a big image's export short
#: however fast it came. Faster than a registry's floor (``net.http.MIN_RATE``): an engine
#: makes its export on this machine or one near it, not across the internet.
EXPORT_RATE_FLOOR = 20 * 2**20


def export_timeout(timeout: float, size: int) -> float:
    """The seconds an export of an image of ``size`` bytes may take, ``timeout`` given (to a
    tenth: the error that says it reads "within 5.8 s", not "within 5.80005 s")."""
    return round(for_size(timeout, size, EXPORT_RATE_FLOOR), 1)


class Transport(Protocol):
    """The read-only requests a scan makes. All but ``version``/``images`` run on several threads.

    ``platform`` is the JSON object an engine's ``platform=`` takes (API >= 1.48);
    ``export`` streams ``GET /images/get?names=ID`` into ``read`` and returns what it returns;
    ``size``, the image's bytes as the engine lists them, lengthens its deadline (``export_timeout``).
    """

    def version(self) -> Mapping[str, Any]: ...
    def info(self) -> Mapping[str, Any]: ...
    def images(self, *, include_intermediate: bool, manifests: bool = False) -> list[Mapping[str, Any]]: ...
    def details(self, image_id: str) -> Details: ...
    def inspect(self, image_id: str) -> dict[str, Any]: ...
    def history(self, image_id: str, platform: str | None = None) -> list[dict[str, Any]]: ...
    def export(self, image_id: str, read: Callable[[BinaryIO], T], *, size: int = 0) -> T: ...
    def close(self) -> None: ...


def check_address(endpoint: str, engine: Engine = DOCKER) -> None:
    """Refuse an address no transport can use (no scheme, an unknown one) in our own words."""
    problem = address_error(endpoint, engine)
    if problem is not None:
        raise problem


def connect(endpoint: str, timeout: float, engine: Engine = DOCKER) -> Transport:
    """The fastest transport for ``endpoint``, with the API version negotiated."""
    check_address(endpoint, engine)
    url = urlsplit(endpoint)
    tls = bool(os.environ.get("DOCKER_TLS_VERIFY"))
    if url.scheme == "unix" and url.path:
        path = url.path
        return HttpTransport(lambda: _UnixConnection(path, timeout), endpoint, timeout, engine)
    if url.scheme in {"tcp", "http"} and not tls:
        host, port = url.hostname or "localhost", url.port or 2375
        return HttpTransport(lambda: _TcpConnection(host, port, timeout=timeout), endpoint, timeout, engine)
    return SdkTransport(endpoint, timeout, engine)


def api_version(answer: object, endpoint: str, engine: Engine) -> str:
    """The API version a ``/version`` answer names (``1.41``), to put in every path after it.

    Anything else is refused: it goes into request lines, where http.client takes only
    Latin-1 and an engine could otherwise steer the paths asked for.
    """
    version = answer.get("ApiVersion") if isinstance(answer, dict) else None
    if not isinstance(version, str) or not _API_VERSION.fullmatch(version):
        raise SourceUnavailable(
            f"{endpoint} answered /version without an API version: is it a {engine.name}? Check the address",
            hint=Hint.TRY_SAMPLE,
        )
    return version


# --------------------------------------------------------------------------- stdlib transport


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = path

    def connect(self) -> None:
        sock = _DeadlineSocket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _TcpConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket.adopt(self.sock)


class HttpTransport:
    """GET requests over keep-alive ``http.client`` connections, one per thread."""

    def __init__(
        self,
        connect: Callable[[], http.client.HTTPConnection],
        endpoint: str,
        timeout: float,
        engine: Engine = DOCKER,
    ) -> None:
        self._connect = connect
        self._endpoint = endpoint
        self._timeout = timeout
        self._engine = engine
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._prefix = ""
        self._version: Mapping[str, Any] = {}

    def version(self) -> Mapping[str, Any]:
        if not self._version:
            # Unversioned, like docker-py's negotiation: then speak the engine's own version.
            answer = self._get("/version")
            self._prefix = f"/v{api_version(answer, self._endpoint, self._engine)}"
            self._version = answer
        return self._version

    def info(self) -> Mapping[str, Any]:
        self.version()
        answer = self._get(f"{self._prefix}/info")
        return answer if isinstance(answer, dict) else {}

    def images(self, *, include_intermediate: bool, manifests: bool = False) -> list[Mapping[str, Any]]:
        self.version()
        params = {"all": "1" if include_intermediate else "0"} | ({"manifests": "1"} if manifests else {})
        answer = self._get(f"{self._prefix}/images/json?{urlencode(params)}")
        if not isinstance(answer, list):
            raise SourceUnavailable(
                f"The {self._engine.name} at {self._endpoint} sent an unexpected image list."
            )
        return [item for item in answer if isinstance(item, dict)]

    def details(self, image_id: str) -> Details:
        name = quote(image_id, safe="")
        # Podman's own inspect is the Docker one plus the manifest's annotations (buildah writes
        # org.opencontainers.image.base.* there): asked instead, not as well, and its bare
        # hexadecimal id given the algorithm the Docker API's has.
        libpod = self._engine.libpod
        inspect = self._libpod_inspect(image_id) if libpod else None
        if inspect is None:
            inspect = self._get(f"{self._prefix}/images/{name}/json", image=True)
        history = self._get(f"{self._prefix}/images/{name}/history", image=True)
        if not isinstance(inspect, dict) or not isinstance(history, list):
            raise self._unexpected(image_id)
        if libpod and isinstance(inspect.get("Id"), str) and ":" not in inspect["Id"]:
            inspect["Id"] = f"sha256:{inspect['Id']}"
        return inspect, history

    def _libpod_inspect(self, image_id: str) -> Any:
        """Podman's own inspect of ``image_id``; None where it answers 404 (a service without the
        libpod API, or the image gone: the Docker API's inspect then says which). Asked by the
        bare hexadecimal id: libpod finds no image by ``sha256%3A…``."""
        bare = image_id.removeprefix("sha256:")
        try:
            return self._get(f"{self._prefix}/libpod/images/{quote(bare, safe='')}/json", image=True)
        except ImageGone:
            return None

    def inspect(self, image_id: str) -> dict[str, Any]:
        answer = self._get(f"{self._prefix}/images/{quote(image_id, safe='')}/json", image=True)
        if not isinstance(answer, dict):
            raise self._unexpected(image_id)
        return answer

    def history(self, image_id: str, platform: str | None = None) -> list[dict[str, Any]]:
        query = f"?{urlencode({'platform': platform})}" if platform else ""
        answer = self._get(f"{self._prefix}/images/{quote(image_id, safe='')}/history{query}", image=True)
        if not isinstance(answer, list):
            raise self._unexpected(image_id)
        return [entry for entry in answer if isinstance(entry, dict)]

    def export(self, image_id: str, read: Callable[[BinaryIO], T], *, size: int = 0) -> T:
        path = f"{self._prefix}/images/get?{urlencode({'names': image_id})}"
        timeout = export_timeout(self._timeout, size)
        connection = self._connection()
        try:
            response = self._send(connection, path, "application/x-tar", timeout)
            if response.status != 200:
                body = response.read(_MAX_ERROR_BODY)
                connection.close()  # the rest of the body is left unread
                self._local.connection = None
                raise http_error(
                    self._endpoint,
                    response.status,
                    f"GET {path}",
                    _explanation(body),
                    self._engine,
                    image=True,
                )
            result = read(response)  # an HTTPResponse is a binary stream
            if len(response.read(_MAX_ERROR_BODY + 1)) > _MAX_ERROR_BODY:
                # More than a tar's padding follows it: not read; the connection is not reused.
                connection.close()
                self._local.connection = None
        except BaseException as error:
            connection.close()
            self._local.connection = None
            raise _export_failure(error, self._endpoint, timeout, self._engine) from error
        return result

    def _unexpected(self, image_id: str) -> SourceUnavailable:
        return _unexpected(self._engine, self._endpoint, image_id)

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _send(
        self, connection: http.client.HTTPConnection, path: str, accept: str, timeout: float | None = None
    ) -> http.client.HTTPResponse:
        """GET ``path`` and wait for the answer's head, all under one deadline (``timeout``
        seconds from now, the transport's own by default)."""
        # Connect first (http.client would do it inside ``request``) so that the whole
        # request, answer included, runs against one deadline.
        if connection.sock is None:
            connection.connect()
        if isinstance(connection.sock, _DeadlineSocket):
            connection.sock.deadline = time.monotonic() + (self._timeout if timeout is None else timeout)
        connection.request("GET", path, headers={"Accept": accept})
        return connection.getresponse()

    def _get(self, path: str, *, image: bool = False) -> Any:
        """The JSON answer to GET ``path``; ``image``: a 404 means the image is gone."""
        for attempt in (1, 2):
            connection = self._connection()
            try:
                response = self._send(connection, path, "application/json")
                body = _read_whole(response, MAX_ANSWER)
            except AnswerTooLarge as error:
                connection.close()
                self._local.connection = None
                raise too_large(self._endpoint, f"GET {path}", MAX_ANSWER, self._engine) from error
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                # The engine may close an idle keep-alive connection: reconnect once.
                connection.close()
                self._local.connection = None
                if attempt == 2:
                    raise unavailable(self._endpoint, error, self._timeout, self._engine) from error
                continue
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                self._local.connection = None
                raise unavailable(self._endpoint, error, self._timeout, self._engine) from error
            if response.status != 200:
                raise http_error(
                    self._endpoint,
                    response.status,
                    f"GET {path}",
                    _explanation(body),
                    self._engine,
                    image=image,
                )
            try:
                return _parsed(body)
            except (ValueError, RecursionError) as error:
                raise unavailable(self._endpoint, error, self._timeout, self._engine) from error
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------- Docker SDK transport


class SdkTransport:
    """docker-py's low-level client, for TLS and SSH endpoints it knows how to reach.

    docker-py's timeout bounds each socket read, not a request, so every call here runs
    under ``within_deadline``: an engine that trickles its answer cannot hold a scan.
    """

    def __init__(self, endpoint: str, timeout: float, engine: Engine = DOCKER) -> None:
        check_address(endpoint, engine)
        import docker  # noqa: PLC0415 - costly to import; only this transport needs it
        import requests  # noqa: PLC0415 - docker-py's own dependency, imported by it anyway

        if endpoint.startswith("ssh://") and not hasattr(docker.transport, "SSHHTTPAdapter"):
            # docker-py defines its SSH adapter only when paramiko imports, even to run the
            # system's ssh; without it, it fails with a NameError deep inside.
            raise SourceUnavailable(
                f"Reaching the {engine.name} at {endpoint} needs docker-py's SSH support "
                "(pip install paramiko); or forward its socket (ssh -NL /tmp/engine.sock:"
                "/var/run/docker.sock HOST) and read unix:///tmp/engine.sock"
            )
        self._errors = docker.errors
        self._http_error = requests.exceptions.HTTPError
        self._endpoint = endpoint
        self._timeout = timeout
        self._engine = engine
        kwargs = docker.utils.kwargs_from_env()
        kwargs["base_url"] = endpoint
        # ssh:// through the system's ssh client (its config, agent and known hosts),
        # rather than docker-py's paramiko, which is not a dependency.
        kwargs["use_ssh_client"] = endpoint.startswith("ssh://")
        # Made with the oldest version docker-py speaks (no request), then negotiated here:
        # docker-py's own negotiation would read the /version answer whole, uncapped.
        self._client = self._call(
            lambda: docker.APIClient(
                version=docker.constants.MINIMUM_DOCKER_API_VERSION, timeout=timeout, **kwargs
            ),
            "GET /version",
        )
        self._client._version = api_version(self.version(), endpoint, engine)

    def _call(self, call: Callable[[], Any], request: str, *, image: bool = False) -> Any:
        """``call()`` within the deadline; its failure as a domain error, by type and status."""
        try:
            return within_deadline(call, self._timeout)
        except AnswerTooLarge as error:
            raise too_large(self._endpoint, request, MAX_ANSWER, self._engine) from error
        except (
            self._errors.DockerException,
            OSError,
            ValueError,
            RecursionError,
            http.client.HTTPException,
        ) as error:
            # An HTTP answer other than 2xx is a requests HTTPError: docker-py's APIError
            # (NotFound too) raised as it is, or wrapped in a DockerException while the
            # version is negotiated, or left as the context of docker-py's own KeyError
            # when the error body has no "message".
            answered = next((c for c in causes(error) if isinstance(c, self._http_error)), None)
            if answered is not None and answered.response is not None:
                status, detail = answered.response.status_code, _explanation(answered.response.content)
                raise http_error(
                    self._endpoint, status, request, detail, self._engine, image=image
                ) from error
            raise unavailable(self._endpoint, error, self._timeout, self._engine) from error

    def version(self) -> Mapping[str, Any]:
        url = self._client._url("/version", versioned_api=False)
        answer = self._raw(url, {}, "GET /version", built=True)
        return answer if isinstance(answer, dict) else {}

    def info(self) -> Mapping[str, Any]:
        answer = self._raw("/info", {}, "GET /info")
        return answer if isinstance(answer, dict) else {}

    def images(self, *, include_intermediate: bool, manifests: bool = False) -> list[Mapping[str, Any]]:
        # docker-py has no parameter for ``manifests``: the raw URL, as docker-py builds it.
        params = {"all": "1" if include_intermediate else "0"} | ({"manifests": "1"} if manifests else {})
        answer = self._raw("/images/json", params, "GET /images/json")
        if not isinstance(answer, list):
            raise SourceUnavailable(
                f"The {self._engine.name} at {self._endpoint} sent an unexpected image list."
            )
        return [item for item in answer if isinstance(item, dict)]

    def inspect(self, image_id: str) -> dict[str, Any]:
        path = self._client._url("/images/{0}/json", image_id)
        answer = self._raw(path, {}, f"GET /images/{image_id}/json", image=True, built=True)
        if not isinstance(answer, dict):
            raise _unexpected(self._engine, self._endpoint, image_id)
        return answer

    def history(self, image_id: str, platform: str | None = None) -> list[dict[str, Any]]:
        params = {"platform": platform} if platform else {}
        path = self._client._url("/images/{0}/history", image_id)
        answer = self._raw(path, params, f"GET /images/{image_id}/history", image=True, built=True)
        if not isinstance(answer, list):
            raise _unexpected(self._engine, self._endpoint, image_id)
        return [entry for entry in answer if isinstance(entry, dict)]

    def export(self, image_id: str, read: Callable[[BinaryIO], T], *, size: int = 0) -> T:
        request = f"GET /images/get?names={image_id}"
        timeout = export_timeout(self._timeout, size)

        def first() -> tuple[bytes, Iterator[bytes]]:
            # docker-py sends the request, and raises for its status, on the first chunk.
            chunks = iter(self._client.get_image(image_id))
            return next(chunks, b""), chunks

        head, rest = self._call(first, request, image=True)
        try:
            result: T = within_deadline(
                lambda: read(_ChunkReader(itertools.chain([head], rest))),  # type: ignore[arg-type]
                timeout,
            )
        except BaseException as error:
            raise _export_failure(error, self._endpoint, timeout, self._engine) from error
        return result

    def _raw(
        self, path: str, params: Mapping[str, str], request: str, *, image: bool = False, built: bool = False
    ) -> Any:
        url = path if built else self._client._url(path)

        def get() -> Any:
            response = self._client._get(url, params=params, stream=True)
            try:
                if not 200 <= response.status_code < 300:
                    said = _explanation(_read_chunks(response.iter_content(_MAX_ERROR_BODY), _MAX_ERROR_BODY))
                    raise http_error(
                        self._endpoint, response.status_code, request, said, self._engine, image=image
                    )
                return _parsed(_read_chunks(response.iter_content(64 * 1024), MAX_ANSWER, refuse=True))
            finally:
                response.close()

        return self._call(get, request, image=image)

    def details(self, image_id: str) -> Details:
        return self.inspect(image_id), self.history(image_id)

    def close(self) -> None:
        self._client.close()


def _export_failure(error: BaseException, endpoint: str, timeout: float, engine: Engine) -> BaseException:
    """What to raise when reading an export failed: the domain error, once.

    The archive reader wraps what the stream raised (a connection lost mid-answer) in
    an ``ArchiveError``; the cause chain still says what happened to the engine.
    """
    if isinstance(error, ImageGone | SourceUnavailable) or not isinstance(error, Exception):
        return error
    lost = any(isinstance(cause, OSError | http.client.HTTPException) for cause in causes(error))
    if isinstance(error, LineageError) and not lost:
        return SourceUnavailable(
            f"The {engine.name} at {endpoint} sent an export that cannot be read: {error}"
        )
    return unavailable(endpoint, error, timeout, engine)


class _ChunkReader(io.RawIOBase):
    """docker-py's streamed answer (an iterator of byte chunks) as a readable binary stream."""

    def __init__(self, chunks: Any) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = bytes(chunk)
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._left))
        view[:count], self._left = self._left[:count], self._left[count:]
        return count


def within_deadline(call: Callable[[], Any], seconds: float) -> Any:
    """``call()``, or ``TimeoutError`` once ``seconds`` have passed without an answer.

    The call runs on a daemon thread; if it overruns it is left to finish (or fail) on
    its own and its result is dropped: a blocking read cannot be interrupted from here.
    """
    outcome: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            outcome.put((True, call()))
        except BaseException as error:  # handed to the waiting thread as it is
            outcome.put((False, error))

    threading.Thread(target=run, name="image-lineage-request", daemon=True).start()
    try:
        succeeded, value = outcome.get(timeout=seconds)
    except queue.Empty:
        raise TimeoutError("timed out") from None
    if succeeded:
        return value
    raise value


def _unexpected(engine: Engine, endpoint: str, image_id: str) -> SourceUnavailable:
    return SourceUnavailable(
        f"The {engine.name} at {endpoint} sent an unexpected answer for image {image_id}."
    )


class AnswerTooLarge(Exception):
    """An answer longer than the cap it was read under (it was not read whole)."""


def _read_whole(response: http.client.HTTPResponse, limit: int) -> bytes:
    """The whole body, or ``AnswerTooLarge`` once it says, or turns out to be, longer than ``limit``."""
    declared = response.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise AnswerTooLarge
    body = response.read(limit + 1)
    if len(body) > limit:
        raise AnswerTooLarge
    return body


def _parsed(body: bytes) -> Any:
    """The JSON answer, lone surrogates (which no output can encode) replaced by U+FFFD."""
    answer = json.loads(body)
    return parsed_without_surrogates(answer) if may_hold_surrogates(body) else answer


def _read_chunks(chunks: Iterator[bytes], limit: int, *, refuse: bool = False) -> bytes:
    """The chunks joined, up to ``limit`` bytes; past it the rest is left unread, or with
    ``refuse``, ``AnswerTooLarge`` is raised."""
    kept, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            if refuse:
                raise AnswerTooLarge
            kept.append(chunk[: limit - size])
            break
        kept.append(chunk)
    return b"".join(kept)


def _explanation(body: bytes) -> str:
    """What the engine said went wrong: its JSON ``message``, else the start of the body."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        return body[:200].decode("utf-8", "replace")
    message = answer.get("message") if isinstance(answer, dict) else None
    return message if isinstance(message, str) else ""
