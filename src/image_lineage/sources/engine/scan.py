"""List, inspect and read history of an engine's images, through a cache, with progress.

The scan half of the engine source (docker-py's "models" layer, in spirit): it asks a
``Transport`` (``transport.py``) for the image list and each image's inspect and history,
keeps what it already knows in the content-addressed cache (``cache.py``), and hands the
raw answers to ``engine_api.py``, the one place they become records. Failures arrive as
domain errors already (``errors.py``); an image removed mid-scan is a diagnostic.

Layer contents (``read_layers``, for ``files``) come from the engine's export of the image, read
once as it streams by: headers only, nothing written to disk.

Only GET requests are ever sent: this package never pulls, tags, deletes or builds.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO, Self, TypeVar

from image_lineage.cache import Details, DetailsCache, default_cache_dir, engine_namespace, holds_secret
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.net.pool import counter, fetch_all
from image_lineage.sources.base import DEFAULT_TIMEOUT, Progress
from image_lineage.sources.engine import contexts, transport
from image_lineage.sources.engine.errors import DOCKER, Engine
from image_lineage.sources.engine_api import (
    api_at_least,
    history_ids,
    image_from_api,
    image_store,
    inspect_layers,
    layers_are_ambiguous,
    malformed_fields,
    trim_history,
    trim_inspect,
)

if TYPE_CHECKING:
    from image_lineage.sources.layers import Listings
    from image_lineage.sources.oci.layer_tar import Listing as LayerListing

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DockerEngineSource:
    """A Docker Engine endpoint: an address, ``context:NAME``, or None for the docker CLI's choice."""

    endpoint: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    use_cache: bool = True
    kind: str = "docker"
    engine: Engine = DOCKER

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        with self.image_list(include_intermediate=include_intermediate) as listing:
            return listing.scan(progress)

    def image_list(self, *, include_intermediate: bool = False) -> ImageList:
        """The engine's image list, read: ``scan()`` reads the rest. Close it (a context manager)."""
        # One reading of the docker CLI's files gives the address and the context named.
        target = contexts.resolve(self.endpoint, default=transport.DEFAULT_ENDPOINT)
        engine = target.engine(self.engine)
        client = transport.connect(target.address, self.timeout, engine=engine)
        info: Callable[[], Mapping[str, Any]] | None = None
        try:
            version = client.version()
            # /info on its own connection while the engine makes the list (~60 ms for 1,000
            # images, on one of its cores); read only when there is an image to read.
            info = _meanwhile(client.info)
            summaries = _list(client, include_intermediate)
            about = info() if summaries else {}
        except BaseException:
            if info is not None:  # its connection is the client's to close once it has one
                with suppress(BaseException):
                    info()
            client.close()
            raise
        # Podman's inspects are libpod's, with the manifest's annotations: kept apart from the
        # Docker-API ones an earlier version cached, which lack them.
        kind = f"{self.kind} libpod" if engine.libpod else self.kind
        namespace = engine_namespace(kind, target.address, about.get("ID"))
        return ImageList(
            source=self,
            client=client,
            label=target.label,
            version=version,
            summaries=summaries,
            about=about,
            namespace=namespace,
            include_intermediate=include_intermediate,
        )

    def read_layers(self, image: Image, listings: Listings) -> list[LayerListing]:
        """``GET /images/get`` once (what ``docker save`` asks: it changes nothing), its layers
        listed as the stream goes by (``archive.stream_layers``), on either image store."""
        from image_lineage.sources.archive import stream_layers  # noqa: PLC0415 - tarfile: only here

        target = contexts.resolve(self.endpoint, default=transport.DEFAULT_ENDPOINT)
        client = transport.connect(target.address, self.timeout, engine=target.engine(self.engine))
        # The containerd store exports by the name it lists (an index or manifest digest).
        name = image.index_digest or image.manifest_digest or image.id
        origin = f"the export of {image.display_name}"

        def read(stream: BinaryIO) -> list[LayerListing]:
            return stream_layers(stream, image, origin, listings)

        try:
            return client.export(name, read, size=image.size)
        finally:
            client.close()

    def _scan_containerd(
        self,
        client: transport.Transport,
        version: Mapping[str, Any],
        include_intermediate: bool,
        progress: Progress | None,
        namespace: str,
    ) -> tuple[tuple[Image, ...], tuple[Diagnostic, ...]]:
        """The containerd image store (``containerd.py``, imported only for it: it reads tar streams).

        ``namespace``: this engine's part of the cache (``cache.engine_namespace``).
        """
        from image_lineage.sources.engine import containerd  # noqa: PLC0415 - see the docstring

        api = str(version.get("ApiVersion", ""))
        manifests = api_at_least(api, containerd.MANIFESTS_API)
        summaries = _list(client, include_intermediate, manifests=manifests) if manifests else None
        return containerd.scan(
            client,
            summaries if summaries is not None else _list(client, include_intermediate),
            api=api,
            version=str(version.get("Version", "")),
            kind=namespace,
            use_cache=self.use_cache,
            progress=progress,
        )


@dataclass(kw_only=True)
class ImageList:
    """An engine's image list as read (``DockerEngineSource.image_list``), its connection open.

    ``fingerprint`` names what a scan of it gives before the rest is read: the engine (its
    cache namespace), its version and the list answers (ids, tags, digests, sizes, labels).
    The rest a scan reads is read by image id, which the details cache already holds fixed
    for an engine (an id is the digest of the image's config). None where that does not
    hold: the containerd store (its answers are read by name and platform), a scan without
    the cache; and, once ``scan`` ran, a scan that missed an image removed meanwhile, or
    read an answer the cache would not keep (a secret in it, or in the list).
    """

    source: DockerEngineSource
    client: transport.Transport
    label: str
    version: Mapping[str, Any]
    summaries: list[tuple[Mapping[str, Any], bool]]
    about: Mapping[str, Any]
    namespace: str
    include_intermediate: bool
    fingerprint: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.source.use_cache and image_store(self.about) != "containerd":
            named = [self.namespace, self.version, self.include_intermediate, self.summaries]
            self.fingerprint = hashlib.sha256(json.dumps(named, sort_keys=True).encode()).hexdigest()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def scan(self, progress: Progress | None = None) -> Scan:
        if image_store(self.about) == "containerd":
            images, notes = self.source._scan_containerd(
                self.client, self.version, self.include_intermediate, progress, self.namespace
            )
        else:
            cache = DetailsCache(default_cache_dir(), self.namespace) if self.source.use_cache else None
            images, notes, whole = _read_details(self.summaries, self.client.details, cache, progress)
            if not whole or holds_secret([summary for summary, _ in self.summaries]):
                self.fingerprint = None
        info = SourceInfo(
            kind=self.source.kind,
            endpoint=self.label,
            engine_version=str(self.version.get("Version", "")),
            scanned_at=datetime.now(UTC),
        )
        return Scan(source=info, images=images, diagnostics=notes)


def _meanwhile(call: Callable[[], T]) -> Callable[[], T]:
    """``call()`` started on a thread now; what is returned waits for its answer (or error)."""
    done: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(call())
        except BaseException as error:  # raised again in the caller's thread
            failed.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def answer() -> T:
        thread.join()
        if failed:
            raise failed[0]
        return done[0]

    return answer


def _list(
    client: transport.Transport, include_intermediate: bool, *, manifests: bool = False
) -> list[tuple[Mapping[str, Any], bool]]:
    """(summary, intermediate) for each image; intermediate ones only when asked for.

    ``manifests``: with each image's ``Manifests[]`` (containerd store, API >= 1.47).
    """
    extra = {"manifests": True} if manifests else {}
    shown = client.images(include_intermediate=False, **extra)
    if not include_intermediate:
        return [(s, False) for s in shown]
    shown_ids = {s.get("Id") for s in shown}
    return [(s, s.get("Id") not in shown_ids) for s in client.images(include_intermediate=True, **extra)]


def _read_details(
    summaries: list[tuple[Mapping[str, Any], bool]],
    fetch: Callable[[str], Details],
    cache: DetailsCache | None,
    progress: Progress | None,
) -> tuple[tuple[Image, ...], tuple[Diagnostic, ...], bool]:
    """The records of the images listed, notes about them, and whether the scan read whole:
    every image and step image it looked for was there (none was removed while it ran) and
    is in the cache (none held back for holding a secret)."""
    wanted = [str(summary.get("Id", "")) for summary, _ in summaries]
    notes: list[Diagnostic] = []
    with cache or nullcontext():
        held_back: list[str] = []
        details = _details(wanted, fetch, cache, progress, notes=notes, held_back=held_back)
        # Where a history fits its layers in several ways, the legacy builder's step
        # images (named by the history rows) say exactly how many layers each step left.
        counts = _layer_counts(details)
        unsure = [
            i
            for i in wanted
            if i in details and layers_are_ambiguous(*_history_and_layers(details[i]), counts)
        ]
        steps = {s for i in unsure for s in history_ids(details[i][1]) if s not in details}
        steps_gone: list[Diagnostic] = []
        if steps:
            details.update(_details(sorted(steps), fetch, cache, None, notes=steps_gone, held_back=held_back))
            counts = _layer_counts(details)
    images = []
    for (summary, intermediate), image_id in zip(summaries, wanted, strict=True):
        if image_id not in details:
            continue
        inspect, history = details[image_id]
        notes += _malformed(image_id, inspect)
        images.append(
            image_from_api(summary, inspect, history, intermediate=intermediate, layer_counts=counts)
        )
        if image_id in unsure and layers_are_ambiguous(*_history_and_layers(details[image_id]), counts):
            notes.append(
                Diagnostic(
                    image_id,
                    "history_layers_ambiguous",
                    "the engine's history fits this image's layers in more than one way; which "
                    "step made which layer is a best guess (sizes and the tree are unaffected)",
                )
            )
    whole = not steps_gone and not held_back and all(image_id in details for image_id in wanted)
    return tuple(images), tuple(notes), whole


def _history_and_layers(details: Details) -> tuple[list[dict[str, Any]], list[str]]:
    inspect, history = details
    return history, inspect_layers(inspect)


def _malformed(image_id: str, inspect: Mapping[str, Any]) -> list[Diagnostic]:
    """A diagnostic for an inspect with fields of the wrong type (a hostile or broken engine)."""
    wrong = malformed_fields(inspect)
    if not wrong:
        return []
    return [
        Diagnostic(
            image_id,
            "engine_answer_malformed",
            f"the engine's inspect of this image has {', '.join(wrong)} of the wrong type; read as absent",
        )
    ]


def _layer_counts(details: Mapping[str, Details]) -> dict[str, int]:
    return {image_id: len(_history_and_layers(d)[1]) for image_id, d in details.items()}


def _details(
    wanted: list[str],
    fetch: Callable[[str], Details],
    cache: DetailsCache | None,
    progress: Progress | None,
    *,
    notes: list[Diagnostic],
    held_back: list[str],
) -> dict[str, Details]:
    """Inspect and history of each id: from the cache, else from the engine (then cached;
    ``held_back`` gets the ids the cache would not keep)."""
    details = cache.get_many(wanted) if cache else {}
    misses = [image_id for image_id in dict.fromkeys(wanted) if image_id not in details]
    step = counter(progress, len(wanted) - len(misses), len(wanted))
    raw = fetch_all(misses, fetch, notes, gone=str, progress=step)
    fetched = {
        image_id: (trim_inspect(inspect), trim_history(history))
        for image_id, (inspect, history) in raw.items()
    }
    if cache:
        held_back += cache.put_many(fetched)
    details.update(fetched)
    return details
