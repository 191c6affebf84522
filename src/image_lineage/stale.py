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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from image_lineage.bases import digests_of, is_layer_prefix, own_base, short_digest
from image_lineage.instructions import rebuild_key, target_key
from image_lineage.lineage import Lineage
from image_lineage.model import BaseEvidence, Diagnostic, HistoryEntry, Image
from image_lineage.platforms import compatible
from image_lineage.reference import Reference, same_tag

BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"
SCHEMA = "image-lineage.stale/v1"

Evidence = Literal["confirmed", "contradicted", "none"]
FoundBy = Literal["provenance", "annotation", "lineage", "tag", "lineage by instruction"]
"""What a finding rests on, strongest first (``docs/stale.md``): the base digest the build
recorded (``provenance``; ``annotation``: manifest annotations or, found alone, base labels),
a rebuild that ran the same commands (``lineage``), the base's tag naming a newer image in
another source (``tag``), a rebuild that ran the same instructions on the same targets with
other values (``lineage by instruction``)."""

# --------------------------------------------------------------------------- rebuilds

# A rebuild of the same Dockerfile with a changed file or another --build-arg value is still a
# rebuild: ``instructions.rebuild_key`` leaves out copied content and build-argument values.
Command = tuple[str, bool]


def command(entry: HistoryEntry) -> Command:
    """What a step ran, as far as deciding "the same build steps" goes."""
    return rebuild_key(entry.created_by), entry.empty_layer


def target(entry: HistoryEntry) -> Command:
    """Looser: the instruction and what it sets or runs, without values (``instructions.target_key``)."""
    return target_key(entry.created_by), entry.empty_layer


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

    def __init__(self, lineage: Lineage, key_of: Callable[[HistoryEntry], Command] = command) -> None:
        self.commands: dict[str, tuple[Command, ...]] = {}
        self.by_commands: dict[tuple[str, tuple[Command, ...]], list[Image]] = defaultdict(list)
        for node in lineage.by_id.values():
            history = node.image.history
            if history:
                key = tuple(key_of(entry) for entry in history)
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
        platform = image.platform  # a property that joins its parts: once, not once per other image
        for steps in range(1, len(commands) + 1):
            for other in self.by_commands.get((image.layers[0], commands[:steps]), ()):
                if other.id == image.id or not compatible(other.platform, platform):
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


def stale_images(
    lineage: Lineage, only: Iterable[str] | None = None, resolved: Mapping[str, str] | None = None
) -> StaleReport:
    """Every image of ``lineage`` built on an outdated base, grouped by base.

    ``only``: report just these image ids (a view's), still judged against every image of
    ``lineage`` (a filter must not hide the newer base). ``resolved``: the digest each recorded
    base reference names now in its registry (``stale --resolve``; ``sources.resolve``), compared
    like the images read. Groups are ordered by tag, platform
    and newer image id; images in a group by their number of steps (rebuild order: a base
    before what is built on it), then name and id.
    """
    index, loose, named = RebuildIndex(lineage), RebuildIndex(lineage, target), TagsAndDigests(lineage)
    wanted = set(lineage.by_id) if only is None else set(only) & set(lineage.by_id)
    grouped: dict[tuple[str, str, str], list[StaleImage]] = defaultdict(list)
    newer_of: dict[str, Image] = {}
    steps_of: dict[str, int] = {}
    findings: dict[str, Finding | None] = {}

    def judge(image: Image) -> Finding | None:
        """The image's own finding, strongest rule first (memoised: ancestors are asked again)."""
        if image.id not in findings:
            findings[image.id] = (
                _by_record(lineage, image, resolved or {}, named)
                or _by_lineage(lineage, index, image)
                or _by_annotation(lineage, image)
                or _by_tag(lineage, image, named)
                or _by_lineage(lineage, loose, image, by_instruction=True)
            )
        return findings[image.id]

    for image_id in sorted(wanted):
        image = lineage.node(image_id).image
        if not image.tags or image.intermediate:
            continue
        found = judge(image) or _on_a_stale_base(lineage, index, image, judge)
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


Finding = tuple[str, Image, StaleImage]  # the tag that moved, the image it names now, the image to rebuild


class TagsAndDigests:
    """The images of a lineage by tag (registry hosts not compared: ``same_tag``) and by digest,
    built once per report, so that no rule compares every image with every other."""

    def __init__(self, lineage: Lineage) -> None:
        self.by_tag: dict[tuple[str, str], list[Image]] = defaultdict(list)
        self.by_digest: dict[str, list[Image]] = defaultdict(list)
        for node in lineage.nodes():
            for tag in dict.fromkeys(key for t in node.image.tags if (key := _tag_key(t))):
                self.by_tag[tag].append(node.image)
            for known in digests_of(node.image):
                self.by_digest[known].append(node.image)

    def tagged(self, name: str) -> list[Image]:
        key = _tag_key(name)
        return self.by_tag.get(key, []) if key else []


def _tag_key(name: str) -> tuple[str, str] | None:
    reference = Reference.parse(name.strip())
    if reference is None or not reference.tag_or_default:
        return None
    return reference.familiar_path, reference.tag_or_default


def recorded_references(lineage: Lineage) -> list[str]:
    """The base references the images' builds recorded with a digest (provenance, annotations):
    what ``stale --resolve`` asks their registries about."""
    found = set()
    for node in lineage.nodes():
        parent = (
            lineage.node(node.parent).image if node.parent is not None and node.parent in lineage else None
        )
        recorded = node.outside or own_base(node.image, parent)
        if recorded is not None and recorded.kind != "label" and recorded.reference and recorded.digest:
            found.add(recorded.reference)
    return sorted(found)


def _on_a_stale_base(
    lineage: Lineage, index: RebuildIndex, image: Image, judge: Callable[[Image], Finding | None]
) -> Finding | None:
    """Built on a tagged image that is itself on an outdated base: on the same old base, found by
    the same evidence (a rebuild of that image, after its own, brings the newer base). Not an
    image rebuilt since under a tag (as for lineage: that newer build is the one to use)."""
    full = len(image.history or ())
    if full and any(c.steps == full and c.newer.tags for c in index.rebuilds(image)):
        return None
    for ancestor in lineage.ancestors(image.id):
        if not ancestor.image.tags or ancestor.image.intermediate:
            continue
        found = judge(ancestor.image)
        if found is None:
            continue
        tag, newer, theirs = found
        known = theirs.old_base is not None and theirs.old_base in lineage
        old = lineage.node(theirs.old_base).image if known and theirs.old_base else None
        detail = f"is built on {ancestor.image.display_name}, which {theirs.annotation.detail}"
        said, by, steps = replace(theirs.annotation, detail=detail), theirs.found_by, theirs.base_steps
        return _found(lineage, image, newer, tag, old=old, steps=steps, found_by=by, annotation=said)
    return None


def _by_lineage(
    lineage: Lineage, index: RebuildIndex, image: Image, *, by_instruction: bool = False
) -> tuple[str, Image, StaleImage] | None:
    """The nearest rebuilt base whose tag moved, as lineage shows it (and what annotations add).

    ``by_instruction``: ``index`` matches steps by instruction and target only (values may
    differ: a version bump), so the old base must be here, untagged (its tag moved), and on the
    same parent as the newer one: twins, version siblings and look-alikes are not rebuilds.
    """
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
        if by_instruction and not _same_parent_untagged(lineage, image, old, newer):
            continue
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
            found_by="lineage by instruction" if by_instruction else "lineage",
            annotation=_judge(own, tag, newer, old),
        )
        return tag, newer, stale
    return None


def _same_parent_untagged(lineage: Lineage, image: Image, old: Image | None, newer: Image) -> bool:
    """The old base lost its tag (or is not read: an untagged base with children is hidden unless
    ``--all``) and grew from the parent the newer base grew from."""
    parent = _built_on(lineage, newer.id) if newer.id in lineage else None
    if parent is None:
        return False
    if old is not None:
        return not old.tags and _built_on(lineage, old.id) == parent
    return _built_on(lineage, image.id) == parent  # the old base between them is not here


def _built_on(lineage: Lineage, image_id: str) -> str | None:
    """The nearest ancestor that is no intermediate (the legacy builder's step images, ``--all``)."""
    return next((n.id for n in lineage.ancestors(image_id) if not n.image.intermediate), None)


def _by_record(
    lineage: Lineage, image: Image, resolved: Mapping[str, str], named: TagsAndDigests
) -> Finding | None:
    """The base digest the build recorded (provenance, manifest annotations) is not what its tag
    names now in a source read: the strongest evidence, since it needs no guess about layers."""
    node = lineage.node(image.id)
    parent = lineage.node(node.parent).image if node.parent is not None and node.parent in lineage else None
    recorded = node.outside or own_base(image, parent)
    if recorded is None or recorded.kind == "label":
        return None  # labels: ``_by_annotation``, after lineage, as before
    if recorded.candidates:  # mode=min: the base is the candidate the parent is, if any
        pair = next((p for p in recorded.candidates if parent and p[1] in digests_of(parent)), None)
        if pair is None:
            return None
        recorded = BaseEvidence(recorded.kind, *pair)
    name, digest = recorded.reference, recorded.digest
    if not (name and digest):
        return None
    old = next(iter(named.by_digest.get(digest, ())), None)
    newer = _tag_now_elsewhere(lineage, image, named.tagged(name), digest, old)
    now = resolved.get(name, digest)
    if newer is None and now != digest:  # its registry's answer: the image itself is not read
        newer = Image(id=now, tags=(name,), manifest_digest=now, os=image.os, architecture=image.architecture)
    if newer is None:
        return None
    tag = _tag_matching(newer, name) or name
    detail = f"names {name} at {short_digest(digest)}; {tag} is now {short_digest(_short(newer))}"
    annotation = Annotation(name, digest, "confirmed", detail)
    steps = len(old.history or ()) if old is not None else 0
    by: FoundBy = "provenance" if recorded.kind == "provenance" else "annotation"
    return _found(lineage, image, newer, tag, old=old, steps=steps, found_by=by, annotation=annotation)


def _tag_now_elsewhere(
    lineage: Lineage, image: Image, tagged: Iterable[Image], digest: str, old: Image | None
) -> Image | None:
    """An image of the image's platform among ``tagged`` (those the recorded tag names now), known
    by digests that are not ``digest`` and newer than the build at ``digest`` (``old``, if here)."""
    ancestors = {n.id for n in lineage.ancestors(image.id)}
    for newer in tagged:
        if (
            newer.id == image.id
            or newer.id in ancestors
            or not compatible(newer.platform, image.platform)
            or not digests_of(newer) - {newer.id}  # only its config: nothing to compare
            or digest in digests_of(newer)
            or (newer.layers and is_layer_prefix(newer, image))  # the same base, pushed again
        ):
            continue
        if old is not None and not _newer(newer, old):
            continue
        return newer
    return None


def _newer(one: Image, other: Image) -> bool:
    first, second = _created(one), _created(other)
    return first is not None and second is not None and first > second


def _by_tag(lineage: Lineage, image: Image, named: TagsAndDigests) -> Finding | None:
    """The image's base carries a tag that, in another source, names a newer image of its
    platform (a rebuilt root shares no layer with its old build: only the tag links them)."""
    parent = lineage.node(image.id).parent
    if parent is None or parent not in lineage:
        return None
    for base in (n.image for n in [lineage.node(parent), *lineage.ancestors(parent)]):
        for tag in base.tags:
            newer = next(
                (
                    other
                    for other in named.tagged(tag)
                    if other.id not in {base.id, image.id}
                    and not (other.layers and is_layer_prefix(other, image))
                    and other.platform == base.platform
                    and _newer(other, base)
                    and not _in_one_source(other, base)
                ),
                None,
            )
            if newer is None:
                continue
            theirs = _tag_matching(newer, tag) or tag
            detail = f"{tag} names {base.short_id} here and {newer.short_id}, built later, in another source"
            annotation = replace(NO_ANNOTATION, detail=detail)
            steps = len(base.history or ())
            return _found(
                lineage, image, newer, theirs, old=base, steps=steps, found_by="tag", annotation=annotation
            )
    return None


def _in_one_source(one: Image, other: Image) -> bool:
    """Whether nothing says they come from different sources: one source's tag names one image
    (per platform), so two images under one tag there are no moved tag (records that name no
    source are taken as one source's)."""
    return not (one.found_in and other.found_in) or set(one.found_in) == set(other.found_in)


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


def _found(
    lineage: Lineage,
    image: Image,
    newer: Image,
    tag: str,
    *,
    old: Image | None,
    steps: int,
    found_by: FoundBy,
    annotation: Annotation,
) -> Finding:
    """A finding whose image shares with the newer base what their layers share from the bottom."""
    shared = common_prefix(newer.layers, image.layers)
    stale = _stale(
        lineage, image, newer, shared=shared, old=old, steps=steps, found_by=found_by, annotation=annotation
    )
    return tag, newer, stale


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
    diverged = _diverged_step(newer, image) if found_by.startswith("lineage") else None
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
