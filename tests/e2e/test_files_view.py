"""The inspector's Files view in Chromium, on layers read from a real containerd.

A family with known files (a big library, a folder a later step removes, a file it rewrites,
a very long path, names with markup, an escape and a bidi control) is imported into a
throwaway containerd (``testbed/containerd.py``), and the app is started on it ("This
machine's containerd", found by ``CONTAINERD_ADDRESS``). Its tree shows the final filesystem
with each entry's size in a right-aligned column, a long path wraps inside the inspector, a
hostile name is text, and the "Hidden" filter shows what the last step removed. The
screenshot goes to ``SCREENSHOT_DIR`` as ``app-files.png``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testbed.containerd import ContainerdUnavailable, ThrowawayContainerd, available_builds
from testbed.oci_layout import AMD64, Image, OciLayout, pseudo_random_bytes
from testbed.processes import stop_process
from testbed.streamlit_app import start_app
from tests.conftest import unavailable
from tests.e2e.conftest import RunningApp
from tests.e2e.test_browser import MIN_HEIGHT, WIDTH
from tests.e2e.test_interactive import app_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NAMESPACE = "files"
LONG = "/".join(["a-rather-long-folder-name"] * 5) + "/and-a-file-name-that-goes-on-and-on-and-on.txt"
BASE = {
    "etc/os-release": b"NAME=demo\n" * 10,
    "usr/lib/libbig.so": pseudo_random_bytes("big", 1_500_000),
    "usr/lib/libsmall.so": pseudo_random_bytes("small", 12_000),
    "srv/cache/one.bin": b"1" * 40_000,
    "srv/cache/two.bin": b"2" * 60_000,
    LONG: b"x" * 700,
    "hostile/<b>bold\u202eevil.txt": b"e" * 10,
    "hostile/\x1b[31mred": b"r" * 20,
}
APP = {"app/main.py": b"print('hi')\n" * 200}
SLIM = {"srv/.wh.cache": b"", "etc/os-release": b"NAME=demo2\n" * 30}
FILES = ".il-files"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """A containerd holding demo/base, demo/app and demo/slim, and the app reading it."""
    builds = [build for build in available_builds().values() if build is not None]
    if not builds:
        unavailable("no containerd here (make engines; apt-get install containerd)")
    folder = tmp_path_factory.mktemp("files-view")
    base = Image.scratch(AMD64).run("ADD rootfs.tar /", BASE)
    app = base.run("COPY app /app", APP)
    slim = app.run("RUN rm -rf /srv/cache && echo NAME=demo2 > /etc/os-release", SLIM)
    layout = OciLayout()
    for tag, image in (("demo/base:1", base), ("demo/app:1", app), ("demo/slim:1", slim)):
        layout.tag(tag, layout.add_image(image))
    (folder / "demo.tar").write_bytes(layout.tar_bytes())
    try:
        daemon = ThrowawayContainerd(builds[0]).start()
    except ContainerdUnavailable as error:
        unavailable(f"containerd did not start: {error}")
    try:
        daemon.import_archive(NAMESPACE, folder / "demo.tar")
        env = {
            **os.environ,
            "DOCKER_HOST": "unix:///nonexistent/image-lineage-e2e.sock",
            "CONTAINERD_ADDRESS": str(daemon.socket),
            "CONTAINERD_NAMESPACE": NAMESPACE,
            "XDG_CACHE_HOME": str(folder / "cache"),
        }
        process, url = start_app(folder / "streamlit.log", env)
        try:
            yield RunningApp(url, folder / "streamlit.log")
        finally:
            stop_process(process)
    finally:
        daemon.stop()


def rerun_done(page: Any) -> None:
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)


def test_the_files_view_shows_the_tree_and_its_filters(
    chromium: Any, served: RunningApp, screenshot_dir: Path
) -> None:
    with app_page(chromium, served.url, {"width": WIDTH, "height": MIN_HEIGHT}) as (page, remote, errors):
        page.get_by_text("This machine's containerd").click()
        rerun_done(page)
        pick = page.locator('[data-testid="stSelectbox"]:has-text("Inspect an image") input')
        pick.click()
        pick.fill("demo/slim")
        page.keyboard.press("Enter")
        rerun_done(page)
        assert page.locator(FILES).count() == 0  # nothing read before asked
        page.get_by_text("Read its layers").click()
        tree = page.locator(FILES).first
        tree.wait_for(timeout=60_000)
        rerun_done(page)
        assert tree.locator("details[open]").count() >= 1  # the first level opens by itself
        page.evaluate(f"document.querySelectorAll('{FILES} details').forEach(d => d.open = true)")

        text = tree.inner_text()
        for name in ("libbig.so", "main.py", "os-release", "and-a-file-name-that-goes-on-and-on-and-on.txt"):
            assert name in text, name
        assert "one.bin" not in text  # removed by the last step: not in the final filesystem
        assert tree.locator("b").count() == 0  # markup in a name is text
        assert "<b>bold" in text
        assert "\u202e" not in text
        assert "\x1b" not in text
        # The sizes line up: every size's right edge is the same, at every depth.
        rights = tree.evaluate(
            "t => [...t.querySelectorAll('span')].filter(s => /^[+~-]? ?[0-9.]+ (B|kB|MB)$/.test("
            "s.textContent.trim())).map(s => Math.round(s.getBoundingClientRect().right))"
        )
        assert len(rights) >= 10
        assert len(set(rights)) == 1, rights
        # The long path wraps inside the inspector instead of widening it.
        inspector = tree.bounding_box()
        assert inspector is not None
        assert inspector["x"] + inspector["width"] <= WIDTH
        long_name = tree.get_by_text("and-a-file-name-that-goes-on-and-on-and-on.txt")
        box = long_name.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= inspector["x"] + inspector["width"]
        page.get_by_text("Read its layers").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
        page.screenshot(path=str(screenshot_dir / "app-files.png"))

        page.locator('[data-testid="stRadio"]').get_by_text("Hidden: ships for nothing").click()
        rerun_done(page)
        page.evaluate(f"document.querySelectorAll('{FILES} details').forEach(d => d.open = true)")
        hidden = page.locator(FILES).first.inner_text()
        assert "one.bin" in hidden
        assert "two.bin" in hidden
        assert "os-release" in hidden  # written over by the last step
        assert "libbig.so" not in hidden
        assert remote == []
        assert errors == []
