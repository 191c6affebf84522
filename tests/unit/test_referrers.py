"""Provenance attached beside an image (OCI 1.1 referrers, cosign's ``.att``), parsed and read.

Each parser path on a small fixture written by ``testbed/referrers.py`` (every digest known):
an in-toto layer of a referrer artifact and a DSSE envelope of a cosign ``.att`` manifest, for
SLSA v0.2 and v1; then what must not become evidence (a statement about another manifest, an
envelope that is not one) and must say why in one line, through the same blob-source interface
the registry reads (``attested.read_provenance``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from image_lineage.model import BaseEvidence
from image_lineage.sources.base import MAX_JSON_BYTES
from image_lineage.sources.oci import evidence, media
from image_lineage.sources.oci.artifacts import Artifact
from image_lineage.sources.oci.attested import read_provenance
from image_lineage.sources.oci.blobs import Unread, Want, too_big
from image_lineage.sources.oci.descriptor import parse_descriptor, parse_manifest
from testbed import referrers
from testbed.oci_layout import AMD64, Image, OciLayout

BASE_INDEX = "sha256:" + "b" * 64
BASE = BaseEvidence("provenance", "team/base:1", BASE_INDEX)


class _Blobs:
    """A registry's blobs as the blob source gives them: refused when too big, missing said so."""

    def __init__(self, blobs: Mapping[str, bytes]) -> None:
        self.blobs = blobs
        self.read: list[str] = []

    def read_many(self, wanted: Sequence[Want], limit: int) -> dict[str, bytes | Unread]:
        found: dict[str, bytes | Unread] = {}
        for want in wanted:
            digest = want.descriptor.digest
            self.read.append(digest)
            data = self.blobs.get(digest)
            refused = too_big(want.descriptor, limit)
            found[digest] = (
                refused or data or Unread("registry_missing", f"{digest} is gone from the registry")
            )
        return found

    def open(self, want: Want) -> Any:  # pragma: no cover - no layer is streamed here
        raise NotImplementedError


def _image(layout: OciLayout) -> dict[str, Any]:
    base = Image.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"base"})
    return layout.add_image(base.run("RUN make", {"opt/app": b"app"}))


def _statement(subject: dict[str, Any], version: str) -> bytes:
    return referrers.provenance_statement(
        subject["digest"], name="team/app@1", base="team/base@1", base_digest=BASE_INDEX, version=version
    )


VERSIONS = [pytest.param(referrers.SLSA_V02, id="slsa-v0.2"), pytest.param(referrers.SLSA_V1, id="slsa-v1")]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_referrer_artifacts_in_toto_layer_names_the_base(version: str) -> None:
    layout = OciLayout()
    subject = _image(layout)
    referrer = referrers.add_referrer(layout, subject, _statement(subject, version), predicate=version)
    artifact = Artifact("attestation", referrer["digest"], subject["digest"], scope="team/app")
    attested = read_provenance(_Blobs(layout.blobs), [artifact])
    assert attested.found == {subject["digest"]: BASE}
    assert attested.unusable == ()


def test_an_in_toto_artifact_whose_layer_has_orases_default_type_is_read() -> None:
    """``oras attach --artifact-type application/vnd.in-toto+json IMAGE statement.json``."""
    layout = OciLayout()
    subject = _image(layout)
    statement = _statement(subject, referrers.SLSA_V1)
    oras = referrers.add_referrer(
        layout, subject, statement, layer_type="application/vnd.oci.image.layer.v1.tar"
    )
    artifact = Artifact("attestation", oras["digest"], subject["digest"], scope="team/app")
    assert read_provenance(_Blobs(layout.blobs), [artifact]).found == {subject["digest"]: BASE}


def test_a_sigstore_bundle_referrer_names_the_base() -> None:
    """cosign 3 / GitHub's attest-build-provenance: the statement in the bundle's ``dsseEnvelope``."""
    layout = OciLayout()
    subject = _image(layout)
    bundle = referrers.add_sigstore_bundle(layout, subject, _statement(subject, referrers.SLSA_V1))
    manifest = parse_manifest(json.loads(layout.blobs[bundle["digest"]]), "m")
    assert media.artifact_kind(parse_descriptor(bundle, "d"), manifest) == "attestation"
    artifact = Artifact("attestation", bundle["digest"], subject["digest"], scope="team/app")
    assert read_provenance(_Blobs(layout.blobs), [artifact]).found == {subject["digest"]: BASE}


def test_a_sigstore_bundle_of_cosigns_signature_is_a_signature_and_not_read() -> None:
    layout = OciLayout()
    subject = _image(layout)
    signed = referrers.add_sigstore_bundle(layout, subject, b"{}", predicate=referrers.COSIGN_SIGN)
    manifest = parse_manifest(json.loads(layout.blobs[signed["digest"]]), "m")
    assert media.artifact_kind(parse_descriptor(signed, "d"), manifest) == "signature"
    assert media.artifact_kind(parse_descriptor(signed, "d"), None) == "signature"
    blobs = _Blobs(layout.blobs)
    artifact = Artifact("attestation", signed["digest"], subject["digest"], scope="team/app")
    assert read_provenance(blobs, [artifact]).found == {}
    assert len(blobs.read) == 1  # its manifest: the predicate says no provenance, its bundle is not read


@pytest.mark.parametrize("version", VERSIONS)
def test_a_cosign_att_dsse_envelope_names_the_base(version: str) -> None:
    layout = OciLayout()
    subject = _image(layout)
    envelope = referrers.dsse_envelope(_statement(subject, version))
    att = referrers.add_cosign_attestation(layout, [(envelope, version)])
    artifact = Artifact("attestation", att["digest"], subject["digest"], scope="team/app")
    assert read_provenance(_Blobs(layout.blobs), [artifact]).found == {subject["digest"]: BASE}


def test_an_sbom_layer_of_a_cosign_att_is_not_read() -> None:
    layout = OciLayout()
    subject = _image(layout)
    statement = _statement(subject, referrers.SLSA_V02)
    sbom = referrers.dsse_envelope(b'{"predicateType": "https://spdx.dev/Document"}')
    att = referrers.add_cosign_attestation(
        layout,
        [(sbom, "https://spdx.dev/Document"), (referrers.dsse_envelope(statement), referrers.SLSA_V02)],
    )
    blobs = _Blobs(layout.blobs)
    artifact = Artifact("attestation", att["digest"], subject["digest"], scope="team/app")
    assert read_provenance(blobs, [artifact]).found == {subject["digest"]: BASE}
    assert len(blobs.read) == 2  # the manifest, the provenance layer: not the SBOM


@pytest.mark.parametrize(
    ("envelope", "why"),
    [
        pytest.param(b"not json", "its DSSE envelope is not JSON", id="envelope-not-json"),
        pytest.param(b'{"payloadType": "application/vnd.in-toto+json"}', "has no payload", id="no-payload"),
        pytest.param(
            b'{"payloadType": "text/plain", "payload": "e30="}',
            "holds no in-toto statement",
            id="other-payload",
        ),
        pytest.param(
            referrers.dsse_envelope(b"", payload="not base64 at all!"),
            "is not base64",
            id="payload-not-base64",
        ),
        pytest.param(
            referrers.dsse_envelope(b"", payload=base64.b64encode(b"{not json").decode()),
            "its in-toto statement is not a JSON object",
            id="payload-not-json",
        ),
    ],
)
def test_a_broken_dsse_envelope_is_one_reason_and_no_evidence(envelope: bytes, why: str) -> None:
    layout = OciLayout()
    subject = _image(layout)
    att = referrers.add_cosign_attestation(layout, [(envelope, referrers.SLSA_V02)])
    artifact = Artifact("attestation", att["digest"], subject["digest"], scope="team/app")
    attested = read_provenance(_Blobs(layout.blobs), [artifact])
    assert attested.found == {}
    (unusable,) = attested.unusable
    assert unusable.code == "attestation_unreadable"
    assert why in unusable.reason
    assert "\n" not in unusable.reason


def test_a_dsse_payload_in_url_safe_base64_without_padding_is_read() -> None:
    statement = b'{"a": "~~~?"}'  # encodes with "-"/"_" in the URL-safe alphabet
    payload = base64.urlsafe_b64encode(statement).decode().rstrip("=")
    envelope = referrers.dsse_envelope(b"", payload=payload)
    assert evidence.statement_of(envelope, evidence.DSSE) == statement
    assert evidence.statement_of(b"as is", evidence.IN_TOTO) == b"as is"


def test_a_statement_about_another_manifest_is_not_evidence_for_this_one() -> None:
    layout = OciLayout()
    subject = _image(layout)
    other = layout.add_image(Image.scratch(AMD64).run("ADD other /", {"etc/os": b"other"}))
    referrer = referrers.add_referrer(layout, subject, _statement(other, referrers.SLSA_V1))
    artifact = Artifact("attestation", referrer["digest"], subject["digest"], scope="team/app")
    attested = read_provenance(_Blobs(layout.blobs), [artifact])
    assert attested.found == {}
    (unusable,) = attested.unusable
    assert unusable.code == "attestation_subject"
    assert f"about another manifest than {subject['digest']}" in unusable.reason


def test_a_missing_or_huge_statement_is_one_reason() -> None:
    layout = OciLayout()
    subject = _image(layout)
    gone = referrers.add_referrer(layout, subject, _statement(subject, referrers.SLSA_V02))
    statement_digest = next(
        d for d, b in layout.blobs.items() if b == _statement(subject, referrers.SLSA_V02)
    )
    blobs = dict(layout.blobs)
    del blobs[statement_digest]
    huge_statement = {
        "mediaType": evidence.IN_TOTO,
        "digest": "sha256:" + "e" * 64,
        "size": MAX_JSON_BYTES + 1,
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": media.OCI_MANIFEST,
        "config": referrers.empty_config(layout),
        "layers": [huge_statement],
    }
    huge = layout.add_blob(json.dumps(manifest).encode(), media.OCI_MANIFEST)
    blobs[huge["digest"]] = layout.blobs[huge["digest"]]
    artifacts = [
        Artifact("attestation", gone["digest"], subject["digest"], scope="team/app"),
        Artifact("attestation", huge["digest"], subject["digest"], scope="team/app"),
        Artifact("attestation", "sha256:" + "f" * 64, subject["digest"], scope="team/app"),  # no manifest
    ]
    attested = read_provenance(_Blobs(blobs), artifacts)
    assert attested.found == {}
    assert sorted(u.code for u in attested.unusable) == [
        "blob_too_big",
        "registry_missing",
        "registry_missing",
    ]


def test_the_referrers_tag_schema() -> None:
    digest = "sha256:" + "0123456789abcdef" * 4
    assert media.referrers_tag(digest) == "sha256-" + "0123456789abcdef" * 4
    assert media.is_referrers_tag(media.referrers_tag(digest))
    assert media.referrers_tag("sha512:" + "a" * 128) == "sha512-" + "a" * 64  # truncated, as the spec says
    assert not media.is_referrers_tag(media.referrers_tag(digest) + ".att")  # cosign's: an artifact's own tag
    for tag in ("1", "latest", "sha256-abc", "build-" + "a" * 64, "SHA256-" + "a" * 64):
        assert not media.is_referrers_tag(tag)
