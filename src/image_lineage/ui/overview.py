"""The overview of a big collection, and the family or repository groups the tree shows.

The page model (``web.make_page``), given the session's choices (``web.state``: the family
open, the whole tree, the grouping), shows one family of a collection of more than
``web.CROWDED`` images (the one opened here or the picked image's) and, with “Group tags by
repository” on, each repository of several images as one box. One hook in ``app.py``:

* ``drawn_instead(page, layers_from)``, where the tree goes: with more than ``web.CROWDED``
  images and no family open, draws the overview (a row per family, the picture of where the
  disk goes; with ``layers_from``, a source that keeps layers, a switch that reads them all and
  ranks the families by the bytes they ship for nothing) and returns True; otherwise draws
  the bar above the tree (back to the overview, the grouping switch) and returns False, and
  the page draws the tree.

What the overview shows is computed in ``image_lineage.overview``; this module only
lays it out; its buttons, box and table open a family through ``web.state``.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from image_lineage import grouping, overview, web
from image_lineage.lineage import Lineage
from image_lineage.text import clean_text, human_size
from image_lineage.web import files, state
from image_lineage.web.memo import by_identity
from image_lineage.web.state import STATE

CHART_HEIGHT = 460
EXPANDED_WIDTH = 320  # px: “Show each image of”, its placeholder whole


@by_identity(max_entries=8)
def families(lineage: Lineage) -> list[overview.FamilyRow]:
    """``overview.families(lineage)``, once per lineage (the overview's rows)."""
    return overview.families(lineage)


@by_identity(max_entries=8)
def treemap(lineage: Lineage) -> dict[str, Any]:
    """The treemap's ECharts option for ``lineage``, once per lineage."""
    return overview.echarts_treemap(overview.disk_map(lineage))


def drawn_instead(page: web.Page, layers_from: str | None = None) -> bool:
    """Draw the overview and return True, or draw the bar above the tree and return False."""
    if page.overview:
        _overview(page.view, layers_from)
        return True
    _tree_bar(page.view, page.family)
    return False


def _overview(view: web.PageView, layers_from: str | None) -> None:
    lineage = view.searched  # never grouped: the numbers need every image's layers
    found = families(lineage)
    heading = st.container()  # filled once the ranking (asked for below it) is known
    ranked = _by_hidden(lineage, found, layers_from)
    names = {family.root: family.name for family in found}
    roots = [row.family.root for row in ranked] if ranked else [family.root for family in found]
    many = "family" if len(found) == 1 else "families"
    first = "the most bytes shipped for nothing" if ranked else "the biggest users of disk"
    with heading:
        st.subheader(f"{len(lineage)} images in {len(found)} {many}", anchor=False)
        st.caption(
            "Too many images for one readable tree. Each family is a base image and every image "
            f"built on it; {first} come first. Click a row, or pick one under "
            "“Open a family's tree”, to see its tree."
        )
    pick, whole, switch = st.columns([3, 2, 2], vertical_alignment="bottom")
    pick.selectbox(
        "Open a family's tree",
        roots,
        index=None,
        format_func=lambda root: clean_text(names[root], 120),
        key=state.FAMILY_PICK,
        placeholder="Pick a family (type to search)",
        on_change=STATE.open_picked_family,
    )
    whole.button(
        f"Draw all {len(lineage)} in one tree",
        key="whole_tree_button",
        on_click=STATE.draw_whole,
        help="One picture of every image: its boxes will be small.",
        width="stretch",
    )
    with switch:
        _grouping_switch()
    # Ranked, the table has a fifth column: it takes two thirds of the width, not three fifths.
    table_side, chart_side = st.columns((2, 1) if ranked else web.COLUMNS, gap="medium")
    with table_side:
        st.dataframe(
            [row.row() for row in ranked] if ranked else [family.row() for family in found],
            hide_index=True,
            width="stretch",
            height=min(36 * (len(found) + 1) + 4, CHART_HEIGHT),
            on_select=lambda: STATE.open_table_row(roots),
            selection_mode="single-row",
            key=state.FAMILY_TABLE,
            # Least widths that fit the table's column at 1280 px without a sideways scroll (the
            # columns stretch wider in a wider window); a long family name is cut, whole on hover.
            column_config={
                "Family": st.column_config.TextColumn(width=124 if ranked else 170),
                "Images": st.column_config.NumberColumn(width=58),
                "Disk really used": st.column_config.TextColumn(width=108),
                "Sharing saves": st.column_config.TextColumn(
                    width=104, help="What the sizes docker images lists add up to, less the disk really used."
                ),
                "Ships for nothing": st.column_config.TextColumn(width=108, help=HIDDEN_HELP),
            },
        )
    with chart_side:
        st.markdown("**Where the disk goes**: each image as large as what it and the images built on it add")
        st.echarts_chart(
            treemap(view.shown),
            height=CHART_HEIGHT - 40,
            key="disk_map",
            alt="Where the disk goes: each family a rectangle, each image inside it as large as what "
            "it and the images built on it add.",
        )
        st.caption(
            f"All of it is {human_size(view.disk.shared)}, each layer counted once. Hover for a size; "
            "click a rectangle to look inside it, and the path under the picture to go back."
        )


HIDDEN_HELP = (
    "Bytes a layer ships that a later layer of one of the family's images removes or replaces: "
    "downloaded and stored, never seen. Each file counted once, in the layer that wrote it."
)


def _by_hidden(
    lineage: Lineage, found: list[overview.FamilyRow], layers_from: str | None
) -> list[overview.HiddenRow]:
    """The families ranked by what they ship for nothing, once asked (none: not asked, or no layers)."""
    if layers_from is None:
        return []  # records only: nothing to offer
    if not st.toggle(
        "Rank by what ships for nothing",
        key=state.RANK_HIDDEN,
        help="Reads the layers of every image shown (tar headers only; nothing is extracted), "
        "which can take a while on a big engine. " + HIDDEN_HELP,
    ):
        return []
    with st.spinner("Reading every image's layers (headers only)…"):
        read = files.hidden_of_images(lineage, spec=layers_from)
    if read.problem is not None:
        st.warning(web.plain(read.problem), icon=":material/folder_off:")
        return []
    return overview.by_hidden(found, lineage, read.hidden)


def _tree_bar(view: web.PageView, root: str | None) -> None:
    """Above the tree: the way back to the overview, and the grouping switch.

    One row whose items keep their natural width and wrap onto a second row when the column is
    narrow (with the inspector open the tree has three fifths of the page): fixed column
    shares cut "Back to the overview" and "Group tags by repository" short at 1440x900.
    """
    crowded = len(view.searched) > web.CROWDED
    if not crowded and not grouping.repositories(view.searched):
        return  # a small collection of one image per repository: nothing to switch
    with st.container(horizontal=True, vertical_alignment="bottom", gap="medium"):
        if crowded:
            st.button(
                "Back to the overview",
                key="back_to_overview",
                icon=":material/arrow_back:",
                on_click=STATE.back_to_overview,
            )
        if _grouping_switch():
            groups = grouping.repositories(view.searched)
            st.multiselect(
                "Show each image of",
                list(groups),
                key=state.EXPANDED,
                format_func=lambda name: f"{clean_text(name, 80)} ({len(groups[name])})",
                placeholder="Repositories drawn as one box",
                width=EXPANDED_WIDTH,
            )
    if crowded and root is not None and root in view.searched.by_id:
        name = clean_text(view.searched.node(root).image.display_name, 60)
        st.caption(web.plain(f"The family of {name}: {len(view.shown)} of {len(view.searched)} images."))


def _grouping_switch() -> bool:
    return st.toggle(
        "Group tags by repository",
        key=state.GROUP,
        help="All the images of one repository (jupyter/scipy-notebook:latest, :2026-11, ...) as one "
        "box with their count; choose repositories under “Show each image of” to draw them one by one.",
    )
