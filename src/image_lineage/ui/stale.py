"""The app's "Images to rebuild": the same answer as ``image-lineage stale``, on the page.

One hook in ``app.py``: ``stale.show(page.report)``, once the page is known. It lists the
images built on an outdated base (an expander with a table, only when there are some). The
page model (``web.page``) judges them against every image the toggles let through and puts
an ``outdated_base`` note on each (``stale.noted``), which the tree draws as a dashed orange
border with a legend line, and the page's notes list.
"""

from __future__ import annotations

import streamlit as st

from image_lineage.model import short_id
from image_lineage.stale import StaleReport, age_text
from image_lineage.text import clean_text, count_layers, human_size


def rows(report: StaleReport) -> list[dict[str, object]]:
    """One row per image to rebuild, in the report's order (plain text cells)."""
    return [
        {
            "Image": clean_text(stale.name, 120),
            "Built on": clean_text(stale.old_base_name or "an older build", 120),
            "Older by": age_text(stale.age) if stale.age is not None else "not known",
            "Base tag": clean_text(group.tag, 120),
            "Now names": short_id(group.newer),
            "A rebuild replaces": f"{count_layers(stale.layers_to_change)}, "
            f"{human_size(stale.bytes_to_change)}",
            "Annotation": _annotation(stale.found_by, stale.annotation.evidence),
            "Evidence": stale.found_by,
        }
        for group in report.groups
        for stale in group.images
    ]


def _annotation(found_by: str, evidence: str) -> str:
    """What the image's own base annotation says: on a finding from provenance, none was compared
    (that finding carries the provenance's digest, which is no annotation)."""
    if found_by == "annotation":
        return "found by it alone"
    return "not compared" if found_by == "provenance" else evidence


def show(report: StaleReport) -> None:
    """The images to rebuild, when there are some: an expander with their table."""
    if not report:
        return
    label = f"Images to rebuild: {len(report)} on an outdated base"
    with st.expander(label, icon=":material/update:"):
        st.caption(
            "Each is built on an older build of a base whose tag now names a newer build "
            "(dashed orange in the tree). The same list: image-lineage stale."
        )
        st.table(rows(report))  # a static table: the inspector's dataframes keep their places
