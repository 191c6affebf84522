"""The provenance attached to images, read through the blob-source interface.

Three ways to attach it, one reading: BuildKit's attestation manifests inside an image index
(known by their index entry, never read by the walker: ``walk.py``), OCI 1.1 referrers (an
artifact manifest whose ``subject`` is the image's manifest, listed by a registry's referrers
API or ``sha256-<hex>`` tag) and cosign's ``sha256-<hex>.att`` manifests. For the
attestations a walk found, this reads each manifest and then its layers that hold an SLSA
provenance statement (``application/vnd.in-toto+json``, or a DSSE envelope around one, alone
or in a Sigstore bundle: ``evidence.statement_of``), two ``read_many`` batches in all, every
blob checked against its digest (``blobs.check``). A statement is evidence only about the
manifest its ``subject[]`` names.

What cannot be read is no evidence, never an error: an image without provenance is still an
image. :func:`read_provenance` also says why, one :class:`Unusable` per attestation that a
source should have held (a blob it lacks on purpose, as a layout keeping some platforms
only, is no fault), for the sources that word it as a note (the registry).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from image_lineage.model import BaseEvidence
from image_lineage.sources.base import MAX_JSON_BYTES
from image_lineage.sources.oci import evidence, media
from image_lineage.sources.oci.artifacts import Artifact
from image_lineage.sources.oci.blobs import BlobSource, Unread, Want, check
from image_lineage.sources.oci.descriptor import Descriptor, Malformed, parse_json, parse_manifest


@dataclass(frozen=True, slots=True)
class Unusable:
    """An attestation that could not be read, or is not about the image it is attached to."""

    artifact: Artifact
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Attested:
    """``found``: the base each attested manifest's provenance names, by that manifest's digest."""

    found: dict[str, BaseEvidence] = field(default_factory=dict)
    unusable: tuple[Unusable, ...] = ()


def provenance(source: BlobSource, artifacts: Iterable[Artifact]) -> dict[str, BaseEvidence]:
    """The base each attested manifest's provenance names, by that manifest's digest (the subject)."""
    return read_provenance(source, artifacts).found


def read_provenance(source: BlobSource, artifacts: Iterable[Artifact]) -> Attested:
    """What :func:`provenance` finds, and why each attestation it could not use was unusable."""
    attestations = {
        a.digest: a for a in artifacts if a.kind == "attestation" and a.subject.startswith("sha256:")
    }
    if not attestations:
        return Attested()
    unusable: list[Unusable] = []
    wants = [Want(Descriptor(media.OCI_MANIFEST, d), a.scope, manifest=True) for d, a in attestations.items()]
    statements: dict[str, tuple[Want, Artifact, str]] = {}  # blob digest -> (want, attestation, its type)
    for want, got in _read(source, wants):
        artifact = attestations[want.descriptor.digest]
        if isinstance(got, Unread):
            unusable.append(Unusable(artifact, got.code, got.reason))
            continue
        try:
            manifest = parse_manifest(parse_json(got, "its manifest"), "its manifest")
        except Malformed as why:
            unusable.append(Unusable(artifact, "blob_unreadable", str(why)))
            continue
        # An artifact that says it is in-toto holds statements whatever its layers' type
        # (``oras attach`` gives a file its default layer type unless told another).
        declared = manifest.artifact_type if evidence.holds_statement(manifest.artifact_type) else ""
        for layer in manifest.layers:
            media_type = layer.media_type if evidence.holds_statement(layer.media_type) else declared
            if media_type and _may_be_provenance(layer, manifest.annotations):
                statements.setdefault(layer.digest, (Want(layer, want.scope), artifact, media_type))
    found: dict[str, BaseEvidence] = {}
    for want, got in _read(source, [w for w, _, _ in statements.values()]):
        _, artifact, media_type = statements[want.descriptor.digest]
        base = _base(want.descriptor.digest, media_type, got, artifact, unusable)
        if base is not None:
            found.setdefault(artifact.subject, base)
    return Attested(found, tuple(unusable))


def _may_be_provenance(layer: Descriptor, manifest: Iterable[tuple[str, str]]) -> bool:
    """A layer whose predicate annotation (BuildKit's or cosign's on the layer, a Sigstore
    bundle's on its ``manifest``) names SLSA provenance, or that names none."""
    keys = (evidence.PREDICATE_TYPE, evidence.COSIGN_PREDICATE_TYPE)
    bundle = dict(manifest).get(media.SIGSTORE_PREDICATE, "")
    predicate = next((found for key in keys if (found := layer.annotation(key))), bundle)
    return predicate in {*evidence.PROVENANCE_TYPES, ""}


def _base(
    layer: str, media_type: str, got: bytes | Unread, artifact: Artifact, unusable: list[Unusable]
) -> BaseEvidence | None:
    """The base the statement layer ``layer`` (a digest) names, if it is about the artifact's
    subject; else why not, in ``unusable``."""
    if isinstance(got, Unread):
        unusable.append(Unusable(artifact, got.code, got.reason))
        return None
    try:
        statement = evidence.statement_of(got, media_type)
    except evidence.NotEvidence as why:
        unusable.append(Unusable(artifact, "attestation_unreadable", f"{layer}: {why}"))
        return None
    about = evidence.names_subject(statement, artifact.subject)
    if about is None:
        reason = f"{layer}: its in-toto statement is not a JSON object"
        unusable.append(Unusable(artifact, "attestation_unreadable", reason))
        return None
    if not about:
        reason = f"{layer}: its statement is about another manifest than {artifact.subject}: not used"
        unusable.append(Unusable(artifact, "attestation_subject", reason))
        return None
    return evidence.from_statement(statement)


def _read(source: BlobSource, wants: list[Want]) -> list[tuple[Want, bytes | Unread]]:
    """Each wanted blob, checked against its digest, or why it was not read; a blob the
    source lacks on purpose (``Unread.fault`` false) is left out, as no evidence."""
    if not wants:
        return []
    got: Mapping[str, bytes | Unread] = source.read_many(wants, MAX_JSON_BYTES)
    read: list[tuple[Want, bytes | Unread]] = []
    for want in wants:
        data = got.get(want.descriptor.digest)
        checked = check(want.descriptor, data, MAX_JSON_BYTES) if isinstance(data, bytes) else data
        if checked is not None and not (isinstance(checked, Unread) and not checked.fault()):
            read.append((want, checked))
    return read
