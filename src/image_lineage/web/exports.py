"""Downloads: the shown graph as a file, exactly what the page draws."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

import streamlit as st

from image_lineage.render import render
from image_lineage.web.page import PageView


@st.cache_resource
def graphviz_installed() -> bool:
    """Whether Graphviz's ``dot`` (needed for the SVG and PNG downloads) is on PATH."""
    return shutil.which("dot") is not None


@dataclass(frozen=True, slots=True)
class Export:
    fmt: str
    label: str
    extension: str
    mime: str
    needs_graphviz: bool = False


EXPORTS = (
    Export("svg", "SVG", "svg", "image/svg+xml", needs_graphviz=True),
    Export("png", "PNG", "png", "image/png", needs_graphviz=True),
    Export("dot", "DOT", "dot", "text/vnd.graphviz"),
    Export("mermaid", "Mermaid", "mmd", "text/plain"),
    Export("json", "JSON", "json", "application/json"),
)


def export(view: PageView, fmt: str) -> bytes:
    """The shown graph as a file: exactly what the page draws (same lineage, same DOT)."""
    data = render(view.shown, fmt, rankdir=view.rankdir, highlight=view.selected, host_platform=view.host)
    return data.encode("utf-8") if isinstance(data, str) else data


def export_name(view: PageView, item: Export) -> str:
    suffix = ""
    if view.selected and len(view.shown) < len(view.searched):
        name = view.everything.node(view.selected).image.display_name
        suffix = "-" + re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:60]
    return f"image-lineage{suffix}.{item.extension}"
