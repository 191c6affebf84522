"""What an engine's own export says about one image: its platforms' manifests and configs.

On the containerd image store no API answer names an image's config digest, its
identity everywhere else (``docs/modern-engines.md``). ``GET /images/get?names=ID``
(what ``docker save`` calls: a GET that changes nothing) answers with an OCI layout
holding the index, every platform's manifest and config, and the layers. It is read in
one pass by the archive reader's ``StreamLayout`` (``sources/archive.py``), which keeps
only the small JSON members and the sizes of the rest; nothing is written to disk.

The facts kept are small and depend only on the image id (the digest of an index or
manifest), so they are cached for good (``cache.FactsCache``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from image_lineage.errors import ArchiveError
from image_lineage.sources import oci
from image_lineage.sources.engine_api import platform_name

if TYPE_CHECKING:
    from image_lineage.sources.archive import Layout

_MAX_PLATFORMS = 256


@dataclass(frozen=True, slots=True)
class ExportedPlatform:
    """One platform an image's index names; ``config`` is None when its content is not there."""

    platform: str
    manifest_digest: str
    config: str | None = None
    layer_sizes: tuple[int, ...] = ()

    @property
    def config_bytes(self) -> bytes:
        """The config exactly as stored (its sha256 is the image id)."""
        return (self.config or "").encode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class Exported:
    """An image id's platforms; ``index_digest`` is the id when it names an index, else ""."""

    index_digest: str
    platforms: tuple[ExportedPlatform, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "index_digest": self.index_digest,
            "platforms": [
                {
                    "platform": p.platform,
                    "manifest": p.manifest_digest,
                    "config": p.config,
                    "layers": list(p.layer_sizes),
                }
                for p in self.platforms
            ],
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Exported | None:
        """The cached form back; None when it is not one (a miss: exported again)."""
        try:
            platforms = tuple(
                ExportedPlatform(
                    str(item["platform"]),
                    str(item["manifest"]),
                    item["config"] if isinstance(item["config"], str) else None,
                    tuple(int(size) for size in item["layers"]),
                )
                for item in value["platforms"]
            )
            return cls(str(value["index_digest"]), platforms)
        except (KeyError, TypeError, ValueError):
            return None


def read_export(stream: BinaryIO, image_id: str, origin: str) -> Exported:
    """Read an export stream to its end and say what it holds about ``image_id``."""
    from image_lineage.sources.archive import StreamLayout  # noqa: PLC0415 - tarfile: only this store needs it

    return exported(StreamLayout.read(stream, origin), image_id, origin)


def exported(layout: Layout, image_id: str, origin: str) -> Exported:
    """``index.json`` -> the image's index (or bare manifest) -> each platform's manifest and config.

    Attestations are not platforms. A platform whose manifest or config is not in the
    export (content the engine does not hold) is named, with no config.
    """
    top = _json(layout, "index.json", origin)
    tops = top.get("manifests") if isinstance(top, Mapping) else None
    if not isinstance(tops, list) or not tops or not all(isinstance(d, Mapping) for d in tops):
        raise ArchiveError(f"{origin}: index.json names no image.")
    descriptor = next((d for d in tops if d.get("digest") == image_id), tops[0])
    if descriptor.get("mediaType") in oci.INDEX_TYPES:
        index = _json(layout, _blob(descriptor, origin), origin)
        entries = index.get("manifests") if isinstance(index, Mapping) else None
        if not isinstance(entries, list) or len(entries) > _MAX_PLATFORMS:
            raise ArchiveError(f"{origin}: the image index is malformed.")
        images = [d for d in entries if isinstance(d, Mapping) and not oci.is_attestation(d)]
        platforms = tuple(_platform(layout, d, origin) for d in images)
        return Exported(_digest(descriptor, origin), platforms)
    return Exported("", (_platform(layout, descriptor, origin),))


def _platform(layout: Layout, descriptor: Mapping[str, Any], origin: str) -> ExportedPlatform:
    name, digest = platform_name(descriptor.get("platform")), _digest(descriptor, origin)
    if not layout.has(_blob(descriptor, origin)):
        return ExportedPlatform(name, digest)
    manifest = _json(layout, _blob(descriptor, origin), origin)
    config = manifest.get("config") if isinstance(manifest, Mapping) else None
    layers = manifest.get("layers") if isinstance(manifest, Mapping) else None
    if not isinstance(config, Mapping) or not isinstance(layers, list):
        raise ArchiveError(f"{origin}: manifest {digest} lacks its config or layers.")
    sizes = tuple(
        size if isinstance(layer, Mapping) and isinstance(size := layer.get("size"), int) and size > 0 else 0
        for layer in layers
    )
    if not layout.has(_blob(config, origin)):
        return ExportedPlatform(name, digest, None, sizes)
    raw = layout.read_bytes(_blob(config, origin))
    if not name:  # a bare manifest: its config names the platform
        try:
            name = platform_name(json.loads(raw))
        except (ValueError, RecursionError):
            name = ""
    return ExportedPlatform(name, digest, raw.decode("utf-8", "surrogateescape"), sizes)


def _json(layout: Layout, name: str, origin: str) -> Any:
    try:
        return json.loads(layout.read_bytes(name))
    except (ValueError, RecursionError) as error:
        raise ArchiveError(f"{origin}: {name!r} is not valid JSON.") from error


def _digest(descriptor: Mapping[str, Any], origin: str) -> str:
    digest = descriptor.get("digest")
    if not isinstance(digest, str) or not digest.startswith("sha256:") or "/" in digest:
        raise ArchiveError(f"{origin}: a descriptor has no usable digest.")
    return digest


def _blob(descriptor: Mapping[str, Any], origin: str) -> str:
    return "blobs/sha256/" + _digest(descriptor, origin).removeprefix("sha256:")
