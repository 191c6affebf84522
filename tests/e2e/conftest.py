"""The real app in a real browser: ``streamlit run app.py`` and headless Debian Chromium.

Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright's Python package (no
browser download). Without it the browser tests skip, except under ``CI=true``,
where they fail (``tests.conftest.unavailable``): CI must have run them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import main as cli
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.sources import open_source
from tests.conftest import unavailable
from tests.harness.processes import stop_process

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
]
STARTUP_SECONDS = 60


@dataclass(frozen=True)
class RunningApp:
    url: str
    log: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_app(
    log: Path, env: dict[str, str], script: Path = ROOT / "app.py"
) -> tuple[subprocess.Popen[bytes], str]:
    """``streamlit run`` of ``script`` on a free local port; returns once it answers its health check."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",  # usage statistics: off in .streamlit/config.toml, tested
        "--server.port", str(port),
        "--server.fileWatcherType", "none",  # an edit elsewhere must not pop up "Source file changed"
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:  # noqa: S310 - local URL
                if answer.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"streamlit did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


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
