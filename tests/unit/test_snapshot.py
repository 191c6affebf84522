"""Snapshot files: round trip, and clear errors for anything that is not one."""

from __future__ import annotations

import json

import pytest

from image_lineage.errors import SnapshotError
from image_lineage.model import Scan
from image_lineage.sources.snapshot import dumps, loads
from tests.builders import SOURCE, image, jupyter_family


def test_round_trip_keeps_every_field() -> None:
    images = (*jupyter_family(), image(["RUN x:1"], history=False, intermediate=True))
    scan = Scan(source=SOURCE, images=images)
    again = loads(dumps(scan))
    assert sorted(again.images, key=lambda i: i.id) == sorted(images, key=lambda i: i.id)
    assert again.source == SOURCE


def test_output_does_not_depend_on_image_order() -> None:
    images = jupyter_family()
    assert dumps(Scan(SOURCE, tuple(images))) == dumps(Scan(SOURCE, tuple(reversed(images))))


def valid() -> dict:  # type: ignore[type-arg]
    return json.loads(dumps(Scan(source=SOURCE, images=tuple(jupyter_family()[:1]))))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(
            lambda d: d.update(schema="image-lineage.snapshot/v9"),
            "reads 'image-lineage.snapshot/v1'",
            id="version",
        ),
        pytest.param(lambda d: d.pop("images"), "images should be a list", id="no-images"),
        pytest.param(
            lambda d: d["images"][0].update(size=-5),
            "images[0].size should be a whole number",
            id="negative-size",
        ),
        pytest.param(lambda d: d["images"][0].update(id=7), "images[0].id should be a string", id="id-type"),
        pytest.param(
            lambda d: d["images"][0]["history"][0].update(empty_layer="no"),
            "empty_layer should be true or false",
            id="flag-type",
        ),
        pytest.param(
            lambda d: d["images"][0].update(created="yesterday"),
            "created should be an ISO 8601 time",
            id="time",
        ),
        pytest.param(lambda d: d["images"][0].update(labels=[1]), "labels should be an object", id="labels"),
    ],
)
def test_malformed_documents_name_the_bad_field(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    document = valid()
    mutate(document)
    with pytest.raises(SnapshotError, match=message.replace("[", r"\[").replace("]", r"\]")):
        loads(json.dumps(document))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param('{"schema": "image-lineage.snapshot/v1", "images": [', id="truncated"),
        pytest.param("[" * 100_000, id="deeply-nested"),
        pytest.param("\x00\xff garbage", id="binary"),
        pytest.param("[]", id="not-an-object"),
    ],
)
def test_not_a_snapshot(text: str) -> None:
    with pytest.raises(SnapshotError):
        loads(text)
