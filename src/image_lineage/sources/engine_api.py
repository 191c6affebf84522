"""The one place where raw Docker Engine API dicts become ``Image`` records.

Handles the field differences between API 1.41 and today's engines (see
``docs/docker-notes.md``): untagged images as ``[]`` or ``<none>:<none>``,
missing ``Parent``/``Comment``, nanosecond timestamps, ``null`` labels, and
history returned newest first. Every read is a ``.get()``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from image_lineage.model import HistoryEntry, Image

_NO_TAG = "<none>:<none>"
_NO_DIGEST = "<none>@<none>"
# Legacy builder marks metadata steps with "#(nop)"; BuildKit writes the bare instruction.
_METADATA_INSTRUCTIONS = re.compile(
    r"^(/bin/sh -c #\(nop\)\s*)?(ENV|LABEL|CMD|ENTRYPOINT|EXPOSE|WORKDIR|USER|VOLUME|"
    r"STOPSIGNAL|HEALTHCHECK|SHELL|ARG|ONBUILD|MAINTAINER)\b",
)
_HISTORY_FIELDS = ("Created", "CreatedBy", "Comment", "Size")
_INSPECT_FIELDS = ("Id", "Created", "Size", "Os", "Architecture", "Parent", "RootFS")
_FRACTION = re.compile(r"(\.\d{1,6})\d*")

RawDict = Mapping[str, Any]


def parse_time(value: object) -> datetime | None:
    """Unix seconds (list, history) or RFC 3339 with nanoseconds (inspect) -> UTC datetime."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if value <= 0:
            return None
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str) and value and not value.startswith("0001-01-01"):
        # Python keeps microseconds; engines send nanoseconds.
        text = _FRACTION.sub(lambda m: m.group(1), value.strip()).replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _strings(values: object, *, drop: str) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(sorted({v for v in values if isinstance(v, str) and v and v != drop}))


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_history(raw: Sequence[RawDict], layer_count: int) -> tuple[HistoryEntry, ...]:
    """API history (newest first) -> entries oldest first, with ``empty_layer`` decided.

    The API gives no ``empty_layer`` flag: a step with a positive size made a layer.
    A step of size 0 may still have made an (empty) layer; when fewer sized steps
    than layers are found, size-0 steps that are not metadata instructions are
    counted as layers, oldest first, until the counts agree.
    """
    # (created, created_by, comment, size) per entry, oldest first: every field read once.
    rows = [
        (
            created if isinstance(created := entry.get("Created"), int | float | str) else None,
            _str(entry.get("CreatedBy")),
            _str(entry.get("Comment")),
            _int(entry.get("Size")),
        )
        for entry in reversed(raw)
        if isinstance(entry, Mapping)
    ]
    has_layer = [size > 0 for *_, size in rows]
    missing = layer_count - sum(has_layer)
    for index, (_, created_by, _, _) in enumerate(rows):
        if missing <= 0:
            break
        if not has_layer[index] and not _METADATA_INSTRUCTIONS.match(created_by):
            has_layer[index] = True
            missing -= 1
    return tuple(_history_entry(*row, not layer) for row, layer in zip(rows, has_layer, strict=True))


@functools.lru_cache(maxsize=1 << 16)
def _history_entry(created: object, created_by: str, comment: str, size: int, empty: bool) -> HistoryEntry:
    """Children repeat their parents' history: parse each distinct entry once, share the object."""
    return HistoryEntry(parse_time(created), created_by, comment, size, empty)


def trim_inspect(inspect: RawDict) -> dict[str, Any]:
    """Only the inspect fields ``image_from_api`` reads: what is worth caching."""
    config = inspect.get("Config")
    kept = {key: inspect[key] for key in _INSPECT_FIELDS if key in inspect}
    if isinstance(config, Mapping):
        kept["Config"] = {"Labels": config.get("Labels")}
    return kept


def trim_history(history: Sequence[RawDict]) -> list[dict[str, Any]]:
    """Only the history fields ``parse_history`` reads: what is worth caching."""
    return [
        {key: entry[key] for key in _HISTORY_FIELDS if key in entry}
        for entry in history
        if isinstance(entry, Mapping)
    ]


def image_from_api(
    summary: RawDict,
    inspect: RawDict,
    history: Sequence[RawDict] | None,
    *,
    intermediate: bool = False,
) -> Image:
    """Build one record from ``/images/json`` (summary), ``/images/{id}/json`` and history.

    Tags and digests come from the fresh summary: the cached inspect may be older
    than a re-tag. Everything else is content-addressed and never changes.
    """
    rootfs = inspect.get("RootFS") or {}
    layers = tuple(d for d in (rootfs.get("Layers") or []) if isinstance(d, str))
    config = inspect.get("Config") or {}
    labels = config.get("Labels") or {}
    parent = _str(inspect.get("Parent")) or _str(summary.get("ParentId"))
    # An image whose config has no history gets ``[]`` from the engine. That is no
    # history to check ancestry against (ancestry falls back to layers, unverified),
    # not an empty one: an empty history is a prefix of every other and proves nothing.
    steps = parse_history(history, len(layers)) if history is not None else ()
    return Image(
        id=_str(inspect.get("Id")) or _str(summary.get("Id")),
        tags=_strings(summary.get("RepoTags"), drop=_NO_TAG),
        digests=_strings(summary.get("RepoDigests"), drop=_NO_DIGEST),
        created=parse_time(inspect.get("Created")) or parse_time(summary.get("Created")),
        size=_int(inspect.get("Size")) or _int(summary.get("Size")),
        os=_str(inspect.get("Os")),
        architecture=_str(inspect.get("Architecture")),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items()))
        if isinstance(labels, Mapping)
        else (),
        parent_hint=parent or None,
        layers=layers,
        history=steps or None,
        intermediate=intermediate,
    )
