"""Views: smaller family trees cut out of a lineage. Each returns a new ``Lineage``.

Hiding images (untagged, intermediate, chain links) is not a cut: an image's parent
is its nearest ancestor *among the images shown*, so that is a new ``build_lineage``
over fewer records (see ``select_images`` and ``collapse_chains``). Focus and filter
keep every ancestor of what they keep, so parents stay parents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from image_lineage.errors import LineageError, UnknownImage
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Image, Scan

_MIN_ID_PREFIX = 4


def resolve(lineage: Lineage, reference: str) -> str:
    """The id of the image a user means by a tag, ``repo`` (``:latest``), or an id prefix."""
    wanted = reference.strip()
    candidates = [wanted] if ":" in wanted.split("/")[-1] else [wanted, f"{wanted}:latest"]
    by_tag = [n.id for n in lineage.nodes() if any(t in candidates for t in n.image.tags)]
    if by_tag:
        return by_tag[0]
    digest = wanted.removeprefix("sha256:").lower()
    if len(digest) >= _MIN_ID_PREFIX and re.fullmatch(r"[0-9a-f]+", digest):
        by_id = [n.id for n in lineage.nodes() if n.id.removeprefix("sha256:").startswith(digest)]
        if len(by_id) == 1:
            return by_id[0]
        if len(by_id) > 1:
            raise UnknownImage(f"{reference!r} matches {len(by_id)} images: give more of the id.")
    raise UnknownImage(
        f"No image {reference!r} among the {len(lineage)} shown: check the name with "
        "'image-lineage tree' (add --all for intermediate images)."
    )


def focus(lineage: Lineage, reference: str) -> Lineage:
    """The image, its ancestors and its descendants."""
    image_id = resolve(lineage, reference)
    related = [*lineage.ancestors(image_id), *lineage.descendants(image_id)]
    return lineage.subset({image_id, *(n.id for n in related)})


def filter_names(lineage: Lineage, pattern: str) -> Lineage:
    """Images with a tag matching ``pattern`` (a regular expression), plus their ancestors."""
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise LineageError(f"--filter {pattern!r} is not a valid regular expression: {error}.") from error
    matches = {n.id for n in lineage.nodes() if any(regex.search(t) for t in n.image.tags)}
    keep = set(matches)
    for image_id in matches:
        keep.update(n.id for n in lineage.ancestors(image_id))
    return lineage.subset(keep)


def select_images(
    images: Iterable[Image], *, untagged: bool = True, intermediate: bool = True
) -> list[Image]:
    """The records to build a lineage from when untagged or intermediate images are hidden."""
    return [
        image for image in images if (intermediate or not image.intermediate) and (untagged or image.tags)
    ]


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
