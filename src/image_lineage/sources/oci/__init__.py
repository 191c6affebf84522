"""The OCI core: typed descriptors, the media-type rules, one walker, and the blob sources it reads.

Archives, registries and an engine's export all describe images with the same objects: an
index (one manifest per platform, or nested indexes) -> image manifests -> a config and
layers. This package reads them once, for every source:

* ``descriptor``: :class:`Descriptor`, :class:`Manifest`, :class:`Index`, parsed from JSON
  once, every field's type checked (hostile input is a one-line ``Malformed``, or an index
  entry skipped with its reason);
* ``media``: the rules: what is an index, an image (an image config, no other
  ``artifactType``, layer media types only), an attestation, an artifact and its kind;
* ``blobs``: the **blob-source interface**: ``read_many(wants, limit)`` gives small blobs
  (manifests, indexes, configs) in one batch, each checked against its digest by the
  walker; ``open(want)`` gives a (layer) blob as a stream that checks its digest as it is
  read. A ``Want`` is a descriptor and an opaque ``scope`` (a registry's repository);
* ``walk``: the **one walker**: roots (what ``index.json`` or a tag names) -> indexes ->
  manifests -> configs, level by level (one batch per level), each digest read once, each
  index placed once, attestations never read, artifacts kept apart; bounded in depth
  (``MAX_INDEX_DEPTH``) and in distinct descriptors (``MAX_DESCRIPTORS``). It never knows
  where a blob came from; what it cannot read is a ``Problem`` the caller words;
* ``layout``: the layout backends (a tar read by random access, a directory, a one-pass
  stream; ``docker save``'s files and OCI layouts alike) and their ``LayoutBlobs`` source.
  The registry's source sits beside its client (``sources/registry.py``), the engine
  export's is a stream layout (``sources/engine/export.py``);
* ``records``: the walk's images as ``Image`` records (one per config digest);
  ``artifacts``: artifacts attached to their images and counted as diagnostics.

containerd's content store (``sources/containerd/blobs.py``) is one more backend behind the
same interface. Layer contents (still to come) will read layers through ``BlobSource.open``,
which every backend offers. Only the light modules are imported here (no
``tarfile``): ``layout`` and ``walk`` are imported where they are used.
"""

from __future__ import annotations

from image_lineage.sources.oci.artifacts import Artifact, add_image, artifact_notes, attach_artifacts
from image_lineage.sources.oci.descriptor import Descriptor, Index, Malformed, Manifest, Platform
from image_lineage.sources.oci.media import (
    INDEX_TYPES,
    MANIFEST_ACCEPT,
    ArtifactKind,
    artifact_kind,
    is_attestation,
    is_image,
    subject_of,
)
from image_lineage.sources.oci.naming import native_architecture

__all__ = [
    "INDEX_TYPES",
    "MANIFEST_ACCEPT",
    "Artifact",
    "ArtifactKind",
    "Descriptor",
    "Index",
    "Malformed",
    "Manifest",
    "Platform",
    "add_image",
    "artifact_kind",
    "artifact_notes",
    "attach_artifacts",
    "is_attestation",
    "is_image",
    "native_architecture",
    "subject_of",
]
