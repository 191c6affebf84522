"""An image's layer listings, read-only and streamed, through the blob sources of the source it
was read from.

Each source lists the layers it holds itself (``Source.read_layers``, beside its scan), from its
own OCI blob source (``oci/blobs.py``: ``open`` is a digest-checked stream), with what is shared
here; ``oci/layer_tar.py`` lists each blob (headers only):

* an archive read by random access (a tar, an OCI layout folder): ``ArchiveSource`` opens each
  layer by ``LayoutBlobs.open`` (``Listings.list_blobs``);
* the registry: ``RegistrySource``, a streaming GET checked against the digest
  (``_RegistryBlobs.open``), the manifest walked by the OCI core (``manifest_layers``);
* containerd: ``ContainerdSource``, content ``Read`` streamed and checked
  (``ContainerdBlobs.open``), in the namespace the image was found in, the manifest walked
  there as for a registry;
* a one-pass stream (a compressed archive; an engine's export, ``GET /images/get``, on the
  classic and the containerd store alike; Podman's same API: ``DockerEngineSource``): its
  layers cannot be read again, so each tar or compressed member is listed as it goes by
  (``Passing``), keyed by the digest of its bytes, and a layer's listing is taken only where
  that digest is the layer's (checked as a stream is).

``image_layers(source, image, listings)`` is what a feature calls: ``Listings`` keeps listings
by diff id for a run (and on disk), so a layer a family shares is read once, and an image
whose layers are all known opens no source. Snapshots and the sample keep records, no layers:
asking them is one line saying so (``records_only``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from image_lineage.errors import ArchiveError, LineageError, SourceUnavailable, UnknownImage
from image_lineage.model import Image
from image_lineage.sources.oci.blobs import ALGORITHMS, BlobSource, Want
from image_lineage.sources.oci.descriptor import Descriptor
from image_lineage.sources.oci.layer_tar import Listing, read_listing
from image_lineage.sources.oci.walk import Root, walk

if TYPE_CHECKING:
    from image_lineage.sources import Source


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
class Passing:
    """Listings of the tar members of a one-pass stream, by the digest of their bytes: the
    stream layout's ``on_blob``; ``take`` then gives the image's layers from them."""

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


def image_layers(source: Source, image: Image, listings: Listings) -> list[Listing]:
    """The listings of ``image``'s layers (oldest first) from the ``source`` it was read from.

    What ``listings`` knows already is not read again (when it knows every layer, the source is
    not even opened); the rest comes through the source's own blobs (``Source.read_layers``).
    """
    cached = [listings.known(diff_id) for diff_id in image.layers]
    if image.layers and all(listing is not None for listing in cached):
        return [listing for listing in cached if listing is not None]  # nothing to read
    return source.read_layers(image, listings)


def records_only(spec: str) -> LineageError:
    """What a source that keeps image records, no layers (a snapshot, the sample), answers."""
    return LineageError(
        f"The source {spec} keeps image records, not layers: read the image from an engine, "
        "containerd, an archive or a registry to see its files."
    )


def manifest_layers(blobs: BlobSource, image: Image, scope: str, origin: str) -> list[tuple[Descriptor, str]]:
    """The layer descriptors of the manifest the scan found (``image.manifest_digest``), walked
    by the OCI core from ``blobs``, with their diff ids."""
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
