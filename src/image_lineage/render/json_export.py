"""The JSON export, schema ``image-lineage.graph/v1`` (a contract: see docs/json-schema.md)."""

from __future__ import annotations

import json

from image_lineage.lineage import Lineage, Node, Step
from image_lineage.model import iso_utc

SCHEMA = "image-lineage.graph/v1"


def render_json(lineage: Lineage) -> str:
    """One image per line: diff-friendly, and fast (the C encoder; ``indent`` is pure Python)."""
    source = lineage.source
    header = {
        "schema": SCHEMA,
        "source": {
            "kind": source.kind,
            "endpoint": source.endpoint,
            "engine_version": source.engine_version,
            "scanned_at": iso_utc(source.scanned_at),
        },
    }
    # Children share their parents' Step objects: encode each distinct step once.
    encoded_steps: dict[int, str] = {}
    images = [_image(lineage, lineage.node(i), encoded_steps) for i in sorted(lineage.by_id)]
    notes = [_compact({"image": d.image, "code": d.code, "message": d.message}) for d in lineage.diagnostics]
    return f'{_compact(header)[:-1]},\n"images": {_lines(images)},\n"diagnostics": {_lines(notes)}}}\n'


def _lines(items: list[str]) -> str:
    return "[\n" + ",\n".join(items) + "\n]" if items else "[]"


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _image(lineage: Lineage, node: Node, encoded_steps: dict[int, str]) -> str:
    image = node.image
    fields = {
        "id": image.id,
        "tags": list(image.tags),
        "digests": list(image.digests),
        "created": iso_utc(image.created),
        "size": node.total_size,
        "added_size": node.added_size,
        "size_kind": image.size_kind,
        "reported_size": image.size,
        "parent": node.parent,
        "parent_verified": node.parent_verified,
        "children": sorted(c.id for c in lineage.children(node.id)),
        "intermediate": image.intermediate,
        "os": image.os,
        "architecture": image.architecture,
        "labels": dict(image.labels),
    }
    layers = ",".join(_step(step, encoded_steps) for step in node.steps)
    return f'{_compact(fields)[:-1]},"layers":[{layers}]}}'


def _step(step: Step, encoded_steps: dict[int, str]) -> str:
    key = id(step)
    if key not in encoded_steps:
        encoded_steps[key] = _compact(
            {
                "diff_id": step.diff_id,
                "size": step.size,
                "created_by": step.created_by,
                "created": iso_utc(step.created),
                "empty": step.empty,
                "introduced_by": step.introduced_by,
            }
        )
    return encoded_steps[key]
