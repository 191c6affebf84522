"""The base a build recorded: BuildKit provenance, OCI base annotations, the same keys as labels.

Pure parsing (no I/O); ``sources/oci/attested.py`` reads the blobs through the blob source.

* **Provenance** (an in-toto statement in an attestation manifest's layer): SLSA v0.2 lists
  what the build used in ``predicate.materials[]``, SLSA v1 in
  ``predicate.buildDefinition.resolvedDependencies[]``; each ``uri`` is a purl
  (``pkg:docker/team/base@1?platform=linux%2Famd64``) with the digest the tag resolved to
  (an index digest for a multi-platform base). Besides the final stage's base they list
  builder stages' bases and ``COPY --from`` images: with ``mode=max`` the LLB build
  definition says which one the final result grows from (``inputs[0]`` followed down to a
  ``docker-image://`` source); with ``mode=min`` every image is a candidate and lineage picks
  the one whose layers are a prefix. The Dockerfile frontend (``# syntax=``) is no base.
  The statement comes as a layer of its own (``application/vnd.in-toto+json``: BuildKit,
  ``oras attach``) or inside a DSSE envelope (``application/vnd.dsse.envelope.v1+json``:
  cosign's ``.att``, whose ``payload`` is the statement in base64), or in a Sigstore bundle's
  ``dsseEnvelope`` (cosign 3, GitHub's attest actions): :func:`statement_of`.
  A statement is evidence about an image only when its ``subject[].digest`` names that
  image's manifest (:func:`names_subject`).
* **Annotations** on the manifest (``org.opencontainers.image.base.name``/``.base.digest``:
  buildah, ko, crane, ``buildx --annotation``) and the same keys as config **labels**.

Everything here reads JSON it does not control: anything not of the expected shape is no
evidence (None), never an error.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from image_lineage.model import BaseEvidence, EvidenceKind
from image_lineage.reference import familiar

#: The OCI base annotations (image-spec ``annotations.md``); older images carry them as labels.
BASE_NAME, BASE_DIGEST = "org.opencontainers.image.base.name", "org.opencontainers.image.base.digest"
#: The media type of an attestation manifest's layers, and the annotation naming their predicate.
IN_TOTO, PREDICATE_TYPE = "application/vnd.in-toto+json", "in-toto.io/predicate-type"
#: The SLSA provenance predicates BuildKit writes (v1 is the default of recent releases).
SLSA_V02, SLSA_V1 = "https://slsa.dev/provenance/v0.2", "https://slsa.dev/provenance/v1"
PROVENANCE_TYPES = frozenset({SLSA_V02, SLSA_V1})
#: A DSSE envelope (cosign's attestation layers); ``payloadType`` in-toto, ``payload`` base64.
DSSE = "application/vnd.dsse.envelope.v1+json"
#: The annotation cosign gives each attestation layer (BuildKit's is ``PREDICATE_TYPE``).
COSIGN_PREDICATE_TYPE = "predicateType"
#: A Sigstore bundle (``application/vnd.dev.sigstore.bundle.v0.3+json``, or ``+json;version=0.2``).
SIGSTORE_BUNDLE = "application/vnd.dev.sigstore.bundle"
#: Steps of an LLB definition followed at most (a real one has tens).
_MAX_STEPS = 10_000
_IMAGE_SOURCE = "docker-image://"


def from_annotations(
    pairs: Iterable[tuple[str, str]], kind: EvidenceKind = "annotation"
) -> BaseEvidence | None:
    """``base.name``/``base.digest`` among ``pairs`` (manifest annotations, or config labels)."""
    found = dict(pairs)
    name, digest = found.get(BASE_NAME, "").strip(), found.get(BASE_DIGEST, "").strip()
    if not (name or digest):
        return None
    return BaseEvidence(kind, familiar(name) if name else "", digest)


class NotEvidence(ValueError):
    """A blob that should hold an in-toto statement and does not; ``str()`` says why, in one line."""


def holds_statement(media_type: str) -> bool:
    """Whether a layer of ``media_type`` holds an in-toto statement (as it is, or in an envelope)."""
    return media_type in {IN_TOTO, DSSE} or media_type.startswith(SIGSTORE_BUNDLE)


def statement_of(raw: bytes, media_type: str) -> bytes:
    """The in-toto statement a layer of ``media_type`` holds: the layer itself, or a DSSE
    envelope's payload decoded (a bundle's ``dsseEnvelope``); ``NotEvidence`` when an envelope
    is not one."""
    if media_type != DSSE and not media_type.startswith(SIGSTORE_BUNDLE):
        return raw
    what = "Sigstore bundle" if media_type.startswith(SIGSTORE_BUNDLE) else "DSSE envelope"
    try:
        envelope = json.loads(raw)
    except (ValueError, RecursionError):
        raise NotEvidence(f"its {what} is not JSON") from None
    if what == "Sigstore bundle":
        envelope = envelope.get("dsseEnvelope") if isinstance(envelope, Mapping) else None
    if not isinstance(envelope, Mapping) or not isinstance(payload := envelope.get("payload"), str):
        raise NotEvidence("its DSSE envelope has no payload")
    if envelope.get("payloadType") != IN_TOTO:
        raise NotEvidence("its DSSE envelope holds no in-toto statement")
    standard = payload.replace("-", "+").replace("_", "/")  # DSSE allows either alphabet, unpadded too
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise NotEvidence("its DSSE payload is not base64") from None


def names_subject(raw: bytes, digest: str) -> bool | None:
    """Whether the statement ``raw`` is about the manifest ``digest`` (one of its ``subject[]``
    digests); None when it is not a statement (not a JSON object)."""
    try:
        statement = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(statement, Mapping):
        return None
    subjects = statement.get("subject")
    algorithm, _, value = digest.partition(":")
    return any(
        _mapping(_mapping(item).get("digest")).get(algorithm) == value
        for item in (subjects if isinstance(subjects, list) else [])
    )


def from_statement(raw: bytes) -> BaseEvidence | None:
    """The base an in-toto SLSA provenance statement names; None when it names none."""
    try:
        statement = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(statement, Mapping) or statement.get("predicateType") not in PROVENANCE_TYPES:
        return None
    predicate = _mapping(statement.get("predicate"))
    definition = _mapping(predicate.get("buildDefinition"))
    if statement["predicateType"] == SLSA_V02:
        dependencies, key = predicate.get("materials"), "uri"
        config = _mapping(predicate.get("buildConfig"))
        frontend = _mapping(_mapping(_mapping(predicate.get("invocation")).get("parameters")).get("args"))
    else:
        dependencies, key = definition.get("resolvedDependencies"), "uri"
        config = _mapping(_mapping(definition.get("internalParameters")).get("buildConfig"))
        request = _mapping(_mapping(definition.get("externalParameters")).get("request"))
        frontend = _mapping(request.get("args"))
    syntax = frontend.get("source")
    images = [
        pair
        for item in (dependencies if isinstance(dependencies, list) else [])
        if (pair := _docker_dependency(_mapping(item), key)) is not None
        and not (isinstance(syntax, str) and _same_name(pair[0], syntax))
    ]
    final = _final_stage_base(config.get("llbDefinition"))
    if final is not None:
        return BaseEvidence("provenance", *final)
    if not images:
        return None
    unique = tuple(dict.fromkeys(images))
    return BaseEvidence("provenance", *unique[0], candidates=unique if len(unique) > 1 else ())


def _docker_dependency(item: Mapping[str, Any], key: str) -> tuple[str, str] | None:
    """``pkg:docker/team/base@1?platform=...`` with ``digest.sha256`` -> (``team/base:1``, ``sha256:...``)."""
    uri = item.get(key)
    digests = _mapping(item.get("digest"))
    if not isinstance(uri, str) or not uri.startswith("pkg:docker/"):
        return None
    path = uri.removeprefix("pkg:docker/").split("?", 1)[0].split("#", 1)[0]
    name, _, version = path.rpartition("@")
    if not name:
        name, version = path, ""
    name = urllib.parse.unquote(name)
    version = urllib.parse.unquote(version)
    reference = f"{name}@{version}" if ":" in version else f"{name}:{version}" if version else name
    digest = next(
        (f"{algorithm}:{value}" for algorithm, value in digests.items() if isinstance(value, str)), ""
    )
    return familiar(reference), digest


def _final_stage_base(definition: object) -> tuple[str, str] | None:
    """The image the build's result grows from: the last LLB step's first input, followed down."""
    if not isinstance(definition, list) or not definition or len(definition) > _MAX_STEPS:
        return None
    steps = {step.get("id"): step for step in definition if isinstance(step, Mapping)}
    step = definition[-1] if isinstance(definition[-1], Mapping) else None
    for _ in range(len(steps) + 1):
        if step is None:
            return None
        source = _mapping(_mapping(_mapping(step.get("op")).get("Op")).get("source"))
        identifier = source.get("identifier")
        if isinstance(identifier, str):
            return _image_source(identifier)
        inputs = step.get("inputs")
        if not isinstance(inputs, list) or not inputs or not isinstance(inputs[0], str):
            return None  # FROM scratch: no base
        step = steps.get(inputs[0].rsplit(":", 1)[0])
    return None


def _image_source(identifier: str) -> tuple[str, str] | None:
    """``docker-image://docker.io/team/base:1@sha256:...`` -> (``team/base:1``, ``sha256:...``)."""
    if not identifier.startswith(_IMAGE_SOURCE):
        return None  # a local context, a git repository: no image
    reference, _, digest = identifier.removeprefix(_IMAGE_SOURCE).partition("@")
    return familiar(reference), digest


def _same_name(reference: str, other: str) -> bool:
    return familiar(other.split("@", 1)[0]) == reference or familiar(other) == reference


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
