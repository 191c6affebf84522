"""A search in a family opened from the overview, then cleared: the family's tree comes back whole.

Among 1,000 images (``bench/synthetic_images.py``, uploaded as a snapshot) the page opens on
the overview; a row of the families table opens the biggest family's tree. A search there
shows the matching image's tree; clearing it brings the family's tree back, drawn again
from the digest the page had sent before the search, with every box, its root first and in
view (a session once left it without its first box).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from image_lineage import overview
from image_lineage.render.dot import node_ids
from image_lineage.views import focus
from tests.e2e.conftest import BigCollection, RunningApp, upload_snapshot
from tests.e2e.test_big_collection import ROW_HEIGHT, overview_shown
from tests.e2e.test_browser import settle, tree
from tests.e2e.test_interactive import app_page, visible_nodes

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def root_in_view(page: Any, root: str) -> None:
    """The family's root box is drawn, not hidden, and inside the tree's area."""
    box = tree(page).locator(f'g.node[data-node="{root}"]')
    assert box.count() == 1, "the root's box is drawn"
    assert "hidden" not in (box.get_attribute("class") or "")
    where = box.bounding_box()
    host = tree(page).locator(".tree-host").first.bounding_box()
    assert where is not None
    assert host is not None
    assert where["width"] > 20, where
    inside = (
        host["x"] <= where["x"],
        where["x"] + where["width"] <= host["x"] + host["width"],
        host["y"] <= where["y"],
        where["y"] + where["height"] <= host["y"] + host["height"],
    )
    assert all(inside), (where, host)


def test_clearing_a_search_in_an_opened_family_brings_its_tree_back(
    app: RunningApp, chromium: Any, big_collection: BigCollection, screenshot_dir: Path
) -> None:
    lineage = big_collection.lineage
    biggest = overview.families(lineage)[0]
    family = focus(lineage, biggest.root)
    root = node_ids(lineage)[biggest.root]
    wanted = max(family.nodes(), key=lambda n: (len(family.ancestors(n.id)), n.id)).image.display_name
    with app_page(chromium, app.url) as (page, remote, errors):
        settle(page)
        upload_snapshot(page, big_collection.snapshot)
        overview_shown(page, lineage)
        grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
        assert grid is not None
        page.mouse.click(grid["x"] + 16, grid["y"] + ROW_HEIGHT * 1.5)  # the first row: the biggest
        page.get_by_role("button", name="Back to the overview").wait_for(timeout=60_000)
        settle(page)
        assert visible_nodes(tree(page)) == len(family)
        root_in_view(page, root)

        page.get_by_label("Find an image").fill(wanted)
        page.keyboard.press("Enter")
        tree(page).locator("g.node.match").first.wait_for(timeout=60_000)
        settle(page)
        assert visible_nodes(tree(page)) < len(family)

        page.get_by_label("Find an image").fill("")
        page.keyboard.press("Enter")
        page.wait_for_function(
            """n => {
                const tree = '.st-key-tree [data-testid="stBidiComponentIsolated"]';
                const root = document.querySelector(tree)?.shadowRoot;
                return root && root.querySelectorAll('g.node:not(.hidden)').length === n;
            }""",
            arg=len(family),
            timeout=60_000,
        )
        settle(page)
        assert tree(page).locator("g.node.match").count() == 0
        assert visible_nodes(tree(page)) == len(family)
        root_in_view(page, root)
        page.screenshot(path=str(screenshot_dir / "app-big-family-search-cleared.png"))
        assert not errors, errors
        assert not remote, f"the page asked for non-local addresses: {remote}"
