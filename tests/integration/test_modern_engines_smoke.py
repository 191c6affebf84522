"""Smoke test for the modern-engine harness (testbed/engines.py, testbed/oci_layout.py).

Each engine (28.5 from Debian sid, 26.1 from trixie) starts with the containerd image store,
loads the multi-platform OCI family written in Python and a ``docker save`` from Engine
20.10, and lists them; read with plain GET requests and the docker CLI, not with the
project's scanner.  Without root or network the tests are skipped with the reason, except
under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from testbed.engines import SNAPSHOTTER_DRIVER_TYPE, ModernEngine
from testbed.oci_layout import Family, lineage_family

pytestmark = pytest.mark.docker

#: The API version each engine speaks (fixed by the engine's minor version).
EXPECTED_API = {"28": "1.51", "26": "1.45"}
HOST_PLATFORM = "linux/amd64"


def _api_at_least(engine: ModernEngine, version: str) -> bool:
    def as_tuple(v: str) -> tuple[int, ...]:
        return tuple(int(part) for part in v.split("."))

    return as_tuple(engine.api_version) >= as_tuple(version)


def _load(engine: ModernEngine, family: Family, folder: Path) -> str:
    tar = folder / "family.tar"
    tar.write_bytes(family.tar_bytes())
    return engine.docker("load", "-i", str(tar)).stdout


def _tags(engine: ModernEngine) -> dict[str, dict[str, Any]]:
    return {tag: summary for summary in engine.get("/images/json") for tag in summary.get("RepoTags") or []}


@pytest.fixture(scope="module")
def family() -> Family:
    return lineage_family(prefix="smoke")


@pytest.fixture(scope="module")
def loaded(modern_engine: ModernEngine, family: Family, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The engine with the OCI family loaded; ``docker load`` said so for every tag."""
    out = _load(modern_engine, family, tmp_path_factory.mktemp("oci"))
    for tag in family.targets:
        assert f"Loaded image: {tag}" in out
    return modern_engine


def test_engine_runs_with_the_containerd_store(modern_engine: ModernEngine) -> None:
    assert modern_engine.host.startswith("unix:///")
    assert modern_engine.engine_version.split(".")[0] == modern_engine.name
    assert modern_engine.api_version == EXPECTED_API[modern_engine.name]
    assert ["driver-type", SNAPSHOTTER_DRIVER_TYPE] in modern_engine.driver_status
    info = modern_engine.get("/info")
    assert info["ServerVersion"] == modern_engine.engine_version
    # The unpacked CLI of the same suite talks to it without pinning an API version.
    out = modern_engine.docker("version", "--format", "{{.Client.Version}} {{.Server.Version}}").stdout
    assert out.split() == [modern_engine.engine_version, modern_engine.engine_version]


def test_the_oci_family_lists_by_index_digest(loaded: ModernEngine, family: Family) -> None:
    listed = _tags(loaded)
    for tag, target in family.targets.items():
        # The Id is the digest that index.json names: the index (or the bare manifest).
        assert listed[tag]["Id"] == target, tag
        assert listed[tag].get("ParentId", "") == ""


def test_inspect_answers_for_the_host_platform_or_the_only_one(loaded: ModernEngine, family: Family) -> None:
    for tag, by_platform in family.images.items():
        expected = by_platform.get(HOST_PLATFORM) or next(iter(by_platform.values()))
        answer = loaded.get(f"/images/{tag}/json")
        assert answer["Id"] == family.targets[tag]
        assert answer["Architecture"] == expected.platform.architecture, tag
        assert answer["RootFS"]["Layers"] == expected.diff_ids, tag
        history = loaded.get(f"/images/{tag}/history")
        assert [entry["CreatedBy"] for entry in history] == [s.created_by for s in reversed(expected.history)]


def test_manifests_list_platforms_and_attestations(loaded: ModernEngine, family: Family) -> None:
    answer = loaded.get("/images/json", manifests="1")
    by_tag = {tag: summary for summary in answer for tag in summary.get("RepoTags") or []}
    if not _api_at_least(loaded, "1.47"):
        assert all("Manifests" not in summary for summary in answer)  # silently ignored
        return
    for tag, by_platform in family.images.items():
        manifests = by_tag[tag]["Manifests"]
        images = [m for m in manifests if m["Kind"] == "image"]
        attestations = [m for m in manifests if m["Kind"] == "attestation"]
        platforms = {
            f"{m['ImageData']['Platform']['os']}/{m['ImageData']['Platform']['architecture']}" for m in images
        }
        assert platforms == set(by_platform), tag
        assert len(attestations) == (0 if tag.endswith("/single:1") else len(by_platform)), tag
        image_ids = {m["ID"] for m in images}
        assert {a["AttestationData"]["For"] for a in attestations} <= image_ids


def test_platform_parameter_picks_the_variant(loaded: ModernEngine, family: Family) -> None:
    arm = '{"architecture":"arm64","os":"linux"}'
    tag = "smoke/app:1"
    status, answer = loaded.request(f"/images/{tag}/json", {"platform": arm})
    assert status == 200
    if _api_at_least(loaded, "1.49"):
        assert answer["Architecture"] == "arm64"
        assert answer["RootFS"]["Layers"] == family.images[tag]["linux/arm64"].diff_ids
        status, _ = loaded.request("/images/smoke/single:1/json", {"platform": arm})
        assert status == 404  # "was found but does not provide the specified platform"
    else:
        assert answer["Architecture"] == "amd64"  # Engine 26 ignores platform=


def test_image_ls_tree_shows_the_platforms(engine_28: ModernEngine, tmp_path: Path) -> None:
    family = lineage_family(prefix="tree")
    _load(engine_28, family, tmp_path)
    out = engine_28.docker("image", "ls", "--tree", "tree/app:1").stdout
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "tree/app:1" in plain
    assert "linux/amd64" in plain
    assert "linux/arm64" in plain


def test_a_save_from_engine_20_10_loads(
    modern_engine: ModernEngine, classic_save: tuple[Path, dict[str, str]]
) -> None:
    archive, ids_on_20_10 = classic_save
    out = modern_engine.docker("load", "-i", str(archive)).stdout
    listed = _tags(modern_engine)
    layers = {}
    for tag in ids_on_20_10:
        assert f"Loaded image: {tag}" in out
        # The containerd store names the image by a manifest it wrote at load time, not by
        # the config digest that Engine 20.10 used as the id.
        assert listed[tag]["Id"] not in ids_on_20_10.values()
        layers[tag] = modern_engine.get(f"/images/{tag}/json")["RootFS"]["Layers"]
    root, app, labelled = (layers[f"classic/{name}:1"] for name in ("root", "app", "labelled"))
    assert len(root) == 1
    assert app[:1] == root
    assert len(app) == 2
    assert labelled == app  # LABEL only: no new layer
    history = modern_engine.get("/images/classic/labelled:1/history")
    assert len(history) == 3
    assert history[0]["Size"] == 0
