"""The layer tar reader: headers only, every compression, hostile names kept as inert text, bounded."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest
import zstandard

from image_lineage.errors import ArchiveError
from image_lineage.sources.oci import layer_tar
from image_lineage.sources.oci.blobs import Checked
from image_lineage.sources.oci.descriptor import Descriptor
from image_lineage.sources.oci.layer_tar import Entry, read_listing


def layer(*members: tuple[str, str, bytes | str], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A tar of ``(name, kind, content or link target)``: kind ``f`` file, ``d`` dir, ``s``/``h`` links."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for name, kind, content in members:
            info = tarfile.TarInfo(name)
            info.uid, info.gid, info.mode = 1000, 50, 0o640
            if kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind in "sh":
                info.type = tarfile.SYMTYPE if kind == "s" else tarfile.LNKTYPE
                info.linkname = str(content)
                tar.addfile(info)
            else:
                data = content if isinstance(content, bytes) else content.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


SAMPLE = layer(
    ("etc", "d", b""),
    ("etc/passwd", "f", b"root:x:0:0\n"),
    ("usr/bin/sh", "s", "busybox"),
    ("usr/bin/ash", "h", "usr/bin/busybox"),
    ("opt/.wh.gone", "f", b""),
    ("var/cache/.wh..wh..opq", "f", b""),
    ("big", "f", b"x" * 70_000),
)


def listed(data: bytes) -> list[Entry]:
    return list(read_listing(io.BytesIO(data), "the layer"))


@pytest.mark.parametrize(
    "pack",
    [bytes, gzip.compress, zstandard.ZstdCompressor().compress],
    ids=["tar", "gzip", "zstd"],
)
def test_every_kind_of_entry_from_every_compression(pack: object) -> None:
    entries = listed(pack(SAMPLE))  # type: ignore[operator]
    assert entries == [
        Entry("/etc", "dir", 0, 0o755, 1000, 50),
        Entry("/etc/passwd", "file", 11, 0o640, 1000, 50),
        Entry("/usr/bin/sh", "symlink", 0, 0o640, 1000, 50, "busybox"),
        Entry("/usr/bin/ash", "hardlink", 0, 0o640, 1000, 50, "/usr/bin/busybox"),
        Entry("/opt/gone", "whiteout", 0, 0o640, 1000, 50),
        Entry("/var/cache", "opaque", 0, 0o640, 1000, 50),
        Entry("/big", "file", 70_000, 0o640, 1000, 50),
    ]


def test_the_sizes_match_what_tarfile_reads_of_the_same_blob() -> None:
    """An independent reading: Python's tarfile over the same bytes."""
    with tarfile.open(fileobj=io.BytesIO(SAMPLE)) as tar:
        theirs = {"/" + m.name: m.size for m in tar.getmembers() if m.isfile()}
    ours = {e.path: e.size for e in listed(SAMPLE) if e.kind == "file"}
    assert ours == {k: v for k, v in theirs.items() if ".wh." not in k}


def test_gnu_and_ustar_formats_and_multi_member_gzip() -> None:
    names = ("a" * 150 + "/b", "file")
    for fmt in (tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT):
        data = layer(*((n, "f", b"1") for n in names), fmt=fmt)
        assert [e.path for e in listed(data)] == ["/" + n for n in names]
    two = gzip.compress(SAMPLE[: 512 * 2]) + gzip.compress(SAMPLE[512 * 2 :])
    assert listed(two) == listed(SAMPLE)


def test_hostile_names_and_links_are_kept_as_text_and_nothing_is_written(tmp_path: Path) -> None:
    hostile = layer(
        ("../../escape", "f", b"1"),
        ("/abs/olute", "f", b"2"),
        ("x/\x1b]0;pwned\x07\u202eexe.txt", "f", b"3"),
        ("out", "s", "/etc/shadow"),
        ("up", "h", "../../../etc/passwd"),
    )
    before = set(tmp_path.iterdir())
    cwd = Path.cwd()
    os.chdir(tmp_path)  # were anything written by name, it would land here
    try:
        entries = listed(hostile)
    finally:
        os.chdir(cwd)
    assert set(tmp_path.iterdir()) == before
    assert [e.path for e in entries] == [
        "/../../escape",
        "/abs/olute",
        "/x/\x1b]0;pwned\x07\u202eexe.txt",
        "/out",
        "/up",
    ]
    assert entries[3].link == "/etc/shadow"
    assert entries[4].link == "/../../../etc/passwd"


def test_a_very_long_name_is_kept_cut_and_marked() -> None:
    name = "d/" + "n" * 100_000
    entries = listed(layer((name, "f", b"1"), fmt=tarfile.GNU_FORMAT))
    assert len(entries[0].path) < layer_tar.MAX_NAME + 40
    assert entries[0].path.endswith(f"…[{len(name) + 1 - layer_tar.MAX_NAME:,} more characters]")


def test_an_extended_header_too_big_is_one_line() -> None:
    data = layer(("x", "f", b"1"), fmt=tarfile.PAX_FORMAT)
    header = bytearray(512)
    header[0:8] = b"pax_hdr\0"
    size = layer_tar.MAX_EXTENDED + 1
    header[124:136] = f"{size:011o}\0".encode()
    header[156:157] = b"x"
    header[257:263] = b"ustar\0"
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}\0 ".encode()
    with pytest.raises(ArchiveError, match="extended header of") as caught:
        listed(bytes(header) + data)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\x01" * 1024, "is not a tar"),
        (b"\x00" * 148 + b"0000000\0" + b"\x00" * 356, "bad header checksum"),
        (SAMPLE[:700], "ends inside"),
        (gzip.compress(SAMPLE)[:100], "truncated or damaged"),
        (b"\x1f\x8b" + b"\x00" * 600, "truncated or damaged"),
        (zstandard.ZstdCompressor().compress(SAMPLE)[:50], "is empty|ends inside"),
    ],
    ids=[
        "empty",
        "not-a-tar",
        "bad-checksum",
        "truncated-tar",
        "truncated-gzip",
        "broken-gzip",
        "truncated-zstd",
    ],
)
def test_a_broken_layer_is_one_line(data: bytes, words: str) -> None:
    with pytest.raises(ArchiveError, match=words) as caught:
        listed(data)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("the layer ")


def test_a_blob_that_does_not_match_its_digest_is_refused() -> None:
    wrong = Descriptor("", "sha256:" + hashlib.sha256(b"other").hexdigest(), len(SAMPLE))
    with pytest.raises(ArchiveError, match="does not match its digest"):
        read_listing(io.BufferedReader(Checked(io.BytesIO(SAMPLE), wrong)), "the layer")
    right = Descriptor("", "sha256:" + hashlib.sha256(SAMPLE).hexdigest(), len(SAMPLE))
    assert len(read_listing(io.BufferedReader(Checked(io.BytesIO(SAMPLE), right)), "the layer")) == 7


def test_entries_past_the_bound_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layer_tar, "MAX_ENTRIES", 3)
    with pytest.raises(ArchiveError, match="more than 3 entries"):
        listed(SAMPLE)


def test_entries_are_kept_in_columns() -> None:
    """A million entries must fit in memory: no object per entry is kept."""
    listing = read_listing(io.BytesIO(SAMPLE), "the layer")
    assert listing.file_bytes == 11 + 70_000
    assert type(listing.sizes).__name__ == "array"
    assert listing.entry(2).link == "busybox"
    assert listing.tar_bytes <= len(SAMPLE)


def test_a_pax_size_is_the_size_of_the_data_that_follows() -> None:
    """A file of 8 GiB or more has its size in a PAX record (the header's field cannot hold it);
    here a small one written the same way: the entry after it must still be found."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("big")
        info.size = 1000
        info.pax_headers = {"size": "1000", "comment": "x"}
        tar.addfile(info, io.BytesIO(b"z" * 1000))
        tar.addfile(tarfile.TarInfo("after"), io.BytesIO(b""))
    data = bytearray(buffer.getvalue())
    # the real header of "big" follows the PAX header and its one block of records
    header = 512 * 2
    data[header + 124 : header + 136] = b"00000000000\0"  # the field says 0, the PAX record 1000
    data[header + 148 : header + 156] = b" " * 8
    data[header + 148 : header + 156] = f"{sum(data[header : header + 512]):06o}\0 ".encode()
    assert [(e.path, e.size) for e in listed(bytes(data))] == [("/big", 1000), ("/after", 0)]
