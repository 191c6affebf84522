"""Which images to rebuild: those built on an older build of a base whose tag has moved.

The rule (``docs/stale.md``):

* **A rebuild of a base.** An image B is a newer build of one of image X's bases when
  B's history ran, step for step, the same commands as X's first ``steps`` steps
  (copied files and build-argument values may differ: see ``_command``), B's layers
  are not a prefix of X's while they share at least one, B is of X's platform, and B
  made the first step where their histories part later than X did. ``rebuilds`` finds
  every such B, nearest (most steps) first; ``insights.newer_build`` shows the nearest
  one for a picked image.
* **The tag moved.** X is *on an outdated base* when such a B carries a tag that once
  named X's old base: the old base (X's ancestor with ``steps`` steps) is untagged
  (dangling), or not among the images (deleted, or in a source not read), or it carries
  the same repository:tag in another source (an engine's ``base:1`` and a registry's
  ``127.0.0.1:5000/base:1``: registry hosts are not compared, see ``same_tag``). An old
  base that still holds a tag of its own that B does not carry is another version
  (``python:3.12.1`` beside ``python:3.12.2``), not a moved tag.
* **OCI annotations.** Where X carries ``org.opencontainers.image.base.name`` /
  ``.base.digest`` (records keep them in ``Image.labels``: config labels; manifest
  annotations are not kept by the sources yet) and did not inherit them from its old base,
  they *confirm* (they name B's tag at a digest B does not have) or *contradict* (another
  base, or B's own digest) what lineage found. An image lineage says nothing about whose
  annotation names a tag that now names an image of its platform with other digests is
  reported too, found by annotation alone.

Only tagged, non-intermediate images are reported (a dangling image is itself an old
build), and not an image that was itself rebuilt since under a tag. ``stale_images``
returns groups by base (its tag and newer image), each image with the old base it is
on, how much older that base is, and how many layers and bytes a rebuild would change;
the order is the same on every run. Pure: nothing here does I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from image_lineage.instructions import rebuild_key
from image_lineage.lineage import Lineage
from image_lineage.model import Diagnostic, HistoryEntry, Image
from image_lineage.platforms import compatible
from image_lineage.reference import digest_of, same_tag

BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"
SCHEMA = "image-lineage.stale/v1"

Evidence = Literal["confirmed", "contradicted", "none"]
FoundBy = Literal["lineage", "annotation"]

# --------------------------------------------------------------------------- rebuilds

# A rebuild of the same Dockerfile with a changed file or another --build-arg value is still a
# rebuild: ``instructions.rebuild_key`` leaves out copied content and build-argument values.
Command = tuple[str, bool]


def command(entry: HistoryEntry) -> Command:
    """What a step ran, as far as deciding "the same build steps" goes."""
    return rebuild_key(entry.created_by), entry.empty_layer


def common_prefix(first: Sequence[str], second: Sequence[str]) -> int:
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count


def built_later(newer: Image, older: Image) -> bool:
    """Whether ``newer`` made the first step where their histories part later than ``older``.

    Histories count in whole seconds (an engine's do; a config's may have fractions, so
    steps are compared to the second): on a tie, the images' own creation times decide.
    """
    for theirs, ours in zip(newer.history or (), older.history or (), strict=False):
        if theirs.identity() != ours.identity():
            first, second = _second(theirs.created), _second(ours.created)
            if first and second and first != second:
                return first > second
            break
    return newer.created is not None and older.created is not None and newer.created > older.created


def _second(moment: datetime | None) -> datetime | None:
    return moment.replace(microsecond=0) if moment is not None else None


@dataclass(frozen=True, slots=True)
class Rebuild:
    """``newer`` ran the same commands as the image's first ``steps`` steps and made other layers.

    ``shared_layers``: how many of the image's layers (from the bottom) it also has.
    """

    newer: Image
    steps: int
    shared_layers: int


class RebuildIndex:
    """The images of a lineage by their bottom layer and the commands of their whole history, built once.

    A rebuild shares at least its bottom layer with the image, so only images on the same
    bottom layer are ever compared: the same Dockerfile built on other roots (a machine's
    many copies of one project) would otherwise make every image meet every copy (n²).
    """

    def __init__(self, lineage: Lineage) -> None:
        self.commands: dict[str, tuple[Command, ...]] = {}
        self.by_commands: dict[tuple[str, tuple[Command, ...]], list[Image]] = defaultdict(list)
        for node in lineage.by_id.values():
            history = node.image.history
            if history:
                key = tuple(command(entry) for entry in history)
                self.commands[node.id] = key
                if node.image.layers:
                    self.by_commands[(node.image.layers[0], key)].append(node.image)

    def rebuilds(self, image: Image) -> list[Rebuild]:
        """Every newer build of the image or of one of its bases; the nearest first.

        Nearest: the most steps; ties go to a tagged, then newer image, then the highest id.
        """
        commands = self.commands.get(image.id)
        if not commands or not image.layers:
            return []
        found: list[tuple[tuple[object, ...], Rebuild]] = []
        for steps in range(1, len(commands) + 1):
            for other in self.by_commands.get((image.layers[0], commands[:steps]), ()):
                if other.id == image.id or not compatible(other.platform, image.platform):
                    continue
                shared = common_prefix(other.layers, image.layers)
                if shared == 0 or shared == len(other.layers) or not built_later(other, image):
                    continue
                created = other.created.timestamp() if other.created else 0.0
                found.append(((steps, bool(other.tags), created, other.id), Rebuild(other, steps, shared)))
        return [rebuild for _, rebuild in sorted(found, key=lambda item: item[0], reverse=True)]


def rebuilds(lineage: Lineage, image_id: str) -> list[Rebuild]:
    """Newer builds of the image (``steps`` = all of its history) or of its bases, nearest first."""
    return RebuildIndex(lineage).rebuilds(lineage.node(image_id).image)


# --------------------------------------------------------------------------- names and digests


def digests_of(image: Image) -> set[str]:
    """Every digest the image is known by: config (its id), manifest, index, repo digests."""
    found = {image.id, image.manifest_digest, image.index_digest}
    found.update(digest_of(d) for d in image.digests)
    return {d for d in found if d}


def _tag_matching(image: Image, name: str) -> str | None:
    return next((tag for tag in image.tags if same_tag(tag, name)), None)


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class Annotation:
    """What the image's own ``base.name`` / ``base.digest`` say of its base, and how they compare.

    ``evidence``: ``confirmed`` (they name the newer base's tag at a digest it no longer has),
    ``contradicted`` (another base, or the newer base's own digest), ``none`` (no own
    annotation; an inherited one is not the image's). ``detail`` says why, for people.
    """

    name: str
    digest: str
    evidence: Evidence
    detail: str


NO_ANNOTATION = Annotation("", "", "none", "no base annotation of its own")


@dataclass(frozen=True, slots=True)
class StaleImage:
    """One image to rebuild.

    ``old_base``: the image it is built on (an ancestor with ``base_steps`` steps), when
    among the images; ``old_base_created``: when that base was built (its own time, else
    its last step's in the image's history). ``age``: how much older it is than the newer
    base (None when a time is unknown). ``layers_to_change``/``bytes_to_change``: the image's
    layers above what it shares with the newer base, and their size: what a rebuild replaces.
    ``diverged_step``: the first step (1-based) where the newer base's history parts from the
    image's (None: found by annotation alone).
    """

    image_id: str
    name: str
    platform: str
    old_base: str | None
    old_base_name: str | None
    old_base_created: datetime | None
    age: timedelta | None
    base_steps: int
    shared_layers: int
    layers_to_change: int
    bytes_to_change: int
    diverged_step: int | None
    found_by: FoundBy
    annotation: Annotation


@dataclass(frozen=True, slots=True)
class StaleGroup:
    """Images on older builds of ``tag``, which now names ``newer`` (one platform's image)."""

    tag: str
    platform: str
    newer: str
    newer_name: str
    newer_created: datetime | None
    images: tuple[StaleImage, ...]


@dataclass(frozen=True, slots=True)
class StaleReport:
    groups: tuple[StaleGroup, ...]

    @property
    def images(self) -> list[StaleImage]:
        return [image for group in self.groups for image in group.images]

    def __bool__(self) -> bool:
        return bool(self.groups)

    def __len__(self) -> int:
        return sum(len(group.images) for group in self.groups)


def stale_images(lineage: Lineage, only: Iterable[str] | None = None) -> StaleReport:
    """Every image of ``lineage`` built on an outdated base, grouped by base.

    ``only``: report just these image ids (a view's), still judged against every image of
    ``lineage`` (a filter must not hide the newer base). Groups are ordered by tag, platform
    and newer image id; images in a group by their number of steps (rebuild order: a base
    before what is built on it), then name and id.
    """
    index = RebuildIndex(lineage)
    wanted = set(lineage.by_id) if only is None else set(only) & set(lineage.by_id)
    grouped: dict[tuple[str, str, str], list[StaleImage]] = defaultdict(list)
    newer_of: dict[str, Image] = {}
    steps_of: dict[str, int] = {}
    for image_id in sorted(wanted):
        image = lineage.node(image_id).image
        if not image.tags or image.intermediate:
            continue
        found = _by_lineage(lineage, index, image) or _by_annotation(lineage, image)
        if found is None:
            continue
        tag, newer, stale = found
        newer_of[newer.id] = newer
        steps_of[image.id] = len(image.history or ())
        grouped[(tag, newer.platform, newer.id)].append(stale)
    groups = []
    for (tag, platform, newer_id), members in sorted(grouped.items()):
        newer = newer_of[newer_id]
        members.sort(key=lambda s: (steps_of[s.image_id], s.name, s.platform, s.image_id))
        groups.append(
            StaleGroup(tag, platform, newer.id, newer.display_name, _created(newer), tuple(members))
        )
    return StaleReport(tuple(groups))


def _by_lineage(lineage: Lineage, index: RebuildIndex, image: Image) -> tuple[str, Image, StaleImage] | None:
    """The nearest rebuilt base whose tag moved, as lineage shows it (and what annotations add)."""
    candidates = index.rebuilds(image)
    full = len(image.history or ())
    if any(c.steps == full and c.newer.tags for c in candidates):
        return None  # the image itself was rebuilt under a tag: that newer build is the one to use
    own = _own_annotation(lineage, image)
    for rebuild in candidates:
        newer = rebuild.newer
        if rebuild.steps == full or not newer.tags:
            continue
        old = _old_base(lineage, image, rebuild.steps)
        tag = _moved_tag(newer, old, own)
        if tag is None:
            continue
        stale = _stale(
            lineage,
            image,
            newer,
            shared=rebuild.shared_layers,
            old=old,
            steps=rebuild.steps,
            found_by="lineage",
            annotation=_judge(own, tag, newer, old),
        )
        return tag, newer, stale
    return None


def _moved_tag(newer: Image, old: Image | None, own: tuple[str, str] | None) -> str | None:
    """The tag of ``newer`` that once named ``old``, or None when nothing says one did."""
    if own is not None and own[0] and (tag := _tag_matching(newer, own[0])):
        return tag
    if old is None or not old.tags:
        return newer.tags[0]
    return next((tag for tag in newer.tags if any(same_tag(tag, mine) for mine in old.tags)), None)


def _by_annotation(lineage: Lineage, image: Image) -> tuple[str, Image, StaleImage] | None:
    """Only the image's annotation says it: it names a tag now on another digest of its platform."""
    own = _own_annotation(lineage, image)
    if own is None or not own[0] or not own[1]:
        return None
    name, digest = own
    ancestors = {n.id for n in lineage.ancestors(image.id)}
    for node in lineage.nodes():
        newer = node.image
        tag = _tag_matching(newer, name)
        known = digests_of(newer) - {newer.id}
        if (
            tag is None
            or newer.id == image.id
            or newer.id in ancestors
            or not compatible(newer.platform, image.platform)
            or not known
            or digest in digests_of(newer)
        ):
            continue
        old = next((n.image for n in lineage.nodes() if digest in digests_of(n.image)), None)
        detail = f"names {name} at {digest}; {tag} is now {_short(newer)}"
        annotation = Annotation(name, digest, "confirmed", detail)
        shared = common_prefix(newer.layers, image.layers)
        steps = len(old.history or ()) if old is not None else 0
        stale = _stale(
            lineage,
            image,
            newer,
            shared=shared,
            old=old,
            steps=steps,
            found_by="annotation",
            annotation=annotation,
        )
        return tag, newer, stale
    return None


def _own_annotation(lineage: Lineage, image: Image) -> tuple[str, str] | None:
    """(base.name, base.digest) the image carries and did not inherit from its parent."""
    labels = image.label_dict
    pair = (labels.get(BASE_NAME, "").strip(), labels.get(BASE_DIGEST, "").strip())
    if pair == ("", ""):
        return None
    parent = lineage.node(image.id).parent
    if parent is not None and parent in lineage:
        theirs = lineage.node(parent).image.label_dict
        if (theirs.get(BASE_NAME, "").strip(), theirs.get(BASE_DIGEST, "").strip()) == pair:
            return None
    return pair


def _judge(own: tuple[str, str] | None, tag: str, newer: Image, old: Image | None) -> Annotation:
    """How the image's own annotation compares with what lineage found (``tag`` now on ``newer``)."""
    if own is None:
        return NO_ANNOTATION
    name, digest = own
    evidence: Evidence = "confirmed"
    if name and not same_tag(name, tag):
        evidence, detail = "contradicted", f"names another base, {name}, not {tag}"
    elif digest and digest in digests_of(newer):
        evidence, detail = "contradicted", f"names {digest}, which {tag} has now"
    elif not digest:
        detail = f"names {name} and no digest"
    elif old is not None and digest in digests_of(old):
        detail = f"names {digest}, the older build it is on"
    elif not digests_of(newer) - {newer.id}:
        detail = f"names {name or tag}; the digests {tag} has now are not known here"
    else:
        detail = f"names {digest}, which {tag} no longer has"
    return Annotation(name, digest, evidence, detail)


def _old_base(lineage: Lineage, image: Image, steps: int) -> Image | None:
    """The image's ancestor built from its first ``steps`` steps, when among the images."""
    for node in lineage.ancestors(image.id):
        if len(node.image.history or ()) == steps:
            return node.image
    return None


def _stale(
    lineage: Lineage,
    image: Image,
    newer: Image,
    *,
    shared: int,
    old: Image | None,
    steps: int,
    found_by: FoundBy,
    annotation: Annotation,
) -> StaleImage:
    node = lineage.node(image.id)
    sizes = [step.size for step in node.steps if step.diff_id is not None]
    old_created = _created(old) if old is not None else _last_step_time(image, steps)
    newer_created = _created(newer)
    age = newer_created - old_created if newer_created and old_created else None
    diverged = _diverged_step(newer, image) if found_by == "lineage" else None
    return StaleImage(
        image_id=image.id,
        name=image.display_name,
        platform=image.platform,
        old_base=old.id if old else None,
        old_base_name=old.display_name if old else None,
        old_base_created=old_created,
        age=age,
        base_steps=steps,
        shared_layers=shared,
        layers_to_change=len(image.layers) - shared,
        bytes_to_change=sum(sizes[shared:]),
        diverged_step=diverged,
        found_by=found_by,
        annotation=annotation,
    )


def _created(image: Image) -> datetime | None:
    if image.created is not None:
        return image.created
    times = [e.created for e in image.history or () if e.created is not None]
    return max(times) if times else None


def _last_step_time(image: Image, steps: int) -> datetime | None:
    times = [e.created for e in (image.history or ())[:steps] if e.created is not None]
    return max(times) if times else None


def _diverged_step(newer: Image, image: Image) -> int | None:
    for number, (theirs, ours) in enumerate(zip(newer.history or (), image.history or (), strict=False), 1):
        if theirs.identity() != ours.identity():
            return number
    return None


def _short(image: Image) -> str:
    return image.manifest_digest or image.id


# --------------------------------------------------------------------------- as notes

NOTE_CODE = "outdated_base"
"""The diagnostic code ``noted`` gives each image to rebuild; pictures mark those images."""


def summary(stale: StaleImage, tag: str) -> str:
    """One line for people: what the image is built on and what the tag names now."""
    if stale.old_base_name:
        base = f"{stale.old_base_name}, an older build of {tag}"
    else:
        base = f"an older build of {tag} (not among these images)"
    age = f", {age_text(stale.age)} older than the build {tag} names now" if stale.age is not None else ""
    return f"built on {base}{age}: rebuild it (image-lineage stale)"


def noted(lineage: Lineage, report: StaleReport) -> Lineage:
    """``lineage`` with one ``outdated_base`` diagnostic per image of ``report`` it shows."""
    notes = [
        Diagnostic(stale.image_id, NOTE_CODE, summary(stale, group.tag))
        for group in report.groups
        for stale in group.images
        if stale.image_id in lineage
    ]
    if not notes:
        return lineage
    return replace(lineage, diagnostics=(*lineage.diagnostics, *notes))


def age_text(age: timedelta) -> str:
    """``30 days``, ``5 hours``, ``12 minutes``, ``40 seconds``."""
    seconds = int(age.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if abs(seconds) >= size:
            return count(seconds // size, unit)
    return count(seconds, "second")


def count(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"
