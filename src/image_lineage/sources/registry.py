"""Read images from an OCI distribution registry without pulling a layer.

``registry:URL`` lists the registry's catalog (or only the repository the URL names), each
repository's tags, each tag's manifest and, for a multi-platform index, every platform's
manifest, then each image's config blob. Every platform is a record of its own (its config
digest is its id), naming its manifest, its index and every platform the index lists, as an
archive does; attestations, signatures, SBOMs and other artifacts are counted on the image
they refer to (the ``artifacts`` diagnostic), never records. Sizes are the layer descriptors'
sizes: compressed, as the registry stores them.

Fast and polite:

* a few requests at once (``WORKERS``) on keep-alive connections, GET and HEAD only;
* manifests and configs are kept by digest in the cache (``cache.BlobCache``; a digest names
  its bytes for good), so a warm scan lists tags, asks each tag's digest with ``HEAD``
  (``Docker-Content-Digest``) and fetches nothing else;
* ``429 Too Many Requests`` is waited out as ``Retry-After`` says, up to ``MAX_RETRY_WAIT``
  seconds per request (then one line); catalog and tag lists follow ``Link`` pages;
* every manifest and config is fetched by its digest and refused unless its bytes hash to
  it (a ``digest_mismatch`` diagnostic names it): nothing is trusted on the registry's word.

Credentials: a ``401`` with a ``WWW-Authenticate`` challenge is answered by
``registry_auth.RegistryAuth`` (imported only then) for the request's scope
(``repository:NAME:pull``, ``registry:catalog:*``); the answer is kept per scope for later
requests, and asked for once more when the registry refuses it (an expired token).
``http://`` URLs are for registries on a trusted local network.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO, TYPE_CHECKING, Any, TypeVar

from image_lineage.cache import BlobCache, default_cache_dir, digest_matches
from image_lineage.errors import Hint, LineageError, SourceUnavailable
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.sources import oci
from image_lineage.sources.base import DEFAULT_TIMEOUT, MAX_JSON_BYTES, Progress
from image_lineage.sources.engine.errors import Fault, fault_of
from image_lineage.sources.engine.pool import until_first_failure
from image_lineage.sources.oci.artifacts import Artifact
from image_lineage.sources.oci.blobs import Checked, DigestMismatch, Unread, Want, too_big
from image_lineage.sources.oci.descriptor import Descriptor, Manifest
from image_lineage.sources.oci.records import ImageMaker, images_of
from image_lineage.sources.oci.walk import Placed, Root, walk

if TYPE_CHECKING:
    from image_lineage.sources.registry_auth import RegistryAuth

#: Requests in flight at once: enough to hide a registry's latency, few enough to be polite.
WORKERS = 6
#: Entries asked for per page of the catalog and of a tag list (``?n=``).
PAGE_SIZE = 1000
MAX_PAGES = 1000
#: The longest one request waits in all on ``429`` answers before the scan gives up.
MAX_RETRY_WAIT = 30.0
#: How long to wait on a ``429`` that names no ``Retry-After`` (doubling each time).
FIRST_RETRY_WAIT = 1.0
MAX_REDIRECTS = 5
_ERROR_BODY = 64 * 1024  # read (and drop) this much of an error answer to keep the connection
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CACHE_NAMESPACE = "oci"
K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RegistrySource:
    """``url``: ``https://host[:port]`` (the whole catalog) or ``https://host/repository``."""

    url: str
    timeout: float = DEFAULT_TIMEOUT
    use_cache: bool = True

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        client = _Client(self.url, self.timeout)
        cache = BlobCache(default_cache_dir(), _CACHE_NAMESPACE)
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only a registry scan needs it

        with (
            cache if self.use_cache else contextlib.nullcontext(cache),
            ThreadPoolExecutor(max_workers=WORKERS) as pool,
        ):
            try:
                images, artifacts, notes = _Walk(client, cache, pool).run(progress)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)  # send nothing more
                raise
        notes.append(Diagnostic(None, "registry_sizes", "sizes are the registry's compressed layer sizes"))
        notes += oci.artifact_notes(oci.attach_artifacts(artifacts, images.values()), "the registry")
        info = SourceInfo(kind="registry", endpoint=client.base, scanned_at=datetime.now(UTC))
        return Scan(source=info, images=tuple(images[k] for k in sorted(images)), diagnostics=tuple(notes))


class _Skip(LineageError):
    """What leaves one tag or platform out of the scan (a diagnostic), not the whole scan."""

    code = "registry_missing"


class _Missing(_Skip):
    """A tag, manifest or blob the registry named but does not serve (deleted meanwhile)."""


class _Mismatch(_Skip):
    """A manifest or config whose bytes do not hash to the digest it was fetched by."""

    code = "digest_mismatch"


class _Walk:
    """One scan: tags -> their digests (HEAD) -> the OCI walker over the registry's blobs.

    A first scan (nothing cached) GETs each tag's manifest at once: HEAD first would only
    add a request. Then, HEAD tells whether the cached manifest is still the tag's.
    """

    def __init__(self, client: _Client, cache: BlobCache, pool: Any) -> None:
        self.client = client
        self.blobs = _RegistryBlobs(client, cache, pool)
        self.maker = ImageMaker(client.base, SourceUnavailable)

    def run(self, progress: Progress | None) -> tuple[dict[str, Image], list[Artifact], list[Diagnostic]]:
        client, blobs = self.client, self.blobs
        repositories = [client.repository] if client.repository else client.catalog()
        tag_lists = blobs.map(client.tags, repositories)
        wanted = [(r, t) for r, tags in zip(repositories, tag_lists, strict=True) for t in tags]
        notes: list[Diagnostic] = []
        roots: list[Root] = []
        first = blobs.cache.empty()
        heads = blobs.map(lambda item: _catch(client.tag_digest, *item, first), wanted, progress)
        fetched: dict[str, bytes] = {}
        for (repository, tag), found in zip(wanted, heads, strict=True):
            reference = f"{client.host}/{repository}:{tag}"
            if isinstance(found, _Skip):
                notes.append(Diagnostic(None, found.code, f"{reference}: {found}"))
                continue
            digest, body = found
            if body is not None:  # fetched by tag, verified against its digest
                fetched[digest] = body
            roots.append(Root(Descriptor("", digest), (reference,), repository))
        blobs.cache.put_many(fetched)
        blobs.known.update(fetched)
        walked = walk(blobs, roots, SourceUnavailable, group_direct=False)
        images = images_of(walked, self.image)
        for problem in walked.problems:
            for root in problem.roots:
                where = root.names[0] if problem.is_root else f"{root.names[0]} ({problem.digest})"
                notes.append(Diagnostic(None, problem.code, f"{where}: {problem.reason}"))
        return images, list(walked.artifacts), list(dict.fromkeys(notes))

    def image(self, placed: Placed, manifest: Manifest, raw: bytes) -> Image:
        """The record of one platform: its config, compressed layer sizes, the tags that reach it."""
        sizes = [layer.size for layer in manifest.layers]
        image = self.maker.make(raw, manifest.config.digest, placed.names, sizes, origin=placed.names[0])
        digests = tuple(f"{self.client.host}/{r.scope}@{r.descriptor.digest}" for r in placed.roots)
        at = placed.descriptor.digest
        return replace(image, digests=digests, manifest_digest=at, size_kind="compressed")


class _RegistryBlobs:
    """The blob source over a registry: manifests and configs by digest from the cache, the rest
    fetched on the pool (each from the repository its ``Want.scope`` names) and cached."""

    def __init__(self, client: _Client, cache: BlobCache, pool: Any) -> None:
        self.client = client
        self.cache = cache
        self.pool = pool
        self.known: dict[str, bytes] = {}  # fetched by tag already

    def map(self, fetch: Callable[[K], T], keys: Sequence[K], progress: Progress | None = None) -> list[T]:
        """``fetch`` of every key on the pool, in order; the first failure ends the scan."""
        guarded = until_first_failure(fetch)
        futures = [self.pool.submit(guarded, key) for key in keys]
        results = []
        for done, future in enumerate(futures, start=1):
            results.append(future.result())
            if progress:
                progress(done, len(futures))
        return results

    def read_many(self, wanted: Sequence[Want], limit: int) -> Mapping[str, bytes | Unread]:
        """Each blob: known, cached, or fetched (a blob the registry lacks or damaged is ``Unread``).
        The client caps every answer at ``MAX_JSON_BYTES`` (``limit`` is no more)."""
        by_digest = {w.descriptor.digest: w for w in wanted}
        found: dict[str, bytes | Unread] = {d: self.known[d] for d in by_digest if d in self.known}
        found.update(self.cache.get_many([d for d in by_digest if d not in found]))
        for digest, want in by_digest.items():
            if digest not in found and (refused := too_big(want.descriptor, limit)):
                found[digest] = refused
        missing = [w for d, w in by_digest.items() if d not in found]
        bodies = dict(zip((w.descriptor.digest for w in missing), self.map(self.fetch, missing), strict=True))
        self.cache.put_many({d: body for d, body in bodies.items() if isinstance(body, bytes)})
        return found | bodies

    def fetch(self, want: Want) -> bytes | Unread:
        fetch = self.client.manifest if want.manifest else self.client.blob
        found = _catch(fetch, want.scope, want.descriptor.digest)
        return Unread(found.code, str(found)) if isinstance(found, _Skip) else found

    def open(self, want: Want) -> AbstractContextManager[IO[bytes]]:
        """A blob as a stream: read whole through the client (capped at ``MAX_JSON_BYTES``) until
        the HTTP layer streams answers; checked against its digest as any stream."""
        try:
            body = self.client.blob(want.scope, want.descriptor.digest)
        except _Mismatch as error:
            raise DigestMismatch(str(error)) from error
        return closing(io.BufferedReader(Checked(io.BytesIO(body), want.descriptor)))


def _catch(fetch: Callable[..., T], *args: Any) -> T | _Skip:
    """``fetch(*args)``, or the ``_Skip`` it raised (left out with a note, the scan goes on)."""
    try:
        return fetch(*args)
    except _Skip as skip:
        return skip


# --------------------------------------------------------------------------------- HTTP


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: Mapping[str, str]  # names lowercased
    body: bytes


class _Connections(threading.local):
    """Each worker thread's keep-alive connections, by ``scheme://host:port``."""

    def __init__(self) -> None:
        self.open: dict[str, http.client.HTTPConnection] = {}


class _Client:
    """GET and HEAD against one registry: keep-alive per thread, redirects, 429s, credentials."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url if "://" in url else f"https://{url}")
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise LineageError(f"{url!r} is not a registry address.", hint=Hint.REGISTRY_ADDRESS)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self.repository = parts.path.strip("/")
        self.timeout = timeout
        self._connections = _Connections()
        self._lock = threading.Lock()
        self._answers: dict[str, str] = {}  # scope -> the Authorization header that worked
        self._auth: RegistryAuth | None = None

    # ------------------------------------------------------------------------ the protocol

    def catalog(self) -> list[str]:
        repositories: list[str] = []
        for answer, path in self._pages(f"/v2/_catalog?n={PAGE_SIZE}", None):
            if answer.status in {401, 403}:
                raise SourceUnavailable(
                    f"The registry at {self.base} does not list its repositories to this user "
                    f"({answer.status}); name one in the address: {self.base}/REPOSITORY",
                    hint=Hint.REGISTRY_ADDRESS,
                )
            listed = self._json(answer, path).get("repositories")
            if not isinstance(listed, list):
                raise SourceUnavailable(f"{self.base} sent an unexpected catalog.")
            repositories.extend(n for n in listed if isinstance(n, str))
        return repositories

    def tags(self, repository: str) -> list[str]:
        tags: list[str] = []
        for answer, path in self._pages(f"/v2/{repository}/tags/list?n={PAGE_SIZE}", repository):
            if answer.status == 404:
                return []
            listed = self._json(answer, path).get("tags")
            tags.extend(t for t in listed or [] if isinstance(t, str))
        return sorted(set(tags))

    def _pages(self, path: str, repository: str | None) -> Iterator[tuple[_Answer, str]]:
        """Each page of a list and its path, following ``Link: <…>; rel="next"`` headers."""
        page: str | None = path
        for _ in range(MAX_PAGES):
            if page is None:
                return
            answer = self.request("GET", page, "application/json", repository)
            yield answer, page
            page = _next_page(answer.headers.get("link", ""))

    def tag_digest(self, repository: str, tag: str, fetch: bool = False) -> tuple[str, bytes | None]:
        """What ``tag`` points at, by ``HEAD`` (``Docker-Content-Digest``), and None; with
        ``fetch``, or from a registry that names no digest, by ``GET``: the digest and the
        manifest's bytes, which must hash to the digest the registry names (else to their own)."""
        path = f"/v2/{repository}/manifests/{urllib.parse.quote(tag)}"
        if not fetch:
            answer = self.request("HEAD", path, oci.MANIFEST_ACCEPT, repository)
            self._expect(answer, "HEAD", path)
            digest = answer.headers.get("docker-content-digest", "")
            if digest:
                return digest, None
        answer = self.request("GET", path, oci.MANIFEST_ACCEPT, repository)
        self._expect(answer, "GET", path)
        digest = answer.headers.get("docker-content-digest", "")
        if not digest:
            return "sha256:" + hashlib.sha256(answer.body).hexdigest(), answer.body
        if not digest_matches(digest, answer.body):
            raise _Mismatch(
                f"the registry's manifest {digest} does not match its digest: refused, not trusted"
            )
        return digest, answer.body

    def manifest(self, repository: str, digest: str) -> bytes:
        return self._content(repository, f"/v2/{repository}/manifests/{digest}", digest, "manifest")

    def blob(self, repository: str, digest: str) -> bytes:
        return self._content(repository, f"/v2/{repository}/blobs/{digest}", digest, "config")

    def _content(self, repository: str, path: str, digest: str, what: str) -> bytes:
        """A manifest or config fetched by its digest, refused unless its bytes hash to it."""
        accept = oci.MANIFEST_ACCEPT if what == "manifest" else "*/*"
        answer = self.request("GET", path, accept, repository)
        self._expect(answer, "GET", path)
        if not digest_matches(digest, answer.body):
            raise _Mismatch(f"the registry's {what} {digest} does not match its digest: refused, not trusted")
        return answer.body

    def _expect(self, answer: _Answer, method: str, path: str) -> None:
        if answer.status == 404:
            raise _Missing(f"{path} is gone from the registry")
        if answer.status == 403:
            raise SourceUnavailable(f"The registry at {self.base} refuses {method} {path} (403).")
        if answer.status != 200:
            hint = Hint.TRY_SAMPLE if answer.status >= 500 else None
            raise SourceUnavailable(
                f"The registry at {self.base} answered {answer.status} to {method} {path}.", hint=hint
            )

    def _json(self, answer: _Answer, path: str) -> Mapping[str, Any]:
        self._expect(answer, "GET", path)
        try:
            found = json.loads(answer.body)
        except (ValueError, RecursionError) as error:
            raise SourceUnavailable(
                f"The registry at {self.base} sent something that is not JSON for {path}: is it a registry?",
                hint=Hint.TRY_SAMPLE,
            ) from error
        return found if isinstance(found, Mapping) else {}

    # ------------------------------------------------------- credentials, 429, redirects

    def request(self, method: str, path: str, accept: str, repository: str | None) -> _Answer:
        """One request, answered: 401s with credentials (once more after a refusal), 429s
        waited out (bounded). 401 and 403 are returned for the caller to word (catalog)."""
        scope = f"repository:{repository}:pull" if repository else "registry:catalog:*"
        with self._lock:
            authorization = self._answers.get(scope)
        answered = 0
        waited = 0.0
        while True:
            answer = self._send(method, path, accept, authorization)
            if answer.status == 401:
                challenge = answer.headers.get("www-authenticate", "")
                if not challenge:
                    raise SourceUnavailable(
                        f"The registry at {self.base} wants credentials (401) and says not how "
                        "(no WWW-Authenticate challenge)",
                        hint=Hint.TRY_SAMPLE,
                    )
                auth = self._credentials()
                if answered >= 2:
                    if repository is None:
                        return answer  # the catalog: the caller says to name a repository
                    raise auth.refused(scope)
                authorization = auth.authorization(challenge, scope)
                if authorization is None:
                    raise auth.missing(scope)
                answered += 1
                with self._lock:
                    self._answers[scope] = authorization
                continue
            if answer.status == 429:
                wait = _retry_after(answer.headers.get("retry-after", ""), waited)
                if waited + wait > min(MAX_RETRY_WAIT, self.timeout):
                    raise SourceUnavailable(
                        f"The registry at {self.base} limits requests (429 Too Many Requests) and asks to "
                        f"wait {waited + wait:g} s in all; try again later",
                    )
                time.sleep(wait)
                waited += wait
                continue
            return answer

    def _credentials(self) -> RegistryAuth:
        with self._lock:
            if self._auth is None:
                from image_lineage.sources.registry_auth import RegistryAuth  # noqa: PLC0415 - on a 401 only

                self._auth = RegistryAuth(self.base, timeout=self.timeout)
            return self._auth

    def _send(self, method: str, path: str, accept: str, authorization: str | None) -> _Answer:
        """``method`` on ``path``, following redirects (credentials only to the registry itself)."""
        url = f"{self.base}{path}"
        headers = {"Accept": accept, "User-Agent": "image-lineage"}
        if authorization:
            headers["Authorization"] = authorization
        for _ in range(MAX_REDIRECTS + 1):
            parts = urllib.parse.urlsplit(url)
            answer = self._exchange(parts, method, headers)
            location = answer.headers.get("location")
            if answer.status not in _REDIRECTS or not location:
                return answer
            url = urllib.parse.urljoin(url, location)
            target = urllib.parse.urlsplit(url)
            if target.scheme not in {"http", "https"}:
                raise SourceUnavailable(
                    f"The registry at {self.base} redirected {path} to a {target.scheme} URL."
                )
            if f"{target.scheme}://{target.netloc}" != self.base:
                headers.pop("Authorization", None)
        raise SourceUnavailable(
            f"The registry at {self.base} redirected {method} {path} more than {MAX_REDIRECTS} times."
        )

    def _exchange(self, parts: urllib.parse.SplitResult, method: str, headers: Mapping[str, str]) -> _Answer:
        origin = f"{parts.scheme}://{parts.netloc}"
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        for attempt in (1, 2):
            connection = self._connection(parts.scheme, parts.netloc)
            reused = connection.sock is not None
            deadline = time.monotonic() + self.timeout
            try:
                connection.request(method, target, headers=dict(headers))
                sock = connection.sock  # getresponse() lets go of it when the answer ends the connection
                response = connection.getresponse()
                return self._answer(response, method, _Deadline(deadline, sock), origin, target)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._drop(origin)
                if reused and attempt == 1:
                    continue  # the registry closed an idle keep-alive connection: ask again
                raise self._unreachable(error) from error
            except (OSError, http.client.HTTPException) as error:
                self._drop(origin)
                raise self._unreachable(error) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _answer(
        self, response: http.client.HTTPResponse, method: str, deadline: _Deadline, origin: str, target: str
    ) -> _Answer:
        headers = {k.lower(): v for k, v in response.getheaders()}
        limit = MAX_JSON_BYTES if response.status == 200 else _ERROR_BODY
        length = headers.get("content-length", "")
        if method == "HEAD":
            body = response.read()  # nothing: ends the answer so the connection is kept
        elif response.status == 200 and length.isdigit() and int(length) > MAX_JSON_BYTES:
            self._drop(origin)
            raise SourceUnavailable(f"{origin}{target} is larger than a manifest or config should be.")
        else:
            body = _read(response, limit + 1, deadline)
            if len(body) > limit:
                self._drop(origin)
                if response.status == 200:
                    raise SourceUnavailable(
                        f"{origin}{target} is larger than a manifest or config should be."
                    )
        if response.will_close or not response.isclosed():
            self._drop(origin)  # not read to its end (or the registry ends it): not reusable
        return _Answer(response.status, headers, body)

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        origin = f"{scheme}://{netloc}"
        connection = self._connections.open.get(origin)
        if connection is None:
            if scheme == "https":
                import ssl  # noqa: PLC0415 - a local http:// registry needs no TLS

                connection = http.client.HTTPSConnection(
                    netloc, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                connection = http.client.HTTPConnection(netloc, timeout=self.timeout)
            self._connections.open[origin] = connection
        return connection

    def _drop(self, origin: str) -> None:
        connection = self._connections.open.pop(origin, None)
        if connection is not None:
            connection.close()

    def _unreachable(self, error: BaseException) -> SourceUnavailable:
        """Why the registry could not be read, by the exception types along the cause chain."""
        fault, cause = fault_of(error)
        if fault is Fault.TIMEOUT:
            return SourceUnavailable(
                f"The registry at {self.base} did not answer within {self.timeout:g} s",
                hint=Hint.RAISE_TIMEOUT,
            )
        why: dict[Fault | None, tuple[str, str]] = {
            Fault.REFUSED: ("connection refused", "check the address and port"),
            Fault.NO_HOST: (f"no host {self.host!r} is known", "check the address"),
            Fault.TLS: (
                f"TLS failed: {cause}",
                "for a registry on a trusted local network, give its address with http://",
            ),
            Fault.LOST: ("it dropped the connection", "check the address"),
            Fault.NOT_HTTP: ("it does not speak HTTP", "check the address"),
        }
        reason, remedy = why.get(fault, (getattr(cause, "strerror", None) or str(cause), "check the address"))
        return SourceUnavailable(
            f"Cannot reach the registry at {self.base} ({reason}); {remedy}", hint=Hint.TRY_SAMPLE
        )


@dataclass(frozen=True, slots=True)
class _Deadline:
    """When a whole answer must have arrived, and the socket it arrives on."""

    at: float
    sock: Any

    def left(self) -> float:
        """Seconds left (the socket then waits no longer); ``TimeoutError`` when none are."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer did not arrive in time")
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.settimeout(left)
        return left


def _read(response: http.client.HTTPResponse, limit: int, deadline: _Deadline) -> bytes:
    """Up to ``limit`` bytes of the body, all by ``deadline``: a trickling registry cannot hold
    the scan (each read waits at most what is left)."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        deadline.left()
        chunk = response.read1(min(65536, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if response.length == 0:
        response.read()  # all read: this marks the answer done, so the connection is kept
    return b"".join(chunks)


def _retry_after(value: str, waited: float) -> float:
    """Seconds a 429 asks to wait: ``Retry-After`` as seconds or a date; without one, 1, 2, 4..."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    if value:
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return max(FIRST_RETRY_WAIT, waited)


def _next_page(link: str) -> str | None:
    """The path of a ``Link: </v2/_catalog?last=x&n=1000>; rel="next"`` header, if any."""
    if 'rel="next"' not in link or "<" not in link:
        return None
    target = link[link.index("<") + 1 : link.index(">")]
    parts = urllib.parse.urlsplit(target)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
