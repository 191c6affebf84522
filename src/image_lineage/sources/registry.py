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
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

from image_lineage.cache import BlobCache, default_cache_dir, digest_matches
from image_lineage.errors import Hint, LineageError, SourceUnavailable
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.sources import oci
from image_lineage.sources.base import DEFAULT_TIMEOUT, MAX_JSON_BYTES, Progress
from image_lineage.sources.engine.errors import Fault, fault_of
from image_lineage.sources.engine.pool import until_first_failure
from image_lineage.sources.image_config import image_from_config

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
_MAX_INDEX_DEPTH = 4
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
                walk = _Walk(client, cache, pool)
                images, artifacts, notes = walk.run(progress)
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


class _Unreadable(_Skip):
    """A manifest this tool does not read (schema 1, not JSON)."""

    code = "registry_unreadable"


@dataclass(frozen=True, slots=True)
class _Tag:
    repository: str
    tag: str
    digest: str  # what the tag points at: an index or a manifest


@dataclass(slots=True)
class _Records:
    """What one tag gave: records, artifacts beside them, and notes."""

    images: list[Image] = field(default_factory=list)
    artifacts: list[oci.Artifact] = field(default_factory=list)
    notes: list[Diagnostic] = field(default_factory=list)


class _Walk:
    """One scan: tags -> their digests (HEAD) -> manifests -> platforms' manifests -> configs.

    Each step fetches, on the pool, only what the cache lacks; one blob needed by many tags
    is fetched once. Manifests and configs are kept parsed or raw by digest, each with the
    repository to fetch it from (any that names it).
    """

    def __init__(self, client: _Client, cache: BlobCache, pool: Any) -> None:
        self.client = client
        self.cache = cache
        self.pool = pool
        self.manifests: dict[str, Mapping[str, Any] | _Skip] = {}
        self.configs: dict[str, bytes | _Skip] = {}
        self.where: dict[str, str] = {}  # digest -> a repository that names it (to fetch it from)

    def run(self, progress: Progress | None) -> tuple[dict[str, Image], list[oci.Artifact], list[Diagnostic]]:
        client = self.client
        repositories = [client.repository] if client.repository else client.catalog()
        tag_lists = self.map(client.tags, repositories)
        wanted = [(r, t) for r, tags in zip(repositories, tag_lists, strict=True) for t in tags]
        notes: list[Diagnostic] = []
        tags: list[_Tag] = []
        # A first scan (nothing cached) GETs each tag's manifest at once: HEAD first would
        # only add a request. Then, HEAD tells whether the cached manifest is still the tag's.
        first = self.cache.empty()
        heads = self.map(lambda item: _catch(client.tag_digest, *item, first), wanted, progress)
        fetched: dict[str, bytes] = {}
        for (repository, tag), found in zip(wanted, heads, strict=True):
            if isinstance(found, _Skip):
                notes.append(Diagnostic(None, found.code, f"{client.host}/{repository}:{tag}: {found}"))
            else:
                digest, body = found
                if body is not None:  # fetched by tag, verified against its digest
                    self.manifests[digest] = _manifest_of(body, digest)
                    fetched[digest] = body
                tags.append(_Tag(repository, tag, digest))
        self.cache.put_many(fetched)
        self.fetch_manifests({t.digest: t.repository for t in tags})
        self.fetch_configs()
        images: dict[str, Image] = {}
        artifacts: list[oci.Artifact] = []
        for found_tag in tags:
            records = self.records(found_tag)
            for image in records.images:
                oci.add_image(images, image)
            artifacts += records.artifacts
            notes += records.notes
        return images, artifacts, notes

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

    # ----------------------------------------------------------------------------- fetching

    def fetch_manifests(self, frontier: dict[str, str]) -> None:
        """Manifests by digest (cached or fetched), then the platforms' manifests they list."""
        for _ in range(_MAX_INDEX_DEPTH + 1):
            for digest, repository in frontier.items():
                self.where.setdefault(digest, repository)
            missing = {d: r for d, r in frontier.items() if d not in self.manifests}
            for digest, body in self.blobs(missing, self.client.manifest).items():
                self.manifests[digest] = body if isinstance(body, _Skip) else _manifest_of(body, digest)
            children: dict[str, str] = {}
            for digest, repository in frontier.items():
                manifest = self.manifests[digest]
                if not isinstance(manifest, _Skip):
                    children.update(dict.fromkeys(_children(manifest), repository))
            frontier = {d: r for d, r in children.items() if d not in self.manifests}
            if not frontier:
                return

    def fetch_configs(self) -> None:
        """The config of every image manifest read (an artifact's config is never needed)."""
        wanted: dict[str, str] = {}
        for digest, manifest in self.manifests.items():
            if isinstance(manifest, _Skip) or oci.artifact_kind({}, manifest) is not None:
                continue
            config = _config_digest(manifest)
            if config and digest in self.where:
                wanted.setdefault(config, self.where[digest])
        self.configs.update(self.blobs(wanted, self.client.blob))

    def blobs(
        self, wanted: Mapping[str, str], fetch: Callable[[str, str], bytes]
    ) -> dict[str, bytes | _Skip]:
        """``digest -> bytes`` for ``wanted`` (``digest -> repository``): the cache's, then the
        rest fetched on the pool and stored; a blob the registry lacks or damaged is a ``_Skip``."""
        found: dict[str, bytes | _Skip] = dict(self.cache.get_many(wanted))
        missing = [d for d in wanted if d not in found]
        bodies = self.map(lambda d: _catch(fetch, wanted[d], d), missing)
        found.update(zip(missing, bodies, strict=True))
        self.cache.put_many({d: b for d, b in zip(missing, bodies, strict=True) if isinstance(b, bytes)})
        return found

    # ------------------------------------------------------------------------------ records

    def records(self, tag: _Tag) -> _Records:
        """The records one tag leads to: every platform of an index, or its one image."""
        name = f"{self.client.host}/{tag.repository}"
        reference = f"{name}:{tag.tag}"
        out = _Records()
        manifest = self.manifests.get(tag.digest)
        if isinstance(manifest, _Skip) or manifest is None:
            why = manifest or _Missing(f"{tag.digest} was not read")
            out.notes.append(Diagnostic(None, why.code, f"{reference}: {why}"))
            return out
        descriptor: dict[str, Any] = {"digest": tag.digest, "mediaType": manifest.get("mediaType")}
        if _is_index(descriptor, manifest):
            self.index(descriptor, manifest, (reference, f"{name}@{tag.digest}"), out, depth=1)
            return out
        found = self.platform(descriptor, reference, f"{name}@{tag.digest}", out)
        if isinstance(found, oci.Artifact):
            out.artifacts.append(found)
        elif found is not None:
            out.images.append(found)
        return out

    def index(
        self,
        descriptor: Mapping[str, Any],
        manifest: Mapping[str, Any],
        names: tuple[str, str],
        out: _Records,
        depth: int,
    ) -> None:
        """Every platform of an index; its attestations and artifacts as artifacts.

        ``names``: the tag's reference (``host/repo:tag``) and its digest (``host/repo@sha256:…``).
        """
        reference, repo_digest = names
        made: list[tuple[str, Image | None]] = []
        for entry in _entries(manifest):
            child = self.manifests.get(str(entry["digest"]))
            if isinstance(child, Mapping) and _is_index(entry, child):
                if depth < _MAX_INDEX_DEPTH:
                    self.index(entry, child, (reference, repo_digest), out, depth + 1)
                continue
            found = self.platform(entry, reference, repo_digest, out)
            if isinstance(found, oci.Artifact):
                out.artifacts.append(found)
            else:  # an image, or a platform the registry lacks or damaged: listed as not here
                made.append((found.platform if found else oci.platform_of(entry), found))
        listed = tuple(sorted({(p, image is not None) for p, image in made if p}))
        for _, image in made:
            if image is not None:
                out.images.append(
                    replace(image, index_digest=str(descriptor["digest"]), index_platforms=listed)
                )

    def platform(
        self, descriptor: Mapping[str, Any], reference: str, repo_digest: str, out: _Records
    ) -> Image | oci.Artifact | None:
        """The record of one image manifest, or the artifact it is; None (with a note) when it
        cannot be read."""
        digest = str(descriptor["digest"])
        manifest = None if oci.is_attestation(descriptor) else self.manifests.get(digest)
        if isinstance(manifest, _Skip):
            out.notes.append(Diagnostic(None, manifest.code, f"{reference} ({digest}): {manifest}"))
            return None
        kind = oci.artifact_kind(descriptor, manifest, (reference,))
        if kind is not None:
            return oci.Artifact(kind, digest, oci.subject_of(descriptor, manifest, (reference,)))
        if manifest is None:
            return None  # a platform the registry lacks: listed as not here
        config_digest = _config_digest(manifest)
        layers = manifest.get("layers")
        if config_digest is None or not isinstance(layers, list):
            why = _Unreadable("a manifest this tool does not read (schema 1?)")
            out.notes.append(Diagnostic(None, why.code, f"{reference}: {why}"))
            return None
        raw = self.configs.get(config_digest) or _Missing(f"config {config_digest} was not read")
        if isinstance(raw, _Skip):
            out.notes.append(Diagnostic(None, raw.code, f"{reference} ({digest}): {raw}"))
            return None
        sizes = [_size(layer) for layer in layers]
        image = image_from_config(raw, [reference], sizes, reference, SourceUnavailable)
        return replace(image, digests=(repo_digest,), manifest_digest=digest, size_kind="compressed")


def _catch(fetch: Callable[..., T], *args: Any) -> T | _Skip:
    """``fetch(*args)``, or the ``_Skip`` it raised (left out with a note, the scan goes on)."""
    try:
        return fetch(*args)
    except _Skip as skip:
        return skip


def _manifest_of(body: bytes, digest: str) -> Mapping[str, Any] | _Skip:
    try:
        manifest = json.loads(body)
    except (ValueError, RecursionError):
        return _Unreadable(f"the manifest {digest} is not JSON")
    if not isinstance(manifest, Mapping):
        return _Unreadable(f"the manifest {digest} is not an object")
    return manifest


def _is_index(descriptor: Mapping[str, Any], manifest: object) -> bool:
    if descriptor.get("mediaType") in oci.INDEX_TYPES:
        return True
    return isinstance(manifest, Mapping) and isinstance(manifest.get("manifests"), list)


def _entries(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """An index's entries that name a digest."""
    entries = manifest.get("manifests")
    return [e for e in entries or [] if isinstance(e, Mapping) and isinstance(e.get("digest"), str)]


def _children(manifest: Mapping[str, Any]) -> Iterator[str]:
    """The manifests an index lists that may be images or nested indexes (attestations are
    known by their descriptor and never fetched)."""
    if not isinstance(manifest.get("manifests"), list):
        return
    for entry in _entries(manifest):
        if not oci.is_attestation(entry):
            yield str(entry["digest"])


def _config_digest(manifest: Mapping[str, Any]) -> str | None:
    config = manifest.get("config")
    digest = config.get("digest") if isinstance(config, Mapping) else None
    return digest if isinstance(digest, str) else None


def _size(descriptor: object) -> int:
    size = descriptor.get("size") if isinstance(descriptor, Mapping) else None
    return size if isinstance(size, int) and size > 0 else 0


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
