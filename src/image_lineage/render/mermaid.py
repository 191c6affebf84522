"""Mermaid flowchart text: renders on GitHub, GitLab and in many doc tools.

Every character outside a small safe set is written as a Mermaid entity
(``#35;``), so no name can close a label or start a directive.
"""

from __future__ import annotations

import re

from image_lineage.lineage import Lineage
from image_lineage.render.common import names_platforms, ordered_edges, size_caption, size_kinds, size_marker
from image_lineage.render.dot import NAME_LIMIT, node_ids, short_platform
from image_lineage.text import clean_text, human_size

_SAFE = re.compile(r"[A-Za-z0-9 .,_/@+\-()]")


def render_mermaid(
    lineage: Lineage, *, rankdir: str = "TB", highlight: str | None = None, host_platform: str | None = None
) -> str:
    """Boxes name their image's platform (short) when ``names_platforms`` says so, as in DOT."""
    ids = node_ids(lineage)
    platform = names_platforms(lineage, host_platform)
    kinds = size_kinds(lineage)
    lines = [f"flowchart {'LR' if rankdir == 'LR' else 'TB'}", f"  %% {size_caption(lineage)}"]
    for _, node in lineage.walk():
        image = node.image
        name = _escape(clean_text(image.display_name, NAME_LIMIT))
        detail = _escape(f"{human_size(node.total_size)}{size_marker(node, kinds)} total")
        if platform and image.platform:
            detail += "<br/>" + _escape(short_platform(image.platform))
        lines.append(f'  {ids[node.id]}["{name}<br/>{detail}"]')
        if not image.tags:
            lines.append(f"  class {ids[node.id]} untagged")
    for parent, child in ordered_edges(lineage):
        text = "metadata only" if child.metadata_only else f"+{human_size(child.added_size)}"
        # Thick: the child's build recorded this base; dotted: layers alone, no history.
        arrow = "==>" if child.known_by in RECORDED else "-->" if child.parent_verified else "-.->"
        lines.append(f'  {ids[parent.id]} {arrow}|"{_escape(text)}"| {ids[child.id]}')
    lines.append("  classDef untagged stroke-dasharray: 4 3,fill:#f3f3f3")
    if highlight in ids:
        lines.append(f"  style {ids[highlight]} stroke:#6741d9,stroke-width:4px")
    return "\n".join(lines) + "\n"


RECORDED = frozenset({"provenance", "annotation", "label"})


def _escape(text: str) -> str:
    return "".join(c if _SAFE.fullmatch(c) else f"#{ord(c)};" for c in text)
