"""Shared fixtures. Daemon fixtures start real programs; under CI=true they fail, never skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip on a developer machine that lacks a tool; fail in CI, where skipping would hide it."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: tests that need it must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def graphviz() -> None:
    """Graphviz's ``dot`` program, for the tests that draw pictures."""
    if shutil.which("dot") is None:
        unavailable("Graphviz's 'dot' is not installed (apt-get install graphviz)")


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the user's real cache from a test."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("IMAGE_LINEAGE_CACHE_DIR", str(cache))
    return cache


def start_dockerd() -> Any:
    """A started throwaway dockerd, or ``unavailable`` (skip here, fail under CI=true)."""
    from tests.harness import DockerdStartError, DockerToolsMissing, ThrowawayDockerd  # noqa: PLC0415

    try:
        daemon = ThrowawayDockerd()
    except DockerToolsMissing as error:
        unavailable(f"no throwaway dockerd: {error}")
    try:
        daemon.start()
    except DockerdStartError as error:
        daemon.stop()
        unavailable(f"dockerd did not start: {error}")
    return daemon


@pytest.fixture(scope="session")
def dockerd() -> Iterator[Any]:
    """One throwaway dockerd for the session (private data root, vfs, no network)."""
    daemon = start_dockerd()
    yield daemon
    daemon.stop()
