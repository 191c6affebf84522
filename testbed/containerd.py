"""A bare containerd on a private socket, root and state (``docs/containerd.md``, "A bare containerd").

Two builds run here: containerd 2.1, unpacked from Debian sid with Engine 28.5
(``testbed/engines.py``, ``make engines``), and Debian 12's own ``containerd`` 1.6 package
(``/usr/bin/containerd``, which ``docker.io`` depends on). Each runs as root with a config
of its own: ``root`` and ``state`` directories and the gRPC/ttrpc sockets in a temp dir, the
CRI plugins off (no CNI needed), no other daemon touched. Images go in with ``ctr import``
(:meth:`ThrowawayContainerd.import_archive`); each test uses a namespace of its own.

No pytest import here. From code::

    with ThrowawayContainerd(containerd_21()) as daemon:
        daemon.import_archive("k8s.io", Path("family.tar"))
        print(daemon.socket, daemon.ctr("-n", "k8s.io", "images", "ls"))
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .engines import EngineUnavailable, cached_engine
from .processes import BackgroundService

__all__ = ["Build", "ContainerdUnavailable", "ThrowawayContainerd", "available_builds", "debian_12", "sid"]

#: The CRI plugins under their names in 1.6 (one plugin) and 2.x (three): off, so no CNI is needed.
_CRI_PLUGINS = (
    "io.containerd.grpc.v1.cri",
    "io.containerd.cri.v1.images",
    "io.containerd.cri.v1.runtime",
)


class ContainerdUnavailable(RuntimeError):
    """This containerd cannot run here (not root, not installed, the engine cache empty)."""


@dataclass(frozen=True, slots=True)
class Build:
    """One containerd: its daemon, its ``ctr``, and the config version it reads."""

    name: str
    containerd: Path
    ctr: Path
    config_version: int

    def available(self) -> bool:
        return self.containerd.is_file() and self.ctr.is_file()


def sid() -> Build | None:
    """containerd 2.1 from the Engine 28.5 cache, or None when ``make engines`` has not run."""
    engine = cached_engine("28")
    if engine is None:
        return None
    bin_dir = engine.root / "usr" / "bin"
    return Build("2.1", bin_dir / "containerd", bin_dir / "ctr", 3)


def debian_12() -> Build | None:
    """Debian 12's ``containerd`` 1.6 package, or None when it is not installed."""
    found = Build("1.6", Path("/usr/bin/containerd"), Path("/usr/bin/ctr"), 2)
    return found if found.available() else None


def available_builds() -> dict[str, Build | None]:
    """Each build by name: None where it is not here."""
    try:
        newer = sid()
    except EngineUnavailable:
        newer = None
    return {"2.1": newer, "1.6": debian_12()}


def _config(build: Build, root: Path, state: Path, sock: Path) -> str:
    disabled = ", ".join(f'"{name}"' for name in _CRI_PLUGINS)
    return (
        f"version = {build.config_version}\n"
        f'root = "{root}"\n'
        f'state = "{state}"\n'
        f"disabled_plugins = [{disabled}]\n"
        "[grpc]\n"
        f'  address = "{sock}"\n'
        "[ttrpc]\n"
        f'  address = "{sock}.ttrpc"\n'
        "[debug]\n"
        f'  address = "{sock}.debug"\n'
    )


class ThrowawayContainerd(BackgroundService):
    """containerd in a temp dir of its own; a context manager (stopped by PID, the dir removed)."""

    name = "containerd"
    failure = ContainerdUnavailable

    def __init__(self, build: Build, *, start_timeout: float = 30.0) -> None:
        if os.geteuid() != 0:
            raise ContainerdUnavailable("containerd runs as root here")
        if not build.available():
            raise ContainerdUnavailable(f"containerd {build.name} is not at {build.containerd}")
        super().__init__(f"il-containerd-{build.name}-", start_timeout=start_timeout)
        self.build = build
        self.socket = self.dir / "containerd.sock"
        self.config = self.dir / "config.toml"
        self.config.write_text(
            _config(build, self.dir / "root", self.dir / "state", self.socket), encoding="utf-8"
        )

    def command(self) -> list[str]:
        return [str(self.build.containerd), "--config", str(self.config)]

    def process_env(self) -> dict[str, str]:
        # its own PATH: the shims and runc it would start are never needed to read images
        path = f"{self.build.containerd.parent}:/usr/sbin:/usr/bin:/sbin:/bin"
        return {"PATH": path, "HOME": str(self.dir)}

    def ready(self) -> bool:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(self.socket))
        except OSError:
            return False
        finally:
            probe.close()
        return self._answers()

    def _answers(self) -> bool:
        result = subprocess.run(
            [str(self.build.ctr), "-a", str(self.socket), "version"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        return result.returncode == 0

    def ctr(self, *args: str, timeout: float = 120.0) -> str:
        """``ctr -a SOCKET ARGS``; its stdout, or ``ContainerdUnavailable`` with its stderr."""
        result = subprocess.run(
            [str(self.build.ctr), "-a", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise ContainerdUnavailable(f"ctr {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result.stdout

    def import_archive(self, namespace: str, archive: Path) -> str:
        """Every platform (and attestation) of a docker save / OCI layout tar, into ``namespace``.

        ``--all-platforms``: without it, containerd 2.1's import brings this machine's platform
        only, or sometimes every one (checked 2026-12-06), so a test that wants one platform
        removes the others' manifests (``ctr content rm``). ``--no-unpack``: the images are
        read, never run, so no snapshot is made.
        """
        return self.ctr("-n", namespace, "images", "import", "--all-platforms", "--no-unpack", str(archive))

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)
