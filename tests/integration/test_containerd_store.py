"""The engine source on the containerd image store (Engines 28.5 and 26.1), and 20.10 beside them.

Each engine loads the multi-platform OCI family (``oci_layout.lineage_family``: indexes with
amd64 + arm64 + attestations, an arm64-only child, a LABEL-only child, a single-platform image
on the multi-platform base) and a ``docker save`` from Engine 20.10, then is scanned by the
project's own source. Every record is keyed by its config digest, so the expected parents and
ids come from what the test wrote. Faults and the read-only proxy are repeated on Engine 28.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Scan
from image_lineage.sources.engine import DockerEngineSource
from image_lineage.views import digests
from testbed.engines import ModernEngine
from testbed.oci_layout import Family, lineage_family
from tests.support.cli import run_cli
from tests.support.recording_proxy import RecordingProxy, Request, assert_read_only

pytestmark = pytest.mark.docker

PREFIX = "cstore"


def scan(host: str, *, use_cache: bool = False) -> tuple[Scan, Lineage]:
    result = DockerEngineSource(host, use_cache=use_cache).scan()
    return result, build_lineage(result.images, result.source, result.diagnostics)


def config_ids(family: Family) -> dict[tuple[str, str], str]:
    """(tag, platform) -> the config digest the test wrote."""
    return {(tag, p): image.config_digest for tag, by in family.images.items() for p, image in by.items()}


@pytest.fixture(scope="module")
def family() -> Family:
    return lineage_family(prefix=PREFIX)


@pytest.fixture(scope="module")
def loaded(
    modern_engine: ModernEngine,
    family: Family,
    classic_save: tuple[Path, dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> ModernEngine:
    tar = tmp_path_factory.mktemp("family") / "family.tar"
    tar.write_bytes(family.tar_bytes())
    modern_engine.docker("load", "-i", str(tar))
    modern_engine.docker("load", "-i", str(classic_save[0]))
    return modern_engine


def mine(lineage: Lineage) -> dict[str, Any]:
    return {i: n for i, n in lineage.by_id.items() if any(t.startswith(f"{PREFIX}/") for t in n.image.tags)}


def test_the_store_and_api_are_said(loaded: ModernEngine) -> None:
    result, _ = scan(loaded.host)
    said = [d.message for d in result.diagnostics if d.code == "engine_store"]
    assert said
    assert f"API {loaded.api_version}" in said[0]
    assert "containerd image store" in said[0]


def test_every_platform_is_a_record_keyed_by_its_config_digest(loaded: ModernEngine, family: Family) -> None:
    _, lineage = scan(loaded.host)
    expected = config_ids(family)
    found = {
        (t, n.image.platform): i
        for i, n in mine(lineage).items()
        for t in n.image.tags
        if t.startswith(f"{PREFIX}/")
    }
    assert found == expected
    for (tag, platform), image_id in expected.items():
        image = lineage.by_id[image_id].image
        assert image.manifest_digest.startswith("sha256:")
        if tag.endswith("/single:1"):
            assert image.index_digest == ""
            assert image.index_platforms == ()
        else:
            # Its index's digest, or, when another test loaded the same platforms under other
            # names in an index of its own, among the digests of its names (RepoDigests).
            assert family.targets[tag] in digests(image)
            assert dict(image.index_platforms) == dict.fromkeys(family.images[tag], True)
        assert platform in {"linux/amd64", "linux/arm64"}


def test_attestations_are_never_records(loaded: ModernEngine) -> None:
    _, lineage = scan(loaded.host)
    assert all(
        n.image.platform != "unknown/unknown" and n.image.os != "unknown" for n in lineage.by_id.values()
    )


def test_every_parent_is_right_on_its_platform(loaded: ModernEngine, family: Family) -> None:
    _, lineage = scan(loaded.host)
    ids = config_ids(family)
    for key, parent in family.parents.items():
        node = lineage.by_id[ids[key]]
        assert node.parent == (ids[parent] if parent else None), key
    arm_tool = lineage.by_id[ids[(f"{PREFIX}/arm-tool:1", "linux/arm64")]]
    assert arm_tool.parent == ids[(f"{PREFIX}/base:1", "linux/arm64")]
    labelled = lineage.by_id[ids[(f"{PREFIX}/app-labelled:1", "linux/amd64")]]
    assert labelled.metadata_only


def test_sizes_add_up_and_say_what_they_are(loaded: ModernEngine, family: Family) -> None:
    _, lineage = scan(loaded.host)
    ids = config_ids(family)
    for (tag, platform), image_id in ids.items():
        node = lineage.by_id[image_id]
        parent = lineage.by_id[node.parent] if node.parent else None
        assert node.total_size == (parent.total_size if parent else 0) + node.added_size, tag
        if platform == "linux/amd64":
            # docker history's unpacked sizes (4 KiB blocks on disk), on every engine.
            assert node.image.size_kind == "unpacked", tag
            assert all(s.size % 4096 == 0 for s in node.steps), tag
        else:
            # Not unpacked on 28; hidden from API 1.45 on 26: the compressed blobs.
            assert node.image.size_kind == "compressed", tag
            written = family.images[tag][platform]
            assert node.total_size == sum(layer.size for layer in written.layers), tag
        assert node.image.size > 0  # what the engine says the image takes, shown apart


def test_a_save_from_20_10_gets_the_same_ids_and_tree(
    loaded: ModernEngine, dockerd: Any, classic_save: tuple[Path, dict[str, str]]
) -> None:
    archive, ids_on_20_10 = classic_save
    dockerd.docker("load", "-i", str(archive))
    trees = []
    for host in (dockerd.host, loaded.host):
        _, lineage = scan(host)
        by_tag = {t: n for n in lineage.by_id.values() for t in n.image.tags if t in ids_on_20_10}
        assert {t: n.id for t, n in by_tag.items()} == ids_on_20_10
        trees.append({t: n.parent for t, n in by_tag.items()})
    assert trees[0] == trees[1]
    assert trees[1]["classic/app:1"] == ids_on_20_10["classic/root:1"]
    assert trees[1]["classic/labelled:1"] == ids_on_20_10["classic/app:1"]


def test_a_warm_scan_exports_nothing(loaded: ModernEngine) -> None:
    with RecordingProxy(loaded.socket_path) as proxy:
        cold, _ = scan(proxy.endpoint, use_cache=True)
        exports = [r for r in proxy.requests if r.route.endswith("/images/get")]
        assert exports
        proxy.clear()
        warm, _ = scan(proxy.endpoint, use_cache=True)
        assert not [r for r in proxy.requests if r.route.endswith("/images/get")]
    assert sorted(i.id for i in cold.images) == sorted(i.id for i in warm.images)


def test_engine_28_is_only_read(engine_28: ModernEngine, tmp_path: Path) -> None:
    tar = tmp_path / "family.tar"
    tar.write_bytes(lineage_family(prefix="readonly28").tar_bytes())
    engine_28.docker("load", "-i", str(tar))
    with RecordingProxy(engine_28.socket_path) as proxy:
        for cache in (["--no-cache"], [], []):
            result = run_cli(["export", "-f", "json", *cache, "--source", f"docker:{proxy.endpoint}"])
            assert result.code == 0, result.stderr
        assert_read_only(proxy.requests)
        routes = {r.route.split("/")[-1] for r in proxy.requests}
        assert {"history", "get", "info"} <= routes


# --------------------------------------------------------------------------- faults on Engine 28


@pytest.fixture(scope="module")
def victim_28(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModernEngine]:
    """A private Engine 28 (the session one must survive) with the family loaded."""
    from tests.conftest import start_modern_engine  # noqa: PLC0415

    engine: ModernEngine = start_modern_engine("28")
    tar = tmp_path_factory.mktemp("victim") / "family.tar"
    tar.write_bytes(lineage_family(prefix="victim").tar_bytes())
    engine.docker("load", "-i", str(tar))
    yield engine
    engine.stop()


@pytest.mark.usefixtures("victim_28")
def test_no_socket_on_engine_28(tmp_path: Path) -> None:
    message = run_cli(
        ["tree", "--no-cache", "--source", f"docker:unix://{tmp_path}/none.sock"]
    ).one_line_error()
    assert "no such socket" in message


def test_an_image_deleted_mid_scan_on_engine_28(victim_28: ModernEngine) -> None:
    doomed = victim_28.get("/images/json")
    target = next(s["Id"] for s in doomed if "victim/single:1" in (s.get("RepoTags") or []))
    removed = threading.Event()

    def remove(request: Request) -> None:
        """Delete the image (docker rmi, on the real socket) just before its export is forwarded."""
        if request.route == "/images/get" and target.split(":")[1] in request.path and not removed.is_set():
            removed.set()
            victim_28.docker("rmi", "victim/single:1")

    with RecordingProxy(victim_28.socket_path, before=remove) as proxy:
        result = DockerEngineSource(proxy.endpoint, use_cache=False).scan()
    assert removed.is_set()
    gone = [d for d in result.diagnostics if d.code == "image_gone"]
    assert [(d.image, d.message) for d in gone] == [(target, "removed while it was being scanned")]
    document = {"images": [{"tags": list(image.tags)} for image in result.images]}
    assert not any("victim/single:1" in image["tags"] for image in document["images"])


def test_engine_28_killed_mid_scan(victim_28: ModernEngine) -> None:
    def kill_on_export(request: Request) -> None:
        if request.route.endswith("/images/get") and victim_28.running:
            victim_28.kill()

    try:
        with RecordingProxy(victim_28.socket_path, before=kill_on_export) as proxy:
            message = run_cli(["tree", "--no-cache", "--source", f"docker:{proxy.endpoint}"]).one_line_error()
        assert "Engine" in message or "engine" in message
    finally:
        if not victim_28.running:
            victim_28.start()
