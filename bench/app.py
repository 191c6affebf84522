"""Benchmark: the app in headless Chromium against a bare Streamlit page, in the same run.

    python bench/app.py [--images N] [--repeat R]

Serves, with ``streamlit run`` on local ports exactly as the browser tests do:

* bare: a page with one ``st.write`` (the baseline: what any Streamlit page costs);
* sample: app.py on the bundled sample (no engine answers, so ``auto`` shows it);
* big: app.py on a snapshot of N generated images (default 1,000, synthetic_images.py),
  read as its ``auto`` source, with the whole tree drawn (not the overview).

and measures, in fresh browser contexts, interleaved, after one warm-up load per server
(whose time is reported as the cold load):

* load: navigation to the tree's first box visible (bare: to its text visible);
* click: clicking a box to the "Inspecting" heading visible;

both with the same instrument in the page, not Playwright's polling (which adds its own
delay, ~0.3 s when it had to look into the component's iframe): a script added to every
page before its own checks, on every animation frame, whether what is awaited is in the
DOM with a box of non-zero size, and records the first time it is, as ``performance.now()``
(milliseconds from the navigation's start); the click's time is the event's own
``timeStamp``, taken by a listener on the window before the page sees the click;
* export: opening the HTML export of the N images from disk until a click on a box shows
  its inspector, against opening the plain SVG export until its ``load`` event.

and, from outside the page (``outside``), the first paint as a script driving a browser sees
it: the driver's clock from just before the navigation until Playwright finds the first box
(bare: the text) visible, by its own polling, for the bare page and the sample alike.
``--first-paint`` measures only that and the in-page load, for bare and sample (no big
collection, no exports): what to run several times.

Targets: sample load <= 1.5x bare load, from inside and from outside; big load <= 3x; click
<= 1x bare load; HTML export <= 2x the SVG. Prints medians and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synthetic_images import write_archive  # noqa: E402
from testbed.processes import stop_process  # noqa: E402
from testbed.streamlit_app import CHROMIUM, CHROMIUM_ARGS, start_app  # noqa: E402

TREE = ".st-key-tree"  # the tree's element (ui/tree.py); the tree is in its shadow root
TIMEOUT_MS = 120_000

# What the page is awaited for: a CSS selector, and a text the element must contain.
SHOWN = {
    "bare": ('[data-testid="stMarkdownContainer"] p', "Hello from a bare page"),
    "tree": ("svg g.node", ""),
    "inspector": ('[data-testid="stHeading"]', "Inspecting"),
}
# Runs in every page before its own scripts: window.__marks[name] is the first time (ms from
# the navigation's start) an element of SHOWN[name] was in the DOM with a box, checked on
# every animation frame; "inspector" only after a click (window.__marks.click). Streamlit's
# components with isolated styles (the tree) are looked into as well.
MARKS = """
(() => {
  const marks = (window.__marks = {});
  const shown = %s;
  const roots = () => [document, ...[...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .map((element) => element.shadowRoot).filter(Boolean)];
  const seen = ([selector, text]) => roots().some((root) =>
    [...root.querySelectorAll(selector)].some((element) => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && element.textContent.includes(text);
    }));
  addEventListener("click", (event) => { if (!("click" in marks)) marks.click = event.timeStamp; }, true);
  const check = () => {
    for (const [name, what] of Object.entries(shown)) {
      const awaited = !(name in marks) && (name !== "inspector" || "click" in marks);
      if (awaited && seen(what)) marks[name] = performance.now();
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""

# What ``outside`` waits for, as Playwright selectors (they enter the tree's shadow root).
VISIBLE = {"bare": "text=Hello from a bare page", "tree": f"{TREE} svg g.node"}

BARE = 'import streamlit as st\n\nst.write("Hello from a bare page")\n'
# app.py with a snapshot as its "auto" source and the whole tree drawn however many images.
BIG = """import runpy
import streamlit as st
from image_lineage.sources import open_source
from image_lineage.web import reading, state

def _scan(include_intermediate=False, progress=None):
    return open_source("snapshot:{snapshot}").scan(include_intermediate=include_intermediate), None

reading.scan_auto = _scan
st.session_state.setdefault(state.WHOLE, True)
runpy.run_path("{app}", run_name="__main__")
"""


@contextmanager
def served(script: Path, log: Path) -> Iterator[str]:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/image-lineage-bench.sock"}
    process, url = start_app(log, env, script)
    try:
        yield url
    finally:
        stop_process(process)


def timed(
    browser: Any, url: str, awaited: str, then: Callable[[Any], float] | None = None
) -> tuple[float, float | None]:
    """Seconds from navigation to ``awaited`` shown (in the page's own marks); then, if given,
    the seconds ``then`` measures."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(MARKS % json.dumps({awaited: SHOWN[awaited], "inspector": SHOWN["inspector"]}))
    page = context.new_page()
    try:
        page.goto(url)
        loaded = mark(page, awaited)
        return loaded, None if then is None else then(page)
    finally:
        context.close()


def outside(browser: Any, url: str, awaited: str, *, every_frame: bool = False) -> float:
    """Seconds from just before the navigation until Playwright sees ``awaited`` visible, on
    the driver's clock: what the page's own marks cannot see (the request, the browser's
    work before the page's scripts run, Playwright's polling), the same for every page.

    Playwright's locator polls at growing intervals (up to 0.5 s), so a later element waits
    longer to be seen; ``every_frame`` looks on every animation frame instead (the page's
    marks, read by a ``raf``-polled wait), still timed by the driver."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    if every_frame:
        context.add_init_script(MARKS % json.dumps({awaited: SHOWN[awaited]}))
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        if every_frame:
            found = f"() => {json.dumps(awaited)} in window.__marks"
            page.wait_for_function(found, polling="raf", timeout=TIMEOUT_MS)
        else:
            page.locator(VISIBLE[awaited]).first.wait_for(state="visible", timeout=TIMEOUT_MS)
        return time.perf_counter() - start
    finally:
        context.close()


def mark(page: Any, name: str) -> float:
    """The page's mark ``name`` in seconds, once it is there."""
    page.wait_for_function(f"() => {json.dumps(name)} in window.__marks", timeout=TIMEOUT_MS)
    value: float = page.evaluate(f"() => window.__marks[{json.dumps(name)}]")
    return value / 1000


# The index of the first box wholly inside both the tree's area and the window, clear of the
# toolbar and the minimap (a big tree starts on its root, readable: most boxes lie outside).
IN_VIEW = """host => {
    const area = host.getBoundingClientRect();
    const top = Math.max(area.top, 0) + 50; // below the toolbar
    const bottom = Math.min(area.bottom, innerHeight) - 40; // above the hint and the minimap
    return [...host.querySelectorAll("g.node")].findIndex((box) => {
        const r = box.getBoundingClientRect();
        const across = r.left >= area.left && r.right <= area.right;
        return r.width > 0 && across && r.top >= top && r.bottom <= bottom;
    });
}"""


def click_box(page: Any) -> float:
    """Seconds from a click on a box in view to the inspector's heading shown."""
    boxes = page.locator(TREE).first.locator(".tree-host").first
    index: int = boxes.evaluate(IN_VIEW)
    boxes.locator("svg g.node").nth(max(index, 0)).click()
    return mark(page, "inspector") - mark(page, "click")


def html_ready(page: Any) -> None:
    page.wait_for_selector("body[data-ready]", timeout=TIMEOUT_MS)
    tree = page.locator("#tree").first  # the tree-host
    tree.locator("svg g.node").nth(max(tree.evaluate(IN_VIEW), 0)).click()
    page.wait_for_function(
        "() => document.querySelector('#inspector h2').textContent.startsWith('Inspecting ')"
    )


def opened(ready: Callable[[Any], None]) -> Callable[[Any, str], float]:
    """A file's opening, timed from Python (no Streamlit page: nothing to mark in it)."""

    def measure(browser: Any, url: str) -> float:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        try:
            start = time.perf_counter()
            page.goto(url)
            ready(page)
            return time.perf_counter() - start
        finally:
            context.close()

    return measure


def svg_ready(page: Any) -> None:
    page.wait_for_load_state("load")
    page.locator("svg g.node").first.wait_for(state="attached")


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--first-paint", action="store_true", help="only the bare page and the sample's load, inside and out"
    )
    args = parser.parse_args()
    if args.first_paint:
        return first_paint(args.repeat)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a dev dependency

    from image_lineage.cli import main as cli  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="image-lineage-bench-") as temp:
        work = Path(temp)
        archive = work / "images.tar"
        write_archive(archive, args.images)
        snapshot = work / "images.json"
        cli(["snapshot", "--source", f"archive:{archive}", "-o", str(snapshot)])
        for fmt in ("html", "svg"):
            cli(["export", "--source", f"snapshot:{snapshot}", "-o", str(work / f"images.{fmt}")])
        (work / "bare.py").write_text(BARE)
        (work / "big.py").write_text(BIG.format(snapshot=snapshot, app=ROOT / "app.py"))

        results: dict[str, list[float]] = {}
        cold: dict[str, float] = {}

        def add(name: str, value: float | None) -> None:
            if value is not None:
                results.setdefault(name, []).append(value)

        with (
            sync_playwright() as playwright,
            served(work / "bare.py", work / "bare.log") as bare,
            served(ROOT / "app.py", work / "sample.log") as sample,
            served(work / "big.py", work / "big.log") as big,
        ):
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                cold["bare"] = timed(browser, bare, "bare")[0]
                cold["sample"] = timed(browser, sample, "tree")[0]
                cold["big"] = timed(browser, big, "tree")[0]
                for _ in range(args.repeat):
                    add("bare load", timed(browser, bare, "bare")[0])
                    loaded, clicked = timed(browser, sample, "tree", click_box)
                    add("sample load", loaded)
                    add("sample click", clicked)
                    loaded, clicked = timed(browser, big, "tree", click_box)
                    add("big load", loaded)
                    add("big click", clicked)
                    add("svg open", opened(svg_ready)(browser, (work / "images.svg").as_uri()))
                    add("html open", opened(html_ready)(browser, (work / "images.html").as_uri()))
            finally:
                browser.close()

    report(results, cold, args.repeat, args.images)
    return 0


def first_paint(repeat: int) -> int:
    """The bare page and the sample, each ``repeat`` times interleaved: in-page and outside."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a dev dependency

    results: dict[str, list[float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="image-lineage-bench-") as temp,
        sync_playwright() as playwright,
    ):
        work = Path(temp)
        (work / "bare.py").write_text(BARE)
        with (
            served(work / "bare.py", work / "bare.log") as bare,
            served(ROOT / "app.py", work / "s.log") as sample,
        ):
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                timed(browser, bare, "bare")  # warm-up: the servers' caches filled
                timed(browser, sample, "tree")
                for _ in range(repeat):
                    for name, url, awaited in (("bare", bare, "bare"), ("sample", sample, "tree")):
                        results.setdefault(f"{name} load", []).append(timed(browser, url, awaited)[0])
                        results.setdefault(f"{name} outside", []).append(outside(browser, url, awaited))
                        framed = outside(browser, url, awaited, every_frame=True)
                        results.setdefault(f"{name} outside/raf", []).append(framed)
            finally:
                browser.close()
    print(f"median of {repeat} runs (target: sample <= 1.5x bare, inside and outside):")
    for way in ("load", "outside", "outside/raf"):
        bare_time, sample_time = median(results[f"bare {way}"]), median(results[f"sample {way}"])
        ratio = sample_time / bare_time
        verdict = "ok" if ratio <= 1.5 else "MISSED"
        print(f"  {way:<11} bare {bare_time:5.2f} s  sample {sample_time:5.2f} s  {ratio:5.2f}x  ({verdict})")
        each = f"bare {_seconds(results[f'bare {way}'])}; sample {_seconds(results[f'sample {way}'])}"
        print(f"              each: {each}")
    return 0


def _seconds(values: list[float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


def report(results: dict[str, list[float]], cold: dict[str, float], repeat: int, images: int) -> None:
    bare_load = median(results["bare load"])
    svg_open = median(results["svg open"])
    print(f"cold first loads (server caches empty): {', '.join(f'{k} {v:.2f} s' for k, v in cold.items())}")
    print(f"median of {repeat} runs:")
    targets = {
        "sample load": (bare_load, 1.5),
        "big load": (bare_load, 3.0),
        "sample click": (bare_load, 1.0),
        "big click": (bare_load, 1.0),
        "html open": (svg_open, 2.0),
    }
    print(f"  {'bare load':<13} {bare_load:6.2f} s  (baseline)")
    print(f"  {'svg open':<13} {svg_open:6.2f} s  (baseline for the HTML export, {images} images)")
    for name, (baseline, target) in targets.items():
        value = median(results[name])
        ratio = value / baseline
        verdict = "ok" if ratio <= target else "MISSED"
        print(f"  {name:<13} {value:6.2f} s  {ratio:5.2f}x  (target <= {target}x: {verdict})")


if __name__ == "__main__":
    sys.exit(main())
