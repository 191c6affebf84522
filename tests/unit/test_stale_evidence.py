"""``stale`` on evidence: the base digest a build recorded, a tag in another source, a version bump
found by instruction and target; and the look-alikes that must not raise an alarm."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from image_lineage.lineage import build_lineage
from image_lineage.model import BaseEvidence, Image, Scan
from image_lineage.render.stale import render_stale_json, render_stale_text
from image_lineage.sources.snapshot import dumps
from image_lineage.stale import StaleReport, stale_images
from tests.builders import SOURCE, digest, image, rebuilt
from tests.support.cli import run_cli

ROOT = ["RUN import-rootfs:5000000", "ENV LANG=C.UTF-8"]
OLD_BASE = [*ROOT, "ENV PYTHON_VERSION=3.12.6", "RUN install-python-3.12.6:2000000"]
APP = [*OLD_BASE, "RUN pip-app:300000"]
ENGINE, REGISTRY = ("docker unix:///a.sock",), ("registry 127.0.0.1:5000",)


def report_of(*images: Image) -> StaleReport:
    return stale_images(build_lineage(images, SOURCE))


def later(original: Image, steps: list[str], *tags: str, days: int = 30) -> Image:
    """``steps`` built ``days`` later than ``original`` (its steps that ``steps`` shares keep their times)."""
    made = image(steps, *tags, salt=f"later{days}")
    shared = 0
    for ours, theirs in zip(original.history or (), made.history or (), strict=False):
        if ours != theirs:
            break
        shared += 1
    history = tuple(
        e if n < shared else replace(e, created=e.created + timedelta(days=days) if e.created else None)
        for n, e in enumerate(made.history or ())
    )
    created = original.created + timedelta(days=days) if original.created else None
    return replace(made, history=history, created=created)


def manifest(original: Image, name: str) -> Image:
    return replace(original, manifest_digest=digest("manifest:" + name))


# --------------------------------------------------------------------------- the digest a build recorded


def old_and_new_base() -> tuple[Image, Image]:
    """team/base:1 with Python 3.12.6, and its rebuild with 3.12.7 a month later (manifest digests known)."""
    old = manifest(image(OLD_BASE, "team/base:1"), "old")
    bumped = [*ROOT, "ENV PYTHON_VERSION=3.12.7", "RUN install-python-3.12.7:2000000"]
    return old, manifest(later(old, bumped, "team/base:1"), "new")


def test_a_base_deleted_and_rebuilt_under_its_tag_is_found_by_provenance() -> None:
    """The containerd store deletes the old build when its tag moves: only the provenance links."""
    old, new = old_and_new_base()
    app = replace(
        image(APP, "team/app:1"), base=BaseEvidence("provenance", "team/base:1", old.manifest_digest)
    )
    report = report_of(new, app)  # the old base is gone
    (found,) = report.images
    assert (found.name, found.found_by, report.groups[0].tag, report.groups[0].newer) == (
        "team/app:1", "provenance", "team/base:1", new.id,
    )  # fmt: skip
    text = render_stale_text(report, build_lineage([new, app], SOURCE))
    assert (
        "found by its provenance (the base digest its build recorded): it names team/base:1 at sha256:"
        in text
    )
    assert '"found_by": "provenance"' in render_stale_json(report)


def test_a_base_still_named_by_its_tag_or_only_retagged_is_no_alarm() -> None:
    base = manifest(image(OLD_BASE, "team/base:1", "team/base:latest"), "base")
    app = replace(
        image(APP, "team/app:1"), base=BaseEvidence("provenance", "team/base:latest", base.manifest_digest)
    )
    assert not report_of(base, app)
    # the tag's image here knows only its config digest (a classic store's own build): nothing to compare
    assert base.created is not None
    plain = replace(image(OLD_BASE, "team/base:1", salt="other"), created=base.created + timedelta(days=1))
    assert not report_of(
        plain, replace(app, base=BaseEvidence("provenance", "team/base:1", base.manifest_digest))
    )


def test_an_older_build_under_the_tag_elsewhere_is_no_newer_base() -> None:
    """A registry that still has last month's team/base:1 makes no image on this month's stale."""
    old, new = old_and_new_base()
    new_app = manifest(
        later(
            new,
            [*ROOT, "ENV PYTHON_VERSION=3.12.7", "RUN install-python-3.12.7:2000000", "RUN pip-app:300000"],
            "team/app:1",
            days=31,
        ),
        "app",
    )
    new_app = replace(new_app, base=BaseEvidence("provenance", "team/base:1", new.manifest_digest))
    assert not report_of(old, new, new_app)


# --------------------------------------------------------------------------- a tag in another source


def test_a_root_rebuilt_from_a_new_rootfs_is_found_by_its_tag_in_another_source() -> None:
    root = replace(image(ROOT, "team/root:1"), found_in=ENGINE)
    app = replace(image([*ROOT, "RUN pip-app:300000"], "team/app:1"), found_in=ENGINE)
    fresh = replace(
        later(root, ["RUN import-rootfs-2027:5000000", "ENV LANG=C.UTF-8"], "127.0.0.1:5000/team/root:1"),
        found_in=REGISTRY,
    )  # shares no layer with the old root
    report = report_of(root, app, fresh)
    (found,) = report.images
    assert (found.name, found.found_by, found.old_base) == ("team/app:1", "tag", root.id)
    assert "found by the tag alone: team/root:1 names" in render_stale_text(
        report, build_lineage([root, app, fresh], SOURCE)
    )


def test_version_siblings_and_one_source_s_platforms_are_no_moved_tag() -> None:
    root = replace(image(ROOT, "python:3.12.1"), found_in=ENGINE)
    app = replace(image([*ROOT, "RUN pip-app:300000"], "team/app:1"), found_in=ENGINE)
    sibling = replace(
        later(root, ["RUN import-rootfs-2:5000000", "ENV LANG=C.UTF-8"], "python:3.12.2"), found_in=REGISTRY
    )
    assert not report_of(root, app, sibling)
    # the same tag twice in one source (records that name no source too): not a move
    again = replace(
        later(root, ["RUN import-rootfs-2:5000000", "ENV LANG=C.UTF-8"], "python:3.12.1"), found_in=ENGINE
    )
    assert not report_of(root, app, again)


# --------------------------------------------------------------------------- lineage by instruction


def bumped() -> tuple[Image, Image, Image, Image]:
    """root; the old base (untagged: its tag moved) and its rebuild with a version bump; app on the old."""
    root = image(ROOT, "team/root:1")
    old = image(OLD_BASE)
    new = later(old, [*ROOT, "ENV PYTHON_VERSION=3.12.7", "RUN install-python-3.12.7:2000000"], "team/base:1")
    return root, old, new, image(APP, "team/app:1")


def test_a_version_bump_is_found_by_instruction_and_target() -> None:
    report = report_of(*bumped())
    (found,) = report.images
    assert (found.name, found.found_by, report.groups[0].tag) == (
        "team/app:1",
        "lineage by instruction",
        "team/base:1",
    )
    assert found.diverged_step == 3  # ENV PYTHON_VERSION


def test_twins_and_version_siblings_built_from_one_dockerfile_are_no_alarm() -> None:
    root, old, new, app = bumped()
    # the old base still tagged: a sibling version (python:3.12.6 beside python:3.12.7), or a twin
    for tags in (("team/base:3.12.6",), ("team/twin:1",)):
        assert not report_of(root, replace(old, tags=tags), new, app)


def test_unrelated_images_of_the_same_shape_are_no_alarm() -> None:
    """Two teams' bases on one root, the same instructions with other values: each keeps its tag."""
    root, old, _, app = bumped()
    mine = replace(old, tags=("team/base:1",))
    theirs = later(
        old, [*ROOT, "ENV PYTHON_VERSION=3.11.9", "RUN install-python-3.11.9:2000000"], "other/base:1"
    )
    assert not report_of(root, mine, theirs, app)
    # and on another root they share no layer at all
    other_root = image(["RUN import-other-rootfs:5000000", "ENV LANG=C.UTF-8"], "other/root:1")
    lookalike = later(
        other_root, [*other_root_steps(), "ENV PYTHON_VERSION=3.12.7", "RUN install:2000000"], "o/b:1"
    )
    assert not report_of(root, old, app, other_root, lookalike)


def other_root_steps() -> list[str]:
    return ["RUN import-other-rootfs:5000000", "ENV LANG=C.UTF-8"]


def test_tree_and_export_mark_the_images_on_an_outdated_base(tmp_path: Path) -> None:
    """The CLI's tree and every export say what the app's dashed orange border says."""
    images = list(bumped())
    path = tmp_path / "scan.json"
    path.write_text(dumps(Scan(source=SOURCE, images=tuple(images))), encoding="utf-8")
    tree = run_cli(["tree", "--source", f"snapshot:{path}"])
    assert tree.code == 0, tree.stderr
    (line,) = [line for line in tree.stdout.splitlines() if "team/app:1" in line]
    assert line.endswith("[on an outdated base: image-lineage stale]")
    exported = run_cli(["export", "--source", f"snapshot:{path}", "--format", "json"])
    notes = json.loads(exported.stdout)["diagnostics"]
    assert [n["code"] for n in notes if n["image"] == images[3].id] == ["outdated_base"]
    dot = run_cli(["export", "--source", f"snapshot:{path}", "--format", "dot"])
    assert "outdated base" in dot.stdout


def test_a_version_bump_is_found_when_the_dangling_old_base_is_hidden() -> None:
    """Without --all an untagged base with children is not read: the image's parent is the root."""
    root, _, new, app = bumped()
    (found,) = report_of(root, new, app).images
    assert (found.name, found.found_by, found.old_base) == ("team/app:1", "lineage by instruction", None)


def test_resolve_compares_the_recorded_digest_with_what_the_registry_answers() -> None:
    from image_lineage.stale import recorded_references  # noqa: PLC0415

    old, _ = old_and_new_base()
    app = replace(
        image(APP, "team/app:1"),
        base=BaseEvidence("provenance", "r.example/team/base:1", old.manifest_digest),
    )
    lineage = build_lineage([old, app], SOURCE)
    assert recorded_references(lineage) == ["r.example/team/base:1"]
    assert not stale_images(lineage)  # nothing read names the tag elsewhere
    assert not stale_images(lineage, resolved={"r.example/team/base:1": old.manifest_digest})
    report = stale_images(lineage, resolved={"r.example/team/base:1": digest("now")})
    (found,) = report.images
    assert (found.name, found.found_by, report.groups[0].newer) == ("team/app:1", "provenance", digest("now"))


def test_the_same_base_pushed_again_under_another_digest_is_no_alarm() -> None:
    """Recompressed on a push, a manifest gets another digest; its layers (diff_ids) stay."""
    old, _ = old_and_new_base()
    app = replace(
        image(APP, "team/app:1"), base=BaseEvidence("provenance", "team/base:1", old.manifest_digest)
    )
    pushed = replace(
        old, id=digest("another config"), manifest_digest=digest("recompressed"), found_in=REGISTRY
    )
    assert old.created is not None
    pushed = replace(pushed, created=old.created + timedelta(days=1))
    assert not report_of(pushed, app)
    assert not report_of(replace(old, found_in=ENGINE), replace(app, found_in=ENGINE), pushed)


def test_an_image_rebuilt_since_under_a_tag_is_not_listed_for_its_stale_base() -> None:
    old, new = old_and_new_base()
    app = replace(
        image(APP, "team/app:1"), base=BaseEvidence("provenance", "team/base:1", old.manifest_digest)
    )
    tool = image([*APP, "RUN tool:10"], "team/tool:1")  # on team/app:1: listed with it
    assert {s.name for s in report_of(new, app, tool).images} == {"team/app:1", "team/tool:1"}
    again = rebuilt(tool, "team/tool:2", from_step=len(APP))  # the same steps, other layers, later
    assert {s.name for s in report_of(new, app, tool, again).images} == {"team/app:1", "team/tool:2"}
