"""What a window of each common size shows (issue 18): the sample, a 30-image family, the
overview of 1,000 images and the lesson, at 1280x720 (a small projector), 1440x900 (a
laptop) and 1920x1080 (a projector). ``make screenshots`` writes them to docs/screenshots
as ``screen-<what>-<width>x<height>.png``; each run also checks that the tree, where there is
one, is drawn in the window and is readable there.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import BigCollection, RunningApp, upload_snapshot
from tests.e2e.test_big_collection import overview_shown
from tests.e2e.test_browser import settle, tree
from tests.e2e.test_interactive import app_page
from tests.e2e.test_lesson import lesson_on
from tests.e2e.test_readable import assert_readable, assert_uncovered, family_snapshot, measure

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SIZES = ((1280, 720), (1440, 900), (1920, 1080))


def shoot_sizes(page: Any, folder: Path, what: str, *, has_tree: bool) -> None:
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        time.sleep(1.5)  # the layout and the tree settle at the new size
        page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
        if has_tree:
            reading = measure(page, f"{what} at {width}x{height}")
            assert_uncovered(reading, f"{what} at {width}x{height}")
            if height >= 900:  # at 720 px high the tree starts near the window's bottom
                assert_readable(reading, f"{what} at {width}x{height}")
        page.screenshot(path=str(folder / f"screen-{what}-{width}x{height}.png"))


def test_the_sample(app: RunningApp, chromium: Any, screenshot_dir: Path) -> None:
    with app_page(chromium, app.url) as (page, _remote, errors):
        settle(page)
        shoot_sizes(page, screenshot_dir, "sample", has_tree=True)
        assert not errors


def test_a_30_image_family(app: RunningApp, chromium: Any, screenshot_dir: Path, tmp_path: Path) -> None:
    snapshot = family_snapshot(tmp_path)
    with app_page(chromium, app.url) as (page, _remote, errors):
        settle(page)
        upload_snapshot(page, snapshot)
        tree(page).locator('g.node[data-node]:has-text("bench/image29")').first.wait_for(timeout=60_000)
        settle(page)
        shoot_sizes(page, screenshot_dir, "family30", has_tree=True)
        assert not errors


def test_the_overview(
    app: RunningApp, chromium: Any, big_collection: BigCollection, screenshot_dir: Path
) -> None:
    with app_page(chromium, app.url) as (page, _remote, errors):
        settle(page)
        upload_snapshot(page, big_collection.snapshot)
        overview_shown(page, big_collection.lineage)
        shoot_sizes(page, screenshot_dir, "overview", has_tree=False)
        assert not errors


def test_the_lesson(app: RunningApp, chromium: Any, screenshot_dir: Path) -> None:
    with app_page(chromium, app.url) as (page, _remote, errors):
        settle(page)
        lesson_on(page)
        shoot_sizes(page, screenshot_dir, "lesson", has_tree=False)
        assert not errors
