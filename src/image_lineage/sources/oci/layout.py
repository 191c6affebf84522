"""Layouts: the files of a ``docker save`` archive or an OCI image layout, however they arrive.

Nothing is extracted: member headers (or ``lstat``) give names, kinds and sizes, and only
small files (manifests, indexes, configs) are read, capped. One set of rules for every way
the files arrive:

* :class:`TarLayout`: a plain tar file, read by random access (headers only);
* :class:`StreamLayout`: one sequential pass over a tar stream (a pipe, an HTTP answer, a
  gzip/bzip2/xz file), keeping only the small JSON members and the sizes of the rest; a
  compressed stream may expand at most ``MAX_EXPANSION`` times what was read of it (past a
  floor), so a small bomb cannot make hours of work;
* :class:`DirectoryLayout`: an OCI layout directory, walked without following links, at
  most ``MAX_DIRECTORY_DEPTH`` folders deep.

:class:`LayoutBlobs` is the blob source (``oci.blobs``) over any of them. A layout is
untrusted: unsafe member names (absolute, ``..``), duplicate entries, links that leave the
layout or go round in circles, oversized files all give an ``ArchiveError``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import posixpath
import stat
import tarfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, Protocol, cast

from image_lineage.errors import ArchiveError
from image_lineage.sources.base import MAX_JSON_BYTES
from image_lineage.sources.oci.blobs import ABSENT, Checked, Unread, Want, too_big

MAX_MEMBERS = 1_000_000
#: The most a stream reader keeps in memory in all (the small JSON members it may need).
MAX_KEPT_BYTES = 256 * 1024 * 1024
_MAX_LINK_HOPS = 8
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")  # gzip, zstd (layer blobs)
_HEAD = 512  # enough to tell a tar (``ustar`` at 257) or a compressed blob from JSON
_STREAM_BUFFER = 1 << 20  # read a compressed stream in large chunks: fewer Python calls
#: What a damaged or truncated stream raises, wherever in the pass it shows.
_STREAM_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)
#: How many times its compressed size a stream may expand (gzip's deflate cannot pass ~1032:1;
#: a real save is far below), once past ``EXPANSION_FLOOR`` bytes.
MAX_EXPANSION = 1100
EXPANSION_FLOOR = 64 * 1024 * 1024
#: Folders a layout directory may nest (``blobs/sha256/<hex>``, maybe under one folder).
MAX_DIRECTORY_DEPTH = 16


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

    def open(self, name: str) -> IO[bytes]:
        """The file ``name`` refers to, as a stream to read from its start (a layer)."""
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

    def open(self, name: str) -> IO[bytes]:
        key, entry = self._resolve(name)
        return self._open(key, entry)

    def _read(self, key: str, entry: _Entry, count: int) -> bytes:
        """The first ``count`` bytes of the file ``key`` (count <= its size, or all of it)."""
        with self._open(key, entry) as handle:
            return handle.read(count)

    def _open(self, key: str, entry: _Entry) -> IO[bytes]:
        """The file ``key`` as a stream from its start."""
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

    def _open(self, key: str, entry: _Entry) -> IO[bytes]:
        handle = self._tar.extractfile(self._infos[key])
        if handle is None:  # pragma: no cover - a regular file always has a handle
            raise ArchiveError(f"{self.origin}: {key!r} cannot be read.")
        return handle


class StreamLayout(_Members):
    """One sequential pass over a tar stream, keeping only what may be a manifest or config.

    A stream cannot be read twice, so every file's first bytes are kept (to tell a
    compressed blob), and whole files only when they are small (``MAX_JSON_BYTES``) and
    are neither a tar nor a compressed blob: manifests, indexes, configs, attestations.
    The rest is skipped as it goes by; only its size is kept.
    """

    def __init__(self, origin: str, on_blob: Callable[[str, IO[bytes]], None] | None = None) -> None:
        super().__init__(origin)
        self._kept = 0
        self._on_blob = on_blob

    @classmethod
    def read(
        cls, fileobj: BinaryIO, origin: str, on_blob: Callable[[str, IO[bytes]], None] | None = None
    ) -> StreamLayout:
        """Read a tar stream (plain, gzip, bzip2 or xz) to its end; ``ArchiveError`` if it is none.

        ``on_blob(name, stream)`` is given each tar or compressed member (a layer) as it goes
        by, to read once (layer contents list them here: the stream cannot be read again)."""
        try:
            head = fileobj.read(8)
        except OSError as error:
            raise ArchiveError(f"{origin} cannot be read ({error}).") from error
        packing = next((p for p in _PACKINGS if head.startswith(p.magic)), None)
        if packing and not packing.readable:
            raise ArchiveError(f"{origin} is {packing.kind}, which is not read directly.")
        return _read_stream(cls(origin, on_blob), io.BufferedReader(_Prefixed(head, fileobj)), packing)

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
        if binary and self._on_blob is not None:
            self._on_blob(member.name, cast("IO[bytes]", _Prefixed(head, handle)))
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

    def _open(self, key: str, entry: _Entry) -> IO[bytes]:
        if entry.data is None:
            raise ArchiveError(
                f"{self.origin}: {key.removeprefix(self._prefix)!r} went by in a one-pass stream "
                "and cannot be read again; read the archive from a file."
            )
        return io.BytesIO(entry.data)


class DirectoryLayout(_Members):
    """An OCI layout directory, walked without following links; links resolve inside it only."""

    def __init__(self, root: Path, origin: str) -> None:
        super().__init__(origin)
        self._root = root
        if not _may_be_layout(root):
            return  # no entries: the reader says it is no layout, without walking a whole tree first
        for relative, info in _walk(root, origin):
            if stat.S_ISLNK(info.st_mode):
                self._add(relative, _Entry("symlink", link=str((root / relative).readlink())))
            elif stat.S_ISREG(info.st_mode):
                self._add(relative, _Entry("file", info.st_size))
            else:
                self._add(relative, _Entry("other"))
        self._find_top_folder()

    def _open(self, key: str, entry: _Entry) -> IO[bytes]:
        # The entry was a regular file when walked; O_NOFOLLOW keeps a swapped-in link out.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            descriptor = os.open(self._root / key, flags)
        except OSError as error:
            raise ArchiveError(f"{self.origin}: {key!r} cannot be read ({error.strerror}).") from error
        return os.fdopen(descriptor, "rb")


#: The files a layout's reader looks for at its top (``repositories``: a pre-1.10 save, named).
_TOP_FILES = ("index.json", "manifest.json", "repositories")


def _may_be_layout(root: Path) -> bool:
    """Whether ``root``, or the one folder it holds, has a file a layout has at its top.

    A folder that is no layout (``archive:/tmp``, a home directory) is said to be none at
    once, rather than walked through first: that could take long, or end on its depth.
    """
    try:
        with os.scandir(root) as listed:
            items = [(item.name, item.is_dir(follow_symlinks=False)) for item in listed]
    except OSError:
        return True  # the walk says why it cannot be read
    if any(name in _TOP_FILES for name, _ in items):
        return True
    if len(items) == 1 and items[0][1]:
        return any((root / items[0][0] / name).exists() for name in _TOP_FILES)
    return False


def _walk(root: Path, origin: str) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under ``root`` but directories, as ``(relative posix name, lstat)``, in name
    order; a folder deeper than ``MAX_DIRECTORY_DEPTH`` is refused (no layout nests so deep)."""
    pending: list[str] = [""]  # folders still to list, as relative prefixes; a stack, not recursion
    while pending:
        prefix = pending.pop()
        if prefix.count("/") > MAX_DIRECTORY_DEPTH:
            raise ArchiveError(
                f"{origin} has folders nested more than {MAX_DIRECTORY_DEPTH} deep: not an image layout."
            )
        try:
            with os.scandir(root / prefix if prefix else root) as listed:
                items = sorted(listed, key=lambda e: e.name)
                infos = [(item.name, item.stat(follow_symlinks=False)) for item in items]
        except OSError as error:
            raise ArchiveError(f"{root / prefix} cannot be read ({error.strerror or error}).") from error
        folders = []
        for name, info in infos:
            if stat.S_ISDIR(info.st_mode):
                folders.append(f"{prefix}{name}/")
            else:
                yield f"{prefix}{name}", info
        pending.extend(reversed(folders))


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


class _Metered(io.RawIOBase):
    """A stream that counts the bytes read through it, and checks the count after each read."""

    def __init__(self, raw: IO[bytes], check: Callable[[int], None] | None = None) -> None:
        self._raw = raw
        self._check = check
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(len(view))
        view[: len(data)] = data
        self.count += len(data)
        if self._check is not None:
            self._check(self.count)
        return len(data)


def _bounded(inner: IO[bytes], compressed: _Metered, origin: str, packing: _Packing) -> _Metered:
    """The decompressed stream, giving at most ``MAX_EXPANSION`` times what was read of the
    compressed one (past ``EXPANSION_FLOOR``): concatenated streams of zeros (a bomb: 64 GiB
    from 50 KB) end in one line instead of hours of work."""

    def check(given: int) -> None:
        if given > EXPANSION_FLOOR + MAX_EXPANSION * compressed.count:
            raise ArchiveError(
                f"{origin} ({packing.kind}) expands to more than {MAX_EXPANSION} times its size "
                f"({given} bytes from {compressed.count}): refused as a decompression bomb; if you "
                f"trust it, decompress it first ({packing.undo}) and read the tar."
            )

    return _Metered(inner, check)


def _decompressed(fileobj: IO[bytes], packing: _Packing | None, origin: str) -> IO[bytes]:
    """``fileobj`` decompressed as it is read (gzip, bzip2, xz; bounded), or as it is for a plain tar."""
    if packing is None:
        return fileobj
    counted = _Metered(fileobj)
    source = cast("IO[bytes]", counted)
    inner: IO[bytes]
    # Closed with the stream that wraps them (tarfile closes it).
    if packing.name == "gzip":
        inner = cast("IO[bytes]", gzip.GzipFile(fileobj=source, mode="rb"))
    elif packing.name == "bzip2":
        inner = bz2.BZ2File(source, "rb")
    else:
        inner = lzma.LZMAFile(source, "rb")  # noqa: SIM115
    return io.BufferedReader(_bounded(inner, counted, origin, packing), _STREAM_BUFFER)


def _read_stream(layout: StreamLayout, fileobj: IO[bytes], packing: _Packing | None) -> StreamLayout:
    """Fill ``layout`` from one pass over ``fileobj``; tar and decompression errors -> ``ArchiveError``."""
    origin = layout.origin
    stream = _decompressed(fileobj, packing, origin)
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


@contextmanager
def file_layout(path: Path, origin: str) -> Iterator[Layout]:
    """The layout in the file at ``path``: a plain tar by random access (headers only, layers
    skipped by seeking), a compressed one in one pass; open while the ``with`` lasts."""
    packing = _packing(path)
    if packing and not packing.readable:
        raise ArchiveError(
            f"{path} is {packing.kind}, which is not read directly; unpack it first "
            f"({packing.undo} {path.name}) and read the tar archive it gives."
        )
    if packing:
        # A compressed file cannot be read by random access without decompressing it
        # again for every member: one sequential pass reads it once.
        with path.open("rb") as handle:
            layout = _read_stream(StreamLayout(origin), handle, packing)
        yield layout
        return
    try:
        tar = tarfile.open(path, "r:")  # noqa: SIM115 - closed below, errors mapped first
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ArchiveError(f"{path} is not a readable tar archive ({error}).") from error
    with tar:
        try:
            yield TarLayout(tar, origin)
        except (tarfile.TarError, EOFError, OSError) as error:
            raise ArchiveError(f"{path} is truncated or damaged ({error}).") from error


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


class LayoutBlobs:
    """The blob source over a layout: ``blobs/<algorithm>/<encoded>`` by descriptor."""

    def __init__(self, layout: Layout, names: Mapping[str, str] | None = None) -> None:
        self.layout = layout
        self.names = names or {}  # digest -> the layout's name for it, where not blobs/ALG/HEX

    def read_many(self, wanted: Sequence[Want], limit: int) -> Mapping[str, bytes | Unread]:
        found: dict[str, bytes | Unread] = {}
        for want in wanted:
            descriptor = want.descriptor
            name = descriptor.blob_path
            if not self.layout.has(name):
                found[descriptor.digest] = Unread(ABSENT, f"there is no entry {name!r}")
            else:
                found[descriptor.digest] = too_big(descriptor, limit) or self.layout.read_bytes(name)
        return found

    def open(self, want: Want) -> AbstractContextManager[IO[bytes]]:
        """A layer blob, streamed from the layout and checked against its digest as it is read."""
        descriptor = want.descriptor
        raw = self.layout.open(self.names.get(descriptor.digest, descriptor.blob_path))
        return closing(io.BufferedReader(Checked(raw, want.descriptor)))
