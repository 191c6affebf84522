"""The registry source against a real registry (Debian's docker-registry on 127.0.0.1).

Images are built on the suite's dockerd, saved, and pushed with skopeo, or written as a
multi-platform OCI layout (``testbed/oci_layout.py``) and pushed with every platform
(``skopeo copy --all``); the registry never pulls anything from outside. The tree read from
the registry must be the tree the engine shows, with the same image ids (config digests),
every platform a record; reading it must send nothing but GET and HEAD requests, and a warm
scan nothing but tag lists and HEADs (the registry's own access log says what it served).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import main
from image_lineage.lineage import build_lineage
from image_lineage.sources import open_source, registry_client
from testbed.oci_layout import OCI_REF_NAME_KEY, Family, lineage_family
from testbed.registry import RegistryError, RegistryMissing, ThrowawayRegistry
from tests.conftest import unavailable
from tests.integration.test_docker_engine import legacy_family
from tests.support.registry_requests import request_kind

pytestmark = pytest.mark.docker

FAMILY = ["root", "app", "labelled", "leaf"]


@pytest.fixture(scope="module")
def registry(anonymous_registry: ThrowawayRegistry) -> ThrowawayRegistry:
    return anonymous_registry


@pytest.fixture(scope="module")
def pushed(
    dockerd: Any, registry: ThrowawayRegistry, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The legacy family, pushed as team/<name>:1, plus a second tag of the leaf."""
    ids = legacy_family(dockerd, "pushed")
    archive = tmp_path_factory.mktemp("push") / "family.tar"
    dockerd.docker("save", "-o", str(archive), *(f"pushed/{name}:1" for name in FAMILY))
    for name in FAMILY:
        registry.push(archive, f"pushed/{name}:1", f"team/{name}:1")
    registry.push(archive, "pushed/leaf:1", "team/leaf:stable")
    return ids


def test_the_registry_tree_is_the_engine_tree(registry: ThrowawayRegistry, pushed: dict[str, str]) -> None:
    scan = open_source(f"registry:{registry.url}").scan()
    assert scan.source.kind == "registry"
    lineage = build_lineage(scan.images, scan.source, scan.diagnostics)
    assert {n.id for n in lineage.nodes()} == set(pushed.values())  # same config digests as the engine's ids
    name = {image_id: key for key, image_id in pushed.items()}
    assert {key: name.get(lineage.node(i).parent or "") for key, i in pushed.items()} == {
        "root": None,
        "app": "root",
        "labelled": "app",
        "leaf": "labelled",
    }
    leaf = lineage.node(pushed["leaf"])
    assert leaf.image.tags == (f"{registry.address}/team/leaf:1", f"{registry.address}/team/leaf:stable")
    assert leaf.image.digests[0].startswith(f"{registry.address}/team/leaf@sha256:")
    assert any(d.code == "registry_sizes" for d in scan.diagnostics)


def test_one_repository_and_read_only(registry: ThrowawayRegistry, pushed: dict[str, str]) -> None:
    already = len(served_requests(registry))
    out = io.StringIO()
    assert main(["export", "-f", "json", "--source", f"registry:{registry.url}/team/leaf"], stdout=out) == 0
    document = json.loads(out.getvalue())
    assert [image["id"] for image in document["images"]] == [pushed["leaf"]]
    assert main(["tree", "--source", f"registry:{registry.url}"], stdout=io.StringIO()) == 0
    served = served_requests(registry)[already:]
    assert served, "the registry logged no request: nothing was checked"
    assert {method for method, _ in served} <= {"GET", "HEAD"}, served
    assert any(path.startswith("/v2/team/leaf/blobs/sha256:") for _, path in served)


def test_an_unreachable_registry_is_one_line() -> None:
    err = io.StringIO()
    assert main(["tree", "--source", "registry:http://127.0.0.1:1"], stderr=err) == 1
    assert err.getvalue().count("\n") == 1
    assert "Cannot reach the registry at http://127.0.0.1:1" in err.getvalue()


@pytest.fixture
def app_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``tests/app/test_app.py``'s autouse fixture does there: record the trees the page draws."""
    from tests.app.test_app import record_trees  # noqa: PLC0415 - Streamlit only for this test

    record_trees(monkeypatch)


@pytest.mark.usefixtures("pushed", "app_trees")
def test_the_app_reads_a_registry(registry: ThrowawayRegistry) -> None:
    import streamlit as st  # noqa: PLC0415

    from tests.app.test_app import dot, names_in, ok, start  # noqa: PLC0415

    st.cache_data.clear()
    at = start("registry")
    ok(at)
    at.text_input(key="registry_url").input(f"{registry.url}/team/leaf").run()
    ok(at)
    assert names_in(dot(at)) == {f"{registry.address}/team/leaf:1"}
    st.cache_data.clear()


# ------------------------------------------------------------------ multi-platform, fast and polite

# The access log line of every request: ``"HEAD /v2/x/manifests/1 HTTP/1.1" 200``. (The
# structured log quotes a URI only when it holds a '?', so it is not read here.)
_ACCESS = re.compile(r'"([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3}) ')


def served_requests(registry: ThrowawayRegistry) -> list[tuple[str, str]]:
    """(method, path) of every request the registry served, from its access log, in order."""
    return [(m, p) for m, p, _ in _ACCESS.findall(registry.log_path.read_text(errors="replace"))]


def push_family(registry: ThrowawayRegistry, family: Family, folder: Path, repository: str = "team") -> Path:
    """Push every tag of ``family`` with all its platforms as ``<repository>/<name>:<tag>``.

    skopeo finds an image in an OCI archive by ``org.opencontainers.image.ref.name``, which
    the layout sets to the bare tag (``1``, the same for every image): each gets its own here.
    """
    entries: list[dict[str, Any]] = []
    for entry in family.layout.entries:
        tagged = {**entry, "annotations": {**entry["annotations"]}}
        tagged["annotations"][OCI_REF_NAME_KEY] = f"ref{len(entries)}"
        entries.append(tagged)
    archive = folder / "family.tar"
    archive.write_bytes(dataclasses.replace(family.layout, entries=entries).tar_bytes())
    for number, tag in enumerate(family.targets):
        name, version = tag.rsplit(":", 1)
        registry.copy(f"oci-archive:{archive}:ref{number}", f"{repository}/{name.split('/')[-1]}:{version}")
    return archive


@pytest.fixture(scope="module")
def platforms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThrowawayRegistry, Family]]:
    """A registry of its own holding the multi-platform family (amd64 + arm64, attestations)."""
    try:
        service = ThrowawayRegistry().start()
    except (RegistryMissing, RegistryError) as error:
        unavailable(f"no throwaway registry: {error}")
    family = lineage_family(prefix="multi")
    try:
        archive = push_family(service, family, tmp_path_factory.mktemp("multi"))
        for extra in ("2", "3"):  # more tags than a small page holds (base:1 is ref0)
            service.copy(f"oci-archive:{archive}:ref0", f"team/base:{extra}")
        yield service, family
    finally:
        service.stop()


def _export(url: str, *extra: str) -> dict[str, Any]:
    out = io.StringIO()
    assert (
        main(["export", "-f", "json", "--platform", "all", *extra, "--source", f"registry:{url}"], stdout=out)
        == 0
    )
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


def test_every_platform_of_a_pushed_index_is_a_record(platforms: tuple[ThrowawayRegistry, Family]) -> None:
    registry, family = platforms
    scan = open_source(f"registry:{registry.url}").scan()
    expected = {i.config_digest: (tag, p) for tag, images in family.images.items() for p, i in images.items()}
    assert {image.id for image in scan.images} == set(expected)  # attestations are no records
    lineage = build_lineage(scan.images, scan.source, scan.diagnostics)
    for image in scan.images:
        tag, platform = expected[image.id]
        built = family.images[tag][platform]
        assert image.platform == platform
        assert image.size_kind == "compressed"
        assert image.size == sum(layer.size for layer in built.layers)
        assert image.manifest_digest
        if tag != "multi/single:1":
            assert image.index_digest == family.targets[tag]
            assert image.index_platforms == tuple(sorted((p, True) for p in family.images[tag]))
        parent = lineage.node(image.id).parent
        assert (expected[parent] if parent else None) == family.parents[(tag, platform)]
    attached = [d for d in scan.diagnostics if d.code == "artifacts"]
    assert len(attached) == 9  # one attestation per platform of every index
    assert {d.message for d in attached} == {"1 attestation refers to this image"}


def test_a_warm_scan_sends_only_tag_lists_and_heads(platforms: tuple[ThrowawayRegistry, Family]) -> None:
    registry, _ = platforms
    cold = _export(registry.url)
    already = len(served_requests(registry))
    warm = _export(registry.url)
    assert warm["images"] == cold["images"]
    served = served_requests(registry)[already:]
    kinds = [(method, request_kind(path)) for method, path in served]
    assert set(kinds) == {("GET", "catalog"), ("GET", "tags"), ("HEAD", "manifest"), ("GET", "referrers")}, (
        served
    )
    assert sum(method == "HEAD" for method, _ in served) == 8  # 6 tags, and base:2 and base:3
    assert kinds.count(("GET", "referrers")) == 1  # one probe: distribution 2.8 has no referrers API


def test_catalog_and_tags_are_read_in_pages(
    platforms: tuple[ThrowawayRegistry, Family], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, family = platforms
    monkeypatch.setattr(registry_client, "PAGE_SIZE", 2)
    already = len(served_requests(registry))
    scan = open_source(f"registry:{registry.url}").scan()
    assert len(scan.images) == sum(len(images) for images in family.images.values())
    base = next(i for i in scan.images if any(t.endswith("/team/base:3") for t in i.tags))
    assert [t.rsplit(":", 1)[1] for t in base.tags] == ["1", "2", "3"]
    paths = [path for _, path in served_requests(registry)[already:]]
    assert sum(p.startswith("/v2/_catalog") for p in paths) == 3, paths  # 6 repositories
    # distribution 2.8 sends a whole tag list whatever ?n= asks (3.0 pages it): the unit
    # tests (tests/unit/test_registry_protocol.py) follow tag-list pages.
    assert "/v2/team/base/tags/list?n=2" in paths


@pytest.mark.parametrize("what", ["config", "platform manifest"])
def test_a_tampered_blob_in_the_registry_is_refused(tmp_path: Path, what: str) -> None:
    try:
        registry = ThrowawayRegistry().start()
    except (RegistryMissing, RegistryError) as error:
        unavailable(f"no throwaway registry: {error}")
    try:
        family = lineage_family(prefix="tampered")
        push_family(registry, family, tmp_path)
        arm = family.images["tampered/base:1"]["linux/arm64"]
        manifest = next(d for d, image in family.layout.images.items() if image is arm)
        digest = arm.config_digest if what == "config" else manifest
        stored = registry.dir / "data/docker/registry/v2/blobs/sha256" / digest[7:9] / digest[7:] / "data"
        stored.write_bytes(stored.read_bytes() + b" ")  # the same JSON; only the digest tells
        document = _export(f"{registry.url}/team/base")
        assert [image["architecture"] for image in document["images"]] == ["amd64"]
        refused = [d for d in document["diagnostics"] if d["code"] == "digest_mismatch"]
        assert len(refused) == 1, document["diagnostics"]
        assert digest in refused[0]["message"]
        assert "does not match its digest: refused, not trusted" in refused[0]["message"]
    finally:
        registry.stop()
