"""A private, throwaway Docker Engine for tests, build scripts and benchmarks.

``ThrowawayDockerd`` starts ``dockerd`` (Debian's ``docker.io``, 20.10.x,
API 1.41) as root in a fresh temporary directory, with everything it owns
kept inside that directory:

* ``<dir>/docker.sock``  the API socket (``unix://`` URL in :attr:`host`)
* ``<dir>/data``         ``--data-root`` (images, vfs layers, and the managed
  containerd's ``root``)
* ``<dir>/exec``         ``--exec-root`` (managed containerd's socket and
  ``state``, runc state, libnetwork)
* ``<dir>/dockerd.pid``  ``--pidfile`` (dockerd deletes it on exit; the
  harness keeps the ``Popen`` handle instead)
* ``<dir>/daemon.json``  an empty ``--config-file`` so the host's
  ``/etc/docker/daemon.json`` is never read
* ``<dir>/dockerd.log``  the daemon's stdout+stderr (appended across restarts)

With no ``--containerd`` flag, dockerd 20.10 starts and supervises its own
containerd, whose socket, state and root directories are derived from
``--exec-root`` and ``--data-root``; so several throwaway daemons can run at
the same time without sharing a containerd.

Daemon flags: ``--storage-driver=vfs`` by default (works on any filesystem;
``storage_driver=`` or ``$IL_DOCKERD_STORAGE_DRIVER`` picks another, e.g.
``overlay2``, which works on this kernel and builds ~5x faster: vfs copies
the whole rootfs per layer and sleeps to the next full second after every
build step), ``--iptables=false --ip6tables=false --bridge=none
--ip-forward=false --ip-masq=false`` (no host network changes; containers
get only a loopback device, which ``RUN`` steps of the legacy builder are
happy with), and ``--cgroup-parent=/<dir name>`` (containers of different
daemons never share a cgroup, and a crashed daemon's orphans can be found).
The one host file all daemons share is ``/etc/docker/key.json`` (created
once, then only read).

Builds use the legacy builder (``DOCKER_BUILDKIT=0``): there is no buildx
plugin.  The CLI is Debian's ``/usr/bin/docker`` (same version as the
daemon) unless ``$IL_DOCKER_CLI`` names another; a newer CLI works too (it
negotiates API 1.41) but prints a "legacy builder is deprecated" banner.
Nothing is ever pulled: base images come from
:meth:`ThrowawayDockerd.import_busybox`.

The module has no pytest import, so scripts can use it::

    sys.path.insert(0, repo_root)
    from testbed.dockerd import ThrowawayDockerd

    with ThrowawayDockerd() as d:
        base = d.import_busybox("sample/busybox-root:latest")
        d.build("FROM sample/busybox-root:latest\\nRUN echo hi > /x\\n", "demo:1")
        print(d.docker("images").stdout)

Stopping mid-run and starting again on the same data root (for tests that
stop the daemon while a scan is in progress)::

    d.stop(remove=False)      # or d.kill() to simulate a crash
    d.start()                 # same socket path, same images

Everything here must run as root.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from .busybox_rootfs import busybox_rootfs_tar, find_busybox

__all__ = [
    "APT_INSTALL_LINE",
    "DockerCommandError",
    "DockerTools",
    "DockerToolsMissing",
    "DockerdStartError",
    "ThrowawayDockerd",
    "require_docker_tools",
]

#: What to run to get every tool this harness needs (Debian 12).
APT_INSTALL_LINE = "apt-get update && apt-get install -y docker.io busybox-static"

#: Unix socket paths are limited to 108 bytes including the NUL.
_MAX_SOCKET_PATH = 100

#: Default daemon flags (besides the per-instance paths).
DEFAULT_DAEMON_FLAGS: tuple[str, ...] = (
    "--iptables=false",
    "--ip6tables=false",
    "--ip-forward=false",
    "--ip-masq=false",
    "--bridge=none",
)


class DockerToolsMissing(RuntimeError):
    """dockerd, the docker CLI or a static busybox is not installed."""


class DockerdStartError(RuntimeError):
    """The daemon did not come up (exited, or no ``/_ping`` answer in time)."""


class DockerCommandError(RuntimeError):
    """A ``docker`` CLI call exited non-zero."""

    def __init__(self, args: Sequence[str], returncode: int, stdout: str, stderr: str):
        self.cmd = list(args)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"docker command failed (exit {returncode}): {' '.join(self.cmd)}\n"
            f"--- stderr ---\n{stderr.strip() or '(empty)'}\n"
            f"--- stdout (last 2000 chars) ---\n{stdout[-2000:].strip() or '(empty)'}"
        )


class DockerTools(NamedTuple):
    """Absolute paths of the external programs the harness runs."""

    dockerd: str
    docker: str
    busybox: str


def _pick_docker_cli(dockerd: str | None) -> str | None:
    """Choose the docker CLI binary.

    ``IL_DOCKER_CLI`` wins if set.  Otherwise prefer the CLI from the same
    package as the daemon (Debian's docker.io installs ``/usr/bin/docker``
    next to ``/usr/sbin/dockerd``); a newer CLI found first on ``PATH``
    (e.g. ``/usr/local/bin/docker`` 28.x) also works (it negotiates API
    1.41) but prints a "legacy builder is deprecated" banner on builds.
    """
    override = os.environ.get("IL_DOCKER_CLI")
    if override:
        return override if os.access(override, os.X_OK) else None
    if dockerd:
        for cand in (Path("/usr/bin/docker"), Path(dockerd).parent / "docker"):
            if cand.is_file() and os.access(cand, os.X_OK):
                return str(cand)
    return shutil.which("docker")


def require_docker_tools() -> DockerTools:
    """Return the tool paths, or raise :class:`DockerToolsMissing`.

    The error names every missing piece and the ``apt-get`` line that
    installs them.  Also checks that we run as root (dockerd needs it).
    """
    dockerd = shutil.which("dockerd") or next(
        (p for p in ("/usr/sbin/dockerd", "/usr/bin/dockerd") if os.access(p, os.X_OK)),
        None,
    )
    docker = _pick_docker_cli(dockerd)
    busybox = find_busybox()
    missing = []
    if not dockerd:
        missing.append("dockerd (package docker.io)")
    if not docker:
        missing.append("docker CLI (package docker.io)")
    if not busybox:
        missing.append("static busybox at /bin/busybox or /usr/bin/busybox (package busybox-static)")
    for helper in ("containerd", "runc"):
        if not shutil.which(helper) and not os.access(f"/usr/sbin/{helper}", os.X_OK):
            missing.append(f"{helper} (installed with docker.io)")
    if missing:
        raise DockerToolsMissing(
            "throwaway dockerd harness cannot run; missing: "
            + "; ".join(missing)
            + f"\nInstall with: {APT_INSTALL_LINE}"
        )
    if os.geteuid() != 0:
        raise DockerToolsMissing("throwaway dockerd harness must run as root (dockerd needs it)")
    return DockerTools(dockerd=str(dockerd), docker=str(docker), busybox=str(busybox))


class ThrowawayDockerd:
    """A private dockerd in a temp dir; use as a context manager.

    Parameters
    ----------
    base_dir:
        Parent of the temp dir (default ``/tmp``; keep it short, the socket
        path must stay under ~100 bytes).
    start_timeout:
        Seconds to wait for ``/_ping`` to answer on :meth:`start`.
    storage_driver:
        ``--storage-driver`` value; default ``$IL_DOCKERD_STORAGE_DRIVER``
        or ``vfs``.
    extra_daemon_args:
        More dockerd flags, appended after the defaults.
    keep_dir:
        If true, :meth:`stop` never deletes the directory (for debugging).
    tools:
        Programs to run instead of Debian's (default :func:`require_docker_tools`);
        ``testbed.engines`` passes an unpacked newer engine here.
    """

    def __init__(
        self,
        *,
        base_dir: str | os.PathLike[str] = "/tmp",
        start_timeout: float = 60.0,
        storage_driver: str | None = None,
        extra_daemon_args: Sequence[str] = (),
        keep_dir: bool = False,
        tools: DockerTools | None = None,
    ) -> None:
        self.tools: DockerTools = tools if tools is not None else require_docker_tools()
        self.start_timeout = start_timeout
        self.storage_driver = storage_driver or os.environ.get("IL_DOCKERD_STORAGE_DRIVER") or "vfs"
        self.extra_daemon_args = tuple(extra_daemon_args)
        self.keep_dir = keep_dir
        self.dir = Path(tempfile.mkdtemp(prefix="il-dockerd-", dir=os.fspath(base_dir)))
        self.socket_path = self.dir / "docker.sock"
        if len(os.fsencode(self.socket_path)) > _MAX_SOCKET_PATH:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise ValueError(f"socket path too long for a unix socket: {self.socket_path}")
        self.data_root = self.dir / "data"
        self.exec_root = self.dir / "exec"
        self.pidfile = self.dir / "dockerd.pid"
        self.config_file = self.dir / "daemon.json"
        self.log_path = self.dir / "dockerd.log"
        #: Containers (incl. build steps) go to /sys/fs/cgroup/<ctrl>/<this>/<id>
        #: instead of the shared ``/docker`` parent, so processes of a killed
        #: daemon's containers can be found and ended, and no two daemons mix.
        self.cgroup_parent = "/" + self.dir.name
        self.config_file.write_text(json.dumps({}) + "\n")
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self._removed = False
        #: Seconds the last :meth:`start` took until ``/_ping`` answered.
        self.last_start_seconds: float | None = None
        # Safety net for scripts that die without calling stop(): never leave
        # a daemon (and gigabytes of vfs layers) behind.
        atexit.register(self._atexit)

    # ------------------------------------------------------------------ basics
    @property
    def host(self) -> str:
        """The ``DOCKER_HOST`` value: ``unix:///tmp/il-dockerd-XXXX/docker.sock``."""
        return f"unix://{self.socket_path}"

    @property
    def env(self) -> dict[str, str]:
        """``os.environ`` copy with ``DOCKER_HOST`` and ``DOCKER_BUILDKIT=0`` set.

        Also drops variables that would redirect or pin the CLI
        (``DOCKER_CONTEXT``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``,
        ``DOCKER_API_VERSION``) and
        points ``DOCKER_CONFIG`` at a private dir so no host credential
        helpers or contexts are consulted.
        """
        env = dict(os.environ)
        for var in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_API_VERSION"):
            env.pop(var, None)
        env["DOCKER_HOST"] = self.host
        env["DOCKER_BUILDKIT"] = "0"
        env["DOCKER_CONFIG"] = str(self.dir / "cli-config")
        env["DOCKER_CLI_HINTS"] = "false"
        return env

    @property
    def pid(self) -> int | None:
        """PID of the running dockerd, or ``None``."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def __repr__(self) -> str:
        return f"<ThrowawayDockerd {self.host} pid={self.pid}>"

    def __enter__(self) -> ThrowawayDockerd:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(remove=not self.keep_dir)

    # --------------------------------------------------------------- lifecycle
    def daemon_command(self) -> list[str]:
        """The full dockerd command line used by :meth:`start`."""
        return [
            self.tools.dockerd,
            f"--storage-driver={self.storage_driver}",
            *DEFAULT_DAEMON_FLAGS,
            f"--data-root={self.data_root}",
            f"--exec-root={self.exec_root}",
            f"--pidfile={self.pidfile}",
            f"--config-file={self.config_file}",
            f"--host=unix://{self.socket_path}",
            f"--cgroup-parent={self.cgroup_parent}",
            *self.extra_daemon_args,
        ]

    def start(self) -> ThrowawayDockerd:
        """Start dockerd (again) on this instance's data root; wait for ``/_ping``.

        Raises :class:`DockerdStartError` with the log tail if the daemon
        exits or does not answer within ``start_timeout`` seconds.
        """
        with self._lock:
            if self._removed:
                raise RuntimeError(f"{self.dir} was removed; create a new ThrowawayDockerd")
            if self.running:
                return self
            # Leftovers from a killed daemon: its containerd (and shims) and
            # the stale socket.  dockerd would cope with most of it, but be tidy.
            self._kill_leftover_processes()
            self.socket_path.unlink(missing_ok=True)
            self.pidfile.unlink(missing_ok=True)
            # dockerd trusts <exec-root>/containerd/containerd.pid: if that pid
            # still "exists" (a killed containerd that is an unreaped zombie
            # looks alive to kill -0) it waits for the dead containerd's socket
            # and gives up with "timeout waiting for containerd to start".
            (self.exec_root / "containerd" / "containerd.pid").unlink(missing_ok=True)
            env = dict(os.environ)
            env.pop("DOCKER_HOST", None)
            # dockerd looks up containerd, runc and docker-init on PATH.
            env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin"
            with self.log_path.open("ab") as log:
                log.write(f"\n===== starting {' '.join(self.daemon_command())}\n".encode())
                log.flush()
                t0 = time.monotonic()
                self._proc = subprocess.Popen(
                    self.daemon_command(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,  # keep terminal ^C away from it
                )
            try:
                self._wait_ready(t0)
            except BaseException:
                self._terminate(graceful=True, timeout=10.0)
                raise
            self.last_start_seconds = time.monotonic() - t0
            return self

    def _wait_ready(self, t0: float) -> None:
        deadline = t0 + self.start_timeout
        last_err = "no answer yet"
        while True:
            proc = self._proc
            assert proc is not None
            rc = proc.poll()
            if rc is not None:
                raise DockerdStartError(
                    f"dockerd exited with code {rc} before answering /_ping\n"
                    f"command: {' '.join(self.daemon_command())}\n"
                    f"--- {self.log_path} (tail) ---\n{self.log_tail()}"
                )
            ok, last_err = self.ping()
            if ok:
                return
            if time.monotonic() > deadline:
                raise DockerdStartError(
                    f"dockerd did not answer /_ping on {self.socket_path} within "
                    f"{self.start_timeout:.0f}s (last error: {last_err})\n"
                    f"--- {self.log_path} (tail) ---\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def ping(self, timeout: float = 2.0) -> tuple[bool, str]:
        """``GET /_ping`` over the unix socket; return ``(ok, detail)``."""
        if not self.socket_path.exists():
            return False, "socket does not exist"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(str(self.socket_path))
                s.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
                chunks = []
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    chunks.append(chunk)
        except OSError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        reply = b"".join(chunks)
        status = reply.split(b"\r\n", 1)[0].decode(errors="replace")
        if " 200 " in status + " " and reply.rstrip().endswith(b"OK"):
            return True, status
        return False, status or "empty reply"

    def stop(self, *, remove: bool = True, timeout: float = 30.0) -> None:
        """Stop the daemon: SIGTERM, wait ``timeout`` s, then SIGKILL.

        A clean stop takes about 1 s, but each running container (e.g. a
        ``RUN`` step in flight) gets its 10 s stop timeout first; use
        :meth:`kill` when that does not matter.

        With ``remove=True`` (the default) also kill any leftover containerd
        or shim that belongs to this directory, unmount whatever is still
        mounted under it and delete it.  With ``remove=False`` the data root
        is kept so :meth:`start` can bring the same daemon back.
        Safe to call more than once and from another thread.
        """
        with self._lock:
            self._terminate(graceful=True, timeout=timeout)
            if remove:
                self.remove()

    def kill(self) -> None:
        """SIGKILL the daemon (simulated crash); the data root is kept.

        Its managed containerd is killed too, so a later :meth:`start` begins
        from a clean process state, but the on-disk state is whatever the
        crash left.
        """
        with self._lock:
            self._terminate(graceful=False, timeout=0)

    def restart(self, *, timeout: float = 30.0) -> ThrowawayDockerd:
        """``stop(remove=False)`` then ``start()`` on the same data root."""
        self.stop(remove=False, timeout=timeout)
        return self.start()

    def _terminate(self, *, graceful: bool, timeout: float) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            if graceful:
                proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=timeout)
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=30)
        elif proc is not None:
            proc.wait()
        self._proc = None
        # A graceful dockerd stops its containerd itself; after SIGKILL (or a
        # daemon that hung) the containerd child and shims are orphaned.
        self._kill_leftover_processes()

    def _own_pids(self) -> list[int]:
        """PIDs whose command line mentions this instance's ``--exec-root``.

        That matches exactly the processes started for this instance:
        dockerd (``--exec-root=<dir>/exec``), its managed containerd
        (``--config <dir>/exec/containerd/containerd.toml``) and containerd
        shims (``-address <dir>/exec/containerd/containerd.sock``); the
        directory name is unique, and docker CLI calls never name it.
        """
        root = os.fsencode(str(self.exec_root))
        markers = (root + b"/", root + b"\0")
        me = os.getpid()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if any(m in cmdline for m in markers):
                pids.append(int(entry.name))
        return pids

    def _cgroup_dirs(self) -> list[Path]:
        """This instance's container cgroup dirs, deepest first."""
        root = Path("/sys/fs/cgroup")
        name = self.cgroup_parent.strip("/")
        found: list[Path] = []
        if not root.is_dir():
            return found
        # cgroup v2 (root / name) or v1 hierarchies (root / <controller> / name)
        for top in [root / name] + [c / name for c in root.iterdir() if c.is_dir()]:
            if top.is_dir():
                found.extend(Path(dirpath) for dirpath, _dirs, _files in os.walk(top))
        return sorted(set(found), key=lambda p: len(p.parts), reverse=True)

    def _container_pids(self) -> list[int]:
        """PIDs still in this instance's container cgroups (orphans after a crash)."""
        pids: set[int] = set()
        for cg in self._cgroup_dirs():
            try:
                text = (cg / "cgroup.procs").read_text()
            except OSError:
                continue
            pids.update(int(x) for x in text.split() if x.isdigit())
        return sorted(p for p in pids if _alive(p))

    def _remove_cgroups(self) -> None:
        for cg in self._cgroup_dirs():
            with contextlib.suppress(OSError):
                cg.rmdir()

    def _kill_leftover_processes(self) -> None:
        # Order: containerd/shims/dockerd first, then container processes
        # (which outlive a SIGKILLed shim, reparented to PID 1).
        self._kill_pids(self._own_pids())
        # A container's init ignores SIGTERM sent from outside its PID
        # namespace unless it installed a handler: go straight to SIGKILL.
        self._kill_pids(self._container_pids(), graceful=False)

    @staticmethod
    def _kill_pids(pids: list[int], *, graceful: bool = True) -> None:
        if not pids:
            return
        signals = (signal.SIGTERM, signal.SIGKILL) if graceful else (signal.SIGKILL,)
        for sig in signals:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + (5.0 if sig == signal.SIGTERM else 10.0)
            while time.monotonic() < deadline:
                pids = [p for p in pids if _alive(p)]
                if not pids:
                    return
                time.sleep(0.05)

    def _mounts_under_dir(self) -> list[str]:
        prefix = str(self.dir)
        found: list[str] = []
        try:
            text = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return found
        for line in text.splitlines():
            fields = line.split()
            if len(fields) < 5:
                continue
            mnt = fields[4].replace("\\040", " ")
            if mnt == prefix or mnt.startswith(prefix + "/"):
                found.append(mnt)
        return found

    def _unmount_all(self) -> None:
        # dockerd bind-mounts --data-root onto itself (private propagation)
        # and unmounts it on clean shutdown; after SIGKILL it stays mounted.
        # Containers' shm/rootfs mounts may also be left.  Deepest first.
        for _ in range(5):
            mounts = self._mounts_under_dir()
            if not mounts:
                return
            for mnt in sorted(set(mounts), key=len, reverse=True):
                r = subprocess.run(["umount", mnt], capture_output=True, check=False)
                if r.returncode != 0:
                    subprocess.run(["umount", "-l", mnt], capture_output=True, check=False)

    def remove(self) -> None:
        """Delete the temp dir (daemon must be stopped).  Idempotent."""
        with self._lock:
            if self.running:
                raise RuntimeError("stop the daemon before removing its directory")
            if self._removed:
                return
            self._kill_leftover_processes()
            self._remove_cgroups()
            self._unmount_all()

            def onerror(func: Callable[[str], object], path: str, _exc_info: object) -> None:
                # vfs layers can hold read-only dirs; make writable and retry.
                # (Root ignores permission bits, so this is for non-root or
                # odd filesystems; immutable files would still fail.)
                with contextlib.suppress(OSError):
                    p = Path(path)
                    p.parent.chmod(0o700)
                    if p.is_dir() and not p.is_symlink():
                        p.chmod(0o700)
                    func(path)

            if sys.version_info >= (3, 12):
                shutil.rmtree(self.dir, onexc=onerror)
            else:
                shutil.rmtree(self.dir, onerror=onerror)
            if self.dir.exists():
                # Something was still mounted or busy; one last lazy-unmount pass.
                self._unmount_all()
                shutil.rmtree(self.dir, ignore_errors=True)
            self._removed = not self.dir.exists()
            if not self._removed:
                raise RuntimeError(f"could not remove {self.dir}")
            atexit.unregister(self._atexit)

    def _atexit(self) -> None:
        # Best effort at interpreter exit: never raise from an atexit hook.
        with contextlib.suppress(Exception):
            if self.running or not self._removed:
                self.stop(remove=not self.keep_dir, timeout=15.0)

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the daemon log."""
        try:
            data = self.log_path.read_bytes()
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(data.decode(errors="replace").splitlines()[-lines:])

    # ------------------------------------------------------------- docker CLI
    def docker(
        self,
        *args: str,
        input: str | bytes | None = None,
        check: bool = True,
        timeout: float | None = 900.0,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against this daemon; stdout/stderr as text.

        ``input`` may be text or bytes (e.g. a tar stream for ``import -``).
        With ``check=True`` a non-zero exit raises :class:`DockerCommandError`
        carrying stderr.  ``env`` entries are added on top of :attr:`env`.
        """
        cmd = [self.tools.docker, *args]
        run_env = self.env
        if env:
            run_env.update(env)
        data = input.encode() if isinstance(input, str) else input
        res = subprocess.run(
            cmd,
            check=False,
            input=data,
            capture_output=True,
            env=run_env,
            timeout=timeout,
            stdin=None if data is not None else subprocess.DEVNULL,
        )
        out = res.stdout.decode(errors="replace")
        err = res.stderr.decode(errors="replace")
        if check and res.returncode != 0:
            raise DockerCommandError(cmd, res.returncode, out, err)
        return subprocess.CompletedProcess(cmd, res.returncode, out, err)

    def import_busybox(
        self,
        tag: str = "sample/busybox-root:latest",
        *,
        extra_files: Mapping[str, bytes | str] | None = None,
        changes: Sequence[str] = ('CMD ["/bin/sh"]',),
        message: str = "busybox rootfs (image-lineage test harness)",
    ) -> str:
        """Import the host's static busybox as image ``tag``; return its id.

        The image has ``CMD ["/bin/sh"]`` (see ``changes``: Dockerfile
        instructions passed as ``docker import --change``) and no parent:
        like a base image pulled from a registry, its history has a single
        row (``docker history`` shows the ``message`` as COMMENT).
        ``extra_files`` are added to the rootfs (see
        :func:`~testbed.busybox_rootfs.busybox_rootfs_tar`).
        """
        tar = busybox_rootfs_tar(self.tools.busybox, extra_files=extra_files)
        change_args: list[str] = []
        for change in changes:
            change_args += ["--change", change]
        res = self.docker("import", *change_args, "--message", message, "-", tag, input=tar)
        image_id = res.stdout.strip().splitlines()[-1].strip()
        if not image_id.startswith("sha256:"):
            raise DockerCommandError(["import", tag], 0, res.stdout, "unexpected output: no image id")
        return image_id

    def build(
        self,
        context_or_dockerfile: str | os.PathLike[str],
        tag: str | None,
        *extra_args: str,
    ) -> str:
        """Build with the legacy builder; return the new image id.

        ``context_or_dockerfile`` is either

        * a directory (``Path`` or ``str``): the build context, using its
          ``Dockerfile`` unless ``-f`` is in ``extra_args``;
        * a path to a Dockerfile (``Path`` or ``str``): its directory is the
          context;
        * a ``str`` containing a newline: Dockerfile text, sent on stdin with
          an empty context (so no ``COPY``/``ADD``).

        ``tag`` may be ``None`` to build an untagged image.  ``extra_args``
        go before the context, e.g. ``"--build-arg", "BASE=x:1"``,
        ``"--target", "builder"``, ``"--label", "k=v"``.
        """
        fd, iid_name = tempfile.mkstemp(prefix="iid-", dir=self.dir)
        os.close(fd)
        iidfile = Path(iid_name)
        try:
            args = ["build", "--iidfile", str(iidfile)]
            if tag:
                args += ["-t", tag]
            args += list(extra_args)
            if isinstance(context_or_dockerfile, str) and "\n" in context_or_dockerfile:
                self.docker(*args, "-", input=context_or_dockerfile)
            else:
                path = Path(context_or_dockerfile)
                if path.is_dir():
                    self.docker(*args, str(path))
                elif path.is_file():
                    self.docker(*args, "-f", str(path), str(path.parent))
                else:
                    raise FileNotFoundError(f"no build context or Dockerfile at {path}")
            image_id = iidfile.read_text().strip()
        finally:
            iidfile.unlink(missing_ok=True)
        if not image_id:
            raise DockerCommandError(["build", str(tag)], 0, "", "build wrote no image id")
        return image_id

    def image_ids(self, *, all: bool = False) -> list[str]:
        """Full ids from ``docker images -q --no-trunc`` (``-a`` if ``all``)."""
        args = ["images", "-q", "--no-trunc"] + (["-a"] if all else [])
        return [line for line in self.docker(*args).stdout.split() if line]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; treat it as dead.
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        return stat.rsplit(b") ", 1)[1][:1] != b"Z"
    except (OSError, IndexError):
        return False
