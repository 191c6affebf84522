"""``image-lineage export --format html`` opened from disk in Chromium and clicked through.

For the bundled sample and for 1,000 generated images (``bench/synthetic_images.py``),
the file written by the command line is opened from ``file://`` with every request that
is not a ``file:`` one aborted and recorded (there must be none). In it: the wheel zooms,
a search finds one image, highlights and centres it, Enter inspects it, a click on its
parent inspects that one (each inspector lists the image's steps as
``insights.layer_rows`` has them), and the parent's toggle hides exactly what is built on
it. Screenshots of the 1,000-image export, at 1440x900 and 1920x1080 (a projector), go to
``SCREENSHOT_DIR``.

The 1,000 images do not fit readably: the page opens on the first family's root at a
readable scale, with a minimap whose rectangle follows the view and which moves it when
clicked or dragged; Fit shows the whole tree, Home the start again. A centred image stays
centred as the window is resized, and the page's text is at least 14 px at 1440x900 and
15.5 px at 1920x1080.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import main as cli
from image_lineage.insights import layer_rows
from image_lineage.lineage import Lineage
from image_lineage.render.dot import node_ids
from image_lineage.text import human_size
from tests.e2e.conftest import BigCollection
from tests.e2e.test_big_collection import PROJECTOR
from tests.e2e.test_browser import MIN_HEIGHT, WIDTH
from tests.e2e.test_interactive import (
    centre_offset,
    only_files,
    sample,
    scale,
    transform,
    visible_nodes,
    watched,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300), pytest.mark.usefixtures("graphviz")]


def expected_steps(lineage: Lineage, image_id: str) -> list[list[str]]:
    """The inspector's rows (step, instruction, size) as ``insights.layer_rows`` has them."""
    return [
        [str(r.number), r.instruction, human_size(r.size) if r.layer else "0 B (metadata)"]
        for r in layer_rows(lineage, image_id)
    ]


def inspected(page: Any, lineage: Lineage, image_id: str) -> None:
    """The inspector shows ``image_id``: its name and its steps, oldest first."""
    inspector = page.locator("#inspector")
    name = lineage.node(image_id).image.display_name
    assert inspector.locator("h2").text_content() == f"Inspecting {name}"
    cells = inspector.locator("table.steps tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    assert [row[:3] for row in cells] == expected_steps(lineage, image_id)
    assert inspector.locator(".split-bar").count() == len(lineage.ancestors(image_id)) + 1
    side = inspector.bounding_box()
    tree_box = page.locator("#tree").bounding_box()
    assert side["x"] >= tree_box["x"] + tree_box["width"], "the inspector is beside the tree"
    assert side["y"] < MIN_HEIGHT


READABLE = 0.8  # the least scale at which the drawing's 11-14 px labels are read (9-11 px)
SMALLEST_TEXT = {1440: 14.0, 1920: 15.5}  # px: the page's text, by window width

# Every element outside the drawing with text of its own, shown: [font size px, its text].
PAGE_TEXT = """() => [...document.querySelectorAll('body *')].filter(e =>
    !e.closest('svg') && e.checkVisibility() &&
    [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
).map(e => [parseFloat(getComputedStyle(e).fontSize), e.textContent.trim().slice(0, 40)])"""


def centred_in_host(page: Any, selector: str) -> float:
    """How far (px) a box's centre is from the tree's area's centre (the whole area in view)."""
    box = page.locator(selector).first.bounding_box()
    host = page.locator("#tree .tree-stage").bounding_box()
    assert host["y"] + host["height"] <= page.viewport_size["height"], "the tree's area is wholly in view"
    dx = box["x"] + box["width"] / 2 - (host["x"] + host["width"] / 2)
    dy = box["y"] + box["height"] / 2 - (host["y"] + host["height"] / 2)
    return float((dx**2 + dy**2) ** 0.5)


def text_too_small(page: Any, width: int) -> list[Any]:
    """The page's texts smaller than it should have at this window width."""
    least = SMALLEST_TEXT[width]
    return [item for item in page.evaluate(PAGE_TEXT) if item[0] < least]


def minimap_frame_centre(page: Any) -> tuple[float, float]:
    frame = page.locator(".tree-minimap-frame").bounding_box()
    return frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2


@pytest.fixture(params=["sample", "1000 images"])
def exported(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Lineage, Path]:
    """The lineage, and its export as the command line writes it."""
    if request.param == "sample":
        lineage, spec = sample(), "sample"
    else:
        big: BigCollection = request.getfixturevalue("big_collection")
        lineage, spec = big.lineage, f"snapshot:{big.snapshot}"
    path = tmp_path / "lineage.html"
    assert cli(["export", "--source", spec, "--format", "html", "-o", str(path)]) == 0
    return lineage, path


def test_the_html_export_clicked_through_from_disk(
    chromium: Any, exported: tuple[Lineage, Path], screenshot_dir: Path
) -> None:
    lineage, path = exported
    ids = node_ids(lineage)
    target = max(
        (n for n in lineage.nodes() if n.image.tags), key=lambda n: (len(lineage.ancestors(n.id)), n.id)
    )
    parent = target.parent
    assert parent is not None
    name = target.image.display_name
    context = chromium.new_context(viewport={"width": WIDTH, "height": MIN_HEIGHT})
    requests = only_files(context)
    page, errors = watched(context)
    try:
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready]", timeout=60_000)
        assert visible_nodes(page) == len(lineage)
        assert page.locator("#inspector h2").text_content() == "Click a box to inspect an image"
        assert not text_too_small(page, WIDTH), text_too_small(page, WIDTH)

        # The wheel zooms.
        before = scale(page)
        box = page.locator("#tree").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, -400)
        time.sleep(0.2)
        assert scale(page) > before * 1.5, "the wheel zooms in"
        page.get_by_role("button", name="Fit the whole tree (0)").click()
        assert scale(page) <= before

        # Search: one image, highlighted and centred; Enter inspects it.
        page.fill("#search", name)
        assert page.locator(".search-count").text_content() == "1 image match"
        assert page.locator("g.node.match").count() == 1
        assert page.locator(f'g.node.match[data-node="{ids[target.id]}"]').count() == 1
        assert centre_offset(page, "g.node.match", "#tree .tree-stage") < 40, "the match is centred"
        page.keyboard.press("Enter")
        inspected(page, lineage, target.id)
        assert page.locator(f'g.node.picked[data-node="{ids[target.id]}"]').count() == 1
        # Resized (a projector, then back), the window keeps the image centred.
        assert centred_in_host(page, "g.node.match") < 40
        page.set_viewport_size(PROJECTOR)
        time.sleep(0.5)
        assert centred_in_host(page, "g.node.match") < 40, "centred in the bigger window"
        if len(lineage) > 100:
            page.screenshot(path=str(screenshot_dir / "export-html-1000-1920.png"))
        page.locator("g.node.match").hover()  # its tooltip, to be read too
        page.locator(".tree-tooltip").wait_for(state="visible")
        assert not text_too_small(page, PROJECTOR["width"]), text_too_small(page, PROJECTOR["width"])
        page.mouse.move(0, 0)
        page.set_viewport_size({"width": WIDTH, "height": MIN_HEIGHT})
        time.sleep(0.5)
        assert centred_in_host(page, "g.node.match") < 40, "centred in the smaller window again"
        if len(lineage) > 100:
            page.screenshot(path=str(screenshot_dir / "export-html-1000.png"))
        page.fill("#search", "")
        assert page.locator("g.node.match").count() == 0

        # A click on its parent's box inspects the parent.
        page.locator(f'g.node[data-node="{ids[parent]}"]').click()
        inspected(page, lineage, parent)
        assert page.locator(f'g.node.picked[data-node="{ids[parent]}"]').count() == 1

        # The parent's toggle hides exactly what is built on it; Expand all shows it again.
        hidden = lineage.descendants(parent)
        page.locator(f'[data-toggle="{ids[parent]}"]').click()
        assert visible_nodes(page) == len(lineage) - len(hidden)
        assert all(page.locator(f'g.node[data-node="{ids[n.id]}"]').is_hidden() for n in hidden)
        page.get_by_role("button", name="Show every collapsed family again").click()
        assert visible_nodes(page) == len(lineage)
        assert not errors, errors
        assert not requests, f"the export asked for: {requests}"
    finally:
        context.close()


def test_a_big_export_opens_readable_with_a_minimap(
    chromium: Any, big_collection: BigCollection, tmp_path: Path
) -> None:
    lineage = big_collection.lineage
    path = tmp_path / "lineage.html"
    assert cli(["export", "--source", f"snapshot:{big_collection.snapshot}", "-o", str(path)]) == 0
    ids = node_ids(lineage)
    root = ids[next(iter(lineage.walk()))[1].id]  # the first family's root, drawn first
    context = chromium.new_context(viewport={"width": WIDTH, "height": MIN_HEIGHT})
    page, errors = watched(context)
    try:
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready]", timeout=60_000)
        assert page.locator("g.node").first.get_attribute("data-node") == root

        # Readable, the root at the top, in the middle.
        assert scale(page) >= READABLE
        start = transform(page)
        host = page.locator("#tree .tree-stage").bounding_box()  # the drawing's area (no bar, no minimap)
        box = page.locator(f'g.node[data-node="{root}"]').bounding_box()
        assert host["y"] + 8 <= box["y"] <= host["y"] + 120, "the root is at the top"
        assert abs(box["x"] + box["width"] / 2 - (host["x"] + host["width"] / 2)) < 20

        # A minimap, whose rectangle (what the view shows) is small and at the top.
        minimap = page.locator(".tree-minimap")
        minimap.wait_for(state="visible")
        canvas = page.locator(".tree-minimap canvas").bounding_box()
        frame = page.locator(".tree-minimap-frame").bounding_box()
        assert frame["width"] < canvas["width"] / 4
        assert frame["y"] - canvas["y"] < canvas["height"] / 4

        # A click on its left end moves the view there; a drag carries it along.
        target = (canvas["x"] + canvas["width"] * 0.1, canvas["y"] + canvas["height"] * 0.5)
        page.mouse.click(*target)
        assert transform(page) != start
        x, y = minimap_frame_centre(page)
        assert abs(x - target[0]) < 3, "the view is where the minimap was clicked"
        assert abs(y - target[1]) < 3, "the view is where the minimap was clicked"
        page.mouse.move(*target)
        page.mouse.down()
        end = (canvas["x"] + canvas["width"] * 0.6, canvas["y"] + canvas["height"] * 0.4)
        page.mouse.move(*end, steps=5)
        page.mouse.up()
        x, y = minimap_frame_centre(page)
        assert abs(x - end[0]) < 3, "the view follows a drag on the minimap"
        assert abs(y - end[1]) < 3, "the view follows a drag on the minimap"
        assert scale(page) >= READABLE, "the minimap moves, it does not zoom"

        # Fit shows the whole tree (the rectangle the whole minimap); 0 after a zoom too.
        page.get_by_role("button", name="Fit the whole tree (0)").click()
        assert scale(page) < 0.1
        frame = page.locator(".tree-minimap-frame").bounding_box()
        canvas = page.locator(".tree-minimap canvas").bounding_box()
        assert frame["width"] >= canvas["width"] - 2
        page.locator("#tree").focus()
        page.keyboard.press("Home")
        assert transform(page) == start, "Home goes back to the start"
        assert not errors, errors
    finally:
        context.close()
