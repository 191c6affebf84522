"""GraphML, for graph tools (Gephi, yEd, Cytoscape): networkx writes it.

One node per image (keyed by its id) and one edge per parent -> child, with the numbers
a tool can size or colour by as typed attributes. Text from images goes through
``clean_text``: XML 1.0 cannot hold most control characters, and a graph tool shows
labels as they are; the writer escapes the rest.
"""

from __future__ import annotations

import io

import networkx as nx

from image_lineage.bases import outside_text
from image_lineage.lineage import Lineage
from image_lineage.text import clean_text


def render_graphml(lineage: Lineage) -> str:
    graph = nx.DiGraph(source=clean_text(lineage.source.kind))
    for node in lineage.nodes():
        image = node.image
        graph.add_node(
            image.id,
            name=clean_text(image.display_name),
            tags=clean_text(", ".join(image.tags)),
            short_id=image.short_id,
            size=node.total_size,
            added_size=node.added_size,
            size_kind=image.size_kind,
            platform=clean_text(image.platform),
            layers=len(image.layers),
            intermediate=image.intermediate,
            outside_base=clean_text(outside_text(node.outside)) if node.outside else "",
        )
    for parent, child in lineage.edges():
        node = lineage.node(child)
        graph.add_edge(
            parent,
            child,
            layers_added=node.added_layers,
            size_added=node.added_size,
            verified=node.parent_verified,
            known_by=node.known_by,
        )
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue().decode("utf-8")
