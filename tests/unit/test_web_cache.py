"""The page's caches (``web/``, ``ui/stale.py``, ``ui/overview.py``): what they key on.

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

import pytest
import streamlit as st

from image_lineage import grouping, platforms, web
from image_lineage.insights import disk_usage
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Scan
from image_lineage.overview import disk_map, echarts_treemap, families
from image_lineage.render import render
from image_lineage.stale import NOTE_CODE, noted, stale_images
from image_lineage.ui import overview
from image_lineage.views import focus
from image_lineage.web import memo
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
    memo.clear_all()
    yield
    st.cache_resource.clear()
    memo.clear_all()


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
    """Were an id reused by a new object while an entry for the old one lived (the entry holds
    its objects, so it cannot), the check on the way out would still compute afresh."""
    calls: list[object] = []

    @memo.by_identity(max_entries=4)
    def size(thing: list[int], *, plus: int) -> int:
        calls.append(thing)
        return len(thing) + plus

    small, big = [1], [1, 2, 3]
    assert size(small, plus=0) == 1
    entries = size._entries
    ((key, entry),) = entries.items()
    entries[((id(big),), key[1])] = entry  # small's entry, under big's id
    assert size(big, plus=0) == 3
    assert calls == [small, big]


def test_the_memo_keys_by_value_and_forgets_the_oldest() -> None:
    calls: list[object] = []

    @memo.by_identity(max_entries=2)
    def pair(one: object, *, name: str) -> tuple[object, str]:
        calls.append((one, name))
        return one, name

    a, b, c = object(), object(), object()
    assert pair(a, name="x") is pair(a, name="x")
    assert pair(a, name="y") is not pair(a, name="x")  # another value: an entry of its own
    pair(b, name="x")
    pair(c, name="x")  # three entries made since a/"x": it is gone
    assert len(calls) == 4
    pair(a, name="x")
    assert len(calls) == 5


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


def test_the_inspector_says_a_rebuilt_base_once() -> None:
    """The rebuilt-base warning and the outdated-base note say the same thing: only the warning shows."""
    lineage = stale_lineage()
    marked = noted(lineage, stale_images(lineage))
    app = next(n.id for n in marked.nodes() if n.image.tags == ("app:1",))
    assert any(d.image == app and d.code == NOTE_CODE for d in marked.diagnostics)
    details = web.inspector.build_image_details(marked, app)
    assert details.rebuilt is not None
    assert not any("older build" in note for note in details.notes), details.notes


def test_family_and_grouping_per_lineage_and_choice() -> None:
    lineage = build_lineage([*jupyter_family(), *multi_platform_family()], SOURCE)
    roots = [node.id for node in lineage.roots()]
    shown, disk = web.family(lineage, image_id=roots[0])
    assert web.family(lineage, image_id=roots[0])[0] is shown
    assert sorted(shown.by_id) == sorted(focus(lineage, roots[0]).by_id)
    assert disk == disk_usage(shown)
    assert sorted(web.family(lineage, image_id=roots[1])[0].by_id) == sorted(focus(lineage, roots[1]).by_id)
    grouped = web.page.grouped(lineage, expanded=frozenset())
    assert web.page.grouped(lineage, expanded=frozenset()) is grouped
    assert sorted(grouped.by_id) == sorted(grouping.group_repositories(lineage).by_id)
    name = next(iter(grouping.repositories(lineage)))
    expanded = web.page.grouped(lineage, expanded=frozenset({name}))
    assert sorted(expanded.by_id) == sorted(grouping.group_repositories(lineage, {name}).by_id)
    assert sorted(expanded.by_id) != sorted(grouped.by_id)


def test_the_split_spec_draws_the_chain_base_first() -> None:
    """The size chart's Vega-Lite spec, checked by hand: r-notebook's chain is the foundation
    (5,000,000 + 300,000 bytes), base-notebook (+20,000,000), minimal (+8,000,000) and
    itself (+25,000,000); a bar each, in that order, coloured by role, its size at its end."""
    view = web.make_view(scan(), web.ViewOptions())
    r_notebook = next(n.id for n in view.everything.nodes() if n.image.tags == ("jupyter/r-notebook:latest",))
    spec = web.image_details(view, r_notebook).split_spec()
    assert spec["data"]["values"] == [
        {"Image": "1. jupyter/docker-stacks-foundation:latest", "MB": 5.3, "Size": "5.3 MB",
         "Added by": "base image"},
        {"Image": "2. jupyter/base-notebook:latest", "MB": 20.0, "Size": "20.0 MB", "Added by": "ancestor"},
        {"Image": "3. jupyter/minimal-notebook:latest", "MB": 8.0, "Size": "8.0 MB", "Added by": "ancestor"},
        {"Image": "4. jupyter/r-notebook:latest", "MB": 25.0, "Size": "25.0 MB", "Added by": "this image"},
    ]  # fmt: skip
    bars, sizes = spec["layer"]
    assert (bars["mark"]["type"], sizes["mark"]["type"]) == ("bar", "text")
    for layer in (bars, sizes):
        x, y = layer["encoding"]["x"], layer["encoding"]["y"]
        assert (x["field"], x["type"], x["title"]) == ("MB", "quantitative", "MB added")
        assert (y["field"], y["type"], y["sort"], y["title"]) == (
            "Image",
            "nominal",
            None,
            None,
        )  # data order
        assert [t["field"] for t in layer["encoding"]["tooltip"]] == ["Image", "Size", "Added by"]
        # Not stacked and on a fixed scale: Vega derives no MB_start extent to warn about (issue 18).
        assert x["stack"] is None
        assert x["scale"]["domain"] == [0, 31.25]
    colour = bars["encoding"]["color"]
    assert colour["field"] == "Added by"
    assert dict(zip(colour["scale"]["domain"], colour["scale"]["range"], strict=True)) == {
        "base image": "#3b73b9",
        "ancestor": "#9dbde3",
        "this image": "#d9480f",
    }
    assert sizes["encoding"]["text"] == {"field": "Size", "type": "nominal"}
    assert (sizes["mark"]["align"], sizes["mark"]["dx"]) == ("left", 4)  # just past the bar's end
    assert spec["height"] == {"step": 30}


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


def test_a_view_holds_no_mutable_memo() -> None:
    """A frozen view shared by every session holds nothing a label could fill in."""
    view = web.make_view(scan(), web.ViewOptions())
    view.label(view.choices()[0])
    assert not [f.name for f in fields(view) if isinstance(getattr(view, f.name), list | dict | set)]


def test_a_picked_image_on_an_outdated_base_is_marked_solid_violet() -> None:
    """In the downloads the picked mark must not read as the orange dashed outdated-base border
    (issue 18): a picked image on an outdated base is drawn solid and violet."""
    from image_lineage.render.dot import PICKED_COLOUR, render_dot  # noqa: PLC0415

    lineage = stale_lineage()
    marked = noted(lineage, stale_images(lineage))
    app = next(n.id for n in marked.nodes() if n.image.tags == ("app:1",))
    line = next(
        line for line in render_dot(marked, highlight=app).splitlines() if "app:1" in line and "[" in line
    )
    assert 'style="rounded,filled,dashed"' in line  # the outdated-base mark is there...
    tail = line[line.rindex("penwidth=3") :]  # ...and the pick, written after it, wins
    assert f'color="{PICKED_COLOUR}"' in tail
    assert 'style="rounded,filled"' in tail
