"""The registry source against a real registry (Debian's docker-registry on 127.0.0.1).

Images are built on the suite's dockerd, saved, and pushed with skopeo; the registry
never pulls anything from outside. The tree read from the registry must be the tree
the engine shows, with the same image ids (config digests), and reading it must send
nothing but GET requests (the registry's own log says which it served).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from image_lineage.cli import main
from image_lineage.lineage import build_lineage
from image_lineage.sources import open_source
from tests.conftest import unavailable
from tests.harness.registry import RegistryError, RegistryMissing, ThrowawayRegistry
from tests.integration.test_docker_engine import legacy_family

pytestmark = pytest.mark.docker

FAMILY = ["root", "app", "labelled", "leaf"]


@pytest.fixture(scope="module")
def registry() -> Iterator[ThrowawayRegistry]:
    try:
        service = ThrowawayRegistry().start()
    except (RegistryMissing, RegistryError) as error:
        unavailable(f"no throwaway registry: {error}")
    yield service
    service.stop()


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
    already = len(registry.requests())
    out = io.StringIO()
    assert main(["export", "-f", "json", "--source", f"registry:{registry.url}/team/leaf"], stdout=out) == 0
    document = json.loads(out.getvalue())
    assert [image["id"] for image in document["images"]] == [pushed["leaf"]]
    assert main(["tree", "--source", f"registry:{registry.url}"], stdout=io.StringIO()) == 0
    served = registry.requests()[already:]
    assert served, "the registry logged no request: nothing was checked"
    assert {method for method, _ in served} <= {"GET", "HEAD"}, served
    assert any(path.startswith("/v2/team/leaf/blobs/sha256:") for _, path in served)


def test_an_unreachable_registry_is_one_line() -> None:
    err = io.StringIO()
    assert main(["tree", "--source", "registry:http://127.0.0.1:1"], stderr=err) == 1
    assert err.getvalue().count("\n") == 1
    assert "Cannot reach the registry at http://127.0.0.1:1" in err.getvalue()


@pytest.mark.usefixtures("pushed")
def test_the_app_reads_a_registry(registry: ThrowawayRegistry) -> None:
    import streamlit as st  # noqa: PLC0415

    from tests.test_app import dot, names_in, ok, start  # noqa: PLC0415

    st.cache_data.clear()
    at = start("registry")
    ok(at)
    at.text_input(key="registry_url").input(f"{registry.url}/team/leaf").run()
    ok(at)
    assert names_in(dot(at)) == {f"{registry.address}/team/leaf:1"}
    st.cache_data.clear()
