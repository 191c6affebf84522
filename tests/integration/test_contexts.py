"""Docker contexts against a real dockerd, with contexts written by the real docker CLI.

``docker context create`` and ``docker context use`` write the context store in a temp
``DOCKER_CONFIG``; ``image-lineage`` then finds the throwaway daemon through it with no
``DOCKER_HOST``. Every docker CLI on this machine writes the store (Debian's 20.10, and a
newer one if ``/usr/local/bin/docker`` is there), so the format is the CLI's own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from image_lineage.sources.engine.contexts import resolve
from image_lineage.sources.engine.transport import DEFAULT_ENDPOINT
from tests.support.cli import CliResult, run_cli

pytestmark = pytest.mark.docker

TAG = "contexts/root:1"
DEAD = "unix:///nonexistent/image-lineage/dead.sock"


def docker_clis() -> list[str]:
    """Every docker CLI here, each once (Debian's 20.10 first)."""
    found = [p for p in ("/usr/bin/docker", "/usr/local/bin/docker", shutil.which("docker")) if p]
    real = {os.path.realpath(p): p for p in reversed(found) if os.access(p, os.X_OK)}
    return sorted(real.values(), key=found.index)


@pytest.fixture(scope="module")
def engine(dockerd: Any) -> Any:
    """The session's daemon, holding an image only this module names."""
    dockerd.import_busybox(TAG, extra_files={"etc/contexts": "contexts"})
    return dockerd


@dataclass(frozen=True)
class Store:
    """A docker CLI and its ``DOCKER_CONFIG``."""

    cli: str
    config: Path

    def docker(self, *args: str) -> str:
        """Run the docker CLI on this store, with no engine chosen by the environment."""
        env = {k: v for k, v in os.environ.items() if k not in {"DOCKER_HOST", "DOCKER_CONTEXT"}}
        env["DOCKER_CONFIG"] = str(self.config)
        result = subprocess.run(
            [self.cli, *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        assert result.returncode == 0, f"{self.cli} {' '.join(args)}: {result.stderr}"
        return result.stdout

    def use(self, name: str) -> None:
        self.docker("context", "use", name)


@pytest.fixture(params=docker_clis())
def store(
    request: pytest.FixtureRequest, engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Store:
    """A ``DOCKER_CONFIG`` where this docker CLI made 'throwaway' (the daemon) and 'dead' (no socket).

    Nothing in the environment chooses an engine: no ``DOCKER_HOST``, no ``DOCKER_CONTEXT``.
    """
    store = Store(str(request.param), tmp_path / "docker-config")
    store.docker("context", "create", "throwaway", "--docker", f"host={engine.host}")
    store.docker("context", "create", "dead", "--docker", f"host={DEAD}")
    store.use("throwaway")
    monkeypatch.setenv("DOCKER_CONFIG", str(store.config))
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)
    return store


def export(*args: str) -> CliResult:
    return run_cli(["export", "-f", "json", "--no-cache", *args])


def source_endpoint(result: CliResult) -> str:
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert TAG in result.stdout
    endpoint: str = document["source"]["endpoint"]
    return endpoint


@pytest.mark.usefixtures("store")
def test_the_current_context_is_followed(engine: Any) -> None:
    """``currentContext`` in ``config.json`` points at the throwaway daemon: no DOCKER_HOST needed."""
    tree = run_cli(["tree", "--no-cache"])
    assert tree.code == 0, tree.stderr
    assert TAG in tree.stdout
    assert source_endpoint(export()) == f"{engine.host} (context throwaway)"


def test_the_cli_wrote_what_is_read(store: Store) -> None:
    """What ``docker context inspect`` says the endpoint is, for both contexts."""
    for name in ("throwaway", "dead"):
        inspected = json.loads(store.docker("context", "inspect", name))
        host = inspected[0]["Endpoints"]["docker"]["Host"]
        assert resolve(f"context:{name}", default=DEFAULT_ENDPOINT).address == host
    assert host == DEAD


def test_context_beats_the_current_context(engine: Any, store: Store) -> None:
    store.use("dead")
    assert "of context 'dead'" in run_cli(["tree", "--no-cache"]).one_line_error()
    assert source_endpoint(export("--context", "throwaway")) == f"{engine.host} (context throwaway)"


def test_DOCKER_HOST_beats_the_current_context(
    engine: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.use("dead")
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    assert source_endpoint(export()) == engine.host


@pytest.mark.usefixtures("store")
def test_context_beats_DOCKER_HOST(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the docker CLI: ``--context`` wins over ``DOCKER_HOST`` (only ``--host`` conflicts with it)."""
    monkeypatch.setenv("DOCKER_HOST", DEAD)
    assert source_endpoint(export("--context", "throwaway")) == f"{engine.host} (context throwaway)"


def test_DOCKER_CONTEXT_beats_the_current_context(
    engine: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.use("dead")
    monkeypatch.setenv("DOCKER_CONTEXT", "throwaway")
    assert source_endpoint(export()) == f"{engine.host} (context throwaway)"


def test_an_address_beats_every_context(engine: Any, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.use("dead")
    monkeypatch.setenv("DOCKER_CONTEXT", "dead")
    assert source_endpoint(export("--source", f"docker:{engine.host}")) == engine.host


@pytest.mark.usefixtures("store")
def test_a_context_without_its_engine_is_one_line_naming_it() -> None:
    line = run_cli(["tree", "--no-cache", "--context", "dead"]).one_line_error()
    assert line.startswith(f"No Docker Engine of context 'dead' is listening at {DEAD} (no such socket)")
