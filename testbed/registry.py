"""A private, throwaway OCI registry (Debian's ``docker-registry``) on 127.0.0.1.

Our own config: filesystem storage in a temp dir, a free local port (the package's
default config turns on htpasswd and listens on every interface), and no auth unless
the caller passes an ``auth:`` section (``token_registry.py`` writes the htpasswd and
token ones). Images go
in with ``skopeo copy`` from a ``docker save`` archive: no daemon involved, nothing
pulled from outside. ``requests()`` reads the registry's own log: the HTTP method and
path of every request it served. No pytest import.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from .processes import BackgroundService

APT_INSTALL_LINE = "apt-get update && apt-get install -y docker-registry skopeo"
# logrus quotes a value only when it needs to (a "?" in the path does; "/v2/" does not).
_REQUEST = re.compile(r'http\.request\.method=(\w+) .*?http\.request\.uri=(?:"([^"]*)"|(\S+))')


class RegistryMissing(RuntimeError):
    """docker-registry or skopeo is not installed."""


class RegistryError(RuntimeError):
    """The registry did not start, or a push failed (the message has the output)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayRegistry(BackgroundService):
    """``docker-registry serve`` on 127.0.0.1 with storage in a temp dir; a context manager."""

    name = "docker-registry"
    failure = RegistryError

    def __init__(self, *, start_timeout: float = 30.0, auth: str = "") -> None:
        """``auth``: the config's ``auth:`` section as YAML text (none: anonymous)."""
        registry, skopeo = shutil.which("docker-registry"), shutil.which("skopeo")
        if registry is None or skopeo is None:
            raise RegistryMissing(f"docker-registry and skopeo are needed: {APT_INSTALL_LINE}")
        super().__init__("il-registry-", start_timeout=start_timeout)
        self.registry_path, self.skopeo_path = registry, skopeo
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        (self.dir / "config.yml").write_text(
            "version: 0.1\n"
            "log:\n  level: info\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.dir}/data\n"
            f"http:\n  addr: {self.address}\n"
            f"{auth}"
        )

    def command(self) -> list[str]:
        return [self.registry_path, "serve", str(self.dir / "config.yml")]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/v2/", timeout=1) as answer:  # noqa: S310 - local
                return bool(answer.status == 200)
        except urllib.error.HTTPError as error:
            return error.code == 401  # serving, and asking for credentials as configured
        except OSError:
            return False

    def push(self, archive: Path, source_tag: str, destination: str, *, creds: str | None = None) -> None:
        """``skopeo copy`` one image of a ``docker save`` archive to ``destination`` (repo:tag)."""
        self.copy(f"docker-archive:{archive}:{source_tag}", destination, creds=creds)

    def copy(self, source: str, destination: str, *, creds: str | None = None) -> None:
        """``skopeo copy`` any skopeo ``source`` (``oci-archive:PATH:REF``…) to ``destination``.

        ``creds``: ``user:password`` for a registry that asks (``--dest-creds``). skopeo is
        given an empty auth file so that it never reads the user's own credentials.
        """
        auth_file = self.dir / "skopeo-auth.json"
        auth_file.write_text('{"auths": {}}')
        login = ["--dest-creds", creds] if creds else []
        result = subprocess.run(
            [
                self.skopeo_path, "copy", "--quiet", "--all", "--dest-tls-verify=false",
                "--dest-authfile", str(auth_file), *login,
                source, f"docker://{self.address}/{destination}",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RegistryError(f"skopeo copy {source}: {result.stderr.decode(errors='replace')}")

    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request in the registry's log, in order."""
        found = _REQUEST.findall(self.log_path.read_text(errors="replace"))
        return [(method, quoted or bare) for method, quoted, bare in found]
