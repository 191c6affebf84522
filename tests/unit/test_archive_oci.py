"""OCI layouts as users have them: every platform of an index, artifacts beside images,
directories, a folder on top, Jib's old keys, compressed saves read in one pass.

Layouts are written by ``testbed/oci_layout.py`` (real gzip layers, BuildKit-style
attestations) or by hand from its blobs, so every digest is known.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from bench.synthetic_images import write_archive

from image_lineage.errors import ArchiveError
from image_lineage.lineage import build_lineage
from image_lineage.model import Image
from image_lineage.sources.archive import ArchiveSource, read_layout, read_layout_contents
from image_lineage.sources.oci import layout as layout_module
from image_lineage.sources.oci.layout import StreamLayout
from testbed.oci_layout import (
    AMD64,
    ARM64,
    MEDIA_INDEX,
    MEDIA_MANIFEST,
    Family,
    OciLayout,
    lineage_family,
)
from testbed.oci_layout import Image as BuiltImage
from tests.support.tars import files_of, tar_of

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
COSIGN_SIG = "application/vnd.dev.cosign.simplesigning.v1+json"
SPDX = "application/spdx+json"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"


@pytest.fixture(scope="module")
def family() -> Family:
    return lineage_family()


def scan_bytes(tmp_path: Path, data: bytes, name: str = "layout.tar") -> tuple[Image, ...]:
    path = tmp_path / name
    path.write_bytes(data)
    return ArchiveSource(path).scan().images


def by_tag_and_platform(images: tuple[Image, ...]) -> dict[tuple[str, str], Image]:
    return {(tag, image.platform): image for image in images for tag in image.tags}


def unpack(data: bytes, folder: Path) -> Path:
    """Write a (trusted, test-made) tar's files into ``folder``."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def blob_json(layout: OciLayout, media_type: str, value: dict[str, Any], **extra: Any) -> dict[str, Any]:
    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return layout.add_blob(raw, media_type, **extra)


def artifact(
    layout: OciLayout, config_type: str, layer_type: str, *, subject: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An OCI artifact manifest: a config of ``config_type``, one layer, maybe a ``subject``."""
    config = layout.add_blob(b"{}", config_type)
    layer = layout.add_blob(b'{"payload": "not an image"}', layer_type)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": config,
        "layers": [layer],
    }
    if subject is not None:
        manifest["subject"] = {k: subject[k] for k in ("mediaType", "digest", "size")}
    return blob_json(layout, MEDIA_MANIFEST, manifest)


# --------------------------------------------------------------------- every platform, one identity


def test_every_platform_of_an_index_is_its_own_record(tmp_path: Path, family: Family) -> None:
    images = scan_bytes(tmp_path, family.tar_bytes())
    found = by_tag_and_platform(images)
    expected = {(tag, platform) for tag, platforms in family.images.items() for platform in platforms}
    assert set(found) == expected  # 10 records: amd64 and arm64 of each index, the arm64-only one, single
    for (tag, platform), image in found.items():
        built = family.images[tag][platform]
        assert image.id == built.config_digest
        assert image.manifest_digest == family.layout.add_image(built)["digest"]
        if tag == "oci/single:1":
            assert (image.index_digest, image.index_platforms) == ("", ())
        else:
            assert image.index_digest == family.targets[tag]
            assert image.index_platforms == tuple((p, True) for p in sorted(family.images[tag]))
    assert not any(image.os == "unknown" for image in images)  # attestations are not records


def test_lineage_is_found_per_platform(tmp_path: Path, family: Family) -> None:
    path = tmp_path / "family.tar"
    path.write_bytes(family.tar_bytes())
    scan = ArchiveSource(path).scan()
    lineage = build_lineage(scan.images, scan.source, scan.diagnostics)
    for node in lineage.nodes():
        tag, platform = node.image.tags[0], node.image.platform
        parent = family.parents[(tag, platform)]
        if parent is None:
            assert node.parent is None
        else:
            assert node.parent == family.images[parent[0]][parent[1]].config_digest


def test_attestations_are_counted_on_the_image_they_refer_to(family: Family) -> None:
    contents = read_layout_contents(StreamLayout.read(io.BytesIO(family.tar_bytes()), "f"), "f")
    attestations = [a for a in contents.artifacts if a.kind == "attestation"]
    assert len(attestations) == 9  # one per platform manifest of every index
    assert all(len(a.images) == 1 for a in attestations)
    notes = {d.image: d.message for d in contents.diagnostics if d.code == "artifacts"}
    assert len(notes) == 9
    assert set(notes.values()) == {"1 attestation refers to this image"}


def test_platforms_listed_directly_in_index_json_are_one_multi_platform_image(tmp_path: Path) -> None:
    layout = OciLayout()
    images = {
        p: BuiltImage.scratch(p).run("ADD rootfs /", {"etc/os": str(p).encode()}) for p in (AMD64, ARM64)
    }
    for image in images.values():
        descriptor = layout.add_image(image)
        layout.tag("demo/direct:1", descriptor)
        layout.entries[-1]["platform"] = image.platform.as_dict()
    found = scan_bytes(tmp_path, layout.tar_bytes())
    assert sorted(image.platform for image in found) == ["linux/amd64", "linux/arm64"]
    assert {image.tags for image in found} == {("demo/direct:1",)}
    assert len({image.index_digest for image in found}) == 1
    assert found[0].index_digest.startswith("sha256:")
    assert found[0].index_platforms == (("linux/amd64", True), ("linux/arm64", True))
    # The same manifests give the same identity again.
    assert scan_bytes(tmp_path, layout.tar_bytes(), "again.tar")[0].index_digest == found[0].index_digest


def test_nested_indexes_keep_every_platform(tmp_path: Path) -> None:
    layout = OciLayout()
    images = {
        p: BuiltImage.scratch(p).run("ADD rootfs /", {"etc/os": str(p).encode()}) for p in (AMD64, ARM64)
    }
    inner = layout.add_index(images.values(), name="demo/nested:1")
    outer = blob_json(
        layout, MEDIA_INDEX, {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [inner]}
    )
    layout.tag("demo/nested:1", outer)
    found = by_tag_and_platform(scan_bytes(tmp_path, layout.tar_bytes()))
    assert set(found) == {("demo/nested:1", "linux/amd64"), ("demo/nested:1", "linux/arm64")}
    assert {image.index_digest for image in found.values()} == {inner["digest"]}


def test_a_platform_not_in_the_layout_is_listed_as_absent(tmp_path: Path) -> None:
    layout = OciLayout()
    images = {
        p: BuiltImage.scratch(p).run("ADD rootfs /", {"etc/os": str(p).encode()}) for p in (AMD64, ARM64)
    }
    index = layout.add_index(images.values(), attestations=False)
    layout.tag("demo/pulled:1", index)
    arm = layout.add_image(images[ARM64])
    del layout.blobs[arm["digest"]]  # a save of a pulled image keeps the host's platform only
    (image,) = scan_bytes(tmp_path, layout.tar_bytes())
    assert image.platform == "linux/amd64"
    assert image.index_platforms == (("linux/amd64", True), ("linux/arm64", False))


# ------------------------------------------------------------------------- artifacts are not images


def test_signatures_sboms_and_charts_are_not_images() -> None:
    layout = OciLayout()
    app = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"amd64"})
    subject = layout.add_image(app)
    layout.tag("demo/app:1", subject)
    hexdigest = subject["digest"].removeprefix("sha256:")
    layout.tag(
        f"demo/app:sha256-{hexdigest}.sig",
        artifact(layout, "application/vnd.oci.image.config.v1+json", COSIGN_SIG),
    )
    layout.tag("demo/app:sbom", artifact(layout, EMPTY_CONFIG, SPDX, subject=subject))
    layout.tag("charts/web:0.1.0", artifact(layout, HELM_CONFIG, HELM_CHART))
    contents = read_layout_contents(StreamLayout.read(io.BytesIO(layout.tar_bytes()), "l"), "l")
    assert [image.tags for image in contents.images] == [("demo/app:1",)]  # no fake root, no artifact tags
    kinds = {a.kind: a for a in contents.artifacts}
    assert set(kinds) == {"signature", "sbom", "helm chart"}
    assert kinds["signature"].images == kinds["sbom"].images == (app.config_digest,)
    assert kinds["helm chart"].images == ()
    notes = {d.image: d.message for d in contents.diagnostics if d.code == "artifacts"}
    assert notes == {
        app.config_digest: "1 SBOM, 1 signature refer to this image",
        None: "1 Helm chart in the archive refers to no image here (not images, not shown)",
    }


def test_an_artifact_inside_an_index_is_not_a_platform(tmp_path: Path) -> None:
    layout = OciLayout()
    image = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"amd64"})
    subject = layout.add_image(image)
    sbom = artifact(layout, EMPTY_CONFIG, SPDX, subject=subject)
    sbom["platform"] = {"os": "linux", "architecture": "amd64"}  # some tools say so
    index = {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [subject, sbom]}
    layout.tag("demo/with-sbom:1", blob_json(layout, MEDIA_INDEX, index))
    (found,) = scan_bytes(tmp_path, layout.tar_bytes())
    assert found.index_platforms == (("linux/amd64", True),)


# ------------------------------------------------------------------------ directories, folder on top


def test_an_oci_layout_directory_is_read(tmp_path: Path, family: Family) -> None:
    folder = unpack(family.tar_bytes(), tmp_path / "layout")
    from_folder = ArchiveSource(folder).scan().images
    assert from_folder == scan_bytes(tmp_path, family.tar_bytes())


def test_a_directory_link_out_of_the_layout_is_refused(tmp_path: Path, family: Family) -> None:
    folder = unpack(family.tar_bytes(), tmp_path / "layout")
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    index = json.loads((folder / "index.json").read_text())
    target = folder / "blobs" / "sha256" / index["manifests"][0]["digest"].removeprefix("sha256:")
    target.unlink()
    target.symlink_to(outside)
    with pytest.raises(ArchiveError, match="unsafe entry name"):
        ArchiveSource(folder).scan()


def test_a_layout_tarred_with_its_folder_on_top_is_found(tmp_path: Path, family: Family) -> None:
    nested = tar_of({f"layout/{name}": data for name, data in files_of(family.tar_bytes()).items()})
    assert scan_bytes(tmp_path, nested) == scan_bytes(tmp_path, family.tar_bytes(), "flat.tar")


def test_two_folders_on_top_are_not_guessed_between(tmp_path: Path, family: Family) -> None:
    files = files_of(family.tar_bytes())
    both = tar_of({f"{top}/{name}": data for top in ("a", "b") for name, data in files.items()})
    with pytest.raises(ArchiveError, match=r"neither manifest\.json nor index\.json"):
        scan_bytes(tmp_path, both)


# ----------------------------------------------------------------------- docker save, Jib, sizes


def test_jib_lowercase_manifest_keys_are_read(tmp_path: Path) -> None:
    path = tmp_path / "docker.tar"
    write_archive(path, 3, roots=1)
    files = files_of(path.read_bytes())
    manifest = json.loads(files["manifest.json"])
    files["manifest.json"] = json.dumps(
        [{"config": m["Config"], "repoTags": m["RepoTags"], "layers": m["Layers"]} for m in manifest]
    ).encode()
    jib = scan_bytes(tmp_path, tar_of(files), "jib.tar")
    assert jib == ArchiveSource(path).scan().images


def test_sizes_say_whether_layers_are_compressed(tmp_path: Path, family: Family) -> None:
    path = tmp_path / "docker.tar"
    write_archive(path, 2, roots=1)
    assert {image.size_kind for image in ArchiveSource(path).scan().images} == {"tar"}
    assert {image.size_kind for image in scan_bytes(tmp_path, family.tar_bytes())} == {"compressed"}


def test_a_save_with_index_and_manifest_merges_by_config_digest(tmp_path: Path) -> None:
    """Docker 25+ and the containerd store write both; ``manifest.json`` names one platform."""
    docker_family = lineage_family(docker_platform=AMD64)
    found = by_tag_and_platform(scan_bytes(tmp_path, docker_family.tar_bytes()))
    assert len(found) == 10
    assert found[("oci/base:1", "linux/arm64")].index_platforms == (
        ("linux/amd64", True),
        ("linux/arm64", True),
    )


# --------------------------------------------------------------------- compressed saves, one pass


class OneWay(io.RawIOBase):
    """A pipe-like stream: read only, no seek, no tell."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(min(len(buffer), 65536))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_gzip_save_is_read_in_one_pass(
    tmp_path: Path, family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "family.tar.gz"
    path.write_bytes(gzip.compress(family.tar_bytes()))
    expected = scan_bytes(tmp_path, family.tar_bytes())

    def no_random_access(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a compressed archive was opened for random access")

    monkeypatch.setattr(layout_module, "TarLayout", no_random_access)
    assert ArchiveSource(path).scan().images == expected


def test_a_stream_with_no_seek_reads_like_the_file(tmp_path: Path, family: Family) -> None:
    for data in (family.tar_bytes(), gzip.compress(family.tar_bytes())):
        stream = io.BufferedReader(OneWay(data))
        images, _ = read_layout(StreamLayout.read(stream, "engine"), "engine")
        assert images == scan_bytes(tmp_path, family.tar_bytes())


def test_a_stream_keeps_only_small_files(family: Family) -> None:
    layout = StreamLayout.read(io.BytesIO(family.tar_bytes()), "f")
    kept = sum(len(e.data) for e in layout._entries.values() if e.data is not None)
    layer_bytes = sum(
        len(layer.blob) for tag in family.images.values() for i in tag.values() for layer in i.layers
    )
    assert kept < layer_bytes / 5  # configs, manifests, indexes: not the layers


def test_a_stream_holding_too_much_small_json_is_refused(
    family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layout_module, "MAX_KEPT_BYTES", 1000)
    with pytest.raises(ArchiveError, match="small files"):
        StreamLayout.read(io.BytesIO(family.tar_bytes()), "f")


def test_a_truncated_gzip_stream_is_one_error(family: Family) -> None:
    packed = gzip.compress(family.tar_bytes())
    with pytest.raises(ArchiveError, match="truncated or damaged"):
        StreamLayout.read(io.BytesIO(packed[: len(packed) // 2]), "half")
