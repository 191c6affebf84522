"""Typed OCI descriptors, manifests and indexes, parsed from JSON once.

Every source hands JSON it does not control to these parsers, so they check each field's
type: a descriptor that is not one (no object, no usable digest, a size that is no
number) is :class:`Malformed` (one line, for the caller to word as its own error), and an
index entry that is not a descriptor is skipped with the reason kept in ``Index.skipped``.
Nothing here reads a blob or knows where the JSON came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from image_lineage.sources.oci import media

#: The most entries one index may list: a real index lists platforms (and, in a layout's
#: ``index.json``, tags); more is hostile or broken.
MAX_INDEX_ENTRIES = 100_000

# The image-spec's digest grammar: ``algorithm:encoded``, nothing that could leave ``blobs/``.
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


class Malformed(ValueError):
    """JSON that is not the OCI object it should be; ``str()`` is one line saying what is wrong."""


@dataclass(frozen=True, slots=True)
class Platform:
    """What an index entry (or an image config) says it runs on."""

    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        """``linux/arm64/v8``; "" when os or architecture is missing."""
        if not (self.os and self.architecture):
            return ""
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A pointer to a blob: what it is, its digest and size, and what an index says about it."""

    media_type: str
    digest: str
    size: int = 0
    platform: Platform | None = None
    annotations: tuple[tuple[str, str], ...] = ()
    artifact_type: str = ""
    urls: tuple[str, ...] = ()

    def annotation(self, key: str) -> str:
        return next((value for name, value in self.annotations if name == key), "")

    @property
    def platform_name(self) -> str:
        return str(self.platform) if self.platform else ""

    @property
    def blob_path(self) -> str:
        """Where an OCI layout keeps this blob: ``blobs/<algorithm>/<encoded>``."""
        algorithm, encoded = self.digest.split(":", 1)
        return f"blobs/{algorithm}/{encoded}"


@dataclass(frozen=True, slots=True)
class Manifest:
    """An image manifest (or an artifact's): its config and layers, maybe a subject."""

    media_type: str
    schema_version: int
    config: Descriptor
    layers: tuple[Descriptor, ...]
    artifact_type: str = ""
    subject: Descriptor | None = None
    annotations: tuple[tuple[str, str], ...] = ()  # the manifest's own (``org.opencontainers.image.base.*``)


@dataclass(frozen=True, slots=True)
class Index:
    """An image index (a manifest list): manifests (one per platform) or nested indexes."""

    media_type: str
    manifests: tuple[Descriptor, ...]
    skipped: tuple[str, ...] = ()  # why entries were left out (not descriptors)
    subject: Descriptor | None = None


def parse_descriptor(value: object, where: str) -> Descriptor:
    """A descriptor from its JSON; ``Malformed`` when it has no usable digest or wrong types."""
    if not isinstance(value, Mapping):
        raise Malformed(f"{where} should be a descriptor (an object)")
    digest = value.get("digest")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise Malformed(f"{where} has no usable digest")
    size = value.get("size", 0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise Malformed(f"{where} ({digest}) has a size that is not a count of bytes")
    return Descriptor(
        media_type=_text(value, "mediaType"),
        digest=digest,
        size=size,
        platform=parse_platform(value.get("platform")),
        annotations=_annotations(value.get("annotations")),
        artifact_type=_text(value, "artifactType"),
        urls=tuple(u for u in _list(value.get("urls")) if isinstance(u, str)),
    )


def parse_platform(value: object) -> Platform | None:
    """A ``platform`` object (or an image config's os/architecture/variant); None if it names none."""
    if not isinstance(value, Mapping):
        return None
    found = Platform(_text(value, "os"), _text(value, "architecture"), _text(value, "variant"))
    return found if found.os or found.architecture else None


def parse_json(raw: bytes, where: str) -> Mapping[str, Any]:
    """A JSON object from bytes; ``Malformed`` for anything else (deep nesting included)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise Malformed(f"{where} is not valid JSON") from error
    if isinstance(value, Mapping):
        return value
    raise Malformed(f"{where} should be an object")


def is_index_json(value: Mapping[str, Any], descriptor: Descriptor | None = None) -> bool:
    """Whether a manifest's JSON is an index: by its media type, its descriptor's, or its shape."""
    media_type = _text(value, "mediaType") or (descriptor.media_type if descriptor else "")
    return media_type in media.INDEX_TYPES or (
        "manifests" in value and "layers" not in value and media_type not in media.MANIFEST_TYPES
    )


def parse_index(value: Mapping[str, Any], where: str) -> Index:
    """An index; entries that are not descriptors are skipped, each with its reason."""
    entries = value.get("manifests")
    if not isinstance(entries, list):
        raise Malformed(f"{where} is an index with no list of manifests")
    if len(entries) > MAX_INDEX_ENTRIES:
        raise Malformed(f"{where} lists {len(entries)} manifests, more than {MAX_INDEX_ENTRIES}")
    manifests: list[Descriptor] = []
    skipped: list[str] = []
    for number, entry in enumerate(entries):
        try:
            manifests.append(parse_descriptor(entry, f"{where}, entry {number}"))
        except Malformed as why:
            skipped.append(str(why))
    return Index(_text(value, "mediaType"), tuple(manifests), tuple(skipped), _subject(value, where))


def parse_manifest(value: Mapping[str, Any], where: str) -> Manifest:
    """An image (or artifact) manifest; a schema 1 manifest is ``Malformed`` with what to do."""
    media_type = _text(value, "mediaType")
    version = value.get("schemaVersion")
    if version == 1 or media_type in media.SCHEMA1_TYPES:
        raise Malformed(f"{where} {media.SCHEMA1_MESSAGE}")
    config = value.get("config")
    layers = value.get("layers", [])
    if config is None or not isinstance(layers, list):
        raise Malformed(f"{where} lacks its config or layers")
    return Manifest(
        media_type=media_type,
        schema_version=version if isinstance(version, int) and not isinstance(version, bool) else 0,
        config=parse_descriptor(config, f"{where}'s config"),
        layers=tuple(parse_descriptor(layer, f"{where}'s layer {n}") for n, layer in enumerate(layers)),
        artifact_type=_text(value, "artifactType"),
        subject=_subject(value, where),
        annotations=_annotations(value.get("annotations")),
    )


def _subject(value: Mapping[str, Any], where: str) -> Descriptor | None:
    """The descriptor a referrer names; one that is not a descriptor names nothing."""
    try:
        return parse_descriptor(value["subject"], f"{where}'s subject") if "subject" in value else None
    except Malformed:
        return None


def _text(value: Mapping[str, Any], key: str) -> str:
    found = value.get(key)
    return found if isinstance(found, str) else ""


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _annotations(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple(sorted((str(k), v) for k, v in value.items() if isinstance(v, str)))
