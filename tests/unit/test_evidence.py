"""The base a build recorded, read from provenance and annotations (fixtures recorded from real
BuildKit builds: tests/unit/fixtures/buildkit28-recorded/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from image_lineage.model import BaseEvidence, Image, Scan, SourceInfo
from image_lineage.sources import snapshot
from image_lineage.sources.archive import ArchiveSource
from image_lineage.sources.oci import evidence

RECORDED = Path(__file__).parent / "fixtures" / "buildkit28-recorded"
BASE_DIGEST = "sha256:b1f0885a1eaac1934171c05cfa6a80c34bd13f0f6b081921dbe0cda45611655f"
APP_INDEX = "sha256:6d93710bebf10f140ec9fe63619b847a14eab691ef720027198c0f8c98bc49b9"


def _statement(name: str) -> bytes:
    """The in-toto statement of the recorded image ``name`` (found by its subject's purl)."""
    for blob in (RECORDED / "blobs" / "sha256").iterdir():
        raw = blob.read_bytes()
        if b'"predicateType"' in raw and f"pkg:docker/{name}@".encode() in raw.split(b'"predicate"')[0]:
            return raw
    raise AssertionError(name)


@pytest.fixture(scope="module")
def bases() -> dict[str, BaseEvidence | None]:
    scan = ArchiveSource(RECORDED).scan()
    return {image.tags[0]: image.base for image in scan.images}


def test_each_buildkit_image_names_its_base_from_its_provenance(
    bases: dict[str, BaseEvidence | None],
) -> None:
    assert bases["team/base:1"] is None  # imported: no build, no evidence
    assert bases["team/app:1"] == BaseEvidence("provenance", "team/base:1", BASE_DIGEST)  # v0.2, max
    assert bases["team/min:1"] == BaseEvidence("provenance", "team/app:1", APP_INDEX)  # v0.2, min: an index
    # v1, mode=max, multi-stage: the final stage's base, not the builder's
    assert bases["team/multi:1"] == BaseEvidence("provenance", "team/app:1", APP_INDEX)


def test_provenance_wins_over_annotations_and_annotations_are_read() -> None:
    index = json.loads((RECORDED / "index.json").read_text())
    scan = ArchiveSource(RECORDED).scan()
    annotated = next(i for i in scan.images if "team/annot:1" in i.tags)
    assert annotated.base == BaseEvidence("provenance", "team/base:1", BASE_DIGEST)
    assert index["manifests"]  # the recorded layout is the one read
    manifest = json.loads((RECORDED / "blobs" / "sha256" / annotated.manifest_digest[7:]).read_bytes())
    assert evidence.from_annotations(manifest["annotations"].items()) == BaseEvidence(
        "annotation", "team/base:1", BASE_DIGEST
    )


def test_v1_without_a_build_definition_lists_every_image_as_a_candidate() -> None:
    statement = json.loads(_statement("team/multi"))
    del statement["predicate"]["buildDefinition"]["internalParameters"]  # what mode=min leaves
    found = evidence.from_statement(json.dumps(statement).encode())
    assert found is not None
    assert found.kind == "provenance"
    assert [ref for ref, _ in found.candidates] == ["team/app:1", "team/base:1"]


def test_the_dockerfile_frontend_is_no_base() -> None:
    statement = json.loads(_statement("team/min"))
    predicate = statement["predicate"]
    predicate["materials"].insert(0, {"uri": "pkg:docker/docker/dockerfile@1", "digest": {"sha256": "ab"}})
    predicate["invocation"]["parameters"].setdefault("args", {})["source"] = "docker/dockerfile:1"
    assert evidence.from_statement(json.dumps(statement).encode()) == BaseEvidence(
        "provenance", "team/app:1", APP_INDEX
    )


@pytest.mark.parametrize(
    "raw", [b"", b"[]", b'{"predicateType": "https://slsa.dev/provenance/v1", "predicate": []}', b"{" * 10000]
)
def test_a_statement_of_another_shape_is_no_evidence(raw: bytes) -> None:
    assert evidence.from_statement(raw) is None


def test_snapshots_keep_the_base_and_read_old_files_without_one() -> None:
    base = BaseEvidence("provenance", "team/base:1", BASE_DIGEST, (("team/base:1", BASE_DIGEST), ("b:2", "")))
    scan = Scan(
        SourceInfo("docker", "x"), (Image(id="sha256:" + "1" * 64, base=base), Image(id="sha256:" + "2" * 64))
    )
    back = snapshot.loads(snapshot.dumps(scan))
    assert [i.base for i in back.images] == [base, None]
    document = json.loads(snapshot.dumps(scan))
    assert "base" not in document["images"][1]  # a record without evidence is written as before


def test_a_merged_image_keeps_the_base_that_any_source_read() -> None:
    from image_lineage.sources.merge import merge_scans  # noqa: PLC0415

    base = BaseEvidence("provenance", "team/base:1", BASE_DIGEST)
    engine = Image(id="sha256:" + "1" * 64, tags=("a:1",), history=())  # a classic store: no attestation
    registry = Image(id="sha256:" + "1" * 64, tags=("r/a:1",), size_kind="compressed", base=base)
    scans = [
        Scan(SourceInfo("docker", "unix:///a"), (engine,)),
        Scan(SourceInfo("registry", "http://r"), (registry,)),
    ]
    (merged,) = merge_scans(scans).images
    assert merged.base == base


def test_an_export_cached_before_bases_were_read_is_exported_again() -> None:
    from image_lineage.sources.engine.export import Exported, ExportedPlatform  # noqa: PLC0415

    base = BaseEvidence("annotation", "team/base:1", BASE_DIGEST)
    fresh = Exported("", (ExportedPlatform("linux/amd64", "sha256:" + "2" * 64, "{}", (1,), base),))
    assert Exported.from_json(fresh.as_json()) == fresh
    old = fresh.as_json()
    del old["platforms"][0]["base"]
    assert Exported.from_json(old) is None  # a miss: the export is read again, its evidence with it
