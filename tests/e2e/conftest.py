"""The real app in a real browser: ``streamlit run app.py`` and headless Debian Chromium.

Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright's Python package (no
browser download). Without it the browser tests skip, except under ``CI=true``,
where they fail (``tests.conftest.unavailable``): CI must have run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import main as cli
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.sources import open_source
from testbed.processes import stop_process
from testbed.streamlit_app import CHROMIUM, CHROMIUM_ARGS, start_app
from tests.conftest import unavailable


@dataclass(frozen=True)
class RunningApp:
    url: str
    log: Path


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app, with no Docker Engine to find: it must fall back to the bundled sample."""
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/image-lineage-e2e.sock"}
    process, url = start_app(log, env)
    try:
        yield RunningApp(url, log)
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only the browser tests need it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``SCREENSHOT_DIR`` (``make screenshots`` sets docs/screenshots), else a temporary directory."""
    wanted = os.environ.get("SCREENSHOT_DIR")
    path = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class BigCollection:
    """A 1,000-image collection from ``bench/synthetic_images.py``: its snapshot file and lineage."""

    snapshot: Path
    lineage: Lineage


BIG_COUNT = 1000


@pytest.fixture(scope="session")
def big_collection(tmp_path_factory: pytest.TempPathFactory) -> BigCollection:
    """1,000 generated images in ten families, as ``image-lineage snapshot`` writes them."""
    from bench.synthetic_images import write_archive  # noqa: PLC0415 - only these tests need it

    folder = tmp_path_factory.mktemp("big")
    archive = folder / "images.tar"
    write_archive(archive, BIG_COUNT)
    snapshot = folder / "images.json"
    assert cli(["snapshot", "--source", f"archive:{archive}", "-o", str(snapshot)]) == 0
    scan = open_source(f"snapshot:{snapshot}").scan()
    return BigCollection(snapshot, build_lineage(scan.images, scan.source))


def upload_snapshot(page: Any, snapshot: Path) -> None:
    """As a user does: “A snapshot file” under “Where are the images?”, then the file."""
    page.get_by_text("A snapshot file (image-lineage snapshot)").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(snapshot))
