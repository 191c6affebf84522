"""Read images from a Docker Engine (or anything that speaks its API), read-only.

The endpoint is ``DOCKER_HOST`` or the platform default. Two transports speak
the same few GET requests (``/version``, ``/images/json``, ``/images/{id}/json``,
``/images/{id}/history``) and negotiate the API version the same way:

* local unix sockets and plain ``tcp://`` use the standard library's
  ``http.client`` on keep-alive connections, one per worker thread;
* TLS (``DOCKER_TLS_VERIFY``) and ``ssh://`` endpoints use the Docker SDK's
  low-level ``APIClient``, which knows how to set those up.

Why two: measured in ``bench/scan.py``, docker-py costs about 2 ms of client CPU
per request and ~0.3 s just to import, which is most of a scan's time; the
standard library does the same requests in a fraction of it. Answers are cached
on disk by image id (``cache.py``), so a second scan only lists.

Only GET requests are ever sent: this module never pulls, tags, deletes or builds.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

from image_lineage.cache import DetailsCache, default_cache_dir
from image_lineage.errors import SourceUnavailable
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.sources.engine_api import image_from_api, trim_history, trim_inspect

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

DEFAULT_TIMEOUT = 30.0
DEFAULT_ENDPOINT = "unix:///var/run/docker.sock"
_WORKERS = 4

Progress = Callable[[int, int], None]
Details = tuple[dict[str, Any], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Engine:
    """What to call an engine in messages, and how its user gets it running."""

    name: str
    start: str
    permission: str


DOCKER = Engine(
    name="Docker Engine",
    start="start Docker, set DOCKER_HOST",
    permission="add your user to the 'docker' group (then log in again), or point DOCKER_HOST "
    "at a socket you may use",
)


class ImageGone(Exception):
    """The engine answered 404: the image was removed after it was listed."""


class Transport(Protocol):
    """The read-only requests a scan makes. ``details`` is called from several threads."""

    def version(self) -> Mapping[str, Any]: ...
    def images(self, *, include_intermediate: bool) -> list[Mapping[str, Any]]: ...
    def details(self, image_id: str) -> Details: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class DockerEngineSource:
    """A Docker Engine endpoint; ``endpoint`` None means ``DOCKER_HOST`` or the default."""

    endpoint: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    use_cache: bool = True
    kind: str = "docker"
    engine: Engine = DOCKER

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        endpoint = resolve_endpoint(self.endpoint)
        transport = connect(endpoint, self.timeout, engine=self.engine)
        try:
            version = transport.version()
            summaries = _list(transport, include_intermediate)
            cache = DetailsCache(default_cache_dir(), self.kind) if self.use_cache else None
            images, notes = _read_details(summaries, transport.details, cache, progress)
        finally:
            transport.close()
        info = SourceInfo(
            kind=self.kind,
            endpoint=endpoint,
            engine_version=str(version.get("Version", "")),
            scanned_at=datetime.now(UTC),
        )
        return Scan(source=info, images=images, diagnostics=notes)


def resolve_endpoint(endpoint: str | None) -> str:
    return endpoint or os.environ.get("DOCKER_HOST") or DEFAULT_ENDPOINT


def connect(endpoint: str, timeout: float, engine: Engine = DOCKER) -> Transport:
    """The fastest transport for ``endpoint``, with the API version negotiated."""
    url = urlsplit(endpoint)
    tls = bool(os.environ.get("DOCKER_TLS_VERIFY"))
    if url.scheme == "unix" and url.path:
        path = url.path
        return HttpTransport(lambda: _UnixConnection(path, timeout), endpoint, timeout, engine)
    if url.scheme in {"tcp", "http"} and not tls:
        host, port = url.hostname or "localhost", url.port or 2375
        return HttpTransport(lambda: _TcpConnection(host, port, timeout=timeout), endpoint, timeout, engine)
    return SdkTransport(endpoint, timeout, engine)


def unavailable(
    endpoint: str, error: BaseException, timeout: float, engine: Engine = DOCKER
) -> SourceUnavailable:
    """Turn the many ways of failing to reach an engine into one actionable sentence."""
    text = f"{type(error).__name__} {error!r} {error}"
    where = f"the {engine.name} at {endpoint}"
    if isinstance(error, PermissionError) or "PermissionError" in text or "Permission denied" in text:
        return SourceUnavailable(f"Permission denied on {where}: {engine.permission}.")
    if isinstance(error, FileNotFoundError) or "FileNotFoundError" in text or "No such file" in text:
        return SourceUnavailable(
            f"No {engine.name} is listening at {endpoint} (no such socket): {engine.start}, "
            "or try --source sample."
        )
    if isinstance(error, TimeoutError) or "timed out" in text.lower() or "Timeout" in text:
        return SourceUnavailable(
            f"The {engine.name} at {endpoint} did not answer within {timeout:g} s: check that "
            "the daemon is healthy, or raise --timeout."
        )
    if isinstance(error, ConnectionError) or "Connection refused" in text or "Connection aborted" in text:
        return SourceUnavailable(
            f"The {engine.name} at {endpoint} refused or dropped the connection: is the daemon "
            "running? Start it, or try --source sample."
        )
    return SourceUnavailable(f"Cannot read images from {where}: {error}")


def _list(transport: Transport, include_intermediate: bool) -> list[tuple[Mapping[str, Any], bool]]:
    """(summary, intermediate) for each image; intermediate ones only when asked for."""
    shown = transport.images(include_intermediate=False)
    if not include_intermediate:
        return [(s, False) for s in shown]
    shown_ids = {s.get("Id") for s in shown}
    return [(s, s.get("Id") not in shown_ids) for s in transport.images(include_intermediate=True)]


def _read_details(
    summaries: list[tuple[Mapping[str, Any], bool]],
    fetch: Callable[[str], Details],
    cache: DetailsCache | None,
    progress: Progress | None,
) -> tuple[tuple[Image, ...], tuple[Diagnostic, ...]]:
    wanted = [str(summary.get("Id", "")) for summary, _ in summaries]
    with cache or nullcontext():
        details = cache.get_many(wanted) if cache else {}
        misses = [image_id for image_id in dict.fromkeys(wanted) if image_id not in details]
        total, done = len(wanted), len(wanted) - len(misses)
        if progress:
            progress(done, total)
        fetched: dict[str, Details] = {}
        notes: list[Diagnostic] = []
        if misses:
            from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - a warm scan needs no threads

            fetch = _until_first_failure(fetch)
            with ThreadPoolExecutor(max_workers=min(_WORKERS, len(misses))) as pool:
                futures = {image_id: pool.submit(fetch, image_id) for image_id in misses}
                try:
                    for image_id, future in futures.items():
                        try:
                            inspect, history = future.result()
                        except ImageGone:
                            notes.append(
                                Diagnostic(image_id, "image_gone", "removed while it was being scanned")
                            )
                        else:
                            fetched[image_id] = (trim_inspect(inspect), trim_history(history))
                        done += 1
                        if progress:
                            progress(done, total)
                except BaseException:
                    # Leaving the ``with`` waits for the pool: drop what is still queued.
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        if cache:
            cache.put_many(fetched)
    details.update(fetched)
    images = tuple(
        image_from_api(summary, *details[image_id], intermediate=intermediate)
        for (summary, intermediate), image_id in zip(summaries, wanted, strict=True)
        if image_id in details
    )
    return images, tuple(notes)


class _Abandoned(Exception):
    """A fetch not sent because an earlier one failed (never reaches the caller, see below)."""


def _until_first_failure(fetch: Callable[[str], Details]) -> Callable[[str], Details]:
    """``fetch``, until one call fails (other than ``ImageGone``); later calls send nothing.

    A failure ends the scan, and every request still to come would go to an engine
    that is gone or stalled, each waiting up to --timeout: minutes on a big host.
    Workers take fetches in submission order, so a fetch abandoned here always comes
    after the failed one, whose error the caller meets first.
    """
    failed = threading.Event()

    def guarded(image_id: str) -> Details:
        if failed.is_set():
            raise _Abandoned(image_id)
        try:
            return fetch(image_id)
        except ImageGone:
            raise
        except BaseException:
            failed.set()
            raise

    return guarded


# --------------------------------------------------------------------------- stdlib transport


class _DeadlineSocket(socket.socket):
    """A socket whose reads and writes all end by one deadline (``deadline``, monotonic).

    ``http.client``'s timeout bounds each socket operation, not a request: an engine
    that sends one byte every half second never trips a 1 s timeout, and could keep a
    scan waiting as long as it likes. ``HttpTransport._get`` sets ``deadline`` before
    each request; every operation then waits at most for the time left, and raises
    ``TimeoutError`` once there is none, so one request takes at most ``--timeout``.
    (``http.client`` reads answers through ``makefile``, which calls ``recv_into``.)
    """

    deadline: float | None = None

    @classmethod
    def adopt(cls, sock: socket.socket) -> _DeadlineSocket:
        """The same connected socket (its file descriptor), as a ``_DeadlineSocket``."""
        timeout = sock.gettimeout()
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.settimeout(timeout)
        return adopted

    def _time_left(self) -> None:
        if self.deadline is None:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        self.settimeout(left)

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
            if not isinstance(answer, dict) or not isinstance(answer.get("ApiVersion"), str):
                raise SourceUnavailable(f"{self._endpoint} answered /version without an API version.")
            self._version = answer
            self._prefix = f"/v{answer['ApiVersion']}"
        return self._version

    def images(self, *, include_intermediate: bool) -> list[Mapping[str, Any]]:
        self.version()
        query = urlencode({"all": "1" if include_intermediate else "0"})
        answer = self._get(f"{self._prefix}/images/json?{query}")
        if not isinstance(answer, list):
            raise SourceUnavailable(f"{self._endpoint} sent an unexpected image list.")
        return [item for item in answer if isinstance(item, dict)]

    def details(self, image_id: str) -> Details:
        name = quote(image_id, safe="")
        inspect = self._get(f"{self._prefix}/images/{name}/json")
        history = self._get(f"{self._prefix}/images/{name}/history")
        if not isinstance(inspect, dict) or not isinstance(history, list):
            raise SourceUnavailable(f"{self._endpoint} sent an unexpected answer for image {image_id}.")
        return inspect, history

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

    def _get(self, path: str) -> Any:
        for attempt in (1, 2):
            connection = self._connection()
            try:
                # Connect first (http.client would do it inside ``request``) so that the
                # whole request, answer included, runs against one deadline.
                if connection.sock is None:
                    connection.connect()
                if isinstance(connection.sock, _DeadlineSocket):
                    connection.sock.deadline = time.monotonic() + self._timeout
                connection.request("GET", path, headers={"Accept": "application/json"})
                response = connection.getresponse()
                body = response.read()
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
            if response.status == 404 and "/images/" in path:
                raise ImageGone(path)
            if response.status != 200:
                detail = body[:200].decode("utf-8", "replace").strip()
                raise SourceUnavailable(
                    f"The {self._engine.name} at {self._endpoint} answered {response.status} "
                    f"to GET {path}: {detail}"
                )
            try:
                return json.loads(body)
            except ValueError as error:
                raise SourceUnavailable(
                    f"The {self._engine.name} at {self._endpoint} sent invalid JSON for GET {path}."
                ) from error
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------- Docker SDK transport


class SdkTransport:
    """docker-py's low-level client, for TLS and SSH endpoints it knows how to reach.

    docker-py's timeout bounds each socket read, not a request, so every call here runs
    under ``within_deadline``: an engine that trickles its answer cannot hold a scan.
    """

    def __init__(self, endpoint: str, timeout: float, engine: Engine = DOCKER) -> None:
        import docker  # noqa: PLC0415 - costly to import; only this transport needs it

        self._errors = docker.errors
        self._endpoint = endpoint
        self._timeout = timeout
        self._engine = engine
        kwargs = docker.utils.kwargs_from_env()
        kwargs["base_url"] = endpoint
        # ssh:// through the system's ssh client (its config, agent and known hosts),
        # rather than docker-py's paramiko, which is not a dependency.
        kwargs["use_ssh_client"] = endpoint.startswith("ssh://")
        # Negotiating the API version is the first request.
        self._client = self._call(lambda: docker.APIClient(version="auto", timeout=timeout, **kwargs))

    def _call(self, call: Callable[[], Any]) -> Any:
        try:
            return within_deadline(call, self._timeout)
        except self._errors.NotFound as error:
            raise ImageGone(str(error)) from error
        except (self._errors.DockerException, OSError) as error:
            raise unavailable(self._endpoint, error, self._timeout, self._engine) from error

    def version(self) -> Mapping[str, Any]:
        answer: Mapping[str, Any] = self._call(lambda: self._client.version(api_version=False))
        return answer

    def images(self, *, include_intermediate: bool) -> list[Mapping[str, Any]]:
        answer: list[Mapping[str, Any]] = self._call(lambda: self._client.images(all=include_intermediate))
        return answer

    def details(self, image_id: str) -> Details:
        inspect = self._call(lambda: self._client.inspect_image(image_id))
        history = self._call(lambda: self._client.history(image_id))
        return inspect, history

    def close(self) -> None:
        self._client.close()


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
