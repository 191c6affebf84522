"""The lesson view in Chromium: on the bundled sample, and on a 1,000-image snapshot.

On the sample (no engine answers, so the page shows it) the sidebar's “Lesson view”
switch opens the lesson on tutorial/outside-world; “Step back”, “Next step”, the → and ←
keys and the “Build step” slider change the layer tower and the step's text, and chapter
2's run line publishes its port (``-p 8080:8080``). On a projector (1280x720, 1920x1080)
the lesson is the first screen (the page's title and find row give way), and its type is
large: the step buttons, the slider's label, captions, tables and the ``docker run`` line
are measured. On 1,000 images, uploaded through the snapshot uploader, an image picked in
“Inspect an image” becomes the lesson's image, and stepping works there too. Screenshots
of the lesson at 1280x720, 1440x900 and 1920x1080 go to ``SCREENSHOT_DIR``.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest

from image_lineage import lesson
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.render import lesson as drawing
from image_lineage.sources import SampleSource
from tests.e2e.conftest import BigCollection, RunningApp, upload_snapshot
from tests.e2e.test_big_collection import PROJECTOR
from tests.e2e.test_browser import MIN_HEIGHT, WIDTH, settle
from tests.e2e.test_interactive import app_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CHAPTER_1 = "1 · Your code runs on layers"
CHAPTER_2 = "2 · How a container meets the outside world"
TOWER = '[data-testid="stImage"] img'  # the first picture of the lesson: the tower
STAGE = ".st-key-lesson_stage"  # the lesson's container
SMALL_PROJECTOR = {"width": 1280, "height": 720}
# The smallest type each part of the lesson may have, in CSS pixels, by window width: what
# reads from the back of a classroom (Streamlit's own sizes, 14 to 16 px, did not).
MIN_PX = {
    1280: {"button": 20, "label": 20, "text": 19, "caption": 19, "table": 19, "code": 18, "run": 22},
    1920: {"button": 27, "label": 27, "text": 24, "caption": 24, "table": 24, "code": 23, "run": 33},
}
MEASURED = {  # what MIN_PX's names measure, inside the lesson
    "button": ".st-key-lesson_next button p",
    "label": '[data-testid="stSlider"] [data-testid="stWidgetLabel"] p',
    "text": '[data-testid="stHtml"] li',  # the legend
    "caption": '[data-testid="stCaptionContainer"]',
    "table": '[data-testid="stTable"] td',
    "code": '[data-testid="stCode"] code',  # the first: the step's instruction
    "run": ".st-key-lesson_run code",
}


def sample() -> Lineage:
    scan = SampleSource().scan()
    return build_lineage(scan.images, scan.source)


def tagged(lineage: Lineage, tag: str) -> str:
    return next(node.id for node in lineage.nodes() if tag in node.image.tags)


def step_title(page: Any) -> str:
    """The heading that says what the current step adds (“Step 7 of 20 adds 24.0 MB”)."""
    text: str = page.locator('[data-testid="stHeading"]:has-text("Step ")').first.text_content() or ""
    return text.strip()


def tower(page: Any) -> str:
    """The tower picture the page shows: the SVG text of its ``data:`` URL."""
    source: str = page.locator(TOWER).first.get_attribute("src") or ""
    head, _, body = source.partition(",")
    assert head == "data:image/svg+xml;base64", head
    return base64.b64decode(body).decode("utf-8")


def wait_for_tower(page: Any, expected: str, what: str, timeout: float = 30.0) -> str:
    """The tower the page shows, once it is ``expected`` (the picture of ``what``).

    The step's heading can change a moment before its picture does: under load a tower read
    right after ``wait_for_step`` was once the previous step's. Polls until the picture is the
    expected one, and fails with what the page shows after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    shown = tower(page)
    while shown != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        shown = tower(page)
    assert shown == expected, (
        f"the page did not show the tower of {what} within {timeout:g} s: it shows one of "
        f"{shown.count('<rect')} rectangles, the expected one has {expected.count('<rect')}"
    )
    return shown


def wait_for_step(page: Any, title: str) -> None:
    page.locator('[data-testid="stHeading"]', has_text=title).first.wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
    time.sleep(0.3)


def lesson_on(page: Any) -> None:
    page.get_by_text("Lesson view").click()
    page.get_by_role("heading", name=CHAPTER_1).wait_for(timeout=60_000)
    page.locator(TOWER).first.wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)


def choose(page: Any, label: str, option: str) -> None:
    """Pick the option of a select box that contains ``option``, as a user does."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option").filter(has_text=option).first.click()
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
    page.get_by_role("heading", name=CHAPTER_1).click()  # the focus leaves the box: the keys step
    time.sleep(0.5)


def shoot(page: Any, path: Path) -> None:
    """A screenshot with no tooltip: the pointer rests in the window's right margin."""
    size = page.viewport_size
    page.mouse.move(size["width"] - 8, size["height"] // 2)
    time.sleep(0.5)
    page.screenshot(path=str(path))


def type_sizes(page: Any) -> dict[str, float]:
    """The font size, in CSS pixels, of each part of the lesson MIN_PX names (its first shown)."""
    sizes = {}
    for name, selector in MEASURED.items():
        where = page.locator(f"{STAGE} {selector} >> visible=true").first
        sizes[name] = float(where.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    return sizes


def scrolled(page: Any) -> float:
    """How far the page has scrolled down."""
    top: float = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop")
    return top


def chosen(page: Any, label: str) -> str:
    """The value a select box shows."""
    value: str = page.get_by_role("combobox", name=label, exact=True).input_value()
    return value


def walk_the_build(page: Any, lineage: Lineage, image_id: str) -> None:
    """From the first step forward to the first later step that adds a layer, back one, then
    forward again: tower and text follow."""
    data = lesson.tower(lineage, image_id)
    assert step_title(page) == data.step_title(1), "the lesson starts at its first step"
    first = wait_for_tower(page, drawing.tower_svg(data, 1), "step 1")
    layer = min(step.number for step in data.steps if step.layer and step.number > 1)
    for number in range(2, layer + 1):
        page.get_by_role("button", name="Next step ▶").click()
        wait_for_step(page, data.step_title(number))
    assert step_title(page) == data.step_title(layer)
    outlined = wait_for_tower(page, drawing.tower_svg(data, layer), f"step {layer}")
    assert outlined != first, "the current layer is outlined"
    page.get_by_role("button", name="◀ Step back").click()
    wait_for_step(page, data.step_title(layer - 1))
    page.get_by_text(data.step_detail(layer - 1)).first.wait_for()
    shorter = wait_for_tower(page, drawing.tower_svg(data, layer - 1), f"step {layer - 1}, a step back")
    assert shorter.count("<rect") == outlined.count("<rect") - 1, "the tower lost its newest layer"
    page.get_by_role("button", name="Next step ▶").click()
    wait_for_step(page, data.step_title(layer))
    wait_for_tower(page, outlined, f"step {layer} again: stepping forward puts the layer back")
    built = data.layers(layer)
    page.get_by_text(f"The tower so far: {len(built)} layer").first.wait_for()


def test_the_lesson_on_the_sample(app: RunningApp, chromium: Any, screenshot_dir: Path) -> None:
    lineage = sample()
    image_id = tagged(lineage, "tutorial/outside-world:latest")
    data = lesson.tower(lineage, image_id)
    with app_page(chromium, app.url) as (page, remote, errors):
        settle(page)
        lesson_on(page)
        assert chosen(page, "Image") == "tutorial/outside-world:latest"
        assert chosen(page, "Family") == "tutorial/debian:buster-slim · 7 images"
        walk_the_build(page, lineage, image_id)

        # The slider: Home goes to the first step, End to the last.
        thumb = page.get_by_role("slider", name="Build step")
        thumb.focus()
        page.keyboard.press("Home")
        wait_for_step(page, data.step_title(1))
        page.get_by_text("The tower so far: 1 layer,").first.wait_for()
        page.keyboard.press("End")
        wait_for_step(page, data.step_title(len(data.steps)))

        # The screenshots: the lesson's first screen, at a step that adds a layer.
        layer = max(step.number for step in data.steps if step.layer)
        for number in range(len(data.steps) - 1, layer - 1, -1):
            page.get_by_role("button", name="◀ Step back").click()
            wait_for_step(page, data.step_title(number))
        shoot(page, screenshot_dir / "app-lesson.png")
        page.set_viewport_size(PROJECTOR)
        time.sleep(1.0)
        shoot(page, screenshot_dir / "app-lesson-1920.png")
        page.set_viewport_size({"width": WIDTH, "height": MIN_HEIGHT})

        # Chapter 2: the run line publishes the exposed port.
        run_line = lesson.outside_world(lineage.node(image_id).image).run_line
        assert run_line == "docker run --rm -p 8080:8080 tutorial/outside-world:latest"
        page.get_by_role("heading", name=CHAPTER_2).scroll_into_view_if_needed()
        code = page.locator("code", has_text="docker run").first
        assert code.text_content() == run_line
        assert code.is_visible()
        assert page.locator("code", has_text="-p 8080:8080").count() >= 1  # explained, part by part
        page.get_by_role("heading", name=CHAPTER_2).evaluate("el => el.scrollIntoView({block: 'start'})")
        time.sleep(0.5)
        shoot(page, screenshot_dir / "app-lesson-outside-world.png")
        assert not errors, errors
        assert not remote, f"the page asked for non-local addresses: {remote}"


def first_screen(page: Any, width: int) -> None:
    """The lesson is what the window shows, unscrolled: its tower and step buttons, in large type."""
    assert scrolled(page) == 0
    height = page.viewport_size["height"]
    # The title and the find row give way. The style that hides them lands with the run's
    # last elements: wait for it.
    page.get_by_role("heading", name="Image lineage").wait_for(state="hidden", timeout=30_000)
    page.get_by_text("Find an image").wait_for(state="hidden", timeout=30_000)
    tower_box = page.locator(TOWER).first.bounding_box()
    assert tower_box["y"] + 150 <= height, f"the tower starts at {tower_box['y']} px in a {height} px window"
    next_box = page.get_by_role("button", name="Next step ▶").bounding_box()
    assert next_box["y"] + next_box["height"] <= height, "the step buttons are in the first screen"
    sizes = type_sizes(page)
    small = {name: px for name, px in sizes.items() if px < MIN_PX[width][name]}
    assert not small, f"type smaller than {MIN_PX[width]} at {width} px: {small}"


def test_the_lesson_on_a_projector(app: RunningApp, chromium: Any, screenshot_dir: Path) -> None:
    """1280x720 and 1920x1080, on the sample's two teaching images; the keys step the build."""
    lineage = sample()
    scipy = lesson.tower(lineage, tagged(lineage, "jupyter/scipy-notebook:2026-11"))
    python = lesson.tower(lineage, tagged(lineage, "tutorial/python:3.7.9"))
    with app_page(chromium, app.url, SMALL_PROJECTOR) as (page, remote, errors):
        settle(page)
        lesson_on(page)
        first_screen(page, 1280)
        shoot(page, screenshot_dir / "app-lesson-projector.png")

        # → and ← step, as the buttons do, once the focus has left the select boxes.
        choose(page, "Family", "tutorial/debian")
        choose(page, "Image", "tutorial/python:3.7.9")
        wait_for_step(page, python.step_title(1))  # a lesson starts at its first step
        page.get_by_role("heading", name=CHAPTER_1).click()
        page.keyboard.press("ArrowRight")
        wait_for_step(page, python.step_title(2))
        page.keyboard.press("ArrowRight")
        wait_for_step(page, python.step_title(3))
        page.keyboard.press("ArrowLeft")
        wait_for_step(page, python.step_title(2))
        wait_for_tower(page, drawing.tower_svg(python, 2), "tutorial/python's step 2, after → → ←")
        # With the slider focused, an arrow moves it one step, not two (slider and shortcut).
        page.get_by_role("slider", name="Build step").focus()
        page.keyboard.press("ArrowRight")
        wait_for_step(page, python.step_title(3))
        time.sleep(1.0)
        assert step_title(page) == python.step_title(3)

        # The deepest teaching image: a tall tower (its last step), still starting in the first screen.
        choose(page, "Family", "busybox")
        choose(page, "Image", "jupyter/scipy-notebook")
        wait_for_step(page, scipy.step_title(1))
        page.get_by_role("slider", name="Build step").focus()
        page.keyboard.press("End")
        wait_for_step(page, scipy.step_title(len(scipy.steps)))
        page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
        first_screen(page, 1280)
        page.get_by_role("heading", name=CHAPTER_2).evaluate("el => el.scrollIntoView({block: 'start'})")
        time.sleep(0.5)
        shoot(page, screenshot_dir / "app-lesson-scipy-projector-outside.png")

        page.set_viewport_size({"width": WIDTH, "height": MIN_HEIGHT})
        page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
        time.sleep(1.0)
        shoot(page, screenshot_dir / "app-lesson-scipy.png")
        page.get_by_role("heading", name="What docker pull downloads").evaluate(
            "el => el.scrollIntoView({block: 'start'})"
        )
        time.sleep(0.5)
        shoot(page, screenshot_dir / "app-lesson-scipy-pull.png")

        # 1920x1080: the same proportions, so larger type.
        page.set_viewport_size(PROJECTOR)
        page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
        time.sleep(1.0)
        first_screen(page, 1920)
        shoot(page, screenshot_dir / "app-lesson-scipy-1920.png")
        assert not errors, errors
        assert not remote, f"the page asked for non-local addresses: {remote}"


def test_the_lesson_follows_a_picked_image_among_a_thousand(
    app: RunningApp, chromium: Any, big_collection: BigCollection
) -> None:
    lineage = big_collection.lineage
    # A deep image of a middle-sized family: a tall tower to step through.
    image_id = max(lineage.nodes(), key=lambda n: (len(lineage.ancestors(n.id)), n.id)).id
    name = lineage.node(image_id).image.display_name
    family = lesson.family_of(lineage, image_id)
    with app_page(chromium, app.url) as (page, remote, errors):
        settle(page)
        upload_snapshot(page, big_collection.snapshot)
        page.get_by_text("1000 images in").wait_for(timeout=60_000)

        # Pick it as a user does, then switch the lesson on: it is the lesson's image.
        page.locator('[data-testid="stSelectbox"]', has_text="Inspect an image").first.click()
        page.keyboard.type(name)
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Inspecting").wait_for(timeout=60_000)
        settle(page)
        lesson_on(page)
        assert chosen(page, "Image") == name
        assert chosen(page, "Family") == lesson.family_label(lineage, family)
        assert chosen(page, "Family") == f"{family.name} · {len(family.members)} images"
        walk_the_build(page, lineage, image_id)

        run_line = lesson.outside_world(lineage.node(image_id).image).run_line
        assert name in run_line
        page.get_by_role("heading", name=CHAPTER_2).scroll_into_view_if_needed()
        assert page.locator("code", has_text="docker run").first.text_content() == run_line
        assert not errors, errors
        assert not remote, f"the page asked for non-local addresses: {remote}"
