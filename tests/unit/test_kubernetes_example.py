"""The Kubernetes example (``docs/examples/containerd-node-snapshot.yaml``) is valid YAML whose
snapshot container gives the CLI flags it has, and reads containerd through the socket it mounts,
read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import build_parser
from image_lineage.sources.containerd.address import parse_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "containerd-node-snapshot.yaml"


@pytest.fixture(scope="module")
def documents() -> list[Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML (requirements-dev.txt) reads the example")
    return list(yaml.safe_load_all(EXAMPLE.read_text(encoding="utf-8")))


def daemon_set(documents: list[Any]) -> dict[str, Any]:
    (found,) = [d for d in documents if d["kind"] == "DaemonSet"]
    assert found["apiVersion"] == "apps/v1"
    spec: dict[str, Any] = found["spec"]["template"]["spec"]
    return spec


def test_the_snapshot_container_s_arguments_are_the_cli_s(documents: list[Any]) -> None:
    spec = daemon_set(documents)
    (snapshot,) = spec["initContainers"]
    parsed = build_parser().parse_args(snapshot["args"])  # an unknown flag would exit
    assert parsed.command == "snapshot"
    names = {item["name"] for item in snapshot["env"]}
    assert "$(NODE_NAME)" in str(parsed.output)  # Kubernetes fills in the node's name
    assert "NODE_NAME" in names
    source = parse_spec(parsed.source[0].removeprefix("containerd:"))
    assert source.namespace == "k8s.io"
    mounts = {m["mountPath"]: m for m in snapshot["volumeMounts"]}
    socket = mounts[str(source.path)]
    assert socket["readOnly"] is True
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes[socket["name"]]["hostPath"] == {"path": str(source.path), "type": "Socket"}
    assert Path(parsed.output).parent.as_posix() in mounts  # written where the holder reads it


def test_a_wrong_flag_in_the_example_would_be_caught(documents: list[Any]) -> None:
    (snapshot,) = daemon_set(documents)["initContainers"]
    with pytest.raises(SystemExit):
        build_parser().parse_args([*snapshot["args"], "--no-such-flag"])
