"""Build a tiny busybox root filesystem as an in-memory tar stream.

The throwaway Docker daemon used by the tests never pulls from a registry.
Base images are made offline instead: ``docker import`` of a tar stream that
holds the host's *static* busybox binary plus one symlink per applet
(``busybox --list``), a minimal ``/etc/passwd`` and ``/etc/group``, and a
world-writable ``/tmp``.  That is enough for ``RUN`` steps such as
``mkdir -p /opt/x && head -c 1000000 /dev/urandom > /opt/x/blob`` or
``adduser -D jovyan``.

No pytest imports here: build scripts and benchmarks use this module too.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "BUSYBOX_CANDIDATES",
    "busybox_applets",
    "busybox_rootfs_tar",
    "busybox_version",
    "find_busybox",
]

#: Where Debian's ``busybox-static`` package puts the binary (``/bin`` is a
#: symlink to ``/usr/bin`` on merged-/usr systems, but not everywhere).
BUSYBOX_CANDIDATES: tuple[str, ...] = ("/bin/busybox", "/usr/bin/busybox")

# "x" / "*" are the usual no-password placeholders.
_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"  # noqa: S105
_GROUP = "root:x:0:\nnogroup:x:65534:\n"
_SHADOW = "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n"


def find_busybox() -> str | None:
    """Return the path of a usable busybox binary, or ``None``.

    The binary must be statically linked, because the image holds no libc.
    Dynamic busybox builds (Debian's plain ``busybox`` package) are skipped.
    """
    candidates = list(BUSYBOX_CANDIDATES)
    on_path = shutil.which("busybox")
    if on_path and on_path not in candidates:
        candidates.append(on_path)
    for path in candidates:
        if Path(path).is_file() and os.access(path, os.X_OK) and _is_static(path):
            return path
    return None


def _is_static(path: str) -> bool:
    """Return True if ``path`` is an ELF executable without a PT_INTERP header.

    A dynamically linked executable names its program interpreter (the
    ``ld.so``) in a PT_INTERP program header; a static one has none.
    """
    try:
        with Path(path).open("rb") as fh:
            ident = fh.read(16)
            if len(ident) < 16 or not ident.startswith(b"\x7fELF"):
                return False
            is64 = ident[4] == 2
            endian = "<" if ident[5] == 1 else ">"
            if is64:
                fh.seek(0x20)
                (phoff,) = struct.unpack(endian + "Q", fh.read(8))
                fh.seek(0x36)
            else:
                fh.seek(0x1C)
                (phoff,) = struct.unpack(endian + "I", fh.read(4))
                fh.seek(0x2A)
            phentsize, phnum = struct.unpack(endian + "HH", fh.read(4))
            for i in range(phnum):
                fh.seek(phoff + i * phentsize)
                (p_type,) = struct.unpack(endian + "I", fh.read(4))
                if p_type == 3:  # PT_INTERP
                    return False
            return True
    except (OSError, struct.error):
        return False


def busybox_applets(busybox: str) -> list[str]:
    """List the applets the binary provides (``busybox --list``)."""
    out = subprocess.run([busybox, "--list"], check=True, capture_output=True, text=True).stdout
    return sorted({line.strip() for line in out.splitlines() if line.strip()})


def busybox_version(busybox: str) -> str:
    """The binary's version, e.g. ``1.35.0`` (``unknown`` when its banner names none)."""
    out = subprocess.run([busybox], check=False, capture_output=True, text=True).stdout
    match = re.search(r"BusyBox v(\d[\w.]*)", out)
    return match.group(1) if match else "unknown"


def busybox_rootfs_tar(
    busybox: str | None = None,
    *,
    mtime: int | None = None,
    extra_files: Mapping[str, bytes | str] | None = None,
) -> bytes:
    """Return an uncompressed tar stream of a minimal busybox rootfs.

    Layout::

        bin/busybox            the static binary (mode 0755)
        bin/<applet> -> busybox   one symlink per applet, ``sh`` included
        etc/passwd, etc/group, etc/shadow, etc/hostname
        root/  tmp/ (1777)  var/tmp/ (1777)  home/  opt/

    ``mtime`` defaults to the current time; pass a fixed value to make the
    tar stream byte-for-byte reproducible (the image id still differs per
    import because ``docker import`` stamps its own creation time).

    ``extra_files`` maps relative paths (e.g. ``"etc/os-release"``) to file
    contents; they are added after, and so override, the defaults, with their
    missing parent directories, in place of a default file or applet link of
    the same name (``bin/sh``). They get mode 0644, or 0755 when they start
    with ``#!`` or are ELF files (programs). Use them to make two imported roots whose layers
    differ: two imports of byte-identical tar streams yield the *same* layer
    digest (diff_id).
    """
    bb = busybox or find_busybox()
    if bb is None:
        raise FileNotFoundError(
            "no static busybox found (looked at "
            + ", ".join(BUSYBOX_CANDIDATES)
            + "); install it with: apt-get install -y busybox-static"
        )
    stamp = int(time.time()) if mtime is None else mtime
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = mode
            info.mtime = stamp
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = stamp
            tar.addfile(info, io.BytesIO(data))

        for d, mode in (
            ("bin", 0o755),
            ("sbin", 0o755),
            ("etc", 0o755),
            ("root", 0o700),
            ("home", 0o755),
            ("opt", 0o755),
            ("tmp", 0o1777),
            ("var", 0o755),
            ("var/tmp", 0o1777),
            ("usr", 0o755),
            ("usr/bin", 0o755),
        ):
            add_dir(d, mode)

        extra = {name.lstrip("/"): content for name, content in (extra_files or {}).items()}
        add_file("bin/busybox", Path(bb).read_bytes(), 0o755)
        for applet in busybox_applets(bb):
            if applet == "busybox" or f"bin/{applet}" in extra:
                continue
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            link.mode = 0o777
            link.mtime = stamp
            tar.addfile(link)
        # Scripts commonly use /usr/bin/env in shebangs.
        env_link = tarfile.TarInfo("usr/bin/env")
        env_link.type = tarfile.SYMTYPE
        env_link.linkname = "/bin/busybox"
        env_link.mode = 0o777
        env_link.mtime = stamp
        tar.addfile(env_link)

        for name, data, mode in (
            ("etc/passwd", _PASSWD.encode(), 0o644),
            ("etc/group", _GROUP.encode(), 0o644),
            ("etc/shadow", _SHADOW.encode(), 0o640),
            ("etc/hostname", b"busybox\n", 0o644),
        ):
            if name not in extra:  # a tar stream must not name a file twice
                add_file(name, data, mode)
        made = {"bin", "sbin", "etc", "root", "home", "opt", "tmp", "var", "var/tmp", "usr", "usr/bin"}
        for rel, content in extra.items():
            parts = Path(rel).parts[:-1]
            for depth in range(1, len(parts) + 1):
                parent = "/".join(parts[:depth])
                if parent not in made:
                    made.add(parent)
                    add_dir(parent)
            data = content.encode() if isinstance(content, str) else content
            add_file(rel, data, 0o755 if data.startswith((b"#!", b"\x7fELF")) else 0o644)
    return buf.getvalue()


if __name__ == "__main__":  # pragma: no cover - manual helper
    import sys

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("busybox-rootfs.tar")
    out.write_bytes(busybox_rootfs_tar())
    print(f"wrote {out} ({out.stat().st_size} bytes)")
