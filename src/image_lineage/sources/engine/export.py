"""What an engine's own export says about one image: its platforms' manifests and configs.

On the containerd image store no API answer names an image's config digest, its
identity everywhere else (``docs/modern-engines.md``). ``GET /images/get?names=ID``
(what ``docker save`` calls: a GET that changes nothing) answers with an OCI layout
holding the index, every platform's manifest and config, and the layers. It is read in
one pass by a ``StreamLayout`` (``sources/oci/layout.py``), which keeps only the small JSON
members and the sizes of the rest (nothing is written to disk), and walked by the OCI
walker through that layout's blob source, as an archive is.

The facts kept are small and depend only on the image id (the digest of an index or
manifest), so they are cached for good (``cache.FactsCache``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from image_lineage.errors import ArchiveError, SnapshotError
from image_lineage.model import BaseEvidence
from image_lineage.records import Reader, base_to_dict
from image_lineage.sources.oci.attested import provenance
from image_lineage.sources.oci.descriptor import Malformed, parse_index, parse_json, parse_platform
from image_lineage.sources.oci.evidence import from_annotations
from image_lineage.sources.oci.media import INDEX_TYPES

if TYPE_CHECKING:
    from image_lineage.sources.oci.layout import Layout
    from image_lineage.sources.oci.walk import Placed

_MAX_PLATFORMS = 256


@dataclass(frozen=True, slots=True)
class ExportedPlatform:
    """One platform an image's index names; ``config`` is None when its content is not there."""

    platform: str
    manifest_digest: str
    config: str | None = None
    layer_sizes: tuple[int, ...] = ()
    base: BaseEvidence | None = None  # what its provenance or manifest annotations name

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
                    "base": base_to_dict(p.base) if p.base else None,
                }
                for p in self.platforms
            ],
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Exported | None:
        """The cached form back; None when it is not one (a miss: exported again). An entry
        cached before bases were read (no ``base`` key) is a miss too: its evidence is read."""
        reader = Reader("the export cache")
        try:
            platforms = tuple(
                ExportedPlatform(
                    str(item["platform"]),
                    str(item["manifest"]),
                    item["config"] if isinstance(item["config"], str) else None,
                    tuple(int(size) for size in item["layers"]),
                    reader.base(item["base"], "base"),
                )
                for item in value["platforms"]
            )
            return cls(str(value["index_digest"]), platforms)
        except (KeyError, TypeError, ValueError, SnapshotError):
            return None


def read_export(stream: BinaryIO, image_id: str, origin: str) -> Exported:
    """Read an export stream to its end and say what it holds about ``image_id``."""
    from image_lineage.sources.oci.layout import StreamLayout  # noqa: PLC0415 - tarfile: only this store needs it

    return exported(StreamLayout.read(stream, origin), image_id, origin)


def exported(layout: Layout, image_id: str, origin: str) -> Exported:
    """``index.json`` -> the image's index (or bare manifest) -> each platform's manifest and config,
    walked by the OCI walker (``oci/walk.py``).

    Attestations and other artifacts are not platforms. A platform whose manifest or config is
    not in the export (content the engine does not hold) is named, with no config.
    """
    from image_lineage.sources.oci.layout import LayoutBlobs  # noqa: PLC0415 - see read_export
    from image_lineage.sources.oci.walk import Root, walk  # noqa: PLC0415

    try:
        tops = parse_index(parse_json(layout.read_bytes("index.json"), "index.json"), "index.json").manifests
    except Malformed as why:
        raise ArchiveError(f"{origin}: {why}.") from why
    if not tops:
        raise ArchiveError(f"{origin}: index.json names no image.")
    descriptor = next((d for d in tops if d.digest == image_id), tops[0])
    blobs = LayoutBlobs(layout)
    walked = walk(blobs, [Root(descriptor)], ArchiveError)
    faults = [p for p in walked.problems if p.code != "index_entry_skipped"]
    if faults:
        raise ArchiveError(f"{origin}: {faults[0].reason}.")
    attested = provenance(blobs, walked.artifacts)
    group = next((g for g in walked.groups if g.index_digest == descriptor.digest), None)
    if group is not None or descriptor.media_type in INDEX_TYPES:
        members = group.members if group else ()  # an index of attestations only has no platform
        if len(members) > _MAX_PLATFORMS:
            raise ArchiveError(f"{origin}: the image index lists more than {_MAX_PLATFORMS} platforms.")
        return Exported(descriptor.digest, tuple(_platform(p, attested) for p in members))
    direct = [p for g in walked.groups if g.direct for p in g.members]
    return Exported(
        "", tuple(_platform(p, attested) for p in direct[:1]) or (ExportedPlatform("", descriptor.digest),)
    )


def _platform(placed: Placed, attested: Mapping[str, BaseEvidence]) -> ExportedPlatform:
    name, digest = placed.descriptor.platform_name, placed.descriptor.digest
    if placed.manifest is None:
        return ExportedPlatform(name, digest)
    sizes = tuple(layer.size for layer in placed.manifest.layers)
    base = attested.get(digest) or from_annotations(placed.manifest.annotations)
    if placed.config is None:
        return ExportedPlatform(name, digest, None, sizes, base)
    if not name:  # a bare manifest: its config names the platform
        try:
            name = str(parse_platform(parse_json(placed.config, "the config")) or "")
        except Malformed:
            name = ""
    return ExportedPlatform(name, digest, placed.config.decode("utf-8", "surrogateescape"), sizes, base)
