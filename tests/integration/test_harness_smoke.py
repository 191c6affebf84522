"""Smoke test for the throwaway-dockerd harness (testbed/dockerd.py).

Starts a private dockerd, imports the busybox root, builds a 2-step image
with the legacy builder, checks ``docker images`` lists it, restarts the
daemon on the same data root, and stops it.

Without dockerd/docker/busybox (or without root) the test is skipped with
the reason, except under CI (``CI=true``), where that is a failure: CI must
install ``docker.io busybox-static``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from testbed.dockerd import (  # noqa: E402
    DockerCommandError,
    DockerToolsMissing,
    ThrowawayDockerd,
    require_docker_tools,
)

pytestmark = pytest.mark.docker


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture
def own_dockerd() -> Iterator[ThrowawayDockerd]:
    problem = None
    try:
        require_docker_tools()
    except DockerToolsMissing as exc:
        problem = str(exc)
    if problem is not None:
        if _in_ci():
            pytest.fail(f"CI=true but the docker harness cannot run: {problem}", pytrace=False)
        pytest.skip(f"docker harness unavailable: {problem}")
    # Its own daemon, not the session-wide ``dockerd`` fixture of conftest.py:
    # this test restarts it.
    d = ThrowawayDockerd(start_timeout=60.0)
    try:
        d.start()
        yield d
    finally:
        d.stop()
        assert not d.dir.exists(), f"harness left {d.dir} behind"


def test_harness_builds_and_lists_an_image(own_dockerd: ThrowawayDockerd) -> None:
    assert own_dockerd.host.startswith("unix:///")
    assert own_dockerd.env["DOCKER_HOST"] == own_dockerd.host
    assert own_dockerd.env["DOCKER_BUILDKIT"] == "0"

    base_id = own_dockerd.import_busybox("smoke/busybox-root:latest")
    assert base_id.startswith("sha256:")

    image_id = own_dockerd.build(
        "FROM smoke/busybox-root:latest\n"
        "RUN mkdir -p /opt/app && head -c 100000 /dev/urandom > /opt/app/blob\n"
        'CMD ["cat", "/opt/app/blob"]\n',
        "smoke/two-step:1",
    )
    assert image_id.startswith("sha256:")

    listed = own_dockerd.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout
    assert f"smoke/two-step:1 {image_id[7:19]}" in listed.splitlines()

    # The RUN step really ran inside a container.
    out = own_dockerd.docker("run", "--rm", "smoke/two-step:1", "wc", "-c", "/opt/app/blob").stdout
    assert out.split()[0] == "100000"

    # Legacy builder: the image's Parent is its build-step predecessor.
    parent = own_dockerd.docker("image", "inspect", "--format", "{{.Parent}}", image_id).stdout.strip()
    assert parent.startswith("sha256:")
    assert parent != base_id

    # Stop and start again on the same data root: the image survives.
    own_dockerd.restart()
    assert image_id in own_dockerd.image_ids()


def test_docker_errors_carry_stderr(own_dockerd: ThrowawayDockerd) -> None:
    with pytest.raises(DockerCommandError) as info:
        own_dockerd.docker("image", "inspect", "no-such/image:here")
    assert "no-such/image:here" in str(info.value)
