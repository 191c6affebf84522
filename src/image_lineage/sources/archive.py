"""Read images from a ``docker save`` archive, an OCI image layout (tar or directory), or a
``docker save`` stream, with no daemon.

Nothing is extracted and a scan reads no layer: the layouts (``oci/layout.py``: a tar by random
access, a compressed tar in one pass, a directory) give member sizes and small JSON files.
``ArchiveSource.read_layers`` lists an image's layers from their tar headers (``layers.py``).
Formats (tests: ``tests/unit/test_archive*.py``, and the shapes other projects write in
``test_oci_real_shapes.py``):

* ``manifest.json`` (every ``docker save``; Jib before 2020 wrote its keys in lower camel
  case): ``[{Config, RepoTags, Layers}]``; ``Layers[i]`` is the tar of ``rootfs.diff_ids[i]``;
  each config is read and parsed once, however many entries name it;
* ``index.json`` (an OCI layout: ``skopeo``, ``buildx``, ``apko``, Docker 25+ beside its
  ``manifest.json``, the containerd store): read by the OCI walker (``oci/walk.py``), every
  platform of every index a record of its own (its config digest is its id), naming its
  manifest and index and every platform the index lists, present here or not; platform
  manifests listed in ``index.json`` itself under one name group as if an index held them.
  Attestations, signatures, SBOMs, Helm charts and other artifacts are never records: they
  are counted on the image they refer to (an ``artifacts`` diagnostic, and
  :class:`LayoutContents` as data). Both files, when present, merge by config digest; a
  Docker 25+ ``index.json`` with ``"manifests": null`` leaves ``manifest.json`` to say it all.

What this does not read gets one line naming it and what to do: a save from before Docker
1.10 (``repositories`` and ``<id>/json`` only), a containers/image ``dir:`` copy
(``manifest.json`` holding one image manifest), a Docker schema 1 manifest.

Sizes are the sizes of the layer blobs as stored: uncompressed tars in ``docker save``,
often compressed in OCI layouts (``size_kind`` says which, per image). An archive is
untrusted: unsafe member names, links that leave it, oversized or malformed JSON, blobs
that do not match their digests all give an ``ArchiveError``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from image_lineage.errors import ArchiveError, UnknownImage
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.sources.base import Progress
from image_lineage.sources.layers import Listings, Passing
from image_lineage.sources.oci import media
from image_lineage.sources.oci.artifacts import Artifact, artifact_notes, attach_artifacts
from image_lineage.sources.oci.attested import provenance
from image_lineage.sources.oci.descriptor import Descriptor, Malformed, Manifest, parse_index
from image_lineage.sources.oci.layer_tar import Listing
from image_lineage.sources.oci.layout import (
    DirectoryLayout,
    Layout,
    LayoutBlobs,
    StreamLayout,
    TarLayout,
    file_layout,
)
from image_lineage.sources.oci.naming import names_of
from image_lineage.sources.oci.records import ImageMaker, images_of, merge_image
from image_lineage.sources.oci.walk import Placed, Root, Walked, walk


@dataclass(frozen=True, slots=True)
class ArchiveSource:
    """``archive:PATH``: a ``docker save`` archive or OCI layout: a tar (maybe compressed) or a folder."""

    path: Path

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        origin = str(self.path)
        if self.path.is_dir():
            images, notes = read_layout(DirectoryLayout(self.path, origin), origin)
        else:
            with file_layout(self.path, origin) as layout:
                images, notes = read_layout(layout, origin)
        info = SourceInfo(kind="archive", endpoint=origin, scanned_at=datetime.now(UTC))
        return Scan(source=info, images=images, diagnostics=notes)

    def read_layers(self, image: Image, listings: Listings) -> list[Listing]:
        """The image's layers listed from the archive's blobs: opened one by one from a tar or a
        folder (``LayoutBlobs.open``); a compressed archive is read in one pass, its layers
        listed as they go by (``stream_layers``)."""
        origin = str(self.path)
        if self.path.is_dir():
            layers, blobs = layout_layers(DirectoryLayout(self.path, origin), image, origin)
            return listings.list_blobs(blobs, layers, "", origin)
        with file_layout(self.path, origin) as opened:
            if isinstance(opened, TarLayout):
                layers, blobs = layout_layers(opened, image, origin)
                return listings.list_blobs(blobs, layers, "", origin)
        with self.path.open("rb") as handle:
            return stream_layers(handle, image, origin, listings)


@dataclass(frozen=True, slots=True)
class LayoutContents:
    """What a layout holds: image records (one per config digest, every platform), the
    artifacts beside them (attached to the records they refer to), and diagnostics."""

    images: tuple[Image, ...]
    artifacts: tuple[Artifact, ...]
    diagnostics: tuple[Diagnostic, ...]
    # Each image's layer blobs, oldest first (layer contents open them), and the layout's name
    # of each blob that is not at blobs/ALG/HEX (docker save before Engine 25: ID/layer.tar).
    layers: Mapping[str, tuple[Descriptor, ...]] = field(default_factory=dict)
    layer_names: Mapping[str, str] = field(default_factory=dict)


def read_layout(layout: Layout, origin: str) -> tuple[tuple[Image, ...], tuple[Diagnostic, ...]]:
    """The images a layout holds (one record per config digest and platform), and diagnostics."""
    contents = read_layout_contents(layout, origin)
    return contents.images, contents.diagnostics


def read_layout_contents(layout: Layout, origin: str) -> LayoutContents:
    """Images from ``index.json`` (every platform of every index) and ``manifest.json``.

    A layout may hold both (Docker 25+, the containerd store): ``index.json`` knows every
    platform and the manifest and index digests, ``manifest.json`` the tags as the engine
    shows them; both name the same configs, so the records merge by config digest.
    """
    reader = _Reader(layout, origin)
    saved = reader.json("manifest.json") if layout.has("manifest.json") else None
    if isinstance(saved, Mapping) and "schemaVersion" in saved:
        raise ArchiveError(_dir_copy(origin, saved))
    if layout.has("index.json"):
        index = reader.json("index.json")
        if not (saved is not None and isinstance(index, Mapping) and index.get("manifests") is None):
            reader.oci_layout(index)  # Docker 25+ may write "manifests": null beside its manifest.json
    elif saved is None:
        raise ArchiveError(_not_a_layout(layout, origin))
    if saved is not None:
        reader.docker_manifest(saved)
    return reader.contents()


def layout_layers(
    layout: Layout, image: Image, origin: str
) -> tuple[list[tuple[Descriptor, str]], LayoutBlobs]:
    """The image's layer descriptors with their diff ids, and the layout's blob source."""
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


def stream_layers(stream: BinaryIO, image: Image, origin: str, listings: Listings) -> list[Listing]:
    """An image's listings from a one-pass ``docker save`` or OCI layout stream (a compressed
    archive, an engine's export): each member listed as it goes by (``layers.Passing``)."""
    passing = Passing(origin, listings)
    layout = StreamLayout.read(stream, origin, on_blob=passing)
    layers, _ = layout_layers(layout, image, origin)
    return passing.take(layers)


def _not_a_layout(layout: Layout, origin: str) -> str:
    if layout.has("repositories"):
        return (
            f"{origin} is a save from before Docker 1.10 (only 'repositories' and '<id>/json'), which "
            "this tool does not read; load it and save it again with Docker 1.10 or later "
            "(docker load -i ARCHIVE, then docker save -o NEW.tar IMAGE)."
        )
    return (
        f"{origin} has neither manifest.json nor index.json: not a 'docker save' "
        "archive or an OCI image layout."
    )


def _dir_copy(origin: str, manifest: Mapping[str, Any]) -> str:
    """A containers/image ``dir:`` copy: ``manifest.json`` is one image manifest, blobs by hex."""
    schema1 = manifest.get("schemaVersion") == 1 or manifest.get("mediaType") in media.SCHEMA1_TYPES
    held = "a Docker schema 1 manifest" if schema1 else "one image manifest"
    return (
        f"{origin} is a containers/image 'dir:' copy (its manifest.json holds {held}), not a "
        f"'docker save' archive or an OCI layout; make an OCI archive of it: "
        f"skopeo copy{' --format oci' if schema1 else ''} dir:{origin} oci-archive:IMAGE.tar"
    )


class _Reader:
    """Collects records and artifacts from one layout; ``contents()`` attaches and sorts them."""

    def __init__(self, layout: Layout, origin: str) -> None:
        self.layout = layout
        self.origin = origin
        self.images: dict[str, Image] = {}
        self.artifacts: list[Artifact] = []
        self.notes: list[Diagnostic] = []
        self.maker = ImageMaker(origin, ArchiveError)
        self._configs: dict[str, bytes] = {}  # by name: a config named by 1,000 entries is read once
        self._compressed: dict[str, bool] = {}
        self.layers: dict[str, tuple[Descriptor, ...]] = {}
        self.layer_names: dict[str, str] = {}

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.layout.read_bytes(name))
        except (ValueError, RecursionError) as error:
            raise ArchiveError(f"{self.origin}: {name!r} is not valid JSON.") from error

    # ----------------------------------------------------------------- docker save's manifest.json

    def docker_manifest(self, manifest: object) -> None:
        """``[{Config, RepoTags, Layers}]``; Jib before 2020 wrote the keys in lower camel case."""
        if not isinstance(manifest, list):
            raise ArchiveError(f"{self.origin}: manifest.json should be a list.")
        for index, item in enumerate(manifest):
            where = f"manifest.json[{index}]"
            if not isinstance(item, Mapping):
                raise ArchiveError(f"{self.origin}: {where} should be an object.")
            config = _either(item, "Config", "config")
            tags = _either(item, "RepoTags", "repoTags") or []
            layers = _either(item, "Layers", "layers") or []
            if not isinstance(config, str) or not _strings(tags) or not _strings(layers):
                raise ArchiveError(f"{self.origin}: {where} needs Config, RepoTags and Layers as strings.")
            sizes = [self.layout.size(name) for name in layers]
            compressed = any(self.compressed(name) for name in layers)
            image = self.maker.make(self.config(config), config, tags, sizes)
            merge_image(self.images, replace(image, size_kind="compressed" if compressed else "tar"))
            self.saved_layers(image, layers, sizes)

    def saved_layers(self, image: Image, names: list[str], sizes: list[int]) -> None:
        """A save's layer files as descriptors: named by digest (``blobs/sha256/HEX``), else by
        the config's diff id (``ID/layer.tar`` is the uncompressed layer)."""
        found = []
        for index, (name, size) in enumerate(zip(names, sizes, strict=True)):
            folder, _, encoded = name.rpartition("/")
            digest = f"{folder.removeprefix('blobs/')}:{encoded}" if folder.startswith("blobs/") else ""
            if not digest and index < len(image.layers):
                digest = image.layers[index]
                self.layer_names[digest] = name
            found.append(Descriptor("", digest, size))
        self.layers.setdefault(image.id, tuple(found))

    def config(self, name: str) -> bytes:
        if name not in self._configs:
            self._configs[name] = self.layout.read_bytes(name)
        return self._configs[name]

    def compressed(self, name: str) -> bool:
        if name not in self._compressed:
            self._compressed[name] = self.layout.compressed(name)
        return self._compressed[name]

    # ------------------------------------------------------------------------- OCI image layout

    def oci_layout(self, value: object) -> None:
        """``index.json`` walked: indexes (every platform), image manifests, artifacts beside them."""
        if not isinstance(value, Mapping):
            raise ArchiveError(f"{self.origin}: index.json is malformed.")
        try:
            index = parse_index(value, "index.json")
        except Malformed as why:
            raise ArchiveError(f"{self.origin}: {why}.") from why
        self.notes += [Diagnostic(None, "index_entry_skipped", why) for why in index.skipped]
        roots = [Root(descriptor, names_of(descriptor)) for descriptor in index.manifests]
        blobs = LayoutBlobs(self.layout)
        walked = walk(blobs, roots, ArchiveError)
        self.check(walked)
        for image in images_of(walked, self.image, provenance(blobs, walked.artifacts)).values():
            merge_image(self.images, image)
        self.artifacts += walked.artifacts

    def check(self, walked: Walked) -> None:
        """What the walk could not read ends the scan (an archive is one file: it is damaged),
        but for index entries that were not descriptors (a diagnostic each)."""
        for problem in walked.problems:
            if problem.code != "index_entry_skipped":
                raise ArchiveError(f"{self.origin}: {problem.reason}.")
            self.notes.append(Diagnostic(None, problem.code, problem.reason))
        for group in walked.groups:
            for placed in group.members:
                if group.direct and placed.manifest is None:
                    raise ArchiveError(
                        f"{self.origin} has no entry {placed.descriptor.blob_path!r}, which its index names."
                    )

    def image(self, placed: Placed, manifest: Manifest, raw: bytes) -> Image:
        """The record of one image manifest and its config."""
        sizes = [layer.size for layer in manifest.layers]
        image = self.maker.make(raw, manifest.config.digest, placed.names, sizes)
        self.layers[image.id] = manifest.layers
        compressed = any(self.compressed_layer(layer) for layer in manifest.layers)
        return replace(
            image, manifest_digest=placed.descriptor.digest, size_kind="compressed" if compressed else "tar"
        )

    def compressed_layer(self, layer: Descriptor) -> bool:
        """By the layer's media type; by its first bytes when the type does not say."""
        by_type = media.compressed_by_type(layer.media_type)
        if by_type is not None:
            return by_type
        name = layer.blob_path
        return self.compressed(name) if self.layout.has(name) else True

    # ------------------------------------------------------------------------------ the result

    def contents(self) -> LayoutContents:
        images = tuple(self.images[key] for key in sorted(self.images))
        artifacts = attach_artifacts(self.artifacts, images)
        kinds = sorted({image.size_kind for image in images})
        stored = {"compressed": " (compressed)", "tar": " (uncompressed tars)"}.get(
            kinds[0] if len(kinds) == 1 else "", " (compressed for some images, uncompressed tars for others)"
        )
        notes = [
            Diagnostic(None, "archive_sizes", "sizes are the layer blobs as stored in the archive" + stored)
        ]
        notes += self.notes
        notes += artifact_notes(artifacts, "the archive")
        return LayoutContents(images, artifacts, tuple(notes), self.layers, self.layer_names)


def _either(item: Mapping[str, Any], key: str, old_key: str) -> Any:
    return item[key] if key in item else item.get(old_key)


def _strings(values: object) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) for v in values)
