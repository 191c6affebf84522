"""Hide values that look like secrets in records and lineages (``secret_text`` finds them).

Build histories routinely carry credentials: ``ENV API_TOKEN=...``, ``curl -u user:pass``,
``https://user:pass@host``, cloud keys. Every output masks them by default;
``--show-secrets`` (and the app's switch) skips this module. Masking keeps the shape of the
text and replaces only the value with ``***``. It runs after lineage (``mask_lineage``):
ancestry compares the real histories. The patterns, and why each is there, are in
``secret_text.py``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from image_lineage.lineage import Lineage, Node, Step
from image_lineage.model import HistoryEntry, Image, Scan
from image_lineage.secret_text import MASK, mask_text

__all__ = ["MASK", "mask_image", "mask_lineage", "mask_scan", "mask_text"]


def _mask_labels(labels: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    masked = []
    for key, value in labels:
        as_assignment = mask_text(f"{key}={value}")
        masked.append(
            (key, as_assignment.split("=", 1)[1] if as_assignment.startswith(f"{key}=") else mask_text(value))
        )
    return tuple(masked)


_Record = TypeVar("_Record", HistoryEntry, Step)


def _mask_record(record: _Record, memo: dict[int, _Record]) -> _Record:
    """The record with its texts masked: the same object when there was nothing to hide.

    Memoised by object: children share their parents' history entries and steps, and
    keeping them shared keeps the JSON export fast (it encodes each shared step once).
    """
    found = memo.get(id(record))
    if found is None:
        created_by, comment = mask_text(record.created_by), mask_text(record.comment)
        unchanged = created_by == record.created_by and comment == record.comment
        found = record if unchanged else replace(record, created_by=created_by, comment=comment)
        memo[id(record)] = found
    return found


def mask_image(image: Image, entries: dict[int, HistoryEntry] | None = None) -> Image:
    """The image with secrets masked in its history and labels (the same object if none)."""
    memo = {} if entries is None else entries
    history = None if image.history is None else tuple(_mask_record(e, memo) for e in image.history)
    labels = _mask_labels(image.labels)
    run = image.run_config
    if run is not None:
        run = replace(run, entrypoint=_mask_arguments(run.entrypoint), cmd=_mask_arguments(run.cmd))
    if labels == image.labels and _same_items(history, image.history) and run == image.run_config:
        return image
    return replace(image, labels=labels, history=history, run_config=run)


def _mask_arguments(arguments: tuple[str, ...]) -> tuple[str, ...]:
    """An ENTRYPOINT/CMD list with secrets masked, read as one command line (``--password X``)."""
    line = " ".join(arguments)
    masked = mask_text(line)
    if masked == line:
        return arguments
    words = masked.split(" ")
    if len(words) == len(line.split(" ")):
        # Word for word, the arguments again (an argument holding spaces spans several words).
        found, start = [], 0
        for argument in arguments:
            count = len(argument.split(" "))
            found.append(" ".join(words[start : start + count]))
            start += count
        return tuple(found)
    return tuple(mask_text(argument) for argument in arguments)


def _same_items(new: tuple[object, ...] | None, old: tuple[object, ...] | None) -> bool:
    if new is None or old is None:
        return new is old
    return all(a is b for a, b in zip(new, old, strict=True))


def mask_scan(scan: Scan) -> Scan:
    """A scan safe to share (snapshots): the same records, secrets masked."""
    entries: dict[int, HistoryEntry] = {}
    return replace(scan, images=tuple(mask_image(image, entries) for image in scan.images))


def mask_lineage(lineage: Lineage) -> Lineage:
    """The same tree with secrets masked in every image and step it shows."""
    entries: dict[int, HistoryEntry] = {}
    steps: dict[int, Step] = {}

    def mask_node(node: Node) -> Node:
        image = mask_image(node.image, entries)
        masked_steps = tuple(_mask_record(s, steps) for s in node.steps)
        if image is node.image and _same_items(masked_steps, node.steps):
            return node
        return replace(node, image=image, steps=masked_steps)

    return replace(lineage, by_id={k: mask_node(v) for k, v in lineage.by_id.items()})
