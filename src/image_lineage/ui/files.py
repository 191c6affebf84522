"""The inspector's Files view: the picked image's filesystem as a collapsible tree, with filters.

Reading layers costs a pass over their blobs, so it waits for the reader to ask (a toggle);
what is read is kept for the source and image (``web.files.read_files``).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from image_lineage.lineage import Node
from image_lineage.text import clean_text, human_size
from image_lineage.web import files


def source(specs: Sequence[str], source_kind: str) -> str | None:
    """The source the page's layers are read from (None: the images are records only)."""
    return files.layer_spec(specs, source_kind)


def show(node: Node, spec: str | None, parent_layers: int) -> None:
    """The Files view of ``node``, its layers read from ``spec`` (``source``)."""
    st.markdown("**Its files**: what each layer adds, changes and removes, and what ships for nothing")
    if spec is None:
        st.caption(
            "These images come from records only (the sample or a snapshot): read them from an "
            "engine, an archive or a registry to see their files."
        )
        return
    if not st.toggle("Read its layers (tar headers only; nothing is extracted)", key="files_read"):
        return
    read = files.read_files(spec, node.id, node)
    if read.contents is None:
        st.warning(read.problem or "Its layers could not be read.", icon=":material/folder_off:")
        return
    contents = read.contents
    st.caption(files.figures(contents))
    choice = st.radio(
        "Show",
        list(files.FILTERS),
        format_func=files.FILTERS.__getitem__,
        horizontal=True,
        key="files_filter",
    )
    layer = 0
    if choice == "step":
        layers = contents.layers
        layer = st.selectbox(
            "Step",
            range(len(layers)),
            index=len(layers) - 1,
            format_func=lambda i: (
                f"L{i} · {human_size(layers[i].size)} · {clean_text(layers[i].created_by, 80)}"
            ),
            key="files_step",
        )
        changes = layers[layer]
        st.caption(
            f"{len(changes.added):,} added, {len(changes.changed):,} changed, {len(changes.removed):,} "
            f"removed; the lower layers' {human_size(changes.hidden_bytes)} it hides still ship."
        )
    shown = files.rows(contents, choice, layer, parent_layers)
    if not shown:
        st.caption("Nothing here.")
        return
    biggest = f" The {files.MAX_ROWS:,} biggest entries are shown." if len(shown) == files.MAX_ROWS else ""
    st.caption(files.legend(choice) + biggest)
    st.html(files.tree_html(shown))


def step_changes(node: Node, layer: int | None, spec: str | None) -> None:
    """The lesson's sentence on what a build step changed in the files (read when asked)."""
    if spec is None or layer is None:
        return
    if not st.toggle("Show the files it changed", key="lesson_files"):
        return
    read = files.read_files(spec, node.id, node)
    if read.contents is None or layer >= len(read.contents.layers):
        st.caption(read.problem or "Its layers could not be read.")
        return
    st.markdown(files.step_text(read.contents, layer))
