"""Snapshot files: the scanned records (not the graph) as versioned JSON.

A snapshot lets any command run later, elsewhere, with no daemon: the bundled
sample is one, and so is a file attached to a bug report. The reader is strict:
anything unexpected is a ``SnapshotError`` naming what is wrong, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from image_lineage.errors import SnapshotError
from image_lineage.model import Diagnostic, HistoryEntry, Image, Scan, SourceInfo, iso_utc
from image_lineage.sources.engine_api import parse_time

SCHEMA = "image-lineage.snapshot/v1"
MAX_BYTES = 64 * 1024 * 1024


def dumps(scan: Scan) -> str:
    """Serialise a scan, images sorted by id, so equal scans give equal files."""
    document = {
        "schema": SCHEMA,
        "source": {
            "kind": scan.source.kind,
            "endpoint": scan.source.endpoint,
            "engine_version": scan.source.engine_version,
            "scanned_at": iso_utc(scan.source.scanned_at),
        },
        "images": [_image_to_json(image) for image in sorted(scan.images, key=lambda i: i.id)],
        "diagnostics": [{"image": d.image, "code": d.code, "message": d.message} for d in scan.diagnostics],
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _image_to_json(image: Image) -> dict[str, Any]:
    return {
        "id": image.id,
        "tags": list(image.tags),
        "digests": list(image.digests),
        "created": iso_utc(image.created),
        "size": image.size,
        "os": image.os,
        "architecture": image.architecture,
        "labels": dict(image.labels),
        "parent_hint": image.parent_hint,
        "layers": list(image.layers),
        "history": None
        if image.history is None
        else [
            {
                "created": iso_utc(entry.created),
                "created_by": entry.created_by,
                "comment": entry.comment,
                "size": entry.size,
                "empty_layer": entry.empty_layer,
            }
            for entry in image.history
        ],
        "intermediate": image.intermediate,
    }


def loads(text: str | bytes, origin: str = "snapshot") -> Scan:
    """Parse a snapshot; raises ``SnapshotError`` with a one-line reason."""
    if len(text) > MAX_BYTES:
        raise SnapshotError(f"{origin} is larger than {MAX_BYTES // 2**20} MiB; not a snapshot?")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SnapshotError(f"{origin} is not valid JSON ({error}).") from error
    reader = _Reader(origin)
    top = reader.mapping(document, "the document")
    schema = top.get("schema")
    if schema != SCHEMA:
        raise SnapshotError(
            f"{origin} has schema {schema!r}; this version of image-lineage reads {SCHEMA!r}."
        )
    source = reader.mapping(top.get("source"), "source")
    info = SourceInfo(
        kind=reader.text(source.get("kind"), "source.kind"),
        endpoint=reader.text(source.get("endpoint", ""), "source.endpoint"),
        engine_version=reader.text(source.get("engine_version", ""), "source.engine_version"),
        scanned_at=parse_time(source.get("scanned_at")) or datetime.fromtimestamp(0, UTC),
    )
    images = reader.items(top.get("images"), "images")
    notes = reader.items(top.get("diagnostics", []), "diagnostics")
    return Scan(
        source=info,
        images=tuple(reader.image(raw, f"images[{n}]") for n, raw in enumerate(images)),
        diagnostics=tuple(reader.diagnostic(raw, f"diagnostics[{n}]") for n, raw in enumerate(notes)),
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


@dataclass(frozen=True, slots=True)
class _Reader:
    """Type-checked access to the parsed JSON, with the path of the bad field in errors."""

    origin: str

    def fail(self, where: str, expected: str) -> SnapshotError:
        return SnapshotError(f"{self.origin}: {where} should be {expected}.")

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "an object")
        return value

    def items(self, value: object, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "a list")
        return value

    def text(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "a string")
        return value

    def count(self, value: object, where: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(where, "a whole number of bytes")
        return value

    def texts(self, value: object, where: str) -> tuple[str, ...]:
        return tuple(self.text(v, f"{where}[{n}]") for n, v in enumerate(self.items(value, where)))

    def optional_text(self, value: object, where: str) -> str | None:
        return None if value is None else self.text(value, where)

    def time(self, value: object, where: str) -> datetime | None:
        if value is None:
            return None
        moment = parse_time(self.text(value, where))
        if moment is None:
            raise self.fail(where, "an ISO 8601 time")
        return moment

    def image(self, raw: object, where: str) -> Image:
        item = self.mapping(raw, where)
        labels = self.mapping(item.get("labels", {}), f"{where}.labels")
        history = item.get("history")
        return Image(
            id=self.text(item.get("id"), f"{where}.id"),
            tags=self.texts(item.get("tags", []), f"{where}.tags"),
            digests=self.texts(item.get("digests", []), f"{where}.digests"),
            created=self.time(item.get("created"), f"{where}.created"),
            size=self.count(item.get("size", 0), f"{where}.size"),
            os=self.text(item.get("os", ""), f"{where}.os"),
            architecture=self.text(item.get("architecture", ""), f"{where}.architecture"),
            labels=tuple(sorted((k, self.text(v, f"{where}.labels.{k}")) for k, v in labels.items())),
            parent_hint=self.optional_text(item.get("parent_hint"), f"{where}.parent_hint"),
            layers=self.texts(item.get("layers", []), f"{where}.layers"),
            history=None
            if history is None
            else tuple(
                self.entry(e, f"{where}.history[{n}]")
                for n, e in enumerate(self.items(history, f"{where}.history"))
            ),
            intermediate=item.get("intermediate", False) is True,
        )

    def entry(self, raw: object, where: str) -> HistoryEntry:
        item = self.mapping(raw, where)
        empty = item.get("empty_layer")
        if not isinstance(empty, bool):
            raise self.fail(f"{where}.empty_layer", "true or false")
        return HistoryEntry(
            created=self.time(item.get("created"), f"{where}.created"),
            created_by=self.text(item.get("created_by", ""), f"{where}.created_by"),
            comment=self.text(item.get("comment", ""), f"{where}.comment"),
            size=self.count(item.get("size", 0), f"{where}.size"),
            empty_layer=empty,
        )

    def diagnostic(self, raw: object, where: str) -> Diagnostic:
        item = self.mapping(raw, where)
        return Diagnostic(
            image=self.optional_text(item.get("image"), f"{where}.image"),
            code=self.text(item.get("code"), f"{where}.code"),
            message=self.text(item.get("message"), f"{where}.message"),
        )
