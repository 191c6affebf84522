"""The web app: the ``web`` package as plain functions, and ``app.py`` driven by AppTest.

AppTest runs the page script in this process and drives every widget by its key;
the assertions read what the page rendered (the DOT of the tree it drew, the
metrics, texts, tables). The bundled sample is the data, as in a classroom.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from image_lineage import web
from image_lineage.errors import Hint, LineageError
from image_lineage.insights import newer_build
from image_lineage.lineage import build_lineage
from image_lineage.model import Image, Scan, SourceInfo
from image_lineage.sources import SampleSource, snapshot
from image_lineage.sources.snapshot import dumps
from image_lineage.text import human_size
from image_lineage.ui import tree
from image_lineage.views import collapse_chains, resolve
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

APP = Path(__file__).resolve().parents[2] / "app.py"
NO_ENGINE = "unix:///nonexistent/image-lineage-test.sock"


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Caches outlive AppTest instances in one process: start and end every test empty.

    No test may find a real engine by accident: ``auto`` and ``docker`` see none.
    """
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    st.cache_data.clear()
    st.cache_resource.clear()
    memo.clear_all()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    memo.clear_all()


def sample_scan(*, intermediate: bool = False) -> Scan:
    return SampleSource().scan(include_intermediate=intermediate)


def snapshot_bytes(images: list[Image]) -> bytes:
    return dumps(Scan(source=SOURCE, images=tuple(images))).encode()


def start(source: str = "sample") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    if source != "auto":
        at.radio(key="source").set_value(source).run()
    return at


DRAWN: list[str] = []  # the DOT of every tree the page drew, in order (see drawn_trees)


@pytest.fixture(autouse=True)
def drawn_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record the DOT of each tree ``ui.tree.show`` draws (the component gets its SVG)."""
    record_trees(monkeypatch)


def record_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    """``drawn_trees`` for test modules elsewhere that drive the page."""
    DRAWN.clear()
    real = tree.show

    def show(view: web.PageView, *, first_frame: bool = False) -> None:
        DRAWN.append(view.dot)
        real(view, first_frame=first_frame)

    monkeypatch.setattr(tree, "show", show)


def trees(at: AppTest) -> list[Any]:
    """The interactive trees on the page (ui/tree.py's component)."""
    return [e for e in at.get("bidi_component") if e.proto.component_name == tree.NAME]


def dot(at: AppTest) -> str:
    assert len(trees(at)) == 1, "the page should draw exactly one graph"
    assert DRAWN, "the tree was drawn without ui.tree.show"
    return DRAWN[-1]


def names_in(dot_text: str) -> set[str]:
    """The bold image names of the DOT labels (HTML-escaped in the DOT, unescaped here)."""
    found = re.findall(r"<B>(.*?)</B>(?:</TD></TR><TR><TD><B>(:.*?)</B>)?", dot_text)  # repo, then :tag
    return {html.unescape(repository + tag) for repository, tag in found}


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}"
    return values[0]


def unescape(markdown: str) -> str:
    """Undo ``web.plain``'s backslashes, to compare with plain text."""
    return re.sub(r"\\(.)", r"\1", markdown)


def texts(at: AppTest) -> str:
    """Every text the page shows, Markdown escapes undone."""
    parts = [e.value for e in (*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.subheader)]
    return unescape("\n".join(str(p) for p in parts))


def ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def tagged_names(scan: Scan) -> set[str]:
    return {image.display_name for image in scan.images if image.tags}


# --------------------------------------------------------------------------- the web package, plain


def test_source_spec() -> None:
    assert web.source_spec("docker") == "docker"
    assert web.source_spec("docker", " unix:///run/x.sock ") == "docker:unix:///run/x.sock"
    assert web.source_spec("sample") == "sample"
    assert web.source_spec("auto", "ignored") == "auto"
    assert web.source_spec("registry", " http://127.0.0.1:5000 ") == "registry:http://127.0.0.1:5000"
    assert web.source_spec("containerd", "unix:///var/run/docker.sock") == "containerd"  # its own default
    problem = str(web.read_source(web.source_spec("registry")).problem)
    assert problem.startswith("No registry address was given")
    assert problem.endswith(f"{web.HINTS[Hint.REGISTRY_ADDRESS]}.")


def test_read_source_accepts_snapshot_bytes() -> None:
    hidden = image(MINIMAL, intermediate=True, salt="hidden")
    data = snapshot_bytes([*jupyter_family(), hidden])
    loaded = web.read_source(data, name="scan.json")
    assert loaded.problem is None
    assert loaded.scan is not None
    assert loaded.scan.source == SOURCE  # where it was recorded
    assert loaded.file == "scan.json"
    assert hidden.id not in {i.id for i in loaded.scan.images}
    everything = web.read_source(data, include_intermediate=True)
    assert everything.scan is not None
    assert hidden.id in {i.id for i in everything.scan.images}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(b"{not json", "is not valid JSON", id="broken-upload"),
        pytest.param(b'{"schema": "other/v9"}', "this version of image-lineage reads", id="wrong-schema"),
        pytest.param(f"docker:{NO_ENGINE}", "No Docker Engine is listening", id="no-engine"),
        pytest.param("docker", "No Docker Engine is listening", id="no-engine-from-env"),
        pytest.param("bogus", "Unknown source 'bogus'", id="unknown-spec"),
    ],
)
def test_read_source_turns_failures_into_a_problem(spec: str | bytes, expected: str) -> None:
    loaded = web.read_source(spec, name="upload.json")
    assert loaded.scan is None
    assert loaded.problem is not None
    assert expected in loaded.problem


def test_auto_falls_back_to_the_sample_with_a_note() -> None:
    loaded = web.read_source("auto")
    assert loaded.scan is not None
    assert loaded.scan.source.kind == "sample"
    assert loaded.note is not None
    assert "No Docker Engine is listening" in loaded.note
    assert loaded.note.endswith("Showing the bundled sample images instead.")


def test_read_source_reads_the_sample() -> None:
    loaded = web.read_source("sample")
    assert loaded.scan == sample_scan()
    assert (loaded.problem, loaded.note) == (None, None)


def family_scan() -> Scan:
    """The Jupyter-like family, an untagged metadata-only child of base, an intermediate step."""
    untagged = image([*BASE, "LABEL stage=old"])
    intermediate = image([*MINIMAL, "RUN pip-scipy:30000000"], intermediate=True)
    return Scan(source=SOURCE, images=(*jupyter_family(), untagged, intermediate))


def test_make_view_search_focus_and_toggles() -> None:
    scan = family_scan()
    everything = web.make_view(scan, web.ViewOptions(show_intermediate=True))
    assert len(everything.shown) == 7
    assert len(web.make_view(scan, web.ViewOptions()).shown) == 6
    assert len(web.make_view(scan, web.ViewOptions(show_untagged=False)).shown) == 5

    searched = web.make_view(scan, web.ViewOptions(search="  R-NOTE "))
    assert {n.image.display_name for n in searched.shown.nodes()} == {
        "jupyter/docker-stacks-foundation:latest",
        "jupyter/base-notebook:latest",
        "jupyter/minimal-notebook:latest",
        "jupyter/r-notebook:latest",
    }
    assert searched.choices()[0] == resolve(searched.shown, "jupyter/docker-stacks-foundation")

    minimal = resolve(everything.everything, "jupyter/minimal-notebook")
    focused = web.make_view(scan, web.ViewOptions(selected=minimal, focus=True))
    assert focused.selected == minimal
    assert len(focused.shown) == 5  # not the old base's untagged sibling
    assert focused.disk.images == 5
    assert "penwidth=3" in focused.dot  # the picked image is marked
    unfocused = focused.pick(minimal)
    assert len(unfocused.shown) == 6
    assert unfocused.selected == minimal


def test_a_pick_outside_the_search_is_dropped() -> None:
    scan = family_scan()
    lineage = build_lineage(scan.images, SOURCE)
    scipy = resolve(lineage, "jupyter/scipy-notebook")
    view = web.make_view(scan, web.ViewOptions(search="r-notebook", selected=scipy, focus=True))
    assert view.selected is None
    assert len(view.shown) == 4


def test_empty_messages() -> None:
    scan = family_scan()
    assert web.make_view(scan, web.ViewOptions()).empty_message is None
    assert web.make_view(scan, web.ViewOptions(search="nothing-like-it")).empty_message == (
        "No image name contains 'nothing-like-it'."
    )
    empty = Scan(source=SOURCE, images=())
    assert web.make_view(empty, web.ViewOptions()).empty_message == "There are no images to show."


def test_exports_are_the_shown_graph() -> None:
    scan = family_scan()
    lineage = build_lineage(scan.images, SOURCE)
    minimal = resolve(lineage, "jupyter/minimal-notebook")
    view = web.make_view(scan, web.ViewOptions(selected=minimal, focus=True, rankdir="LR"))
    files = {item.fmt: web.export(view, item.fmt) for item in web.EXPORTS}
    assert files["dot"].decode() == view.dot
    assert "rankdir=LR" in view.dot
    assert files["mermaid"].startswith(b"flowchart LR")
    assert {i["id"] for i in json.loads(files["json"])["images"]} == set(view.shown.by_id)
    assert files["png"].startswith(b"\x89PNG\r\n\x1a\n")
    svg = files["svg"].decode()
    assert "<svg" in svg
    assert svg.count('class="node"') == len(view.shown) == 5
    names = {web.export_name(view, item) for item in web.EXPORTS}
    assert names == {
        f"image-lineage-jupyter_minimal-notebook_latest.{e}" for e in ("svg", "png", "dot", "mmd", "json")
    }
    assert web.export_name(web.make_view(scan, web.ViewOptions()), web.EXPORTS[0]) == "image-lineage.svg"


def test_image_details() -> None:
    scan = family_scan()
    view = web.make_view(scan, web.ViewOptions())
    minimal = resolve(view.everything, "jupyter/minimal-notebook")
    details = web.image_details(view, minimal)
    assert details.parent_name == "jupyter/base-notebook:latest"
    assert details.summary == "33.3 MB in total; +8.0 MB in 1 layer over jupyter/base-notebook:latest."
    table = details.layer_table()
    assert [row["Step"] for row in table] == list(range(1, len(MINIMAL) + 1))
    assert table[1] == {"Step": 2, "Instruction": "ENV LANG=C.UTF-8", "Size": "0 B (metadata)",
                        "Made by": "jupyter/docker-stacks-foundation:latest"}  # fmt: skip
    assert table[-1]["Made by"] == "this image"
    split = details.split_table()
    assert [row["Added by"] for row in split] == ["base image", "ancestor", "this image"]
    assert [row["Size"] for row in split] == ["5.3 MB", "20.0 MB", "8.0 MB"]
    assert details.dockerfile.splitlines()[1] == "FROM jupyter/base-notebook:latest"
    assert details.split_spec()["data"]["values"] == split


def test_the_rebuilt_warning_says_where_the_old_base_went() -> None:
    old_base = image(BASE, intermediate=True)
    new_base = rebuilt(replace(old_base, intermediate=False), "base:1", from_step=len(FOUNDATION))
    minimal = image(MINIMAL, "minimal:1")
    scan = Scan(source=SOURCE, images=(image(FOUNDATION, "foundation:1"), old_base, new_base, minimal))
    hidden = web.make_view(scan, web.ViewOptions())
    warning = web.image_details(hidden, minimal.id).rebuilt
    assert warning is not None
    assert warning.endswith(
        "switch on Intermediate images to see it (an untagged image with children), or it was deleted."
    )
    shown = web.make_view(scan, web.ViewOptions(show_intermediate=True))
    found = web.image_details(shown, minimal.id)
    assert found.newer is not None
    assert found.rebuilt == found.newer.message
    assert web.image_details(shown, new_base.id).rebuilt is None


def test_scan_notes_name_their_image() -> None:
    twins = [image(BASE, "a:1"), image(BASE, "b:1", salt="twin")]
    view = web.make_view(Scan(source=SOURCE, images=tuple(twins)), web.ViewOptions())
    notes = web.scan_notes(view)
    assert any(n.startswith("a:1: same layers and history as b:1") for n in notes)


@pytest.mark.parametrize(
    "hostile",
    [
        "[click](https://example.com/track.png)",
        "![pixel](https://example.com/p.png)",
        "<img src=x onerror=alert(1)>",
        ":red[alarm] **bold** $x^2$ `code`",
        "a\u202eb\x1bc",
    ],
)
def test_plain_and_code_span_make_markdown_inert(hostile: str) -> None:
    escaped = web.plain(hostile)
    assert not re.search(r"(?<!\\)[\[\]()<>*`$:!]", escaped), escaped
    assert "\u202e" not in escaped
    assert "\x1b" not in escaped
    span = web.code_span(hostile)
    fence = re.match(r"`+", span)
    assert fence is not None
    assert span.endswith(fence.group())
    assert fence.group() not in span[len(fence.group()) : -len(fence.group())]


WHEN = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)


READ = "read at 2026-11-01 12:30 UTC."


@pytest.mark.parametrize(
    ("kind", "endpoint", "version", "expected"),
    [
        pytest.param("docker", "unix:///var/run/docker.sock", "27.3.1",
                     f"Docker Engine 27.3.1 at unix:///var/run/docker.sock, {READ}", id="docker"),
        pytest.param("docker", "tcp://10.0.0.5:2375", "",
                     f"Docker Engine at tcp://10.0.0.5:2375, {READ}", id="docker-no-version"),
        pytest.param("podman", "unix:///run/podman/podman.sock", "5.2.0",
                     f"Podman service 5.2.0 at unix:///run/podman/podman.sock, {READ}", id="podman"),
        pytest.param("registry", "https://registry.example.com", "",
                     f"Image registry at https://registry.example.com, {READ}", id="registry"),
        pytest.param("archive", "/srv/images.tar", "",
                     f"Image archive /srv/images.tar, {READ}", id="archive"),
        pytest.param("snapshot", "scan.json", "", f"Snapshot file scan.json, {READ}", id="snapshot"),
        pytest.param("sample", "the bundled sample", "27.3.1",
                     "The bundled sample images (recorded 2026-11-01 12:30 UTC).", id="sample"),
    ],
)  # fmt: skip
def test_describe_source_names_each_kind(kind: str, endpoint: str, version: str, expected: str) -> None:
    source = SourceInfo(kind=kind, endpoint=endpoint, engine_version=version, scanned_at=WHEN)
    assert web.describe_source(source) == expected
    assert web.describe_source(source, "up.json") == f"Snapshot file up.json: {expected}"


def test_the_sample_and_an_unknown_kind_are_described() -> None:
    assert web.describe_source(sample_scan().source).startswith("The bundled sample images (recorded ")
    unknown = SourceInfo(kind="future", endpoint="somewhere", scanned_at=WHEN)
    assert web.describe_source(unknown) == f"Images from somewhere, {READ}"


# --------------------------------------------------------------------------- the page


def test_opens_on_the_sample_when_no_engine_answers() -> None:
    at = start("auto")
    ok(at)
    assert "Showing the bundled sample images instead." in texts(at)
    assert names_in(dot(at)) >= tagged_names(sample_scan())
    assert metric(at, "Images shown") == str(len(sample_scan().images))


def record_tree_elements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[int], dict[str, Any]]]:
    """Where (the delta path) and with what data each run sends the tree's element."""
    sent: list[tuple[list[int], dict[str, Any]]] = []
    real = tree._component

    def component(**kwargs: Any) -> Any:
        cursor = st._main._active_dg._cursor
        assert cursor is not None
        sent.append((cursor.delta_path, kwargs["data"]))
        return real(**kwargs)

    monkeypatch.setattr(tree, "_component", component)
    return sent


def test_the_first_frame_paints_the_tree_where_the_page_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's first run sends the tree alone (no widget), marked as the first frame (its
    script asks for the rest once drawn; AppTest reruns at once): the second run sends the
    element to the same place with the drawing's digest only."""
    sent = record_tree_elements(monkeypatch)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    ok(at)
    assert len(sent) == 2, "a first frame, then the whole page"
    (first_path, first), (second_path, second) = sent
    assert first_path == second_path
    assert first["drawing"] == second["drawing"]
    assert isinstance(first["svg"], str)
    assert first["nodes"]
    assert (second["svg"], second["nodes"]) == (None, None)
    assert (first["first"], second["first"]) == (True, False)
    assert at.radio(key="source").value == "auto"  # the sidebar came with the second run
    assert len(trees(at)) == 1


def test_the_first_frame_draws_what_the_page_model_gives_the_second_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One page model (``web.make_view`` then ``web.make_page``) for both runs: the first frame
    draws the very lineage the whole page draws next, not a guess at it."""
    views: list[web.PageView] = []
    real = tree.show

    def show(view: web.PageView, *, first_frame: bool = False) -> None:
        views.append(view)
        real(view, first_frame=first_frame)

    monkeypatch.setattr(tree, "show", show)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    ok(at)
    assert len(views) == 2
    assert views[0].shown is views[1].shown
    assert views[0].everything is views[1].everything


def test_the_drawing_is_sent_again_only_when_it_changed_or_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = record_tree_elements(monkeypatch)
    at = start()
    at.toggle(key="classroom").set_value(True).run()  # the same tree
    assert sent[-1][1]["svg"] is None
    at.radio(key="rankdir").set_value("LR").run()  # another drawing
    assert isinstance(sent[-1][1]["svg"], str)
    with monkeypatch.context() as patched:  # an element without it asks (the trigger "need")
        patched.setattr(st, "session_state", at.session_state)
        tree._on_need()
    at.run()
    ok(at)
    assert isinstance(sent[-1][1]["svg"], str)
    assert sent[-1][0] == sent[-2][0]


def test_a_click_in_the_tree_picks_the_image(monkeypatch: pytest.MonkeyPatch) -> None:
    at = start()
    image = sample_scan().images[0].id
    with monkeypatch.context() as patched:  # the trigger "pick", as the element sends it
        patched.setattr(
            tree, "_triggered", lambda name: {"node": "img_x", "image": image} if name == "pick" else None
        )
        patched.setattr(st, "session_state", at.session_state)
        tree._on_pick()
    at.run()
    ok(at)
    assert at.selectbox(key="image").value == image
    assert at.subheader[0].value.startswith("Inspecting")


def test_sample_headline_numbers() -> None:
    at = start()
    ok(at)
    view = web.make_view(sample_scan(), web.ViewOptions())
    assert metric(at, "Sizes added up") == human_size(view.disk.naive)
    assert metric(at, "Disk really used") == human_size(view.disk.shared)
    assert metric(at, "Layer sharing saves") == human_size(view.disk.saved)
    assert view.disk.saved > 0
    assert "bundled sample" in texts(at)


def test_no_engine_is_a_message_and_the_rest_still_works() -> None:
    at = start("docker")
    ok(at)
    # Nothing typed yet: the default address tried, and what to do said calmly, not as an error;
    # the Lesson view switch stays in its place meanwhile (issue 18).
    assert not at.error
    assert any("No Docker Engine is listening" in unescape(i.value) for i in at.info)
    assert at.toggle(key="lesson").value is False
    assert not trees(at)
    at.text_input(key="endpoint").input("unix:///nonexistent/other.sock").run()
    ok(at)
    assert any("other.sock" in unescape(e.value) for e in at.error)
    at.radio(key="source").set_value("sample").run()
    ok(at)
    assert not at.error
    assert names_in(dot(at)) >= tagged_names(sample_scan())


def test_upload_a_snapshot() -> None:
    at = start("upload")
    ok(at)
    assert not at.error  # no file chosen yet: what to do, not an error
    assert any("choose one under “Snapshot file”" in unescape(i.value) for i in at.info)
    at.file_uploader(key="upload").set_value(
        ("scan.json", snapshot_bytes(jupyter_family()), "application/json")
    )
    at.run()
    ok(at)
    assert names_in(dot(at)) == {i.display_name for i in jupyter_family()}
    assert f"Snapshot file scan.json: {web.describe_source(SOURCE)}" in texts(at)


# Measured: image-lineage snapshot of 20,000 generated images (bench/synthetic_images.py).
SNAPSHOT_OF_20000_IMAGES_MB = 85


def test_without_a_file_the_page_says_how_big_one_may_be() -> None:
    """A file over the limit is refused in the browser and never sent: the page, which sees no
    file, must not read as if none had been chosen, and the limit must fit big machines."""
    at = start("upload")
    assert not at.error  # nothing chosen yet: what to do next, not an error
    said = " ".join(unescape(i.value) for i in at.info)
    assert "No snapshot file has been read" in said
    found = re.search(r"Files up to (\d+) MB are read", said)
    assert found is not None, said
    assert int(found[1]) > SNAPSHOT_OF_20000_IMAGES_MB
    assert int(found[1]) * 2**20 <= snapshot.MAX_BYTES  # what the uploader takes is read
    assert "the uploader refuses a larger one and says so" in said


def test_a_broken_upload_is_a_message() -> None:
    at = start("upload")
    at.file_uploader(key="upload").set_value(("broken.json", b'{"schema": 1', "application/json")).run()
    ok(at)
    assert any("is not valid JSON" in unescape(e.value) for e in at.error)
    at.radio(key="source").set_value("sample").run()
    ok(at)
    assert trees(at)


def test_search_narrows_the_graph_and_the_picker() -> None:
    scan = sample_scan()
    lineage = build_lineage(scan.images, scan.source)
    leaf = next(n for n in lineage.nodes() if n.image.tags and not lineage.children(n.id))
    word = leaf.image.tags[0].rsplit("/", 1)[-1].split(":")[0]
    at = start()
    at.text_input(key="search").input(word.upper()).run()
    ok(at)
    shown = names_in(dot(at))
    assert leaf.image.display_name in shown
    assert {a.image.display_name for a in lineage.ancestors(leaf.id)} <= shown
    assert len(shown) < len(lineage)
    assert set(at.selectbox(key="image").options) == {
        web.make_view(scan, web.ViewOptions()).label(i)
        for i in web.make_view(scan, web.ViewOptions(search=word)).choices()
    }
    at.text_input(key="search").input("no-image-is-called-this").run()
    ok(at)
    assert any("No image name contains" in unescape(w.value) for w in at.warning)
    assert not trees(at)


def pick(at: AppTest, display_name: str) -> None:
    box = at.selectbox(key="image")
    wanted = [o for o in box.options if o.split("  ·  ")[0] == display_name]
    assert wanted, (display_name, box.options)
    box.select(wanted[0]).run()


def deepest_tagged() -> tuple[str, int, int]:
    """The tagged sample image with the most ancestors: (name, ancestors, descendants)."""
    scan = sample_scan()
    lineage = build_lineage(scan.images, scan.source)
    node = max(
        (n for n in lineage.nodes() if n.image.tags), key=lambda n: (len(lineage.ancestors(n.id)), n.id)
    )
    return (
        node.image.display_name,
        len(lineage.ancestors(node.id)),
        len(nx.descendants(lineage.graph, node.id)),
    )


def test_pick_an_image_to_inspect_and_focus_on() -> None:
    name, ancestors, descendants = deepest_tagged()
    at = start()
    assert at.toggle(key="focus").proto.disabled  # nothing to focus on before a pick
    pick(at, name)
    ok(at)
    assert any(name in s.value for s in at.subheader)
    grid = at.dataframe[0]
    steps = grid.value
    assert list(steps.columns) == ["Step", "Instruction", "Size", "Made by"]
    assert list(steps["Step"]) == list(range(1, len(steps) + 1))
    # Rows tall enough for the grid to wrap an instruction (over 4rem), "Made by" given room.
    assert grid.proto.row_height > 64
    assert steps["Made by"].iloc[-1] == "this image"
    assert at.code[0].value.splitlines()[1].startswith(("FROM ", "# The parent"))
    assert "penwidth=3" in dot(at)
    at.toggle(key="focus").set_value(True).run()
    ok(at)
    assert metric(at, "Images shown") == str(1 + ancestors + descendants)
    assert len(names_in(dot(at))) == 1 + ancestors + descendants


def test_toggles_untagged_and_intermediate() -> None:
    at = start()
    with_untagged = dot(at)
    at.toggle(key="show_untagged").set_value(False).run()
    ok(at)
    assert "&lt;none&gt;" not in dot(at)
    if any(not i.tags for i in sample_scan().images):
        assert "&lt;none&gt;" in with_untagged
    at.toggle(key="show_untagged").set_value(True)
    assert at.toggle(key="collapse").proto.disabled  # only meaningful with intermediate images
    at.toggle(key="show_intermediate").set_value(True).run()
    ok(at)
    everything = sample_scan(intermediate=True)
    collapsed = collapse_chains(build_lineage(everything.images, everything.source), everything)
    assert metric(at, "Images shown") == str(len(collapsed))  # by default only where builds branch
    assert "dotted" in dot(at)
    at.toggle(key="collapse").set_value(False).run()
    ok(at)
    assert metric(at, "Images shown") == str(len(everything.images))


def test_orientation() -> None:
    at = start()
    assert "rankdir=TB" in dot(at)
    at.radio(key="rankdir").set_value("LR").run()
    ok(at)
    assert "rankdir=LR" in dot(at)


def test_classroom_notes_stand_beside_the_tree() -> None:
    """With nothing picked, the notes about the graph are a column beside the tree (issue 18:
    below the downloads they seemed to do nothing)."""
    at = start()
    at.toggle(key="classroom").set_value(True).run()
    ok(at)
    beside = at.columns[-1] if at.columns else None
    assert beside is not None
    notes = [unescape(str(i.value)) for i in beside.info]
    assert [web.CLASSROOM[key] for key in ("sizes", "sharing", "untagged")] == notes
    assert trees(at)
    assert not [e for e in beside.get("bidi_component") if e.proto.component_name == tree.NAME]
    assert not beside.get("download_button"), "beside the tree, not below the downloads"


def test_classroom_adds_explanations() -> None:
    name, *_ = deepest_tagged()
    at = start()
    pick(at, name)
    assert "What is a layer?" not in texts(at)
    at.toggle(key="classroom").set_value(True).run()
    ok(at)
    shown = texts(at)
    for key in ("layer", "sharing", "sizes", "untagged", "metadata"):
        assert web.CLASSROOM[key] in shown, key


def test_each_download_is_offered_and_clicks_cleanly() -> None:
    at = start()
    for item in web.EXPORTS:
        button = at.download_button(key=f"download_{item.fmt}")
        assert button.label == item.label
        assert not button.proto.disabled
        button.click().run()
        ok(at)
    files = {
        item.fmt: web.export(web.make_view(sample_scan(), web.ViewOptions()), item.fmt)
        for item in web.EXPORTS
    }
    assert all(files.values())
    assert json.loads(files["json"])["schema"] == "image-lineage.graph/v1"


def test_refresh_reads_again() -> None:
    at = start()
    at.button(key="refresh").click().run()
    ok(at)
    assert trees(at)


def test_the_sample_teaches_rebuilt_bases() -> None:
    view = web.make_view(sample_scan(), web.ViewOptions())
    stale = [(n, found) for n in view.everything.nodes() if (found := newer_build(view.everything, n.id))]
    assert stale, "the sample should have an image on a rebuilt base"
    node, found = next((n, f) for n, f in stale if n.image.tags)
    at = start()
    pick(at, node.image.display_name)
    ok(at)
    assert [unescape(w.value) for w in at.warning] == [web.image_details(view, node.id).rebuilt]
    assert found.message in texts(at)


def test_a_rebuilt_base_is_pointed_out() -> None:
    old_base = image(BASE)
    new_base = rebuilt(old_base, "jupyter/base-notebook:latest", from_step=len(FOUNDATION))
    minimal = image(MINIMAL, "jupyter/minimal-notebook:latest")
    data = snapshot_bytes([image(FOUNDATION, "foundation:1"), old_base, new_base, minimal])
    at = start("upload")
    at.file_uploader(key="upload").set_value(("stale.json", data, "application/json")).run()
    pick(at, "jupyter/minimal-notebook:latest")
    ok(at)
    assert any("Built on an older jupyter/base-notebook" in unescape(w.value) for w in at.warning)
    at.toggle(key="classroom").set_value(True).run()
    assert web.CLASSROOM["rebuilt"] in texts(at)


def test_hostile_names_stay_text() -> None:
    name = "evil/x:![p](https://example.com/p.png)"
    evil = image([*BASE, "RUN evil:10"], name)
    at = start("upload")
    data = snapshot_bytes([image(BASE, "base:1"), evil])
    at.file_uploader(key="upload").set_value(("evil.json", data, "application/json")).run()
    pick(at, name)
    ok(at)
    assert at.subheader[0].value == f"Inspecting {web.code_span(name)}"
    assert all("![p](" not in c.value for c in at.caption)
    assert name in names_in(dot(at))


class SlowSource:
    """A source that reports progress the way the Docker Engine source does."""

    calls = 0

    def scan(self, *, include_intermediate: bool = False, progress: Any = None) -> Scan:
        SlowSource.calls += 1
        images = jupyter_family()
        for done in range(len(images) + 1):
            if progress:
                progress(done, len(images))
        return Scan(source=SOURCE, images=tuple(images))


def test_a_scan_shows_progress_and_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web.reading, "open_source", lambda _spec: SlowSource())
    monkeypatch.setattr(web.reading, "PROGRESS_DELAY_SECONDS", 0.0)
    bars: list[float] = []
    real_progress = st.progress

    def progress(value: float, text: str | None = None) -> Any:
        bars.append(value)
        return real_progress(value, text)

    monkeypatch.setattr(st, "progress", progress)
    at = start("docker")
    ok(at)
    assert bars, "the scan drew a progress bar"
    assert not at.get("progress")  # removed once the scan is done
    assert names_in(dot(at)) == {i.display_name for i in jupyter_family()}
    scans = SlowSource.calls
    at.run()  # a cache hit: no scan, and the recorded progress bar replays cleanly
    ok(at)
    assert SlowSource.calls == scans
    at.button(key="refresh").click().run()
    ok(at)
    assert SlowSource.calls == scans + 1


SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def secret_family() -> list[Image]:
    return [image(BASE, "base:1"), image([*BASE, f"ENV GITHUB_TOKEN={SECRET}", "RUN app:10"], "app:1")]


def test_secrets_are_masked_unless_asked_for() -> None:
    scan = Scan(source=SOURCE, images=tuple(secret_family()))
    masked = web.make_view(scan, web.ViewOptions())
    app_id = resolve(masked.everything, "app:1")
    details = web.image_details(masked, app_id)
    assert "ENV GITHUB_TOKEN=***" in details.dockerfile
    assert all(SECRET not in str(row["Instruction"]) for row in details.layer_table())
    assert all(SECRET.encode() not in web.export(masked, item.fmt) for item in web.EXPORTS)
    shown = web.make_view(scan, web.ViewOptions(show_secrets=True))
    assert f"ENV GITHUB_TOKEN={SECRET}" in web.image_details(shown, app_id).dockerfile
    assert SECRET.encode() in web.export(shown, "json")


def test_the_page_masks_secrets_until_switched() -> None:
    at = start("upload")
    at.file_uploader(key="upload").set_value(("s.json", snapshot_bytes(secret_family()), "application/json"))
    at.run()
    pick(at, "app:1")
    ok(at)
    assert "GITHUB_TOKEN=***" in at.code[0].value
    assert SECRET not in at.code[0].value
    at.toggle(key="show_secrets").set_value(True).run()
    ok(at)
    assert SECRET in at.code[0].value


def test_a_crowded_graph_says_how_to_see_less() -> None:
    assert web.legend(5) == web.LEGEND
    assert "With 41 images the boxes are small" in web.legend(41)
    many = [image([f"RUN root{n}:1"], f"many/img{n}:1") for n in range(web.CROWDED + 1)]
    at = start("upload")
    at.file_uploader(key="upload").set_value(("many.json", snapshot_bytes(many), "application/json"))
    at.run()
    ok(at)
    at.button(key="whole_tree_button").click().run()  # past web.CROWDED the page starts from the overview
    assert any("With 41 images the boxes are small" in c.value for c in at.caption)


# --------------------------------------------------------------------------- messages in the page's words

FLAG = re.compile(r"(?<![\w-])--?[A-Za-z]")  # --source, --all, --timeout, -o ...
SPEC = re.compile(r"\b(?:docker|podman|registry|archive|snapshot|sample):\S")  # registry:https://...


def speaks_the_page(text: str) -> None:
    assert text.strip()
    assert not FLAG.search(text), f"a command-line flag on the page: {text!r}"
    assert not SPEC.search(text), f"--source syntax on the page: {text!r}"


def closed_port() -> int:
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def docker_inspect_dump() -> bytes:
    return json.dumps(
        [{"Id": "sha256:" + "ab" * 32, "RepoTags": ["app:1"], "RootFS": {"Type": "layers", "Layers": []}}]
    ).encode()


def graph_json() -> bytes:
    return web.export(
        web.make_view(Scan(source=SOURCE, images=tuple(jupyter_family())), web.ViewOptions()), "json"
    )


def page_labels() -> set[str]:
    """Every widget label (and radio option) the page shows, whatever the source chosen."""
    at = start()
    labels: set[str] = set()
    for source in ("sample", "docker", "registry", "upload"):
        at.radio(key="source").set_value(source).run()
        ok(at)
        widgets = (*at.radio, *at.toggle, *at.text_input, *at.button, *at.selectbox)
        labels |= {w.label for w in widgets}
        labels |= {w.proto.label for w in (*at.get("file_uploader"), *at.get("download_button"))}
        labels |= {option for radio in at.radio for option in radio.options}
        labels |= {unescape(m.value).rstrip(":") for m in at.markdown}
    # The platform choice shows when the images are of several platforms.
    at.file_uploader(key="upload").set_value(("p.json", snapshot_bytes(multi_platform_family()), "")).run()
    ok(at)
    labels |= {w.label for w in at.selectbox}
    labels |= {option for box in at.selectbox for option in box.options}
    return labels


def test_each_hint_names_widgets_the_page_has() -> None:
    assert set(web.HINTS) == set(Hint)
    labels = page_labels()
    for hint, words in web.HINTS.items():
        speaks_the_page(words)
        quoted = re.findall(r"“(.+?)”", words)
        missing = [label for label in quoted if label not in labels]
        assert not missing, (hint, missing, sorted(labels))


def test_problem_text_words_the_hint() -> None:
    assert web.problem_text(LineageError("Plain.")) == "Plain."
    assert web.problem_text(LineageError("No engine.", hint=Hint.TRY_SAMPLE)) == (
        f"No engine, {web.HINTS[Hint.TRY_SAMPLE]}."
    )
    assert web.problem_text(LineageError("Address without scheme", hint=Hint.ADD_SCHEME)) == (
        f"Address without scheme: {web.HINTS[Hint.ADD_SCHEME]}."
    )
    fallback = web.fallback_note(LineageError("No engine here.", hint=Hint.TRY_SAMPLE))
    assert fallback == "No engine here. Showing the bundled sample images instead."


FAILURES = [
    pytest.param("docker", NO_ENGINE, Hint.TRY_SAMPLE, id="no-engine-at-address"),
    pytest.param("docker", "", Hint.TRY_SAMPLE, id="no-engine-from-env"),
    pytest.param("docker", "localhost:2375", Hint.ADD_SCHEME, id="address-without-scheme"),
    pytest.param("registry", "", Hint.REGISTRY_ADDRESS, id="no-registry-address"),
    pytest.param(
        "registry", "ftp://registry.example.com", Hint.REGISTRY_ADDRESS, id="not-a-registry-address"
    ),
    pytest.param("registry", "http://127.0.0.1:{port}", None, id="unknown-registry"),
    pytest.param("registry", "127.0.0.1:{port}/team/app", None, id="registry-without-scheme"),
    pytest.param("upload", b'{"schema": 1', None, id="broken-upload"),
    pytest.param("upload", b'{"schema": "other/v9"}', None, id="unknown-schema"),
    pytest.param("upload", b"[]", None, id="empty-list"),
    pytest.param("upload", b"", None, id="empty-file"),
    pytest.param("upload", gzip.compress(b"{}"), None, id="gzip-file"),
    pytest.param("upload", docker_inspect_dump(), None, id="docker-inspect-dump"),
    pytest.param("upload", graph_json(), None, id="graph-v1-json"),
]


@pytest.mark.parametrize(("source", "value", "hint"), FAILURES)
def test_every_failure_speaks_the_page_language(source: str, value: str | bytes, hint: Hint | None) -> None:
    """Each failure the app can meet, driven through its widgets: no flag, no spec syntax."""
    at = start(source)
    if source == "docker":
        at.text_input(key="endpoint").input(str(value)).run()
    elif source == "registry":
        at.text_input(key="registry_url").input(str(value).format(port=closed_port())).run()
    else:
        assert isinstance(value, bytes)
        at.file_uploader(key="upload").set_value(("upload.json", value, "application/json")).run()
    ok(at)
    shown = [unescape(str(e.value)) for e in (*at.error, *at.warning, *at.info, *at.caption)]
    for text in shown:
        speaks_the_page(text)
    # An address left empty is not an error of the user's: what to do next is said calmly.
    typed = isinstance(value, bytes) or bool(value.strip())
    if not typed:
        assert not at.error, "nothing typed yet: no error"
    problems = [unescape(str(e.value)) for e in (at.error if typed else at.info)]
    if not trees(at):  # a graph/v1 file may be read as what it holds
        assert problems, "a failure says what happened"
    if hint is not None:
        assert any(web.HINTS[hint] in problem for problem in problems), problems


def test_the_fallback_to_the_sample_speaks_the_page_language() -> None:
    at = start("auto")
    ok(at)
    notes = [unescape(str(i.value)) for i in at.info]
    assert any(note.endswith("Showing the bundled sample images instead.") for note in notes), notes
    for note in notes:
        speaks_the_page(note)


def test_the_page_icon_is_a_file_of_the_package() -> None:
    """An emoji or :material/...: icon is fetched by the browser from a font CDN."""
    icon = Path(web.PAGE_ICON)
    assert icon.is_file()
    assert icon.read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert "http" not in icon.read_text(encoding="utf-8").replace("http://www.w3.org/2000/svg", "")
    assert "page_icon=web.PAGE_ICON" in APP.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- platforms


@pytest.fixture
def on_amd64(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine is linux/amd64, whatever runs the tests."""
    monkeypatch.setattr("platform.machine", lambda: "x86_64")


def platforms_scan() -> Scan:
    return Scan(source=SOURCE, images=tuple(multi_platform_family()))


HIDDEN_ARM64 = (
    "8 images of another platform (linux/arm64) hidden: "
    "choose “All platforms” under “Platform” in the sidebar."
)


@pytest.mark.usefixtures("on_amd64")
def test_the_view_shows_the_hosts_platform_and_says_what_it_hides() -> None:
    scan = platforms_scan()
    view = web.make_view(scan, web.ViewOptions())
    assert len(view.shown) == 7
    assert {n.image.platform for n in view.shown.nodes()} == {"linux/amd64"}
    assert view.platform_note == HIDDEN_ARM64
    assert "#7a3e9d" not in view.dot  # the host's own platform goes unnamed
    everything = web.make_view(scan, web.ViewOptions(platform="all"))
    assert (len(everything.shown), everything.platform_note) == (15, None)
    assert '"#7a3e9d">arm64</FONT>' in everything.dot
    assert b"<br/>arm64" in web.export(everything, "mermaid")
    arm = web.make_view(scan, web.ViewOptions(platform="linux/arm64"))
    assert (len(arm.shown), arm.platform_note) == (8, None)
    assert '"#7a3e9d">arm64</FONT>' in arm.dot  # not the host's: named


@pytest.mark.usefixtures("on_amd64")
def test_platform_choices_are_the_hosts_all_and_each_one_present() -> None:
    scan = platforms_scan()
    assert web.platform_choices(scan) == ["host", "all", "linux/amd64", "linux/arm64"]
    assert [web.platform_label(c) for c in web.platform_choices(scan)] == [
        "This machine's (linux/amd64)",
        "All platforms",
        "linux/amd64",
        "linux/arm64",
    ]
    assert web.platform_choices(Scan(source=SOURCE, images=tuple(jupyter_family()))) == []  # one: no choice


@pytest.mark.usefixtures("on_amd64")
def test_the_picker_and_the_inspector_name_the_platform() -> None:
    view = web.make_view(platforms_scan(), web.ViewOptions(platform="all"))
    labels = [view.label(i) for i in view.choices()]
    assert "multi/app:1  ·  linux/arm64  ·  10.0 MB" in labels
    assert "multi/app:1  ·  linux/amd64  ·  10.0 MB" in labels
    app = next(
        n for n in view.shown.nodes() if n.image.tags == ("multi/app:1",) and "arm64" in n.image.platform
    )
    details = web.image_details(view, app.id)
    assert details.platform_text == (
        "Platform linux/arm64. Its multi-platform index names linux/amd64, linux/arm/v7 (not here) "
        "and linux/arm64."
    )
    tool = next(n for n in view.shown.nodes() if n.image.tags == ("multi/arm-tool:1",))
    assert web.image_details(view, tool.id).platform_text == "Platform linux/arm64."
    host_only = web.make_view(Scan(source=SOURCE, images=tuple(jupyter_family())), web.ViewOptions())
    assert host_only.label(host_only.choices()[0]) == "jupyter/docker-stacks-foundation:latest  ·  5.3 MB"


@pytest.mark.usefixtures("on_amd64")
def test_the_page_offers_the_platforms_and_says_what_is_hidden() -> None:
    at = start("upload")
    at.file_uploader(key="upload").set_value(("p.json", snapshot_bytes(multi_platform_family()), "")).run()
    ok(at)
    box = at.selectbox(key="platform")
    assert box.label == "Platform"
    assert box.value == "host"
    assert metric(at, "Images shown") == "7"
    assert HIDDEN_ARM64 in texts(at)
    assert "#7a3e9d" not in dot(at)
    box.select("all").run()
    ok(at)
    assert metric(at, "Images shown") == "15"
    assert "hidden" not in texts(at)
    assert '"#7a3e9d">arm64</FONT>' in dot(at)
    pick(at, "multi/app:1")
    ok(at)
    assert "Its multi-platform index names linux/amd64, linux/arm/v7 (not here) and linux/arm64." in texts(at)
    at.selectbox(key="platform").select("linux/arm64").run()
    ok(at)
    assert metric(at, "Images shown") == "8"


def test_the_sample_offers_no_platform_choice() -> None:
    at = start("sample")
    ok(at)
    assert not [box for box in at.selectbox if box.key == "platform"]


# --------------------------------------------------------------------------- several sources


def test_the_sample_and_an_uploaded_snapshot_make_one_tree() -> None:
    shared = next(i for i in sample_scan().images if i.tags)
    upload = [*jupyter_family(), replace(shared, tags=("copy/of:1",))]
    at = start("sample")
    at.multiselect(key="more_sources").set_value(["upload"]).run()
    ok(at)
    at.file_uploader(key="upload").set_value(("scan.json", snapshot_bytes(upload), "application/json")).run()
    ok(at)
    names = names_in(dot(at))
    assert {i.display_name for i in jupyter_family()} <= names
    assert shared.display_name in names
    assert "copy/of:1" not in names  # the same image: one box, named by its first tag
    assert "Images from 2 sources (sample; snapshot scan.json)" in texts(at)
    at.selectbox(key="image").set_value(shared.id).run()
    ok(at)
    assert f"Found in sample ({', '.join(shared.tags)}); snapshot scan.json (copy/of:1)." in texts(at)


def test_a_source_that_fails_among_several_is_named() -> None:
    at = start("sample")
    at.multiselect(key="more_sources").set_value(["docker"]).run()
    ok(at)
    assert any(unescape(i.value).startswith(f"{web.SOURCES['docker']}: ") for i in at.info)  # nothing typed
    at.text_input(key="endpoint").input("unix:///nonexistent/other.sock").run()
    ok(at)
    assert any(unescape(e.value).startswith(f"{web.SOURCES['docker']}: ") for e in at.error)
    assert not at.get("graphviz_chart")


def test_one_reading_is_passed_through_and_a_merge_names_every_source() -> None:
    alone = web.Loaded(sample_scan(), note="a note")
    assert web.merge_loaded([("sample", alone)]) is alone
    upload = web.Loaded(Scan(source=SOURCE, images=tuple(jupyter_family())), file="up.json")
    merged = web.merge_loaded([("sample", alone), ("upload", upload)])
    assert merged.scan is not None
    assert merged.note == "a note"
    assert merged.scan.source.endpoint == "sample; snapshot up.json"  # the file, not where it was recorded
    assert web.describe_source(merged.scan.source).startswith(
        "Images from 2 sources (sample; snapshot up.json)"
    )
    image = next(i for i in merged.scan.images if i.tags == jupyter_family()[0].tags)
    assert image.found_in == ("snapshot up.json",)
