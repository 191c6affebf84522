"""A private, throwaway OCI registry (Debian's ``docker-registry``) on 127.0.0.1.

Our own config: filesystem storage in a temp dir, no auth, a free local port (the
package's default config turns on htpasswd and listens on every interface). Images go
in with ``skopeo copy`` from a ``docker save`` archive: no daemon involved, nothing
pulled from outside. ``requests()`` reads the registry's own log: the HTTP method and
path of every request it served. No pytest import.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from .processes import stop_process

APT_INSTALL_LINE = "apt-get update && apt-get install -y docker-registry skopeo"
_REQUEST = re.compile(r'http\.request\.method=(\w+) .*?http\.request\.uri="([^"]*)"')


class RegistryMissing(RuntimeError):
    """docker-registry or skopeo is not installed."""


class RegistryError(RuntimeError):
    """The registry did not start, or a push failed (the message has the output)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayRegistry:
    def __init__(self, *, start_timeout: float = 30.0) -> None:
        registry, skopeo = shutil.which("docker-registry"), shutil.which("skopeo")
        if registry is None or skopeo is None:
            raise RegistryMissing(f"docker-registry and skopeo are needed: {APT_INSTALL_LINE}")
        self.registry_path, self.skopeo_path = registry, skopeo
        self.start_timeout = start_timeout
        self.dir = Path(tempfile.mkdtemp(prefix="il-registry-", dir="/tmp"))
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self.log_path = self.dir / "registry.log"
        (self.dir / "config.yml").write_text(
            "version: 0.1\n"
            "log:\n  level: info\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.dir}/data\n"
            f"http:\n  addr: {self.address}\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ThrowawayRegistry:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> ThrowawayRegistry:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self.registry_path, "serve", str(self.dir / "config.yml")],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RegistryError(f"docker-registry exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/v2/", timeout=1) as answer:  # noqa: S310 - local
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RegistryError(f"docker-registry did not answer within {self.start_timeout:g} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)
        shutil.rmtree(self.dir, ignore_errors=True)

    def push(self, archive: Path, source_tag: str, destination: str) -> None:
        """``skopeo copy`` one image of a ``docker save`` archive to ``destination`` (repo:tag)."""
        result = subprocess.run(
            [
                self.skopeo_path, "copy", "--quiet", "--dest-tls-verify=false",
                f"docker-archive:{archive}:{source_tag}", f"docker://{self.address}/{destination}",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RegistryError(f"skopeo copy {source_tag}: {result.stderr.decode(errors='replace')}")

    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request in the registry's log, in order."""
        return _REQUEST.findall(self.log_path.read_text(errors="replace"))
