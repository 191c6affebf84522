"""The family tree on the page: Graphviz's layout, drawn on the server, made interactive.

``show(view)`` draws the DOT the page already builds (``PageView.shown``) to SVG with
Graphviz's ``dot`` (cached by the DOT text) and hands it to a custom component
(``tree_component/``: ``index.html`` and ``main.js``, built from ``frontend/tree``; nothing
is fetched from elsewhere). In the browser one can pan and zoom (drag, wheel, pinch,
``+``/``-``/arrows/``0``), hover a box for its details, collapse and expand what is built on
an image, fit the tree, and click a box: the click picks that image in the page's picker
(``st.session_state[PICKER]``), so the inspector opens beside the graph as if it had been
picked there. The picked image is marked and the images the search matches are
highlighted; either is centred when it was chosen outside the tree.

The SVG is drawn without the picked image's mark (the script marks it): picking an image
does not draw the tree again, and the view keeps its zoom. The drawing (SVG and tooltip
data, 2 MB on 1,000 images) is sent only when it changed: a rerun that draws the same DOT
sends its digest alone, and a frame that does not hold that drawing (one mounted afresh)
asks for it with ``{"need": digest, "ask": token}`` as its value. Without ``dot`` on the
server the page falls back to Streamlit's own ``graphviz_chart`` (a static picture).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from image_lineage.errors import RenderError
from image_lineage.lineage import Lineage
from image_lineage.render import render
from image_lineage.render.dot import node_ids
from image_lineage.render.graphviz_render import INSTALL_HINT
from image_lineage.render.html import tree_nodes
from image_lineage.web import PageView, graphviz_installed

KEY = "tree"  # the component's value: {"node": "img_…", "image": id, "click": n} after a click
PICKER = "image"  # the page's "Inspect an image" select box
SENT = "tree_drawing_sent"  # session state: the digest of the drawing last sent to the frame
ANSWERED = "tree_drawing_answered"  # session state: the frame's last "need" answered
HEIGHT = 600  # px: with the title and the find row, the tree's top half is in a 900 px window

_component = components.declare_component(
    "tree", path=str(resources.files("image_lineage").joinpath("ui/tree_component"))
)


@st.cache_data(max_entries=32, show_spinner=False)
def svg_of(dot: str) -> str:
    """Graphviz's SVG of ``dot`` (the layout every exported picture has)."""
    import graphviz  # noqa: PLC0415 - only needed once a tree is drawn

    try:
        output: bytes = graphviz.Source(dot).pipe(format="svg")
    except graphviz.ExecutableNotFound as error:
        raise RenderError(f"Graphviz's 'dot' program was not found: {INSTALL_HINT}.") from error
    return output.decode("utf-8")


@st.cache_data(max_entries=32, show_spinner=False)
def _nodes(_lineage: Lineage, dot: str) -> dict[str, dict[str, object]]:  # noqa: ARG001 - the cache key
    """The tooltips' data, cached with the drawing it belongs to (keyed by its DOT)."""
    return tree_nodes(_lineage)


def matching(lineage: Lineage, search: str) -> list[str]:
    """Node ids of the images with a tag containing ``search`` (any case), as the search keeps."""
    wanted = search.strip().lower()
    if not wanted:
        return []
    ids = node_ids(lineage)
    return [
        ids[node.id] for _, node in lineage.walk() if any(wanted in tag.lower() for tag in node.image.tags)
    ]


def picked(value: Any) -> str | None:
    """The image id a click sent, if the component's value is one."""
    if isinstance(value, dict) and isinstance(value.get("image"), str):
        return str(value["image"])
    return None


def _wanted(value: Any, drawing: str) -> str | None:
    """The token of the frame's request for ``drawing``, if its value is one."""
    if isinstance(value, dict) and value.get("need") == drawing and isinstance(value.get("ask"), str):
        return str(value["ask"])
    return None


def _on_click() -> None:
    image = picked(st.session_state.get(KEY))
    if image is not None:
        st.session_state[PICKER] = image


def show(view: PageView) -> None:
    """The interactive tree of ``view.shown``; a click picks the image in ``PICKER``."""
    dot = str(render(view.shown, "dot", rankdir=view.rankdir, host_platform=view.host))
    if not graphviz_installed():
        st.graphviz_chart(view.dot, width="stretch")
        return
    drawing = hashlib.blake2b(dot.encode(), digest_size=16).hexdigest()
    ask = _wanted(st.session_state.get(KEY), drawing)
    asked_again = ask is not None and ask != st.session_state.get(ANSWERED)
    send = st.session_state.get(SENT) != drawing or asked_again
    ids = node_ids(view.shown)
    _component(
        drawing=drawing,
        svg=svg_of(dot) if send else None,
        nodes=_nodes(view.shown, dot) if send else None,
        rankdir=view.rankdir,
        selected=ids.get(view.selected or ""),
        matches=matching(view.shown, view.search),
        height=HEIGHT,
        key=KEY,
        default=None,
        on_change=_on_click,
    )
    st.session_state[SENT] = drawing
    if ask is not None:
        st.session_state[ANSWERED] = ask
