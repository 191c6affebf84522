"""Referrers in a registry: the referrers API, the ``sha256-<hex>`` tag schema, cosign's ``.att``.

Against the small in-process registry of ``test_registry_protocol.py`` (``http.server`` on
127.0.0.1), which can answer the OCI 1.1 referrers API (``GET /v2/NAME/referrers/DIGEST``)
or not. The referrers API path is tested here and not against a real registry: Debian's
``docker-registry`` (distribution 2.8) has no referrers API, and no registry with one (zot,
distribution 3) is packaged for this machine. The tag schema and cosign's ``.att`` run against
the real one too (``tests/integration/test_registry_referrers.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from image_lineage.model import BaseEvidence, Scan
from image_lineage.sources import registry_client
from image_lineage.sources.base import MAX_JSON_BYTES
from image_lineage.sources.oci import media
from testbed import referrers
from testbed.oci_layout import AMD64, ARM64, Family
from testbed.oci_layout import Image as BuiltImage
from tests.unit.test_registry_protocol import _kind, _own_family, _Server, _serving, scan

BASE_INDEX = "sha256:" + "b" * 64
BASE = BaseEvidence("provenance", "team/base:1", BASE_INDEX)


def _app(family: Family) -> dict[str, Any]:
    """An image built on a base the registry does not hold, as a bare manifest."""
    base = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"base"})
    return family.layout.add_image(base.run("RUN make", {"opt/app": b"app"}))


def _provenance(family: Family, subject: dict[str, Any], version: str = referrers.SLSA_V1) -> dict[str, Any]:
    statement = referrers.provenance_statement(
        subject["digest"], name="team/app@1", base="team/base@1", base_digest=BASE_INDEX, version=version
    )
    return referrers.add_referrer(family.layout, subject, statement, predicate=version)


def _serve_app(server: _Server, app: dict[str, Any], *tags: tuple[str, str]) -> None:
    server.state.tags["team/web"] = ["1", *(tag for tag, _ in tags)]
    server.state.targets[("team/web", "1")] = app["digest"]
    for tag, digest in tags:
        server.state.targets[("team/web", tag)] = digest


def _web(found: Scan) -> Any:
    (image,) = [image for image in found.images if any("/team/web:" in tag for tag in image.tags)]
    return image


def _referrer_requests(server: _Server) -> list[str]:
    return [path for method, path in server.state.log if _kind(method, path) == "GET referrers"]


def test_the_referrers_api_names_the_base_one_request_per_image() -> None:
    family = _own_family()
    app = _app(family)
    referrer = _provenance(family, app)
    with _serving(family) as server:
        _serve_app(server, app)
        server.state.referrers = {app["digest"]: [referrer]}
        found = scan(server)
        asked = _referrer_requests(server)
    assert _web(found).base == BASE
    manifests = {image.manifest_digest for image in found.images}
    assert {path.rsplit("/", 1)[1] for path in asked} >= manifests  # each image's manifest asked
    assert len(asked) <= len(manifests) + 1  # and the probe (the first tag's index), no more
    assert [d.message for d in found.diagnostics if d.image == _web(found).id and d.code == "artifacts"] == [
        "1 attestation refers to this image"
    ]


def test_a_registry_without_the_api_is_asked_once_and_its_tag_schema_read() -> None:
    family = _own_family()
    app = _app(family)
    listing = referrers.add_referrers_index(family.layout, [_provenance(family, app, referrers.SLSA_V02)])
    with _serving(family) as server:
        _serve_app(server, app, (media.referrers_tag(app["digest"]), listing["digest"]))
        found = scan(server)
        assert len(_referrer_requests(server)) == 1  # the probe, answered 404: nothing more asked
    assert _web(found).base == BaseEvidence("provenance", "team/base:1", BASE_INDEX)
    assert not any("sha256-" in tag for image in found.images for tag in image.tags)


def test_referrers_api_pages_are_followed() -> None:
    family = _own_family()
    app = _app(family)
    sbom = {**_provenance(family, app), "artifactType": "application/spdx+json"}  # listed first, any type
    with _serving(family) as server:
        _serve_app(server, app)
        server.state.referrers = {app["digest"]: [sbom, _provenance(family, app)]}
        server.state.page_limit = 1
        found = scan(server, "/team/web")
        asked = _referrer_requests(server)
    assert _web(found).base == BASE
    assert len(asked) == 2  # the probe (the app's first page), its second page


def test_an_image_listed_under_a_referrers_tag_is_no_image_of_the_users() -> None:
    """A ``sha256-<hex>`` tag lists referrers: an image-typed entry is not shown, nor tagged so."""
    family = _own_family()
    app = _app(family)
    stray = family.layout.add_image(BuiltImage.scratch(AMD64).run("ADD x /", {"x": b"stray"}))
    listing = referrers.add_referrers_index(family.layout, [_provenance(family, app), stray])
    with _serving(family) as server:
        _serve_app(server, app, (media.referrers_tag(app["digest"]), listing["digest"]))
        found = scan(server, "/team/web")
    assert [image.manifest_digest for image in found.images] == [app["digest"]]
    assert [tag.rsplit("/", 1)[1] for tag in found.images[0].tags] == ["web:1"]
    assert found.images[0].base == BASE


def test_an_image_tagged_like_a_referrers_list_is_still_an_image() -> None:
    """Only an index under a ``sha256-<hex>`` tag lists referrers: an image manifest a user
    tagged so is one of theirs (dropping it would lose data without a word)."""
    family = _own_family()
    app = _app(family)
    odd = family.layout.add_image(BuiltImage.scratch(AMD64).run("ADD y /", {"y": b"odd"}))
    odd_tag = media.referrers_tag("sha256:" + "c" * 64)
    with _serving(family) as server:
        _serve_app(server, app, (odd_tag, odd["digest"]))
        found = scan(server, "/team/web")
    assert sorted(image.manifest_digest for image in found.images) == sorted([app["digest"], odd["digest"]])
    (shown,) = [image for image in found.images if image.manifest_digest == odd["digest"]]
    assert [tag.rsplit("/", 1)[1] for tag in shown.tags] == [f"web:{odd_tag}"]


def test_provenance_about_an_index_names_the_base_of_each_platform_s_image() -> None:
    """cosign attests a multi-platform tag's index: what it says holds for every platform."""
    family = _own_family()
    images = [
        BuiltImage.scratch(platform)
        .run("ADD rootfs /", {"etc/os": str(platform).encode()})
        .run("RUN make", {"opt/app": b"app"})
        for platform in (AMD64, ARM64)
    ]
    index = family.layout.add_index(images, attestations=False)
    listing = referrers.add_referrers_index(family.layout, [_provenance(family, index)])
    with _serving(family) as server:
        _serve_app(server, index, (media.referrers_tag(index["digest"]), listing["digest"]))
        found = scan(server, "/team/web")
    assert len(found.images) == 2
    assert all(image.base == BASE for image in found.images)


def _one_note(found: Scan, code: str) -> str:
    notes = [d.message for d in found.diagnostics if d.code == code]
    assert len(notes) == 1, found.diagnostics
    assert "\n" not in notes[0]
    return notes[0]


def test_a_referrers_answer_that_is_no_index_is_one_note() -> None:
    family = _own_family()
    app = _app(family)
    with _serving(family) as server:
        _serve_app(server, app)
        server.state.referrers = {}
        server.state.referrers_body = b"<html>not an index</html>"
        found = scan(server, "/team/web")
    assert _web(found).base is None
    assert "its referrers list is not valid JSON" in _one_note(found, "referrers_unreadable")


@pytest.mark.parametrize("listed_by", ["referrers API", "referrers tag"])
def test_a_referrer_pointing_at_a_huge_or_missing_manifest_is_one_note_each(listed_by: str) -> None:
    family = _own_family()
    app = _app(family)
    huge = {**_provenance(family, app), "digest": "sha256:" + "e" * 64, "size": MAX_JSON_BYTES + 1}
    missing = {**_provenance(family, app), "digest": "sha256:" + "f" * 64}
    listing = referrers.add_referrers_index(family.layout, [huge, missing])
    with _serving(family) as server:
        if listed_by == "referrers API":
            _serve_app(server, app)
            server.state.referrers = {app["digest"]: [huge, missing]}
        else:
            _serve_app(server, app, (media.referrers_tag(app["digest"]), listing["digest"]))
        found = scan(server, "/team/web")
        fetched = [path for _, path in server.state.log if "e" * 64 in path]
    assert _web(found).base is None
    assert "more than" in _one_note(found, "blob_too_big")
    assert "f" * 64 in _one_note(found, "registry_missing")
    assert fetched == []  # refused by its descriptor's size, never asked for


def test_a_cosign_att_whose_dsse_payload_is_not_base64_is_one_note() -> None:
    family = _own_family()
    app = _app(family)
    envelope = referrers.dsse_envelope(b"", payload="%%% not base64 %%%")
    att = referrers.add_cosign_attestation(family.layout, [(envelope, referrers.SLSA_V02)])
    with _serving(family) as server:
        _serve_app(server, app, (media.referrers_tag(app["digest"]) + ".att", att["digest"]))
        found = scan(server, "/team/web")
    assert _web(found).base is None
    note = _one_note(found, "attestation_unreadable")
    assert note.endswith("its DSSE payload is not base64")
    assert f"/team/web@{app['digest']}: its attestation {att['digest']} is not used" in note


def test_a_referrers_route_that_fails_oddly_is_one_note_and_the_scan_goes_on() -> None:
    """A 401 with no challenge, on the referrers route only: the probe's note; the tag schema still read."""
    family = _own_family()
    app = _app(family)
    listing = referrers.add_referrers_index(family.layout, [_provenance(family, app)])
    with _serving(family) as server:
        _serve_app(server, app, (media.referrers_tag(app["digest"]), listing["digest"]))
        server.state.referrers_status = 401
        found = scan(server, "/team/web")
        assert len(_referrer_requests(server)) == 1
    assert _web(found).base == BASE
    note = _one_note(found, "referrers_unreadable")
    assert "its referrers API could not be asked" in note
    assert "(no WWW-Authenticate challenge)" in note


def test_referrers_api_pages_past_the_limit_are_said(monkeypatch: pytest.MonkeyPatch) -> None:
    family = _own_family()
    app = _app(family)
    monkeypatch.setattr(registry_client, "MAX_REFERRER_PAGES", 2)
    with _serving(family) as server:
        _serve_app(server, app)
        server.state.referrers = {
            app["digest"]: [_provenance(family, app, v) for v in (referrers.SLSA_V02,) * 3]
        }
        server.state.page_limit = 1
        found = scan(server, "/team/web")
        assert len(_referrer_requests(server)) == 2
    assert "was cut short: over 2 pages" in _one_note(found, "registry_cut")


def test_a_referrer_larger_than_its_descriptor_says_is_one_note_and_the_scan_goes_on() -> None:
    family = _own_family()
    app = _app(family)
    lying = family.layout.add_blob(b'{"pad": "' + b"x" * MAX_JSON_BYTES + b'"}', media.OCI_MANIFEST)
    with _serving(family) as server:
        _serve_app(server, app)
        server.state.referrers = {app["digest"]: [{**lying, "size": 100}, _provenance(family, app)]}
        found = scan(server, "/team/web")
    assert _web(found).base == BASE
    note = _one_note(found, "blob_too_big")
    assert lying["digest"] in note
    assert "is larger than a manifest or config should be (over 16 MiB): refused" in note


def test_sigstore_bundles_listed_by_the_referrers_api_one_provenance_one_signature() -> None:
    """What cosign 3 and GitHub's attest actions push to a registry with the referrers API."""
    family = _own_family()
    app = _app(family)
    statement = referrers.provenance_statement(
        app["digest"],
        name="team/app@1",
        base="team/base@1",
        base_digest=BASE_INDEX,
        version=referrers.SLSA_V1,
    )
    provenance = referrers.add_sigstore_bundle(family.layout, app, statement)
    signature = referrers.add_sigstore_bundle(family.layout, app, b"{}", predicate=referrers.COSIGN_SIGN)
    with _serving(family) as server:
        _serve_app(server, app)
        server.state.referrers = {app["digest"]: [signature, provenance]}
        found = scan(server, "/team/web")
    assert _web(found).base == BASE
    assert _one_note(found, "artifacts") == "1 attestation, 1 signature refer to this image"
