"""Provenance attached to an image *beside* it, as registries keep it: OCI 1.1 referrers and cosign.

Written into an :class:`~testbed.oci_layout.OciLayout` (so every digest is known), to push
with ``skopeo copy`` like any layout:

* :func:`provenance_statement`: an in-toto statement whose SLSA provenance (v0.2
  ``materials``, v1 ``resolvedDependencies``) names a base, with the image's manifest as its
  subject, as BuildKit writes it;
* :func:`add_referrer`: an artifact manifest (``artifactType`` in-toto, the empty ``{}``
  config, the statement as its one layer, ``subject`` the image's manifest), as
  ``oras attach`` pushes it; :func:`add_referrers_index` lists referrers in the index a
  registry without the referrers API keeps under the tag ``sha256-<hex>``
  (``media.referrers_tag``, distribution-spec 1.1 "referrers tag schema");
* :func:`add_cosign_attestation`: cosign's ``sha256-<hex>.att``: an image-typed manifest whose
  layers are DSSE envelopes (``application/vnd.dsse.envelope.v1+json``) around the statements;
* :func:`add_sigstore_bundle`: a Sigstore bundle referrer (cosign 3, GitHub's
  ``actions/attest-build-provenance``): the bundle's ``dsseEnvelope`` holds the statement, the
  manifest's annotations say what it is (``dev.sigstore.bundle.content``/``.predicateType``).

No pytest import.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .oci_layout import MEDIA_CONFIG, MEDIA_INDEX, MEDIA_MANIFEST, OciLayout

MEDIA_IN_TOTO = "application/vnd.in-toto+json"
MEDIA_DSSE = "application/vnd.dsse.envelope.v1+json"
MEDIA_EMPTY = "application/vnd.oci.empty.v1+json"
MEDIA_SIGSTORE_BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
COSIGN_SIGN = "https://sigstore.dev/cosign/sign/v1"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V1 = "https://slsa.dev/provenance/v1"
PREDICATE_KEY = "in-toto.io/predicate-type"
COSIGN_PREDICATE_KEY = "predicateType"  # the annotation cosign gives each attestation layer


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def provenance_statement(
    subject_digest: str, *, name: str, base: str, base_digest: str, version: str = SLSA_V02
) -> bytes:
    """An in-toto statement about the manifest ``subject_digest`` (of the image ``name``, ``team/app@1``)
    whose provenance names the base ``base`` (a purl path: ``team/base@1``) at ``base_digest``."""
    material = {
        "uri": f"pkg:docker/{base}?platform=linux%2Famd64",
        "digest": {"sha256": base_digest.removeprefix("sha256:")},
    }
    predicate: dict[str, Any]
    if version == SLSA_V02:
        predicate = {
            "builder": {"id": ""},
            "buildType": "https://mobyproject.org/buildkit@v1",
            "materials": [material],
        }
    else:
        predicate = {
            "buildDefinition": {
                "buildType": "https://mobyproject.org/buildkit@v1",
                "resolvedDependencies": [material],
            },
            "runDetails": {"builder": {"id": ""}},
        }
    statement = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": version,
        "subject": [
            {
                "name": f"pkg:docker/{name}?platform=linux%2Famd64",
                "digest": {"sha256": subject_digest.removeprefix("sha256:")},
            }
        ],
        "predicate": predicate,
    }
    return _json_bytes(statement)


def empty_config(layout: OciLayout) -> dict[str, Any]:
    """The image-spec's empty descriptor (``{}``), an artifact's placeholder config."""
    return layout.add_blob(b"{}", MEDIA_EMPTY)


def add_referrer(
    layout: OciLayout,
    subject: Mapping[str, Any],
    statement: bytes,
    *,
    predicate: str = SLSA_V02,
    layer_type: str = MEDIA_IN_TOTO,
) -> dict[str, Any]:
    """An artifact manifest holding ``statement`` whose ``subject`` is ``subject`` (a descriptor);
    its descriptor as a referrers list gives it (``artifactType``, the manifest's annotations)."""
    layer = layout.add_blob(statement, layer_type, annotations={PREDICATE_KEY: predicate})
    return _artifact(layout, subject, MEDIA_IN_TOTO, layer, {PREDICATE_KEY: predicate})


def _artifact(
    layout: OciLayout,
    subject: Mapping[str, Any],
    artifact_type: str,
    layer: dict[str, Any],
    annotations: dict[str, str],
) -> dict[str, Any]:
    """An artifact manifest of one ``layer`` referring to ``subject``; its descriptor as a
    referrers list gives it (``artifactType``, the manifest's annotations)."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "artifactType": artifact_type,
        "config": empty_config(layout),
        "layers": [layer],
        "subject": {key: subject[key] for key in ("mediaType", "digest", "size")},
        "annotations": annotations,
    }
    return layout.add_blob(
        _json_bytes(manifest), MEDIA_MANIFEST, artifactType=artifact_type, annotations=annotations
    )


def add_referrers_index(layout: OciLayout, referrers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The index a registry keeps under ``referrers_tag(subject)``: the referrers' descriptors."""
    index = {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [dict(r) for r in referrers]}
    return layout.add_blob(_json_bytes(index), MEDIA_INDEX)


def dsse_envelope(statement: bytes, *, payload: str | None = None) -> bytes:
    """A DSSE envelope around ``statement`` (``payload`` replaces its base64, for broken ones)."""
    encoded = base64.b64encode(statement).decode() if payload is None else payload
    envelope = {
        "payloadType": MEDIA_IN_TOTO,
        "payload": encoded,
        "signatures": [{"keyid": "", "sig": base64.b64encode(b"not checked here").decode()}],
    }
    return _json_bytes(envelope)


def add_cosign_attestation(layout: OciLayout, envelopes: Iterable[tuple[bytes, str]]) -> dict[str, Any]:
    """cosign's ``.att`` manifest: one DSSE layer per (envelope, predicate type), an image config."""
    layers = [
        layout.add_blob(envelope, MEDIA_DSSE, annotations={COSIGN_PREDICATE_KEY: predicate})
        for envelope, predicate in envelopes
    ]
    config = {
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "os": "",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": layout.add_blob(_json_bytes(config), MEDIA_CONFIG),
        "layers": layers,
    }
    return layout.add_blob(_json_bytes(manifest), MEDIA_MANIFEST)


def add_sigstore_bundle(
    layout: OciLayout, subject: Mapping[str, Any], statement: bytes, *, predicate: str = SLSA_V1
) -> dict[str, Any]:
    """A Sigstore bundle referrer of ``subject`` whose DSSE envelope holds ``statement``."""
    envelope = json.loads(dsse_envelope(statement))
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "not checked here"}},
        "dsseEnvelope": envelope,
    }
    layer = layout.add_blob(_json_bytes(bundle), MEDIA_SIGSTORE_BUNDLE)
    annotations = {
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": predicate,
    }
    return _artifact(layout, subject, MEDIA_SIGSTORE_BUNDLE, layer, annotations)
