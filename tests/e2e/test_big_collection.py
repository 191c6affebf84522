"""A 1,000-image collection in Chromium: the overview first, then one family's tree to explore.

The snapshot (``bench/synthetic_images.py``: ten families, one of 363 images) is uploaded
through the page's snapshot uploader, as a user would. The page starts from the overview
(the families table and the treemap), a row of the table opens the biggest family's tree,
and that tree is interactive: the wheel changes its transform, a box's toggle hides exactly
its descendants, clicking a box opens that image's inspector beside the tree in a 1440x900
window, and a search highlights and centres its match. Screenshots of the overview and
of the big family, at 1440x900 and at 1920x1080 (a projector), go to ``SCREENSHOT_DIR``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from image_lineage import overview
from image_lineage.lineage import Lineage
from image_lineage.render.dot import node_ids
from image_lineage.views import focus
from tests.e2e.conftest import BIG_COUNT, BigCollection, RunningApp, upload_snapshot
from tests.e2e.test_browser import GRAPH, MIN_HEIGHT, WIDTH, in_first_screen, settle, tree
from tests.e2e.test_interactive import app_page, centre_offset, scale, transform, visible_nodes

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PROJECTOR = {"width": 1920, "height": 1080}
ROW_HEIGHT = 35  # px: a row of Streamlit's data grid, its header too


def overview_shown(page: Any, lineage: Lineage) -> None:
    families = overview.families(lineage)
    page.get_by_text(f"{BIG_COUNT} images in {len(families)} families").wait_for(timeout=60_000)
    page.locator('[data-testid="stEChartsChart"] canvas').first.wait_for(timeout=60_000)
    time.sleep(1.0)  # the treemap's animation


def projector_screenshot(page: Any, path: Path, *, wait_for_tree: bool) -> None:
    """What a 1920x1080 window shows, then back to 1440x900."""
    page.set_viewport_size(PROJECTOR)
    if wait_for_tree:
        settle(page)
    time.sleep(1.0)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": WIDTH, "height": MIN_HEIGHT})
    time.sleep(0.5)


def tree_host(page: Any) -> Any:
    """The tree's own element (``.tree-host``, in the component's shadow root), to run scripts on."""
    return tree(page).locator(".tree-host").first


def seen_centre(frame: Any) -> tuple[float, float]:
    """The middle of what the window shows of the drawing's area (its bottom may be below)."""
    stage = frame.locator(".tree-stage").first.bounding_box()
    bottom = min(stage["y"] + stage["height"], MIN_HEIGHT)
    return stage["x"] + stage["width"] / 2, (stage["y"] + bottom) / 2


def boxes_in_view(host_element: Any) -> list[str]:
    """Node ids (``img_…``) of the boxes wholly inside what the window shows of the drawing's area."""
    ids: list[str] = host_element.evaluate(
        """tree => {
            const host = (tree.querySelector('.tree-stage') || tree).getBoundingClientRect();
            return [...tree.querySelectorAll('g.node:not(.hidden)')].filter(g => {
                const r = g.getBoundingClientRect();
                return r.left >= host.left + 10 && r.right <= host.right - 10 && r.top >= host.top + 10
                    && r.bottom <= Math.min(host.bottom, innerHeight) - 10 && r.width > 30;
            }).map(g => g.getAttribute('data-node'));
        }"""
    )
    return ids


def test_the_overview_opens_a_family_whose_tree_can_be_explored(
    app: RunningApp, chromium: Any, big_collection: BigCollection, screenshot_dir: Path
) -> None:
    lineage = big_collection.lineage
    families = overview.families(lineage)
    biggest = families[0]
    family = focus(lineage, biggest.root)
    ids = node_ids(lineage)
    by_node = {ids[node.id]: node.id for node in family.nodes()}
    with app_page(chromium, app.url) as (page, remote, errors):
        settle(page)
        upload_snapshot(page, big_collection.snapshot)

        # The overview, not a tree of 1,000 boxes: a row per family, biggest disk user first.
        overview_shown(page, lineage)
        assert page.locator(GRAPH).count() == 0, "no tree under the overview"
        grid = page.locator('[data-testid="stDataFrame"]').first
        first_row = [
            grid.locator(f'[data-testid="glide-cell-{column}-0"]').text_content() for column in (1, 2)
        ]
        assert first_row == [biggest.name, str(len(biggest.ids))]
        in_first_screen(page, '[data-testid="stDataFrame"]')
        in_first_screen(page, '[data-testid="stEChartsChart"]')
        page.screenshot(path=str(screenshot_dir / "app-overview.png"))
        projector_screenshot(page, screenshot_dir / "app-overview-1920.png", wait_for_tree=False)

        # Search: one image found among a thousand (with its ancestors: a small tree),
        # highlighted and centred; clearing the search brings the overview back.
        wanted = max(family.nodes(), key=lambda n: (len(family.ancestors(n.id)), n.id)).image.display_name
        page.get_by_label("Find an image").fill(wanted)
        page.keyboard.press("Enter")
        settle(page)
        frame = tree(page)
        frame.locator("g.node.match").first.wait_for(timeout=60_000)
        assert frame.locator("g.node.match").count() == 1
        assert wanted in (frame.locator("g.node.match").first.text_content() or "").replace("\n", "")
        assert centre_offset(frame, "g.node.match") < 40, "the match is centred"
        page.get_by_label("Find an image").fill("")
        page.keyboard.press("Enter")
        overview_shown(page, lineage)

        # A click on the first row (the row's checkbox) opens that family's tree.
        table = grid.bounding_box()
        assert table is not None
        page.mouse.click(table["x"] + 16, table["y"] + ROW_HEIGHT * 1.5)
        page.get_by_role("button", name="Back to the overview").wait_for(timeout=60_000)
        settle(page)
        frame = tree(page)
        assert visible_nodes(frame) == len(family)
        page.get_by_text(f"The family of {biggest.name}: {len(family)} of {BIG_COUNT} images").wait_for()
        in_first_screen(page, GRAPH)
        page.screenshot(path=str(screenshot_dir / "app-big-family.png"))
        projector_screenshot(page, screenshot_dir / "app-big-family-1920.png", wait_for_tree=True)
        frame = tree(page)

        # A big family opens readable, on its root (with a minimap to find one's way), not
        # as a strip of specks; Fit shows the whole of it.
        assert scale(frame) >= 0.5, "a big family opens at a readable zoom"
        assert boxes_in_view(tree_host(page)), "it opens on readable boxes"
        assert frame.locator(".tree-minimap").count() == 1
        frame.get_by_role("button", name="Fit the whole tree (0)").click()
        time.sleep(0.3)
        assert scale(frame) < 0.5, "Fit shows the whole family"

        # Zoom: the wheel changes the transform.
        fitted = transform(frame)
        before = scale(frame)
        page.mouse.move(*seen_centre(frame))
        page.mouse.wheel(0, -600)
        time.sleep(0.3)
        assert scale(frame) > before * 1.5, "the wheel zooms in"
        assert transform(frame) != fitted

        # Collapse: a box with descendants, in view, hides exactly them; Expand all shows them.
        in_view = boxes_in_view(tree_host(page))
        assert in_view, "zoomed in, some boxes are readable"
        parent = max(in_view, key=lambda n: (len(family.descendants(by_node[n])), n))
        hidden = len(family.descendants(by_node[parent]))
        assert hidden > 0
        frame.locator(f'[data-toggle="{parent}"]').click()
        assert visible_nodes(frame) == len(family) - hidden
        for child in family.descendants(by_node[parent]):
            assert frame.locator(f'g.node.hidden[data-node="{ids[child.id]}"]').count() == 1
        frame.get_by_role("button", name="Show every collapsed family again").click()
        assert visible_nodes(frame) == len(family)

        # Click a box (zoomed in): that image's inspector, beside the tree, in the first screen.
        page.mouse.move(*seen_centre(frame))
        page.mouse.wheel(0, -600)
        time.sleep(0.3)
        in_view = boxes_in_view(tree_host(page))
        assert in_view, "zoomed in, some boxes are readable"
        target = in_view[len(in_view) // 2]
        image = lineage.node(by_node[target]).image
        frame.locator(f'g.node[data-node="{target}"]').click()
        heading = page.get_by_role("heading", name="Inspecting")
        heading.wait_for(timeout=60_000)
        settle(page)
        assert image.display_name in (heading.text_content() or "")
        inspector = in_first_screen(page, '[data-testid="stHeading"]:has-text("Inspecting")')
        graph = in_first_screen(page, GRAPH)
        assert inspector["x"] >= graph["x"] + graph["width"], "the inspector is beside the tree"
        page.get_by_text("Its steps, oldest first").wait_for()
        assert tree(page).locator(f'g.node.picked[data-node="{target}"]').count() == 1
        page.screenshot(path=str(screenshot_dir / "app-big-family-inspected.png"))
        projector_screenshot(page, screenshot_dir / "app-big-family-inspected-1920.png", wait_for_tree=True)
        assert not errors, errors
        assert not remote, f"the page asked for non-local addresses: {remote}"
