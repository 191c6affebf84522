"""Raw Engine API answers -> records, on answers recorded from a real dockerd.

``fixtures/docker-20.10-api-1.41.json`` was recorded by ``fixtures/record_engine_api.py``
(dockerd 20.10.24, API 1.41). Newer engines differ in known ways (docker-notes.md);
``as_newer_api`` rewrites a recorded answer the way API 1.43+/1.52 engines send it.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from image_lineage.lineage import build_lineage
from image_lineage.model import parse_time
from image_lineage.sources import engine_api
from image_lineage.sources.engine_api import (
    EMPTY_LAYER_DIFF_ID,
    assign_layers,
    history_ids,
    image_from_api,
    is_metadata_instruction,
    layers_are_ambiguous,
    parse_history,
    trim_history,
    trim_inspect,
)
from tests.builders import SOURCE

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "docker-20.10-api-1.41.json").read_text())


def recorded(tag: str) -> dict[str, Any]:
    return next(r for r in RECORDED["images"] if tag in r["summary"]["RepoTags"])


def as_newer_api(record: dict[str, Any]) -> dict[str, Any]:
    """API >= 1.43: untagged is []; >= 1.52: empty Parent/Comment are omitted."""
    newer = copy.deepcopy(record)
    newer["summary"]["RepoTags"] = [t for t in newer["summary"]["RepoTags"] if t != "<none>:<none>"]
    newer["summary"]["RepoDigests"] = []
    for key in ("Parent", "Comment", "Author", "DockerVersion", "ContainerConfig"):
        if not newer["inspect"].get(key):
            newer["inspect"].pop(key, None)
    newer["summary"].pop("ParentId", None)
    newer["summary"].pop("VirtualSize", None)
    for entry in newer["history"]:
        if not entry.get("Comment"):
            entry.pop("Comment", None)
    return newer


def parse(record: dict[str, Any]):  # type: ignore[no-untyped-def]
    return image_from_api(record["summary"], record["inspect"], record["history"])


def test_recorded_labelled_image() -> None:
    image = parse(recorded("fixture/labelled:1"))
    assert image.tags == ("fixture/labelled:1",)
    assert image.id == recorded("fixture/labelled:1")["inspect"]["Id"]
    assert len(image.layers) == 2
    assert [e.empty_layer for e in image.history or ()] == [False, False, True, True]
    assert [e.created_by for e in image.history or ()][-2:] == [
        "/bin/sh -c #(nop)  LABEL team=data",
        "/bin/sh -c #(nop)  ENV MODE=prod",
    ]
    assert image.labels == (("team", "data"),)
    assert image.parent_hint is not None
    assert image.created is not None
    assert image.created.tzinfo is UTC


def test_untagged_is_empty_tags_on_old_and_new_engines() -> None:
    dangling = next(r for r in RECORDED["images"] if r["summary"]["RepoTags"] == ["<none>:<none>"])
    assert parse(dangling).tags == ()
    assert parse(as_newer_api(dangling)).tags == ()
    assert parse(dangling).digests == ()


def test_newer_api_gives_the_same_records_but_the_parent_hint() -> None:
    for record in RECORDED["images"]:
        old, new = parse(record), parse(as_newer_api(record))
        assert (old.id, old.layers, old.history, old.size) == (new.id, new.layers, new.history, new.size)


def test_recorded_family_lineage() -> None:
    images = [parse(r) for r in RECORDED["images"]]
    lineage = build_lineage(images, SOURCE)
    name = {i.id: i.display_name for i in images}
    edges = sorted((name[p], name[c]) for p, c in lineage.graph.edges)
    dangling = next(i.display_name for i in images if not i.tags)
    assert edges == sorted(
        [
            ("fixture/root:1", "fixture/app:1"),
            ("fixture/app:1", "fixture/labelled:1"),
            ("fixture/app:1", "fixture/retagged:1"),
            ("fixture/app:1", dangling),
        ]
    )


def test_zero_size_layer_steps_are_found_when_counts_disagree() -> None:
    raw = [  # newest first, as the API sends it
        {"Created": 3, "CreatedBy": '/bin/sh -c #(nop)  CMD ["sh"]', "Size": 0},
        {"Created": 2, "CreatedBy": "/bin/sh -c touch /empty", "Size": 0},
        {"Created": 1, "CreatedBy": "/bin/sh -c #(nop) ADD file:abc in /", "Size": 100},
    ]
    history = parse_history(raw, ["sha256:" + "a" * 64, EMPTY_LAYER_DIFF_ID])
    assert [e.empty_layer for e in history] == [False, False, True]


def _nop(instruction: str) -> str:
    return f"/bin/sh -c #(nop) {instruction}"


LAYER_A, LAYER_B, LAYER_C = ("sha256:" + c * 64 for c in "abc")


@pytest.mark.parametrize(
    ("rows", "layers", "expected", "ambiguous"),
    [
        pytest.param(
            [(5, "/bin/sh -c make"), (0, _nop("WORKDIR /new/dir")), (0, _nop('CMD ["x"]'))],
            [LAYER_A, LAYER_B],
            [True, True, False],
            False,
            id="legacy-workdir-creates-a-directory",
        ),
        pytest.param(
            [(5, "/bin/sh -c make"), (0, _nop("WORKDIR /tmp")), (3, _nop("COPY file:x in /app"))],
            [LAYER_A, EMPTY_LAYER_DIFF_ID, LAYER_C],
            [True, True, True],
            False,
            id="legacy-workdir-to-an-existing-directory",
        ),
        pytest.param(
            [(5, "RUN make"), (0, "WORKDIR /app"), (0, "COPY empty.txt /app/"), (0, "ENV A=1")],
            [LAYER_A],
            [True, False, False, False],
            False,
            id="buildkit-drops-empty-layers",
        ),
        pytest.param(
            [(5, "RUN make"), (0, _nop("WORKDIR /a")), (0, "/bin/sh -c true"), (4, "/bin/sh -c cp")],
            [LAYER_A, LAYER_B, EMPTY_LAYER_DIFF_ID, LAYER_C],
            [True, True, True, True],
            False,
            id="every-step-a-layer",
        ),
        pytest.param(
            [(5, "RUN make"), (0, "WORKDIR /a"), (0, "RUN true"), (3, "COPY x /")],
            [LAYER_A, EMPTY_LAYER_DIFF_ID, LAYER_C],
            [True, True, False, True],
            True,
            id="two-size-0-steps-one-empty-layer",
        ),
        pytest.param(
            [(5, "RUN make"), (0, "WORKDIR /a"), (3, "COPY x /"), (0, "RUN true")],
            [LAYER_A, LAYER_B, EMPTY_LAYER_DIFF_ID],
            [True, False, True, True],
            False,
            id="empty-tar-layer-is-never-a-sized-step",
        ),
        pytest.param(
            [(5, "RUN make")],
            [LAYER_A, LAYER_B],
            [True],
            False,
            id="more-layers-than-steps",
        ),
    ],
)
def test_layers_are_assigned_from_sizes_instructions_and_diff_ids(
    rows: list[tuple[int, str]], layers: list[str], expected: list[bool], ambiguous: bool
) -> None:
    assert assign_layers(rows, layers) == (expected, ambiguous)


_INSTRUCTIONS = st.sampled_from(
    [_nop("ENV A=1"), _nop("LABEL a=b"), _nop("WORKDIR /w"), "/bin/sh -c make", _nop("COPY f in /")]
)


@given(
    st.lists(
        st.tuples(_INSTRUCTIONS, st.booleans(), st.integers(min_value=0, max_value=3)),
        max_size=12,
    )
)
def test_an_unambiguous_answer_is_the_truth(steps: list[tuple[str, bool, int]]) -> None:
    """Build a true history (which steps made which layer), hide the flags as the API does,
    and check that whatever is found fits the layers, and is the truth unless flagged."""
    truth, rows, layers = [], [], []
    for index, (created_by, wants_layer, size) in enumerate(steps):
        made_layer = wants_layer and not is_metadata_instruction(created_by)
        truth.append(made_layer)
        rows.append((size if made_layer else 0, created_by))
        if made_layer:
            layers.append(EMPTY_LAYER_DIFF_ID if size == 0 and index % 2 else f"sha256:{index:064x}")
    found, ambiguous = assign_layers(rows, layers)
    assert sum(found) == len(layers)
    assert all(f for f, (size, _) in zip(found, rows, strict=True) if size > 0)
    if not ambiguous:
        assert found == truth


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "2026-11-28T00:54:37.123456789Z", datetime(2026, 11, 28, 0, 54, 37, 123456, UTC), id="nanoseconds"
        ),
        pytest.param("2026-11-28T01:54:37+01:00", datetime(2026, 11, 28, 0, 54, 37, tzinfo=UTC), id="offset"),
        pytest.param(1_700_000_000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC), id="unix"),
        pytest.param("0001-01-01T00:00:00Z", None, id="zero-time"),
        pytest.param(0, None, id="zero"),
        pytest.param("garbage", None, id="garbage"),
        pytest.param("10000-01-01T00:00:00Z", None, id="year-10000"),
        pytest.param("9999-12-31T23:59:59-01:00", None, id="past-9999-in-utc"),
        pytest.param(10**20, None, id="beyond-time_t"),
        pytest.param(float("nan"), None, id="nan"),
        pytest.param(None, None, id="none"),
    ],
)
def test_parse_time(value: object, expected: datetime | None) -> None:
    assert parse_time(value) == expected


def test_missing_and_null_fields_do_not_crash() -> None:
    image = image_from_api({"Id": "sha256:" + "0" * 64}, {"Config": None, "RootFS": None}, None)
    assert (image.tags, image.layers, image.history, image.labels, image.parent_hint) == (
        (),
        (),
        None,
        (),
        None,
    )


def without_history(tag: str) -> list[dict[str, Any]]:
    """The recorded family, with the image tagged ``tag`` answering ``[]`` for its history."""
    records: list[dict[str, Any]] = copy.deepcopy(RECORDED["images"])
    for record in records:
        if tag in record["summary"]["RepoTags"]:
            record["history"] = []
    return records


@pytest.mark.parametrize("history", [[], [None, "garbage", 3]], ids=["empty", "only-garbage"])
def test_an_empty_history_answer_is_no_history(history: list[object]) -> None:
    record = recorded("fixture/app:1")
    image = image_from_api(record["summary"], record["inspect"], history)  # type: ignore[arg-type]
    assert image.history is None
    assert image.layers == tuple(record["inspect"]["RootFS"]["Layers"])


def test_an_image_without_history_is_placed_by_its_layers_and_marked_unverified() -> None:
    images = [parse(r) for r in without_history("fixture/app:1")]
    lineage = build_lineage(images, SOURCE)
    name = {i.id: i.display_name for i in images}
    edges = {(name[p], name[c]): lineage.node(c).parent_verified for p, c in lineage.graph.edges}
    dangling = next(i.display_name for i in images if not i.tags)
    assert edges == {
        ("fixture/root:1", "fixture/app:1"): False,
        ("fixture/app:1", "fixture/retagged:1"): False,
        ("fixture/app:1", dangling): False,
        # Same layers as app: without app's history nothing proves app is its parent.
        ("fixture/root:1", "fixture/labelled:1"): True,
    }
    codes = {(name[d.image], d.code) for d in lineage.diagnostics if d.image}
    assert ("fixture/app:1", "unverified_parent") in codes
    assert not any(code == "history_layer_mismatch" for _, code in codes)


def test_a_base_without_history_is_still_the_parent_of_its_child() -> None:
    images = [parse(r) for r in without_history("fixture/root:1")]
    lineage = build_lineage(images, SOURCE)
    app = lineage.node(parse(recorded("fixture/app:1")).id)
    root = parse(recorded("fixture/root:1"))
    assert (app.parent, app.parent_verified) == (root.id, False)
    assert lineage.node(root.id).added_layers == 1


def test_trimmed_answers_parse_to_the_same_records() -> None:
    """The cache keeps only what the parser reads; nothing it reads may be lost."""
    for record in RECORDED["images"]:
        full = parse(record)
        trimmed = image_from_api(
            record["summary"], trim_inspect(record["inspect"]), trim_history(record["history"])
        )
        assert trimmed == full


def test_step_images_pin_down_which_step_made_a_layer() -> None:
    """The legacy builder's case (recorded shape): two size-0 steps made layers, two did not."""
    ids = [f"sha256:{n:064x}" for n in range(6)]
    raw = [  # newest first; each row names the step image the legacy builder left
        {"Id": ids[5], "CreatedBy": "/bin/sh -c true", "Size": 0},
        {"Id": ids[4], "CreatedBy": "/bin/sh -c echo hello > /srv/app/hello.txt", "Size": 6},
        {"Id": ids[3], "CreatedBy": "/bin/sh -c #(nop) COPY file:e3b0 in /srv/app/empty.txt", "Size": 0},
        {"Id": ids[2], "CreatedBy": "/bin/sh -c #(nop) WORKDIR /tmp", "Size": 0},
        {"Id": ids[1], "CreatedBy": "/bin/sh -c #(nop) WORKDIR /srv/app/data", "Size": 0},
        {"Id": ids[0], "CreatedBy": "", "Comment": "Imported", "Size": 1000},
    ]
    layers = [LAYER_A, LAYER_B, LAYER_C, "sha256:" + "d" * 64]
    counts = {ids[0]: 1, ids[1]: 2, ids[2]: 2, ids[3]: 3, ids[4]: 4, ids[5]: 4}
    assert layers_are_ambiguous(raw, layers)  # sizes alone: 2 of 4 size-0 steps, any 2
    assert not layers_are_ambiguous(raw, layers, counts)
    history = parse_history(raw, layers, counts)
    assert [not e.empty_layer for e in history] == [True, True, False, True, True, False]
    # Rows that name no local image ("<missing>", as after a pull) give no count.
    assert history_ids([{**row, "Id": "<missing>"} for row in raw]) == []


@given(
    st.lists(st.tuples(_INSTRUCTIONS, st.integers(min_value=0, max_value=2)), max_size=10),
    st.integers(min_value=0, max_value=6),
    st.booleans(),
)
def test_all_layers_after_the_last_row_pins_nothing(
    steps: list[tuple[str, int]], count: int, empty_first: bool
) -> None:
    """What the scan leaves out (``_assigned``): the same answer with that count as without it."""
    rows = [(size, created_by) for created_by, size in steps]
    layers = [EMPTY_LAYER_DIFF_ID if empty_first and n == 0 else f"sha256:{n:064x}" for n in range(count)]
    if rows:
        assert assign_layers(rows, layers, {len(rows) - 1: count}) == assign_layers(rows, layers)


def test_a_loaded_image_is_decided_by_counting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its history's last row names the image itself (all its layers): no search for that.
    A warm scan of 1,000 loaded images spent a third of its own work in the search."""
    searched = []
    monkeypatch.setattr(engine_api, "_assign_by_search", lambda *a: searched.append(a))
    own = "sha256:" + "e" * 64
    raw = [
        {"Id": own, "CreatedBy": "/bin/sh -c make", "Size": 5},
        {"Id": "<missing>", "CreatedBy": "/bin/sh -c #(nop) WORKDIR /w", "Size": 0},
        {"Id": "<missing>", "CreatedBy": "", "Comment": "Imported", "Size": 1000},
    ]
    layers = [LAYER_A, LAYER_B]
    history = parse_history(raw, layers, {own: 2})
    assert [not e.empty_layer for e in history] == [True, False, True]
    assert not layers_are_ambiguous(raw, layers, {own: 2})
    assert searched == []
