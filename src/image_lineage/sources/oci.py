"""The OCI image formats' shared rules, in one place for archives, registries and the containerd store.

An OCI layout (``index.json``), a registry's manifests and the containerd image store
all describe images with the same descriptors: media types tell an index (one image per
platform) from an image manifest; an index's entries name their platform, and BuildKit
adds attestation manifests that are not images at all, as are signatures, SBOMs and Helm
charts (``artifact_kind``, ``subject_of``: what they are and what they refer to;
``attach_artifacts`` and ``artifact_notes`` count them on their images). Archives and
registries read every platform. One image reached under several names becomes one record.
"""

from __future__ import annotations

import platform
import re
from collections import Counter
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from image_lineage.model import Diagnostic, Image

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

#: Media types of an index: a list of manifests, one per platform (or nested indexes).
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
#: What to ``Accept`` when asking a registry for a manifest: every kind this reads.
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))
#: Annotations that name an image in an index (containerd's first, then the OCI one).
REF_NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")
#: Config media types of a container image; any other config makes the manifest an artifact.
IMAGE_CONFIG_TYPES = frozenset(
    {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}
)
#: BuildKit's annotations on an attestation manifest: its kind and the manifest it is about.
REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"

ArtifactKind = Literal["attestation", "signature", "sbom", "helm chart", "artifact"]
"""What a manifest that is not an image holds, as far as its media types and tag tell."""

# cosign names what it attaches by tag: ``repo:sha256-<hex>.sig`` (``.att``, ``.sbom``).
_COSIGN_TAG = re.compile(r"(?:^|:)(sha256)-([0-9a-f]{64})\.(sig|att|sbom)$")
_COSIGN_KINDS: dict[str, ArtifactKind] = {"sig": "signature", "att": "attestation", "sbom": "sbom"}
# Words in an artifact's media types (config, artifactType, layers) -> its kind, first match wins.
_KINDS_BY_TYPE: tuple[tuple[tuple[str, ...], ArtifactKind], ...] = (
    (("helm",), "helm chart"),
    (("in-toto", "dsse"), "attestation"),
    (("signature", "cosign", "sigstore"), "signature"),
    (("spdx", "cyclonedx", "sbom"), "sbom"),
)


@dataclass(frozen=True, slots=True)
class Artifact:
    """A manifest that is not an image (attestation, SBOM, signature, chart...), and what it refers to.

    ``subject`` is the digest it is attached to (a manifest or an index, from its
    ``subject``, BuildKit's ``vnd.docker.reference.digest`` or cosign's tag), ``""`` when
    it names none; ``images`` are the ids of the records that digest leads to.
    """

    kind: ArtifactKind
    digest: str
    subject: str = ""
    images: tuple[str, ...] = ()


# Python's name for a machine -> the architecture an OCI platform calls it.
_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def native_architecture() -> str:
    """This machine's architecture as OCI platforms spell it (``amd64``, ``arm64``...)."""
    machine = platform.machine()
    return _ARCHITECTURES.get(machine.lower(), machine)


def is_attestation(descriptor: Mapping[str, Any]) -> bool:
    """A BuildKit attestation (provenance, SBOM): platform ``unknown/unknown``, not an image."""
    platform_ = descriptor.get("platform")
    annotations = descriptor.get("annotations")
    return (isinstance(platform_, Mapping) and platform_.get("os") == "unknown") or (
        isinstance(annotations, Mapping)
        and annotations.get("vnd.docker.reference.type") == "attestation-manifest"
    )


def artifact_kind(
    descriptor: Mapping[str, Any], manifest: Mapping[str, Any] | None, names: Iterable[str] = ()
) -> ArtifactKind | None:
    """What a manifest holds if it is not an image (None for an image), from its descriptor,
    its own media types and the names it is tagged with.

    An image manifest's config is an image config; BuildKit attestations say so in an
    annotation or by their ``unknown/unknown`` platform; cosign tags its signatures
    ``sha256-<hex>.sig``; a Helm chart's config is Helm's. Anything else with a config
    that is not an image config is an artifact of an unknown kind.
    """
    annotations = _mapping(descriptor.get("annotations"))
    cosign = next((m.group(3) for n in names if (m := _COSIGN_TAG.search(n))), None)
    if cosign:
        return _COSIGN_KINDS[cosign]
    if is_attestation(descriptor) or annotations.get(REFERENCE_TYPE) == "attestation-manifest":
        return "attestation"
    config_type = _mapping(manifest.get("config")).get("mediaType") if manifest else None
    artifact_type = (manifest or {}).get("artifactType") or descriptor.get("artifactType")
    if manifest is None or (not artifact_type and config_type in {*IMAGE_CONFIG_TYPES, None}):
        return None  # an image (an old manifest may give its config no media type)
    layer_types = [_mapping(layer).get("mediaType") for layer in _list(manifest.get("layers"))]
    types = " ".join(t for t in (config_type, artifact_type, *layer_types) if isinstance(t, str)).lower()
    return next((kind for words, kind in _KINDS_BY_TYPE if any(w in types for w in words)), "artifact")


def subject_of(
    descriptor: Mapping[str, Any], manifest: Mapping[str, Any] | None, names: Iterable[str] = ()
) -> str:
    """The digest an artifact is attached to: OCI ``subject``, BuildKit's annotation, cosign's tag."""
    subject = _mapping(manifest.get("subject") if manifest else None).get("digest")
    if isinstance(subject, str):
        return subject
    reference = _mapping(descriptor.get("annotations")).get(REFERENCE_DIGEST)
    if isinstance(reference, str):
        return reference
    return next((f"{m.group(1)}:{m.group(2)}" for n in names if (m := _COSIGN_TAG.search(n))), "")


def platform_of(item: Mapping[str, Any]) -> str:
    """``os/architecture[/variant]`` of a descriptor's ``platform`` or of an image config; "" if none."""
    found = _mapping(item.get("platform")) or item
    parts = [found.get(key) for key in ("os", "architecture", "variant")]
    if not (isinstance(parts[0], str) and parts[0] and isinstance(parts[1], str) and parts[1]):
        return ""
    return "/".join(p for p in parts if isinstance(p, str) and p)


def familiar_name(reference: str) -> str:
    """``docker.io/library/x:1`` -> ``x:1``, ``docker.io/a/b:1`` -> ``a/b:1``, as ``docker images`` shows."""
    rest = reference.removeprefix("docker.io/")
    if rest == reference:
        return reference
    library = rest.removeprefix("library/")
    return library if library != rest and "/" not in library.split(":", 1)[0] else rest


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def is_native(descriptor: Mapping[str, Any]) -> bool:
    platform_ = descriptor.get("platform")
    return isinstance(platform_, Mapping) and platform_.get("architecture") == native_architecture()


def native_first(descriptors: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """An index's entries that are images (attestations left out), this machine's platform first.

    The order is otherwise kept, so the first entry is the one to read when only one
    platform of a multi-platform image is wanted.
    """
    images = [d for d in descriptors if not is_attestation(d)]
    return sorted(images, key=lambda d: not is_native(d))


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
