"""An exported SVG full of hostile image metadata, opened in Chromium: nothing runs.

Each corpus string (tests/hostile/corpus.py) is a tag, a label and a history line of
one image. The SVG is opened as a page of its own (``file://``), where a script that
got through would run; the test checks that none did and no element was injected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from image_lineage.render import render
from tests.hostile.corpus import HOSTILE_TEXT
from tests.unit.test_hostile_render import hostile_lineage

pytestmark = pytest.mark.browser


@pytest.mark.usefixtures("graphviz")
def test_hostile_svgs_are_inert_in_chromium(chromium: Any, tmp_path: Path) -> None:
    page = chromium.new_page()
    try:
        for name, text in HOSTILE_TEXT:
            svg = render(hostile_lineage(text), "svg")
            assert isinstance(svg, str)
            path = tmp_path / f"{name}.svg"
            path.write_text(svg, encoding="utf-8")
            page.goto(path.as_uri())
            page.mouse.move(10, 10)
            state = page.evaluate(
                """() => ({
                    pwned: window.__pwned === undefined ? null : window.__pwned,
                    scripts: document.querySelectorAll('script').length,
                    handlers: [...document.querySelectorAll('*')]
                        .flatMap(e => [...e.attributes].map(a => a.name))
                        .filter(n => n.toLowerCase().startsWith('on')).length,
                    images: document.querySelectorAll('image, foreignObject, iframe').length,
                    nodes: document.querySelectorAll('g.node').length,
                    text: document.documentElement.textContent,
                })"""
            )
            assert state["pwned"] is None, name
            assert (state["scripts"], state["handlers"], state["images"]) == (0, 0, 0), name
            assert state["nodes"] == 2, name  # both images drawn, nothing added
            assert "adds 10 B" in state["text"], name
    finally:
        page.close()


@pytest.mark.usefixtures("graphviz")
def test_hostile_html_exports_are_inert_in_chromium(chromium: Any, tmp_path: Path) -> None:
    """The HTML export's script shows the data (tooltip, inspector): still nothing runs."""
    page = chromium.new_page()
    try:
        for name, text in HOSTILE_TEXT:
            path = tmp_path / f"{name}.html"
            path.write_text(str(render(hostile_lineage(text), "html")), encoding="utf-8")
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-ready]")
            for node in range(2):  # hover (the tooltip) and click (the inspector) each image
                box = page.locator("#tree g.node").nth(node)
                box.hover()
                box.click()
            page.fill("#search", text[:200])
            state = page.evaluate(
                """() => ({
                    pwned: window.__pwned === undefined ? null : window.__pwned,
                    scripts: document.querySelectorAll('script').length,
                    handlers: [...document.querySelectorAll('*')]
                        .flatMap(e => [...e.attributes].map(a => a.name))
                        .filter(n => n.toLowerCase().startsWith('on')).length,
                    images: document.querySelectorAll('img, image, foreignObject, iframe, embed').length,
                    nodes: document.querySelectorAll('g.node').length,
                    inspector: document.querySelector('#inspector').textContent,
                })"""
            )
            assert state["pwned"] is None, name
            assert (state["scripts"], state["handlers"], state["images"]) == (2, 0, 0), name
            assert state["nodes"] == 2, name
            assert "Its steps, oldest first" in state["inspector"], name
    finally:
        page.close()
