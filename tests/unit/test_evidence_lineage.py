"""Parent edges that say how they are known, and bases no source read (recorded BuildKit fixtures:
tests/unit/fixtures/buildkit28-recorded/README.md)."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from pathlib import Path

import pytest

from image_lineage.families import families
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import BaseEvidence, Image, Scan
from image_lineage.render.dot import LEGEND_EVIDENCE, LEGEND_OUTSIDE, STYLE_EVIDENCE_EDGE, render_dot
from image_lineage.render.json_export import render_json
from image_lineage.render.text import render_text
from image_lineage.render.tree_data import tree_nodes
from image_lineage.sources.archive import ArchiveSource

RECORDED = Path(__file__).parent / "fixtures" / "buildkit28-recorded"
BASE_DIGEST = "sha256:b1f0885a1eaac1934171c05cfa6a80c34bd13f0f6b081921dbe0cda45611655f"


@pytest.fixture(scope="module")
def scan() -> Scan:
    return ArchiveSource(RECORDED).scan()


def _tree(images: list[Image], scan: Scan) -> Lineage:
    return build_lineage(images, scan.source)


def _named(lineage: Lineage, tag: str) -> str:
    return next(node.id for node in lineage.nodes() if tag in node.image.tags)


def test_buildkit_edges_are_known_by_provenance_and_the_root_by_layers(scan: Scan) -> None:
    lineage = _tree(list(scan.images), scan)
    known = {
        node.image.tags[0]: (node.known_by, node.parent and lineage.node(node.parent).image.tags[0])
        for node in lineage.nodes()
    }
    assert known == {
        "team/base:1": ("layers", None),
        "team/app:1": ("provenance", "team/base:1"),
        "team/annot:1": ("provenance", "team/base:1"),
        "team/min:1": ("provenance", "team/app:1"),
        "team/multi:1": ("provenance", "team/app:1"),  # the final stage's base, not the builder's
    }
    assert "[parent from provenance]" in render_text(lineage)
    assert not [d for d in lineage.diagnostics if d.code == "evidence_disagrees"]


def test_a_deleted_base_is_an_outside_node_and_its_images_one_family(scan: Scan) -> None:
    lineage = _tree([i for i in scan.images if "team/base:1" not in i.tags], scan)
    text = render_text(lineage)
    assert text.splitlines()[0] == "built on team/base:1 @ sha256:b1f0885a1eaa… (not here)"
    assert text.splitlines()[1].startswith(("├── team/annot:1", "└── team/annot:1"))
    (family,) = families(lineage)
    assert family.images == 4
    assert family.name.startswith("team/base:1 @")
    exported = {
        json.loads(line.rstrip(","))["tags"][0]: json.loads(line.rstrip(","))
        for line in render_json(lineage).splitlines()
        if line.startswith('{"id"')
    }
    assert exported["team/app:1"]["base"] == {
        "reference": "team/base:1",
        "digest": BASE_DIGEST,
        "evidence": "provenance",
        "here": False,
    }
    assert exported["team/min:1"]["parent_known_by"] == "provenance"
    assert exported["team/min:1"]["base"]["here"] is True
    dot = render_dot(lineage)
    assert "out_0 [label=<" in dot
    assert "not here" in dot
    assert 'style="rounded,dashed"' in dot
    assert dot.count("out_0 -> ") == 2


def test_the_picture_of_a_base_not_here_reads_apart_from_its_look_alikes(scan: Scan) -> None:
    """Its arrows are the recorded parents' (bold green, not the dashed "layers alone"), its images
    are no roots, the caption says what both mean once, and the tree's script hangs them from it."""
    lineage = _tree([i for i in scan.images if "team/base:1" not in i.tags], scan)
    dot = render_dot(lineage)
    outside_edges = [line for line in dot.splitlines() if "out_0 -> " in line]
    assert len(outside_edges) == 2
    assert all(STYLE_EVIDENCE_EDGE in line and "dashed" not in line for line in outside_edges)
    assert "root · " not in dot
    assert dot.count("2 layers with its base") == 2
    assert dot.count(LEGEND_EVIDENCE) == dot.count(html.escape(LEGEND_OUTSIDE)) == 1
    assert "style=invis" not in dot  # one family: its two roots side by side under the box, not stacked
    parents = {summary["name"]: summary["parent"] for summary in tree_nodes(lineage).values()}
    assert parents["team/app:1"] == parents["team/annot:1"] == "out_0"
    assert parents["team/min:1"] == parents["team/multi:1"] != "out_0"
    # The base here: no box, no legend of it; no evidence drawn, no legend of it either.
    here = render_dot(_tree(list(scan.images), scan))
    assert LEGEND_EVIDENCE in here
    assert html.escape(LEGEND_OUTSIDE) not in here
    assert LEGEND_EVIDENCE not in render_dot(_tree([replace(i, base=None) for i in scan.images], scan))


def test_evidence_naming_another_image_than_the_layers_is_a_diagnostic(scan: Scan) -> None:
    images = {i.tags[0]: i for i in scan.images}
    min_image = images["team/min:1"]
    wrong = replace(
        min_image, base=BaseEvidence("provenance", "team/annot:1", images["team/annot:1"].manifest_digest)
    )
    lineage = _tree([*(i for t, i in images.items() if t != "team/min:1"), wrong], scan)
    node = lineage.node(min_image.id)
    assert lineage.node(node.parent or "").image.tags == ("team/app:1",)  # layers keep their parent
    (note,) = [d for d in lineage.diagnostics if d.code == "evidence_disagrees"]
    assert note.message == "layers say the parent is team/app:1; its provenance names team/annot:1"
    root = replace(images["team/base:1"], base=wrong.base)  # evidence can make no cycle either
    lineage = _tree([root, images["team/annot:1"]], scan)
    assert lineage.node(root.id).parent is None
    (note,) = [d for d in lineage.diagnostics if d.code == "evidence_disagrees"]
    assert note.message == "layers find no parent here; its provenance names team/annot:1"


def test_a_label_inherited_from_the_parent_is_no_evidence_of_the_child(scan: Scan) -> None:
    images = {i.tags[0]: i for i in scan.images}
    labels = (
        ("org.opencontainers.image.base.digest", "sha256:" + "d" * 64),
        ("org.opencontainers.image.base.name", "else:1"),
    )
    app = replace(images["team/app:1"], base=None, labels=labels)
    child = replace(images["team/min:1"], base=None, labels=labels)
    lineage = _tree([images["team/base:1"], app, child], scan)
    assert lineage.node(app.id).outside == BaseEvidence("label", "else:1", "sha256:" + "d" * 64)
    assert lineage.node(child.id).outside is None


def test_the_inspector_the_lesson_and_graphml_name_the_outside_base(scan: Scan) -> None:
    from image_lineage import lesson  # noqa: PLC0415 - only this test needs them
    from image_lineage.families import family_of  # noqa: PLC0415
    from image_lineage.render.graphml import render_graphml  # noqa: PLC0415
    from image_lineage.web.inspector import build_image_details  # noqa: PLC0415

    lineage = _tree([i for i in scan.images if "team/base:1" not in i.tags], scan)
    app, annot, multi = (_named(lineage, t) for t in ("team/app:1", "team/annot:1", "team/multi:1"))
    summary = build_image_details(lineage, app).summary
    assert "built on team/base:1 @ sha256:b1f0885a1eaa… (not here), as its provenance says" in summary
    assert "(parent from provenance)" in build_image_details(lineage, multi).summary
    assert family_of(lineage, annot).members == family_of(lineage, multi).members  # one family
    (family,) = families(lineage)
    label = lesson.family_label(lineage, family)
    assert label == "team/base:1 (not here) · 4 images · sha256:b1f0885a1eaa…"
    plan = lesson.pull_plan(lineage, app)
    assert plan.summary().startswith("team/app:1 is built on team/base:1 @ sha256:b1f0885a1eaa… (not here):")
    graphml = render_graphml(lineage)
    assert "team/base:1 @ sha256:b1f0885a1eaa… (not here)" in graphml
    assert ">provenance<" in graphml


def test_an_index_digest_names_the_child_s_own_platform_of_a_multi_platform_base() -> None:
    from image_lineage.render.mermaid import render_mermaid  # noqa: PLC0415
    from tests.builders import AMD64, ARM64, SOURCE, image  # noqa: PLC0415

    steps = ["RUN import-rootfs:5000000"]
    index = (("linux/amd64", True), ("linux/arm64", True))
    amd, arm = (image(steps, "team/base:1", platform=p, index=index) for p in (AMD64, ARM64))
    assert amd.index_digest == arm.index_digest
    for platform, expected in ((AMD64, amd), (ARM64, arm)):
        child = image([*steps, "RUN app:10"], "team/app:1", platform=platform)
        child = replace(child, base=BaseEvidence("provenance", "team/base:1", amd.index_digest))
        lineage = build_lineage([amd, arm, child], SOURCE)
        node = lineage.node(child.id)
        assert (node.parent, node.known_by, node.outside) == (expected.id, "provenance", None)
    assert "==>" in render_mermaid(lineage)  # a recorded edge, drawn thick


def test_an_export_reads_back_with_the_bases_and_hostile_names_stay_clean_text(scan: Scan) -> None:
    from image_lineage.sources import snapshot  # noqa: PLC0415

    images = [i for i in scan.images if "team/base:1" not in i.tags]
    back = snapshot.loads(render_json(_tree(images, scan)))
    assert {i.tags[0]: i.base for i in back.images} == {i.tags[0]: i.base for i in images}
    evil = "evil/\x1b[31mred\u202e:1\n" + "x" * 500
    app = next(i for i in images if "team/app:1" in i.tags)
    hostile = replace(app, base=BaseEvidence("provenance", evil, "sha256:" + "e" * 64))
    lineage = _tree([hostile], scan)
    (line, *_) = render_text(lineage).splitlines()
    assert line.startswith("built on evil/")
    assert "\x1b" not in line
    assert "\u202e" not in line
    assert len(line) < 200
    assert "\x1b" not in render_dot(lineage)


def test_an_edge_without_history_is_known_by_layers_only() -> None:
    from tests.builders import SOURCE, image  # noqa: PLC0415

    root = image(["RUN import-rootfs:5000000"], "r:1", history=False)
    child = image(["RUN import-rootfs:5000000", "RUN app:10"], "c:1", history=False)
    lineage = build_lineage([root, child], SOURCE)
    assert [lineage.node(i.id).known_by for i in (root, child)] == ["layers", "layers only"]
    assert '"parent_known_by":"layers only"' in render_json(lineage)


def test_candidates_none_of_which_is_here_make_no_outside_base(scan: Scan) -> None:
    images = {i.tags[0]: i for i in scan.images}
    pairs = (("team/gone:1", "sha256:" + "a" * 64), ("team/builder:1", "sha256:" + "b" * 64))
    child = replace(images["team/app:1"], base=BaseEvidence("provenance", *pairs[0], candidates=pairs))
    lineage = _tree([child], scan)
    assert lineage.node(child.id).outside is None  # which of the two was the final stage's is unknown
    (note,) = [d for d in lineage.diagnostics if d.code == "base_unknown"]
    assert note.message == "its provenance lists team/builder:1, team/gone:1; none is here"
