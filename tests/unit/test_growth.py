"""Cost that grows with the number of images, not faster: checked by counting work, not timing it.

``bench/growth.py`` times the commands at 1,000, 5,000 and 20,000 images; these tests pin
the shape of each fix: what runs once per render, what is compared with what.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest

from image_lineage import lineage as lineage_module
from image_lineage import stale
from image_lineage.errors import RenderError
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Image, SizeKind
from image_lineage.render import common, dot, graphviz_render, html, mermaid, text, tree_data
from tests.builders import SOURCE, as_found_elsewhere, digest, jupyter_family
from tests.unit.test_stale import family


def copies(images: Sequence[Image], count: int) -> list[Image]:
    """``count`` independent copies of ``images``: the same histories on other layers, other names."""
    return [
        replace(
            original,
            id=digest(f"copy{number}:{original.id}"),
            layers=tuple(digest(f"copy{number}:{layer}") for layer in original.layers),
            tags=tuple(f"copy{number}/{tag}" for tag in original.tags),
            manifest_digest=digest(f"copy{number}:{original.manifest_digest}")
            if original.manifest_digest
            else "",
        )
        for number in range(count)
        for original in images
    ]


# --------------------------------------------------------------------------- size kinds


def count_size_kinds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every call of ``size_kinds``, wherever a renderer imported it from."""
    calls = [0]
    real = common.size_kinds

    def counting(lineage: Lineage) -> list[SizeKind]:
        calls[0] += 1
        return real(lineage)

    for module in (common, text, dot, mermaid, html, tree_data):
        monkeypatch.setattr(module, "size_kinds", counting, raising=False)
    return calls


RENDERS: dict[str, Callable[[Lineage], Any]] = {
    "text": text.render_text,
    "dot": dot.render_dot,
    "mermaid": mermaid.render_mermaid,
    "html nodes": tree_data.tree_nodes,
}


@pytest.mark.parametrize("name", RENDERS)
def test_size_kinds_are_found_once_per_render_not_once_per_image(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    images = jupyter_family()
    mixed = [*images, as_found_elsewhere(images[0], "registry/foundation:1")]  # two kinds: markers shown
    calls = count_size_kinds(monkeypatch)
    for count in (1, 10):
        calls[0] = 0
        output = RENDERS[name](build_lineage(copies(mixed, count), SOURCE))
        assert "(compressed)" in str(output)
        assert calls[0] <= 2, f"{calls[0]} calls for {count} copies"


# --------------------------------------------------------------------------- stale


def test_stale_compares_an_image_only_with_images_on_its_own_bottom_layer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Copies of one project (the same commands on other roots) are never candidate rebuilds
    of each other: n copies cost n times one copy, not n² (each image met every copy)."""
    calls = [0]
    real = stale.common_prefix

    def counting(first: Sequence[str], second: Sequence[str]) -> int:
        calls[0] += 1
        return real(first, second)

    monkeypatch.setattr(stale, "common_prefix", counting)
    images, _, _ = family()
    found = []
    for count in (1, 8):
        calls[0] = 0
        report = stale.stale_images(build_lineage(copies(images, count), SOURCE))
        found.append((len(report.groups), len(report), calls[0]))
    (groups, stale_count, compared), (groups_8, stale_8, compared_8) = found
    assert (groups, stale_count) == (1, 2)
    assert (groups_8, stale_8) == (8, 16), "each copy's stale images are found, in its own group"
    assert compared_8 == 8 * compared


# --------------------------------------------------------------------------- lineage


def calls_into(module_file: str, work: Callable[[], object]) -> int:
    """How many Python function calls ``work`` makes into code of ``module_file``."""
    calls = [0]

    def profile(frame: Any, event: str, _arg: object) -> None:
        if event == "call" and frame.f_code.co_filename == module_file:
            calls[0] += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls[0]


def test_finding_parents_does_not_compare_copies_of_one_project_with_each_other() -> None:
    """The same histories on other roots: each image's parent is looked up among the images
    with its own layers, not checked against every copy (the work of 40 copies is at most
    40 times one; checked against every copy, it was 60% more)."""
    images, _, _ = family()
    one = calls_into(lineage_module.__file__, lambda: build_lineage(copies(images, 1), SOURCE))
    forty = calls_into(lineage_module.__file__, lambda: build_lineage(copies(images, 40), SOURCE))
    assert forty <= 40 * one, (one, forty)
    lineage = build_lineage(copies(images, 8), SOURCE)
    assert len(lineage.roots()) == 8, "each copy is a family of its own"


# --------------------------------------------------------------------------- pictures


class GraphvizRuns:
    """Records each Graphviz program ``graphviz_render`` runs (really run), with its input and deadline."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.runs: list[tuple[list[str], bytes, float | None]] = []
        real = subprocess.run

        def recording(command: list[str], **options: Any) -> Any:
            self.runs.append((command, options.get("input", b""), options.get("timeout")))
            return real(command, **options)

        monkeypatch.setattr(subprocess, "run", recording)

    @property
    def programs(self) -> list[str]:
        return [command[0] for command, _, _ in self.runs]


def two_families() -> Lineage:
    """The Jupyter-like family and a copy of it on other layers: two families, 10 images."""
    return build_lineage(copies(jupyter_family(), 2), SOURCE)


@pytest.mark.usefixtures("graphviz")
def test_a_small_picture_is_one_layout_of_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = GraphvizRuns(monkeypatch)
    svg = graphviz_render.render_graphviz(two_families(), "svg")
    assert runs.programs == ["dot"]
    assert runs.runs[0][0] == ["dot", "-Tsvg"]
    assert runs.runs[0][1] == dot.render_dot(two_families()).encode(), "the DOT as render_dot writes it"
    assert svg.count(b'class="node"') == 10


SVG = "{http://www.w3.org/2000/svg}"


def box_sizes(svg: ET.Element) -> list[tuple[float, float]]:
    """(width, height) of every image's box (the outline of each node), sorted."""
    sizes = []
    for node in svg.iter(f"{SVG}g"):
        if node.get("class") == "node":
            outline = next(node.iter(f"{SVG}path"))
            points = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", outline.get("d", ""))]
            xs, ys = points[0::2], points[1::2]
            sizes.append((round(max(xs) - min(xs), 1), round(max(ys) - min(ys), 1)))
    return sorted(sizes)


@pytest.mark.usefixtures("graphviz")
def test_a_big_picture_is_laid_out_family_by_family_then_packed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphviz_render, "WHOLE_LIMIT", 4)
    monkeypatch.setattr(graphviz_render, "BATCH_LIMIT", 5)  # one family (5 images) per layout run
    runs = GraphvizRuns(monkeypatch)
    lineage = two_families()
    svg = graphviz_render.render_graphviz(lineage, "svg").decode()
    assert runs.programs == ["dot", "dot", "gvpack", "neato"]
    for command, data, _ in runs.runs[:2]:
        assert command == ["dot"], "layout only: positions, no drawing yet"
        assert data.decode().count("digraph ") == 1
        assert data.decode().count(" [label=<") == 5, "one family, whole"
        assert b"style=invis" not in data, "packing places the families, not invisible edges"
    assert runs.runs[-1][0] == ["neato", "-n2", "-Tsvg"]
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter(f"{SVG}title")]
    ids = dot.node_ids(lineage)
    assert set(ids.values()) <= set(titles), "every image is drawn"
    assert len([t for t in titles if t and "->" in t]) == 8, "and every edge"
    assert "Sizes: unpacked layer sizes" in svg, "the caption is under the packed picture"
    whole = subprocess.run(
        ["dot", "-Tsvg"], input=dot.render_dot(lineage).encode(), capture_output=True, check=True
    )
    assert box_sizes(root) == box_sizes(ET.fromstring(whole.stdout)), "boxes as one layout sizes them"
    graph_title = root.find(f"{SVG}g/{SVG}title")
    assert graph_title is not None
    assert graph_title.text == "lineage", "the packed graph is called as one layout's is"


@pytest.mark.parametrize(("families", "rankdir", "columns"), [(2, "TB", 1), (16, "TB", 3), (16, "LR", 1)])
def test_packed_families_stand_in_columns_as_one_layout_stacks_them(
    families: int, rankdir: str, columns: int
) -> None:
    assert graphviz_render.packed_columns(families, rankdir) == columns


@pytest.mark.usefixtures("graphviz")
def test_every_graphviz_run_has_a_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphviz_render, "WHOLE_LIMIT", 4)
    runs = GraphvizRuns(monkeypatch)
    graphviz_render.render_graphviz(two_families(), "svg")
    graphviz_render.render_graphviz(jupyter_family_lineage(), "png")
    assert runs.programs == ["dot", "gvpack", "neato", "dot"]
    assert all(timeout == graphviz_render.DEADLINE for _, _, timeout in runs.runs)


@pytest.mark.usefixtures("graphviz")
def test_a_family_past_the_limit_is_refused_at_once_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphviz_render, "WHOLE_LIMIT", 4)
    monkeypatch.setattr(graphviz_render, "FAMILY_LIMIT", 4)
    runs = GraphvizRuns(monkeypatch)
    with pytest.raises(RenderError) as caught:
        graphviz_render.render_graphviz(two_families(), "svg")
    assert str(caught.value).startswith(
        "One family holds 5 images, more than a picture lays out (4): draw fewer"
    )
    assert "\n" not in str(caught.value)
    assert runs.runs == [], "refused before any Graphviz run"


def jupyter_family_lineage() -> Lineage:
    return build_lineage(jupyter_family(), SOURCE)


@pytest.mark.usefixtures("graphviz")
def test_a_run_past_its_deadline_is_stopped_with_one_line() -> None:
    with pytest.raises(RenderError) as caught:
        graphviz_render.render_graphviz(jupyter_family_lineage(), "svg", deadline=0.000_1)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("Graphviz's dot took more than 0.0001 s to draw the svg of 5 images")
    assert "--focus" in message
    assert "--format json" in message
