"""What every source shares: the progress callback, the default timeout, the JSON size cap,
and the two small interfaces of a source whose image list is read before the rest.

Kept free of imports beyond ``collections.abc`` and ``typing`` so that any source (and the
front ends, for their ``--timeout`` default) can use it without pulling in another source's
modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    from image_lineage.model import Scan

#: Seconds one request to an engine or a registry may take, answer included.
DEFAULT_TIMEOUT = 30.0

#: The most a manifest, index or image config may weigh: real ones are kilobytes, so a
#: larger one is hostile or not what its name says, and is refused unread.
MAX_JSON_BYTES = 16 * 1024 * 1024

#: ``progress(done, total)``: called as a scan advances, from the scanning thread.
Progress = Callable[[int, int], None]


class ImageListing(Protocol):
    """A source's image list, read (cheaply), its connection open; ``scan`` reads the rest.

    ``fingerprint`` names everything a scan of it gives, before the rest is read: equal
    fingerprints, equal scans (``cli_memo`` gives a kept output again on it). None where that
    cannot be promised: no cache; and, once ``scan`` ran, a scan that missed what was listed
    (removed meanwhile) or read what the cache would not keep (a secret, the list's included).
    ``fingerprint`` may read a little more of the source when first asked (containerd's content
    lists): ask before ``scan`` to have one. ``namespace``: the source's part of the cache. A
    context manager: leaving it closes.
    """

    namespace: str

    @property
    def fingerprint(self) -> str | None: ...

    def scan(self, progress: Progress | None = None) -> Scan: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *_: object) -> None: ...


@runtime_checkable
class ListsFirst(Protocol):
    """A source that reads its image list on its own (``image_list``), then the rest from it:
    the Docker Engine (``engine.scan.ImageList``), containerd (``containerd.source.ContainerdList``)."""

    def image_list(self, *, include_intermediate: bool = False) -> ImageListing: ...
