"""``stale`` on the two most common real rebuilds, on Engine 20.10 (classic store, legacy builder):
a base rebuilt with a version bump (``ENV`` and a ``RUN`` pinning another version), and a root
rebuilt from a new root filesystem whose tag now names it in a registry only.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from testbed.registry import ThrowawayRegistry
from tests.integration.test_docker_engine import build, fresh_base
from tests.support.cli import run_cli

pytestmark = pytest.mark.docker


def based(version: str, scenario: str) -> str:
    return f"FROM {scenario}/root:1\nENV TOOL_VERSION={version}\nRUN echo {version} > /tool-{version}.txt"


def found(result: Any) -> dict[str, str]:
    assert result.code == 1, (result.stdout, result.stderr)
    return {i["name"]: i["found_by"] for g in json.loads(result.stdout)["groups"] for i in g["images"]}


def test_a_version_bump_under_the_same_tag(dockerd: Any) -> None:
    fresh_base(dockerd, "bump")
    build(dockerd, "bump/base:1", based("1.2.3", "bump"))
    build(dockerd, "bump/app:1", "FROM bump/base:1\nRUN echo app > /app.txt")
    build(dockerd, "bump/base:1.2.2", based("1.2.2", "bump"))  # a version sibling, keeps its tag
    build(dockerd, "bump/legacy:1", "FROM bump/base:1.2.2\nRUN echo legacy > /legacy.txt")
    time.sleep(1.1)  # histories count whole seconds: the rebuild's steps are later
    build(dockerd, "bump/base:1", based("1.2.4", "bump"))
    source = ["--source", f"docker:{dockerd.host}", "--filter", "^bump/", "--no-cache"]
    assert found(run_cli(["stale", *source, "-f", "json"])) == {"bump/app:1": "lineage by instruction"}
    shown = run_cli(["stale", *source, "--all"])
    assert "found by lineage: the newer base ran the same instructions on the same targets" in shown.stdout
    assert re.search(r"the newer base differs from step \d+: ENV TOOL_VERSION=1\.2\.3\n", shown.stdout)


def test_a_root_rebuilt_from_a_new_rootfs_named_by_its_tag_in_a_registry(
    dockerd: Any, anonymous_registry: ThrowawayRegistry, tmp_path: Path
) -> None:
    old = fresh_base(dockerd, "reroot")
    build(dockerd, "reroot/app:1", "FROM reroot/root:1\nRUN echo app > /app.txt")
    build(dockerd, "reroot/other:1", "FROM reroot/root:1\nRUN echo o > /o.txt")
    time.sleep(1.1)
    new = str(dockerd.import_busybox("reroot/root:1", extra_files={"etc/reroot": "a new rootfs"}))
    archive = tmp_path / "root.tar"
    dockerd.docker("save", "-o", str(archive), "reroot/root:1")
    anonymous_registry.push(archive, "reroot/root:1", "reroot/root:1")
    dockerd.docker("tag", old, "reroot/root:1")  # this engine never pulled the new root
    dockerd.docker("rmi", new)
    engine = ["--source", f"docker:{dockerd.host}", "--filter", "^reroot/|/reroot/", "--no-cache"]
    alone = run_cli(["stale", *engine])
    assert (alone.code, alone.stdout) == (0, "No image is built on an outdated base.\n"), alone.stderr
    both = [*engine, "--source", f"registry:{anonymous_registry.url}/reroot/root"]
    assert found(run_cli(["stale", *both, "-f", "json"])) == {"reroot/app:1": "tag", "reroot/other:1": "tag"}
    assert "found by the tag alone: reroot/root:1 names" in run_cli(["stale", *both]).stdout
