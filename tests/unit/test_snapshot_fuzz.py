"""Fuzz the snapshot reader: any input gives a Scan or a SnapshotError, nothing else.

Bounded in CI by hypothesis' example counts (no wall-clock limits).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from image_lineage.errors import SnapshotError
from image_lineage.lineage import build_lineage
from image_lineage.model import Scan
from image_lineage.render import render
from image_lineage.sources.snapshot import dumps, loads
from tests.builders import SOURCE, image, jupyter_family

VALID = json.loads(dumps(Scan(source=SOURCE, images=tuple(jupyter_family()[:2]))))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def read(text: str | bytes) -> None:
    try:
        scan = loads(text)
    except SnapshotError:
        return
    build_lineage(scan.images, scan.source, scan.diagnostics)  # whatever loads must also build


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    read(data)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_random_json(value: Any) -> None:
    read(json.dumps(value))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


# A graph export reads as a source too: the same guarantee for it, on a family with an
# image read without history (so that the optional ``history`` field appears).
_GRAPH_IMAGES = (*jupyter_family()[:2], image(["RUN a:1"], history=False), image(["RUN a:1", "RUN b:2"]))
VALID_GRAPH = json.loads(str(render(build_lineage(_GRAPH_IMAGES, SOURCE), "json")))
FIELDS = [(VALID, path) for path in _paths(VALID)[1:]] + [
    (VALID_GRAPH, path) for path in _paths(VALID_GRAPH)[1:]
]


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(FIELDS), json_values)
def test_one_field_replaced_by_anything(field: tuple[Any, tuple[Any, ...]], value: Any) -> None:
    valid, path = field
    document = json.loads(json.dumps(valid))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    read(json.dumps(document))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(json.dumps(VALID))))
def test_truncated_anywhere(cut: int) -> None:
    read(json.dumps(VALID)[:cut])
