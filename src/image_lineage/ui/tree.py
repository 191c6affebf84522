"""The family tree on the page: Graphviz's layout, drawn on the server, made interactive.

``show(view)`` draws the DOT the page already builds (``PageView.shown``) to SVG with
Graphviz's ``dot`` (cached by the DOT text) and hands it to a Streamlit component
(``st.components.v2``: no iframe; its script, ``assets/tree-component.js`` built from
``frontend/tree``, runs in the page and is sent inline with the element, so nothing is
fetched from elsewhere). The tree sits in a shadow root: Streamlit's CSS stays out of the
SVG, the tree's own CSS is added to that root. In the browser one can pan and zoom (drag,
wheel, pinch, ``+``/``-``/arrows/``0`` while the tree has the focus: keys typed elsewhere,
such as in the page's text boxes, are not the tree's), hover a box for its details, collapse
and expand what is built on an image, fit the tree, show it full screen, and click a box: the
click (the trigger ``pick``) picks that image in the page's picker
(``state.IMAGE``), so the inspector opens beside the graph as if it had been
picked there. The picked image is marked and the images the search matches are highlighted;
either is centred when it was chosen outside the tree.

The SVG is drawn without the picked image's mark (the script marks it): picking an image
does not draw the tree again, and the view keeps its zoom. The drawing (SVG and tooltip
data, 2 MB on 1,000 images) is sent only when it changed: a rerun that draws the same DOT
sends its digest alone, and an element that does not hold that drawing (one mounted afresh)
asks for it with the trigger ``need``, whose callback makes the next run send it. In the
page's first frame (``ui/first_frame.py``) the script, once it has drawn the tree, sends the
trigger ``drawn``: its rerun draws the rest of the page. The server keeps no state of the
tree's beyond the digest last sent. Image data
reaches the DOM only as text: Graphviz's SVG, whose strings the DOT renderer escaped, parsed
as XML with scripts and ``foreignObject`` dropped; tooltips through ``textContent``. Without
``dot`` on the server the page falls back to Streamlit's own ``graphviz_chart`` (a static
picture).
"""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st

from image_lineage import assets
from image_lineage.errors import RenderError
from image_lineage.lineage import Lineage
from image_lineage.render.dot import node_ids
from image_lineage.render.graphviz_render import INSTALL_HINT
from image_lineage.render.tree_data import tree_nodes
from image_lineage.web import PageView, graphviz_installed, state, tree_dot
from image_lineage.web.state import STATE

NAME = "image_lineage_tree"  # the component's name (st.components.v2)
HEIGHT = 600  # px: with the title and the find row, the tree's top half is in a 900 px window
# With the inspector beside it (a long column) the tree's narrower frame is taller, rather
# than a blank under it.
INSPECTED_HEIGHT = 820


def _script() -> str:
    """The component's ES module, inline: the first line break tells Streamlit it is code, not a path."""
    code = assets.read(assets.COMPONENT)
    return "// image-lineage's tree (frontend/tree/src/streamlit.js)\n" + code


_component = st.components.v2.component(NAME, js=_script(), isolate_styles=True)


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
    """The image id a click sent, if ``value`` (the trigger ``pick``) is one."""
    if isinstance(value, dict) and isinstance(value.get("image"), str):
        return str(value["image"])
    return None


def _triggered(name: str) -> Any:
    """The value of the element's trigger ``name`` in this interaction (read in its callback)."""
    return STATE.tree_trigger(name)


def _on_pick() -> None:
    image = picked(_triggered("pick"))
    if image is not None:
        STATE.pick(image)


def _on_need() -> None:
    STATE.tree_holds(None)  # the element lacks the drawing: this run sends it


def digest(dot: str) -> str:
    """What names a drawing: the same DOT draws the same SVG."""
    return hashlib.blake2b(dot.encode(), digest_size=16).hexdigest()


def _on_drawn() -> None:
    """Nothing to do: the trigger's rerun is the point (the page's second run, ``first_frame``)."""


def show(view: PageView, *, first_frame: bool = False) -> None:
    """The interactive tree of ``view.shown``; a click picks the image in the picker.

    ``first_frame``: the script, once it has drawn the tree, asks for the rest of the page
    (the trigger ``drawn``, whose rerun draws it).
    """
    dot = tree_dot(view)  # cached per lineage shown: a click reruns the page on the same one
    if not graphviz_installed():
        st.graphviz_chart(view.dot, width="stretch")
        return
    drawing = digest(dot)
    send = STATE.tree_sent != drawing
    ids = node_ids(view.shown)
    _component(
        key=state.TREE,
        data={
            "drawing": drawing,
            "svg": svg_of(dot) if send else None,
            "nodes": _nodes(view.shown, dot) if send else None,
            "rankdir": view.rankdir,
            "selected": ids.get(view.selected or ""),
            "matches": matching(view.shown, view.search),
            "first": first_frame,
        },
        height=HEIGHT if view.selected is None else INSPECTED_HEIGHT,
        on_pick_change=_on_pick,
        on_need_change=_on_need,
        on_drawn_change=_on_drawn,
    )
    STATE.tree_holds(drawing)
