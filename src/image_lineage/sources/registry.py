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
* ``429 Too Many Requests`` is waited out (bounded), catalog and tag lists follow ``Link``
  pages, listings cut short say so (``registry_cut``): ``registry_client.py``, the requests;
* every manifest and config is fetched by its digest and refused unless its bytes hash to
  it (a ``digest_mismatch`` diagnostic names it): nothing is trusted on the registry's word.

Credentials: ``registry_client.py`` answers the registry's own ``401`` challenges with
``registry_auth.RegistryAuth`` (see ``docs/security.md`` for where they can go).
``http://`` URLs are for registries on a trusted local network.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from image_lineage.cache import BlobCache, default_cache_dir
from image_lineage.errors import SourceUnavailable
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.net.pool import until_first_failure
from image_lineage.sources import oci
from image_lineage.sources.base import DEFAULT_TIMEOUT, Progress
from image_lineage.sources.image_config import image_from_config
from image_lineage.sources.registry_client import Missing as _Missing
from image_lineage.sources.registry_client import RegistryClient as _Client
from image_lineage.sources.registry_client import Skip as _Skip

#: Requests in flight at once: enough to hide a registry's latency, few enough to be polite.
WORKERS = 6
_MAX_INDEX_DEPTH = 4
_CACHE_NAMESPACE = "oci"
K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RegistrySource:
    """``url``: ``https://host[:port]`` (the whole catalog) or ``https://host/repository``."""

    url: str
    timeout: float = DEFAULT_TIMEOUT
    use_cache: bool = True
    sleep: Callable[[float], None] = time.sleep  # waits out a 429 (a test passes its own)

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        client = _Client(self.url, self.timeout, sleep=self.sleep)
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
        notes += client.notes  # listings cut short (pages, tags)
        notes.append(Diagnostic(None, "registry_sizes", "sizes are the registry's compressed layer sizes"))
        notes += oci.artifact_notes(oci.attach_artifacts(artifacts, images.values()), "the registry")
        info = SourceInfo(kind="registry", endpoint=client.base, scanned_at=datetime.now(UTC))
        return Scan(source=info, images=tuple(images[k] for k in sorted(images)), diagnostics=tuple(notes))


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
