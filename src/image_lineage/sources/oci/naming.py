"""Names and platforms as sources spell them: index annotations, ``docker images``, this machine."""

from __future__ import annotations

import platform

from image_lineage.reference import familiar
from image_lineage.sources.oci.descriptor import Descriptor

#: Annotations that name an image in an index (containerd's first, then the OCI one).
REF_NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")

# Python's name for a machine -> the architecture an OCI platform calls it.
_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def native_architecture() -> str:
    """This machine's architecture as OCI platforms spell it (``amd64``, ``arm64``...)."""
    machine = platform.machine()
    return _ARCHITECTURES.get(machine.lower(), machine)


def names_of(descriptor: Descriptor) -> tuple[str, ...]:
    """The name a layout's ``index.json`` gives an entry, as ``docker images`` shows it."""
    name = next((n for key in REF_NAME_ANNOTATIONS if (n := descriptor.annotation(key))), "")
    return (familiar(name),) if name else ()
