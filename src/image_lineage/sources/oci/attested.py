"""The provenance BuildKit attached to images, read through the blob-source interface.

The walker knows an attestation manifest by its index entry and never reads it
(``walk.py``); this reads, for the attestations a walk found, each manifest and then its
in-toto layers whose predicate is an SLSA provenance, two ``read_many`` batches in all,
every blob checked against its digest (``blobs.check``). What cannot be read is no
evidence, never an error: an image without provenance is still an image.
"""

from __future__ import annotations

from collections.abc import Iterable

from image_lineage.model import BaseEvidence
from image_lineage.sources.base import MAX_JSON_BYTES
from image_lineage.sources.oci import evidence, media
from image_lineage.sources.oci.artifacts import Artifact
from image_lineage.sources.oci.blobs import BlobSource, Want, check
from image_lineage.sources.oci.descriptor import Descriptor, Malformed, parse_json, parse_manifest


def provenance(source: BlobSource, artifacts: Iterable[Artifact]) -> dict[str, BaseEvidence]:
    """The base each attested manifest's provenance names, by that manifest's digest (the subject)."""
    attestations = {
        a.digest: a for a in artifacts if a.kind == "attestation" and a.subject.startswith("sha256:")
    }
    if not attestations:
        return {}
    wants = [Want(Descriptor(media.OCI_MANIFEST, d), a.scope, manifest=True) for d, a in attestations.items()]
    statements: dict[str, tuple[Want, str]] = {}  # in-toto blob digest -> (want, subject)
    for want, raw in _read(source, wants):
        try:
            manifest = parse_manifest(parse_json(raw, "an attestation"), "an attestation")
        except Malformed:
            continue
        for layer in manifest.layers:
            predicate = layer.annotation(evidence.PREDICATE_TYPE)
            if layer.media_type == evidence.IN_TOTO and predicate in {*evidence.PROVENANCE_TYPES, ""}:
                subject = attestations[want.descriptor.digest].subject
                statements[layer.digest] = (Want(layer, want.scope), subject)
    found: dict[str, BaseEvidence] = {}
    for want, raw in _read(source, [w for w, _ in statements.values()]):
        base = evidence.from_statement(raw)
        if base is not None:
            found.setdefault(statements[want.descriptor.digest][1], base)
    return found


def _read(source: BlobSource, wants: list[Want]) -> list[tuple[Want, bytes]]:
    if not wants:
        return []
    got = source.read_many(wants, MAX_JSON_BYTES)
    checked = [
        (want, check(want.descriptor, data, MAX_JSON_BYTES))
        for want in wants
        if isinstance(data := got.get(want.descriptor.digest), bytes)
    ]
    return [(want, data) for want, data in checked if isinstance(data, bytes)]
