"""Unbounded work from small inputs, bounded (issue 15): each blob parsed once, each descriptor
visited once, decompression capped by what was read, directories walked without recursion.

Each case is the small hostile input the issue names; counts (reads of the layout, parses
of a config) show the work, never a clock.
"""

from __future__ import annotations

import bz2
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest
from bench.synthetic_images import write_archive

from image_lineage.cli import main
from image_lineage.errors import ArchiveError
from image_lineage.sources import archive, image_config
from image_lineage.sources.oci import records
from image_lineage.sources.oci.layout import Layout, StreamLayout
from testbed.oci_layout import AMD64, MEDIA_INDEX, OciLayout
from testbed.oci_layout import Image as BuiltImage
from tests.support.tars import tar_of


class CountingLayout:
    """A layout that counts what is read of it, by name."""

    def __init__(self, inner: Layout) -> None:
        self.inner = inner
        self.reads: dict[str, int] = {}

    def has(self, name: str) -> bool:
        return self.inner.has(name)

    def read_bytes(self, name: str) -> bytes:
        self.reads[name] = self.reads.get(name, 0) + 1
        return self.inner.read_bytes(name)

    def size(self, name: str) -> int:
        return self.inner.size(name)

    def compressed(self, name: str) -> bool:
        return self.inner.compressed(name)

    def open(self, name: str) -> Any:
        return self.inner.open(name)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def test_an_index_of_four_levels_of_fifty_identical_entries_is_read_once_each() -> None:
    """index.json and three nested indexes, each listing the next 50 times: 50^4 = 6.25 million
    visits of the one image manifest from a 51 KB tar, if each path were walked."""
    layout = OciLayout()
    image = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"amd64"})
    entry = layout.add_image(image)
    for _ in range(3):
        index = {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [entry] * 50}
        entry = layout.add_blob(json_bytes(index), MEDIA_INDEX)
    layout.entries = [{**entry, "annotations": {"org.opencontainers.image.ref.name": "demo/fan:1"}}] * 50
    counting = CountingLayout(StreamLayout.read(io.BytesIO(layout.tar_bytes()), "fan"))
    contents = archive.read_layout_contents(counting, "fan")
    assert [i.id for i in contents.images] == [image.config_digest]
    assert max(counting.reads.values()) == 1  # every blob read once
    assert sum(counting.reads.values()) <= 6  # index.json, 3 indexes, the manifest, the config


def test_a_thousand_manifest_json_entries_naming_one_config_parse_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 420 KB ``.tar.gz`` whose 1,000 ``manifest.json`` entries each name one 15 MiB config:
    parsed 1,000 times, days of work at the 16 MiB cap's 400,000 entries."""
    path = tmp_path / "one.tar"
    write_archive(path, 1, roots=1)
    with tarfile.open(path) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    (entry,) = json.loads(files["manifest.json"])
    config = json.loads(files[entry["Config"]])
    config["config"] = {"Labels": {"padding": "x" * (1 << 20)}}  # a big config (1 MiB here)
    files[entry["Config"]] = json_bytes(config)
    files["manifest.json"] = json_bytes([{**entry, "RepoTags": [f"many/copies:{n}"]} for n in range(1000)])
    layout = CountingLayout(StreamLayout.read(io.BytesIO(tar_of(files)), "many"))
    parses: list[bytes] = []

    def counted(raw: bytes, *args: Any, **kwargs: Any) -> Any:
        parses.append(raw)
        return image_config.image_from_config(raw, *args, **kwargs)

    monkeypatch.setattr(records, "image_from_config", counted)
    contents = archive.read_layout_contents(layout, "many")
    (image,) = contents.images
    assert len(image.tags) == 1000
    assert layout.reads[entry["Config"]] == 1
    assert len(parses) == 1


def test_a_bzip2_bomb_of_concatenated_streams_is_refused_early(tmp_path: Path) -> None:
    """A ``.tar.bz2`` of concatenated streams: one tar header naming a huge member, then bzip2
    streams of zeros (64 MiB in 79 bytes each). 1,024 of them are 64 GiB from 80 KB; 32 here
    (2 GiB from 3 KB) already cost the old reader every byte; this one stops near 64 MiB."""
    header = tarfile.TarInfo("blobs/sha256/" + "0" * 64)
    header.size = 32 * (64 << 20) - 1024  # the zero blocks that follow end the archive
    zeros = bz2.compress(bytes(64 << 20))
    path = tmp_path / "bomb.tar.bz2"
    path.write_bytes(bz2.compress(header.tobuf()) + zeros * 32)
    assert path.stat().st_size < 4096
    err = io.StringIO()
    assert main(["tree", "--source", f"archive:{path}"], stdout=io.StringIO(), stderr=err) == 1
    assert "refused as a decompression bomb" in err.getvalue()
    assert err.getvalue().count("\n") == 1


def nested(folder: Path, depth: int) -> None:
    """``folder/d/d/.../d``, ``depth`` deep, made one level at a time (``os.makedirs`` recurses)."""
    parent = os.open(folder, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=parent)
        child = os.open("d", os.O_RDONLY, dir_fd=parent)
        os.close(parent)
        parent = child
    os.close(parent)


def unnest(folder: Path) -> None:
    """Remove what ``nested`` made, deepest first (``shutil.rmtree``, pytest's too, recurses)."""
    fds = [os.open(folder, os.O_RDONLY)]
    while "d" in os.listdir(fds[-1]):  # noqa: PTH208 - by descriptor: the path is too long to name
        fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
    os.close(fds.pop())
    while fds:
        os.rmdir("d", dir_fd=fds[-1])
        os.close(fds.pop())


def test_an_oci_layout_directory_nested_1200_deep_is_one_line(tmp_path: Path) -> None:
    """``RecursionError`` (a traceback) from walking a layout directory nested 1,200 deep."""
    layout = OciLayout()
    image = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"amd64"})
    layout.tag("demo/deep:1", layout.add_image(image))
    folder = tmp_path / "layout"
    with tarfile.open(fileobj=io.BytesIO(layout.tar_bytes())) as tar:
        tar.extractall(folder, filter="data")
    nested(folder, 1200)
    err = io.StringIO()
    try:
        assert main(["tree", "--source", f"archive:{folder}"], stdout=io.StringIO(), stderr=err) == 1
    finally:
        unnest(folder)
    assert "nested more than 16 deep" in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_a_layout_directory_within_the_depth_is_read(tmp_path: Path) -> None:
    layout = OciLayout()
    image = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"amd64"})
    layout.tag("demo/top:1", layout.add_image(image))
    folder = tmp_path / "a" / "layout"
    with tarfile.open(fileobj=io.BytesIO(layout.tar_bytes())) as tar:
        tar.extractall(folder, filter="data")
    nested(folder, 12)
    assert [i.id for i in archive.ArchiveSource(folder).scan().images] == [image.config_digest]


def test_indexes_nested_past_the_depth_are_one_line() -> None:
    layout = OciLayout()
    image = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"amd64"})
    entry = layout.add_image(image)
    for _ in range(5):
        entry = layout.add_blob(
            json_bytes({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [entry]}), MEDIA_INDEX
        )
    layout.tag("demo/deep:1", entry)
    with pytest.raises(ArchiveError, match="indexes nest deeper than 4"):
        archive.read_layout(StreamLayout.read(io.BytesIO(layout.tar_bytes()), "deep"), "deep")
