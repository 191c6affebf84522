"""The page's caches (``web.py``, ``ui/stale.py``, ``ui/overview.py``): what they key on.

A click reruns the page with the same scan and options; the caches hand back the same
objects then. Large inputs (a scan, a lineage) are keyed by their identity, with the entry
holding them: these tests check that equal keys give the one object, that any other input
(another option, another object of equal content, an id taken by another object) never
shares an entry, and that what comes back equals the uncached computation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import timedelta
from typing import Any

import altair as alt
import pytest
import streamlit as st

from image_lineage import grouping, platforms, web
from image_lineage.insights import disk_usage
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Scan
from image_lineage.overview import disk_map, echarts_treemap, families
from image_lineage.render import render
from image_lineage.stale import noted, stale_images
from image_lineage.ui import overview
from image_lineage.views import focus
from tests.builders import (
    BASE,
    FOUNDATION,
    MINIMAL,
    SOURCE,
    image,
    jupyter_family,
    multi_platform_family,
    rebuilt,
)


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def scan() -> Scan:
    """The jupyter family, a second build of its base-notebook (so something is stale), an
    untagged image, one with a secret, and two platforms of another family."""
    family = jupyter_family()
    untagged = image([*MINIMAL, "RUN extra:1000"])
    secret = image([*MINIMAL, f"ENV GITHUB_TOKEN={SECRET}", "RUN app:10"], "team/app:1")
    newer_base = rebuilt(family[1], "jupyter/base-notebook:latest", from_step=len(BASE))
    return Scan(source=SOURCE, images=(*family, newer_base, untagged, secret, *multi_platform_family()))


def shape(view: web.PageView) -> tuple[object, ...]:
    """What a view shows, to compare a cached view with one built afresh."""
    return (
        sorted(view.everything.by_id),
        sorted(view.searched.by_id),
        sorted(view.shown.by_id),
        view.selected,
        view.rankdir,
        view.disk,
        view.search,
        view.host,
        view.platform_note,
        [node.image.history for node in view.shown.by_id.values()],
    )


# One changed value per field of ViewOptions: each must give a view of its own.
CHANGED = {
    "show_untagged": False,
    "show_intermediate": True,
    "collapse_chains": True,
    "search": "scipy",
    "selected": "PICKED",
    "focus": True,
    "rankdir": "LR",
    "show_secrets": True,
    "platform": "all",
}


def test_changed_covers_every_option() -> None:
    assert set(CHANGED) == {option.name for option in fields(web.ViewOptions)}


def test_the_same_scan_and_options_give_the_same_view() -> None:
    data = scan()
    first = web.make_view(data, web.ViewOptions(search="notebook"))
    assert web.make_view(data, web.ViewOptions(search="notebook")) is first  # equal options, a new object
    assert shape(first) == shape(web.build_view(data, web.ViewOptions(search="notebook")))


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_two_different_options_never_share_a_view(name: str) -> None:
    data = scan()
    picked = next(node.id for node in web.build_view(data, web.ViewOptions()).searched.nodes() if node.parent)
    base = web.ViewOptions(selected=picked) if name == "focus" else web.ViewOptions()
    value = picked if CHANGED[name] == "PICKED" else CHANGED[name]
    change: dict[str, Any] = {name: value}
    other = replace(base, **change)
    first, second = web.make_view(data, base), web.make_view(data, other)
    assert first is not second
    assert shape(first) == shape(web.build_view(data, base))
    assert shape(second) == shape(web.build_view(data, other))
    if name not in {"show_intermediate", "collapse_chains"}:  # the scan has no intermediate images
        assert shape(first) != shape(second)


def test_another_scan_never_shares_a_view_even_with_equal_content() -> None:
    one, two = scan(), scan()
    assert one == two
    assert web.make_view(one, web.ViewOptions()) is not web.make_view(two, web.ViewOptions())
    smaller = Scan(source=SOURCE, images=tuple(jupyter_family()))
    assert sorted(web.make_view(smaller, web.ViewOptions()).shown.by_id) == sorted(
        img.id for img in smaller.images
    )


def test_an_entry_under_another_objects_id_is_not_used() -> None:
    """Were an id reused by a new scan while an entry for the old one lived (the entry holds
    its scan, so it cannot), the check on the way out would still compute afresh."""
    small, big = Scan(source=SOURCE, images=tuple(jupyter_family())), scan()
    host = "linux/amd64"
    web.page._view_entry(id(big), web.ViewOptions(), host, small)  # an entry for small, under big's id
    monkey = pytest.MonkeyPatch()
    monkey.setattr(platforms, "host_platform", lambda: host)
    try:
        view = web.make_view(big, web.ViewOptions())
    finally:
        monkey.undo()
    assert sorted(view.everything.by_id) == sorted(
        web.build_view(big, web.ViewOptions(), host).everything.by_id
    )


def test_the_host_platform_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    data = scan()
    monkeypatch.setattr(platforms, "host_platform", lambda: "linux/amd64")
    amd = web.make_view(data, web.ViewOptions())
    monkeypatch.setattr(platforms, "host_platform", lambda: "linux/arm64")
    arm = web.make_view(data, web.ViewOptions())
    assert amd is not arm
    assert (amd.host, arm.host) == ("linux/amd64", "linux/arm64")
    assert sorted(amd.shown.by_id) != sorted(arm.shown.by_id)


def test_image_details_per_lineage_and_image() -> None:
    view = web.make_view(scan(), web.ViewOptions())
    one, two = [node.id for node in view.everything.nodes()][:2]
    assert web.image_details(view, one) is web.image_details(view, one)
    assert web.image_details(view, one) == web.build_image_details(view.everything, one)
    assert web.image_details(view, two).node.id == two
    secrets = web.make_view(scan(), web.ViewOptions(show_secrets=True))  # another lineage
    assert web.image_details(secrets, one) is not web.image_details(view, one)
    assert web.image_details(secrets, one).node is secrets.everything.node(one)


def test_tree_dot_per_lineage_direction_and_host() -> None:
    data = scan()
    view = web.make_view(data, web.ViewOptions())
    dot = web.tree_dot(view)
    assert dot == render(view.shown, "dot", rankdir="TB", host_platform=view.host)
    assert web.tree_dot(view) is dot
    assert web.tree_dot(replace(view, rankdir="LR")) == render(
        view.shown, "dot", rankdir="LR", host_platform=view.host
    )
    smaller = replace(view, shown=focus(view.shown, next(iter(view.shown.roots())).id))
    assert web.tree_dot(smaller) == render(smaller.shown, "dot", rankdir="TB", host_platform=view.host)
    assert web.tree_dot(smaller) != dot


def test_merged_readings_once_per_set_of_readings() -> None:
    sample = web.Loaded(Scan(source=SOURCE, images=tuple(jupyter_family())))
    other = web.Loaded(Scan(source=SOURCE, images=tuple(multi_platform_family())))
    merged = web.merge_loaded([("a", sample), ("b", other)])
    assert web.merge_loaded([("a", sample), ("b", other)]) is merged
    assert merged == web.build_merged([("a", sample), ("b", other)])
    assert web.merge_loaded([("b", other), ("a", sample)]) is not merged
    assert web.merge_loaded([("a", sample), ("b", web.Loaded(other.scan))]) is not merged
    failed = web.merge_loaded([("a", sample), ("c", web.Loaded(None, problem="down"))])
    assert failed.scan is None
    assert failed.problem == "c: down"


def stale_lineage() -> Lineage:
    old_base = image([*FOUNDATION, "RUN base-tools:1000"], "base:1")
    app = image([*FOUNDATION, "RUN base-tools:1000", "RUN app:10"], "app:1")
    newer = rebuilt(old_base, "base:1", from_step=len(FOUNDATION), later=timedelta(days=3))
    return build_lineage([replace(old_base, tags=()), app, newer], SOURCE)


def test_stale_report_and_marks_per_lineage() -> None:
    lineage, other = stale_lineage(), stale_lineage()
    report = web.page.report_of(lineage)
    assert report, "the fixture should have an image to rebuild"
    assert report is web.page.report_of(lineage)
    assert report == stale_images(lineage)
    assert web.page.report_of(other) is not report
    marked = web.page.marked(lineage, report)
    assert marked is web.page.marked(lineage, report)
    assert marked.diagnostics == noted(lineage, report).diagnostics
    assert web.page.marked(other, report) is not marked
    assert web.page.marked(lineage, stale_images(lineage)) is not marked  # another report object


def test_family_and_grouping_per_lineage_and_choice() -> None:
    lineage = build_lineage([*jupyter_family(), *multi_platform_family()], SOURCE)
    roots = [node.id for node in lineage.roots()]
    shown, disk = web.family(lineage, roots[0])
    assert web.family(lineage, roots[0])[0] is shown
    assert sorted(shown.by_id) == sorted(focus(lineage, roots[0]).by_id)
    assert disk == disk_usage(shown)
    assert sorted(web.family(lineage, roots[1])[0].by_id) == sorted(focus(lineage, roots[1]).by_id)
    grouped = web.page.grouped(lineage, frozenset())
    assert web.page.grouped(lineage, frozenset()) is grouped
    assert sorted(grouped.by_id) == sorted(grouping.group_repositories(lineage).by_id)
    name = next(iter(grouping.repositories(lineage)))
    expanded = web.page.grouped(lineage, frozenset({name}))
    assert sorted(expanded.by_id) == sorted(grouping.group_repositories(lineage, {name}).by_id)
    assert sorted(expanded.by_id) != sorted(grouped.by_id)


def test_the_split_spec_is_the_split_chart() -> None:
    """``split_spec`` (a plain dict for ``st.vega_lite_chart``) draws what ``split_chart`` draws."""
    view = web.make_view(scan(), web.ViewOptions())
    deepest = max(view.everything.nodes(), key=lambda node: len(view.everything.ancestors(node.id)))
    details = web.image_details(view, deepest.id)
    with alt.theme.enable("none"):  # as st.altair_chart converts it: Altair's default theme off
        chart = details.split_chart().to_dict()
    spec = details.split_spec()
    assert len(spec["data"]["values"]) == len(details.split) > 2
    assert chart["datasets"][chart["data"]["name"]] == spec["data"]["values"]
    assert {key: chart[key] for key in ("layer", "height", "padding")} == {
        key: spec[key] for key in ("layer", "height", "padding")
    }
    assert set(chart) - {"$schema", "datasets"} == set(spec)


def test_the_overviews_rows_and_treemap_per_lineage() -> None:
    lineage = build_lineage([*jupyter_family(), *multi_platform_family()], SOURCE)
    other = build_lineage(list(jupyter_family()), SOURCE)
    rows = overview.families(lineage)
    assert overview.families(lineage) is rows
    assert rows == families(lineage)
    assert overview.families(other) == families(other) != rows
    option = overview.treemap(lineage)
    assert overview.treemap(lineage) is option
    assert option == echarts_treemap(disk_map(lineage))
    assert overview.treemap(other) == echarts_treemap(disk_map(other)) != option
