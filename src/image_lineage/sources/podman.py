"""Podman: its service speaks the Docker Engine API, so only finding it is new here.

``podman system service`` (or the ``podman.socket`` systemd unit) answers the same
read-only requests as dockerd (see ``engine/``). The socket is
``CONTAINER_HOST`` when set (what the podman CLI itself honours), else the root
service's ``/run/podman/podman.sock``, else the user's
``$XDG_RUNTIME_DIR/podman/podman.sock``.
"""

from __future__ import annotations

import os

from image_lineage.sources.base import DEFAULT_TIMEOUT
from image_lineage.sources.engine import DockerEngineSource, Engine

PODMAN = Engine(
    name="Podman service",
    start="start it (podman system service --time=0, or systemctl --user start podman.socket), "
    "or set CONTAINER_HOST to its address",
    permission="use your own user's service (systemctl --user start podman.socket), or point "
    "CONTAINER_HOST at a socket you may use",
    libpod=True,
)


def default_endpoint() -> str:
    explicit = os.environ.get("CONTAINER_HOST")
    if explicit:
        return explicit
    if os.geteuid() == 0:
        return "unix:///run/podman/podman.sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return f"unix://{runtime}/podman/podman.sock"


def podman_source(
    endpoint: str | None = None, *, timeout: float = DEFAULT_TIMEOUT, use_cache: bool = True
) -> DockerEngineSource:
    return DockerEngineSource(
        endpoint=endpoint or default_endpoint(),
        timeout=timeout,
        use_cache=use_cache,
        kind="podman",
        engine=PODMAN,
    )
