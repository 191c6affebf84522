"""The OCI core on its own: typed descriptors from hostile JSON, the media-type rules, the
blob-source interface (batches, streams, digests) and the walker over an in-memory source."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

import pytest

from image_lineage.errors import ArchiveError, LineageError
from image_lineage.sources.oci import media, walk
from image_lineage.sources.oci.blobs import ABSENT, DigestMismatch, Unread, Want
from image_lineage.sources.oci.descriptor import (
    Descriptor,
    Malformed,
    Platform,
    parse_descriptor,
    parse_index,
    parse_manifest,
)
from image_lineage.sources.oci.layout import DirectoryLayout, LayoutBlobs, StreamLayout, TarLayout
from testbed.oci_layout import AMD64, ARM64, MEDIA_CONFIG, MEDIA_INDEX, MEDIA_MANIFEST, OciLayout
from testbed.oci_layout import Image as BuiltImage

DIGEST = "sha256:" + "ab" * 32
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

# ------------------------------------------------------------------------------ descriptors


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("sha256:x", "should be a descriptor", id="a-string"),
        pytest.param({"digest": 7}, "no usable digest", id="digest-a-number"),
        pytest.param({"digest": "sha256:../../etc/passwd"}, "no usable digest", id="digest-a-path"),
        pytest.param({"digest": "sha256:ab/cd"}, "no usable digest", id="digest-with-slash"),
        pytest.param({"digest": DIGEST, "size": "12"}, "not a count of bytes", id="size-a-string"),
        pytest.param({"digest": DIGEST, "size": -1}, "not a count of bytes", id="size-negative"),
        pytest.param({"digest": DIGEST, "size": True}, "not a count of bytes", id="size-a-bool"),
    ],
)
def test_a_descriptor_with_wrong_types_is_one_line(value: object, reason: str) -> None:
    with pytest.raises(Malformed, match=reason) as caught:
        parse_descriptor(value, "entry 0")
    assert "\n" not in str(caught.value)


def test_fields_of_the_wrong_type_are_left_out_not_trusted() -> None:
    found = parse_descriptor(
        {
            "mediaType": 5,
            "digest": DIGEST,
            "platform": "linux/amd64",
            "annotations": {"a": "b", "n": 3},
            "artifactType": ["x"],
            "urls": ["https://x", 4],
        },
        "entry",
    )
    assert found == Descriptor("", DIGEST, 0, None, (("a", "b"),), "", ("https://x",))


def test_index_entries_that_are_not_descriptors_are_skipped_with_their_reason() -> None:
    index = parse_index({"manifests": [{"digest": DIGEST}, "junk", {"digest": 1}]}, "index.json")
    assert [d.digest for d in index.manifests] == [DIGEST]
    assert index.skipped == (
        "index.json, entry 1 should be a descriptor (an object)",
        "index.json, entry 2 has no usable digest",
    )


def test_a_manifest_without_config_or_with_layers_of_the_wrong_type_is_malformed() -> None:
    with pytest.raises(Malformed, match="lacks its config or layers"):
        parse_manifest({"schemaVersion": 2, "layers": []}, "m")
    with pytest.raises(Malformed, match="lacks its config or layers"):
        parse_manifest({"schemaVersion": 2, "config": {"digest": DIGEST}, "layers": {}}, "m")


def test_a_bad_subject_names_nothing() -> None:
    manifest = parse_manifest({"config": {"digest": DIGEST}, "layers": [], "subject": "x"}, "m")
    assert manifest.subject is None


# ------------------------------------------------------------------------------ media rules


def manifest(config_type: str = MEDIA_CONFIG, layers: Sequence[str] = (LAYER,), **extra: Any) -> Any:
    value = {
        "schemaVersion": 2,
        "config": {"mediaType": config_type, "digest": extra.pop("config_digest", DIGEST), "size": 9},
        "layers": [{"mediaType": t, "digest": DIGEST, "size": 1} for t in layers],
        **extra,
    }
    return parse_manifest(value, "m")


ENTRY = Descriptor(MEDIA_MANIFEST, DIGEST)


@pytest.mark.parametrize(
    ("descriptor", "found", "kind"),
    [
        pytest.param(ENTRY, manifest(), None, id="image"),
        pytest.param(ENTRY, manifest(layers=()), None, id="image-without-layers"),
        pytest.param(ENTRY, manifest(config_type=""), None, id="old-config-without-type"),
        pytest.param(
            Descriptor(MEDIA_MANIFEST, DIGEST, artifact_type=MEDIA_CONFIG), manifest(), None, id="apko"
        ),
        pytest.param(ENTRY, manifest(artifactType=MEDIA_CONFIG), None, id="own-artifact-type-the-config"),
        pytest.param(ENTRY, manifest(config_digest=media.EMPTY_JSON_DIGEST), "artifact", id="empty-config"),
        pytest.param(ENTRY, manifest(layers=("application/spdx+json",)), "sbom", id="sbom-layer"),
        pytest.param(
            ENTRY, manifest(artifactType="application/vnd.example+type"), "artifact", id="other-type"
        ),
        pytest.param(ENTRY, manifest(config_type=media.HELM_CONFIG), "helm chart", id="helm"),
        pytest.param(
            Descriptor(MEDIA_MANIFEST, DIGEST, platform=Platform("unknown", "unknown")),
            None,
            "attestation",
            id="buildkit-attestation",
        ),
        pytest.param(
            Descriptor(MEDIA_MANIFEST, DIGEST, artifact_type="application/vnd.dev.sigstore.bundle+json"),
            None,
            "signature",
            id="referrer-not-at-hand",
        ),
        pytest.param(ENTRY, None, None, id="image-not-at-hand"),
    ],
)
def test_what_is_an_image_and_what_an_artifact(descriptor: Descriptor, found: Any, kind: str | None) -> None:
    assert media.artifact_kind(descriptor, found) == kind


def test_layer_media_types() -> None:
    for layer_type in (
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    ):
        assert media.is_layer_type(layer_type)
    assert not media.is_layer_type("application/vnd.in-toto+json")
    assert not media.is_layer_type(media.OCI_CONFIG)


# -------------------------------------------------------------------------- blob sources


@pytest.fixture(scope="module")
def small() -> tuple[OciLayout, BuiltImage]:
    layout = OciLayout()
    image = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"amd64" * 1000})
    layout.tag("demo/app:1", layout.add_image(image))
    return layout, image


def layer_want(layout: OciLayout, image: BuiltImage) -> Want:
    digest = image.layers[0].digest
    return Want(Descriptor(LAYER, digest, len(layout.blobs[digest])))


def test_a_layer_streams_from_a_tar_and_a_directory(
    tmp_path: Path, small: tuple[OciLayout, BuiltImage]
) -> None:
    layout, image = small
    want = layer_want(layout, image)
    data = layout.tar_bytes()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        with LayoutBlobs(TarLayout(tar, "t")).open(want) as stream:
            assert stream.read() == image.layers[0].blob
        tar.extractall(tmp_path / "dir", filter="data")
    with LayoutBlobs(DirectoryLayout(tmp_path / "dir", "d")).open(want) as stream:
        chunks = iter(lambda: stream.read(100), b"")
        assert b"".join(chunks) == image.layers[0].blob


def test_a_streamed_layer_that_does_not_match_its_digest_is_refused_at_its_end(
    tmp_path: Path, small: tuple[OciLayout, BuiltImage]
) -> None:
    layout, image = small
    want = layer_want(layout, image)
    with tarfile.open(fileobj=io.BytesIO(layout.tar_bytes())) as tar:
        tar.extractall(tmp_path / "dir", filter="data")
    blob = tmp_path / "dir" / want.descriptor.blob_path
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    blobs = LayoutBlobs(DirectoryLayout(tmp_path / "dir", "d"))
    with blobs.open(want) as stream, pytest.raises(DigestMismatch, match="does not match its digest"):
        stream.read()


def test_a_one_pass_stream_cannot_give_a_layer_back(small: tuple[OciLayout, BuiltImage]) -> None:
    layout, image = small
    blobs = LayoutBlobs(StreamLayout.read(io.BytesIO(layout.tar_bytes()), "pipe"))
    with pytest.raises(ArchiveError, match="went by in a one-pass stream"):
        blobs.open(layer_want(layout, image))


def test_read_many_says_what_a_layout_lacks(small: tuple[OciLayout, BuiltImage]) -> None:
    layout, image = small
    blobs = LayoutBlobs(StreamLayout.read(io.BytesIO(layout.tar_bytes()), "pipe"))
    config = Descriptor(MEDIA_CONFIG, image.config_digest)
    found = blobs.read_many([Want(config), Want(Descriptor(MEDIA_CONFIG, DIGEST))], 1 << 20)
    assert found[image.config_digest] == image.config_bytes()
    missing = found[DIGEST]
    assert isinstance(missing, Unread)
    assert missing.code == ABSENT
    too_small = blobs.read_many([Want(Descriptor(MEDIA_CONFIG, image.config_digest, 10_000))], 100)
    assert isinstance(too_small[image.config_digest], Unread)


# ------------------------------------------------------------------------------- the walker


class MemoryBlobs:
    """Blobs in a dict: the walker's view of any source, with every batch it asked for."""

    def __init__(self, blobs: Mapping[str, bytes]) -> None:
        self.blobs = blobs
        self.batches: list[list[str]] = []

    def read_many(self, wanted: Sequence[Want], limit: int) -> Mapping[str, bytes | Unread]:
        self.batches.append([w.descriptor.digest for w in wanted])
        return {
            w.descriptor.digest: self.blobs.get(w.descriptor.digest) or Unread(ABSENT, "not here")
            for w in wanted
        }

    def open(self, want: Want) -> AbstractContextManager[IO[bytes]]:
        return io.BytesIO(self.blobs[want.descriptor.digest])


def root(descriptor: dict[str, Any], *names: str) -> walk.Root:
    return walk.Root(parse_descriptor(descriptor, "root"), names)


def index_of(layout: OciLayout, entries: list[dict[str, Any]]) -> dict[str, Any]:
    raw = json.dumps({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": entries}).encode()
    return layout.add_blob(raw, MEDIA_INDEX)


def test_the_walker_reads_level_by_level_each_digest_once() -> None:
    layout = OciLayout()
    images = [BuiltImage.scratch(p).run("ADD rootfs /", {"os": str(p).encode()}) for p in (AMD64, ARM64)]
    manifests = [layout.add_image(image) for image in images]
    inner = index_of(layout, manifests * 3)
    outer = index_of(layout, [inner] * 20)
    source = MemoryBlobs(layout.blobs)
    walked = walk.walk(source, [root(outer, "a:1"), root(inner, "b:1"), root(manifests[0], "c:1")])
    assert len(source.batches) == 3  # the roots, the inner index's other entry, the configs
    requested = [d for batch in source.batches for d in batch]
    assert len(requested) == len(set(requested))  # every digest asked for once
    groups = {g.index_digest: g for g in walked.groups}
    inner_group = groups[inner["digest"]]
    assert [m.descriptor.digest for m in inner_group.members] == [m["digest"] for m in manifests]
    assert set(inner_group.members[0].names) == {"a:1", "b:1"}  # names flow down from every root
    direct = [g for g in walked.groups if g.direct]
    assert [[m.names for m in g.members] for g in direct] == [[("c:1",)]]
    assert not walked.problems


def test_a_blob_that_does_not_match_its_digest_is_a_problem_whatever_the_source() -> None:
    layout = OciLayout()
    image = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"os": b"amd64"})
    descriptor = layout.add_image(image)
    tampered = dict(layout.blobs)
    tampered[image.config_digest] = image.config_bytes() + b" "
    walked = walk.walk(MemoryBlobs(tampered), [root(descriptor, "x:1")])
    (problem,) = walked.problems
    assert problem.code == "digest_mismatch"
    assert problem.digest == image.config_digest
    assert walked.groups[0].members[0].config is None


def test_a_walk_past_its_bound_on_descriptors_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    layout = OciLayout()
    images = [BuiltImage.scratch(AMD64).run(f"RUN {n}", {"n": str(n).encode()}) for n in range(5)]
    index = index_of(layout, [layout.add_image(image) for image in images])
    monkeypatch.setattr(walk, "MAX_DESCRIPTORS", 4)
    with pytest.raises(LineageError, match="more than 4 distinct manifests and indexes"):
        walk.walk(MemoryBlobs(layout.blobs), [root(index, "x:1")])


def test_a_schema_1_manifest_is_a_problem_naming_it() -> None:
    raw = json.dumps({"schemaVersion": 1, "name": "library/busybox", "fsLayers": []}).encode()
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    walked = walk.walk(MemoryBlobs({digest: raw}), [walk.Root(Descriptor("", digest), ("busybox:1",))])
    (problem,) = walked.problems
    assert problem.is_root
    assert "Docker schema 1 manifest" in problem.reason
