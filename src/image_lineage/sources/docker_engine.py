"""Read images from a Docker Engine (or anything that speaks its API), read-only.

The Docker SDK's low-level client finds the endpoint (``DOCKER_HOST`` or the
platform default), negotiates the API version and lists the images. The two
per-image requests (inspect, history) are the bulk of a scan: over a local unix
socket or plain TCP they go through the standard library's ``http.client`` on
keep-alive connections, which costs a fraction of the SDK's per-request overhead
(see ``bench/scan.py``); TLS and SSH endpoints use the SDK for everything.
Answers are cached on disk by image id (``cache.py``), so a second scan only lists.

Only GET requests are ever sent: this module never pulls, tags, deletes or builds.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from image_lineage.cache import DetailsCache, default_cache_dir
from image_lineage.errors import SourceUnavailable
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.sources.engine_api import image_from_api

DEFAULT_TIMEOUT = 30.0
DEFAULT_ENDPOINT = "unix:///var/run/docker.sock"
_WORKERS = 4

Progress = Callable[[int, int], None]
Details = tuple[dict[str, Any], list[dict[str, Any]]]


class _ImageGone(Exception):
    """The engine answered 404: the image was removed after it was listed."""


@dataclass(frozen=True, slots=True)
class DockerEngineSource:
    """A Docker Engine endpoint; ``endpoint`` None means ``DOCKER_HOST`` or the default."""

    endpoint: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    use_cache: bool = True
    kind: str = "docker"

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        import docker.errors  # noqa: PLC0415 - only sources import docker, and lazily

        client, endpoint = _connect(self.endpoint, self.timeout)
        try:
            try:
                version = client.version(api_version=False)
                summaries = _list(client, include_intermediate)
            except docker.errors.DockerException as error:
                raise _unavailable(endpoint, error, self.timeout) from error
            except OSError as error:
                raise _unavailable(endpoint, error, self.timeout) from error
            fetch = _make_fetcher(client, endpoint, self.timeout)
            cache = DetailsCache(default_cache_dir(), self.kind) if self.use_cache else None
            images, notes = _read_details(summaries, fetch, cache, progress)
        finally:
            client.close()
        info = SourceInfo(
            kind=self.kind,
            endpoint=endpoint,
            engine_version=str(version.get("Version", "")),
            scanned_at=datetime.now(UTC),
        )
        return Scan(source=info, images=images, diagnostics=notes)


def resolve_endpoint(endpoint: str | None) -> str:
    return endpoint or os.environ.get("DOCKER_HOST") or DEFAULT_ENDPOINT


def _connect(endpoint: str | None, timeout: float) -> tuple[Any, str]:
    import docker  # noqa: PLC0415

    url = resolve_endpoint(endpoint)
    try:
        kwargs = docker.utils.kwargs_from_env()
        kwargs["base_url"] = url
        client = docker.APIClient(version="auto", timeout=timeout, **kwargs)
    except docker.errors.DockerException as error:
        raise _unavailable(url, error, timeout) from error
    return client, url


def _unavailable(endpoint: str, error: BaseException, timeout: float) -> SourceUnavailable:
    """Turn docker-py's many ways of failing to connect into one actionable sentence."""
    text = f"{error!r} {error}"
    where = f"the Docker Engine at {endpoint}"
    if "PermissionError" in text or "Permission denied" in text:
        return SourceUnavailable(
            f"Permission denied on {where}: add your user to the 'docker' group "
            "(then log in again), or point DOCKER_HOST at a socket you may use."
        )
    if "FileNotFoundError" in text or "No such file" in text:
        return SourceUnavailable(
            f"No Docker Engine is listening at {endpoint} (no such socket): start Docker, "
            "set DOCKER_HOST, or try --source sample."
        )
    if "timed out" in text.lower() or "timeout" in type(error).__name__.lower():
        return SourceUnavailable(
            f"{where[0].upper()}{where[1:]} did not answer within {timeout:g} s: check that "
            "the daemon is healthy, or raise --timeout."
        )
    if "Connection refused" in text or "Connection aborted" in text or "RemoteDisconnected" in text:
        return SourceUnavailable(
            f"{where[0].upper()}{where[1:]} refused or dropped the connection: is the daemon "
            "running? Start it, or try --source sample."
        )
    return SourceUnavailable(f"Cannot read images from {where}: {error}")


def _list(client: Any, include_intermediate: bool) -> list[tuple[Mapping[str, Any], bool]]:
    """(summary, intermediate) for each image; intermediate ones only when asked for."""
    shown = client.images(all=False)
    if not include_intermediate:
        return [(s, False) for s in shown]
    shown_ids = {s.get("Id") for s in shown}
    return [(s, s.get("Id") not in shown_ids) for s in client.images(all=True)]


def _read_details(
    summaries: list[tuple[Mapping[str, Any], bool]],
    fetch: Callable[[str], Details],
    cache: DetailsCache | None,
    progress: Progress | None,
) -> tuple[tuple[Image, ...], tuple[Diagnostic, ...]]:
    details: dict[str, Details] = {}
    misses: list[str] = []
    for summary, _ in summaries:
        image_id = str(summary.get("Id", ""))
        hit = cache.get(image_id) if cache else None
        if hit is not None:
            details[image_id] = hit
        else:
            misses.append(image_id)
    total = len(summaries)
    done = total - len(misses)
    if progress:
        progress(done, total)
    notes: list[Diagnostic] = []
    if misses:
        with ThreadPoolExecutor(max_workers=min(_WORKERS, len(misses))) as pool:
            futures = {image_id: pool.submit(fetch, image_id) for image_id in misses}
            for image_id, future in futures.items():
                try:
                    details[image_id] = future.result()
                except _ImageGone:
                    notes.append(Diagnostic(image_id, "image_gone", "removed while it was being scanned"))
                else:
                    if cache:
                        cache.put(image_id, *details[image_id])
                done += 1
                if progress:
                    progress(done, total)
    images = tuple(
        image_from_api(summary, *details[image_id], intermediate=intermediate)
        for summary, intermediate in summaries
        if (image_id := str(summary.get("Id", ""))) in details
    )
    return images, tuple(notes)


def _make_fetcher(client: Any, endpoint: str, timeout: float) -> Callable[[str], Details]:
    """Inspect + history for one image id, over the fastest transport the endpoint allows."""
    url = urlsplit(endpoint)
    version = client.api_version
    if url.scheme == "unix" and not client.base_url.startswith("https"):
        return _RawFetcher(lambda: _UnixConnection(url.path, timeout), version)
    if url.scheme in {"tcp", "http"} and not os.environ.get("DOCKER_TLS_VERIFY"):
        host, port = url.hostname or "localhost", url.port or 2375
        return _RawFetcher(lambda: http.client.HTTPConnection(host, port, timeout=timeout), version)
    return _SdkFetcher(client, endpoint, timeout)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


class _RawFetcher:
    """Keep-alive GETs, one connection per worker thread."""

    def __init__(self, connect: Callable[[], http.client.HTTPConnection], version: str) -> None:
        self._connect = connect
        self._prefix = f"/v{version}"
        self._local = threading.local()

    def __call__(self, image_id: str) -> Details:
        name = quote(image_id, safe="")
        inspect = self._get(f"{self._prefix}/images/{name}/json")
        history = self._get(f"{self._prefix}/images/{name}/history")
        if not isinstance(inspect, dict) or not isinstance(history, list):
            raise SourceUnavailable(f"The engine sent an unexpected answer for image {image_id}.")
        return inspect, history

    def _get(self, path: str) -> Any:
        for attempt in (1, 2):
            connection: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
            if connection is None:
                connection = self._local.conn = self._connect()
            try:
                connection.request("GET", path, headers={"Accept": "application/json"})
                response = connection.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                # A keep-alive connection the daemon closed: reconnect once, then give up.
                connection.close()
                self._local.conn = None
                if attempt == 2:
                    raise SourceUnavailable(
                        f"Lost the connection to the engine during the scan ({error}): "
                        "is the daemon still running?"
                    ) from error
                continue
            except TimeoutError as error:
                raise SourceUnavailable(
                    "The engine stopped answering during the scan (timed out): check the "
                    "daemon, or raise --timeout."
                ) from error
            except OSError as error:
                raise SourceUnavailable(
                    f"Lost the connection to the engine during the scan: {error}"
                ) from error
            if response.status == 404:
                raise _ImageGone(path)
            if response.status != 200:
                raise SourceUnavailable(
                    f"The engine answered {response.status} to GET {path}: "
                    f"{body[:200].decode('utf-8', 'replace')}"
                )
            try:
                return json.loads(body)
            except ValueError as error:
                raise SourceUnavailable(f"The engine sent invalid JSON for GET {path}.") from error
        raise AssertionError("unreachable")


class _SdkFetcher:
    def __init__(self, client: Any, endpoint: str, timeout: float) -> None:
        self._client = client
        self._endpoint = endpoint
        self._timeout = timeout

    def __call__(self, image_id: str) -> Details:
        import docker.errors  # noqa: PLC0415

        try:
            return self._client.inspect_image(image_id), self._client.history(image_id)
        except docker.errors.NotFound as error:
            raise _ImageGone(image_id) from error
        except (docker.errors.DockerException, OSError) as error:
            raise _unavailable(self._endpoint, error, self._timeout) from error
