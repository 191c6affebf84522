"""Platforms (``os/architecture[/variant]``): parsing, matching, the host's, short names.

Pure and dependency-free, so that lineage, views and renderers share one reading of
what "the same platform" means. An unknown platform ("") matches every platform, and so
does an unknown part of one. A variant left out is the architecture's default one, as
containerd reads it: ``linux/arm64`` is ``linux/arm64/v8``, ``linux/arm`` is
``linux/arm/v7``, ``linux/amd64`` is ``linux/amd64/v1``.
"""

from __future__ import annotations

import platform as _platform

ALL = "all"
"""What ``--platform`` takes for every platform."""

DEFAULT_VARIANTS = {"arm64": "v8", "arm": "v7", "amd64": "v1"}

# ``uname -m`` (Python's ``platform.machine()``) -> Go's (OCI's) architecture and variant.
MACHINES = {
    "x86_64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "arm64": ("arm64", ""),
    "armv8l": ("arm", "v8"),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "armv5tel": ("arm", "v5"),
    "i386": ("386", ""),
    "i486": ("386", ""),
    "i586": ("386", ""),
    "i686": ("386", ""),
    "x86": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "ppc64": ("ppc64", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
    "mips64": ("mips64", ""),
    "mips64el": ("mips64le", ""),
    "loongarch64": ("loong64", ""),
}

Parts = tuple[str, str, str]


def host_platform() -> str:
    """The platform this machine's images are built for: ``linux/<Go arch>[/variant]``.

    Always ``linux``: the engines this tool reads run Linux images, also on macOS and
    Windows (in a virtual machine of the same architecture).
    """
    machine = _platform.machine().lower()
    architecture, variant = MACHINES.get(machine, (machine, ""))
    return join(("linux", architecture, variant))


def parse(text: str) -> Parts:
    """``os/arch[/variant]`` -> its three parts, lower case; "" -> three empty parts."""
    parts = [part.strip().lower() for part in text.strip().split("/")]
    parts += [""] * (3 - len(parts))
    return parts[0], parts[1], "/".join(parts[2:])


def join(parts: Parts) -> str:
    """The inverse of ``parse``: "" when neither os nor architecture is known."""
    os, architecture, variant = parts
    if not (os or architecture):
        return ""
    return "/".join(part for part in (os, architecture, variant) if part)


def is_valid(text: str) -> bool:
    """Whether ``text`` names a platform as ``--platform`` takes it: ``os/arch[/variant]``."""
    pieces = text.strip().split("/")
    return 2 <= len(pieces) <= 3 and all(piece.strip() for piece in pieces)


def _variant(architecture: str, variant: str) -> str:
    return variant or DEFAULT_VARIANTS.get(architecture, "")


def normalized(text: str) -> Parts:
    """The parts with the default variant filled in: equal for ``linux/arm64`` and ``linux/arm64/v8``."""
    os, architecture, variant = parse(text)
    return os, architecture, _variant(architecture, variant)


def compatible(one: str, other: str) -> bool:
    """Whether two images' platforms may be the same: every part both know is equal.

    Used by lineage: an image is never the parent of an image of another known platform.
    """
    if one == other:  # most pairs (1,000 images: ~16,000 asked by stale alone)
        return True
    a, b = parse(one), parse(other)
    if a[0] and b[0] and a[0] != b[0]:
        return False
    if a[1] and b[1] and a[1] != b[1]:
        return False
    if a[1] and b[1] and (a[2] or b[2]):
        return _variant(a[1], a[2]) == _variant(b[1], b[2])
    return True


def matches(image_platform: str, wanted: str) -> bool:
    """Whether an image of ``image_platform`` is shown when ``wanted`` is asked for.

    ``all`` and an unknown image platform match everything; a ``wanted`` without a
    variant matches every variant of its architecture (``linux/arm`` takes v6 and v7).
    """
    if wanted == ALL or not image_platform:
        return True
    want_os, want_architecture, want_variant = parse(wanted)
    os, architecture, variant = parse(image_platform)
    if os and os != want_os:
        return False
    if architecture and architecture != want_architecture:
        return False
    if not want_variant or not architecture:
        return True
    return _variant(architecture, variant) == _variant(want_architecture, want_variant)


def short(text: str) -> str:
    """``linux/arm64`` -> ``arm64``, ``linux/arm/v7`` -> ``arm/v7``; other systems stay whole."""
    return text.removeprefix("linux/") if text.startswith("linux/") else text


def ordered(platforms: set[str]) -> list[str]:
    """Known platforms in a stable order (``linux/amd64`` before ``linux/arm64``...)."""
    return sorted(p for p in platforms if p)
