"""Untrusted text from images comes out inert and readable in every format.

Tags, labels and history lines are written by whoever built an image. Each corpus
entry is put in a tag, a label and a history line; every renderer must stay
well-formed and show the text as text.
"""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from image_lineage.lineage import Lineage, build_lineage
from image_lineage.render import render
from image_lineage.render.text import render_text
from image_lineage.text import without_surrogates
from tests.builders import BASE, SOURCE, image
from tests.hostile.corpus import HOSTILE_TEXT, UNENCODABLE_TEXT

SVG = "{http://www.w3.org/2000/svg}"
CORPUS = HOSTILE_TEXT + UNENCODABLE_TEXT
IDS = [name for name, _ in CORPUS]


def hostile_lineage(text: str) -> Lineage:
    base = image(BASE, "base:1")
    child = image([*BASE, f"RUN {text}:10"], text, "safe/name:1")
    child = replace(child, labels=(("org.example.note", text), (text, "value")))
    return build_lineage([base, child], SOURCE)


@pytest.mark.parametrize("text", [t for _, t in CORPUS], ids=IDS)
def test_text_tree_has_no_control_characters_and_bounded_lines(text: str) -> None:
    out = render_text(hostile_lineage(text))
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]", out)
    assert max(len(line) for line in out.splitlines()) < 400
    assert len(out.splitlines()) == 3  # two images, then what the sizes measure


@pytest.mark.parametrize("text", [t for _, t in CORPUS], ids=IDS)
def test_json_keeps_the_exact_text(text: str) -> None:
    """Exact, but for a lone surrogate: no UTF-8 file can hold one, so it is written as U+FFFD."""
    document = json.loads(render(hostile_lineage(text), "json"))
    child = next(i for i in document["images"] if "safe/name:1" in i["tags"])
    text = without_surrogates(text)
    assert text in child["tags"]
    assert child["labels"]["org.example.note"] == text
    assert child["layers"][-1]["created_by"].endswith(text) or "***" in child["layers"][-1]["created_by"]


@pytest.mark.usefixtures("graphviz")
@pytest.mark.parametrize("text", [t for _, t in CORPUS], ids=IDS)
def test_dot_parses_to_exactly_the_expected_graph(text: str) -> None:
    dot = render(hostile_lineage(text), "dot")
    assert isinstance(dot, str)
    # Graphviz re-emits the parsed graph: two nodes and one edge, whatever the text.
    parsed = subprocess.run(["dot", "-Tcanon"], input=dot, capture_output=True, text=True, check=True).stdout
    assert len(re.findall(r"^\t(img_\w+)\t\[", parsed, re.MULTILINE)) == 2
    assert len(re.findall(r"->", parsed)) == 1


@pytest.mark.usefixtures("graphviz")
@pytest.mark.parametrize("text", [t for _, t in CORPUS], ids=IDS)
def test_svg_is_well_formed_with_no_active_content(text: str) -> None:
    svg = render(hostile_lineage(text), "svg")
    assert isinstance(svg, str)
    root = ET.fromstring(svg)
    for element in root.iter():
        assert element.tag not in {f"{SVG}script", f"{SVG}foreignObject", f"{SVG}image"}
        assert not [a for a in element.attrib if a.lower().startswith("on")]
    shown = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "adds 10 B" in shown  # the hostile image is still drawn, with its numbers
    assert len(svg) < 60_000  # 100 KB of text is shortened in the picture


@pytest.mark.parametrize("text", [t for _, t in CORPUS], ids=IDS)
def test_mermaid_labels_cannot_break_out(text: str) -> None:
    mermaid = render(hostile_lineage(text), "mermaid")
    assert isinstance(mermaid, str)
    lines = mermaid.splitlines()
    assert lines[0] == "flowchart TB"
    assert lines[1] == "  %% Sizes: unpacked layer sizes, as docker history shows them."  # our own text only
    # Every node line is img_x["..."], every label free of quotes, brackets and angle brackets.
    for line in lines[2:]:
        node = re.fullmatch(r'  img_\w+\["([^"]*)"\]', line)
        edge = re.fullmatch(r'  img_\w+ -(?:->|\.->)\|"([^"]*)"\| img_\w+', line)
        other = re.fullmatch(r"  (class img_\w+ untagged|classDef untagged .*)", line)
        assert node or edge or other, line
        label = (node or edge).group(1) if (node or edge) else ""  # type: ignore[union-attr]
        for part in label.split("<br/>"):  # our own line break is the only markup allowed
            assert not set(part) & set('"[]<>{}%|\n')


@pytest.mark.usefixtures("graphviz")
@pytest.mark.parametrize("text", [t for _, t in CORPUS], ids=IDS)
def test_png_renders(text: str) -> None:
    png = render(hostile_lineage(text), "png")
    assert isinstance(png, bytes)
    assert png.startswith(b"\x89PNG")


@pytest.mark.usefixtures("graphviz")
@pytest.mark.parametrize("text", [t for _, t in CORPUS], ids=IDS)
def test_html_keeps_the_text_inside_its_elements(text: str) -> None:
    page = render(hostile_lineage(text), "html")
    assert isinstance(page, str)
    # Exactly our three scripts (the drawing as text, the JSON data, the inlined bundle), each
    # closed once; the data holds no < > & at all, so nothing in it can end its element or
    # open another, and the drawing's text has no "<!--" (which would change how its end is read).
    assert len(re.findall(r"<script\b", page, re.IGNORECASE)) == 3
    assert len(re.findall(r"</script", page, re.IGNORECASE)) == 3
    drawing = re.search(r'<script type="image/svg\+xml" id="tree-svg">(.*?)</script>', page, re.DOTALL)
    assert drawing is not None
    assert "<!--" not in drawing.group(1)
    data = re.search(r'<script type="application/json" id="lineage-data">(.*?)</script>', page, re.DOTALL)
    assert data is not None
    assert not set(data.group(1)) & set("<>&")
    nodes = json.loads(data.group(1))["nodes"]
    child = next(n for n in nodes.values() if "safe/name:1" in n["tags"])
    assert len(nodes) == 2
    assert "+10 B in 1 layer over base:1" in child["summary"]  # the hostile image, with its numbers
    assert ET.fromstring(drawing.group(1)) is not None  # the drawing parses as XML, as the page reads it
