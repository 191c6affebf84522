"""stale.py on literal records: images built on an older build of a base whose tag moved."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Image
from image_lineage.stale import (
    BASE_DIGEST,
    BASE_NAME,
    StaleImage,
    StaleReport,
    stale_images,
    summary,
)
from tests.builders import (
    AMD64,
    ARM64,
    BASE,
    FOUNDATION,
    MINIMAL,
    SCIPY,
    SOURCE,
    digest,
    image,
    jupyter_family,
    rebuilt,
)


def lineage_of(*images: Image) -> Lineage:
    return build_lineage(images, SOURCE)


def with_manifest(original: Image) -> Image:
    return replace(original, manifest_digest=digest("manifest:" + original.id))


def annotated(original: Image, name: str, base_digest: str = "") -> Image:
    labels = {**original.label_dict, BASE_NAME: name, BASE_DIGEST: base_digest}
    return replace(original, labels=tuple(sorted(labels.items())))


def family(
    *, minimal: Image | None = None, old_tags: tuple[str, ...] = (), new_tag: str = "base:1"
) -> tuple[list[Image], Image, Image]:
    """foundation:1; an old base (untagged unless ``old_tags``) rebuilt as ``new_tag``;
    minimal:1 and scipy:1 built on the old base."""
    old_base = with_manifest(image(BASE, *old_tags))
    new_base = with_manifest(rebuilt(old_base, new_tag, from_step=len(FOUNDATION)))
    images = [
        image(FOUNDATION, "foundation:1"),
        old_base,
        new_base,
        minimal or image(MINIMAL, "minimal:1"),
        image(SCIPY, "scipy:1"),
    ]
    return images, old_base, new_base


def only(report: StaleReport, name: str) -> StaleImage:
    return next(s for s in report.images if s.name == name)


# --------------------------------------------------------------------------- lineage


def test_children_of_a_base_rebuilt_under_its_tag_are_stale() -> None:
    images, old_base, new_base = family()
    report = stale_images(lineage_of(*images))
    assert len(report.groups) == 1
    group = report.groups[0]
    assert (group.tag, group.newer, group.newer_name, group.platform) == (
        "base:1",
        new_base.id,
        "base:1",
        AMD64,
    )
    # Rebuild order: the base's child before what is built on it.
    assert [s.name for s in group.images] == ["minimal:1", "scipy:1"]
    minimal = group.images[0]
    assert (minimal.old_base, minimal.old_base_name) == (old_base.id, old_base.display_name)
    assert minimal.age == timedelta(days=30)
    assert (minimal.base_steps, minimal.shared_layers) == (len(BASE), 2)
    assert (minimal.layers_to_change, minimal.bytes_to_change) == (2, 20_000_000 + 8_000_000)
    assert minimal.diverged_step == len(FOUNDATION) + 1
    assert (minimal.found_by, minimal.annotation.evidence) == ("lineage", "none")
    scipy = group.images[1]
    assert (scipy.layers_to_change, scipy.bytes_to_change) == (4, 70_000_000)


def test_the_old_base_and_the_new_one_are_not_to_rebuild() -> None:
    images, old_base, new_base = family(old_tags=("base:1",), new_tag="127.0.0.1:5000/base:1")
    names = {s.image_id for s in stale_images(lineage_of(*images)).images}
    assert old_base.id not in names
    assert new_base.id not in names


def test_the_same_tag_in_another_source_moved_too() -> None:
    # The engine still has base:1 (the old build); the registry's base:1 is newer.
    images, _, _ = family(old_tags=("base:1",), new_tag="127.0.0.1:5000/base:1")
    report = stale_images(lineage_of(*images))
    assert [g.tag for g in report.groups] == ["127.0.0.1:5000/base:1"]
    assert only(report, "minimal:1").old_base_name == "base:1"


def test_an_old_base_holding_its_own_tag_is_another_version() -> None:
    images, _, _ = family(old_tags=("base:1.0",), new_tag="base:1.1")
    assert not stale_images(lineage_of(*images))


def test_the_old_base_need_not_be_among_the_images() -> None:
    images, old_base, _ = family()
    report = stale_images(lineage_of(*(i for i in images if i.id != old_base.id)))
    minimal = only(report, "minimal:1")
    assert (minimal.old_base, minimal.old_base_name) == (None, None)
    # Its time is the last base step's, from the image's own history.
    history = image(MINIMAL).history or ()
    assert minimal.old_base_created == max(e.created for e in history[: len(BASE)] if e.created)


def test_the_summary_says_each_thing_once() -> None:
    """An old base with no name is "an older build of TAG", not "an older build, an older build of"."""
    images, old_base, _ = family()
    unnamed = only(stale_images(lineage_of(*(i for i in images if i.id != old_base.id))), "minimal:1")
    line = summary(unnamed, "base:1")
    assert line.startswith("built on an older build of base:1")
    assert line.count("an older build") == 1
    named = only(stale_images(lineage_of(*images)), "minimal:1")
    assert named.old_base_name
    assert summary(named, "base:1").startswith(f"built on {named.old_base_name}, an older build of base:1")


def test_the_note_names_the_old_base_once_whether_it_is_shown_or_not() -> None:
    images, old_base, _ = family()
    shown = only(stale_images(lineage_of(*images)), "minimal:1")
    assert summary(shown, "base:1") == (
        f"built on {old_base.display_name}, an older build of base:1, 30 days older than the build "
        "base:1 names now: rebuild it (image-lineage stale)"
    )
    gone = only(stale_images(lineage_of(*(i for i in images if i.id != old_base.id))), "minimal:1")
    # Not "built on an older build, an older build of base:1, ... older than today's".
    assert summary(gone, "base:1").startswith("built on an older build of base:1 (not among these images), ")


def test_an_image_rebuilt_itself_under_its_tag_is_not_listed() -> None:
    images, _, new_base = family()
    minimal = next(i for i in images if i.tags == ("minimal:1",))
    again = rebuilt(minimal, "registry.example.com/minimal:1", from_step=len(FOUNDATION))
    names = [s.name for s in stale_images(lineage_of(*images, again)).images]
    assert names == ["scipy:1"]
    assert new_base.id not in names


def test_no_rebuilt_base_no_stale_image() -> None:
    report = stale_images(lineage_of(*jupyter_family()))
    assert not report
    assert (report.groups, len(report), report.images) == ((), 0, [])


def test_no_history_no_lineage_verdict() -> None:
    images, _, _ = family()
    assert not stale_images(lineage_of(*(replace(i, history=None) for i in images)))


def test_untagged_and_intermediate_images_are_not_listed() -> None:
    images, _, _ = family()
    images = [replace(i, tags=()) if i.tags == ("minimal:1",) else i for i in images]
    images = [replace(i, intermediate=True) if i.tags == ("scipy:1",) else i for i in images]
    assert not stale_images(lineage_of(*images))


def test_only_limits_what_is_listed_not_what_is_compared() -> None:
    images, _, new_base = family()
    lineage = lineage_of(*images)
    scipy = next(i for i in images if i.tags == ("scipy:1",))
    report = stale_images(lineage, only=[scipy.id])
    assert [(g.newer, [s.name for s in g.images]) for g in report.groups] == [(new_base.id, ["scipy:1"])]


# --------------------------------------------------------------------------- annotations


def test_an_annotation_naming_the_old_build_confirms() -> None:
    images, old_base, _ = family()
    minimal = annotated(image(MINIMAL, "minimal:1"), "docker.io/library/base:1", old_base.manifest_digest)
    images, _, _ = family(minimal=minimal)
    report = stale_images(lineage_of(*images))
    found = only(report, "minimal:1")
    assert (found.found_by, found.annotation.evidence) == ("lineage", "confirmed")
    assert found.annotation.digest == old_base.manifest_digest
    assert "older build" in found.annotation.detail
    # scipy inherited the label from minimal: not its own, so it says nothing.
    assert only(report, "scipy:1").annotation.evidence == "none"


def test_an_annotation_naming_a_digest_the_tag_no_longer_has_confirms() -> None:
    minimal = annotated(image(MINIMAL, "minimal:1"), "base:1", digest("gone"))
    images, _, _ = family(minimal=minimal)
    found = only(stale_images(lineage_of(*images)), "minimal:1")
    assert found.annotation.evidence == "confirmed"
    assert "no longer has" in found.annotation.detail


def test_an_annotation_naming_the_newer_build_contradicts() -> None:
    _, _, new_base = family()
    minimal = annotated(image(MINIMAL, "minimal:1"), "base:1", new_base.manifest_digest)
    images, _, _ = family(minimal=minimal)
    found = only(stale_images(lineage_of(*images)), "minimal:1")
    # Lineage (layers are content addresses) still lists it, and says the annotation disagrees.
    assert (found.found_by, found.annotation.evidence) == ("lineage", "contradicted")
    assert "has now" in found.annotation.detail


def test_an_annotation_naming_another_base_contradicts() -> None:
    minimal = annotated(image(MINIMAL, "minimal:1"), "other/base:7")
    images, _, _ = family(minimal=minimal)
    found = only(stale_images(lineage_of(*images)), "minimal:1")
    assert found.annotation.evidence == "contradicted"
    assert "another base" in found.annotation.detail


def app_without_history() -> Image:
    return image([*BASE, "RUN app:1000"], "app:1", history=False)


def test_an_annotation_alone_finds_an_image_lineage_cannot_place() -> None:
    # app:1 has no history (lineage says nothing); its annotation names base:1 at a
    # digest base:1 no longer has.
    _, old_base, new_base = family()
    app = annotated(
        image([*BASE, "RUN app:1000"], "app:1", history=False), "base:1", old_base.manifest_digest
    )
    report = stale_images(lineage_of(new_base, app))
    assert [g.tag for g in report.groups] == ["base:1"]
    found = report.images[0]
    assert (found.name, found.found_by, found.annotation.evidence) == ("app:1", "annotation", "confirmed")
    assert (found.diverged_step, found.old_base) == (None, None)
    # Naming the digest base:1 has now is no news.
    current = annotated(app, "base:1", new_base.manifest_digest)
    assert not stale_images(lineage_of(new_base, current))


def test_an_annotation_is_not_trusted_against_unknown_digests() -> None:
    _, old_base, new_base = family()
    app = annotated(
        image([*BASE, "RUN app:1000"], "app:1", history=False), "base:1", old_base.manifest_digest
    )
    unknown = replace(new_base, manifest_digest="", digests=())
    assert not stale_images(lineage_of(unknown, app))


# --------------------------------------------------------------------------- platforms, order


def multi_platform() -> list[Image]:
    images = []
    for platform in (AMD64, ARM64):
        old_base = image(BASE, platform=platform)
        images += [
            old_base,
            rebuilt(old_base, "base:1", from_step=len(FOUNDATION)),
            image(MINIMAL, "minimal:1", platform=platform),
        ]
    return images


def test_each_platform_is_its_own_group() -> None:
    report = stale_images(lineage_of(*multi_platform()))
    assert [(g.tag, g.platform, [s.platform for s in g.images]) for g in report.groups] == [
        ("base:1", AMD64, [AMD64]),
        ("base:1", ARM64, [ARM64]),
    ]


def test_a_rebuild_for_another_platform_is_no_rebuild_of_this_one() -> None:
    # Files copied as they are make the same layers on every platform.
    old_amd = image(BASE, platform=AMD64, portable=True)
    old_arm = image(BASE, platform=ARM64, portable=True)
    new_arm = rebuilt(old_arm, "base:1", from_step=len(FOUNDATION))
    child = image(MINIMAL, "minimal:1", platform=AMD64, portable=True)
    assert not stale_images(lineage_of(old_amd, old_arm, new_arm, child))


def test_the_report_is_the_same_whatever_the_order() -> None:
    images = list({i.id: i for i in multi_platform() + family()[0]}.values())
    expected = stale_images(lineage_of(*images))
    assert [s.name for s in expected.images] == ["minimal:1", "scipy:1", "minimal:1"]
    for seed in range(5):
        shuffled = list(images)
        random.Random(seed).shuffle(shuffled)
        assert stale_images(lineage_of(*shuffled)) == expected
