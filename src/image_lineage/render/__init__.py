"""Renderers: a lineage in, ``str`` or ``bytes`` out. None of them prints or writes files.

Every renderer is deterministic: the same records give the same bytes whatever
order the source listed them in (nodes and edges are emitted in ``display_order``).
Modules are imported on use: a JSON export should not pay for Graphviz.
"""

from __future__ import annotations

from image_lineage.errors import LineageError
from image_lineage.lineage import Lineage

FORMATS = ("json", "dot", "svg", "png", "pdf", "mermaid", "graphml", "html")
BINARY_FORMATS = frozenset({"png", "pdf"})
RANKDIRS = ("TB", "LR")
# What a file's name says about its format (lower-case suffix -> format).
EXTENSIONS = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".json": "json",
    ".graphml": "graphml",
    ".html": "html",
    ".htm": "html",
}


def format_for(filename: str) -> str | None:
    """The format a file name's extension names (case-insensitive), or None."""
    _, dot, suffix = filename.rpartition(".")
    return EXTENSIONS.get(f".{suffix.lower()}") if dot else None


def render(
    lineage: Lineage,
    fmt: str,
    *,
    rankdir: str = "TB",
    highlight: str | None = None,
    host_platform: str | None = None,
) -> str | bytes:
    """One of ``FORMATS``; svg/png/pdf/html need Graphviz's ``dot`` program.

    ``highlight`` is the id of an image to mark in the pictures (not in JSON or GraphML).
    ``host_platform``: the pictures name each image's platform when the images are of
    several platforms or of one that is not this (None: only when of several). JSON and
    GraphML always carry every image's platform.
    """
    # ruff: noqa: PLC0415 - lazy imports are the point here
    if fmt == "json":
        from image_lineage.render.json_export import render_json

        return render_json(lineage)
    if fmt == "dot":
        from image_lineage.render.dot import render_dot

        return render_dot(lineage, rankdir=rankdir, highlight=highlight, host_platform=host_platform)
    if fmt == "mermaid":
        from image_lineage.render.mermaid import render_mermaid

        return render_mermaid(lineage, rankdir=rankdir, highlight=highlight, host_platform=host_platform)
    if fmt == "graphml":
        from image_lineage.render.graphml import render_graphml

        return render_graphml(lineage)
    if fmt == "html":
        from image_lineage.render.html import render_html

        return render_html(lineage, rankdir=rankdir, highlight=highlight, host_platform=host_platform)
    if fmt in {"svg", "png", "pdf"}:
        from image_lineage.render.graphviz_render import render_graphviz

        output = render_graphviz(
            lineage, fmt, rankdir=rankdir, highlight=highlight, host_platform=host_platform
        )
        return output.decode("utf-8") if fmt == "svg" else output
    raise LineageError(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")
