"""GraphML export: parses back with networkx, with the attributes graph tools use."""

from __future__ import annotations

import io
import re

import networkx as nx
import pytest

from image_lineage.lineage import build_lineage
from image_lineage.render import render
from image_lineage.text import clean_text
from tests.builders import MINIMAL, SOURCE, image, jupyter_family
from tests.unit.test_hostile_render import CORPUS, hostile_lineage


def parse(text: str | bytes) -> nx.DiGraph:
    assert isinstance(text, str)
    return nx.read_graphml(io.BytesIO(text.encode("utf-8")))


def test_graphml_reads_back_with_the_tree_and_its_numbers() -> None:
    unverified = image([*MINIMAL, "RUN extra:40"], "loose:1", history=False)
    lineage = build_lineage([*jupyter_family(), unverified], SOURCE)
    graph = parse(render(lineage, "graphml"))
    assert set(graph.nodes) == set(lineage.by_id)
    assert sorted(graph.edges) == lineage.edges()
    for node in lineage.nodes():
        attributes = graph.nodes[node.id]
        assert attributes["name"] == node.image.display_name
        assert attributes["tags"] == ", ".join(node.image.tags)
        assert attributes["short_id"] == node.image.short_id
        assert (attributes["size"], attributes["added_size"]) == (node.total_size, node.added_size)
        assert attributes["layers"] == len(node.image.layers)
        if node.parent is not None:
            edge = graph.edges[node.parent, node.id]
            assert edge["layers_added"] == node.added_layers
            assert edge["verified"] is node.parent_verified
    assert not graph.edges[lineage.node(unverified.id).parent, unverified.id]["verified"]


def test_graphml_does_not_depend_on_the_listing_order() -> None:
    family = jupyter_family()
    first = render(build_lineage(family, SOURCE), "graphml")
    assert first == render(build_lineage(list(reversed(family)), SOURCE), "graphml")


@pytest.mark.parametrize("text", [t for _, t in CORPUS], ids=[name for name, _ in CORPUS])
def test_hostile_text_stays_inert_text(text: str) -> None:
    out = render(hostile_lineage(text), "graphml")
    assert isinstance(out, str)
    graph = parse(out)  # well-formed XML whatever the text
    assert graph.number_of_nodes() == 2
    assert graph.number_of_edges() == 1
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]", out)
    assert "<script" not in out  # markup is escaped, never live
    lineage = hostile_lineage(text)
    child = next(n for n in lineage.nodes() if "safe/name:1" in n.image.tags)
    assert graph.nodes[child.id]["name"] == clean_text(child.image.display_name)  # shown as text
    assert graph.nodes[child.id]["tags"] == clean_text(", ".join(child.image.tags))
