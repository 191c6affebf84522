"""The tool is read-only: every request it sends to an engine is a GET or HEAD.

A ``RecordingProxy`` sits in front of the session dockerd. Every CLI command (each
export format, snapshot, focus and filter, ``--all``, ``files``), with ``--no-cache``, with a
cold cache and with a warm one, then the docker-py transport and the app's scan
(``web.read_source``) read through it, and ``assert_read_only`` checks what it saw.
Each run must also have asked about every listed image (a warm run: have listed
them), so a scan that read nothing, or read around the proxy, cannot pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Set
from pathlib import Path
from typing import Any

import pytest

from image_lineage.render import BINARY_FORMATS, FORMATS
from image_lineage.sources.engine import transport as docker_engine
from image_lineage.sources.engine.transport import SdkTransport
from tests.support.cli import run_cli
from tests.support.recording_proxy import RecordingProxy, Request, assert_read_only, inspected_images

pytestmark = pytest.mark.docker

SCENARIO = "readonly"


@pytest.fixture(scope="module")
def family(dockerd: Any) -> dict[str, str]:
    """root -> app (RUN) -> leaf (ENV + RUN: leaves one hidden intermediate image)."""
    ids = {"root": dockerd.import_busybox(f"{SCENARIO}/root:1", extra_files={f"etc/{SCENARIO}": SCENARIO})}
    ids["app"] = dockerd.build(f"FROM {SCENARIO}/root:1\nRUN echo app > /app.txt\n", f"{SCENARIO}/app:1")
    ids["leaf"] = dockerd.build(
        f"FROM {SCENARIO}/app:1\nENV MODE=prod\nRUN echo leaf > /leaf.txt\n", f"{SCENARIO}/leaf:1"
    )
    return ids


@pytest.fixture
def proxy(dockerd: Any) -> Iterator[RecordingProxy]:
    with RecordingProxy(dockerd.socket_path) as recording:
        yield recording


def export(fmt: str, *extra: str) -> list[str]:
    output = ["-o", f"{{out}}.{fmt}"] if fmt in BINARY_FORMATS else []
    return ["export", "-f", fmt, *output, *extra]


COMMANDS = [
    pytest.param(["tree"], id="tree"),
    pytest.param(["tree", "--all"], id="tree-all"),
    pytest.param(["tree", "--ascii", "--focus", f"{SCENARIO}/app:1"], id="tree-focus"),
    pytest.param(["tree", "--filter", f"^{SCENARIO}/"], id="tree-filter"),
    *(pytest.param(export(fmt), id=f"export-{fmt}") for fmt in FORMATS),
    pytest.param(export("json", "--all", "--focus", f"{SCENARIO}/leaf:1"), id="export-json-all-focus"),
    pytest.param(export("svg", "--filter", "leaf", "--rankdir", "LR"), id="export-svg-filter"),
    pytest.param(["files", f"{SCENARIO}/leaf:1"], id="files"),  # its layers: the engine's export
    pytest.param(["snapshot", "-o", "{out}.snapshot.json"], id="snapshot"),
    pytest.param(["snapshot", "--all", "-o", "{out}.snapshot.json"], id="snapshot-all"),
]


def assert_asked_about(
    requests: list[Request], image_ids: set[str], step_images: Set[str] = frozenset()
) -> None:
    """Both details requests (inspect and history) went out for these images, and at most
    for the legacy builder's step images besides (asked for only where a history fits its
    layers in several ways: they say which step made which layer)."""
    for route in ("json", "history"):
        asked = inspected_images(requests, route)
        assert image_ids <= asked <= image_ids | step_images


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_only_reads(
    command: list[str], dockerd: Any, family: dict[str, str], proxy: RecordingProxy, tmp_path: Path
) -> None:
    argv = [arg.replace("{out}", str(tmp_path / "out")) for arg in command]
    listed = set(dockerd.image_ids(all="--all" in argv))
    assert set(family.values()) <= listed | set(dockerd.image_ids(all=True))
    # --no-cache, then a cold cache (filled by this run), then a warm one (only lists).
    for cache, details_expected in ((["--no-cache"], True), ([], True), ([], False)):
        proxy.clear()
        result = run_cli([*argv, *cache, "--source", f"docker:{proxy.endpoint}"])
        assert result.code == 0, result.stderr
        requests = proxy.requests
        assert_read_only(requests)
        assert any(r.route == "/images/json" for r in requests)
        assert proxy.connections < len(requests)  # keep-alive connections were reused
        assert_asked_about(requests, listed if details_expected else set(), set(dockerd.image_ids(all=True)))
        if argv[0] == "files":  # its layers: one export, and none once the listings are kept
            assert [r.route for r in requests].count("/images/get") == (1 if details_expected else 0)
    for written in tmp_path.glob("out.*"):
        assert written.stat().st_size > 0


def test_the_docker_py_transport_only_reads(
    dockerd: Any, family: dict[str, str], proxy: RecordingProxy
) -> None:
    """TLS and SSH endpoints go through docker-py: the same few GETs."""
    transport = SdkTransport(proxy.endpoint, 30.0)
    try:
        assert transport.version()["ApiVersion"]
        listed = {str(summary["Id"]) for summary in transport.images(include_intermediate=True)}
        for image_id in sorted(listed):
            inspect, history = transport.details(image_id)
            assert inspect["Id"] == image_id
            assert history
    finally:
        transport.close()
    assert listed == set(dockerd.image_ids(all=True)) >= set(family.values())
    assert_read_only(proxy.requests)
    assert_asked_about(proxy.requests, listed, set(dockerd.image_ids(all=True)))


@pytest.mark.usefixtures("family")
def test_a_cli_scan_through_docker_py_only_reads(
    dockerd: Any, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docker_engine, "connect", docker_engine.SdkTransport)
    result = run_cli(["export", "-f", "json", "--all", "--no-cache", "--source", f"docker:{proxy.endpoint}"])
    assert result.code == 0, result.stderr
    assert_read_only(proxy.requests)
    assert_asked_about(proxy.requests, set(dockerd.image_ids(all=True)))


def test_the_app_scan_only_reads(dockerd: Any, family: dict[str, str], proxy: RecordingProxy) -> None:
    """What the web page calls to read an engine (``web.read_source``), shown and hidden images."""
    from image_lineage import web  # noqa: PLC0415 - imports Streamlit: only this test needs it

    for include_intermediate in (False, True):
        loaded = web.read_source(f"docker:{proxy.endpoint}", include_intermediate=include_intermediate)
        assert loaded.problem is None
        assert loaded.scan is not None
        assert {i.id for i in loaded.scan.images} >= set(family.values())
    assert_read_only(proxy.requests)
    # The second scan finds the shown images in the cache and asks only about the hidden ones.
    assert_asked_about(proxy.requests, set(dockerd.image_ids(all=True)))


@pytest.mark.parametrize(
    ("requests", "complaint"),
    [
        pytest.param([], "no requests were recorded", id="nothing-seen"),
        pytest.param(
            [Request("GET", "/version"), Request("POST", "/v1.41/images/x/tag?repo=y")],
            "1 of 2 requests were not read-only: POST /v1.41/images/x/tag",
            id="a-write",
        ),
        pytest.param([Request("DELETE", "/v1.41/images/x")], "DELETE", id="a-delete"),
    ],
)
def test_assert_read_only_fails_on_writes_and_on_nothing(requests: list[Request], complaint: str) -> None:
    with pytest.raises(AssertionError, match=complaint.replace("?", r"\?")):
        assert_read_only(requests)
