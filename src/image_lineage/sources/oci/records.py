"""A walk's images as ``Image`` records: one per config digest, each config parsed once.

Every platform of an index is a record of its own, naming its manifest and index and every
platform the index lists, present in the source or not. An image met again (another tag,
another index) keeps its first record, gaining the names; one placed by an index is kept
over one that a root names alone (it knows more).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import replace

from image_lineage.errors import LineageError
from image_lineage.model import BaseEvidence, Image
from image_lineage.sources.image_config import image_from_config
from image_lineage.sources.oci.descriptor import Manifest
from image_lineage.sources.oci.evidence import from_annotations
from image_lineage.sources.oci.walk import Placed, Walked


class ImageMaker:
    """``image_from_config`` once per config and layer sizes, however many names reach them."""

    def __init__(self, origin: str, failure: type[LineageError]) -> None:
        self.origin = origin
        self.failure = failure
        self._made: dict[tuple[str, tuple[int, ...]], Image] = {}

    def make(
        self, raw: bytes, key: str, names: Sequence[str], sizes: Sequence[int], origin: str = ""
    ) -> Image:
        """The record of the config ``raw`` (known as ``key``: its digest or its name); ``origin``
        names where it was found in an error, if not the maker's."""
        memo = (key, tuple(sizes))
        image = self._made.get(memo)
        if image is None:
            made = image_from_config(raw, (), sizes, origin or self.origin, self.failure)
            image = self._made[memo] = made
        return replace(image, tags=tuple(sorted(set(names))))


def images_of(
    walked: Walked,
    build: Callable[[Placed, Manifest, bytes], Image],
    attested: Mapping[str, BaseEvidence] | None = None,
) -> dict[str, Image]:
    """Records from every group of a walk; ``build`` makes one from a placed manifest and its config.

    Each record's ``base`` is what its provenance names (``attested``: by manifest digest,
    ``attested.provenance``), else its manifest's OCI base annotations.
    """
    images: dict[str, Image] = {}
    for group in walked.groups:
        made = [
            (p, _with_base(build(p, p.manifest, p.config), p, attested or {}, group.index_digest))
            if p.manifest is not None and p.config is not None
            else (p, None)
            for p in group.members
        ]
        listed = tuple(
            sorted(
                {
                    (image.platform if image else placed.descriptor.platform_name, image is not None)
                    for placed, image in made
                }
                - {("", True), ("", False)}
            )
        )
        for _, image in made:
            if image is not None and group.index_digest:
                merge_image(images, replace(image, index_digest=group.index_digest, index_platforms=listed))
            elif image is not None:
                merge_image(images, image)
    return images


def _with_base(
    image: Image, placed: Placed, attested: Mapping[str, BaseEvidence], index_digest: str | None
) -> Image:
    """The base its own manifest's provenance names; else what provenance about its index names
    (cosign attests a multi-platform tag's index: it speaks for each platform's image); else
    its manifest's OCI base annotations."""
    manifest = placed.manifest
    base = (
        attested.get(placed.descriptor.digest)
        or (attested.get(index_digest) if index_digest else None)
        or (from_annotations(manifest.annotations) if manifest is not None else None)
    )
    return replace(image, base=base) if base is not None else image


def merge_image(images: MutableMapping[str, Image], image: Image) -> None:
    """Keep one record per id: the first (or the first an index placed), with every name."""
    known = images.get(image.id)
    if known is not None:
        keep = image if image.index_digest and not known.index_digest else known
        image = replace(
            keep,
            tags=tuple(sorted({*known.tags, *image.tags})),
            digests=tuple(sorted({*known.digests, *image.digests})),
        )
    images[image.id] = image
