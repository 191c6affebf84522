"""The containerd-store parsing, on what Engines 28.5 and 26.1 answered (tests/unit/fixtures/engine28|26).

The export is the OCI layout ``lineage_family`` writes (the engines' exports hold the same
index, manifests and configs: the recorded ``family.json`` digests are checked against it).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from image_lineage.sources.engine.export import Exported, read_export
from image_lineage.sources.engine_api import (
    api_at_least,
    image_from_containerd,
    image_store,
    listed_platforms,
    platform_name,
    platform_query,
    unpacked_layer_sizes,
)
from testbed.oci_layout import lineage_family

FIXTURES = Path(__file__).parent / "fixtures"
AMD64 = '{"architecture":"amd64","os":"linux"}'


def recorded(engine: str, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"engine{engine}" / f"{name}.json").read_text())
    return loaded


def summary(engine: str, tag: str, *, manifests: bool) -> dict[str, Any]:
    key = "GET /images/json?manifests=1" if manifests else "GET /images/json"
    found: dict[str, Any] = next(
        s for s in recorded(engine, "images")[key] if tag in (s.get("RepoTags") or [])
    )
    return found


@pytest.mark.parametrize("engine", ["28", "26"])
def test_the_containerd_store_is_detected(engine: str) -> None:
    info = next(v for k, v in recorded(engine, "info").items() if k.startswith("GET /info"))
    assert image_store(info) == "containerd"
    assert image_store({"DriverStatus": [["Backing Filesystem", "extfs"]]}) == "classic"
    assert image_store({}) == "classic"


@pytest.mark.parametrize(
    ("version", "wanted", "expected"),
    [("1.51", "1.48", True), ("1.45", "1.47", False), ("1.48", "1.48", True), ("", "1.47", False)],
)
def test_api_versions_compare_as_numbers(version: str, wanted: str, expected: bool) -> None:
    assert api_at_least(version, wanted) is expected


def test_a_platform_is_sent_as_the_json_the_engine_wants() -> None:
    assert platform_query("linux/amd64") == AMD64
    assert platform_query("linux/arm/v7") == '{"architecture":"arm","os":"linux","variant":"v7"}'
    assert platform_name(json.loads(platform_query("linux/arm/v7"))) == "linux/arm/v7"
    assert platform_name({"os": "linux"}) == ""


def test_manifests_name_every_platform_and_leave_attestations_out() -> None:
    listed = listed_platforms(summary("28", "oci/base:1", manifests=True))
    assert listed is not None
    assert set(listed) == {"linux/amd64", "linux/arm64"}
    assert all(entry.available for entry in listed.values())
    assert listed["linux/amd64"].unpacked > 0
    assert listed["linux/arm64"].unpacked == 0  # loaded, not unpacked, on Engine 28
    assert listed_platforms(summary("28", "oci/base:1", manifests=False)) is None
    assert listed_platforms(summary("26", "oci/base:1", manifests=True)) is None  # API 1.45 ignores it


def exported(tag: str) -> Exported:
    family = lineage_family(prefix="oci")
    return read_export(io.BytesIO(family.tar_bytes()), family.targets[tag], "test")


def test_the_export_gives_every_platform_s_config() -> None:
    family = recorded("28", "family")["oci"]
    for tag in ("oci/app:1", "oci/arm-tool:1", "oci/single:1"):
        result = exported(tag)
        written = family[tag]
        assert result.index_digest == ("" if tag == "oci/single:1" else written["target"])
        by_platform = {p.platform: p for p in result.platforms}
        assert set(by_platform) == set(written["platforms"])
        for platform, facts in written["platforms"].items():
            assert list(by_platform[platform].layer_sizes) == facts["layer_blob_sizes"]
        assert Exported.from_json(json.loads(json.dumps(result.as_json()))) == result


@pytest.mark.parametrize("engine", ["28", "26"])
def test_a_record_is_its_config_with_the_engine_s_unpacked_sizes(engine: str) -> None:
    tag = "oci/app:1"
    facts = recorded(engine, "family")["oci"][tag]["platforms"]["linux/amd64"]
    amd64 = next(p for p in exported(tag).platforms if p.platform == "linux/amd64")
    history = next(v for k, v in recorded(engine, "history")[tag].items() if k.endswith("/history"))
    sizes = unpacked_layer_sizes(amd64.config_bytes, history)
    assert sizes == [57344, 32768]  # 4 KiB blocks on disk, as docker history shows
    image = image_from_containerd(
        summary(engine, tag, manifests=False),
        amd64.config_bytes,
        sizes,
        size_kind="unpacked",
        manifest_digest=amd64.manifest_digest,
        index_digest=recorded(engine, "family")["oci"][tag]["target"],
        index_platforms=[("linux/arm64", True), ("linux/amd64", True)],
        disk_size=None,
    )
    assert image.id == facts["config_digest"]
    assert list(image.layers) == facts["diff_ids"]
    assert image.tags == (tag,)
    assert image.platform == "linux/amd64"
    assert image.index_platforms == (("linux/amd64", True), ("linux/arm64", True))
    assert [s.size for s in image.history or () if not s.empty_layer] == [57344, 32768]
    assert image.size == summary(engine, tag, manifests=False)["Size"]


def test_a_platform_that_is_not_unpacked_has_no_unpacked_sizes() -> None:
    tag = "oci/app:1"
    arm64 = next(p for p in exported(tag).platforms if p.platform == "linux/arm64")
    history = next(v for k, v in recorded("28", "history")[tag].items() if "arm64" in k)
    assert unpacked_layer_sizes(arm64.config_bytes, history) is None  # Engine 28 answers 0s
    assert unpacked_layer_sizes(arm64.config_bytes, history[:1]) is None  # rows do not pair up
    assert unpacked_layer_sizes(b"not json", history) is None
