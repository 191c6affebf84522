"""A private docker config for a test: credentials the test writes, helpers it puts on PATH."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def private_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``DOCKER_CONFIG`` set to an empty dir in ``tmp_path``, and ``tmp_path/bin`` first on PATH
    (for test credential helpers), ahead of this Python's and the system's programs."""
    config = tmp_path / "docker"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    return config
