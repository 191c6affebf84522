"""Test harness helpers shared by tests, build scripts and benchmarks.

Nothing in this package imports pytest.
"""

from .dockerd import (
    APT_INSTALL_LINE,
    DockerCommandError,
    DockerdStartError,
    DockerTools,
    DockerToolsMissing,
    ThrowawayDockerd,
    require_docker_tools,
)

__all__ = [
    "APT_INSTALL_LINE",
    "DockerCommandError",
    "DockerTools",
    "DockerToolsMissing",
    "DockerdStartError",
    "ThrowawayDockerd",
    "require_docker_tools",
]
