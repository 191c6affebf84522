"""Views: smaller family trees cut out of a lineage. Each returns a new ``Lineage``.

Hiding images (untagged, intermediate, other platforms, chain links) is not a cut: an
image's parent is its nearest ancestor *among the images shown*, so that is a new
``build_lineage`` over fewer records (see ``select_images``, ``select_platform`` and
``collapse_chains``). Focus and filter keep every ancestor of what they keep, so parents
stay parents.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from image_lineage import platforms
from image_lineage.errors import Hint, LineageError, UnknownImage
from image_lineage.lineage import Lineage, Node, build_lineage
from image_lineage.model import Diagnostic, Image, Scan
from image_lineage.reference import Reference, repository, split_tag

_MIN_ID_PREFIX = 4


def resolve(lineage: Lineage, reference: str) -> str:
    """The id of the image a user means by a tag, a repository, or an id (prefix).

    In that order: an exact tag; ``repo:latest``; a repository whose tags all name one
    image (``tutorial/python`` for ``tutorial/python:3.7.9``); a digest or a prefix of one:
    the id (the config digest), or the manifest or index digest that a containerd-store
    engine's ``docker images`` shows (``digests``). A repository naming several images lists
    their tags; no match suggests close names.
    """
    wanted = reference.strip()
    nodes = lineage.nodes()
    for candidate in (wanted, f"{wanted}:latest"):
        by_tag = [n.id for n in nodes if candidate in n.image.tags]
        if by_tag:
            return by_tag[0]
    if (named := _same_reference(nodes, wanted)) is not None:
        return named
    wanted_repo = repository(wanted)
    in_repository = {n.id: sorted(t for t in n.image.tags if repository(t) == wanted_repo) for n in nodes}
    in_repository = {image_id: tags for image_id, tags in in_repository.items() if tags}
    if len(in_repository) == 1:
        return next(iter(in_repository))
    if in_repository:
        tags = sorted(t for ts in in_repository.values() for t in ts)
        raise UnknownImage(f"{reference!r} names {len(in_repository)} images ({_some(tags)}): give the tag.")
    if (digest := _hex_prefix(wanted)) is not None:
        by_id = [n for n in nodes if _has_digest(n.image, digest)]
        if len(by_id) == 1:
            return by_id[0].id
        if len(by_id) > 1:
            raise UnknownImage(_ambiguous_digest(reference, digest, [n.image for n in by_id]))
    names = sorted({name for n in nodes for t in n.image.tags for name in (t, repository(t))})
    close = difflib.get_close_matches(wanted, names, n=6, cutoff=0.6)
    close = [name for name in close if repository(name) == name or repository(name) not in close][:3]
    if close:
        raise UnknownImage(
            f"No image {reference!r} among the {len(lineage)} shown; did you mean {_either(close)}?"
        )
    # Not even close to a name shown: perhaps it is one of the hidden images.
    raise UnknownImage(f"No image {reference!r} among the {len(lineage)} shown.", hint=Hint.SHOW_ALL)


def digests(image: Image) -> tuple[str, ...]:
    """Every digest that names ``image``: its config's (its id), its manifest's, its index's, and
    those of its ``repo@digest`` names.

    ``docker images`` on a containerd-store engine shows the index digest (the manifest's for
    an image without an index); the classic store and every other source show the config's.
    One config listed under several names may sit in several indexes (another annotation,
    another build of the index): each name's ``RepoDigests`` entry keeps its own.
    """
    named = (digest.rpartition("@")[2] for digest in image.digests)
    return tuple(dict.fromkeys(d for d in (image.id, image.manifest_digest, image.index_digest, *named) if d))


#: The code of the note a scan of a containerd-store engine carries (sources/engine/containerd.py).
CONTAINERD_STORE = "engine_store"


def listed_id(lineage: Lineage, image: Image) -> str:
    """The digest ``docker images`` shows for ``image`` when that is not its id, else "".

    On a containerd-store engine the engine names an image by its index (or, without one,
    its manifest); this tool names each platform's image by its config, as everywhere else.
    """
    if not any(d.code == CONTAINERD_STORE for d in lineage.diagnostics):
        return ""
    if image.found_in and not any(label.startswith("docker ") for label in image.found_in):
        return ""  # several sources read, and this image is in no engine's list
    listed = image.index_digest or image.manifest_digest
    return listed if listed != image.id else ""


def _hex_prefix(text: str) -> str | None:
    """``text`` as the hex digits of a digest (prefix) to look for, or None when it is none."""
    digits = text.strip().lower().removeprefix("sha256:")
    return digits if len(digits) >= _MIN_ID_PREFIX and re.fullmatch(r"[0-9a-f]+", digits) else None


def _has_digest(image: Image, digits: str) -> bool:
    return any(d.removeprefix("sha256:").startswith(digits) for d in digests(image))


def _ambiguous_digest(reference: str, digits: str, images: list[Image]) -> str:
    """Why a digest (prefix) names several images: one index, several platforms, or too short."""
    indexes = {i.index_digest for i in images}
    if len(indexes) == 1 and images[0].index_digest.removeprefix("sha256:").startswith(digits):
        named = _either(sorted(i.platform or "unknown" for i in images))
        return (
            f"{reference!r} is a multi-platform index of {len(images)} images ({named}): "
            "give one platform's manifest or config digest, or show one platform."
        )
    return f"{reference!r} matches {len(images)} images: give more of the id."


def _same_reference(nodes: list[Node], wanted: str) -> str | None:
    """The first image with a tag naming what ``wanted`` names, however either is spelled
    (``python:3`` and ``docker.io/library/python:3``; a bare name is its ``latest``)."""
    want = Reference.parse(wanted)
    if want is None:
        return None
    want = replace(want, tag=want.tag_or_default)
    return next((n.id for n in nodes for t in n.image.tags if Reference.parse(t) == want), None)


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _some(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def focus(lineage: Lineage, reference: str) -> Lineage:
    """The image, its ancestors and its descendants."""
    image_id = resolve(lineage, reference)
    related = [*lineage.ancestors(image_id), *lineage.descendants(image_id)]
    return lineage.subset({image_id, *(n.id for n in related)})


FILTER_MEANING = "a regular expression searched in each image's repository, tag and repository:tag"


def filter_names(lineage: Lineage, pattern: str) -> Lineage:
    """Images with a name matching ``pattern`` (``FILTER_MEANING``), plus their ancestors.

    Each tag is tried whole and in its two parts, so ``notebook$`` keeps
    ``jupyter/base-notebook:2026-11`` (its repository ends so) and ``^3\\.`` keeps ``python:3.12``.
    """
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise LineageError(f"{pattern!r} is not a valid regular expression: {error}.") from error
    matches = {n.id for n in lineage.nodes() if any(regex.search(name) for name in _names(n.image.tags))}
    return _with_ancestors(lineage, matches)


def search(lineage: Lineage, text: str) -> Lineage:
    """Images whose name contains ``text`` (any case, literally) or, when ``text`` is a digest
    (4 hex digits or more), one of whose ``digests`` starts with it; plus their ancestors."""
    wanted, digits = text.strip().lower(), _hex_prefix(text)
    matches = {
        n.id
        for n in lineage.nodes()
        if any(wanted in name.lower() for name in n.image.tags)
        or (digits is not None and _has_digest(n.image, digits))
    }
    return _with_ancestors(lineage, matches)


def _with_ancestors(lineage: Lineage, matches: set[str]) -> Lineage:
    keep = set(matches)
    for image_id in matches:
        keep.update(n.id for n in lineage.ancestors(image_id))
    return lineage.subset(keep)


def _names(tags: Iterable[str]) -> Iterable[str]:
    """Each tag as written, its repository and its tag alone (``a/b:1``: ``a/b:1``, ``a/b``, ``1``)."""
    for tag in tags:
        name, suffix = split_tag(tag)
        yield from (tag, name, suffix[1:]) if suffix else (tag,)


def filter_note(lineage: Lineage, pattern: str) -> str:
    """Why a filter kept no image of ``lineage``: what it is matched against, shown on one of them."""
    example = next((tag for n in lineage.nodes() for tag in n.image.tags), "")
    name, suffix = split_tag(example)
    such_as = f" (such as {name}, {suffix[1:]} and {example})" if suffix else ""
    return f"No image matches {pattern!r}, {FILTER_MEANING}{such_as}."


def select_images(
    images: Iterable[Image], *, untagged: bool = True, intermediate: bool = True
) -> list[Image]:
    """The records to build a lineage from when untagged or intermediate images are hidden."""
    return [
        image for image in images if (intermediate or not image.intermediate) and (untagged or image.tags)
    ]


@dataclass(frozen=True, slots=True)
class PlatformSelection:
    """The records one platform choice keeps, and how many of each other platform it hides.

    ``platform`` is what was chosen: ``os/arch[/variant]`` or ``all``. Images whose
    platform is unknown are always kept.
    """

    platform: str
    images: tuple[Image, ...]
    hidden: dict[str, int] = field(default_factory=dict)
    hidden_ids: frozenset[str] = frozenset()

    def notes(self, diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
        """The scan's diagnostics without those about the images this choice hides."""
        return tuple(d for d in diagnostics if d.image not in self.hidden_ids)

    @property
    def hidden_count(self) -> int:
        return sum(self.hidden.values())

    def note(self) -> str | None:
        """``12 images of other platforms (linux/arm64) hidden``; None when nothing is.

        The words fit any front end: each adds ``Hint.ALL_PLATFORMS`` its own way.
        """
        count = self.hidden_count
        if not count:
            return None
        names = _some(platforms.ordered(set(self.hidden)), limit=4)
        if count == 1:
            return f"1 image of another platform ({names}) hidden"
        other = "another platform" if len(self.hidden) == 1 else "other platforms"
        return f"{count} images of {other} ({names}) hidden"


def platforms_of(images: Iterable[Image]) -> list[str]:
    """The known platforms among ``images``, in a stable order."""
    return platforms.ordered({image.platform for image in images})


def default_platform(images: Iterable[Image], host: str) -> str:
    """The platform shown when none is asked for: the host's, or every one if none is the host's.

    Images of another machine (a registry of arm64 images read on an amd64 laptop, the
    sample on an arm64 one) would otherwise show an empty tree.
    """
    known = [image.platform for image in images if image.platform]
    if not known or any(platforms.matches(platform, host) for platform in known):
        return host
    return platforms.ALL


def select_platform(images: Iterable[Image], platform: str) -> PlatformSelection:
    """The records of ``platform`` (``os/arch[/variant]`` or ``all``) and those of unknown platform."""
    kept: list[Image] = []
    hidden: Counter[str] = Counter()
    hidden_ids: set[str] = set()
    for image in images:
        if platforms.matches(image.platform, platform):
            kept.append(image)
        else:
            hidden[image.platform] += 1
            hidden_ids.add(image.id)
    return PlatformSelection(
        platform=platform,
        images=tuple(kept),
        hidden=dict(sorted(hidden.items())),
        hidden_ids=frozenset(hidden_ids),
    )


def chain_links(lineage: Lineage) -> set[str]:
    """Intermediate images that only continue a chain: untagged, one parent, one child.

    The classic builder leaves one per build step, so ``--all`` on a busy machine draws
    chains dozens deep. The intermediates where builds branch are not links: they show
    where two images stopped sharing their build.
    """
    return {
        node.id
        for node in lineage.nodes()
        if node.image.intermediate
        and not node.image.tags
        and node.parent in lineage
        and len(lineage.children(node.id)) == 1
    }


def collapse_chains(lineage: Lineage, scan: Scan) -> Lineage:
    """The lineage of ``scan`` without its chain links (each child hangs from the next image up)."""
    links = chain_links(lineage)
    if not links:
        return lineage
    kept = [image for image in scan.images if image.id not in links and image.id in lineage]
    return build_lineage(kept, scan.source, scan.diagnostics)
