"""The blob-source interface: how the walker (and the layer readers after it) get at blobs.

A :class:`BlobSource` reads blobs by descriptor, never by path or URL: an OCI or
``docker save`` layout (tar, directory, one-pass stream), a registry, an engine's export,
or containerd's content store.

* ``read_many`` gives whole small blobs (manifests, indexes, configs), at most ``limit``
  bytes each, in one batch so that a registry can fetch them side by side; a blob the source
  does not hold, or could not read, is an :class:`Unread` saying why. The walker checks
  every blob against its digest (:func:`check`), whatever the source.
* ``open`` gives a layer blob as a stream, to read once from the start; the stream checks
  the digest as it is read and raises :class:`DigestMismatch` at its end if it does not match.

``Want.scope`` is where the source looks (a registry's repository; "" in a layout): the
walker passes it from a root to everything below it without reading it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO, Any, Protocol

from image_lineage.sources.oci.descriptor import Descriptor

#: ``Unread.code`` of a blob the source simply does not hold (a layout keeps some platforms only).
ABSENT = "blob_absent"
#: Digest algorithms this tool can check; a blob named by any other is not trusted.
ALGORITHMS = frozenset({"sha256", "sha384", "sha512"})


@dataclass(frozen=True, slots=True)
class Want:
    """A blob to read: its descriptor, where the source finds it (opaque to the walker), and
    whether it is a manifest or an index (a registry serves those apart from other blobs)."""

    descriptor: Descriptor
    scope: str = ""
    manifest: bool = False


@dataclass(frozen=True, slots=True)
class Unread:
    """Why a blob was not read; ``code`` is a diagnostic code."""

    code: str
    reason: str

    def fault(self) -> bool:
        """Whether this is a fault to report: a blob the source simply does not hold (a layout
        keeps some platforms only) is none."""
        return self.code != ABSENT


class BlobSource(Protocol):
    """Blobs by descriptor, wherever they are kept."""

    def read_many(self, wanted: Sequence[Want], limit: int) -> Mapping[str, bytes | Unread]:
        """Each wanted blob by digest: its bytes (at most ``limit``), or why it was not read."""
        ...

    def open(self, want: Want) -> AbstractContextManager[IO[bytes]]:
        """A (layer) blob as a stream, checked against its digest as it is read (see ``Checked``):
        ``DigestMismatch`` at its end, or at once from a source that had to read it whole."""
        ...


class DigestMismatch(OSError):
    """A streamed blob whose bytes do not hash to its digest (raised when its end is read)."""


def check(descriptor: Descriptor, data: bytes, limit: int) -> bytes | Unread:
    """``data`` if it is no bigger than ``limit`` and hashes to the descriptor's digest."""
    if len(data) > limit:
        return Unread("blob_too_big", f"{descriptor.digest} is more than {limit} bytes: not read")
    algorithm, _, expected = descriptor.digest.partition(":")
    digest = descriptor.digest
    if algorithm not in ALGORITHMS:
        return Unread("digest_mismatch", f"{digest} names a digest algorithm this tool cannot check")
    if hashlib.new(algorithm, data).hexdigest() != expected:
        return Unread("digest_mismatch", f"{digest} does not match its digest: refused, not trusted")
    return data


def too_big(descriptor: Descriptor, limit: int) -> Unread | None:
    """Refuse unread a blob whose descriptor says it is bigger than ``limit``."""
    if descriptor.size > limit:
        size, digest = descriptor.size, descriptor.digest
        return Unread("blob_too_big", f"{digest} is {size} bytes, more than {limit}: not read")
    return None


class Checked(io.RawIOBase):
    """A blob's stream that hashes what is read and, at its end, refuses a digest mismatch."""

    def __init__(self, raw: IO[bytes], descriptor: Descriptor) -> None:
        algorithm, _, self._expected = descriptor.digest.partition(":")
        if algorithm not in ALGORITHMS:
            raise DigestMismatch(f"{descriptor.digest} names a digest algorithm this tool cannot check")
        self._raw = raw
        self._hash = hashlib.new(algorithm)
        self._digest = descriptor.digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(len(view))
        if not data:
            if self._hash.hexdigest() != self._expected:
                raise DigestMismatch(f"{self._digest} does not match its digest: refused, not trusted")
            return 0
        view[: len(data)] = data
        self._hash.update(data)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()
