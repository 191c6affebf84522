"""The app as a newcomer sees it: started with ``streamlit run``, opened in Chromium.

With no engine to find, the app falls back to the bundled sample. The test checks
that the graph is drawn with the sample's image names and starts in the first screen
of a 1440x900 window, picks an image and finds its inspector in view without
scrolling, switches the classroom notes on, and downloads the SVG to compare it with
what the page drew. Nothing may leave the machine: every request to an address other
than this one is recorded, refused, and fails the test. Screenshots go to
``SCREENSHOT_DIR`` (docs/screenshots to refresh the committed ones), else to a
temporary directory.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from image_lineage.lineage import build_lineage
from image_lineage.sources import SampleSource
from tests.e2e.conftest import RunningApp, upload_snapshot
from tests.hostile.corpus import HOSTILE_TEXT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

# The interactive tree (ui/tree.py): the element keyed "tree"; the tree itself is in the
# component's shadow root, which Playwright's CSS locators enter (document.querySelector does not).
GRAPH = ".st-key-tree"
WIDTH = 1440  # a common laptop screen
MIN_HEIGHT = 900
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"data", "blob", "file", "about"}


# Added to the page before its scripts: keeps the first drawing of the tree (its <svg>) that
# appears, checked on every animation frame, to compare with the one shown at the end.
FIRST_DRAWING = """
(() => {
  const look = () => {
    const element = document.querySelector('.st-key-tree [data-testid="stBidiComponentIsolated"]');
    const svg = element && element.shadowRoot && element.shadowRoot.querySelector("svg");
    if (svg) window.__firstDrawing = svg;
    else requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();
"""


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOCAL_HOSTS


def refuse_remote(context: Any) -> list[str]:
    """Abort every request the pages of ``context`` make to a non-local address; return their URLs."""
    remote: list[str] = []

    def handle(route: Any) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            remote.append(url)
            route.abort()

    context.route("**/*", handle)
    return remote


def in_first_screen(page: Any, selector: str) -> dict[str, float]:
    """The element's box, asserting that it starts inside the window and nothing was scrolled."""
    scrolled = page.evaluate(
        "() => window.scrollY + document.querySelector('[data-testid=\"stMain\"]').scrollTop"
    )
    assert scrolled == 0, "the page was scrolled"
    box: dict[str, float] = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["y"] >= 0, (selector, box)
    assert box["y"] + min(box["height"], 120) <= MIN_HEIGHT, (selector, box)  # its top 120 px at least
    assert box["x"] >= 0, (selector, box)
    assert box["x"] + min(box["width"], 200) <= WIDTH, (selector, box)
    return box


def sample_names() -> tuple[set[str], str]:
    """Tagged sample images, and the one with the most ancestors (to pick)."""
    scan = SampleSource().scan()
    lineage = build_lineage(scan.images, scan.source)
    tagged = [n for n in lineage.nodes() if n.image.tags]
    deepest = max(tagged, key=lambda n: (len(lineage.ancestors(n.id)), n.id))
    return {n.image.display_name for n in tagged}, deepest.image.display_name


def svg_texts(where: Any, selector: str = "svg") -> list[str]:
    """The texts of an SVG (a page's, or the tree's: ``tree(page)``), toggles left out."""
    texts: list[str] = where.locator(
        f"{selector} g.node text:not(.tree-toggle text), {selector} g.edge text, "
        f"{selector} g.graph > g > a > text"
    ).evaluate_all("els => els.map(e => e.textContent.trim())")
    return texts


def svg_titles(where: Any, selector: str = "svg") -> set[str]:
    """Node and edge ids (``img_…``, ``img_a->img_b``), which Graphviz writes as <title>s
    (the tree keeps them as ``data-title``, its own tooltip replacing the browser's)."""
    titles: list[str] = where.locator(f"{selector} g.node, {selector} g.edge").evaluate_all(
        "els => els.map(e => e.getAttribute('data-title') || e.querySelector(':scope > title').textContent)"
    )
    return set(titles)


def tree(page: Any) -> Any:
    """The tree's element (its locators reach into the component's shadow root)."""
    return page.locator(GRAPH).first


def settle(page: Any) -> None:
    """Wait until Streamlit has finished the rerun and the graph has been drawn."""
    # The first frame (title and tree) is followed by the run that draws the rest: wait for it.
    page.locator('[data-testid="stSidebar"] [data-testid="stRadio"]').first.wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
    # A rerun that moved the tree would replace its element: wait for one, drawn.
    page.wait_for_function(f"() => document.querySelectorAll('{GRAPH}').length === 1", timeout=60_000)
    tree(page).locator("svg g.node").first.wait_for(timeout=60_000)
    time.sleep(1.0)  # the graph and the charts fade in


def screenshot(page: Any, path: Path, *, first_screen: bool = False) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the window to fit it.

    ``first_screen``: also what a 1440x900 window shows, as ``first-<name>``.
    """
    if first_screen:
        page.screenshot(path=str(path.with_name(f"first-{path.name}")))
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": max(MIN_HEIGHT, int(height))})
    time.sleep(1.0)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": MIN_HEIGHT})


def test_the_app_in_chromium(app: RunningApp, chromium: Any, screenshot_dir: Path, tmp_path: Path) -> None:
    names, deepest = sample_names()
    context = chromium.new_context(viewport={"width": WIDTH, "height": MIN_HEIGHT}, accept_downloads=True)
    remote = refuse_remote(context)
    context.add_init_script(FIRST_DRAWING)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(app.url)
        settle(page)
        # The first frame's tree is the page's: the second run kept its element and drawing.
        assert page.evaluate(
            """() => window.__firstDrawing.isConnected && window.__firstDrawing ===
                document.querySelector('.st-key-tree [data-testid="stBidiComponentIsolated"]')
                    .shadowRoot.querySelector("svg")"""
        ), "the tree was drawn again after the first frame"

        # The whole family of the sample, with the note that it stands in for an engine.
        drawn = "".join(svg_texts(tree(page)))  # a name and its :tag are two lines
        missing = {name for name in names if name not in drawn}
        assert not missing, f"not in the rendered graph: {missing}"
        page.get_by_text("Showing the bundled sample images instead").wait_for()
        page.get_by_text("Layer sharing saves").wait_for()
        # What the user came for is in the first screen: the graph, its root at least.
        graph = in_first_screen(page, GRAPH)
        root = tree(page).locator("svg g.node").first.bounding_box()  # in the page's coordinates
        assert graph["y"] <= root["y"] <= MIN_HEIGHT - 40, root
        screenshot(page, screenshot_dir / "app-fallback.png", first_screen=True)

        # Keys typed in the page's text boxes are theirs: the tree's script, in the page
        # now, hears keys on the tree's own element only.
        shown = tree(page).locator(".tree-viewport").first.get_attribute("transform")
        find = page.get_by_label("Find an image")
        find.click()
        page.keyboard.type("+-0f")
        page.keyboard.press("ArrowLeft")
        assert find.input_value() == "+-0f"
        assert tree(page).locator(".tree-viewport").first.get_attribute("transform") == shown
        find.fill("")
        page.locator("h1").first.click()  # the box loses the focus, unchanged: no rerun

        # The SVG download is the picture on the page: same nodes, edges and texts.
        with page.expect_download() as download_info:
            page.get_by_role("button", name="SVG").click()
        exported = tmp_path / download_info.value.suggested_filename
        download_info.value.save_as(exported)
        assert exported.name == "image-lineage.svg"
        on_page = (svg_titles(tree(page)), sorted(svg_texts(tree(page))))
        export_page = context.new_page()
        export_page.goto(exported.as_uri())
        export_page.wait_for_selector("svg g.node")
        assert (svg_titles(export_page), sorted(svg_texts(export_page))) == on_page
        box = export_page.locator("svg").first.bounding_box()
        export_page.set_viewport_size({"width": int(box["width"]) + 1, "height": int(box["height"]) + 1})
        export_page.screenshot(path=str(screenshot_dir / "export-sample.png"))
        export_page.close()

        # Pick the deepest image: it is marked in the graph and inspected beside it, in view.
        page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
        page.locator('[data-testid="stSelectbox"]').first.click()
        page.keyboard.type(deepest)
        page.keyboard.press("Enter")
        heading = page.get_by_role("heading", name="Inspecting")
        heading.wait_for(timeout=60_000)
        settle(page)
        assert tree(page).locator("svg g.node.picked").count() == 1  # marked by the tree's script
        inspector = in_first_screen(page, '[data-testid="stHeading"]:has-text("Inspecting")')
        graph = in_first_screen(page, GRAPH)
        assert inspector["x"] >= graph["x"] + graph["width"], "the inspector is beside the graph"
        page.get_by_text("Its steps, oldest first").wait_for()
        page.get_by_text("A Dockerfile reconstructed from its history").wait_for()
        page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=30_000)
        screenshot(page, screenshot_dir / "app-image-selected.png", first_screen=True)

        # The classroom switch adds the explanations.
        page.get_by_text("Classroom explanations").click()
        page.get_by_text("What is a layer?").wait_for(timeout=60_000)
        settle(page)
        for heading_text in ("Why do children share their parent's layers?", "What is a metadata-only step?"):
            page.get_by_text(heading_text).first.wait_for()
        screenshot(page, screenshot_dir / "app-classroom.png")
        assert not errors, errors
        assert not remote, f"the page asked for non-local addresses: {remote}"
    finally:
        context.close()


def test_only_local_addresses_count_as_local() -> None:
    assert is_local("http://127.0.0.1:8501/static/js/main.js")
    assert is_local("http://localhost:8501/_stcore/stream")
    assert is_local("data:image/svg+xml;base64,PHN2Zz4=")
    assert not is_local("https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/x/24px.svg")
    assert not is_local("https://127.0.0.1.example.com/")


def hostile_snapshot(path: Path) -> Path:
    """A snapshot of one image per hostile string (tests/hostile/corpus.py): its tag, a label's
    key and value, and a build step, all built on one base."""
    from image_lineage.model import Scan  # noqa: PLC0415 - this test alone
    from image_lineage.sources.snapshot import dumps  # noqa: PLC0415
    from tests.builders import BASE, SOURCE, image  # noqa: PLC0415

    images = [image(BASE, "base:1")]
    for number, (_, text) in enumerate(HOSTILE_TEXT):
        child = image([*BASE, f"RUN {text}:{number}"], text, f"safe/name:{number}")
        images.append(replace(child, labels=(("org.example.note", text), (text, "value"))))
    path.write_text(dumps(Scan(source=SOURCE, images=tuple(images))), encoding="utf-8")
    return path


def test_hostile_image_data_stays_text_in_the_app(app: RunningApp, chromium: Any, tmp_path: Path) -> None:
    """The tree's script runs in the page itself: hostile tags, labels and steps, hovered
    and clicked in the tree, must run nothing and add no element to the page."""
    context = chromium.new_context(viewport={"width": WIDTH, "height": MIN_HEIGHT})
    remote = refuse_remote(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(app.url)
        settle(page)
        upload_snapshot(page, hostile_snapshot(tmp_path / "hostile.json"))
        page.get_by_text("Snapshot file hostile.json").wait_for(timeout=60_000)
        settle(page)
        boxes = tree(page).locator("svg g.node")
        assert boxes.count() == len(HOSTILE_TEXT) + 1
        for index in range(boxes.count()):  # each one's tooltip (some lie outside the window)
            box = boxes.nth(index).bounding_box()
            centre = {"clientX": box["x"] + box["width"] / 2, "clientY": box["y"] + box["height"] / 2}
            boxes.nth(index).dispatch_event("pointermove", centre)
            assert tree(page).locator(".tree-tooltip").first.is_visible()
        boxes.nth(1).dispatch_event("click")
        page.get_by_role("heading", name="Inspecting").wait_for(timeout=60_000)
        settle(page)
        state = page.evaluate(
            """() => {
                const element = '.st-key-tree [data-testid="stBidiComponentIsolated"]';
                const tree = document.querySelector(element).shadowRoot;
                const embedded = 'script, foreignObject, iframe, img, image, embed, object';
                const all = [...document.querySelectorAll('*'), ...tree.querySelectorAll('*')];
                return {
                    pwned: window.__pwned === undefined ? null : window.__pwned,
                    inTree: tree.querySelectorAll(embedded).length,
                    handlers: all.flatMap(e => [...e.attributes].map(a => a.name))
                        .filter(n => n.toLowerCase().startsWith('on')).length,
                };
            }"""
        )
        assert state == {"pwned": None, "inTree": 0, "handlers": 0}, state
        assert not errors, errors
        assert not remote, f"the page asked for non-local addresses: {remote}"
    finally:
        context.close()
