"""Every output names platforms where it matters: several platforms shown, or not the host's.

Goldens as in test_render.py (``UPDATE_GOLDEN=1`` to regenerate; read the diff, and look at
the picture: ``image-lineage export --format png``).
"""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Image
from image_lineage.render import render
from image_lineage.render.common import index_summary, names_platforms
from image_lineage.render.text import render_text
from image_lineage.views import select_platform
from tests.builders import AMD64, ARM64, SOURCE, image, jupyter_family, multi_platform_family
from tests.unit.test_render import check_golden


def both_platforms(order_seed: int | None = None) -> Lineage:
    images = multi_platform_family()
    if order_seed is not None:
        random.Random(order_seed).shuffle(images)
    return build_lineage(images, SOURCE)


def one_platform(platform: str) -> Lineage:
    return build_lineage(select_platform(multi_platform_family(), platform).images, SOURCE)


@pytest.mark.parametrize(
    ("name", "produce"),
    [
        pytest.param("platforms-tree.txt", lambda lin: render_text(lin, host_platform=AMD64), id="text"),
        pytest.param("platforms.dot", lambda lin: render(lin, "dot", host_platform=AMD64), id="dot"),
        pytest.param("platforms.mmd", lambda lin: render(lin, "mermaid", host_platform=AMD64), id="mermaid"),
    ],
)
def test_golden_with_two_platforms(name: str, produce) -> None:  # type: ignore[no-untyped-def]
    check_golden(name, produce(both_platforms()))


@pytest.mark.parametrize("fmt", ["text", "dot", "mermaid"])
def test_two_platforms_render_the_same_whatever_the_listing_order(fmt: str) -> None:
    outputs = {
        render_text(both_platforms(seed)) if fmt == "text" else str(render(both_platforms(seed), fmt))
        for seed in range(6)
    }
    assert len(outputs) == 1


def image_lines(text: str) -> dict[str, str]:
    """Tree line by ``name@platform`` (or by name when the line names no platform)."""
    lines = {}
    for line in text.splitlines()[:-1]:
        name = re.sub(r"^[│├└─ ]+", "", line).split("  ")[0]
        platform = re.search(r"\[(linux/[^\]]+)\]", line)
        lines[f"{name}@{platform.group(1)}" if platform else name] = line
    return lines


def test_the_tree_names_platforms_and_what_an_index_holds() -> None:
    lines = image_lines(render_text(both_platforms(), host_platform=AMD64))
    assert lines["multi/app:1@linux/arm64"].startswith("├── multi/app:1  ")
    assert lines["multi/app:1@linux/arm64"].endswith(
        "[linux/arm64]  [platforms: linux/amd64, linux/arm/v7, linux/arm64 (arm/v7 not here)]"
    )
    assert lines["multi/arm-tool:1@linux/arm64"].endswith("[linux/arm64]")  # one platform: no index
    assert lines["multi/meta:1@linux/amd64"].endswith("[platforms: linux/amd64, linux/arm64]")


def test_the_hosts_own_platform_goes_unnamed_but_the_index_is_listed() -> None:
    text = render_text(one_platform(AMD64), host_platform=AMD64)
    assert "[linux/" not in text
    assert "multi/app:1  " in text
    assert "[platforms: linux/amd64, linux/arm/v7, linux/arm64 (arm/v7 not here)]" in text
    assert text == render_text(one_platform(AMD64))  # no host known: one platform goes unnamed


def test_one_platform_that_is_not_the_hosts_is_named() -> None:
    lineage = one_platform(ARM64)
    assert names_platforms(lineage, AMD64)
    assert not names_platforms(lineage, "linux/arm64/v8")
    assert "multi/arm-tool:1  " in render_text(lineage, host_platform=AMD64)
    assert "[linux/arm64]" in render_text(lineage, host_platform=AMD64)
    for fmt, label in (("dot", '"#7a3e9d">arm64</FONT>'), ("mermaid", "<br/>arm64")):
        assert label in str(render(lineage, fmt, host_platform=AMD64))
        assert label not in str(render(lineage, fmt, host_platform=ARM64))


def test_pictures_of_the_hosts_images_are_unchanged() -> None:
    lineage = build_lineage(jupyter_family(), SOURCE)
    for fmt in ("dot", "mermaid"):
        assert render(lineage, fmt, host_platform=AMD64) == render(lineage, fmt)
        assert "amd64" not in str(render(lineage, fmt, host_platform=AMD64))


def multi(platforms: list[tuple[str, bool]]) -> Image:
    return image(["RUN a:1"], "a:1", index=platforms)


@pytest.mark.parametrize(
    ("index", "summary"),
    [
        pytest.param([(AMD64, True)], "", id="one-platform"),
        pytest.param([(AMD64, True), (ARM64, True)], "platforms: linux/amd64, linux/arm64", id="all-here"),
        pytest.param(
            [(ARM64, False), (AMD64, True)],
            "platforms: linux/amd64, linux/arm64 (arm64 not here)",
            id="sorted-one-missing",
        ),
        pytest.param(
            [(AMD64, True), *((f"linux/arch{n}", False) for n in range(7))],
            "platforms: linux/amd64, linux/arch0, linux/arch1, linux/arch2 and 4 more (7 not here)",
            id="many",
        ),
        pytest.param(
            [(AMD64, True), ("windows/amd64", False)],
            "platforms: linux/amd64, windows/amd64 (windows/amd64 not here)",
            id="other-system",
        ),
    ],
)
def test_index_summary(index: list[tuple[str, bool]], summary: str) -> None:
    assert index_summary(multi(index)) == summary


def test_platform_text_from_an_image_is_cleaned_and_escaped() -> None:
    hostile = replace(image(["RUN a:1"], "a:1"), architecture='arm64"<b>\x1b[31m')
    lineage = build_lineage([hostile, image(["RUN a:1"], "b:1", platform=ARM64)], SOURCE)
    dot = str(render(lineage, "dot"))
    assert '"<b>' not in dot
    assert "\x1b" not in dot + render_text(lineage) + str(render(lineage, "mermaid"))
    assert "&quot;&lt;b&gt;" in dot


@pytest.mark.usefixtures("graphviz")
def test_svg_boxes_name_their_platform() -> None:
    root = ET.fromstring(str(render(both_platforms(), "svg", host_platform=AMD64)))
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts.count("arm64") == 8
    assert texts.count("amd64") == 7
