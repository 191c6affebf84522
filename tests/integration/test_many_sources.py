"""Many sources, one tree: a throwaway dockerd and a local registry holding some of its images.

The family is built on the suite's dockerd; its root and app are saved and pushed to a
throwaway ``docker-registry`` with skopeo (nothing pulled from outside). Read together,
the engine and the registry give one tree in which the shared images are single nodes
found in both, with each source's tags, and the engine's unpacked sizes.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from image_lineage.cli import main
from testbed.registry import ThrowawayRegistry
from tests.integration.test_docker_engine import legacy_family

pytestmark = pytest.mark.docker

SHARED = ["root", "app"]  # in the engine and the registry; labelled and leaf only in the engine


@pytest.fixture(scope="module")
def registry(anonymous_registry: ThrowawayRegistry) -> ThrowawayRegistry:
    return anonymous_registry


@pytest.fixture(scope="module")
def family(
    dockerd: Any, registry: ThrowawayRegistry, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    ids = legacy_family(dockerd, "many")
    archive = tmp_path_factory.mktemp("many") / "shared.tar"
    dockerd.docker("save", "-o", str(archive), *(f"many/{name}:1" for name in SHARED))
    for name in SHARED:
        registry.push(archive, f"many/{name}:1", f"team/{name}:1")
    return ids


def sources(dockerd: Any, registry: ThrowawayRegistry) -> list[str]:
    return ["--source", f"docker:{dockerd.host}", "--source", f"registry:{registry.url}"]


def test_the_engine_and_the_registry_make_one_tree(
    dockerd: Any, registry: ThrowawayRegistry, family: dict[str, str]
) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["export", "-f", "json", *sources(dockerd, registry)], stdout=out, stderr=err) == 0, (
        err.getvalue()
    )
    document = json.loads(out.getvalue())
    engine, remote = f"docker {dockerd.host}", f"registry {registry.address}"
    assert document["source"]["kind"] == "merged"
    assert document["source"]["endpoint"] == f"{engine}; {remote}"
    images = {image["id"]: image for image in document["images"]}
    assert len(images) == len(document["images"])  # one record per image id
    for name in SHARED:
        image = images[family[name]]
        assert image["found_in"] == [engine, remote]
        assert image["tags_by_source"] == {
            engine: [f"many/{name}:1"],
            remote: [f"{registry.address}/team/{name}:1"],
        }
        assert image["tags"][0] == f"many/{name}:1"  # the engine's name first
        assert image["size_kind"] == "unpacked"  # the engine's sizes, not the registry's compressed ones
    for name in ("labelled", "leaf"):
        assert images[family[name]]["found_in"] == [engine]
    name_of = {image_id: name for name, image_id in family.items()}
    assert {name: name_of.get(images[family[name]]["parent"] or "") for name in family} == {
        "root": None,
        "app": "root",
        "labelled": "app",
        "leaf": "labelled",
    }


def test_the_tree_says_where_each_image_was_found(
    dockerd: Any, registry: ThrowawayRegistry, family: dict[str, str]
) -> None:
    out = io.StringIO()
    assert main(["tree", "--focus", "many/leaf:1", *sources(dockerd, registry)], stdout=out) == 0
    lines = {line.lstrip("│├└─ ").split("  ")[0]: line for line in out.getvalue().splitlines()}
    assert "[in: docker, registry]" in lines["many/root:1"]
    assert f"[also {registry.address}/team/root:1]" in lines["many/root:1"]
    assert "[in: docker]" in lines["many/leaf:1"]
    assert f"{registry.address}/team/root:1" not in lines  # one node, not two
    assert (
        out.getvalue().splitlines()[-1]
        == f"Sources: docker = docker {dockerd.host}; registry = registry {registry.address}."
    )
    assert family


def test_a_dead_source_among_live_ones_is_one_line(dockerd: Any) -> None:
    err = io.StringIO()
    argv = ["tree", "--source", f"docker:{dockerd.host}", "--source", "registry:http://127.0.0.1:1"]
    assert main(argv, stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue().count("\n") == 1
    assert err.getvalue().startswith("image-lineage: error: registry:http://127.0.0.1:1: ")
