"""Archives and layouts in the exact shapes other projects write, each read right (issue 14).

Each test builds a file of one real shape, labelled with the project and version whose
output it imitates: apko's index entries with ``artifactType``, Docker 25+ saves with
``"manifests": null``, Docker schema 1, a containers/image ``dir:`` copy, a save from
before Docker 1.10, and artifacts that reuse the image config media type.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from bench.synthetic_images import write_archive

from image_lineage.cli import main
from image_lineage.sources.archive import ArchiveSource
from testbed.oci_layout import AMD64, ARM64, MEDIA_CONFIG, MEDIA_INDEX, MEDIA_MANIFEST, OciLayout
from testbed.oci_layout import Image as BuiltImage
from tests.support.tars import files_of, tar_of

SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def scan(tmp_path: Path, data: bytes, name: str = "layout.tar") -> tuple[Any, ...]:
    path = tmp_path / name
    path.write_bytes(data)
    return ArchiveSource(path).scan().images


def one_line_error(path: Path) -> str:
    err = io.StringIO()
    assert main(["tree", "--source", f"archive:{path}"], stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue().count("\n") == 1, err.getvalue()
    assert "Traceback" not in err.getvalue()
    return err.getvalue()


# ------------------------------------------------------------------------------------ apko


def test_apko_index_entries_with_the_config_type_as_artifact_type_are_images(tmp_path: Path) -> None:
    """apko 0.19 (``apko build``, an OCI layout): every entry of the image index carries
    ``"artifactType": "application/vnd.oci.image.config.v1+json"``; the image-spec allows an
    image manifest's descriptor to name its config type so. They are images, not artifacts."""
    layout = OciLayout()
    images = [BuiltImage.scratch(p).run("apko", {"etc/os-release": str(p).encode()}) for p in (AMD64, ARM64)]
    entries = []
    for image in images:
        descriptor = layout.add_image(image)
        entries.append({**descriptor, "artifactType": MEDIA_CONFIG})
    index = layout.add_blob(
        json_bytes({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": entries}), MEDIA_INDEX
    )
    layout.tag("cgr.dev/chainguard/static:latest", index)
    found = scan(tmp_path, layout.tar_bytes())
    assert sorted(image.platform for image in found) == ["linux/amd64", "linux/arm64"]
    assert {image.id for image in found} == {image.config_digest for image in images}
    assert all(image.index_digest == index["digest"] for image in found)


# ---------------------------------------------------------------------- Docker 25+: null manifests


def test_a_docker_25_save_with_null_manifests_reads_its_manifest_json(tmp_path: Path) -> None:
    """Docker 25.0 ``docker save`` (classic store) writes ``index.json`` with ``"manifests": null``
    beside a valid ``manifest.json`` and ``oci-layout``; earlier releases read it, so must this."""
    plain = tmp_path / "plain.tar"
    write_archive(plain, 3, roots=1)
    files = files_of(plain.read_bytes())
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    files["index.json"] = b'{"schemaVersion":2,"mediaType":"' + MEDIA_INDEX.encode() + b'","manifests":null}'
    assert scan(tmp_path, tar_of(files)) == ArchiveSource(plain).scan().images


def test_null_manifests_with_no_manifest_json_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.tar"
    path.write_bytes(tar_of({"index.json": b'{"schemaVersion":2,"manifests":null}'}))
    assert "no list of manifests" in one_line_error(path)


# ---------------------------------------------------------------------------------- schema 1

SCHEMA1_MANIFEST = {
    "schemaVersion": 1,
    "name": "library/busybox",
    "tag": "1.21",
    "architecture": "amd64",
    "fsLayers": [{"blobSum": "sha256:" + "a3" * 32}],
    "history": [{"v1Compatibility": '{"id":"' + "b4" * 32 + '","created":"2014-10-01T20:46:11Z"}'}],
    "signatures": [
        {
            "header": {"jwk": {"crv": "P-256", "kty": "EC"}, "alg": "ES256"},
            "signature": "c2lnbmF0dXJl",
            "protected": "eyJmb3JtYXRMZW5ndGgiOjE1NX0",
        }
    ],
}


def test_an_oci_layout_naming_a_schema_1_manifest_says_what_it_is(tmp_path: Path) -> None:
    """A Docker schema 1 manifest (registry v2 of 2015, ``...manifest.v1+prettyjws``) copied
    as it is into a layout (``skopeo copy --preserve-digests docker://busybox:1.21 oci:X``)."""
    layout = OciLayout()
    layout.tag("docker.io/library/busybox:1.21", layout.add_blob(json_bytes(SCHEMA1_MANIFEST), SCHEMA1))
    path = tmp_path / "schema1.tar"
    path.write_bytes(layout.tar_bytes())
    line = one_line_error(path)
    assert "Docker schema 1 manifest" in line
    assert "skopeo copy --format oci" in line


# ------------------------------------------------------------------------ containers/image dir:


def dir_copy(folder: Path, manifest: dict[str, Any], blobs: dict[str, bytes]) -> Path:
    """What ``skopeo copy docker://IMAGE dir:FOLDER`` (skopeo 1.14, containers/image 5.29) writes:
    ``manifest.json`` (the image's own manifest), ``version``, and every blob named by its hex."""
    folder.mkdir()
    (folder / "version").write_text("Directory Transport Version: 1.1\n")
    (folder / "manifest.json").write_bytes(json_bytes(manifest))
    for digest, data in blobs.items():
        (folder / digest.removeprefix("sha256:")).write_bytes(data)
    return folder


def test_a_containers_image_dir_copy_is_named_with_what_to_do(tmp_path: Path) -> None:
    image = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"amd64"})
    config = image.config_bytes()
    layer = image.layers[0].blob
    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": digest_of(config)},
        "layers": [{"mediaType": DOCKER_LAYER, "size": len(layer), "digest": digest_of(layer)}],
    }
    folder = dir_copy(tmp_path / "copy", manifest, {digest_of(config): config, digest_of(layer): layer})
    line = one_line_error(folder)
    assert "containers/image 'dir:' copy" in line
    assert f"skopeo copy dir:{folder} oci-archive:IMAGE.tar" in line


def test_a_dir_copy_of_a_schema_1_image_says_both(tmp_path: Path) -> None:
    folder = dir_copy(tmp_path / "old", SCHEMA1_MANIFEST, {})
    line = one_line_error(folder)
    assert "'dir:' copy (its manifest.json holds a Docker schema 1 manifest)" in line
    assert f"skopeo copy --format oci dir:{folder} oci-archive:IMAGE.tar" in line


# ------------------------------------------------------------------------ before Docker 1.10


def test_a_save_from_before_docker_1_10_says_so(tmp_path: Path) -> None:
    """Docker 1.9 ``docker save busybox`` : ``repositories`` and ``<id>/{VERSION,json,layer.tar}``."""
    layer_id = "b4" * 32
    files = {
        "repositories": json_bytes({"busybox": {"latest": layer_id}}),
        f"{layer_id}/VERSION": b"1.0",
        f"{layer_id}/json": json_bytes({"id": layer_id, "created": "2015-10-01T00:00:00Z", "os": "linux"}),
        f"{layer_id}/layer.tar": tar_of({"bin/busybox": b"\x7fELF"}),
    }
    path = tmp_path / "old-save.tar"
    path.write_bytes(tar_of(files))
    line = one_line_error(path)
    assert "a save from before Docker 1.10" in line
    assert "docker save" in line


# ------------------------------------------------- artifacts that reuse the image config type


def reused_config_artifact(layout: OciLayout, config: bytes, layer_type: str, **extra: Any) -> dict[str, Any]:
    config_descriptor = layout.add_blob(config, MEDIA_CONFIG)
    layer = layout.add_blob(b'{"spdxVersion":"SPDX-2.3"}', layer_type)
    layer["annotations"] = {"org.opencontainers.image.title": "sbom.spdx.json"}
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": config_descriptor,
        "layers": [layer],
        **extra,
    }
    return layout.add_blob(json_bytes(manifest), MEDIA_MANIFEST)


@pytest.mark.parametrize(
    ("config", "layer_type", "with_subject"),
    [
        # oras 1.1 ``oras push --config config.json:application/vnd.oci.image.config.v1+json``
        # with an empty ``{}`` config; the file keeps oras's default layer type.
        pytest.param(b"{}", "application/vnd.oci.image.layer.v1.tar", False, id="oras-empty-config"),
        # The same pushed with ``--subject`` (oras attach-like): a referrer of the image.
        pytest.param(b"{}", "application/spdx+json", True, id="empty-config-with-subject"),
        # A non-empty config of the image type, but the layer is no filesystem layer.
        pytest.param(b'{"created":"2024-01-01T00:00:00Z"}', "application/spdx+json", False, id="sbom-layer"),
    ],
)
def test_an_artifact_reusing_the_image_config_type_is_not_an_image(
    tmp_path: Path, config: bytes, layer_type: str, with_subject: bool
) -> None:
    layout = OciLayout()
    image = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"amd64"})
    subject = layout.add_image(image)
    layout.tag("demo/app:1", subject)
    extra = {"subject": {k: subject[k] for k in ("mediaType", "digest", "size")}} if with_subject else {}
    layout.tag("demo/app:sbom", reused_config_artifact(layout, config, layer_type, **extra))
    path = tmp_path / "with-artifact.tar"
    path.write_bytes(layout.tar_bytes())
    found = ArchiveSource(path).scan()
    assert [image.tags for image in found.images] == [("demo/app:1",)]  # no image with 0 layers
    notes = [d for d in found.diagnostics if d.code == "artifacts"]
    assert len(notes) == 1
