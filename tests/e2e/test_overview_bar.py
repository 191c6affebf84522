"""The bar above a family's tree (``ui/overview._tree_bar``) in Chromium: nothing cut short.

With an image picked the tree has three fifths of the page; at 1440x900 fixed column
shares used to cut “Back to the overview” and “Group tags by repository” to an ellipsis.
The 1,000-image snapshot is uploaded, an image picked (its family opens, its inspector
beside the tree), the grouping switched on and off, at 1440x900 and at 1920x1080: every
text of the bar is whole, and the bar stays left of the inspector.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from image_lineage import overview
from tests.e2e.conftest import BIG_COUNT, BigCollection, RunningApp, upload_snapshot
from tests.e2e.test_browser import MIN_HEIGHT, WIDTH
from tests.e2e.test_interactive import app_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SIZES = ({"width": WIDTH, "height": MIN_HEIGHT}, {"width": 1920, "height": 1080})
BACK = "Back to the overview"

# The texts of the bar (the row holding the back button) that overflow their box: an
# ellipsis is a box narrower than its text, with the overflow hidden.
CUT_IN_BAR = """(back) => {
    const button = [...document.querySelectorAll('button')].find(b => b.innerText.includes(back));
    const bar = button.closest('[data-testid="stHorizontalBlock"]');
    return [...bar.querySelectorAll('*')]
        .filter(e => e.offsetParent !== null && (e.innerText || '').trim()
            && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
        .map(e => e.innerText.trim());
}"""

BAR_RIGHT = """(back) => {
    const button = [...document.querySelectorAll('button')].find(b => b.innerText.includes(back));
    const bar = button.closest('[data-testid="stHorizontalBlock"]');
    return Math.max(...[...bar.children].map(c => c.getBoundingClientRect().right));
}"""


def idle(page: Any) -> None:
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
    time.sleep(1.0)


def check_bar(page: Any, texts: list[str]) -> None:
    inspector = page.get_by_role("heading", name="Inspecting").bounding_box()
    for size in SIZES:
        page.set_viewport_size(size)
        time.sleep(1.0)
        for text in texts:
            page.get_by_text(text, exact=True).first.wait_for()  # shown (it waits)
        cut = page.evaluate(CUT_IN_BAR, BACK)
        assert cut == [], f"cut short at {size['width']}x{size['height']}: {cut}"
        inspector = page.get_by_role("heading", name="Inspecting").bounding_box()
        assert page.evaluate(BAR_RIGHT, BACK) <= inspector["x"], "the bar stays beside the inspector"
    page.set_viewport_size(SIZES[0])


def test_the_bar_above_a_family_is_whole_beside_the_inspector(
    app: RunningApp, chromium: Any, big_collection: BigCollection, screenshot_dir: Path
) -> None:
    lineage = big_collection.lineage
    biggest = overview.families(lineage)[0]
    picked = next(node for node in lineage.children(biggest.root) if node.image.tags).image.tags[0]
    with app_page(chromium, app.url, SIZES[0]) as (page, remote, errors):
        idle(page)
        upload_snapshot(page, big_collection.snapshot)
        page.get_by_text(f"{BIG_COUNT} images in").wait_for(timeout=60_000)
        page.get_by_label("Inspect an image").first.click()
        page.keyboard.type(picked)
        time.sleep(0.5)
        page.keyboard.press("Enter")
        page.get_by_role("button", name=BACK).wait_for(timeout=60_000)
        page.get_by_role("heading", name="Inspecting").wait_for(timeout=60_000)
        idle(page)
        check_bar(page, [BACK, "Group tags by repository"])

        page.get_by_text("Group tags by repository", exact=True).click()
        page.get_by_text("Show each image of", exact=True).wait_for(timeout=60_000)
        idle(page)
        check_bar(page, [BACK, "Group tags by repository", "Show each image of"])
        page.screenshot(path=str(screenshot_dir / "app-family-bar-inspected.png"))
        assert not errors, errors
        assert not remote, f"the page asked for non-local addresses: {remote}"
