"""Renderers: golden files for the text formats, structure checks for the Graphviz ones.

The goldens were read by eye when written. To regenerate after a deliberate change:
``UPDATE_GOLDEN=1 pytest tests/unit/test_render.py`` and read the diff before committing.
"""

from __future__ import annotations

import json
import os
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from image_lineage.lineage import Lineage, build_lineage
from image_lineage.render import render
from image_lineage.render.text import render_text
from image_lineage.text import clean_text, human_size
from tests.builders import BASE, SOURCE, image, jupyter_family

GOLDEN = Path(__file__).parent / "golden"


def sample_family() -> list:  # type: ignore[type-arg]
    """The Jupyter-like family plus an untagged metadata-only child and a hostile tag."""
    return [
        *jupyter_family(),
        image([*BASE, "LABEL org.example.team=data"]),
        image([*BASE, "RUN hostile:10"], 'evil/"quote":<b>&amp;</b>'),
    ]


def family_lineage(order_seed: int | None = None) -> Lineage:
    images = sample_family()
    if order_seed is not None:
        random.Random(order_seed).shuffle(images)
    return build_lineage(images, SOURCE)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "produce"),
    [
        pytest.param("tree.txt", render_text, id="text"),
        pytest.param("tree-ascii.txt", lambda lin: render_text(lin, ascii_only=True), id="text-ascii"),
        pytest.param("graph.json", lambda lin: render(lin, "json"), id="json"),
        pytest.param("graph.dot", lambda lin: render(lin, "dot"), id="dot"),
        pytest.param("graph-lr.dot", lambda lin: render(lin, "dot", rankdir="LR"), id="dot-lr"),
        pytest.param("graph.mmd", lambda lin: render(lin, "mermaid"), id="mermaid"),
    ],
)
def test_golden(name: str, produce) -> None:  # type: ignore[no-untyped-def]
    check_golden(name, produce(family_lineage()))


@pytest.mark.parametrize("fmt", ["text", "json", "dot", "mermaid"])
def test_output_is_the_same_whatever_the_listing_order(fmt: str) -> None:
    outputs = {
        render_text(family_lineage(seed)) if fmt == "text" else render(family_lineage(seed), fmt)
        for seed in range(6)
    }
    assert len(outputs) == 1


def test_json_export_follows_the_schema() -> None:
    document = json.loads(render(family_lineage(), "json"))
    assert document["schema"] == "image-lineage.graph/v1"
    ids = [i["id"] for i in document["images"]]
    assert ids == sorted(ids)
    for item in document["images"]:
        assert item["parent"] is None or item["parent"] in ids
        assert all(child in ids for child in item["children"])
        assert all(layer["introduced_by"] in ids for layer in item["layers"])
        assert (
            sum(s["size"] for s in item["layers"] if s["introduced_by"] == item["id"]) == item["added_size"]
        )


def test_dot_never_uses_image_names_as_node_ids() -> None:
    dot = render(family_lineage(), "dot")
    assert isinstance(dot, str)
    statements = [line.strip() for line in dot.splitlines()[4:-1]]
    assert all(s.startswith("img_") for s in statements)
    assert 'evil/"quote"' not in dot
    assert "evil/&quot;quote&quot;:&lt;b&gt;&amp;amp;&lt;/b&gt;" in dot


@pytest.mark.usefixtures("graphviz")
def test_svg_is_well_formed_and_shows_every_image() -> None:
    svg = render(family_lineage(), "svg")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    texts = "".join(  # a name and its :tag are two lines
        t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")
    )
    for name in ("jupyter/base-notebook:latest", "jupyter/scipy-notebook:2026-11", "metadata only"):
        assert name in texts
    assert 'evil/"quote":<b>&amp;</b>' in texts  # shown as text, not markup
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))


@pytest.mark.usefixtures("graphviz")
@pytest.mark.parametrize(("fmt", "magic"), [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-")])
def test_binary_formats(fmt: str, magic: bytes) -> None:
    output = render(family_lineage(), fmt)
    assert isinstance(output, bytes)
    assert output.startswith(magic)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (15_234_000, "15.2 MB"),
        (123_456_789, "123 MB"),
        (2_500_000_000, "2.5 GB"),
    ],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_clean_text_removes_control_and_bidi_characters() -> None:
    assert clean_text("a\nb\tc") == "a b c"
    assert clean_text("evil\u202eexe.txt\x1b[31m") == "evil\ufffdexe.txt\ufffd[31m"
    assert clean_text("x" * 100, 10) == "x" * 9 + "…"


@pytest.mark.parametrize(
    "character",
    ["\ufffe", "\uffff", "\ufdd0", "\U0001fffe", "\U0010ffff", chr(0xD800), chr(0xDFFF), "\x85", "\x00"],
)
def test_clean_text_leaves_nothing_xml_refuses(character: str) -> None:
    assert clean_text(f"a{character}b") == "a\ufffdb"


def test_clean_text_keeps_what_xml_allows() -> None:
    text = "数据 🐳 ñandú \ue000 \ufffd \U00010000 \U0010fffd"
    assert clean_text(text) == text


def test_unrelated_families_are_stacked_not_side_by_side() -> None:
    other = [
        image(["RUN other-root:100"], "other:1"),
        image(["RUN other-root:100", "RUN x:1"], "other-app:1"),
    ]
    two_families = build_lineage([*sample_family(), *other], SOURCE)
    dot = render(two_families, "dot")
    invisible = [line for line in str(dot).splitlines() if "style=invis" in line]
    assert len(invisible) == 1  # the deepest jupyter image holds the other family's root
    assert invisible[0].endswith(f"img_{other[0].id[7:19]} [style=invis];")
    assert "style=invis" not in str(render(two_families, "dot", rankdir="LR"))
    assert "style=invis" not in str(render(family_lineage(), "dot"))
