"""Artifacts beside images (attestations, signatures, SBOMs, charts), and one record per image.

``attach_artifacts`` gives each artifact the ids of the records its subject leads to;
``artifact_notes`` counts them on their images as diagnostics; ``add_image`` keeps one
record per image id, however many names reach it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, replace

from image_lineage.model import Diagnostic, Image
from image_lineage.sources.oci.media import ArtifactKind


@dataclass(frozen=True, slots=True)
class Artifact:
    """A manifest that is not an image (attestation, SBOM, signature, chart...), and what it refers to.

    ``subject`` is the digest it is attached to (a manifest or an index, from its
    ``subject``, BuildKit's ``vnd.docker.reference.digest`` or cosign's tag), ``""`` when
    it names none; ``images`` are the ids of the records that digest leads to. ``scope`` is
    where the blob source finds it (a registry's repository), to read an attestation's statement.
    """

    kind: ArtifactKind
    digest: str
    subject: str = ""
    images: tuple[str, ...] = ()
    scope: str = ""


def add_image(images: MutableMapping[str, Image], image: Image) -> None:
    """Keep one record per image id: an image met again (another tag, another repository) adds its names."""
    known = images.get(image.id)
    if known is not None:
        image = replace(
            image,
            tags=tuple(sorted({*known.tags, *image.tags})),
            digests=tuple(sorted({*known.digests, *image.digests})),
        )
    images[image.id] = image


def attach_artifacts(artifacts: Iterable[Artifact], images: Iterable[Image]) -> tuple[Artifact, ...]:
    """Each artifact with the ids of the records its subject leads to (by config, manifest or
    index digest), sorted and without repeats."""
    by_digest: dict[str, list[str]] = {}
    for image in sorted(images, key=lambda i: i.id):
        for digest in {image.id, image.manifest_digest, image.index_digest} - {""}:
            by_digest.setdefault(digest, []).append(image.id)
    return tuple(
        replace(a, images=tuple(by_digest.get(a.subject, ()))) if a.subject else a
        for a in sorted(set(artifacts), key=lambda a: (a.digest, a.subject, a.kind))
    )


_PLURALS = {
    "attestation": "attestations",
    "signature": "signatures",
    "sbom": "SBOMs",
    "helm chart": "Helm charts",
}
_SINGULARS = {"sbom": "SBOM", "helm chart": "Helm chart"}


def artifact_notes(artifacts: Iterable[Artifact], where: str) -> list[Diagnostic]:
    """One ``artifacts`` diagnostic per image that artifacts refer to, one for those that refer
    to none here; ``where`` names the source (``the archive``, ``the registry``)."""
    per_image: dict[str | None, Counter[str]] = {}
    for artifact in artifacts:
        for image in artifact.images or (None,):
            per_image.setdefault(image, Counter())[artifact.kind] += 1
    notes = []
    for image, counts in sorted(per_image.items(), key=lambda item: item[0] or ""):
        listed = _count_words(counts)
        verb = "refers" if sum(counts.values()) == 1 else "refer"
        if image is None:
            message = f"{listed} in {where} {verb} to no image here (not images, not shown)"
        else:
            message = f"{listed} {verb} to this image"
        notes.append(Diagnostic(image, "artifacts", message))
    return notes


def _count_words(counts: Counter[str]) -> str:
    """``Counter(attestation=2, signature=1)`` -> ``2 attestations, 1 signature``."""
    words = []
    for kind in sorted(counts):
        count = counts[kind]
        if count == 1:
            words.append(f"1 {_SINGULARS.get(kind, kind)}")
        else:
            words.append(f"{count} {_PLURALS.get(kind, kind + 's')}")
    return ", ".join(words)
