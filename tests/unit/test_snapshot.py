"""Snapshot files: round trip, and clear errors for anything that is not one."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from dataclasses import fields, replace
from typing import Any

import pytest

from image_lineage import records
from image_lineage.errors import SnapshotError
from image_lineage.lineage import build_lineage
from image_lineage.model import BaseEvidence, Diagnostic, Image, RunConfig, Scan
from image_lineage.render import render
from image_lineage.sources.snapshot import dumps, loads
from tests.builders import SOURCE, digest, image, jupyter_family


def test_round_trip_keeps_every_field() -> None:
    images = (*jupyter_family(), image(["RUN x:1"], history=False, intermediate=True))
    scan = Scan(source=SOURCE, images=images)
    again = loads(dumps(scan))
    assert sorted(again.images, key=lambda i: i.id) == sorted(images, key=lambda i: i.id)
    assert again.source == SOURCE


def test_output_does_not_depend_on_image_order() -> None:
    images = jupyter_family()
    assert dumps(Scan(SOURCE, tuple(images))) == dumps(Scan(SOURCE, tuple(reversed(images))))


def valid() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(dumps(Scan(source=SOURCE, images=tuple(jupyter_family()[:1]))))
    return document


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


def graph_file(images: tuple[Image, ...]) -> str:
    lineage = build_lineage(images, SOURCE, (Diagnostic(None, "image_gone", "one image went away"),))
    text = render(lineage, "json")
    assert isinstance(text, str)
    return text


MIXED = (
    *jupyter_family(),
    image(["RUN x:1"], history=False, intermediate=True),
    # A child with a history over a parent without one: its first steps are the parent's.
    image(["RUN solo:3", "ENV A=1", "RUN own:5"], "with-history:1", parent_hint="sha256:abc"),
    image(["RUN solo:3"], "no-history:1", history=False),
    replace(image(["RUN archived:7"], "archived:1"), size_kind="compressed"),
    # Histories that do not match the layers: one layer too many, one too few.
    replace(image(["RUN m:1"], "more-layers:1"), layers=(digest("l1"), digest("l2"))),
    replace(image(["RUN m:1", "RUN n:2"], "fewer-layers:1"), layers=(digest("l3"),)),
)


@pytest.mark.parametrize(
    "images",
    [
        pytest.param(tuple(jupyter_family()), id="family"),
        pytest.param(MIXED, id="mixed-histories"),
    ],
)
def test_a_graph_export_reads_back_as_its_records(images: tuple[Image, ...]) -> None:
    scan = loads(graph_file(images), origin="graph.json")
    assert sorted(scan.images, key=lambda i: i.id) == sorted(images, key=lambda i: i.id)
    assert scan.source == SOURCE
    assert Diagnostic(None, "image_gone", "one image went away") in scan.diagnostics


def test_a_graph_export_writes_history_only_where_its_steps_cannot_tell() -> None:
    document = json.loads(graph_file(MIXED))
    explicit = {i["tags"][0] if i["tags"] else "<none>" for i in document["images"] if "history" in i}
    assert explicit == {"<none>", "no-history:1", "with-history:1", "more-layers:1", "fewer-layers:1"}
    assert all("history" not in i for i in json.loads(graph_file(tuple(jupyter_family())))["images"])


def test_a_graph_export_from_before_reported_size_still_reads() -> None:
    document = json.loads(graph_file(tuple(jupyter_family()[:1])))
    first = document["images"][0]
    del first["reported_size"], first["parent_hint"], first["size_kind"]
    for step in first["layers"]:
        del step["comment"]
    assert loads(json.dumps(document)).images == (jupyter_family()[0],)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param(
            json.dumps([{"Id": "sha256:1", "RepoTags": ["a:1"], "RootFS": {"Layers": []}}]),
            "is docker inspect output (1 image, without build histories), not a snapshot",
            id="docker-inspect",
        ),
        pytest.param(
            '{"Comment":"","CreatedAt":"2026-01-01","CreatedBy":"RUN x","CreatedSince":"1 day",'
            '"ID":"abc","Size":"5B"}\n{"Comment":"","CreatedAt":"2026-01-01","CreatedBy":"RUN y",'
            '"CreatedSince":"1 day","ID":"<missing>","Size":"0B"}\n',
            "is docker history output",
            id="docker-history-lines",
        ),
        pytest.param(
            '{"Comment":"","CreatedBy":"RUN x","ID":"abc","Size":"5B"}',
            "is docker history output",
            id="docker-history-one-row",
        ),
        pytest.param('{"name": "something else"}', "is JSON, but neither a snapshot nor a graph", id="other"),
        pytest.param("[1, 2]", "is JSON, but neither a snapshot nor a graph", id="other-list"),
    ],
)
def test_other_files_are_named_in_one_line(text: str, says: str) -> None:
    with pytest.raises(SnapshotError) as caught:
        loads(text, origin="dump.json")
    message = str(caught.value)
    assert message.startswith("dump.json ")
    assert says in message
    assert "\n" not in message
    assert "--" not in message  # flags are the CLI's words
    assert "read the images from the engine itself" in message or "neither" in message


def test_every_field_of_an_image_is_written() -> None:
    """A field added to ``Image`` and forgotten in ``records.py`` would be lost on the way."""
    settings = RunConfig(exposed_ports=("8888/tcp",), cmd=("start-notebook.py",), env_names=("PATH",))
    found = (("docker unix:///d.sock", ("a:1",)), ("registry r.example", ("r.example/a:1",)))
    base = BaseEvidence(
        "provenance", "a:0", "sha256:" + "c" * 64, (("a:0", "sha256:" + "c" * 64), ("b:1", ""))
    )
    image = replace(
        jupyter_family()[0], run_config=settings, found_in=tuple(dict(found)), tags_by_source=found, base=base
    )
    written = records.image_to_dict(image)
    assert set(written) == {field.name for field in fields(Image)}
    assert records.Reader("t.json").image(json.loads(json.dumps(written)), "images[0]") == image


def test_a_record_without_run_config_is_read_and_written_without_it() -> None:
    written = records.image_to_dict(jupyter_family()[0])
    assert "run_config" not in written
    assert records.Reader("t.json").image(written, "images[0]").run_config is None
    with pytest.raises(SnapshotError, match=r"images\[0\]\.run_config\.cmd should be a list"):
        records.Reader("t.json").image({**written, "run_config": {"cmd": "serve"}}, "images[0]")


def test_a_snapshot_over_64_mib_is_read() -> None:
    """The reader refused anything over 64 MiB, and 20,000 images take up to 90 MB: the CLI
    wrote snapshots it could not read back."""
    family = jupyter_family()
    text = dumps(Scan(source=SOURCE, images=tuple(family))) + " " * (65 << 20)  # JSON allows blanks
    assert len(loads(text).images) == len(family)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "dump.json is empty, not a snapshot."),
        (b"  \n", "dump.json is empty, not a snapshot."),
        (gzip.compress(b"{}"), "dump.json is gzip-compressed, not a snapshot: uncompress it, then read it."),
        (bz2.compress(b"{}"), "dump.json is bzip2-compressed"),
        (lzma.compress(b"{}"), "dump.json is xz-compressed"),
    ],
    ids=["empty", "blank", "gzip", "bzip2", "xz"],
)
def test_an_empty_or_compressed_file_says_so(data: bytes, says: str) -> None:
    """Said once as "not valid JSON (Expecting value: line 1 column 1 (char 0))" or as a
    UTF-8 decoding error: a sent or uploaded file deserves its own words."""
    with pytest.raises(SnapshotError) as caught:
        loads(data, origin="dump.json")
    assert str(caught.value).startswith(says)
