"""Many sources, one record set: scans merged by image identity before lineage runs.

An image is its config digest wherever it was found (``model.Image.id``), so the same
image read from an engine and from a registry is one record, which says where it was
found (``found_in``) and which tags each source gave (``tags_by_source``). Pure: no
I/O; the reading of several ``--source`` specs is ``sources.scan_sources``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import PurePath
from typing import TypeVar
from urllib.parse import urlsplit

from image_lineage.model import Diagnostic, Image, Scan, SizeKind, SourceInfo

_T = TypeVar("_T")

MERGED = "merged"
"""``SourceInfo.kind`` of a scan merged from several; its endpoint is their labels, "; "-joined."""

# Which source's sizes an image keeps when sources measured them differently: the
# engine's unpacked sizes are what ``docker history`` and the disk show.
_SIZE_PREFERENCE: dict[SizeKind, int] = {"unpacked": 0, "tar": 1, "compressed": 2}


def source_label(source: SourceInfo, *, full: bool = False) -> str:
    """A short, stable name for where a scan came from: ``docker unix:///var/run/docker.sock``,
    ``registry registry.example.com``, ``archive team.tar``, ``snapshot machine.json``.

    Files are named by their file name and registries by their host (``full``: the whole
    path or address, for two sources whose short names would be the same).
    """
    endpoint = source.endpoint.strip()
    if source.kind == "sample":  # recorded somewhere once; the bundled sample is one thing
        return source.kind
    if not full and source.kind in {"archive", "snapshot"}:
        endpoint = PurePath(endpoint).name or endpoint
    elif not full and source.kind == "registry":
        endpoint = urlsplit(endpoint).netloc or endpoint
    return f"{source.kind} {endpoint}" if endpoint else source.kind


def source_labels(sources: Sequence[SourceInfo]) -> list[str]:
    """``source_label`` of each, the full one for any two different sources the short one confuses."""
    short = [source_label(s) for s in sources]
    full = [source_label(s, full=True) for s in sources]
    return [
        long if any(s == name and f != long for s, f in zip(short, full, strict=True)) else name
        for name, long in zip(short, full, strict=True)
    ]


def merge_scans(scans: Sequence[Scan]) -> Scan:
    """One scan of every image in ``scans``, one record per image id.

    One scan comes back as it was, its images labelled with where they were found when
    they say nothing of it (a snapshot keeps the ``found_in`` it recorded). Several scans
    give a scan of kind ``merged`` whose endpoint names every source ("; "-joined, in the
    order given) and whose time is the oldest reading; each image's ``found_in`` then
    names the sources of this reading. Each diagnostic names its source. The result does
    not depend on the order of ``scans`` except for that endpoint. See ``merge_image``
    for which source's fields an image keeps.
    """
    if not scans:
        raise ValueError("merge_scans needs at least one scan")
    labels = source_labels([scan.source for scan in scans])
    if len(scans) == 1:
        (scan,), (label,) = scans, labels
        return replace(
            scan, images=tuple(i if i.found_in else replace(i, found_in=(label,)) for i in scan.images)
        )
    found: dict[str, list[tuple[str, Image]]] = {}
    for label, scan in zip(labels, scans, strict=True):
        for image in scan.images:
            found.setdefault(image.id, []).append((label, image))
    info = SourceInfo(
        kind=MERGED,
        endpoint="; ".join(dict.fromkeys(labels)),
        scanned_at=min(scan.source.scanned_at for scan in scans),
    )
    notes = sorted(
        {
            replace(note, message=f"{label}: {note.message}")
            for label, scan in zip(labels, scans, strict=True)
            for note in scan.diagnostics
        },
        key=_note_order,
    )
    return Scan(
        source=info,
        images=tuple(merge_image(found[image_id]) for image_id in sorted(found)),
        diagnostics=tuple(notes),
    )


def merge_image(found: Sequence[tuple[str, Image]]) -> Image:
    """One image's records from several sources (label, record) -> one record.

    The sources are ranked: one with a history first, then by the kind of size it
    measured (unpacked, as an engine reports, before the tar sizes of an archive and the
    compressed sizes of a registry), then by label. The first keeps its ``size``,
    ``size_kind``, ``history`` and ``layers`` together (sizes of one kind). Fields the
    config decides (created, platform, labels, ...) are the same in every source and come
    from the first;
    for the rest, the first source that has a value gives it: manifest and index
    digests, the index's platforms, the engine's ``parent_hint``, the base the build recorded
    (a classic store keeps no attestation; an archive or registry of the same image may). Tags and digests are
    the union, the first source's first; ``tags_by_source`` keeps each source's own. An
    image is intermediate only if every source says so. ``found_in`` lists the sources
    in this rank.
    """
    ranked = sorted(
        found, key=lambda item: (item[1].history is None, _SIZE_PREFERENCE[item[1].size_kind], item[0])
    )
    first = ranked[0][1]
    images = [image for _, image in ranked]
    by_source: dict[str, tuple[str, ...]] = {}
    for label, image in ranked:
        by_source[label] = _union([by_source.get(label, ()), image.tags])
    return replace(
        first,
        tags=_union(image.tags for image in images),
        digests=_union(image.digests for image in images),
        intermediate=all(image.intermediate for image in images),
        parent_hint=_first(image.parent_hint for image in images),
        manifest_digest=_first(image.manifest_digest for image in images) or "",
        index_digest=_first(image.index_digest for image in images) or "",
        index_platforms=_first(image.index_platforms for image in images) or (),
        base=_first(image.base for image in images),
        found_in=tuple(by_source),
        tags_by_source=tuple(by_source.items()) if len(by_source) > 1 else (),
    )


def _union(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for group in groups for item in group))


def _first(values: Iterable[_T | None]) -> _T | None:
    return next((value for value in values if value), None)


def _note_order(note: Diagnostic) -> tuple[str, str, str]:
    return (note.image or "", note.code, note.message)
