"""A layer's entries from its tar headers alone: one pass over a stream, nothing extracted.

A layer blob (plain tar, gzip or zstd) is read once from its start; only the 512-byte
headers (and GNU long names, PAX records) are parsed, file data is read past. Nothing is
written or opened by an entry's name: names are text, kept as given (``..``, control or
bidirectional characters included: showing them safely is the front end's job).

Bounded whatever the blob holds: entries are kept in columns (``Listing``: a name and
five numbers each, a dict for link targets), at most ``MAX_ENTRIES`` per layer, names of at
most ``MAX_NAME`` bytes (longer ones kept cut, marked), PAX and GNU long-name records of at
most ``MAX_EXTENDED`` bytes; decompression runs in fixed-size chunks. A damaged tar or
compressed stream is one ``ArchiveError`` line.

Whiteouts (the image-spec's ``.wh.NAME`` and ``.wh..wh..opq``) are kept as entries of their
own kinds, at the path they remove or the folder they make opaque: applying them is the
analysis's job (``contents.py``), which sees every layer.
"""

from __future__ import annotations

import io
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Final, Literal, cast

from image_lineage.errors import ArchiveError
from image_lineage.sources.oci.blobs import DigestMismatch

MAX_ENTRIES: Final = 5_000_000
MAX_NAME: Final = 4096
MAX_EXTENDED: Final = 1 << 20
_BLOCK: Final = 512
_CHUNK: Final = 1 << 20
_GZIP: Final = b"\x1f\x8b"
_ZSTD: Final = b"\x28\xb5\x2f\xfd"
WHITEOUT_PREFIX: Final = ".wh."
OPAQUE_MARKER: Final = ".wh..wh..opq"

Kind = Literal["file", "dir", "symlink", "hardlink", "other", "whiteout", "opaque"]
KINDS: Final[tuple[Kind, ...]] = ("file", "dir", "symlink", "hardlink", "other", "whiteout", "opaque")
_FILE, _DIR, _SYMLINK, _HARDLINK, _OTHER, _WHITEOUT, _OPAQUE = range(7)
_TYPEFLAGS: Final = {b"0": _FILE, b"\0": _FILE, b"7": _FILE, b"1": _HARDLINK, b"2": _SYMLINK, b"5": _DIR}


@dataclass(frozen=True, slots=True)
class Entry:
    """One header: ``path`` absolute (``/etc/passwd``), a whiteout's path is what it removes."""

    path: str
    kind: Kind
    size: int = 0
    mode: int = 0
    uid: int = 0
    gid: int = 0
    link: str = ""


@dataclass(slots=True)
class Listing:
    """A layer's entries in tar order, in columns: a million entries take ~100 MB, not ~1 GB."""

    paths: list[str] = field(default_factory=list)
    kinds: bytearray = field(default_factory=bytearray)
    sizes: array[int] = field(default_factory=lambda: array("q"))
    modes: array[int] = field(default_factory=lambda: array("L"))
    uids: array[int] = field(default_factory=lambda: array("q"))
    gids: array[int] = field(default_factory=lambda: array("q"))
    links: dict[int, str] = field(default_factory=dict)
    tar_bytes: int = 0  # the uncompressed tar's length, as read

    def __len__(self) -> int:
        return len(self.paths)

    def add(self, entry: Entry) -> None:
        self.append(
            entry.path, KINDS.index(entry.kind), entry.size, (entry.mode, entry.uid, entry.gid), entry.link
        )

    def append(self, path: str, kind: int, size: int, owner: tuple[int, int, int], link: str) -> None:
        """One entry, by columns (the reader's path: no object per entry); ``owner``: mode, uid, gid."""
        index = len(self.paths)
        if index >= MAX_ENTRIES:
            raise ArchiveError(f"more than {MAX_ENTRIES:,} entries in one layer: not read further")
        self.paths.append(path)
        self.kinds.append(kind)
        self.sizes.append(size)
        mode, uid, gid = owner
        self.modes.append(mode & 0xFFFFFFFF)
        self.uids.append(uid)
        self.gids.append(gid)
        if link:
            self.links[index] = link

    def entry(self, index: int) -> Entry:
        return Entry(
            self.paths[index],
            KINDS[self.kinds[index]],
            self.sizes[index],
            self.modes[index],
            self.uids[index],
            self.gids[index],
            self.links.get(index, ""),
        )

    def __iter__(self) -> Iterator[Entry]:
        return (self.entry(index) for index in range(len(self.paths)))

    @property
    def file_bytes(self) -> int:
        """What the layer's entries hold (dive's layer size): the sum of their sizes."""
        return sum(self.sizes)


def read_listing(raw: IO[bytes], what: str) -> Listing:
    """The entries of the layer blob ``raw`` (plain tar, gzip or zstd), read to its end (so that
    a digest-checked stream checks the digest); ``what`` names the layer in an error."""
    buffered: IO[bytes] = raw if hasattr(raw, "peek") else io.BufferedReader(cast("Any", raw))
    head = cast("io.BufferedReader", buffered).peek(4)[:4]  # the compression, by the first bytes
    stream = _decompressed(buffered, head)
    listing = Listing()
    try:
        _parse(stream, listing)
        while stream.read(_CHUNK):  # the end blocks and padding: to the end, for the digest
            pass
        while buffered.read(_CHUNK):
            pass
    except DigestMismatch as error:
        raise ArchiveError(f"{what}: {error}") from None
    except (OSError, EOFError, zlib.error, ValueError) as error:
        raise ArchiveError(f"{what} is truncated or damaged ({_reason(error)})") from error
    except ArchiveError as error:
        raise ArchiveError(f"{what} {error}") from None
    return listing


def _reason(error: BaseException) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def _decompressed(raw: IO[bytes], head: bytes) -> IO[bytes]:
    if head.startswith(_GZIP):
        return io.BufferedReader(cast("Any", _Inflated(raw)), _CHUNK)
    if head.startswith(_ZSTD):
        import zstandard  # noqa: PLC0415 - only zstd layers need it

        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_size=_CHUNK, read_across_frames=True)
        return io.BufferedReader(cast("Any", reader), _CHUNK)
    return io.BufferedReader(cast("Any", raw), _CHUNK)


class _Inflated(io.RawIOBase):
    """gzip members one after another (trailing zeros ignored), inflated in large steps: a
    fraction of ``gzip.GzipFile``'s Python calls, which read 8 KiB at a time."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._inflater = zlib.decompressobj(31)
        self._input = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while True:
            if not self._input:
                self._input = self._raw.read(_CHUNK)
                if not self._input:
                    if not self._inflater.eof:
                        raise EOFError("the gzip stream ends before its end")
                    return 0
            if self._inflater.eof:  # a member ended: another may follow, or padding
                if not self._input.strip(b"\0"):
                    self._input = b""
                    continue
                self._inflater = zlib.decompressobj(31)
            data = self._inflater.decompress(self._input, len(view))
            self._input = self._inflater.unconsumed_tail or self._inflater.unused_data
            if data:
                view[: len(data)] = data
                return len(data)


def _parse(stream: IO[bytes], listing: Listing) -> None:
    """Headers to entries until the end-of-archive block (or, as GNU tar allows, the stream's end)."""
    offset = 0
    pending: dict[str, str] = {}  # a PAX record or GNU long name for the next header
    while True:
        block = stream.read(_BLOCK)
        if not block:
            if offset == 0:
                raise ArchiveError("is empty: not a tar")
            break  # no end-of-archive blocks: tolerated, as tar does
        if len(block) < _BLOCK:
            raise ArchiveError(f"ends inside a tar header at byte {offset:,}")
        offset += _BLOCK
        if block == b"\0" * _BLOCK:
            break
        _check_sum(block, offset - _BLOCK)
        data_size = _number(block[124:136], "size")
        flag = block[156:157]
        if flag in (b"x", b"g", b"L", b"K"):
            if data_size > MAX_EXTENDED:
                raise ArchiveError(
                    f"has an extended header of {data_size:,} bytes (at most {MAX_EXTENDED:,})"
                )
            data = _read_exactly(stream, _padded(data_size))[:data_size]
            offset += _padded(data_size)
            if flag == b"x":
                pending.update(_pax(data))
            elif flag == b"L":
                pending["path"] = _text(data.rstrip(b"\0"))
            elif flag == b"K":
                pending["linkpath"] = _text(data.rstrip(b"\0"))
            continue  # a global PAX header ('g') sets nothing this listing keeps
        size = pending.get("size", "")
        if size.isdigit():  # a PAX size (a file of 8 GiB or more): its data is that long
            data_size = int(size)
        _entry(listing, block, pending, data_size)
        if pending:
            pending = {}
        skip = _padded(data_size) if flag not in (b"1", b"2", b"3", b"4", b"5", b"6") else 0
        _skip(stream, skip)
        offset += skip
    listing.tar_bytes = offset


def _entry(listing: Listing, block: bytes, pending: dict[str, str], size: int) -> None:
    name = pending.get("path")
    if name is None:
        name = _text(_field(block[0:100]))
        if block[257:262] == b"ustar" and block[345:346] != b"\0":
            name = _text(_field(block[345:500])) + "/" + name
    link = pending.get("linkpath")
    if link is None:
        link = _text(_field(block[157:257]))
    kind = _TYPEFLAGS.get(block[156:157], _OTHER)
    if name.endswith("/") and kind == _FILE:
        kind = _DIR  # old tars mark folders by a trailing slash
    path = absolute(name)
    base = path.rpartition("/")[2]
    if base == OPAQUE_MARKER:
        kind, path = _OPAQUE, path.rpartition("/")[0] or "/"
    elif base.startswith(WHITEOUT_PREFIX) and not base.startswith(WHITEOUT_PREFIX * 2):
        kind, path = _WHITEOUT, path[: len(path) - len(base)] + base[len(WHITEOUT_PREFIX) :]
    listing.append(
        _bounded(path),
        kind,
        size if kind == _FILE else 0,
        (
            _number(block[100:108], "mode"),
            int(pending["uid"]) if pending.get("uid", "").isdigit() else _number(block[108:116], "uid"),
            int(pending["gid"]) if pending.get("gid", "").isdigit() else _number(block[116:124], "gid"),
        ),
        _link(link, kind),
    )


def _link(link: str, kind: int) -> str:
    """A symlink's target as written; a hardlink's as the absolute path of what it links to."""
    if kind == _HARDLINK:
        return _bounded(absolute(link))
    return _bounded(link) if kind == _SYMLINK else ""


def absolute(name: str) -> str:
    """``./usr//bin/`` -> ``/usr/bin``: a leading ``/`` and no empty or ``.`` parts. ``..`` stays as it
    is: a name is text here, never resolved against anything."""
    if (
        "//" not in name
        and "/./" not in name
        and not name.startswith(("./", "/"))
        and not name.endswith(("/.", "."))
    ):
        return "/" + name.rstrip("/")  # the usual name: nothing to take out
    parts = [part for part in name.split("/") if part not in ("", ".")]
    return "/" + "/".join(parts)


def _bounded(text: str) -> str:
    if len(text) <= MAX_NAME:
        return text
    return f"{text[:MAX_NAME]}…[{len(text) - MAX_NAME:,} more characters]"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _field(raw: bytes) -> bytes:
    return raw.split(b"\0", 1)[0]


def _padded(size: int) -> int:
    return -(-size // _BLOCK) * _BLOCK


def _number(raw: bytes, what: str) -> int:
    """An octal field, or GNU base-256 (first byte's high bit set)."""
    if raw[:1] and raw[0] & 0x80:
        value = int.from_bytes(raw[1:], "big")
        return value - (1 << (8 * len(raw) - 8)) if raw[0] & 0x40 else value
    text = raw.split(b"\0", 1)[0]
    try:
        return int(text, 8) if text.strip() else 0
    except ValueError:
        raise ArchiveError(f"is not a tar (a header's {what} is not a number: {text[:16]!r})") from None


def _check_sum(block: bytes, offset: int) -> None:
    stored = _number(block[148:156], "checksum")
    unsigned = sum(block[:148]) + 256 + sum(block[156:])  # the checksum field counts as 8 spaces
    if stored != unsigned:  # some old tars summed signed bytes
        high = sum(1 for b in block[:148] + block[156:] if b > 127)
        if stored != unsigned - 256 * high:
            raise ArchiveError(f"is not a tar (bad header checksum at byte {offset:,})")


def _pax(data: bytes) -> dict[str, str]:
    """``LEN key=value\\n`` records: the keys this listing keeps (path, linkpath, size, uid, gid)."""
    found: dict[str, str] = {}
    position = 0
    while position < len(data):
        length_text, space, _ = data[position : position + 24].partition(b" ")
        if not space or not length_text.isdigit() or int(length_text) <= len(length_text):
            break
        record = data[position : position + int(length_text)]
        position += int(length_text)
        key, equals, value = record[len(length_text) + 1 :].rstrip(b"\n").partition(b"=")
        if equals and key in (b"path", b"linkpath", b"size", b"uid", b"gid"):
            found[key.decode()] = _text(value)
    return found


def _read_exactly(stream: IO[bytes], count: int) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise ArchiveError("ends inside an entry")
    return data


def _skip(stream: IO[bytes], count: int) -> None:
    while count > 0:
        data = stream.read(min(count, _CHUNK))
        if not data:
            raise ArchiveError("ends inside an entry's data")
        count -= len(data)
