"""What a build recorded of its base, matched against the images read (pure, no I/O).

``Image.base`` holds what a source read (provenance, manifest annotations); config labels
with the same keys count too, but only an image's *own*: a label its parent carries as well
was inherited, and says nothing of this build. The digest a base was recorded at is matched
against every digest an image is known by (config, manifest, index, repository digests);
an index digest names every platform of that index, so the child's own platform is picked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from image_lineage.model import BaseEvidence, Image
from image_lineage.platforms import compatible
from image_lineage.reference import digest_of, same_tag
from image_lineage.sources.oci.evidence import from_annotations
from image_lineage.text import clean_text

KnownBy = Literal["provenance", "annotation", "label", "layers", "layers only"]
"""How a parent edge is known: the child's build recorded it (``provenance``, ``annotation``,
``label``: then layers agree or say nothing), or the parent's layers and history are a prefix
of the child's (``layers``), or its layers alone, with no history to check (``layers only``)."""
#: Strongest first: what ``stale`` and the pictures rank by.
KNOWN_BY: tuple[KnownBy, ...] = ("provenance", "annotation", "label", "layers", "layers only")


def own_base(image: Image, parent: Image | None) -> BaseEvidence | None:
    """What the image's build recorded of its base: ``Image.base``, else its own base labels."""
    if image.base is not None:
        return image.base
    labelled = from_annotations(image.labels, "label")
    if labelled is None or (parent is not None and from_annotations(parent.labels, "label") == labelled):
        return None
    return labelled


def digests_of(image: Image) -> set[str]:
    """Every digest the image is known by: config (its id), manifest, index, repo digests."""
    found = {image.id, image.manifest_digest, image.index_digest}
    found.update(digest_of(d) for d in image.digests)
    return {d for d in found if d}


@dataclass(frozen=True, slots=True)
class Named:
    """One reference a build recorded, and the image read that it names (None: not here)."""

    reference: str
    digest: str
    image: Image | None


class DigestIndex:
    """The images read, by every digest they are known by; built once per lineage."""

    def __init__(self, images: Iterable[Image]) -> None:
        self.by_digest: dict[str, list[Image]] = {}
        for image in images:
            for digest in digests_of(image):
                self.by_digest.setdefault(digest, []).append(image)

    def named(self, base: BaseEvidence, child: Image) -> list[Named]:
        """Each reference the evidence records (the base, or every candidate), with the image of
        the child's platform it names; a candidate whose layers are a prefix of the child's first."""
        pairs = base.candidates or ((base.reference, base.digest),)
        found = [Named(ref, digest, self.image(digest, child)) for ref, digest in pairs]
        return sorted(found, key=lambda n: n.image is None or not is_layer_prefix(n.image, child))

    def image(self, digest: str, child: Image) -> Image | None:
        matches = [i for i in self.by_digest.get(digest, ()) if i.id != child.id]
        fitting = [i for i in matches if compatible(i.platform, child.platform)]
        prefixes = [i for i in fitting if is_layer_prefix(i, child)]
        return next(iter(prefixes or fitting), None)


def is_layer_prefix(shorter: Image, longer: Image) -> bool:
    n = len(shorter.layers)
    return len(longer.layers) >= n and longer.layers[:n] == shorter.layers


def names_tag(image: Image, reference: str) -> bool:
    return any(same_tag(tag, reference) for tag in image.tags)


def short_digest(digest: str) -> str:
    """``sha256:c7d8e9…``: the algorithm and 12 hex digits."""
    algorithm, _, encoded = digest.partition(":")
    return f"{algorithm}:{encoded[:12]}…" if encoded else digest


def outside_text(base: BaseEvidence) -> str:
    """``team/base:1 @ sha256:c7d8e9f0a1b2… (not here)``: a base no source read."""
    name = clean_text(base.reference or "an image", 80)
    at = f" @ {short_digest(clean_text(base.digest, 80))}" if base.digest else ""
    return f"{name}{at} (not here)"


def outside_key(base: BaseEvidence) -> tuple[str, str]:
    """Images with the same outside base are one family: by its digest, else its name."""
    return (base.digest, "") if base.digest else ("", base.reference)
