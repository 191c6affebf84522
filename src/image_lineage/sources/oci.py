"""The OCI image formats' shared rules, in one place for archives, registries and the containerd store.

An OCI layout (``index.json``), a registry's manifests and the containerd image store
all describe images with the same descriptors: media types tell an index (one image per
platform) from an image manifest; an index's entries name their platform, and BuildKit
adds attestation manifests that are not images at all. Each reader picks the platform
this machine runs, and one image reached under several names becomes one record.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import replace
from typing import Any

from image_lineage.model import Image

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
