"""A private, throwaway Podman service for tests: ``podman system service`` in a temp dir.

Storage (vfs), run state, events and temporary files all live under one directory,
chosen through ``CONTAINERS_STORAGE_CONF`` and ``CONTAINERS_CONF``; the service listens
on ``<dir>/podman.sock``. The ``podman`` CLI run with the same environment works on the
same storage, so images it imports or builds are what the service lists. Base images
come from a busybox rootfs (``podman import``); nothing is pulled. No pytest import.

    with ThrowawayPodman() as podman:
        podman.import_busybox("demo/root:1")
        podman.build("FROM demo/root:1\\nLABEL a=b\\n", "demo/app:1")
        ... scan podman.host ...
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .busybox_rootfs import busybox_rootfs_tar, find_busybox
from .processes import BackgroundService

APT_INSTALL_LINE = "apt-get update && apt-get install -y podman busybox-static"


class PodmanMissing(RuntimeError):
    """podman (or a static busybox) is not installed, or we are not root."""


class PodmanError(RuntimeError):
    """The service did not start, or a podman command failed (the message has its stderr)."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=2)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(2)
        self.sock.connect(str(self._path))


class ThrowawayPodman(BackgroundService):
    """``podman system service --time=0`` on private storage; use as a context manager."""

    name = "podman system service"
    failure = PodmanError

    def __init__(self, *, start_timeout: float = 30.0) -> None:
        podman, busybox = shutil.which("podman"), find_busybox()
        if podman is None or busybox is None:
            raise PodmanMissing(f"podman and a static busybox are needed: {APT_INSTALL_LINE}")
        if os.geteuid() != 0:
            raise PodmanMissing("the throwaway podman service runs as root")
        super().__init__("il-podman-", start_timeout=start_timeout)
        self.podman_path, self.busybox = podman, busybox
        self.socket_path = self.dir / "podman.sock"
        for name in ("graph", "run", "tmp"):
            (self.dir / name).mkdir()
        (self.dir / "storage.conf").write_text(
            f'[storage]\ndriver = "vfs"\ngraphroot = "{self.dir}/graph"\nrunroot = "{self.dir}/run"\n'
        )
        (self.dir / "containers.conf").write_text(
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{self.dir}/events.log"\n'
            f'tmp_dir = "{self.dir}/tmp"\n'
            "[containers]\n"
            'netns = "none"\n'
        )

    @property
    def host(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["CONTAINERS_STORAGE_CONF"] = str(self.dir / "storage.conf")
        env["CONTAINERS_CONF"] = str(self.dir / "containers.conf")
        env.pop("CONTAINER_HOST", None)
        return env

    def command(self) -> list[str]:
        return [self.podman_path, "system", "service", "--time=0", self.host]

    def process_env(self) -> dict[str, str]:
        return self.env

    def podman(self, *args: str, input: bytes | None = None) -> str:
        """Run the podman CLI on this instance's storage; stdout, or ``PodmanError``."""
        result = subprocess.run(
            [self.podman_path, *args],
            env=self.env,
            input=input,
            capture_output=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise PodmanError(f"podman {' '.join(args)}: {result.stderr.decode(errors='replace')}")
        return result.stdout.decode(errors="replace")

    def import_busybox(self, tag: str, *, extra_files: Mapping[str, bytes | str] | None = None) -> str:
        tar = busybox_rootfs_tar(self.busybox, extra_files=extra_files)
        return "sha256:" + self.podman("import", "-", tag, input=tar).strip().splitlines()[-1].removeprefix(
            "sha256:"
        )

    def build(self, dockerfile: str, tag: str) -> str:
        """Build Dockerfile text with an empty context; return the image id."""
        context = Path(tempfile.mkdtemp(dir=self.dir / "tmp"))
        (context / "Dockerfile").write_text(dockerfile)
        self.podman("build", "--network=none", "--layers", "-t", tag, str(context))
        return "sha256:" + self.podman("image", "inspect", "--format", "{{.Id}}", tag).strip()

    def ready(self) -> bool:
        """The service answers ``GET /_ping`` on its socket."""
        if not self.socket_path.exists():
            return False
        connection = _UnixConnection(self.socket_path)
        try:
            connection.request("GET", "/_ping")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()
