"""Snapshot files: the scanned records (not the graph) as versioned JSON.

A snapshot lets any command run later, elsewhere, with no daemon: the bundled
sample is one, and so is a file attached to a bug report. A graph export (the app's
JSON download) reads as a snapshot too. The reader is strict: anything unexpected is
a ``SnapshotError`` naming what is wrong, never a crash. Records <-> dicts: ``records.py``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from image_lineage import records
from image_lineage.errors import SnapshotError
from image_lineage.model import Scan
from image_lineage.text import (
    escaped,
    may_hold_surrogates,
    parsed_without_surrogates,
    without_surrogates,
)

SCHEMA = "image-lineage.snapshot/v1"
GRAPH_SCHEMA = "image-lineage.graph/v1"
# A snapshot of 20,000 images is 40 to 90 MB; the app's upload limit (.streamlit/config.toml)
# stays below this, so that what the uploader takes is read.
MAX_BYTES = 256 * 1024 * 1024


def dumps(scan: Scan) -> str:
    """Serialise a scan, images sorted by id, so equal scans give equal files."""
    document = {
        "schema": SCHEMA,
        "source": records.source_to_dict(scan.source),
        "images": [records.image_to_dict(image) for image in sorted(scan.images, key=lambda i: i.id)],
        "diagnostics": [records.diagnostic_to_dict(d) for d in scan.diagnostics],
    }
    # A lone surrogate (from an engine's JSON) cannot be written as UTF-8: U+FFFD instead.
    return without_surrogates(json.dumps(document, indent=1, ensure_ascii=False)) + "\n"


def loads(text: str | bytes, origin: str = "snapshot") -> Scan:
    """Parse a snapshot, or a graph export; raises ``SnapshotError`` with a one-line reason.

    A graph export (``image-lineage.graph/v1``, the app's JSON download) holds every
    image's layers and history too, so it reads as the records it was made from.
    Files that are something else (``docker inspect``, ``docker history``) are named.
    """
    if len(text) > MAX_BYTES:
        raise SnapshotError(f"{origin} is larger than {MAX_BYTES // 2**20} MiB; not a snapshot?")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise _not_json(text, origin, error) from error
    if may_hold_surrogates(text):  # no command could print them: U+FFFD instead
        try:
            document = parsed_without_surrogates(document)
        except RecursionError:
            raise SnapshotError(f"{origin} is nested too deeply to be a snapshot.") from None
    try:
        return _read(document, origin)
    except SnapshotError as error:
        # The reader names the bad field by its path, keys and all: escapes in a key must
        # not reach the terminal (a cleared screen, a forged second line).
        raise SnapshotError(escaped(str(error)), hint=error.hint) from None


def _read(document: Any, origin: str) -> Scan:
    if isinstance(document, list) and document and all(isinstance(d, dict) and "Id" in d for d in document):
        raise _inspect_dump(document, origin)
    if isinstance(document, dict) and document.keys() >= _HISTORY_KEYS:
        raise _history_dump(origin)
    if not isinstance(document, dict) or "schema" not in document:
        raise SnapshotError(
            f"{origin} is JSON, but neither a snapshot nor a graph export of image-lineage "
            "(it names no schema)."
        )
    reader = records.Reader(origin)
    schema = document["schema"]
    if schema == SCHEMA:
        read_image = reader.image
    elif schema == GRAPH_SCHEMA:
        read_image = reader.exported_image
    else:
        raise SnapshotError(
            f"{origin} has schema {schema!r}; this version of image-lineage reads {SCHEMA!r} "
            f"and {GRAPH_SCHEMA!r}."
        )
    info = reader.source(document.get("source"))
    images = reader.items(document.get("images"), "images")
    notes = reader.items(document.get("diagnostics", []), "diagnostics")
    return Scan(
        source=info,
        images=tuple(read_image(raw, f"images[{n}]") for n, raw in enumerate(images)),
        diagnostics=tuple(reader.diagnostic(raw, f"diagnostics[{n}]") for n, raw in enumerate(notes)),
    )


# ``docker history --format json`` (or '{{json .}}'): one object a line with these keys.
_HISTORY_KEYS = frozenset({"CreatedBy", "ID", "Size"})


# The first bytes of compressed files someone may send instead of the snapshot inside them.
_COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}


def _not_json(text: str | bytes, origin: str, error: Exception) -> SnapshotError:
    head = text[:8].encode("latin-1", "replace") if isinstance(text, str) else text[:8]
    if not head.strip():
        return SnapshotError(f"{origin} is empty, not a snapshot.")
    packed = next((kind for magic, kind in _COMPRESSED.items() if head.startswith(magic)), None)
    if packed is not None:
        return SnapshotError(f"{origin} is {packed}-compressed, not a snapshot: uncompress it, then read it.")
    lines = text[:65536].splitlines()
    try:
        row = json.loads(lines[0]) if lines else None
    except (ValueError, RecursionError):
        row = None
    if isinstance(row, dict) and row.keys() >= _HISTORY_KEYS:
        return _history_dump(origin)
    return SnapshotError(f"{origin} is not valid JSON ({error}).")


def _history_dump(origin: str) -> SnapshotError:
    return SnapshotError(
        f"{origin} is docker history output (one image's steps, without layer digests), not a "
        "snapshot: read the images from the engine itself, or save a snapshot where they are."
    )


def _inspect_dump(document: list[Any], origin: str) -> SnapshotError:
    what = "image" if all("RootFS" in d for d in document) else "object"
    what += "" if len(document) == 1 else "s"
    return SnapshotError(
        f"{origin} is docker inspect output ({len(document)} {what}, without build histories), not a "
        "snapshot: read the images from the engine itself, or save a snapshot where they are."
    )


def load(path: Path) -> Scan:
    try:
        with path.open("rb") as handle:
            text = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise SnapshotError(f"Cannot read snapshot {path}: {error.strerror or error}.") from error
    scan = loads(text, origin=str(path))
    return replace(scan, source=replace(scan.source, kind="snapshot", endpoint=str(path)))


def save(scan: Scan, path: Path) -> None:
    path.write_text(dumps(scan), encoding="utf-8")
