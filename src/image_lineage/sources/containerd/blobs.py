"""containerd's content store as one more backend of the OCI core's blob-source interface.

The walker (``sources/oci/walk.py``) reads manifests, indexes and configs through
``read_many``; ``open`` streams a layer (for the layer contents still to come). Either way a blob is read by
its digest with content ``Read``, in the namespace its ``Want.scope`` names (the namespace
of the image whose walk reached it). containerd keeps content per namespace: a blob
another namespace holds is absent here, as a platform never pulled is.

Small blobs are kept in the cache (``cache.BlobCache``, one cache namespace per containerd
socket and namespace: a digest names its bytes for good), so a warm scan lists images and
reads nothing else; the walker checks every blob against its digest, cached or not.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Mapping, Sequence
from contextlib import AbstractContextManager, closing
from typing import IO, Any

from image_lineage.cache import BlobCache
from image_lineage.sources.containerd.client import Client
from image_lineage.sources.oci.blobs import Checked, Unread, Want, too_big


class ContainerdBlobs:
    """Blobs from one containerd's content store, by digest and namespace (``Want.scope``).

    ``others``: namespaces to look in too when the blob is not in its own (with
    ``?namespace=all``, a platform one namespace lacks may be in another). The walker reads
    each digest once, in the namespace of the first image that reaches it.
    """

    def __init__(
        self, client: Client, caches: Mapping[str, BlobCache] | None = None, others: Sequence[str] = ()
    ) -> None:
        self.client = client
        self.caches = caches or {}  # by namespace
        self.others = tuple(others)
        self.absent: list[tuple[str, str]] = []  # (namespace, digest) read and not there
        self.held_back: list[str] = []  # digests the cache would not keep (a secret in them)

    def read_many(self, wanted: Sequence[Want], limit: int) -> Mapping[str, bytes | Unread]:
        found: dict[str, bytes | Unread] = {}
        for scope, cache in self.caches.items():
            found.update(cache.get_many(w.descriptor.digest for w in wanted if w.scope == scope))
        fresh: dict[str, dict[str, bytes]] = {}  # by namespace: what to cache
        for want in wanted:
            digest = want.descriptor.digest
            if digest not in found:
                found[digest] = too_big(want.descriptor, limit) or self._read(want, limit, fresh)
        for scope, blobs in fresh.items():
            if scope in self.caches:
                self.held_back += self.caches[scope].put_many(blobs)  # read back only if they hash
        return found

    def _read(self, want: Want, limit: int, fresh: dict[str, dict[str, bytes]]) -> bytes | Unread:
        """The blob from its namespace, else from the first other one that holds it."""
        digest = want.descriptor.digest
        for scope in dict.fromkeys((want.scope, *self.others)):
            got = self.client.read(scope, digest, limit)
            if isinstance(got, bytes):
                fresh.setdefault(scope, {})[digest] = got
                return got
            if got.fault():
                return got
            self.absent.append((scope, digest))
        return got

    def open(self, want: Want) -> AbstractContextManager[IO[bytes]]:
        """A blob streamed by content ``Read`` and checked against its digest as it is read.

        A blob containerd does not hold in this namespace is a ``client.Missing`` (a
        ``SourceUnavailable``) at once, any other failure a ``SourceUnavailable`` as it comes;
        ``DigestMismatch`` at the stream's end; closing the stream early cancels the read.
        """
        chunks = self.client.chunks(want.scope, want.descriptor.digest)
        try:
            first = next(chunks, b"")  # a blob that is not there fails here, not at the first read
        except BaseException:
            chunks.close()
            raise
        raw = io.BufferedReader(_ChunkStream(first, chunks))
        return closing(io.BufferedReader(Checked(raw, want.descriptor)))


class _ChunkStream(io.RawIOBase):
    """An iterator of chunks as a raw stream; closing it closes the iterator (cancels the call)."""

    def __init__(self, first: bytes, rest: Generator[bytes, None, None]) -> None:
        self._pending = first
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._rest)
            except StopIteration:
                return 0
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        self._rest.close()
        super().close()
