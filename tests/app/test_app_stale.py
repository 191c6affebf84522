"""The app's "Images to rebuild" (ui/stale.py) on the bundled sample, which has a rebuilt base."""

from __future__ import annotations

from image_lineage.lineage import build_lineage
from image_lineage.render.dot import LEGEND_STALE, STYLE_STALE, render_dot
from image_lineage.stale import noted, stale_images
from image_lineage.ui.stale import rows
from tests.app.test_app import dot, drawn_trees, fresh_caches, ok, start
from tests.builders import BASE, FOUNDATION, MINIMAL, SOURCE, image, rebuilt

__all__ = ["drawn_trees", "fresh_caches"]  # the page's autouse fixtures, here too


def test_the_sample_lists_its_images_to_rebuild_and_marks_them() -> None:
    at = start()
    ok(at)
    (expander,) = [e for e in at.expander if e.label.startswith("Images to rebuild: ")]
    (table,) = at.table
    assert list(table.value.columns)[:3] == ["Image", "Built on", "Older by"]
    assert len(table.value) == int(expander.label.split(": ")[1].split()[0])
    drawn = dot(at)
    assert drawn.count(STYLE_STALE) == len(table.value)
    assert LEGEND_STALE in drawn


def test_noted_images_are_marked_in_dot_with_a_legend() -> None:
    old_base = image(BASE)
    images = [image(FOUNDATION, "foundation:1"), old_base, rebuilt(old_base, "base:1", from_step=3)]
    lineage = build_lineage([*images, image(MINIMAL, "minimal:1")], SOURCE)
    report = stale_images(lineage)
    marked = render_dot(noted(lineage, report))
    assert marked.count(STYLE_STALE) == 1
    assert LEGEND_STALE in marked
    assert [row["Image"] for row in rows(report)] == ["minimal:1"]
    # Without the notes (any other caller of render_dot): no mark, no legend.
    plain = render_dot(lineage)
    assert STYLE_STALE not in plain
    assert LEGEND_STALE not in plain
