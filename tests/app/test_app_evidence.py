"""The app on images whose builds recorded their bases (fixtures recorded from real BuildKit
builds: tests/unit/fixtures/buildkit28-recorded/README.md), with that base not among them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from html import unescape
from pathlib import Path

from image_lineage.lineage import build_lineage
from image_lineage.model import Image
from image_lineage.sources.archive import ArchiveSource
from image_lineage.stale import stale_images
from image_lineage.ui.stale import rows
from tests.app.test_app import dot, drawn_trees, fresh_caches, ok, pick, snapshot_bytes, start, texts
from tests.builders import SOURCE, digest

__all__ = ["drawn_trees", "fresh_caches"]  # the page's autouse fixtures, here too

RECORDED = Path(__file__).parents[1] / "unit" / "fixtures" / "buildkit28-recorded"


def rebuilt_base() -> list[Image]:
    """The recorded images with team/base:1 rebuilt a month later from a new root, the old build
    gone (what Engine 28's containerd store does when the tag moves)."""
    images = ArchiveSource(RECORDED).scan().images
    old = next(i for i in images if "team/base:1" in i.tags)
    new = replace(
        old,
        id=digest("team/base:1 rebuilt"),
        manifest_digest=digest("team/base:1 rebuilt manifest"),
        digests=(),
        layers=(digest("team/base:1 rebuilt root"),),
        created=old.created + timedelta(days=30) if old.created else None,
    )
    return [*(i for i in images if i is not old), new]


def test_the_inspector_and_the_picture_name_a_base_that_is_not_here() -> None:
    images = [i for i in ArchiveSource(RECORDED).scan().images if "team/base:1" not in i.tags]
    at = start("upload")
    at.file_uploader(key="upload").set_value(("bk.json", snapshot_bytes(images), "application/json")).run()
    pick(at, "team/app:1")
    ok(at)
    shown = unescape(texts(at))
    assert "built on team/base:1 @ sha256:b1f0885a1eaa… (not here), as its provenance says" in shown
    assert "a base image: no parent here" not in shown  # it has one, not here
    drawn = dot(at)
    assert "not here" in drawn
    assert 'style="rounded,dashed"' in drawn


def test_the_lesson_names_the_family_after_its_base_that_is_not_here() -> None:
    images = [i for i in ArchiveSource(RECORDED).scan().images if "team/base:1" not in i.tags]
    at = start("upload")
    at.file_uploader(key="upload").set_value(("bk.json", snapshot_bytes(images), "application/json")).run()
    at.toggle(key="lesson").set_value(True).run()
    assert not at.exception
    families = at.selectbox(key="lesson_family")
    assert len(families.options) == 1  # four images, one base not here: one family
    assert families.options[0] == "team/base:1 (not here) · 4 images · sha256:b1f0885a1eaa…"
    images_box = at.selectbox(key="lesson_image")
    images_box.select_index(
        next(n for n, o in enumerate(images_box.options) if o.startswith("team/app:1"))
    ).run()
    assert not at.exception
    shown = unescape(texts(at))
    assert (
        "team/app:1 is built on team/base:1 @ sha256:b1f0885a1eaa… (not here): docker pull downloads" in shown
    )
    # Its first layer may be the base's: the lesson does not give it to team/app:1 alone.
    assert (
        "It comes from the build of team/app:1 or of its base, team/base:1 @ sha256:b1f0885a1eaa… (not here)."
        in shown
    )


def test_images_to_rebuild_on_provenance_say_what_is_not_known() -> None:
    """The older build is gone: its age is not known (no "?"), and no annotation was compared."""
    report = stale_images(build_lineage(rebuilt_base(), SOURCE))
    table = rows(report)
    assert sorted(str(row["Image"]) for row in table) == [
        "team/annot:1",
        "team/app:1",
        "team/min:1",
        "team/multi:1",
    ]
    assert {(row["Older by"], row["Annotation"], row["Evidence"]) for row in table} == {
        ("not known", "not compared", "provenance")
    }
