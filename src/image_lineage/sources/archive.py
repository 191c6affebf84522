"""Read images from a ``docker save`` archive, an OCI image layout (tar or directory), or a
``docker save`` stream, with no daemon.

Nothing is extracted and no layer is read: member headers give the layer sizes, and
only ``manifest.json``/``index.json``, manifests and image configs (small JSON files,
capped) are read. Parsing works over a :class:`Layout` (names -> small JSON bytes, sizes,
compressed or not), so one parser serves every way the files arrive:

* :class:`TarLayout`: a plain tar file, read by random access (headers only);
* :class:`StreamLayout`: one sequential pass over a tar stream (a pipe, an HTTP answer, a
  gzip/bzip2/xz file), keeping only the small JSON members and the sizes of the rest;
* :class:`DirectoryLayout`: an OCI layout directory, walked without following links.

Formats (see docs/docker-notes):

* ``manifest.json`` (every ``docker save``; Jib before 2020 wrote its keys in lower camel
  case): ``[{Config, RepoTags, Layers}]``; ``Layers[i]`` is the tar of ``rootfs.diff_ids[i]``;
* ``index.json`` (an OCI layout: ``skopeo``, ``buildx``, Docker 25+ beside its
  ``manifest.json``, the containerd store): index -> (index ->) manifest -> config. Every
  platform of an index is a record of its own (its config digest is its id), naming its
  manifest and index and every platform the index lists, present here or not; platform
  manifests listed in ``index.json`` itself under one name group as if an index held them.
  Attestations, signatures, SBOMs, Helm charts and other artifacts are never records: they
  are counted on the image they refer to (an ``artifacts`` diagnostic, and
  :class:`LayoutContents` as data). Both files, when present, merge by config digest.

Sizes are the sizes of the layer blobs as stored: uncompressed tars in ``docker save``,
often compressed in OCI layouts (``size_kind`` says which, per image). An archive is
untrusted: unsafe member names (absolute, ``..``), duplicate entries, links that leave the
archive or go round in circles, oversized or malformed JSON all give an ``ArchiveError``.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import posixpath
import stat
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, Protocol

from image_lineage.errors import ArchiveError
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.sources import oci
from image_lineage.sources.base import MAX_JSON_BYTES, Progress
from image_lineage.sources.image_config import image_from_config

MAX_MEMBERS = 1_000_000
#: The most a stream reader keeps in memory in all (the small JSON members it may need).
MAX_KEPT_BYTES = 256 * 1024 * 1024
_MAX_LINK_HOPS = 8
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")  # gzip, zstd (layer blobs)
_HEAD = 512  # enough to tell a tar (``ustar`` at 257) or a compressed blob from JSON
_STREAM_BUFFER = 1 << 20  # read a compressed stream in large chunks: fewer Python calls
#: What a damaged or truncated stream raises, wherever in the pass it shows.
_STREAM_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


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


class Layout(Protocol):
    """What the parser needs from an archive, a stream or a directory: names, small files, sizes.

    Names are the layout's own (``manifest.json``, ``blobs/sha256/<hex>``); each method
    follows links that stay inside the layout and raises ``ArchiveError`` for anything else.
    """

    def has(self, name: str) -> bool:
        """Whether ``name`` is an entry (file or link)."""
        ...

    def read_bytes(self, name: str) -> bytes:
        """A manifest, index or config: at most ``MAX_JSON_BYTES``, anything bigger refused."""
        ...

    def size(self, name: str) -> int:
        """The stored size of the file ``name`` refers to."""
        ...

    def compressed(self, name: str) -> bool:
        """Whether the file ``name`` refers to is a gzip or zstd blob (by its first bytes)."""
        ...


Kind = Literal["file", "symlink", "hardlink", "other"]


@dataclass(frozen=True, slots=True)
class _Entry:
    """One member as its header (or ``lstat``) says: never its content, except what a stream keeps."""

    kind: Kind
    size: int = 0
    link: str = ""
    head: bytes = b""  # the first bytes (streams, where nothing can be read later)
    data: bytes | None = None  # the whole content, kept by a stream when it may be JSON


class _Members:
    """The members of a layout by safe name, with the rules every kind of layout shares.

    Subclasses fill ``_entries`` (through ``_add``) and say how to read a file's bytes.
    A layout tarred with its folder on top (``layout/index.json``...) is read from that folder.
    """

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self._entries: dict[str, _Entry] = {}
        self._prefix = ""  # the one folder everything sits in, when the layout was tarred with it

    def _add(self, raw_name: str, entry: _Entry) -> None:
        if len(self._entries) >= MAX_MEMBERS:
            raise ArchiveError(f"{self.origin} has more than {MAX_MEMBERS} entries; not an image archive?")
        name = self._safe_name(raw_name)
        if name in self._entries:
            raise ArchiveError(f"{self.origin} contains {name!r} twice: refusing an ambiguous archive.")
        self._entries[name] = entry

    def _find_top_folder(self) -> None:
        """Read ``top/index.json`` as ``index.json`` when every entry sits under one folder ``top``."""
        if not self._entries or "manifest.json" in self._entries or "index.json" in self._entries:
            return
        tops = {name.split("/", 1)[0] for name in self._entries}
        if len(tops) != 1 or not all("/" in name for name in self._entries):
            return
        top = tops.pop()
        if f"{top}/manifest.json" in self._entries or f"{top}/index.json" in self._entries:
            self._prefix = top + "/"

    @staticmethod
    def _clean(name: str) -> str:
        return posixpath.normpath(name)

    def _safe_name(self, name: str) -> str:
        """``./a/b`` -> ``a/b``; an absolute name or one that climbs out with ``..`` is refused."""
        clean = self._clean(name)
        if name.startswith("/") or clean == ".." or clean.startswith("../") or "\x00" in name:
            raise ArchiveError(f"{self.origin} has an unsafe entry name {name!r}: refusing it.")
        return clean

    def has(self, name: str) -> bool:
        return self._prefix + self._safe_name(name) in self._entries

    def _resolve(self, name: str) -> tuple[str, _Entry]:
        """The regular file ``name`` refers to, following links that stay inside the layout."""
        current = self._prefix + self._safe_name(name)
        for _ in range(_MAX_LINK_HOPS):
            entry = self._entries.get(current)
            if entry is None:
                shown = current.removeprefix(self._prefix)
                raise ArchiveError(f"{self.origin} has no entry {shown!r}, which its manifest names.")
            if entry.kind == "file":
                return current, entry
            if entry.kind == "symlink":
                current = self._safe_name(posixpath.join(posixpath.dirname(current), entry.link))
            elif entry.kind == "hardlink":
                current = self._safe_name(entry.link)
            else:
                raise ArchiveError(f"{self.origin}: {current!r} is not a file.")
        raise ArchiveError(f"{self.origin}: links from {name!r} go round in circles or too deep.")

    def read_bytes(self, name: str) -> bytes:
        key, entry = self._resolve(name)
        if entry.size > MAX_JSON_BYTES:
            raise ArchiveError(
                f"{self.origin}: {name!r} is {entry.size} bytes, more than a manifest or config."
            )
        data = self._read(key, entry, entry.size)
        if len(data) != entry.size:
            raise ArchiveError(f"{self.origin} is truncated inside {name!r}.")
        return data

    def size(self, name: str) -> int:
        return self._resolve(name)[1].size

    def compressed(self, name: str) -> bool:
        key, entry = self._resolve(name)
        return self._read(key, entry, 4).startswith(_COMPRESSED_MAGIC)

    def _read(self, key: str, entry: _Entry, count: int) -> bytes:
        """The first ``count`` bytes of the file ``key`` (count <= its size, or all of it)."""
        raise NotImplementedError


class TarLayout(_Members):
    """A tar file read by random access: headers only, small members read when asked for."""

    def __init__(self, tar: tarfile.TarFile, origin: str) -> None:
        super().__init__(origin)
        self._tar = tar
        self._infos: dict[str, tarfile.TarInfo] = {}
        for member in tar:
            if member.isdir():
                self._safe_name(member.name)
                continue
            self._add(member.name, _tar_entry(member))
            self._infos[self._clean(member.name)] = member
        self._find_top_folder()

    def _read(self, key: str, entry: _Entry, count: int) -> bytes:
        handle = self._tar.extractfile(self._infos[key])
        if handle is None:
            raise ArchiveError(f"{self.origin}: {key!r} cannot be read.")
        return handle.read(count)


class StreamLayout(_Members):
    """One sequential pass over a tar stream, keeping only what may be a manifest or config.

    A stream cannot be read twice, so every file's first bytes are kept (to tell a
    compressed blob), and whole files only when they are small (``MAX_JSON_BYTES``) and
    are neither a tar nor a compressed blob: manifests, indexes, configs, attestations.
    The rest is skipped as it goes by; only its size is kept.
    """

    def __init__(self, origin: str) -> None:
        super().__init__(origin)
        self._kept = 0

    @classmethod
    def read(cls, fileobj: BinaryIO, origin: str) -> StreamLayout:
        """Read a tar stream (plain, gzip, bzip2 or xz) to its end; ``ArchiveError`` if it is none."""
        try:
            head = fileobj.read(8)
        except OSError as error:
            raise ArchiveError(f"{origin} cannot be read ({error}).") from error
        packing = next((p for p in _PACKINGS if head.startswith(p.magic)), None)
        if packing and not packing.readable:
            raise ArchiveError(f"{origin} is {packing.kind}, which is not read directly.")
        return _read_stream(cls(origin), io.BufferedReader(_Prefixed(head, fileobj)), packing)

    def _take(self, tar: tarfile.TarFile) -> None:
        for member in tar:
            if member.isdir():
                self._safe_name(member.name)
                continue
            entry = _tar_entry(member)
            if member.isfile():
                entry = self._keep(tar, member, entry)
            self._add(member.name, entry)
        self._find_top_folder()

    def _keep(self, tar: tarfile.TarFile, member: tarfile.TarInfo, entry: _Entry) -> _Entry:
        handle = tar.extractfile(member)
        if handle is None:  # pragma: no cover - a regular file always has a handle
            return entry
        head = handle.read(min(_HEAD, member.size))
        binary = head.startswith(_COMPRESSED_MAGIC) or head[257:262] == b"ustar"
        if binary or member.size > MAX_JSON_BYTES:
            return _Entry("file", member.size, head=head[:8])
        self._kept += member.size
        if self._kept > MAX_KEPT_BYTES:
            raise ArchiveError(
                f"{self.origin} holds more than {MAX_KEPT_BYTES} bytes of small files: not an image archive?"
            )
        return _Entry("file", member.size, head=head[:8], data=head + handle.read(member.size - len(head)))

    def _read(self, key: str, entry: _Entry, count: int) -> bytes:
        if entry.data is not None:
            return entry.data[:count]
        if count <= len(entry.head):
            return entry.head[:count]
        raise ArchiveError(f"{self.origin}: {key.removeprefix(self._prefix)!r} is not valid JSON.")


class DirectoryLayout(_Members):
    """An OCI layout directory, walked without following links; links resolve inside it only."""

    def __init__(self, root: Path, origin: str) -> None:
        super().__init__(origin)
        self._root = root
        for relative, info in _walk(root, ""):
            if stat.S_ISLNK(info.st_mode):
                self._add(relative, _Entry("symlink", link=str((root / relative).readlink())))
            elif stat.S_ISREG(info.st_mode):
                self._add(relative, _Entry("file", info.st_size))
            else:
                self._add(relative, _Entry("other"))
        self._find_top_folder()

    def _read(self, key: str, entry: _Entry, count: int) -> bytes:
        # The entry was a regular file when walked; O_NOFOLLOW keeps a swapped-in link out.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            descriptor = os.open(self._root / key, flags)
        except OSError as error:
            raise ArchiveError(f"{self.origin}: {key!r} cannot be read ({error.strerror}).") from error
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read(count)


def _walk(root: Path, prefix: str) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under ``root`` but directories, as ``(relative posix name, lstat)``."""
    try:
        with os.scandir(root / prefix if prefix else root) as entries:
            for item in sorted(entries, key=lambda e: e.name):
                relative = f"{prefix}{item.name}"
                info = item.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    yield from _walk(root, relative + "/")
                else:
                    yield relative, info
    except OSError as error:
        raise ArchiveError(f"{root / prefix} cannot be read ({error.strerror or error}).") from error


def _tar_entry(member: tarfile.TarInfo) -> _Entry:
    if member.isfile():
        return _Entry("file", member.size)
    if member.issym():
        return _Entry("symlink", link=member.linkname)
    if member.islnk():
        return _Entry("hardlink", link=member.linkname)
    return _Entry("other")


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read (to know its compression), given back first."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(view), len(self._head))
            view[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def _decompressed(fileobj: IO[bytes], packing: _Packing | None) -> IO[bytes] | io.BufferedIOBase:
    """``fileobj`` decompressed as it is read (gzip, bzip2, xz), or as it is for a plain tar."""
    if packing is None:
        return fileobj
    if packing.name == "gzip":
        return gzip.GzipFile(fileobj=fileobj, mode="rb")
    if packing.name == "bzip2":
        return bz2.BZ2File(fileobj, "rb")
    return lzma.LZMAFile(fileobj, "rb")


def _read_stream(layout: StreamLayout, fileobj: IO[bytes], packing: _Packing | None) -> StreamLayout:
    """Fill ``layout`` from one pass over ``fileobj``; tar and decompression errors -> ``ArchiveError``."""
    origin = layout.origin
    stream = _decompressed(fileobj, packing)
    try:
        tar = tarfile.open(fileobj=stream, mode="r|", bufsize=_STREAM_BUFFER)  # noqa: SIM115
    except _STREAM_ERRORS as error:
        if packing and not isinstance(error, tarfile.TarError):  # the decompression failed
            raise ArchiveError(f"{origin} ({packing.kind}) is truncated or damaged ({error}).") from error
        if packing:
            raise ArchiveError(
                f"{origin} is {packing.kind}, but no tar archive can be read from it "
                f"({error}); check it with {packing.undo} -t, or decompress it first."
            ) from error
        raise ArchiveError(f"{origin} is not a readable tar archive ({error}).") from error
    packed = f" ({packing.kind})" if packing else ""
    with tar:
        try:
            layout._take(tar)
        except _STREAM_ERRORS as error:
            raise ArchiveError(f"{origin}{packed} is truncated or damaged ({error}).") from error
    return layout


@dataclass(frozen=True, slots=True)
class ArchiveSource:
    """``archive:PATH``: a ``docker save`` archive or OCI layout: a tar (maybe compressed) or a folder."""

    path: Path

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        origin = str(self.path)
        if self.path.is_dir():
            images, notes = read_layout(DirectoryLayout(self.path, origin), origin)
        else:
            images, notes = self._read_file(origin)
        info = SourceInfo(kind="archive", endpoint=origin, scanned_at=datetime.now(UTC))
        return Scan(source=info, images=images, diagnostics=notes)

    def _read_file(self, origin: str) -> tuple[tuple[Image, ...], tuple[Diagnostic, ...]]:
        packing = _packing(self.path)
        if packing and not packing.readable:
            raise ArchiveError(
                f"{self.path} is {packing.kind}, which is not read directly; unpack it first "
                f"({packing.undo} {self.path.name}) and read the tar archive it gives."
            )
        if packing:
            # A compressed file cannot be read by random access without decompressing it
            # again for every member: one sequential pass reads it once.
            with self.path.open("rb") as handle:
                return read_layout(_read_stream(StreamLayout(origin), handle, packing), origin)
        # A plain tar is read by random access: member headers only, layers skipped by seeking.
        try:
            tar = tarfile.open(self.path, "r:")  # noqa: SIM115 - closed below, errors mapped first
        except (tarfile.TarError, OSError, EOFError) as error:
            raise ArchiveError(f"{self.path} is not a readable tar archive ({error}).") from error
        with tar:
            try:
                return read_layout(TarLayout(tar, origin), origin)
            except (tarfile.TarError, EOFError, OSError) as error:
                raise ArchiveError(f"{self.path} is truncated or damaged ({error}).") from error


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


def _read_json(layout: Layout, name: str, origin: str) -> Any:
    try:
        return json.loads(layout.read_bytes(name))
    except (ValueError, RecursionError) as error:
        raise ArchiveError(f"{origin}: {name!r} is not valid JSON.") from error


@dataclass(frozen=True, slots=True)
class LayoutContents:
    """What a layout holds: image records (one per config digest, every platform), the
    artifacts beside them (attached to the records they refer to), and diagnostics."""

    images: tuple[Image, ...]
    artifacts: tuple[oci.Artifact, ...]
    diagnostics: tuple[Diagnostic, ...]


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
    if not (layout.has("manifest.json") or layout.has("index.json")):
        raise ArchiveError(
            f"{origin} has neither manifest.json nor index.json: not a 'docker save' "
            "archive or an OCI image layout."
        )
    if layout.has("index.json"):
        reader.oci_layout()
    if layout.has("manifest.json"):
        reader.docker_manifest()
    return reader.contents()


#: An index entry and its manifest (None when not in the layout).
_Found = tuple[Mapping[str, Any], Mapping[str, Any] | None]


class _Reader:
    """Collects records and artifacts from one layout; ``contents()`` attaches and sorts them."""

    def __init__(self, layout: Layout, origin: str) -> None:
        self.layout = layout
        self.origin = origin
        self.images: dict[str, Image] = {}
        self.artifacts: list[oci.Artifact] = []

    def json(self, name: str) -> Any:
        return _read_json(self.layout, name, self.origin)

    def add(self, image: Image) -> None:
        """One record per config digest; met again (another tag, another index), it gains the names."""
        known = self.images.get(image.id)
        if known is not None:
            image = replace(known, tags=tuple(sorted({*known.tags, *image.tags})))
        self.images[image.id] = image

    # ----------------------------------------------------------------- docker save's manifest.json

    def docker_manifest(self) -> None:
        """``[{Config, RepoTags, Layers}]``; Jib before 2020 wrote the keys in lower camel case."""
        manifest = self.json("manifest.json")
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
            compressed = any(self.layout.compressed(name) for name in layers)
            image = image_from_config(self.layout.read_bytes(config), tags, sizes, self.origin, ArchiveError)
            self.add(replace(image, size_kind="compressed" if compressed else "tar"))

    # ------------------------------------------------------------------------- OCI image layout

    def oci_layout(self) -> None:
        """``index.json``: indexes (every platform), image manifests, and artifacts beside them.

        Platform manifests listed in ``index.json`` itself (no index of their own) under the
        same names are one multi-platform image, as if an index held them.
        """
        entries = _index_entries(self.json("index.json"), self.origin)
        direct: dict[tuple[str, ...], list[_Found]] = {}
        for descriptor in entries:
            names = _names(descriptor)
            if _is_index(descriptor):
                self.index(descriptor, names, depth=1)
                continue
            manifest = self.manifest(descriptor, names, required=True)
            if manifest is not None and manifest != "artifact":
                direct.setdefault(names, []).append((descriptor, manifest))
        for names, group in direct.items():
            unique = list({str(d.get("digest")): (d, m) for d, m in group}.values())
            if len(unique) > 1:
                self.platforms(unique, names, _implied_index_digest([d for d, _ in unique]))
            else:
                self.platforms(unique, names, "")

    def index(self, descriptor: Mapping[str, Any], names: tuple[str, ...], depth: int) -> None:
        """Every platform of an index; its attestations and artifacts as artifacts."""
        if depth > _MAX_INDEX_DEPTH:
            raise ArchiveError(f"{self.origin}: indexes nest deeper than {_MAX_INDEX_DEPTH}.")
        digest = str(descriptor.get("digest"))
        entries = _index_entries(self.json(_blob(descriptor, self.origin)), self.origin)
        found: list[_Found] = []
        for entry in entries:
            if _is_index(entry):
                self.index(entry, names, depth + 1)
                continue
            manifest = self.manifest(entry, names, required=False)
            if manifest != "artifact":
                found.append((entry, manifest))
        self.platforms(found, names, digest)

    def manifest(
        self, descriptor: Mapping[str, Any], names: tuple[str, ...], *, required: bool
    ) -> Mapping[str, Any] | Literal["artifact"] | None:
        """An image manifest; ``"artifact"`` for one that is not an image (recorded as an
        artifact); None for an image manifest not in the layout.

        A platform an index names may be absent (a save of a pulled image keeps the host's
        platform only); an image ``index.json`` names itself must be there.
        """
        name = _blob(descriptor, self.origin)
        manifest = self.json(name) if self.layout.has(name) else None
        if manifest is not None and not isinstance(manifest, Mapping):
            raise ArchiveError(f"{self.origin}: {name!r} should be a manifest (an object).")
        kind = oci.artifact_kind(descriptor, manifest, names)
        if kind is not None:
            subject = oci.subject_of(descriptor, manifest, names)
            self.artifacts.append(oci.Artifact(kind, str(descriptor.get("digest")), subject))
            return "artifact"
        if manifest is None and required:
            raise ArchiveError(f"{self.origin} has no entry {name!r}, which its index names.")
        if manifest is not None and isinstance(manifest.get("manifests"), list):
            raise ArchiveError(f"{self.origin}: {name!r} is an index where a manifest was expected.")
        return manifest

    def platforms(
        self,
        found: list[_Found],
        names: tuple[str, ...],
        index_digest: str,
    ) -> None:
        """One record per platform present; each lists every platform of its index."""
        made: list[tuple[str, Image | None]] = []
        for descriptor, manifest in found:
            image = self.image(descriptor, manifest, names) if manifest is not None else None
            made.append((image.platform if image else oci.platform_of(descriptor), image))
        listed = tuple(sorted({(p, image is not None) for p, image in made if p})) if index_digest else ()
        for _, image in made:
            if image is not None:
                self.add(replace(image, index_digest=index_digest, index_platforms=listed))

    def image(
        self, descriptor: Mapping[str, Any], manifest: Mapping[str, Any], names: tuple[str, ...]
    ) -> Image | None:
        """The record of one image manifest; None when its config is not in the layout."""
        config, layers = manifest.get("config"), manifest.get("layers", [])
        if not isinstance(config, Mapping) or not isinstance(layers, list):
            raise ArchiveError(f"{self.origin}: a manifest lacks its config or layers.")
        if not all(isinstance(layer, Mapping) for layer in layers):
            raise ArchiveError(f"{self.origin}: a manifest's layer should be an object.")
        config_name = _blob(config, self.origin)
        if not self.layout.has(config_name):
            return None
        sizes = [layer.get("size") if isinstance(layer.get("size"), int) else 0 for layer in layers]
        compressed = any(self.compressed_layer(layer) for layer in layers)
        raw = self.layout.read_bytes(config_name)
        image = image_from_config(raw, names, sizes, self.origin, ArchiveError)
        return replace(
            image,
            manifest_digest=str(descriptor.get("digest")),
            size_kind="compressed" if compressed else "tar",
        )

    def compressed_layer(self, layer: Mapping[str, Any]) -> bool:
        """By the layer's media type; by its first bytes when the type does not say."""
        media_type = layer.get("mediaType")
        media_type = media_type.lower() if isinstance(media_type, str) else ""
        if any(word in media_type for word in ("gzip", "zstd")):
            return True
        if media_type.endswith(("tar", ".tar", "diff.tar")):
            return False
        name = _blob(layer, self.origin)
        return self.layout.compressed(name) if self.layout.has(name) else True

    # ------------------------------------------------------------------------------ the result

    def contents(self) -> LayoutContents:
        images = tuple(self.images[key] for key in sorted(self.images))
        artifacts = oci.attach_artifacts(self.artifacts, images)
        kinds = sorted({image.size_kind for image in images})
        stored = {"compressed": " (compressed)", "tar": " (uncompressed tars)"}.get(
            kinds[0] if len(kinds) == 1 else "", " (compressed for some images, uncompressed tars for others)"
        )
        notes = [
            Diagnostic(None, "archive_sizes", "sizes are the layer blobs as stored in the archive" + stored)
        ]
        notes += oci.artifact_notes(artifacts, "the archive")
        return LayoutContents(images, artifacts, tuple(notes))


_MAX_INDEX_DEPTH = 4


def _index_entries(index: object, origin: str) -> list[Mapping[str, Any]]:
    if not isinstance(index, Mapping) or not isinstance(index.get("manifests"), list):
        raise ArchiveError(f"{origin}: index.json (or a nested index) is malformed.")
    if not all(isinstance(descriptor, Mapping) for descriptor in index["manifests"]):
        raise ArchiveError(f"{origin}: an index entry should be an object.")
    return list(index["manifests"])


def _is_index(descriptor: Mapping[str, Any]) -> bool:
    return descriptor.get("mediaType") in oci.INDEX_TYPES


def _names(descriptor: Mapping[str, Any]) -> tuple[str, ...]:
    """The name ``index.json`` gives an entry, as ``docker images`` shows it (containerd's first)."""
    annotations = descriptor.get("annotations")
    annotations = annotations if isinstance(annotations, Mapping) else {}
    name = next((annotations[k] for k in oci.REF_NAME_ANNOTATIONS if isinstance(annotations.get(k), str)), "")
    return (oci.familiar_name(name),) if name else ()


def _implied_index_digest(descriptors: list[Mapping[str, Any]]) -> str:
    """The digest of the index that ``descriptors`` (platform manifests listed one by one under
    the same names) would make: no such blob exists, but the group needs one identity, and
    this one is the same whenever the same manifests are listed."""
    manifests = [
        {key: d[key] for key in ("mediaType", "digest", "size", "platform") if key in d}
        for d in sorted(descriptors, key=lambda d: str(d.get("digest")))
    ]
    index = {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": manifests}
    raw = json.dumps(index, separators=(",", ":"), sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _either(item: Mapping[str, Any], key: str, old_key: str) -> Any:
    return item[key] if key in item else item.get(old_key)


def _blob(descriptor: Mapping[str, Any], origin: str) -> str:
    digest = descriptor.get("digest")
    if not isinstance(digest, str) or ":" not in digest:
        raise ArchiveError(f"{origin}: a descriptor has no usable digest.")
    algorithm, hexdigest = digest.split(":", 1)
    return f"blobs/{algorithm}/{hexdigest}"


def _strings(values: object) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) for v in values)
