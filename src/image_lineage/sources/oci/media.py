"""The media-type rules, in one place: what is an index, an image, an attestation, an artifact.

* An **index** (``INDEX_TYPES``) lists manifests, one per platform, or nested indexes.
* An **image** is a manifest whose config is an image config, that names no other
  ``artifactType`` (an index entry may carry the config's own media type as its
  ``artifactType``: apko does, and the image-spec allows it), and whose layers are all
  layer media types. A manifest that reuses the image config media type with an empty
  (``{}``) config or layers of other types (an SBOM, a signature) is an artifact.
* An **attestation** (BuildKit's provenance and SBOMs) is known by its index entry alone:
  platform ``unknown/unknown`` or the annotation ``vnd.docker.reference.type``; it is
  never fetched.
* Anything else is an **artifact**, of a kind told by the words in its media types and, for
  cosign, by its tag (``sha256-<hex>.sig``); a Sigstore bundle by its annotations (a DSSE
  envelope is an attestation, unless its predicate is cosign's signing one).
* A registry without the referrers API lists the referrers of ``sha256:<hex>`` in an index
  under the tag ``sha256-<hex>`` (distribution-spec 1.1, "referrers tag schema"): such a tag
  names no image of the user's (:func:`is_referrers_tag`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from image_lineage.sources.oci.descriptor import Descriptor, Manifest

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"

#: Media types of an index: a list of manifests, one per platform (or nested indexes).
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
#: Media types of an image (or artifact) manifest.
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
#: What to ``Accept`` when asking a registry for a manifest: every kind this reads.
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))
#: Config media types of a container image.
IMAGE_CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})
#: Docker's schema 1 manifests (signed or not): retired, not read.
SCHEMA1_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.docker.distribution.manifest.v1+json",
    }
)
SCHEMA1_MESSAGE = (
    "is a Docker schema 1 manifest (application/vnd.docker.distribution.manifest.v1+prettyjws), "
    "a format Docker retired, which this tool does not read; convert the image to OCI or schema 2 "
    "(skopeo copy --format oci SOURCE DESTINATION, or pull and push it with a current docker)"
)
#: The digest of ``{}``: the image-spec's empty descriptor, an artifact's placeholder config.
EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#: What a Sigstore bundle (cosign 3, GitHub's attest actions) holds, in its manifest's annotations:
#: a DSSE envelope is an attestation, unless its predicate is cosign's signing one.
SIGSTORE_CONTENT, SIGSTORE_PREDICATE = "dev.sigstore.bundle.content", "dev.sigstore.bundle.predicateType"
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
#: BuildKit's annotations on an attestation manifest: its kind and the manifest it is about.
REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"

# Layer media types: OCI (plain, gzip, zstd, non-distributable) and Docker's (foreign too).
_LAYER_PREFIXES = ("application/vnd.oci.image.layer.", "application/vnd.docker.image.rootfs.")

ArtifactKind = Literal["attestation", "signature", "sbom", "helm chart", "artifact"]
"""What a manifest that is not an image holds, as far as its media types and tag tell."""

# cosign names what it attaches by tag: ``repo:sha256-<hex>.sig`` (``.att``, ``.sbom``).
_COSIGN_TAG = re.compile(r"(?:^|:)(sha256)-([0-9a-f]{64})\.(sig|att|sbom)$")
# The referrers tag schema's tags for the digests a registry names manifests by (the encoded
# part truncated to 64 characters): not another tag that merely looks like one.
_REFERRERS_TAG = re.compile(r"(?:sha256|sha384|sha512)-[0-9a-f]{64}")
_COSIGN_KINDS: dict[str, ArtifactKind] = {"sig": "signature", "att": "attestation", "sbom": "sbom"}
# Words in an artifact's media types (config, artifactType, layers) -> its kind, first match wins.
_KINDS_BY_TYPE: tuple[tuple[tuple[str, ...], ArtifactKind], ...] = (
    (("helm",), "helm chart"),
    (("in-toto", "dsse"), "attestation"),
    (("signature", "cosign", "sigstore"), "signature"),
    (("spdx", "cyclonedx", "sbom"), "sbom"),
)


def is_layer_type(media_type: str) -> bool:
    """Whether a layer descriptor's media type is a filesystem layer ("" too: old manifests)."""
    return not media_type or media_type.startswith(_LAYER_PREFIXES)


def compressed_by_type(media_type: str) -> bool | None:
    """Whether a layer's media type says it is compressed; None when it does not say."""
    lowered = media_type.lower()
    if "gzip" in lowered or "zstd" in lowered:
        return True
    if lowered.endswith(("tar", ".tar", "diff.tar")):
        return False
    return None


def is_attestation(descriptor: Descriptor) -> bool:
    """A BuildKit attestation (provenance, SBOM): platform ``unknown/unknown``, not an image."""
    return (descriptor.platform is not None and descriptor.platform.os == "unknown") or (
        descriptor.annotation(REFERENCE_TYPE) == "attestation-manifest"
    )


def is_image(descriptor: Descriptor, manifest: Manifest) -> bool:
    """An image config, no other ``artifactType`` (the config's own is allowed: apko), layer types only."""
    config = manifest.config
    if config.media_type not in {*IMAGE_CONFIG_TYPES, ""}:
        return False  # an old manifest may give its config no media type: still an image
    if config.digest == EMPTY_JSON_DIGEST:
        return False  # ``{}`` is no image config: an artifact borrowing the type
    artifact_types = {descriptor.artifact_type, manifest.artifact_type} - {""}
    if not artifact_types <= IMAGE_CONFIG_TYPES:
        return False
    return all(is_layer_type(layer.media_type) for layer in manifest.layers)


def artifact_kind(
    descriptor: Descriptor, manifest: Manifest | None, names: Iterable[str] = ()
) -> ArtifactKind | None:
    """What a manifest holds if it is not an image (None for an image, or for a manifest not at
    hand that its descriptor does not call an artifact), from its descriptor, its media types
    and the names it is tagged with."""
    cosign = next((m.group(3) for n in names if (m := _COSIGN_TAG.search(n))), None)
    if cosign:
        return _COSIGN_KINDS[cosign]
    if is_attestation(descriptor):
        return "attestation"
    if manifest is None:
        if descriptor.artifact_type and descriptor.artifact_type not in IMAGE_CONFIG_TYPES:
            return _sigstore_kind(descriptor.annotations) or _kind_by_words((descriptor.artifact_type,))
        return None
    if is_image(descriptor, manifest):
        return None
    layer_types = (layer.media_type for layer in manifest.layers)
    return _sigstore_kind((*descriptor.annotations, *manifest.annotations)) or _kind_by_words(
        (manifest.config.media_type, manifest.artifact_type, descriptor.artifact_type, *layer_types)
    )


def _sigstore_kind(annotations: Iterable[tuple[str, str]]) -> ArtifactKind | None:
    """A Sigstore bundle's kind by what its annotations say it holds; None when they say nothing."""
    found = dict(annotations)
    if found.get(SIGSTORE_CONTENT) != "dsse-envelope":
        return None
    return "signature" if found.get(SIGSTORE_PREDICATE) == COSIGN_SIGN_PREDICATE else "attestation"


def _kind_by_words(types: Iterable[str]) -> ArtifactKind:
    joined = " ".join(types).lower()
    return next((kind for words, kind in _KINDS_BY_TYPE if any(w in joined for w in words)), "artifact")


def subject_of(descriptor: Descriptor, manifest: Manifest | None, names: Iterable[str] = ()) -> str:
    """The digest an artifact is attached to: OCI ``subject``, BuildKit's annotation, cosign's tag."""
    if manifest is not None and manifest.subject is not None:
        return manifest.subject.digest
    reference = descriptor.annotation(REFERENCE_DIGEST)
    if reference:
        return reference
    return next((f"{m.group(1)}:{m.group(2)}" for n in names if (m := _COSIGN_TAG.search(n))), "")


def referrers_tag(digest: str) -> str:
    """The tag a registry without the referrers API lists ``digest``'s referrers under:
    ``sha256:<hex>`` -> ``sha256-<hex>`` (the spec truncates longer parts to 32 and 64 characters)."""
    algorithm, _, encoded = digest.partition(":")
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", f"{algorithm[:32]}-{encoded[:64]}")


def is_referrers_tag(tag: str) -> bool:
    """Whether ``tag`` is one the referrers tag schema makes (``sha256-<64 hex>``), not an image's."""
    return _REFERRERS_TAG.fullmatch(tag) is not None
