"""Lineage is found per platform: no image is the parent of an image of another known platform."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from image_lineage import platforms
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Image
from tests.builders import AMD64, ARM64, SCRATCH_LABEL, SOURCE, image, multi_platform_family


def parents(lineage: Lineage) -> dict[tuple[str, str], tuple[str, str] | None]:
    """(name, platform) -> the parent's (name, platform)."""
    found: dict[tuple[str, str], tuple[str, str] | None] = {}
    for node in lineage.nodes():
        parent = lineage.node(node.parent).image if node.parent else None
        found[node.image.display_name, node.image.platform] = (
            (parent.display_name, parent.platform) if parent else None
        )
    return found


def test_every_parent_is_of_its_childs_platform() -> None:
    images = multi_platform_family()
    for seed in range(8):  # whatever the order, and whichever id sorts first
        random.Random(seed).shuffle(images)
        lineage = build_lineage(images, SOURCE)
        for node in lineage.nodes():
            if node.parent is not None:
                assert lineage.node(node.parent).image.platform == node.image.platform, node.image


def test_the_multi_platform_family_has_one_tree_per_platform() -> None:
    found = parents(build_lineage(multi_platform_family(), SOURCE))
    for platform in (AMD64, ARM64):
        assert found["multi/base:1", platform] is None
        assert found["multi/app:1", platform] == ("multi/base:1", platform)
        assert found["multi/labelled:1", platform] == ("multi/base:1", platform)
        assert found["multi/meta:1", platform] is None
        assert found["multi/meta-child:1", platform] == ("multi/meta:1", platform)
        assert found["multi/config:1", platform] is None
        assert found["multi/config-app:1", platform] == ("multi/config:1", platform)
    assert found["multi/arm-tool:1", ARM64] == ("multi/base:1", ARM64)


def test_images_of_other_platforms_are_neither_ambiguous_parents_nor_identical_twins() -> None:
    """The FROM-scratch LABEL images of two platforms have the same (empty) layers and history."""
    lineage = build_lineage(multi_platform_family(), SOURCE)
    assert [d for d in lineage.diagnostics if d.code in {"ambiguous_parent", "identical_content"}] == []


def test_twins_of_one_platform_are_still_twins() -> None:
    one = image(SCRATCH_LABEL, "one:1", platform=ARM64)
    two = image(SCRATCH_LABEL, "two:1", platform=ARM64, salt="again")
    other = image(SCRATCH_LABEL, "other:1")
    codes = {(d.image, d.code) for d in build_lineage([one, two, other], SOURCE).diagnostics}
    assert codes == {(one.id, "identical_content"), (two.id, "identical_content")}


def test_an_image_of_unknown_platform_may_be_anyones_parent() -> None:
    meta = replace(image(SCRATCH_LABEL, "meta:1"), os="", architecture="")
    child = image([*SCRATCH_LABEL, "LABEL more=1"], "child:1", platform=ARM64)
    assert meta.platform == ""
    assert build_lineage([meta, child], SOURCE).node(child.id).parent == meta.id


def test_without_history_layers_alone_never_cross_platforms() -> None:
    base = image(["RUN copy-config:2000"], "config:1", portable=True, history=False)
    child = image(["RUN copy-config:2000", "RUN more:1"], "app:1", platform=ARM64, portable=True)
    assert base.layers == child.layers[:1]
    assert build_lineage([base, child], SOURCE).node(child.id).parent is None
    same = replace(base, os=child.os, architecture=child.architecture)
    assert build_lineage([same, child], SOURCE).node(child.id).parent == same.id


@pytest.mark.parametrize(
    ("image_platform", "other", "same", "shown"),
    [
        pytest.param("linux/arm64/v8", "linux/arm64", True, True, id="arm64-default-variant"),
        pytest.param("linux/arm/v7", "linux/arm", True, True, id="arm-default-variant"),
        pytest.param("linux/arm/v6", "linux/arm", False, True, id="arm-v6-is-not-v7-but-shows-as-arm"),
        pytest.param("linux/arm/v6", "linux/arm/v7", False, False, id="arm-variants"),
        pytest.param(
            "linux/amd64/v3", "linux/amd64", False, True, id="amd64-v3-is-not-v1-but-shows-as-amd64"
        ),
        pytest.param("linux/amd64", "linux/arm64", False, False, id="architectures"),
        pytest.param("windows/amd64", "linux/amd64", False, False, id="systems"),
        pytest.param("", "linux/s390x", True, True, id="unknown"),
        pytest.param("linux/ARM64", "linux/arm64", True, True, id="any-case"),
    ],
)
def test_platforms_that_may_be_one_and_those_a_choice_shows(
    image_platform: str, other: str, same: bool, shown: bool
) -> None:
    """``compatible``: may two images be of one platform (lineage); ``matches``: does a choice show it."""
    assert platforms.compatible(image_platform, other) is same
    assert platforms.compatible(other, image_platform) is same
    assert platforms.matches(image_platform, other) is shown
    assert platforms.matches(image_platform, platforms.ALL)


def test_an_image_record_platform_reads_back() -> None:
    record: Image = image(SCRATCH_LABEL, platform="linux/arm/v7")
    assert (record.os, record.architecture, record.variant) == ("linux", "arm", "v7")
    assert record.platform == "linux/arm/v7"
