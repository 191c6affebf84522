"""What the README shows a newcomer, and an upload the browser refuses, in Chromium.

* The README's first picture is the app on the bundled sample chosen in the sidebar, as a
  newcomer without Docker would: no test socket path, no fallback note (``app-sample.png``
  and ``first-app-sample.png`` in ``SCREENSHOT_DIR``).
* A snapshot over the upload limit never reaches the app (the browser refuses it): the page
  must say the limit and that a larger file is refused, not only "choose a file". Served
  with a 1 MB limit (Streamlit's ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE``) and a 2 MB snapshot.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testbed.processes import stop_process
from testbed.streamlit_app import start_app
from tests.e2e.conftest import RunningApp, upload_snapshot
from tests.e2e.test_browser import MIN_HEIGHT, WIDTH, screenshot, settle, svg_texts, tree

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_the_readme_picture_is_the_sample_chosen_in_the_sidebar(
    app: RunningApp, chromium: Any, screenshot_dir: Path
) -> None:
    page = chromium.new_page(viewport={"width": WIDTH, "height": MIN_HEIGHT})
    try:
        page.goto(app.url)
        settle(page)
        page.locator('[data-testid="stSidebar"]').get_by_text("The bundled sample images", exact=True).click()
        page.get_by_text("No Docker Engine is listening").wait_for(state="detached", timeout=60_000)
        settle(page)
        assert "jupyter/base-notebook" in "".join(svg_texts(tree(page)))
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "nonexistent" not in main
        assert "unix://" not in main  # no socket path of the test's own
        page.mouse.move(WIDTH // 2, 5)  # off the sidebar, whose hover shows its collapse button
        screenshot(page, screenshot_dir / "app-sample.png", first_screen=True)
    finally:
        page.close()


LIMIT_MB = 1


@pytest.fixture(scope="module")
def small_limit_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    log = tmp_path_factory.mktemp("streamlit-small-limit") / "streamlit.log"
    env = {
        **os.environ,
        "DOCKER_HOST": "unix:///nonexistent/image-lineage-e2e.sock",
        "STREAMLIT_SERVER_MAX_UPLOAD_SIZE": str(LIMIT_MB),
    }
    process, url = start_app(log, env)
    try:
        yield RunningApp(url, log)
    finally:
        stop_process(process)


def test_an_upload_over_the_limit_is_said_to_be_refused(
    small_limit_app: RunningApp, chromium: Any, tmp_path: Path
) -> None:
    big = tmp_path / "big.json"
    big.write_text('{"schema": "image-lineage.snapshot/v1", "padding": "' + "x" * (2 << 20) + '"}')
    page = chromium.new_page(viewport={"width": WIDTH, "height": MIN_HEIGHT})
    try:
        page.goto(small_limit_app.url)
        settle(page)
        upload_snapshot(page, big)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text(f"File must be {LIMIT_MB:.1f}MB or smaller.").wait_for(timeout=30_000)
        said = page.locator('[data-testid="stAlert"]').first
        said.get_by_text(f"Files up to {LIMIT_MB} MB are read").wait_for(timeout=30_000)
        assert "the uploader refuses a larger one" in said.inner_text()
    finally:
        page.close()
