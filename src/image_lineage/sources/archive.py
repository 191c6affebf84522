"""Read images from a ``docker save`` archive or an OCI image layout tar, with no daemon.

Nothing is extracted and no layer is read: member headers give the layer sizes, and
only ``manifest.json``/``index.json``, manifests and image configs (small JSON files,
capped) are read. Formats (see docs/docker-notes):

* ``manifest.json`` (every ``docker save``; Docker 25+ also writes an OCI layout beside
  it): ``[{Config, RepoTags, Layers}]``; ``Layers[i]`` is the tar of ``rootfs.diff_ids[i]``;
* else ``index.json`` (an OCI layout, e.g. ``skopeo copy ... oci-archive:``): index ->
  (index ->) manifest -> config; tags from ``org.opencontainers.image.ref.name``.

Sizes are the sizes of the layer blobs as stored: uncompressed tars in ``docker save``,
often compressed in OCI layouts (a diagnostic says so). An archive is untrusted: unsafe
member names (absolute, ``..``), duplicate entries, links that leave the archive or go
round in circles, oversized or malformed JSON all give an ``ArchiveError``.
"""

from __future__ import annotations

import json
import posixpath
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from image_lineage.errors import ArchiveError
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.sources import oci
from image_lineage.sources.base import MAX_JSON_BYTES, Progress
from image_lineage.sources.image_config import image_from_config

MAX_MEMBERS = 1_000_000
_MAX_LINK_HOPS = 8
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")  # gzip, zstd (layer blobs)


@dataclass(frozen=True, slots=True)
class _Packing:
    """A compression or container format, known by its first bytes."""

    magic: bytes
    name: str
    undo: str  # the command that gives the tar back
    readable: bool  # tarfile reads it by itself

    @property
    def kind(self) -> str:
        return "a zip file" if self.name == "zip" else f"{self.name}-compressed"


# tarfile reads gzip, bzip2 and xz itself; zstd (Python < 3.14) and zip it cannot, and a
# user who meets "not a readable tar archive" on a .tar.zst cannot guess why.
_PACKINGS = (
    _Packing(b"\x1f\x8b", "gzip", "gzip -d", readable=True),
    _Packing(b"BZh", "bzip2", "bzip2 -d", readable=True),
    _Packing(b"\xfd7zXZ\x00", "xz", "xz -d", readable=True),
    _Packing(b"\x28\xb5\x2f\xfd", "zstd", "zstd -d", readable=False),
    _Packing(b"PK\x03\x04", "zip", "unzip", readable=False),
)


@dataclass(frozen=True, slots=True)
class ArchiveSource:
    path: Path

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        packing = _packing(self.path)
        packed = f" ({packing.kind})" if packing else ""
        if packing and not packing.readable:
            raise ArchiveError(
                f"{self.path} is {packing.kind}, which is not read directly; unpack it first "
                f"({packing.undo} {self.path.name}) and read the tar archive it gives."
            )
        try:
            tar = tarfile.open(self.path, "r:*")  # noqa: SIM115 - closed below, errors mapped first
        except (tarfile.TarError, OSError, EOFError) as error:
            if packing:
                raise ArchiveError(
                    f"{self.path} is {packing.kind}, but no tar archive can be read from it "
                    f"({error}); check it with {packing.undo} -t, or decompress it first."
                ) from error
            raise ArchiveError(f"{self.path} is not a readable tar archive ({error}).") from error
        with tar:
            try:
                archive = _Archive(tar, str(self.path))
                images, notes = _read_images(archive)
            except (tarfile.TarError, EOFError, OSError) as error:
                raise ArchiveError(f"{self.path}{packed} is truncated or damaged ({error}).") from error
        info = SourceInfo(kind="archive", endpoint=str(self.path), scanned_at=datetime.now(UTC))
        return Scan(source=info, images=images, diagnostics=notes)


def _packing(path: Path) -> _Packing | None:
    """How the file at ``path`` is compressed or packed, by its first bytes; None for a plain tar."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except FileNotFoundError as error:
        raise ArchiveError(f"No archive at {path}.") from error
    except OSError as error:
        raise ArchiveError(f"{path} cannot be read ({error.strerror or error}).") from error
    return next((p for p in _PACKINGS if head.startswith(p.magic)), None)


class _Archive:
    """The archive's members by safe name; small JSON members read on demand."""

    def __init__(self, tar: tarfile.TarFile, origin: str) -> None:
        self._tar = tar
        self.origin = origin
        self._members: dict[str, tarfile.TarInfo] = {}
        for count, member in enumerate(tar, start=1):
            if count > MAX_MEMBERS:
                raise ArchiveError(f"{origin} has more than {MAX_MEMBERS} entries; not an image archive?")
            name = self._safe_name(member.name)
            if member.isdir():
                continue
            if name in self._members:
                raise ArchiveError(f"{origin} contains {name!r} twice: refusing an ambiguous archive.")
            self._members[name] = member

    def _safe_name(self, name: str) -> str:
        """``./a/b`` -> ``a/b``; an absolute name or one that climbs out with ``..`` is refused."""
        clean = posixpath.normpath(name)
        if name.startswith("/") or clean == ".." or clean.startswith("../") or "\x00" in name:
            raise ArchiveError(f"{self.origin} has an unsafe entry name {name!r}: refusing it.")
        return clean

    def has(self, name: str) -> bool:
        return self._safe_name(name) in self._members

    def member(self, name: str) -> tarfile.TarInfo:
        """The regular file ``name`` refers to, following links that stay inside the archive."""
        current = self._safe_name(name)
        for _ in range(_MAX_LINK_HOPS):
            member = self._members.get(current)
            if member is None:
                raise ArchiveError(f"{self.origin} has no entry {current!r}, which its manifest names.")
            if member.isfile():
                return member
            if member.issym():
                current = self._safe_name(posixpath.join(posixpath.dirname(current), member.linkname))
            elif member.islnk():
                current = self._safe_name(member.linkname)
            else:
                raise ArchiveError(f"{self.origin}: {current!r} is not a file.")
        raise ArchiveError(f"{self.origin}: links from {name!r} go round in circles or too deep.")

    def read_bytes(self, name: str) -> bytes:
        """A manifest, index or config: small JSON files, so anything big is refused unread."""
        member = self.member(name)
        if member.size > MAX_JSON_BYTES:
            raise ArchiveError(
                f"{self.origin}: {name!r} is {member.size} bytes, more than a manifest or config."
            )
        handle = self._tar.extractfile(member)
        if handle is None:
            raise ArchiveError(f"{self.origin}: {name!r} cannot be read.")
        data = handle.read(member.size)
        if len(data) != member.size:
            raise ArchiveError(f"{self.origin} is truncated inside {name!r}.")
        return data

    def read_json(self, name: str) -> Any:
        try:
            return json.loads(self.read_bytes(name))
        except (ValueError, RecursionError) as error:
            raise ArchiveError(f"{self.origin}: {name!r} is not valid JSON.") from error

    def size(self, name: str) -> int:
        return int(self.member(name).size)

    def compressed(self, name: str) -> bool:
        member = self.member(name)
        handle = self._tar.extractfile(member)
        head = handle.read(4) if handle else b""
        return head.startswith(_COMPRESSED_MAGIC)


def _read_images(archive: _Archive) -> tuple[tuple[Image, ...], tuple[Diagnostic, ...]]:
    if archive.has("manifest.json"):
        entries = _docker_manifest(archive)
    elif archive.has("index.json"):
        entries = _oci_layout(archive)
    else:
        raise ArchiveError(
            f"{archive.origin} has neither manifest.json nor index.json: not a 'docker save' "
            "archive or an OCI image layout."
        )
    images: dict[str, Image] = {}
    compressed = False
    for config_name, tags, layer_names, layer_sizes in entries:
        raw = archive.read_bytes(config_name)
        sizes = layer_sizes if layer_sizes is not None else [archive.size(n) for n in layer_names]
        compressed = compressed or any(archive.compressed(n) for n in layer_names[:1])
        # The same image may be listed twice (one entry per tag).
        oci.add_image(images, image_from_config(raw, tags, sizes, archive.origin, ArchiveError))
    notes = [
        Diagnostic(
            None,
            "archive_sizes",
            "sizes are the layer blobs as stored in the archive"
            + (" (compressed)" if compressed else " (uncompressed tars)"),
        )
    ]
    return tuple(images[k] for k in sorted(images)), tuple(notes)


Entry = tuple[str, tuple[str, ...], list[str], list[int] | None]


def _docker_manifest(archive: _Archive) -> list[Entry]:
    manifest = archive.read_json("manifest.json")
    if not isinstance(manifest, list):
        raise ArchiveError(f"{archive.origin}: manifest.json should be a list.")
    entries: list[Entry] = []
    for index, item in enumerate(manifest):
        where = f"manifest.json[{index}]"
        if not isinstance(item, Mapping):
            raise ArchiveError(f"{archive.origin}: {where} should be an object.")
        config, tags, layers = item.get("Config"), item.get("RepoTags") or [], item.get("Layers") or []
        if not isinstance(config, str) or not _strings(tags) or not _strings(layers):
            raise ArchiveError(f"{archive.origin}: {where} needs Config, RepoTags and Layers as strings.")
        entries.append((config, tuple(tags), list(layers), None))
    return entries


def _oci_layout(archive: _Archive) -> list[Entry]:
    entries: list[Entry] = []
    index = archive.read_json("index.json")
    for descriptor, name in _manifests(archive, index, None, depth=0):
        manifest = archive.read_json(_blob(descriptor, archive.origin))
        config = manifest.get("config") if isinstance(manifest, Mapping) else None
        layers = manifest.get("layers") if isinstance(manifest, Mapping) else None
        if not isinstance(config, Mapping) or not isinstance(layers, list):
            raise ArchiveError(f"{archive.origin}: a manifest lacks its config or layers.")
        names = [_blob(layer, archive.origin) for layer in layers]
        sizes = [layer.get("size") if isinstance(layer.get("size"), int) else 0 for layer in layers]
        entries.append((_blob(config, archive.origin), (name,) if name else (), names, sizes))
    return entries


def _manifests(
    archive: _Archive, index: object, name: str | None, depth: int
) -> list[tuple[Mapping[str, Any], str | None]]:
    """Image manifests of an index, each with its tag; one platform per multi-platform image."""
    if depth > 4 or not isinstance(index, Mapping) or not isinstance(index.get("manifests"), list):
        raise ArchiveError(f"{archive.origin}: index.json (or a nested index) is malformed.")
    if not all(isinstance(descriptor, Mapping) for descriptor in index["manifests"]):
        raise ArchiveError(f"{archive.origin}: an index entry should be an object.")
    found: list[tuple[Mapping[str, Any], str | None]] = []
    for descriptor in oci.native_first(index["manifests"]):
        annotations = descriptor.get("annotations")
        annotations = annotations if isinstance(annotations, Mapping) else {}
        tag = name or next(
            (annotations[k] for k in oci.REF_NAME_ANNOTATIONS if isinstance(annotations.get(k), str)), None
        )
        if descriptor.get("mediaType") in oci.INDEX_TYPES:
            nested = archive.read_json(_blob(descriptor, archive.origin))
            found.extend(_manifests(archive, nested, tag, depth + 1)[:1])
        else:
            found.append((descriptor, tag))
    return found


def _blob(descriptor: Mapping[str, Any], origin: str) -> str:
    digest = descriptor.get("digest")
    if not isinstance(digest, str) or ":" not in digest:
        raise ArchiveError(f"{origin}: a descriptor has no usable digest.")
    algorithm, hexdigest = digest.split(":", 1)
    return f"blobs/{algorithm}/{hexdigest}"


def _strings(values: object) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) for v in values)
