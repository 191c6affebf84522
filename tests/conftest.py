"""Shared fixtures. Daemon fixtures start real programs; under CI=true they fail, never skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
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
    from testbed import DockerToolsMissing, ThrowawayDockerd  # noqa: PLC0415

    return _started(ThrowawayDockerd, DockerToolsMissing, "throwaway dockerd")


def _started(make: Callable[[], Any], missing: type[Exception], what: str) -> Any:
    """``make()`` a daemon and start it; a missing program or a failed start is ``unavailable``."""
    from testbed import DockerdStartError  # noqa: PLC0415

    try:
        daemon = make()
    except missing as error:
        unavailable(f"no {what}: {error}")
    try:
        daemon.start()
    except DockerdStartError as error:
        daemon.stop()
        unavailable(f"{what} did not start: {error}")
    return daemon


@pytest.fixture(scope="session")
def dockerd() -> Iterator[Any]:
    """One throwaway dockerd for the session (private data root, vfs, no network)."""
    daemon = start_dockerd()
    yield daemon
    daemon.stop()


def start_modern_engine(name: str) -> Any:
    """A started Engine ``name`` (28, 26) with the containerd image store, or ``unavailable``."""
    from testbed.engines import EngineUnavailable, ModernEngine  # noqa: PLC0415

    return _started(lambda: ModernEngine(name), EngineUnavailable, f"Engine {name}")


@pytest.fixture(scope="session")
def engine_28() -> Iterator[Any]:
    """Engine 28.5 (Debian sid) with the containerd image store, for the session (testbed.engines)."""
    engine = start_modern_engine("28")
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def engine_26() -> Iterator[Any]:
    """Engine 26.1 (Debian trixie) with the containerd image store, for the session."""
    engine = start_modern_engine("26")
    yield engine
    engine.stop()


@pytest.fixture(scope="session", params=["28", "26"], ids=["engine28", "engine26"])
def modern_engine(request: pytest.FixtureRequest) -> Any:
    """Each modern engine in turn (``engine_28``, then ``engine_26``)."""
    return request.getfixturevalue(f"engine_{request.param}")


@pytest.fixture(scope="session")
def classic_save(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A ``docker save`` archive from a private Engine 20.10 (legacy builder), and tag -> image id."""
    from testbed.engines import save_classic_family  # noqa: PLC0415

    daemon = start_dockerd()
    try:
        archive = tmp_path_factory.mktemp("classic-save") / "classic.tar"
        ids = save_classic_family(daemon, archive)
    finally:
        daemon.stop()
    return archive, ids


@pytest.fixture(scope="module")
def anonymous_registry() -> Iterator[Any]:
    """A throwaway ``docker-registry`` on 127.0.0.1 that asks for no credentials (one a module)."""
    from testbed.registry import RegistryError, RegistryMissing, ThrowawayRegistry  # noqa: PLC0415

    try:
        service = ThrowawayRegistry().start()
    except (RegistryMissing, RegistryError) as error:
        unavailable(f"no throwaway registry: {error}")
    yield service
    service.stop()
