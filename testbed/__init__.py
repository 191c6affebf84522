"""Throwaway daemons and test beds, shared by the tests, sample_images/ and bench/.

A package of its own at the top of the repository (importable from its root, not in the
wheel), so that the build script and the benchmarks need nothing from ``tests``.
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
