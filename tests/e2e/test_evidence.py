"""Bases named by build evidence, in Chromium: images recorded from real BuildKit builds
(tests/unit/fixtures/buildkit28-recorded/README.md) whose base has since been rebuilt under
its tag, the old build gone (what Engine 28's containerd store does).

The tree opens on the base that is not among the images, drawn as a thin grey dashed box;
the images on it carry the thick orange dashed “outdated base” mark. The inspector of an
image whose parent is known by its provenance says so, and so do the inspector and the
lesson of an image on the base that is not here. Screenshots of the tree, the two
inspectors, “Images to rebuild” and the lesson go to ``SCREENSHOT_DIR`` as ``app-evidence*.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from image_lineage.model import Scan
from image_lineage.sources.snapshot import dumps
from tests.app.test_app_evidence import rebuilt_base
from tests.builders import SOURCE
from tests.e2e.conftest import RunningApp, upload_snapshot
from tests.e2e.test_browser import screenshot, settle, tree
from tests.e2e.test_interactive import app_page
from tests.e2e.test_lesson import CHAPTER_1, choose, lesson_on

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

BASE = "team/base:1"
OUTSIDE = 'g.node[data-node]:has-text("not here")'


def rebuilt_base_snapshot(folder: Path) -> Path:
    """The recorded images with team/base:1 rebuilt from a new root, as a snapshot file."""
    path = folder / "buildkit-rebuilt-base.json"
    path.write_text(dumps(Scan(source=SOURCE, images=tuple(rebuilt_base()))))
    return path


def border(node: Any) -> tuple[str, bool]:
    """A box's border as drawn: its colour, and whether it is dashed."""
    shape = node.locator("path, polygon").first
    return shape.get_attribute("stroke") or "", bool(shape.get_attribute("stroke-dasharray"))


def inspect(page: Any, name: str) -> None:
    """Pick ``name`` in “Inspect an image”, as a user does, and wait for its inspector."""
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=f"Inspecting {name}").first.wait_for(timeout=60_000)
    settle(page)


def test_the_evidence_in_the_app(
    app: RunningApp, chromium: Any, screenshot_dir: Path, tmp_path: Path
) -> None:
    with app_page(chromium, app.url) as (page, remote, errors):
        settle(page)
        upload_snapshot(page, rebuilt_base_snapshot(tmp_path))
        tree(page).locator(OUTSIDE).first.wait_for(timeout=60_000)
        settle(page)
        outside = tree(page).locator(OUTSIDE)
        assert outside.count() == 1
        lines = outside.first.locator("text").all_text_contents()  # the box's lines, then its collapse toggle
        assert lines[:3] == [BASE, "sha256:b1f0885a1eaa…", "not here"], lines
        # The first view opens on that family from its top: the box is in view, not above it.
        stage = tree(page).locator(".tree-stage").first.bounding_box()
        box = outside.first.bounding_box()
        assert stage["y"] <= box["y"], (box, stage)
        assert box["y"] + box["height"] <= stage["y"] + stage["height"], (box, stage)
        # Thin grey dashes: not the thick orange dashes of the images on an outdated base.
        assert border(outside.first) == ("#888888", True)
        assert border(tree(page).locator('g.node[data-node]:has-text("team/app")').first) == ("#e8590c", True)
        screenshot(page, screenshot_dir / "app-evidence.png", first_screen=True)

        inspect(page, "team/min:1")  # its parent, team/app:1, is known by its provenance
        page.get_by_text("parent from provenance").first.wait_for()
        screenshot(page, screenshot_dir / "app-evidence-provenance.png", first_screen=True)

        inspect(page, "team/app:1")  # built on the base that is not here
        page.get_by_text("(not here), as its provenance says").first.wait_for()
        screenshot(page, screenshot_dir / "app-evidence-outside.png", first_screen=True)

        page.get_by_text("Images to rebuild: 4 on an outdated base").click()
        page.get_by_role("table").filter(has_text="team/multi:1").first.wait_for(timeout=30_000)
        screenshot(page, screenshot_dir / "app-evidence-stale.png")

        lesson_on(page)
        choose(page, "Image", "team/app:1")
        page.get_by_role("heading", name=CHAPTER_1).wait_for(timeout=60_000)
        page.get_by_text(
            "It comes from the build of team/app:1 or of its base, team/base:1 @"
        ).first.wait_for()
        screenshot(page, screenshot_dir / "app-evidence-lesson.png", first_screen=True)
        assert not errors, errors
        assert not remote, remote
