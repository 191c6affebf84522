"""The app's "Images to rebuild": the same answer as ``image-lineage stale``, on the page.

One hook in ``app.py``: ``view = stale.mark(view)``, once the view is known. It lists the
images built on an outdated base (an expander with a table, only when there are some) and
returns the view with an ``outdated_base`` note on each of them (``stale.noted``), which the
tree draws as a dashed orange border with a legend line, and the page's notes list.
Judged against every image the toggles let through (``view.everything``).
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from image_lineage import web
from image_lineage.lineage import Lineage
from image_lineage.model import short_id
from image_lineage.render.common import clean_text, count_layers, human_size
from image_lineage.stale import StaleReport, age_text, noted, stale_images


def rows(report: StaleReport) -> list[dict[str, object]]:
    """One row per image to rebuild, in the report's order (plain text cells)."""
    return [
        {
            "Image": clean_text(stale.name, 120),
            "Built on": clean_text(stale.old_base_name or "an older build", 120),
            "Older by": age_text(stale.age) if stale.age is not None else "?",
            "Base tag": clean_text(group.tag, 120),
            "Now names": short_id(group.newer),
            "A rebuild replaces": f"{count_layers(stale.layers_to_change)}, "
            f"{human_size(stale.bytes_to_change)}",
            "Annotation": stale.annotation.evidence if stale.found_by == "lineage" else "found by it alone",
        }
        for group in report.groups
        for stale in group.images
    ]


def mark(view: web.PageView) -> web.PageView:
    """Show the images to rebuild (when there are some) and mark them in the tree."""
    report = report_of(view.everything)
    if not report:
        return view
    label = f"Images to rebuild: {len(report)} on an outdated base"
    with st.expander(label, icon=":material/update:"):
        st.caption(
            "Each is built on an older build of a base whose tag now names a newer build "
            "(dashed orange in the tree). The same list: image-lineage stale."
        )
        st.table(rows(report))  # a static table: the inspector's dataframes keep their places
    return replace(
        view,
        everything=marked(view.everything, report),
        searched=marked(view.searched, report),
        shown=marked(view.shown, report),
    )


# The view's lineages are the same objects from one rerun to the next (``web.make_view``), so
# the report and the marked lineages are kept by their identity (``web.ids_of``): on 1,000 images
# the check took a sixth of a rerun, and fresh lineages would make the tree's DOT and the
# inspector's details (cached by the lineage) miss.
def report_of(everything: Lineage) -> StaleReport:
    """``stale_images(everything)``, once per lineage."""
    held, report = _report_entry(id(everything), everything)
    return report if held is everything else stale_images(everything)


def marked(lineage: Lineage, report: StaleReport) -> Lineage:
    """``noted(lineage, report)``, once per lineage and report."""
    inputs = (lineage, report)
    held, result = _marked_entry(web.ids_of(inputs), inputs)
    return result if web.same_objects(held, inputs) else noted(lineage, report)


@st.cache_resource(max_entries=8, show_spinner=False)
def _report_entry(
    lineage_id: int,  # noqa: ARG001 - the cache key
    _lineage: Lineage,
) -> tuple[Lineage, StaleReport]:
    return _lineage, stale_images(_lineage)


@st.cache_resource(max_entries=24, show_spinner=False)
def _marked_entry(
    ids: tuple[int, ...],  # noqa: ARG001 - the cache key
    _inputs: tuple[Lineage, StaleReport],
) -> tuple[tuple[Lineage, StaleReport], Lineage]:
    return _inputs, noted(*_inputs)
