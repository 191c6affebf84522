"""Property: the trie-based lineage equals a brute-force pairwise reading of the rule."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from image_lineage.lineage import build_lineage
from image_lineage.model import Image
from tests.builders import SOURCE, image


def _history_prefix(a: Image, b: Image) -> bool:
    assert a.history is not None
    assert b.history is not None
    ka = [e.identity() for e in a.history]
    kb = [e.identity() for e in b.history]
    return len(ka) < len(kb) and kb[: len(ka)] == ka


def _layer_prefix(a: Image, b: Image, *, strict: bool) -> bool:
    n = len(a.layers)
    return (len(b.layers) > n if strict else len(b.layers) >= n) and b.layers[:n] == a.layers


def nearest_ancestors(images: list[Image], child: Image) -> tuple[set[str], bool]:
    """Every image that the rule allows as ``child``'s parent, and whether the edge is verified."""
    verified = [
        a
        for a in images
        if a.id != child.id
        and a.history  # an empty history proves nothing
        and child.history is not None
        and _history_prefix(a, child)
        and _layer_prefix(a, child, strict=False)
    ]
    unverified = [
        a
        for a in images
        if a.id != child.id
        and (a.history is None or child.history is None)
        and a.layers  # nor does an empty layer list
        and _layer_prefix(a, child, strict=True)
    ]
    best_verified = max((len(a.history or ()) for a in verified), default=-1)
    nearest_verified = {a for a in verified if len(a.history or ()) == best_verified}
    best_unverified = max((len(a.layers) for a in unverified), default=-1)
    verified_layers = len(next(iter(nearest_verified)).layers) if nearest_verified else -1
    if unverified and best_unverified > verified_layers:
        return {a.id for a in unverified if len(a.layers) == best_unverified}, False
    return {a.id for a in nearest_verified}, True


@st.composite
def forests(draw: st.DrawFn) -> tuple[list[Image], int]:
    """Random families: children add layer and metadata steps, some add nothing (twins)."""
    count = draw(st.integers(min_value=1, max_value=25))
    step_lists: list[list[str]] = []
    images: list[Image] = []
    for n in range(count):
        parent = draw(st.one_of(st.none(), st.integers(0, max(0, len(step_lists) - 1))))
        base = step_lists[parent] if parent is not None and step_lists else []
        extra = draw(st.lists(st.sampled_from(["RUN", "ENV", "LABEL"]), max_size=3))
        twin = not extra and base and draw(st.booleans())
        steps = (
            base
            if twin
            else [
                *base,
                *(f"{kind} s{n}.{k}" + (":7" if kind == "RUN" else "") for k, kind in enumerate(extra)),
            ]
        )
        step_lists.append(steps)
        tags = (f"img{n}:latest",) if draw(st.booleans()) else ()
        images.append(
            image(steps, *tags, salt=f"#{n}", history=draw(st.integers(0, 9)) > 0, intermediate=False)
        )
    return images, draw(st.integers(0, 2**32))


@settings(max_examples=300, deadline=None)
@given(forests())
def test_fast_lineage_equals_brute_force(case: tuple[list[Image], int]) -> None:
    images, seed = case
    shuffled = images[:]
    random.Random(seed).shuffle(shuffled)
    lineage = build_lineage(shuffled, SOURCE)
    for child in images:
        allowed, verified = nearest_ancestors(images, child)
        node = lineage.node(child.id)
        if not allowed:
            assert node.parent is None
        else:
            assert node.parent in allowed
            assert node.parent_verified == verified


@settings(max_examples=50, deadline=None)
@given(forests())
def test_same_records_in_any_order_give_the_same_graph(case: tuple[list[Image], int]) -> None:
    images, seed = case
    shuffled = images[:]
    random.Random(seed).shuffle(shuffled)
    first, second = build_lineage(images, SOURCE), build_lineage(shuffled, SOURCE)
    assert sorted(first.graph.edges) == sorted(second.graph.edges)
    assert first.diagnostics == second.diagnostics
