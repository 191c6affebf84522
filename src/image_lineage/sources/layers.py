"""An image's layer listings, from whichever source holds its layers: read-only, streamed.

Every layer blob comes through the OCI core's blob sources (``oci/blobs.py``: ``open`` is a
digest-checked stream) and is listed by ``oci/layer_tar.py`` (headers only):

* an archive read by random access (a tar, an OCI layout folder): ``LayoutBlobs.open``;
* the registry: ``_RegistryBlobs.open``, a streaming GET checked against the digest;
* containerd: ``ContainerdBlobs.open``, content ``Read`` streamed and checked, in the namespace
  the image was found in (the manifest walked there by the OCI core, as for a registry);
* a one-pass stream (a compressed archive; an engine's export, ``GET /images/get``, on the
  classic and the containerd store alike; Podman's same API): its layers cannot be read
  again, so each tar or compressed member is listed as it goes by, keyed by the digest of
  its bytes, and a layer's listing is taken only where that digest is the layer's (checked
  as a stream is).

``Listings`` keeps listings by diff id for a run: a layer a family shares is read once.
Snapshots and the sample keep records, no layers: asking them is one line saying so.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from image_lineage.errors import ArchiveError, LineageError, UnknownImage
from image_lineage.model import Image
from image_lineage.reference import Reference
from image_lineage.sources.base import DEFAULT_TIMEOUT
from image_lineage.sources.oci.blobs import ALGORITHMS, BlobSource, Want
from image_lineage.sources.oci.descriptor import Descriptor
from image_lineage.sources.oci.layer_tar import Listing, read_listing
from image_lineage.sources.oci.layout import Layout, LayoutBlobs


@dataclass
class Listings:
    """Layer listings by diff id, for one run; ``reads`` counts the blobs actually read.

    With a ``folder`` (the cache), each listing is also kept on disk by its diff id: it was
    read from bytes checked against their digest, and a diff id names its layer for good, so
    it never goes stale. A file that cannot be read back is a miss, never an error.
    """

    by_diff_id: dict[str, Listing] = field(default_factory=dict)
    reads: int = 0
    folder: Path | None = None

    def known(self, diff_id: str) -> Listing | None:
        listing = self.by_diff_id.get(diff_id)
        if listing is None and self.folder is not None:
            listing = _load(self.folder, diff_id)
            if listing is not None:
                self.by_diff_id[diff_id] = listing
        return listing

    def keep(self, diff_id: str, listing: Listing) -> None:
        self.by_diff_id[diff_id] = listing
        if self.folder is not None:
            _save(self.folder, diff_id, listing)

    def list_blobs(
        self, blobs: BlobSource, layers: Sequence[tuple[Descriptor, str]], scope: str, origin: str
    ) -> list[Listing]:
        """Each ``(blob descriptor, diff id)``'s listing: known, or read from ``blobs``."""
        found = []
        for descriptor, diff_id in layers:
            listing = self.known(diff_id)
            if listing is None:
                with blobs.open(Want(descriptor, scope)) as stream:
                    listing = read_listing(stream, f"{origin}: layer {descriptor.digest}")
                self.reads += 1
                self.keep(diff_id, listing)
            found.append(listing)
        return found


_DISK = "layers-v1"
_COLUMNS = ("sizes", "modes", "uids", "gids")


def _disk_path(folder: Path, diff_id: str) -> Path | None:
    algorithm, _, encoded = diff_id.partition(":")
    if algorithm not in ALGORITHMS or not re.fullmatch(r"[0-9a-f]{32,128}", encoded):
        return None  # never a path made of what a source wrote
    return folder / _DISK / f"{algorithm}-{encoded}.json.gz"


def _save(folder: Path, diff_id: str, listing: Listing) -> None:
    path = _disk_path(folder, diff_id)
    if path is None:
        return
    document = {
        "paths": listing.paths,
        "kinds": list(listing.kinds),
        **{name: getattr(listing, name).tolist() for name in _COLUMNS},
        "links": {str(index): link for index, link in listing.links.items()},
        "tar_bytes": listing.tar_bytes,
    }
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # a user's own, like the cache file
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(gzip.compress(json.dumps(document).encode(), compresslevel=1))
        temporary.replace(path)
    except OSError:
        pass  # the cache never makes a reading fail


def _load(folder: Path, diff_id: str) -> Listing | None:
    path = _disk_path(folder, diff_id)
    if path is None or not path.is_file():
        return None
    try:
        document = json.loads(gzip.decompress(path.read_bytes()))
        listing = Listing(
            list(document["paths"]),
            bytearray(document["kinds"]),
            array("q", document["sizes"]),
            array("L", document["modes"]),
            array("q", document["uids"]),
            array("q", document["gids"]),
            {int(index): str(link) for index, link in document["links"].items()},
            int(document["tar_bytes"]),
        )
        lengths = {len(listing.paths), len(listing.kinds), *(len(getattr(listing, n)) for n in _COLUMNS)}
        if (
            len(lengths) != 1
            or not all(isinstance(p, str) for p in listing.paths)
            or max(listing.kinds, default=0) > 6
        ):
            return None
    except (
        OSError,
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        OverflowError,
        RecursionError,
    ):
        return None
    return listing


@dataclass
class _Passing:
    """Listings of the tar members of a one-pass stream, by the digest of their bytes."""

    origin: str
    listings: Listings
    by_digest: dict[str, Listing | ArchiveError] = field(default_factory=dict)

    def __call__(self, name: str, stream: IO[bytes]) -> None:
        hashed = _Hashing(stream)
        try:
            listing: Listing | ArchiveError = read_listing(
                io.BufferedReader(hashed, 1 << 20), f"{self.origin}: {name}"
            )
            self.listings.reads += 1
        except ArchiveError as error:  # only an error if it is a layer this image needs
            listing = error
        while hashed.read(1 << 20):  # to its end, so the digest is the whole member's
            pass
        self.by_digest[f"sha256:{hashed.hash.hexdigest()}"] = listing

    def take(self, layers: Sequence[tuple[Descriptor, str]]) -> list[Listing]:
        found = []
        for descriptor, diff_id in layers:
            listing: Listing | ArchiveError | None = self.listings.known(diff_id)
            if listing is None:  # (an empty layer's listing is falsy: compared with None)
                listing = self.by_digest.get(descriptor.digest)
            if listing is None:
                raise ArchiveError(
                    f"{self.origin} holds no blob {descriptor.digest} (or its bytes do not match "
                    "that digest): its layer cannot be listed"
                )
            if isinstance(listing, ArchiveError):
                raise listing
            self.listings.keep(diff_id, listing)
            found.append(listing)
        return found


class _Hashing(io.RawIOBase):
    """A stream that hashes what is read through it (sha256)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(len(view))
        self.hash.update(data)
        view[: len(data)] = data
        return len(data)


def image_layers(
    spec: str,
    image: Image,
    listings: Listings,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Listing]:
    """The listings of ``image``'s layers (oldest first) from the source ``spec`` it was read from."""
    cached = [listings.known(diff_id) for diff_id in image.layers]
    if image.layers and all(listing is not None for listing in cached):
        return [listing for listing in cached if listing is not None]  # nothing to read
    kind, _, rest = spec.partition(":")
    if kind == "archive" and rest:
        return _archive(Path(rest), image, listings)
    if kind in {"docker", "podman"}:
        return _engine(spec, image, listings, timeout)
    if kind == "registry":
        return _registry(rest.strip(), image, listings, timeout)
    if kind == "containerd" or kind.startswith("containerd?"):
        return _containerd(spec, image, listings, timeout)
    raise LineageError(
        f"The source {spec} keeps image records, not layers: read the image from an engine, "
        "containerd, an archive or a registry to see its files."
    )


def _layout_layers(
    layout: Layout, image: Image, origin: str
) -> tuple[list[tuple[Descriptor, str]], LayoutBlobs]:
    """The image's layer descriptors with their diff ids, and the layout's blob source."""
    from image_lineage.sources.archive import read_layout_contents  # noqa: PLC0415 - no cycle at import

    contents = read_layout_contents(layout, origin)
    blobs = contents.layers.get(image.id)
    if blobs is None:
        raise UnknownImage(f"{origin} does not hold the layers of {image.display_name}.")
    if len(blobs) != len(image.layers):
        raise ArchiveError(
            f"{origin}: {image.display_name} names {len(image.layers)} layers in its config and "
            f"{len(blobs)} in its manifest: its files cannot be told apart"
        )
    return list(zip(blobs, image.layers, strict=True)), LayoutBlobs(layout, contents.layer_names)


def _archive(path: Path, image: Image, listings: Listings) -> list[Listing]:
    from image_lineage.sources.oci.layout import (  # noqa: PLC0415 - tarfile: only here
        DirectoryLayout,
        StreamLayout,
        TarLayout,
        file_layout,
    )

    origin = str(path)
    if path.is_dir():
        layout: Layout = DirectoryLayout(path, origin)
        layers, blobs = _layout_layers(layout, image, origin)
        return listings.list_blobs(blobs, layers, "", origin)
    with file_layout(path, origin) as opened:
        if isinstance(opened, TarLayout):
            layers, blobs = _layout_layers(opened, image, origin)
            return listings.list_blobs(blobs, layers, "", origin)
    # A compressed archive is read in one pass: its layers are listed as they go by.
    passing = _Passing(origin, listings)
    with path.open("rb") as handle:
        streamed = StreamLayout.read(handle, origin, on_blob=passing)
    layers, _ = _layout_layers(streamed, image, origin)
    return passing.take(layers)


def read_stream(stream: BinaryIO, image: Image, origin: str, listings: Listings) -> list[Listing]:
    """An image's listings from a one-pass ``docker save`` stream (an engine's export)."""
    from image_lineage.sources.oci.layout import StreamLayout  # noqa: PLC0415 - tarfile: only here

    passing = _Passing(origin, listings)
    layout = StreamLayout.read(stream, origin, on_blob=passing)
    layers, _ = _layout_layers(layout, image, origin)
    return passing.take(layers)


def _engine(spec: str, image: Image, listings: Listings, timeout: float) -> list[Listing]:
    """``GET /images/get`` once (what ``docker save`` asks: it changes nothing), read as it comes."""
    from image_lineage.sources import open_source  # noqa: PLC0415 - the package imports this module's users
    from image_lineage.sources.engine import DockerEngineSource, contexts, transport  # noqa: PLC0415

    source = open_source(spec, timeout=timeout)
    if not isinstance(source, DockerEngineSource):  # pragma: no cover - docker and podman specs are engines
        raise LineageError(f"{spec} is not an engine.")
    target = contexts.resolve(source.endpoint, default=transport.DEFAULT_ENDPOINT)
    client = transport.connect(target.address, timeout, engine=target.engine(source.engine))
    # The containerd store exports by the name it lists (an index or manifest digest).
    name = image.index_digest or image.manifest_digest or image.id
    origin = f"the export of {image.display_name}"
    read: Callable[[BinaryIO], list[Listing]] = lambda stream: read_stream(stream, image, origin, listings)  # noqa: E731
    try:
        return client.export(name, read)
    finally:
        client.close()


def _registry(url: str, image: Image, listings: Listings, timeout: float) -> list[Listing]:
    """The image's manifest (by the digest the scan found) walked, its layers streamed."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only a registry needs it

    from image_lineage.cache import BlobCache, default_cache_dir  # noqa: PLC0415
    from image_lineage.sources.registry import _RegistryBlobs  # noqa: PLC0415
    from image_lineage.sources.registry_client import RegistryClient  # noqa: PLC0415

    client = RegistryClient(url, timeout)
    # The scan named each image ``HOST/REPOSITORY@DIGEST``: the repository to fetch it from.
    located = [
        found for name in image.digests if (found := Reference.parse(name)) and found.host == client.host
    ]
    if not located or not image.manifest_digest:
        raise UnknownImage(f"The registry at {client.base} names no manifest for {image.display_name}.")
    repository = located[0].repository
    with ThreadPoolExecutor(max_workers=2) as pool:
        blobs = _RegistryBlobs(client, BlobCache(default_cache_dir(), "oci"), pool)
        layers = _manifest_layers(blobs, image, repository, f"The registry at {client.base}")
        return listings.list_blobs(blobs, layers, repository, client.base)


def _containerd(spec: str, image: Image, listings: Listings, timeout: float) -> list[Listing]:
    """The image's manifest walked in containerd's content store, its layers streamed by ``Read``.

    With ``?namespace=all``, the first namespace the scan found the image in (``found_in``).
    """
    from image_lineage.sources import open_source  # noqa: PLC0415 - the package imports this module's users
    from image_lineage.sources.containerd.address import find_socket  # noqa: PLC0415 - grpc: only here
    from image_lineage.sources.containerd.blobs import ContainerdBlobs  # noqa: PLC0415
    from image_lineage.sources.containerd.client import Client  # noqa: PLC0415
    from image_lineage.sources.containerd.source import ContainerdSource  # noqa: PLC0415

    source = open_source(spec, timeout=timeout)
    if not isinstance(source, ContainerdSource):  # pragma: no cover - a containerd spec is containerd's
        raise LineageError(f"{spec} is not a containerd.")
    with Client(find_socket(source.spec), timeout) as client:
        namespaces = source.namespaces(client)
        found = [label.rpartition("?namespace=")[2] for label in image.found_in]
        scope = next((ns for ns in found if ns in namespaces), namespaces[0] if namespaces else "")
        blobs = ContainerdBlobs(client)
        origin = f"The containerd at {client.address} (namespace {scope})"
        layers = _manifest_layers(blobs, image, scope, origin)
        return listings.list_blobs(blobs, layers, scope, origin)


def _manifest_layers(
    blobs: BlobSource, image: Image, scope: str, origin: str
) -> list[tuple[Descriptor, str]]:
    """The layer descriptors of the manifest the scan found (``image.manifest_digest``), walked
    by the OCI core from ``blobs``, with their diff ids."""
    from image_lineage.errors import SourceUnavailable  # noqa: PLC0415
    from image_lineage.sources.oci.walk import Root, walk  # noqa: PLC0415

    if not image.manifest_digest:
        raise UnknownImage(f"{origin} names no manifest for {image.display_name}.")
    walked = walk(blobs, [Root(Descriptor("", image.manifest_digest), (), scope)], SourceUnavailable)
    placed = [p for g in walked.groups for p in g.members if p.manifest is not None]
    if not placed or placed[0].manifest is None:
        why = walked.problems[0].reason if walked.problems else "it is not an image manifest"
        raise SourceUnavailable(f"{origin}: {image.display_name}: {why}")
    layers = placed[0].manifest.layers
    if len(layers) != len(image.layers):
        raise SourceUnavailable(f"{image.display_name}'s manifest and config name different layers")
    return list(zip(layers, image.layers, strict=True))
