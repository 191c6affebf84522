"""BuildKit builds on a throwaway Engine 28.5 (containerd store) with Debian sid's ``docker-buildx``.

The plugin is unpacked with the engine by the install step (``make engines``: ``testbed/engines.py``
fetches ``docker-buildx`` from sid beside ``docker.io``); nothing here downloads anything.
The daemon runs with ``--bridge=none``: builds use ``--network=none`` and only ``FROM``/``COPY``
(local images resolve from the engine's own store), so no network is touched.

    with ModernEngine("28") as engine:
        image_id = buildx(engine, {"Dockerfile": "FROM team/base:1\\nCOPY a /a\\n", "a": "x"},
                          "-t", "team/app:1", "--provenance=mode=max")
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from .engines import EngineUnavailable, ModernEngine


def buildx(engine: ModernEngine, files: Mapping[str, str | bytes], *args: str) -> str:
    """``docker buildx build --network=none ARGS CONTEXT`` with ``files`` as the context; the image id
    (what ``--iidfile`` says: the digest of the index or manifest the engine stores)."""
    plugin = engine.unpacked.buildx
    if plugin is None:
        raise EngineUnavailable("docker-buildx is not unpacked beside the engine: run `make engines`")
    config = engine.dir / "cli-config"
    plugins = config / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "docker-buildx"
    if not link.exists():
        link.symlink_to(plugin)
    with tempfile.TemporaryDirectory(prefix="ctx-", dir=engine.dir) as context:
        for name, content in files.items():
            path = Path(context) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        iid = Path(context) / ".iid"
        engine.docker(
            "buildx", "build", "--network=none", "--iidfile", str(iid), *args, context,
            env={"DOCKER_BUILDKIT": "1", "BUILDX_NO_DEFAULT_ATTESTATIONS": "1"},
        )  # fmt: skip
        return iid.read_text().strip()
