"""The Podman source against a real ``podman system service`` that the tests start.

Podman's service speaks the Docker Engine API, with its own habits: tags get a
``localhost/`` prefix, history ids are ``<missing>``, and each step's comment names the
image it was built ``FROM``. The ancestry rule must give the same tree all the same.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from image_lineage.bases import short_digest
from image_lineage.cli import main
from image_lineage.lineage import build_lineage
from image_lineage.sources import open_source
from testbed.podman import PodmanError, PodmanMissing, ThrowawayPodman
from tests.conftest import unavailable
from tests.support.recording_proxy import RecordingProxy, assert_read_only

pytestmark = pytest.mark.podman


@pytest.fixture(scope="module")
def podman() -> Iterator[ThrowawayPodman]:
    try:
        service = ThrowawayPodman().start()
    except (PodmanMissing, PodmanError) as error:
        unavailable(f"no throwaway podman service: {error}")
    yield service
    service.stop()


@pytest.fixture(scope="module")
def family(podman: ThrowawayPodman) -> dict[str, str]:
    """root (import) -> app (RUN) -> labelled (LABEL only) -> leaf (ENV, RUN); twin of app."""
    ids = {"root": podman.import_busybox("pm/root:1", extra_files={"etc/podman-test": "1"})}
    ids["app"] = podman.build(
        'FROM pm/root:1\nRUN ["/bin/busybox", "sh", "-c", "echo app > /app"]\n', "pm/app:1"
    )
    ids["labelled"] = podman.build("FROM pm/app:1\nLABEL team=data\n", "pm/labelled:1")
    ids["leaf"] = podman.build(
        'FROM pm/labelled:1\nENV MODE=prod\nRUN ["/bin/busybox", "sh", "-c", "echo leaf > /leaf"]\n',
        "pm/leaf:1",
    )
    ids["other"] = podman.build(
        'FROM pm/root:1\nRUN ["/bin/busybox", "sh", "-c", "echo other > /other"]\n', "pm/other:1"
    )
    return ids


def test_podman_images_form_the_same_tree(podman: ThrowawayPodman, family: dict[str, str]) -> None:
    scan = open_source(f"podman:{podman.host}", use_cache=False).scan()
    assert scan.source.kind == "podman"
    lineage = build_lineage(scan.images, scan.source, scan.diagnostics)
    name = {image_id: key for key, image_id in family.items()}
    parents = {key: name.get(lineage.node(image_id).parent or "") for key, image_id in family.items()}
    assert parents == {"root": None, "app": "root", "labelled": "app", "leaf": "labelled", "other": "root"}
    assert lineage.node(family["leaf"]).image.tags == ("localhost/pm/leaf:1",)
    labelled = lineage.node(family["labelled"])
    assert (labelled.added_layers, labelled.added_size) == (0, 0)
    assert all(node.parent_verified for node in lineage.nodes())


@pytest.mark.usefixtures("family")
def test_podman_scans_are_read_only(podman: ThrowawayPodman) -> None:
    with RecordingProxy(podman.socket_path) as proxy:
        for argv in (
            ["tree"],
            ["tree", "--all"],
            ["export", "-f", "json"],
            ["export", "-f", "dot", "--no-cache"],
        ):
            out = io.StringIO()
            assert (
                main([*argv, "--source", f"podman:{proxy.endpoint}"], stdout=out, stderr=io.StringIO()) == 0
            )
        requests = proxy.requests
    assert_read_only(requests)
    assert any(r.route.startswith("/images/sha256") or "/images/" in r.route for r in requests)


def test_podman_json_export(podman: ThrowawayPodman, family: dict[str, str]) -> None:
    out = io.StringIO()
    assert main(["export", "-f", "json", "--source", f"podman:{podman.host}"], stdout=out) == 0
    document: dict[str, Any] = json.loads(out.getvalue())
    assert document["source"]["kind"] == "podman"
    by_id = {image["id"]: image for image in document["images"]}
    assert by_id[family["leaf"]]["parent"] == family["labelled"]


def test_podman_builds_name_their_base_by_annotation_even_once_it_is_gone(podman: ThrowawayPodman) -> None:
    """buildah writes ``org.opencontainers.image.base.name``/``.digest`` on each manifest it
    builds; Podman's own inspect (libpod's) names them, the Docker API's does not. The edge is
    known by that annotation; with the base removed, the image still names it (not here)."""
    podman.import_busybox("pm/anno-base:1", extra_files={"etc/anno": "1"})
    dockerfile = 'FROM pm/anno-base:1\nRUN ["/bin/busybox", "sh", "-c", "echo c > /c"]\n'
    child = podman.build(dockerfile, "pm/anno:1")
    scan = open_source(f"podman:{podman.host}", use_cache=False).scan()
    lineage = build_lineage(scan.images, scan.source, scan.diagnostics)
    node = lineage.node(child)
    assert node.image.base is not None
    assert (node.image.base.kind, node.image.base.reference) == ("annotation", "localhost/pm/anno-base:1")
    assert node.parent is not None
    assert node.known_by == "annotation"

    podman.podman("rmi", "pm/anno-base:1")  # the child's layers keep the base's: only the tag goes
    out = io.StringIO()
    argv = ["tree", "--source", f"podman:{podman.host}", "--no-cache"]
    assert main(argv, stdout=out, stderr=io.StringIO()) == 0
    outside = [line for line in out.getvalue().splitlines() if "pm/anno-base" in line]
    digest = short_digest(node.image.base.digest)
    assert outside == [f"built on localhost/pm/anno-base:1 @ {digest} (not here)"]
