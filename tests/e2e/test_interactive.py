"""The interactive tree in Chromium: in the app (a Streamlit component) and in the HTML export.

In the app: the wheel, a drag and the keys move the drawing, Fit puts it back, a box's
toggle hides what is built on it, hovering shows its details, clicking a box opens that
image's inspector beside the graph in a 1440x900 window, and a search highlights and
centres what it finds. The HTML export is opened from ``file://`` with every other request
refused: it works offline, and its inspector shows the image's steps. Screenshots go to
``SCREENSHOT_DIR`` (docs/screenshots), else a temporary directory.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from image_lineage.insights import layer_rows
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.render import render
from image_lineage.render.dot import node_ids
from image_lineage.sources import SampleSource
from image_lineage.text import human_size
from tests.e2e.conftest import RunningApp
from tests.e2e.test_browser import GRAPH, MIN_HEIGHT, WIDTH, in_first_screen, refuse_remote, settle, tree

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

TRANSFORM = "el => el.getAttribute('transform')"


def sample() -> Lineage:
    scan = SampleSource().scan()
    return build_lineage(scan.images, scan.source)


def deepest(lineage: Lineage) -> str:
    """The tagged image with the most ancestors."""
    tagged = [n for n in lineage.nodes() if n.image.tags]
    return max(tagged, key=lambda n: (len(lineage.ancestors(n.id)), n.id)).id


def widest(lineage: Lineage) -> str:
    """The image with the most descendants (the one to collapse)."""
    return max(lineage.nodes(), key=lambda n: (len(lineage.descendants(n.id)), n.id)).id


def transform(where: Any) -> str:
    value: str = where.locator(".tree-viewport").evaluate(TRANSFORM)
    return value


def scale(where: Any) -> float:
    match = re.search(r"scale\(([\d.]+)\)", transform(where))
    assert match is not None
    return float(match.group(1))


def centre_offset(where: Any, box_selector: str, host_selector: str = ".tree-stage") -> float:
    """How far (px) a box's centre is from the middle of what the window shows of the drawing."""
    box = where.locator(box_selector).first.bounding_box()
    host = where.locator(host_selector).first.bounding_box()
    assert box is not None
    assert host is not None
    bottom = min(host["y"] + host["height"], MIN_HEIGHT)
    dx = box["x"] + box["width"] / 2 - (host["x"] + host["width"] / 2)
    dy = box["y"] + box["height"] / 2 - (host["y"] + bottom) / 2
    return float((dx**2 + dy**2) ** 0.5)


def all_inside(where: Any, box_selector: str) -> bool:
    """Whether every box of ``box_selector`` lies wholly inside the drawing's area."""
    inside: bool = where.locator(".tree-stage").first.evaluate(
        """(stage, selector) => {
            const s = stage.getBoundingClientRect();
            return [...stage.querySelectorAll(selector)].every(g => {
                const r = g.getBoundingClientRect();
                return r.left >= s.left && r.right <= s.right && r.top >= s.top && r.bottom <= s.bottom;
            });
        }""",
        box_selector,
    )
    return inside


def visible_nodes(where: Any) -> int:
    count: int = where.locator("g.node:not(.hidden)").count()
    return count


def only_files(context: Any) -> list[str]:
    """Let the page load ``file://`` URLs only; the list fills with every other URL it asked for."""
    requests: list[str] = []

    def refuse(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    context.route("**/*", refuse)
    return requests


def watched(context: Any) -> tuple[Any, list[str]]:
    """A new page of ``context``, and the script errors it will meet."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


@contextmanager
def app_page(
    chromium: Any, url: str, viewport: dict[str, int] | None = None
) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A page of a fresh browser context opened at ``url`` (the app), refusing every request to a
    non-local address: the page, the remote URLs it asked for, and its script errors. The
    context is closed on the way out."""
    context = chromium.new_context(viewport=viewport or {"width": WIDTH, "height": MIN_HEIGHT})
    remote = refuse_remote(context)
    page, errors = watched(context)
    try:
        page.goto(url)
        yield page, remote, errors
    finally:
        context.close()


def move_and_zoom(page: Any, where: Any) -> None:
    """Wheel, drag and keys change the drawing's transform; Fit and 0 put it back."""
    host = where.locator(".tree-host").first
    box = host.bounding_box()
    # The tree may open on one family, readable (issue 18): Fit shows the whole of it.
    where.get_by_role("button", name="Fit the whole tree (0)").click()
    fitted = transform(where)
    before = scale(where)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    time.sleep(0.2)
    assert scale(where) > before * 1.5, "the wheel zooms in"
    zoomed = transform(where)
    page.mouse.move(box["x"] + 60, box["y"] + 60)  # a drag from an empty corner
    page.mouse.down()
    page.mouse.move(box["x"] + 160, box["y"] + 120, steps=5)
    page.mouse.up()
    assert transform(where) != zoomed, "a drag moves the drawing"
    where.get_by_role("button", name="Fit the whole tree (0)").click()
    assert transform(where) == fitted, "Fit shows the whole tree again"
    host.focus()
    page.keyboard.press("+")
    assert scale(where) > before, "+ zooms in"
    moved = transform(where)
    page.keyboard.press("ArrowLeft")
    assert transform(where) != moved, "arrows move the drawing"
    page.keyboard.press("0")
    assert transform(where) == fitted, "0 fits"


def test_the_tree_in_the_app(app: RunningApp, chromium: Any, screenshot_dir: Path) -> None:
    lineage = sample()
    ids = node_ids(lineage)
    with app_page(chromium, app.url) as (page, remote, errors):
        settle(page)
        frame = tree(page)
        assert visible_nodes(frame) == len(lineage)
        move_and_zoom(page, frame)

        # A search of several matches zooms to show all of them: none cut off at an edge.
        page.get_by_label("Find an image").fill("notebook")
        page.keyboard.press("Enter")
        settle(page)
        frame = tree(page)
        frame.locator("g.node.match").first.wait_for(timeout=60_000)
        assert frame.locator("g.node.match").count() > 3
        assert all_inside(frame, "g.node.match"), "every match is in view"
        page.get_by_label("Find an image").fill("")
        page.keyboard.press("Enter")
        settle(page)
        frame = tree(page)
        frame.get_by_role("button", name="Fit the whole tree (0)").click()

        # Collapse what is built on the widest image, then show it again.
        parent = widest(lineage)
        hidden = len(lineage.descendants(parent))
        frame.locator(f'[data-toggle="{ids[parent]}"]').click()
        assert visible_nodes(frame) == len(lineage) - hidden
        assert frame.locator(f'g.edge.hidden[data-title^="{ids[parent]}->"]').count() >= 1
        screenshot_collapsed = screenshot_dir / "first-app-tree-collapsed.png"
        page.screenshot(path=str(screenshot_collapsed))
        frame.locator(f'[data-toggle="{ids[parent]}"]').click()
        assert visible_nodes(frame) == len(lineage)

        # Hover: the image's details.
        target = deepest(lineage)
        image = lineage.node(target).image
        box = frame.locator(f'g.node[data-node="{ids[target]}"]')
        box.hover()
        tooltip = frame.locator(".tree-tooltip")
        tooltip.wait_for(state="visible")
        assert image.display_name in tooltip.text_content()
        assert image.id in tooltip.text_content()
        page.screenshot(path=str(screenshot_dir / "first-app-tree-hover.png"))

        # Click: the image is picked and inspected beside the graph, in the first screen.
        box.click()
        heading = page.get_by_role("heading", name="Inspecting")
        heading.wait_for(timeout=60_000)
        settle(page)
        assert image.display_name in heading.text_content()
        inspector = in_first_screen(page, '[data-testid="stHeading"]:has-text("Inspecting")')
        graph = in_first_screen(page, GRAPH)
        assert inspector["x"] >= graph["x"] + graph["width"], "the inspector is beside the graph"
        frame = tree(page)
        assert frame.locator("g.node.picked").count() == 1
        assert frame.locator(f'g.node.picked[data-node="{ids[target]}"]').count() == 1
        assert not frame.locator(".tree-tooltip").is_visible(), "the click put the tooltip away"
        page.screenshot(path=str(screenshot_dir / "first-app-tree-clicked.png"))

        # Search: the matches are highlighted and the first is centred.
        page.get_by_label("Find an image").fill("outside-world")
        page.keyboard.press("Enter")
        settle(page)
        frame = tree(page)
        frame.locator("g.node.match").first.wait_for(timeout=60_000)
        assert frame.locator("g.node.match").count() == 1
        assert centre_offset(frame, "g.node.match") < 40, "the match is centred"
        page.screenshot(path=str(screenshot_dir / "first-app-tree-search.png"))
        assert not errors, errors
        assert not remote, f"the page asked for non-local addresses: {remote}"


@pytest.mark.usefixtures("graphviz")
def test_the_html_export_works_offline(chromium: Any, tmp_path: Path, screenshot_dir: Path) -> None:
    lineage = sample()
    ids = node_ids(lineage)
    path = tmp_path / "lineage.html"
    path.write_text(str(render(lineage, "html")), encoding="utf-8")
    context = chromium.new_context(viewport={"width": WIDTH, "height": MIN_HEIGHT})
    requests = only_files(context)
    page, errors = watched(context)
    try:
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready]")
        assert visible_nodes(page) == len(lineage)
        # It opens readable (issue 18): whole, or on one family with a minimap to find the rest.
        assert scale(page) >= 0.8, "the tree opens readable"
        if not all_inside(page, "g.node"):
            assert page.locator(".tree-minimap").is_visible(), "what is not shown, the minimap shows"
        move_and_zoom(page, page)

        target = deepest(lineage)
        page.locator(f'g.node[data-node="{ids[target]}"]').click()
        inspector = page.locator("#inspector")
        assert (
            inspector.locator("h2").text_content() == f"Inspecting {lineage.node(target).image.display_name}"
        )
        rows = layer_rows(lineage, target)
        cells = inspector.locator("table.steps tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
        )
        expected = [
            [str(r.number), r.instruction, human_size(r.size) if r.layer else "0 B (metadata)"] for r in rows
        ]
        assert [row[:3] for row in cells] == expected
        assert inspector.locator(".split-bar").count() == len(lineage.ancestors(target)) + 1
        # Beside the tree, in the window.
        tree_box = page.locator("#tree").bounding_box()
        side = inspector.bounding_box()
        assert side["x"] >= tree_box["x"] + tree_box["width"]
        assert side["y"] < MIN_HEIGHT
        page.screenshot(path=str(screenshot_dir / "first-export-html.png"))

        # Search highlights the matches and shows all of them (issue 18: none cut off).
        page.fill("#search", "tutorial")
        matches = [n for n in lineage.nodes() if any("tutorial" in t for t in n.image.tags)]
        assert len(matches) > 1
        assert page.locator("g.node.match").count() == len(matches)
        assert all_inside(page, "g.node.match"), "every match is in view"
        page.keyboard.press("Enter")
        assert (page.locator("#inspector h2").text_content() or "").startswith("Inspecting tutorial/")

        # Collapse and expand.
        page.get_by_role("button", name="Fit the whole tree (0)").click()
        parent = widest(lineage)
        page.locator(f'[data-toggle="{ids[parent]}"]').click()
        assert visible_nodes(page) == len(lineage) - len(lineage.descendants(parent))
        page.get_by_role("button", name="Show every collapsed family again").click()
        assert visible_nodes(page) == len(lineage)
        assert not errors, errors
        assert not requests, f"the export asked for: {requests}"
    finally:
        context.close()
