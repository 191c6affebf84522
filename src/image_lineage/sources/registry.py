"""Read images from an OCI distribution registry without pulling a layer.

``registry:URL`` lists the registry's catalog (or only the repository the URL names), each
repository's tags, each tag's manifest and, for a multi-platform index, every platform's
manifest, then each image's config blob. Every platform is a record of its own (its config
digest is its id), naming its manifest, its index and every platform the index lists, as an
archive does; attestations, signatures, SBOMs and other artifacts are counted on the image
they refer to (the ``artifacts`` diagnostic), never records. Sizes are the layer descriptors'
sizes: compressed, as the registry stores them.

The base a build recorded is read from every attestation the registry keeps for an image
(``oci/attested.py``): BuildKit's inside the image index, cosign's ``sha256-<hex>.att`` tags,
and OCI 1.1 referrers, listed under a ``sha256-<hex>`` tag (read only where the tag list has
one: no request per image) or by the referrers API (asked once per scan, beside the walk;
per image only on a registry that has it): ``registry_referrers.py``.

Fast and polite:

* a few requests at once (``WORKERS``) on keep-alive connections, GET and HEAD only;
* manifests and configs are kept by digest in the cache (``cache.BlobCache``; a digest names
  its bytes for good), so a warm scan lists tags, asks each tag's digest with ``HEAD``
  (``Docker-Content-Digest``) and fetches nothing else (but the one referrers probe, and on a
  registry with that API each image's referrers list: it is no content-addressed blob);
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
import io
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import IO, Any, TypeVar

from image_lineage.cache import BlobCache, default_cache_dir
from image_lineage.errors import SourceUnavailable, UnknownImage
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.net.pool import until_first_failure
from image_lineage.reference import Reference
from image_lineage.sources import oci
from image_lineage.sources.base import DEFAULT_TIMEOUT, Progress
from image_lineage.sources.layers import Listings, manifest_layers
from image_lineage.sources.oci.artifacts import Artifact
from image_lineage.sources.oci.attested import Unusable, read_provenance
from image_lineage.sources.oci.blobs import Checked, Unread, Want, too_big
from image_lineage.sources.oci.descriptor import Descriptor, Manifest
from image_lineage.sources.oci.layer_tar import Listing
from image_lineage.sources.oci.records import ImageMaker, images_of
from image_lineage.sources.oci.walk import Placed, Problem, Root, Walked, walk
from image_lineage.sources.registry_client import RegistryClient as _Client
from image_lineage.sources.registry_client import Skip as _Skip
from image_lineage.sources.registry_client import TooLarge as _TooLarge
from image_lineage.sources.registry_referrers import (
    Referrers,
    Subject,
    referrer_roots,
    referrers_of,
    without_referrer_lists,
)

#: Requests in flight at once: enough to hide a registry's latency, few enough to be polite.
WORKERS = 6
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
                images, artifacts, notes = _Walk(client, cache, pool).run(progress)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)  # send nothing more
                raise
        notes += client.notes  # listings cut short (pages, tags)
        notes.append(Diagnostic(None, "registry_sizes", "sizes are the registry's compressed layer sizes"))
        notes += oci.artifact_notes(oci.attach_artifacts(artifacts, images.values()), "the registry")
        info = SourceInfo(kind="registry", endpoint=client.base, scanned_at=datetime.now(UTC))
        return Scan(source=info, images=tuple(images[k] for k in sorted(images)), diagnostics=tuple(notes))

    def read_layers(self, image: Image, listings: Listings) -> list[Listing]:
        """The image's manifest (by the digest the scan found) walked, its layers streamed."""
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - as in scan

        client = _Client(self.url, self.timeout, sleep=self.sleep)
        # The scan named each image ``HOST/REPOSITORY@DIGEST``: the repository to fetch it from.
        located = [
            found for name in image.digests if (found := Reference.parse(name)) and found.host == client.host
        ]
        if not located or not image.manifest_digest:
            raise UnknownImage(f"The registry at {client.base} names no manifest for {image.display_name}.")
        repository = located[0].repository
        with ThreadPoolExecutor(max_workers=2) as pool:
            blobs = _RegistryBlobs(client, BlobCache(default_cache_dir(), _CACHE_NAMESPACE), pool)
            layers = manifest_layers(blobs, image, repository, f"The registry at {client.base}")
            return listings.list_blobs(blobs, layers, repository, client.base)


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
        # Whether the registry has the referrers API: asked once, beside the walk (any digest of
        # the repository will do: a registry with the API answers 200 for each).
        probe = (roots[0].scope, roots[0].descriptor.digest) if roots else None
        probed = blobs.pool.submit(referrers_of, client, *probe) if probe else None
        walked = without_referrer_lists(walk(blobs, roots, SourceUnavailable, group_direct=False))
        referred = self.referred(walked, {probe: probed.result()} if probe and probed else {}, notes)
        artifacts = [*walked.artifacts, *referred.artifacts]
        attested = read_provenance(blobs, artifacts)
        images = images_of(walked, self.image, attested.found)
        for problem in [*walked.problems, *referred.problems]:
            notes += _problem_notes(problem)
        notes += [self.unusable_note(unusable) for unusable in attested.unusable]
        return images, artifacts, list(dict.fromkeys(notes))

    def referred(
        self, walked: Walked, probed: Mapping[Subject, Referrers], notes: list[Diagnostic]
    ) -> Walked:
        """The referrers the referrers API lists for the walk's images, walked (``registry_referrers``)."""
        listed = referrer_roots(self.client, self.blobs.map, walked, probed, notes)
        return (
            walk(self.blobs, listed, SourceUnavailable, group_direct=False) if listed else Walked((), (), ())
        )

    def unusable_note(self, unusable: Unusable) -> Diagnostic:
        artifact = unusable.artifact
        where = f"{self.client.host}/{artifact.scope}@{artifact.subject}"
        message = f"{where}: its attestation {artifact.digest} is not used: {unusable.reason}"
        return Diagnostic(None, unusable.code, message)

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
        # An attestation's manifest is read again for its statements: not fetched twice uncached.
        self.known.update(
            {
                w.descriptor.digest: b
                for w in missing
                if w.manifest and isinstance(b := bodies[w.descriptor.digest], bytes)
            }
        )
        return found | bodies

    def fetch(self, want: Want) -> bytes | Unread:
        """One blob by its digest, or why not: gone, damaged, or larger than its descriptor let
        on (one blob's fault, as a damaged one is: a note, not the end of the scan)."""
        fetch = self.client.manifest if want.manifest else self.client.blob
        try:
            found = _catch(fetch, want.scope, want.descriptor.digest)
        except _TooLarge as too_large:
            return Unread(too_large.code, str(too_large))
        return Unread(found.code, str(found)) if isinstance(found, _Skip) else found

    @contextlib.contextmanager
    def open(self, want: Want) -> Iterator[IO[bytes]]:
        """A (layer) blob streamed from the registry, at most its descriptor's size, checked
        against its digest as it is read (``DigestMismatch`` at its end)."""
        descriptor = want.descriptor
        with self.client.blob_stream(want.scope, descriptor.digest, descriptor.size) as body:
            yield io.BufferedReader(Checked(body, descriptor), 1 << 20)


def _problem_notes(problem: Problem) -> list[Diagnostic]:
    """A walk's problem as a note per root that leads to it."""
    notes = []
    for root in problem.roots:
        where = root.names[0] if problem.is_root else f"{root.names[0]} ({problem.digest})"
        notes.append(Diagnostic(None, problem.code, f"{where}: {problem.reason}"))
    return notes


def _catch(fetch: Callable[..., T], *args: Any) -> T | _Skip:
    """``fetch(*args)``, or the ``_Skip`` it raised (left out with a note, the scan goes on)."""
    try:
        return fetch(*args)
    except _Skip as skip:
        return skip
