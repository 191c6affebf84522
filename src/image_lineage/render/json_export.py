"""The JSON export, schema ``image-lineage.graph/v1`` (a contract: see docs/json-schema.md).

It reads back as a source (``sources/snapshot.py``): image fields are written by
``records.py``, the same layer that writes snapshots.
"""

from __future__ import annotations

import json

from image_lineage import records
from image_lineage.lineage import Lineage, Node, Step
from image_lineage.model import iso_utc
from image_lineage.text import without_surrogates

SCHEMA = "image-lineage.graph/v1"


def render_json(lineage: Lineage) -> str:
    """One image per line: diff-friendly, and fast (the C encoder; ``indent`` is pure Python)."""
    source = lineage.source
    header = {"schema": SCHEMA, "source": records.source_to_dict(source)}
    # Children share their parents' Step objects: encode each distinct step once.
    encoded_steps: dict[int, str] = {}
    images = [_image(lineage, lineage.node(i), encoded_steps) for i in sorted(lineage.by_id)]
    notes = [_compact(records.diagnostic_to_dict(d)) for d in lineage.diagnostics]
    text = f'{_compact(header)[:-1]},\n"images": {_lines(images)},\n"diagnostics": {_lines(notes)}}}\n'
    # A lone surrogate (from an engine's JSON) cannot be written as UTF-8: U+FFFD instead.
    return without_surrogates(text)


def _lines(items: list[str]) -> str:
    return "[\n" + ",\n".join(items) + "\n]" if items else "[]"


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _image(lineage: Lineage, node: Node, encoded_steps: dict[int, str]) -> str:
    image = node.image
    fields = {
        **records.image_summary(image),
        "size": node.total_size,
        "added_size": node.added_size,
        "reported_size": image.size,
        "parent": node.parent,
        "parent_verified": node.parent_verified,
        "parent_known_by": node.known_by,
        "children": sorted(c.id for c in lineage.children(node.id)),
    }
    if node.outside is not None:  # the base its build recorded, which no source read
        fields["base"] = records.base_to_dict(node.outside) | {"here": False}
    elif "base" in fields:
        fields["base"] = fields["base"] | {"here": True}
    # The steps stand for the image's own history and layers, except where they cannot
    # (no history; steps inherited from a parent read without one): then say it outright.
    history, diff_ids = records.unpack_steps(node.steps)
    if history != image.history:
        fields["history"] = records.history_to_list(image.history)
    if diff_ids != image.layers:
        fields["diff_ids"] = list(image.layers)
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
                "comment": step.comment,
                "empty": step.empty,
                "introduced_by": step.introduced_by,
            }
        )
    return encoded_steps[key]
