"""``image-lineage stale`` on real images: the issue's example, for real.

Images are built on the suite's dockerd with the legacy builder from a busybox import:
a base ``<scenario>/base:1``, two images built on it, then the base built again with
``--no-cache`` under the same tag. Either the engine keeps both bases (the old one
dangling), or (the issue's example) the newer build is pushed to a throwaway registry
and the engine's ``base:1`` goes back to the old build, as on a machine that never
pulled the new one: ``--source docker:… --source registry:…`` finds the two images.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from testbed.registry import ThrowawayRegistry
from tests.integration.test_docker_engine import build, fresh_base
from tests.support.cli import run_cli

pytestmark = pytest.mark.docker

BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"


def built_on_a_base_then_rebuilt(daemon: Any, scenario: str) -> dict[str, str]:
    """ids of ``old`` and ``new`` builds of ``<scenario>/base:1`` and of ``app``, ``tool`` on the old.

    ``app`` says what it was built on in its OCI labels (base.name, and base.digest: the old
    base's id, the only digest a never-pushed image has); ``tool`` does not.
    """
    fresh_base(daemon, scenario)
    base = f"FROM {scenario}/root:1\nRUN echo base > /base.txt"
    ids = {"old": build(daemon, f"{scenario}/base:1", base)}
    ids["app"] = build(
        daemon,
        f"{scenario}/app:1",
        f"FROM {scenario}/base:1\nRUN echo app > /app.txt",
        "--label",
        f"{BASE_NAME}={scenario}/base:1",
        "--label",
        f"{BASE_DIGEST}={ids['old']}",
    )
    ids["tool"] = build(daemon, f"{scenario}/tool:1", f"FROM {scenario}/base:1\nRUN echo tool > /tool.txt")
    time.sleep(1.1)  # histories count whole seconds: the rebuild's steps are later
    ids["new"] = build(daemon, f"{scenario}/base:1", base, "--no-cache")
    assert ids["new"] != ids["old"]
    return ids


def test_the_engine_alone_keeps_the_old_base_dangling(dockerd: Any) -> None:
    ids = built_on_a_base_then_rebuilt(dockerd, "stalelocal")
    source = f"docker:{dockerd.host}"
    result = run_cli(["stale", "--source", source, "--filter", "^stalelocal/", "--no-cache"])
    assert result.code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2 images to rebuild, on 1 outdated base:"
    assert lines[2].startswith(f"stalelocal/base:1 now names {ids['new'][7:19]}")
    listed = [line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("    ")]
    assert sorted(listed) == ["stalelocal/app:1", "stalelocal/tool:1"]
    # The old base lost its tag but has children: docker images hides it (an intermediate).
    assert "on an older build (not among these images)" in result.stdout
    assert "its annotation confirms: it names stalelocal/base:1" in result.stdout

    every = ["stale", "--source", source, "--filter", "^stalelocal/", "--all"]
    shown = run_cli(every)
    assert shown.code == 1
    assert f"on <none>@{ids['old'][7:19]}" in shown.stdout
    assert "its annotation confirms: it names " + ids["old"] + ", the older build it is on" in shown.stdout
    document = json.loads(run_cli([*every, "-f", "json"]).stdout)
    (group,) = document["groups"]
    assert (group["base_tag"], group["newer"]["id"]) == ("stalelocal/base:1", ids["new"])
    images = {image["name"]: image for image in group["images"]}
    assert {name: image["id"] for name, image in images.items()} == {
        "stalelocal/app:1": ids["app"],
        "stalelocal/tool:1": ids["tool"],
    }
    for image in images.values():
        assert image["old_base"]["id"] == ids["old"]
        assert image["age_seconds"] >= 1
        assert image["layers_to_change"] == 2  # the base's RUN layer and the image's own
    assert images["stalelocal/app:1"]["annotation"]["evidence"] == "confirmed"
    assert images["stalelocal/tool:1"]["annotation"]["evidence"] == "none"


def test_the_registry_holds_a_newer_base_than_the_engine(
    dockerd: Any, anonymous_registry: ThrowawayRegistry, tmp_path: Path
) -> None:
    """The issue's example: images on the engine's base:1; the registry's base:1 is newer."""
    registry = anonymous_registry
    ids = built_on_a_base_then_rebuilt(dockerd, "staleremote")
    archive = tmp_path / "base.tar"
    dockerd.docker("save", "-o", str(archive), "staleremote/base:1")
    registry.push(archive, "staleremote/base:1", "staleremote/base:1")
    # This engine never pulled the newer build: its base:1 is the old one.
    dockerd.docker("tag", ids["old"], "staleremote/base:1")
    dockerd.docker("rmi", ids["new"])
    sources = ["--source", f"docker:{dockerd.host}", "--source", f"registry:{registry.url}/staleremote/base"]

    # Each source alone has nothing to rebuild.
    alone = run_cli(["stale", sources[0], sources[1], "--filter", "^staleremote/", "--no-cache"])
    assert (alone.code, alone.stdout) == (0, "No image is built on an outdated base.\n"), alone.stderr

    result = run_cli(["stale", *sources, "--filter", "^staleremote/", "--no-cache"])
    assert result.code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2 images to rebuild, on 1 outdated base:"
    assert lines[2].startswith(f"{registry.address}/staleremote/base:1 now names {ids['new'][7:19]}")
    listed = [line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("    ")]
    assert sorted(listed) == ["staleremote/app:1", "staleremote/tool:1"]
    assert "on staleremote/base:1, " in result.stdout  # the engine's own base:1, the older build

    document = json.loads(run_cli(["stale", *sources, "--filter", "^staleremote/", "-f", "json"]).stdout)
    (group,) = document["groups"]
    assert group["newer"]["id"] == ids["new"]
    assert [image["old_base"]["id"] for image in group["images"]] == [ids["old"], ids["old"]]
