"""Provenance a registry keeps *beside* an image, against a real registry (Debian's docker-registry).

Four images are built on ``team/base:1`` (a multi-platform index, never pushed: the base is
"deleted"), each pushed with ``skopeo copy`` with its SLSA provenance attached beside it, as
registries without the OCI 1.1 referrers API keep it:

* as a referrer (an artifact manifest whose ``subject`` is the image's manifest) listed in the
  index tagged ``sha256-<hex>`` (the referrers tag schema), SLSA v0.2 and v1;
* as cosign's ``sha256-<hex>.att``: a manifest of DSSE envelopes, SLSA v0.2 and v1.

Each image must still name its base, as an outside node ("not here"); the ``sha256-<hex>``
tags must name no image; reading must send GET and HEAD only, and ask the referrers API once
(distribution 2.8 has none: its 404 is remembered). With a rebuilt ``team/base:1`` pushed,
``stale`` names all four by their provenance. The referrers API itself is exercised in
``tests/unit/test_registry_referrers.py`` against an in-process registry (no registry with
the API is packaged here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from image_lineage.model import BaseEvidence
from image_lineage.sources import open_source
from image_lineage.sources.oci import media
from testbed import referrers
from testbed.oci_layout import AMD64, ARM64, OCI_REF_NAME_KEY, Image, OciLayout
from testbed.registry import RegistryError, RegistryMissing, ThrowawayRegistry
from tests.conftest import unavailable
from tests.integration.test_registry import served_requests
from tests.support.cli import run_cli

#: image name -> (how its provenance is attached, SLSA version)
ATTACHED = {
    "ref-v02": ("referrer", referrers.SLSA_V02),
    "ref-v1": ("referrer", referrers.SLSA_V1),
    "cosign-v02": ("cosign", referrers.SLSA_V02),
    "cosign-v1": ("cosign", referrers.SLSA_V1),
}


@dataclass
class Attached:
    """The layout to push, and what each image is: its config digest (id), its manifest."""

    archive: Path
    tags: dict[str, str]  # destination repo:tag -> ref name in the archive
    ids: dict[str, str]  # image name -> config digest
    base_index: str  # the digest every provenance names for team/base:1
    rebuilt_base: str  # the tag of a newer team/base:1 build (pushed by the stale test only)


def _attached(folder: Path) -> Attached:
    base = {p: Image.scratch(p).run("ADD rootfs /", {"etc/os": f"base {p}".encode()}) for p in (AMD64, ARM64)}
    rebuilt = {
        p: Image.scratch(p).run("ADD rootfs2 /", {"etc/os": f"new {p}".encode()}) for p in (AMD64, ARM64)
    }
    layout = OciLayout()
    base_index = layout.add_index(base.values(), attestations=False)["digest"]  # named, never pushed
    tags: dict[str, str] = {}
    ids: dict[str, str] = {}

    def push(descriptor: dict[str, Any], destination: str) -> None:
        ref = f"ref{len(tags)}"
        entry = {k: v for k, v in descriptor.items() if k != "platform"}
        layout.entries.append({**entry, "annotations": {OCI_REF_NAME_KEY: ref}})
        tags[destination] = ref

    push(layout.add_index(rebuilt.values(), attestations=False), "team/base:1")
    for name, (how, version) in ATTACHED.items():
        app = base[AMD64].run(f"RUN make {name}", {"opt/app": name.encode()})
        manifest = layout.add_image(app)
        ids[name] = app.config_digest
        push(manifest, f"team/{name}:1")
        statement = referrers.provenance_statement(
            manifest["digest"],
            name=f"team/{name}@1",
            base="team/base@1",
            base_digest=base_index,
            version=version,
        )
        if how == "referrer":
            referrer = referrers.add_referrer(layout, manifest, statement, predicate=version)
            listing = referrers.add_referrers_index(layout, [referrer])
            push(listing, f"team/{name}:{media.referrers_tag(manifest['digest'])}")
        else:
            att = referrers.add_cosign_attestation(layout, [(referrers.dsse_envelope(statement), version)])
            push(att, f"team/{name}:{media.referrers_tag(manifest['digest'])}.att")
    # A cosign attestation whose DSSE payload is not base64: one note, no base, the scan goes on.
    broken = base[AMD64].run("RUN make broken", {"opt/app": b"broken"})
    manifest = layout.add_image(broken)
    ids["broken"] = broken.config_digest
    push(manifest, "team/broken:1")
    envelope = referrers.dsse_envelope(b"", payload="*** not base64 ***")
    att = referrers.add_cosign_attestation(layout, [(envelope, referrers.SLSA_V1)])
    push(att, f"team/broken:{media.referrers_tag(manifest['digest'])}.att")
    archive = folder / "attached.tar"
    archive.write_bytes(layout.tar_bytes())
    return Attached(archive, tags, ids, base_index, "team/base:1")


def _registry() -> ThrowawayRegistry:
    try:
        return ThrowawayRegistry().start()
    except (RegistryMissing, RegistryError) as error:
        unavailable(f"no throwaway registry: {error}")
        raise


def _push(registry: ThrowawayRegistry, attached: Attached, *, with_rebuilt_base: bool) -> None:
    for destination, ref in attached.tags.items():
        if destination != attached.rebuilt_base or with_rebuilt_base:
            registry.copy(f"oci-archive:{attached.archive}:{ref}", destination)


@pytest.fixture(scope="module")
def attached(tmp_path_factory: pytest.TempPathFactory) -> Attached:
    return _attached(tmp_path_factory.mktemp("referrers"))


@pytest.fixture(scope="module")
def without_base(attached: Attached) -> Iterator[ThrowawayRegistry]:
    """The images and their attestations, and no team/base:1 at all."""
    registry = _registry()
    try:
        _push(registry, attached, with_rebuilt_base=False)
        yield registry
    finally:
        registry.stop()


def test_each_image_names_its_base_from_the_provenance_beside_it(
    without_base: ThrowawayRegistry, attached: Attached
) -> None:
    scan = open_source(f"registry:{without_base.url}").scan()
    bases = {image.id: image.base for image in scan.images}
    expected = BaseEvidence("provenance", "team/base:1", attached.base_index)
    assert {name: bases[attached.ids[name]] for name in ATTACHED} == dict.fromkeys(ATTACHED, expected)
    assert bases[attached.ids["broken"]] is None
    assert len(scan.images) == len(ATTACHED) + 1  # the sha256-<hex> tags name no image
    assert not any("sha256-" in tag for image in scan.images for tag in image.tags)
    (note,) = [d for d in scan.diagnostics if d.code == "attestation_unreadable"]
    assert note.message.endswith("its DSSE payload is not base64")
    attached_notes = [d.message for d in scan.diagnostics if d.code == "artifacts"]
    assert attached_notes == ["1 attestation refers to this image"] * (len(ATTACHED) + 1)


def test_the_tree_shows_the_base_that_is_not_here(
    without_base: ThrowawayRegistry, attached: Attached
) -> None:
    already = len(served_requests(without_base))
    result = run_cli(["tree", "--source", f"registry:{without_base.url}", "--no-cache"])
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    outside = f"built on team/base:1 @ {attached.base_index[:19]}… (not here)"
    assert outside in lines, result.stdout
    at = lines.index(outside) + 1
    under = [line.split()[1].split("/", 1)[1] for line in lines[at : at + len(ATTACHED)]]
    assert sorted(under) == sorted(f"team/{name}:1" for name in ATTACHED)
    served = served_requests(without_base)[already:]
    assert {method for method, _ in served} <= {"GET", "HEAD"}, served
    assert sum("/referrers/" in path for _, path in served) == 1  # one probe, its 404 remembered


def test_a_warm_scan_asks_for_nothing_more_than_before(without_base: ThrowawayRegistry) -> None:
    cold = open_source(f"registry:{without_base.url}").scan()
    already = len(served_requests(without_base))
    warm = open_source(f"registry:{without_base.url}").scan()
    assert [i.base for i in warm.images] == [i.base for i in cold.images]
    served = served_requests(without_base)[already:]
    assert {method for method, path in served if "/manifests/" in path} == {"HEAD"}, served
    assert not any("/blobs/" in path for _, path in served)
    assert sum("/referrers/" in path for _, path in served) == 1


def test_stale_names_every_image_by_the_provenance_beside_it(attached: Attached) -> None:
    registry = _registry()
    try:
        _push(registry, attached, with_rebuilt_base=True)
        result = run_cli(["stale", "--source", f"registry:{registry.url}", "-f", "json", "--no-cache"])
    finally:
        registry.stop()
    assert result.code == 1, result.stderr
    document = json.loads(result.stdout)
    found = {image["id"]: image["found_by"] for group in document["groups"] for image in group["images"]}
    assert found == {attached.ids[name]: "provenance" for name in ATTACHED}
