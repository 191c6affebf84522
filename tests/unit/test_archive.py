"""The archive reader on archives made here: a valid one, and hostile variants of it.

``bench/synthetic_images.write_archive`` writes a real ``docker save``-format archive
(manifest.json, configs, layer tars); the integration tests read archives that dockerd
and skopeo wrote. Every hostile variant must give one ``ArchiveError``, nothing else.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from bench.synthetic_images import write_archive
from hypothesis import given, settings
from hypothesis import strategies as st

from image_lineage.errors import ArchiveError
from image_lineage.lineage import build_lineage
from image_lineage.sources.archive import ArchiveSource
from image_lineage.sources.oci import layout as layout_module


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("archive") / "valid.tar"
    write_archive(path, 6, roots=2)
    return path.read_bytes()


Members = list[tuple[tarfile.TarInfo, bytes]]


def members(data: bytes) -> Members:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar]  # type: ignore[union-attr]


def repack(items: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in items:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def read(tmp_path: Path, data: bytes):  # type: ignore[no-untyped-def]
    path = tmp_path / "archive.tar"
    path.write_bytes(data)
    return ArchiveSource(path).scan()


def test_a_valid_archive_reads_into_a_family(tmp_path: Path, valid: bytes) -> None:
    scan = read(tmp_path, valid)
    assert len(scan.images) == 6
    lineage = build_lineage(scan.images, scan.source, scan.diagnostics)
    assert len(lineage.roots()) == 2
    assert all(n.parent_verified for n in lineage.nodes())
    assert [d.code for d in scan.diagnostics] == ["archive_sizes"]
    child = next(n for n in lineage.nodes() if n.parent is not None)
    assert child.added_size > 0
    assert scan.source.kind == "archive"


def with_member(name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE, link: str = "") -> Callable:  # type: ignore[type-arg]
    def mutate(items: list[tuple[tarfile.TarInfo, bytes]]) -> list[tuple[tarfile.TarInfo, bytes]]:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = link
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        return [*items, (info, data)]

    return mutate


def replace_member(name: str, data: bytes) -> Callable:  # type: ignore[type-arg]
    def mutate(items: list[tuple[tarfile.TarInfo, bytes]]) -> list[tuple[tarfile.TarInfo, bytes]]:
        out = []
        for info, content in items:
            if info.name == name:
                replacement = tarfile.TarInfo(name)
                replacement.size = len(data)
                out.append((replacement, data))
            else:
                out.append((info, content))
        return out

    return mutate


def link_layer(target: str) -> Callable:  # type: ignore[type-arg]
    """Replace the first layer tar the manifest names by a symlink to ``target``."""

    def mutate(items: list[tuple[tarfile.TarInfo, bytes]]) -> list[tuple[tarfile.TarInfo, bytes]]:
        manifest = json.loads(next(d for i, d in items if i.name == "manifest.json"))
        layer = manifest[0]["Layers"][0]
        out = [(i, d) for i, d in items if i.name != layer]
        info = tarfile.TarInfo(layer)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        return [*out, (info, b"")]

    return mutate


HOSTILE = [
    pytest.param(
        lambda items: [(i, d) for i, d in items if i.name != "manifest.json"],
        "neither manifest.json nor index.json",
        id="no-manifest",
    ),
    pytest.param(with_member("../evil"), "unsafe entry name '../evil'", id="dot-dot"),
    pytest.param(with_member("a/../../evil"), "unsafe entry name", id="dot-dot-inside"),
    pytest.param(with_member("/etc/cron.d/evil"), "unsafe entry name '/etc/cron.d/evil'", id="absolute"),
    pytest.param(with_member("manifest.json", b"[]"), "contains 'manifest.json' twice", id="duplicate"),
    pytest.param(link_layer("../../../etc/passwd"), "unsafe entry name", id="symlink-out"),
    pytest.param(link_layer("loop-a"), "/loop-a', which its manifest names", id="symlink-dangling"),
    pytest.param(
        lambda items: link_layer("../loop")(with_member("loop", kind=tarfile.SYMTYPE, link="loop")(items)),
        "round in circles",
        id="symlink-loop",
    ),
    pytest.param(replace_member("manifest.json", b"[" * 100_000), "not valid JSON", id="deep-json"),
    pytest.param(
        replace_member("manifest.json", b'{"Config": 1}'),
        "manifest.json should be a list",
        id="manifest-type",
    ),
    pytest.param(
        replace_member("manifest.json", b'[{"Config": 7, "Layers": []}]'),
        "needs Config, RepoTags and Layers",
        id="entry-types",
    ),
    pytest.param(
        replace_member("manifest.json", b'[{"Config": "missing.json", "RepoTags": [], "Layers": []}]'),
        "has no entry 'missing.json'",
        id="missing-config",
    ),
    pytest.param(
        replace_member("manifest.json", b"not json"), "manifest.json' is not valid JSON", id="bad-json"
    ),
]


@pytest.mark.parametrize(("mutate", "message"), HOSTILE)
def test_hostile_archives_are_refused_with_one_reason(
    tmp_path: Path, valid: bytes, mutate: Callable[[Members], Members], message: str
) -> None:
    data = repack(mutate(members(valid)))
    with pytest.raises(ArchiveError, match=message.replace("(", r"\(").replace("[", r"\[")):
        read(tmp_path, data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.tar"]  # nothing extracted


@pytest.mark.parametrize(("mutate", "message"), HOSTILE)
def test_hostile_archives_are_refused_when_streamed_too(
    tmp_path: Path, valid: bytes, mutate: Callable[[Members], Members], message: str
) -> None:
    """A gzip archive is read in one pass by another reader: the same rules, the same reasons."""
    path = tmp_path / "archive.tar.gz"
    path.write_bytes(gzip.compress(repack(mutate(members(valid)))))
    with pytest.raises(ArchiveError, match=message.replace("(", r"\(").replace("[", r"\[")):
        ArchiveSource(path).scan()


def test_an_oversized_config_is_not_read(
    tmp_path: Path, valid: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layout_module, "MAX_JSON_BYTES", 64)
    with pytest.raises(ArchiveError, match="more than a manifest or config"):
        read(tmp_path, valid)


@pytest.mark.parametrize(
    "data", [b"", b"garbage" * 100, b"\x1f\x8b\x08garbage"], ids=["empty", "garbage", "bad-gzip"]
)
def test_not_a_tar(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ArchiveError):
        read(tmp_path, data)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="No archive at"):
        ArchiveSource(tmp_path / "nope.tar").scan()


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_truncated_or_corrupted_archives_never_crash(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "valid.tar"
    write_archive(path, 3, roots=1)
    raw = bytearray(path.read_bytes())
    cut = data.draw(st.integers(0, len(raw)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)), max_size=8))
    for offset, value in flips:
        raw[offset] = value
    path.write_bytes(bytes(raw[:cut]))
    try:
        scan = ArchiveSource(path).scan()
    except ArchiveError:
        return
    build_lineage(scan.images, scan.source, scan.diagnostics)


# --------------------------------------------------------------------------- compressed archives


def test_gzip_bzip2_and_xz_archives_are_read_as_they_are(tmp_path: Path, valid: bytes) -> None:
    """tarfile reads these itself: the same images as the plain tar, nothing to decompress first."""
    plain = {image.id for image in read(tmp_path, valid).images}
    for name, pack in (("gz", gzip.compress), ("bz2", bz2.compress), ("xz", lzma.compress)):
        path = tmp_path / f"archive.tar.{name}"
        path.write_bytes(pack(valid))
        assert {image.id for image in ArchiveSource(path).scan().images} == plain, name


def zstd_frame(data: bytes, tmp_path: Path) -> bytes:
    """``data`` as a zstd frame: by the zstd program when there is one, else a raw-block frame."""
    program = shutil.which("zstd")
    if program:
        source = tmp_path / "plain.tar"
        source.write_bytes(data)
        subprocess.run([program, "-q", "-f", str(source)], check=True)
        return (tmp_path / "plain.tar.zst").read_bytes()
    # Magic, a frame header (single segment, 4-byte content size), then raw blocks.
    frame = b"\x28\xb5\x2f\xfd" + bytes([0xA0]) + len(data).to_bytes(4, "little")
    for start in range(0, len(data), 1 << 17):
        block = data[start : start + (1 << 17)]
        last = start + len(block) >= len(data)
        frame += ((len(block) << 3) | int(last)).to_bytes(3, "little") + block
    return frame


def zipped(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("images.tar", data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("pack", "expected"),
    [
        pytest.param(
            "zstd",
            r"is zstd-compressed, which is not read directly; unpack it first \(zstd -d images\.tar\.zst\)",
            id="zstd",
        ),
        pytest.param(
            "zip",
            r"is a zip file, which is not read directly; unpack it first \(unzip images\.zip\)",
            id="zip",
        ),
    ],
)
def test_zstd_and_zip_archives_get_one_line_naming_the_compression(
    tmp_path: Path, valid: bytes, pack: str, expected: str
) -> None:
    data = zstd_frame(valid, tmp_path) if pack == "zstd" else zipped(valid)
    path = tmp_path / ("images.tar.zst" if pack == "zstd" else "images.zip")
    path.write_bytes(data)
    with pytest.raises(ArchiveError, match=expected) as caught:
        ArchiveSource(path).scan()
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("pack", "name"),
    [
        pytest.param(lzma.compress, "xz", id="xz"),
        pytest.param(bz2.compress, "bzip2", id="bzip2"),
        pytest.param(gzip.compress, "gzip", id="gzip"),
    ],
)
def test_a_compressed_file_that_holds_no_tar_names_its_compression(
    tmp_path: Path, pack: Callable[[bytes], bytes], name: str
) -> None:
    path = tmp_path / "notes.txt.packed"
    path.write_bytes(pack(b"these are not the images you are looking for\n" * 100))
    with pytest.raises(ArchiveError, match=rf"is {name}-compressed, but no tar archive can be read from it"):
        ArchiveSource(path).scan()


def test_a_truncated_xz_archive_names_its_compression(tmp_path: Path, valid: bytes) -> None:
    packed = lzma.compress(valid)
    path = tmp_path / "images.tar.xz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ArchiveError, match=r"xz-compressed"):
        ArchiveSource(path).scan()


def test_a_directory_that_holds_no_layout_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an image\n")
    with pytest.raises(ArchiveError, match=r"neither manifest\.json nor index\.json") as caught:
        ArchiveSource(tmp_path).scan()
    assert "\n" not in str(caught.value)


def test_a_deep_directory_that_holds_no_layout_says_so_not_its_depth(tmp_path: Path) -> None:
    # archive:/tmp said "has folders nested more than 16 deep", after walking all of it.
    deep = tmp_path.joinpath(*(f"d{n}" for n in range(20)))
    deep.mkdir(parents=True)
    (tmp_path / "notes.txt").write_text("not an image\n")
    with pytest.raises(ArchiveError, match=r"neither manifest\.json nor index\.json"):
        ArchiveSource(tmp_path).scan()


def test_a_layout_in_the_one_folder_of_a_directory_is_still_read(tmp_path: Path, valid: bytes) -> None:
    with tarfile.open(fileobj=io.BytesIO(valid)) as tar:
        tar.extractall(tmp_path / "top", filter="data")
    assert ArchiveSource(tmp_path).scan().images
