"""Modern Docker Engines (28.5 from Debian sid, 26.1 from trixie) with the containerd image store.

Debian 12's ``docker.io`` is Engine 20.10, which has only the classic image store.  Newer
engines come from Debian's own newer suites: :func:`fetch_engine` downloads ``docker.io``,
``containerd`` and ``docker-cli`` (and, from sid, ``docker-buildx`` for BuildKit builds:
``testbed/buildkit.py``) with ``apt-get download`` (a private sources list, lists
dir, cache dir and status file: nothing of the system's apt state is read or written) and
unpacks them with ``dpkg-deb -x`` into a cache directory; nothing is installed.

* cache: ``$IMAGE_LINEAGE_ENGINE_CACHE`` or ``~/.cache/image-lineage/engines``, one folder
  per suite (``<cache>/sid/root/usr/sbin/dockerd`` ...) plus ``<cache>/<suite>/engine.json``
  naming the package versions.  Fetching is idempotent (a complete folder is reused) and
  safe when several processes fetch at once (``<cache>/<suite>.lock``, ``flock``); a folder
  is unpacked beside the cache and renamed into place only when complete.
* network: only ``deb.debian.org`` (the Debian archive) is contacted.

:class:`ModernEngine` starts one of them like :class:`~testbed.dockerd.ThrowawayDockerd`
(it is one: private data root, exec root, pidfile, socket, no iptables/bridge, stopped by
PID), with a ``--config-file`` turning on ``{"features": {"containerd-snapshotter": true}}``,
per-daemon ``--containerd-namespace``/``--containerd-plugins-namespace``, and the unpacked
``usr/bin`` first on dockerd's PATH so it starts its own ``containerd`` from there.  Debian
12's ``runc`` (``/usr/sbin``) stays reachable after it: the unpacked packages ship none (the
sid/trixie ``runc`` would need a newer libc anyway), and loads and inspects need no container.

The snapshotter is ``overlayfs`` (``--storage-driver=overlayfs``; it works on this kernel and
ext4); ``$IL_ENGINE_SNAPSHOTTER=native`` picks the copy-based one for filesystems where
overlay mounts fail.  The CLI is the unpacked ``docker`` of the same suite (``docker image
ls --tree`` needs CLI >= 27).

Fetching is the install step's job (``make engines``, which ``make test`` and ``.ci/run``
run before the tests), never the tests': :class:`ModernEngine` given a name only looks in the
cache (:func:`installed_engine`) and says ``make engines`` when the engine is not there.

No pytest import here.  From a shell::

    python -m testbed.engines fetch          # both; or: fetch 28 (what `make engines` runs)
    python -m testbed.engines where          # print the cached paths and versions

Use from code::

    with ModernEngine("28") as engine:
        engine.docker("load", "-i", "family.tar")
        print(engine.engine_version, engine.get("/images/json", manifests="1"))
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .busybox_rootfs import find_busybox
from .dockerd import DEFAULT_DAEMON_FLAGS, DockerdStartError, DockerTools, ThrowawayDockerd

__all__ = [
    "ENGINES",
    "EngineSpec",
    "EngineUnavailable",
    "ModernEngine",
    "UnpackedEngine",
    "engine_cache_dir",
    "fetch_engine",
    "installed_engine",
    "save_classic_family",
]

#: The Debian archive; the only host contacted.
DEBIAN_MIRROR = "http://deb.debian.org/debian"
#: Binary packages unpacked per suite (docker-cli is built from the same docker.io source).
PACKAGES: tuple[str, ...] = ("docker.io", "containerd", "docker-cli")
#: The feature flag that turns on the containerd image store.
DAEMON_CONFIG: dict[str, Any] = {"features": {"containerd-snapshotter": True}}
#: What ``/info`` DriverStatus says when the containerd image store is on.
SNAPSHOTTER_DRIVER_TYPE = "io.containerd.snapshotter.v1"


class EngineUnavailable(RuntimeError):
    """The engine cannot be fetched or run here (no network, no apt-get, not root, ...)."""


@dataclass(frozen=True)
class EngineSpec:
    """Which Debian suite holds which engine."""

    name: str  # "28", "26": the fixture suffix
    suite: str  # Debian suite
    major: str  # expected major version of docker.io there
    extras: tuple[str, ...] = ()  # more packages from the same suite (docker-buildx for BuildKit builds)

    @property
    def packages(self) -> tuple[str, ...]:
        return (*PACKAGES, *self.extras)


ENGINES: dict[str, EngineSpec] = {
    "28": EngineSpec(name="28", suite="sid", major="28", extras=("docker-buildx",)),
    "26": EngineSpec(name="26", suite="trixie", major="26"),
}


@dataclass(frozen=True)
class UnpackedEngine:
    """An engine unpacked in the cache: where its programs are and which packages they came from."""

    spec: EngineSpec
    root: Path  # the dpkg-deb -x target (holds usr/bin, usr/sbin)
    versions: Mapping[str, str]  # package -> Debian version

    @property
    def dockerd(self) -> Path:
        return self.root / "usr" / "sbin" / "dockerd"

    @property
    def docker(self) -> Path:
        return self.root / "usr" / "bin" / "docker"

    @property
    def buildx(self) -> Path | None:
        """The ``docker-buildx`` CLI plugin, where the suite has it (sid: 0.29)."""
        found = self.root / "usr" / "libexec" / "docker" / "cli-plugins" / "docker-buildx"
        return found if found.is_file() else None

    @property
    def bin_dirs(self) -> tuple[Path, ...]:
        return (self.root / "usr" / "bin", self.root / "usr" / "sbin")

    @property
    def daemon_path(self) -> str:
        """dockerd's PATH: the unpacked programs first, then the system's (Debian 12's runc)."""
        return ":".join([*(str(d) for d in self.bin_dirs), "/usr/sbin", "/usr/bin", "/sbin", "/bin"])


def engine_cache_dir() -> Path:
    """``$IMAGE_LINEAGE_ENGINE_CACHE``, else ``$XDG_CACHE_HOME``/``~/.cache`` + ``image-lineage/engines``."""
    explicit = os.environ.get("IMAGE_LINEAGE_ENGINE_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "image-lineage" / "engines"


def _spec(name_or_spec: str | EngineSpec) -> EngineSpec:
    if isinstance(name_or_spec, EngineSpec):
        return name_or_spec
    try:
        return ENGINES[name_or_spec]
    except KeyError:
        raise ValueError(f"unknown engine {name_or_spec!r}; known: {', '.join(ENGINES)}") from None


def _load_marker(spec: EngineSpec, folder: Path) -> UnpackedEngine | None:
    marker = folder / "engine.json"
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    engine = UnpackedEngine(spec=spec, root=folder / "root", versions=dict(data.get("versions", {})))
    if not (engine.dockerd.is_file() and engine.docker.is_file()):
        return None
    if any(package not in engine.versions for package in spec.extras):
        return None  # cached before an extra package was wanted: fetched again
    return engine


def cached_engine(name: str | EngineSpec) -> UnpackedEngine | None:
    """The engine already in the cache, or ``None`` (never touches the network)."""
    spec = _spec(name)
    return _load_marker(spec, engine_cache_dir() / spec.suite)


def installed_engine(name: str | EngineSpec) -> UnpackedEngine:
    """The engine from the cache; :class:`EngineUnavailable` saying ``make engines`` if it is not there."""
    spec = _spec(name)
    found = cached_engine(spec)
    if found is None:
        raise EngineUnavailable(
            f"Engine {spec.name} (Debian {spec.suite}) is not in {engine_cache_dir()}: "
            "`make engines` fetches it (make test and .ci/run do, before the tests)"
        )
    return found


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(
    cmd: Sequence[str], *, cwd: Path | None = None, timeout: float = 600.0, keep_stderr: bool = False
) -> str:
    """Run ``cmd``; its stdout (with stderr after it if ``keep_stderr``); EngineUnavailable if it fails."""
    try:
        res = subprocess.run(
            list(cmd),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EngineUnavailable(f"{cmd[0]} failed: {error}") from error
    if res.returncode != 0:
        tail = (res.stderr.strip() or res.stdout.strip())[-1500:]
        raise EngineUnavailable(f"{' '.join(cmd[:3])} ... exited {res.returncode}:\n{tail}")
    return res.stdout + (res.stderr if keep_stderr else "")


def _apt_options(work: Path, suite: str) -> list[str]:
    """apt options that confine apt to ``work``: its own sources, lists, cache and (empty) status."""
    sources = work / "sources.list"
    sources.write_text(f"deb {DEBIAN_MIRROR} {suite} main\n", encoding="utf-8")
    (work / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (work / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    status = work / "status"
    status.touch()
    options = {
        "Dir::Etc::sourcelist": str(sources),
        "Dir::Etc::sourceparts": "-",
        "Dir::Etc::preferencesparts": "-",
        "Dir::State::Lists": str(work / "lists"),
        "Dir::State::status": str(status),
        "Dir::Cache": str(work / "cache"),
        "APT::Sandbox::User": "root" if os.geteuid() == 0 else "",
        "Acquire::Retries": "3",
    }
    return [arg for key, value in options.items() if value for arg in ("-o", f"{key}={value}")]


def _download_and_unpack(spec: EngineSpec, work: Path) -> dict[str, str]:
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise EngineUnavailable(f"{tool} is not installed: cannot fetch Engine {spec.name} from Debian")
    apt = _apt_options(work, spec.suite)
    update = _run(["apt-get", "-q", *apt, "update"], keep_stderr=True)
    if not any((work / "lists").glob("*_Packages*")):
        # apt-get update exits 0 when the mirror is unreachable; say why here, not at download.
        raise EngineUnavailable(
            f"cannot reach {DEBIAN_MIRROR} ({spec.suite}): {update.strip()[-800:] or 'no package lists'}"
        )
    debs = work / "debs"
    debs.mkdir()
    _run(["apt-get", "-q", *apt, "download", *spec.packages], cwd=debs)
    root = work / "root"
    root.mkdir()
    versions: dict[str, str] = {}
    for deb in sorted(debs.glob("*.deb")):
        fields = _run(["dpkg-deb", "-f", str(deb), "Package", "Version"])
        parsed = dict(line.split(": ", 1) for line in fields.splitlines() if ": " in line)
        versions[parsed["Package"]] = parsed["Version"]
        _run(["dpkg-deb", "-x", str(deb), str(root)])
    missing = [p for p in spec.packages if p not in versions]
    if missing:
        raise EngineUnavailable(f"Debian {spec.suite} gave no {', '.join(missing)}")
    engine_version = versions["docker.io"]
    if engine_version.split(".", 1)[0] != spec.major:
        raise EngineUnavailable(
            f"Debian {spec.suite} now has docker.io {engine_version}, not Engine {spec.major}.x: "
            f"update testbed/engines.py ENGINES (and re-record the fixtures)"
        )
    return versions


def fetch_engine(name: str | EngineSpec, *, refresh: bool = False) -> UnpackedEngine:
    """The unpacked engine, downloading it first if the cache lacks it (or ``refresh``).

    Raises :class:`EngineUnavailable` with the reason when it cannot be fetched.
    """
    spec = _spec(name)
    cache = engine_cache_dir()
    target = cache / spec.suite
    with _locked(cache / f"{spec.suite}.lock"):
        if not refresh:
            found = _load_marker(spec, target)
            if found is not None:
                return found
        work = Path(tempfile.mkdtemp(prefix=f".{spec.suite}-", dir=cache))
        try:
            versions = _download_and_unpack(spec, work)
            folder = work / "engine"
            folder.mkdir()
            (work / "root").rename(folder / "root")
            (folder / "engine.json").write_text(
                json.dumps(
                    {"suite": spec.suite, "mirror": DEBIAN_MIRROR, "versions": versions},
                    indent=1,
                    sort_keys=True,
                )
                + "\n",
                encoding="utf-8",
            )
            if target.exists():  # refresh: the old folder goes away with ``work``
                target.rename(work / "old")
            folder.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        found = _load_marker(spec, target)
        if found is None:  # pragma: no cover - only if the packages change shape
            raise EngineUnavailable(f"{target} lacks usr/sbin/dockerd or usr/bin/docker after unpacking")
        return found


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("docker", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self._path))
        self.sock = sock


class EngineAPIError(RuntimeError):
    """A GET answered with a status other than 2xx."""

    def __init__(self, path: str, status: int, body: Any) -> None:
        self.path, self.status, self.body = path, status, body
        super().__init__(f"GET {path} -> {status}: {body}")


class ModernEngine(ThrowawayDockerd):
    """A throwaway Engine 28/26 with the containerd image store; a context manager.

    ``engine`` is ``"28"``, ``"26"`` or an :class:`UnpackedEngine`; a name is looked up in
    the cache (:func:`installed_engine`), never fetched: fetching is the install step's.  After
    :meth:`start`, :attr:`engine_version` and :attr:`api_version` hold what ``/version``
    answered and :attr:`driver_status` what ``/info`` said about storage.
    """

    def __init__(
        self,
        engine: str | UnpackedEngine,
        *,
        snapshotter: str | None = None,
        start_timeout: float = 60.0,
        extra_daemon_args: Sequence[str] = (),
        keep_dir: bool = False,
    ) -> None:
        if os.geteuid() != 0:
            raise EngineUnavailable("a modern engine runs as root (dockerd needs it)")
        self.unpacked = engine if isinstance(engine, UnpackedEngine) else installed_engine(engine)
        tools = DockerTools(
            dockerd=str(self.unpacked.dockerd),
            docker=str(self.unpacked.docker),
            busybox=find_busybox() or "",
        )
        super().__init__(
            start_timeout=start_timeout,
            storage_driver=snapshotter or os.environ.get("IL_ENGINE_SNAPSHOTTER") or "overlayfs",
            extra_daemon_args=extra_daemon_args,
            keep_dir=keep_dir,
            tools=tools,
        )
        self.name = self.unpacked.spec.name
        self.config_file.write_text(json.dumps(DAEMON_CONFIG) + "\n", encoding="utf-8")
        # containerd (and BuildKit inside dockerd) accept only [A-Za-z0-9] runs joined by
        # single [._-]; a temp dir's random suffix may end in "_" or hold "__": use hex.
        self.containerd_namespace = "il-" + secrets.token_hex(6)
        self.engine_version: str = ""
        self.api_version: str = ""
        self.driver: str = ""
        self.driver_status: list[list[str]] = []

    def __enter__(self) -> ModernEngine:
        super().__enter__()
        return self

    def __repr__(self) -> str:
        return f"<ModernEngine {self.name} {self.engine_version} {self.host} pid={self.pid}>"

    def daemon_command(self) -> list[str]:
        """``env PATH=<unpacked>:... dockerd ...``: ``env`` execs dockerd (same PID) with that PATH."""
        return [
            "/usr/bin/env",
            f"PATH={self.unpacked.daemon_path}",
            str(self.unpacked.dockerd),
            f"--storage-driver={self.storage_driver}",
            *DEFAULT_DAEMON_FLAGS,
            f"--data-root={self.data_root}",
            f"--exec-root={self.exec_root}",
            f"--pidfile={self.pidfile}",
            f"--config-file={self.config_file}",
            f"--host=unix://{self.socket_path}",
            f"--cgroup-parent={self.cgroup_parent}",
            f"--containerd-namespace={self.containerd_namespace}",
            f"--containerd-plugins-namespace={self.containerd_namespace}-plugins",
            *self.extra_daemon_args,
        ]

    def start(self) -> ModernEngine:
        super().start()
        version = self.get("/version")
        self.engine_version = str(version.get("Version", ""))
        self.api_version = str(version.get("ApiVersion", ""))
        info = self.get("/info")
        self.driver = str(info.get("Driver", ""))
        self.driver_status = [list(pair) for pair in info.get("DriverStatus") or []]
        if ["driver-type", SNAPSHOTTER_DRIVER_TYPE] not in self.driver_status:
            self.stop(remove=False)
            raise DockerdStartError(
                f"Engine {self.engine_version} started without the containerd image store: "
                f"Driver={self.driver!r} DriverStatus={self.driver_status}\n{self.log_tail()}"
            )
        return self

    # ------------------------------------------------------------------ raw API (GET only)
    def request(
        self, path: str, params: Mapping[str, str] | None = None, *, timeout: float = 60.0
    ) -> tuple[int, Any]:
        """``GET path?params`` (unversioned path: the engine's own API version); ``(status, body)``.

        The body is parsed JSON when it is JSON, else the text.
        """
        url = path + ("?" + urllib.parse.urlencode(params) if params else "")
        conn = _UnixHTTPConnection(self.socket_path, timeout)
        try:
            conn.request("GET", url, headers={"Host": "docker"})
            response = conn.getresponse()
            raw = response.read()
            status = response.status
        finally:
            conn.close()
        text = raw.decode("utf-8", errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def get(self, path: str, **params: str) -> Any:
        """The JSON body of ``GET path?params``; :class:`EngineAPIError` unless 2xx."""
        status, body = self.request(path, params or None)
        if not 200 <= status < 300:
            raise EngineAPIError(path, status, body)
        return body


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed.engines", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download and unpack the engines into the cache")
    fetch.add_argument("names", nargs="*", default=list(ENGINES), help=f"any of {', '.join(ENGINES)}")
    fetch.add_argument("--refresh", action="store_true", help="fetch again even if cached")
    where = sub.add_parser("where", help="print the cached engines (no network)")
    where.add_argument("names", nargs="*", default=list(ENGINES))
    args = parser.parse_args(argv)
    status = 0
    for name in args.names:
        try:
            engine = (
                fetch_engine(name, refresh=args.refresh) if args.command == "fetch" else cached_engine(name)
            )
        except EngineUnavailable as error:
            print(f"Engine {name}: {error}", file=sys.stderr)
            status = 1
            continue
        if engine is None:
            print(f"Engine {name}: not cached in {engine_cache_dir()}")
            status = 1
            continue
        versions = " ".join(f"{pkg}={ver}" for pkg, ver in sorted(engine.versions.items()))
        print(f"Engine {name} (Debian {engine.spec.suite}): {engine.root}  {versions}")
    return status


if __name__ == "__main__":
    sys.exit(_main())


def save_classic_family(daemon: ThrowawayDockerd, path: Path, *, prefix: str = "classic") -> dict[str, str]:
    """Build a small busybox family on ``daemon`` (Engine 20.10, legacy builder); ``docker save`` it.

    Tags ``<prefix>/root:1`` (imported busybox), ``<prefix>/app:1`` (+ a RUN layer) and
    ``<prefix>/labelled:1`` (+ LABEL only); returns tag -> image id (the config digest).
    """
    ids = {f"{prefix}/root:1": daemon.import_busybox(f"{prefix}/root:1")}
    ids[f"{prefix}/app:1"] = daemon.build(
        f"FROM {prefix}/root:1\nRUN mkdir -p /opt/app && head -c 30000 /dev/urandom > /opt/app/blob\n",
        f"{prefix}/app:1",
    )
    ids[f"{prefix}/labelled:1"] = daemon.build(
        f"FROM {prefix}/app:1\nLABEL org.example.team=data\n", f"{prefix}/labelled:1"
    )
    daemon.docker("save", "-o", str(path), *ids)
    return ids
