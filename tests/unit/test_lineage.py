"""The ancestry rule on hand-written families (see tests/builders.py for the notation)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace

from image_lineage.lineage import build_lineage
from image_lineage.model import Image
from tests.builders import BASE, FOUNDATION, MINIMAL, SCIPY, SOURCE, image, jupyter_family


def parents_by_tag(images: Iterable[Image]) -> dict[str, str | None]:
    lineage = build_lineage(images, SOURCE)
    return {
        n.image.display_name: (lineage.node(n.parent).image.display_name if n.parent else None)
        for n in lineage.nodes()
    }


def test_jupyter_family_parents() -> None:
    assert parents_by_tag(jupyter_family()) == {
        "jupyter/docker-stacks-foundation:latest": None,
        "jupyter/base-notebook:latest": "jupyter/docker-stacks-foundation:latest",
        "jupyter/minimal-notebook:latest": "jupyter/base-notebook:latest",
        "jupyter/r-notebook:latest": "jupyter/minimal-notebook:latest",
        "jupyter/scipy-notebook:2026-11": "jupyter/minimal-notebook:latest",
    }


def test_added_sizes_and_who_introduced_each_step() -> None:
    images = jupyter_family()
    lineage = build_lineage(images, SOURCE)
    by_name = {n.image.display_name: n for n in lineage.nodes()}
    scipy = by_name["jupyter/scipy-notebook:2026-11"]
    assert scipy.added_size == 42_000_000
    assert scipy.added_layers == 2
    foundation = by_name["jupyter/docker-stacks-foundation:latest"]
    assert foundation.added_size == 5_300_000
    introducers = [lineage.node(s.introduced_by).image.display_name for s in scipy.steps]
    assert introducers == [
        "jupyter/docker-stacks-foundation:latest",
        "jupyter/docker-stacks-foundation:latest",
        "jupyter/docker-stacks-foundation:latest",
        "jupyter/base-notebook:latest",
        "jupyter/base-notebook:latest",
        "jupyter/minimal-notebook:latest",
        "jupyter/scipy-notebook:2026-11",
        "jupyter/scipy-notebook:2026-11",
    ]
    assert [s.empty for s in scipy.steps] == [False, True, False, False, True, False, False, False]


def test_label_only_child_has_same_layers_but_longer_history() -> None:
    labelled = image([*BASE, "LABEL team=data"], "team/base:1")
    grandchild = image([*BASE, "LABEL team=data", "RUN more:10"], "team/app:1")
    parents = parents_by_tag([image(BASE, "base:1"), labelled, grandchild])
    assert parents == {"base:1": None, "team/base:1": "base:1", "team/app:1": "team/base:1"}
    lineage = build_lineage([image(BASE, "base:1"), labelled], SOURCE)
    node = next(n for n in lineage.nodes() if n.image.tags == ("team/base:1",))
    assert (node.added_size, node.added_layers) == (0, 0)


def test_identical_metadata_siblings_are_siblings_with_a_diagnostic() -> None:
    one = image([*BASE, "LABEL v=1"], "one:1")
    two = image([*BASE, "LABEL v=1"], "two:1", salt="rebuilt")
    parents = parents_by_tag([image(BASE, "base:1"), one, two])
    assert parents == {"base:1": None, "one:1": "base:1", "two:1": "base:1"}
    codes = {(d.image, d.code) for d in build_lineage([one, two], SOURCE).diagnostics}
    assert codes == {(one.id, "identical_content"), (two.id, "identical_content")}


def test_child_of_identical_twins_follows_the_engine_hint_and_says_it_chose() -> None:
    one = image([*BASE, "LABEL v=1"], "one:1")
    two = image([*BASE, "LABEL v=1"], "two:1", salt="rebuilt")
    child = image([*BASE, "LABEL v=1", "RUN app:5"], "app:1", parent_hint=two.id)
    lineage = build_lineage([one, two, child], SOURCE)
    assert lineage.node(child.id).parent == two.id
    assert any(d.code == "ambiguous_parent" and d.image == child.id for d in lineage.diagnostics)
    unhinted = image([*BASE, "LABEL v=1", "RUN app:5"], "app:1")
    assert build_lineage([one, two, unhinted], SOURCE).node(unhinted.id).parent == one.id  # tagged, lowest id


def test_hidden_intermediate_is_skipped_to_the_nearest_shown_ancestor() -> None:
    family = [image(FOUNDATION, "foundation:1"), image(SCIPY, "scipy:1")]
    assert parents_by_tag(family)["scipy:1"] == "foundation:1"
    with_intermediate = [*family, image(MINIMAL, intermediate=True)]
    lineage = build_lineage(with_intermediate, SOURCE)
    scipy = next(n for n in lineage.nodes() if n.image.tags == ("scipy:1",))
    assert lineage.node(scipy.parent).image.intermediate  # type: ignore[arg-type]


def test_rebuilt_base_leaves_children_on_the_old_one() -> None:
    old_base = image(BASE, salt="old")  # untagged now: the tag moved on
    new_base = image([*FOUNDATION, "RUN conda-install-newer:21000000", "LABEL maintainer=jupyter"], "base:1")
    child = image(MINIMAL, "minimal:1")
    lineage = build_lineage([old_base, new_base, child], SOURCE)
    assert lineage.node(child.id).parent in {old_base.id, image(BASE).id}
    assert lineage.node(new_base.id).parent is None  # shares layers with the child, but not a prefix


def test_without_history_the_edge_comes_from_layers_and_is_unverified() -> None:
    base = image(BASE, "base:1", history=False)
    child = image(MINIMAL, "minimal:1")
    lineage = build_lineage([base, child], SOURCE)
    node = lineage.node(child.id)
    assert (node.parent, node.parent_verified) == (base.id, False)
    assert node.added_size == child.size - base.size
    assert any(d.code == "unverified_parent" for d in lineage.diagnostics)


def test_equal_layers_without_history_decide_nothing() -> None:
    one = image(BASE, "one:1", history=False)
    two = image(BASE, "two:1", history=False, salt="x")
    lineage = build_lineage([one, two], SOURCE)
    assert [n.parent for n in lineage.nodes()] == [None, None]


def test_history_layer_mismatch_is_reported() -> None:
    broken = image(BASE, "broken:1")
    broken = replace(broken, layers=broken.layers[:-1])
    lineage = build_lineage([broken], SOURCE)
    assert [d.code for d in lineage.diagnostics] == ["history_layer_mismatch"]


def test_input_order_does_not_matter() -> None:
    images = jupyter_family()
    expected = build_lineage(images, SOURCE)
    for seed in range(5):
        shuffled = images[:]
        random.Random(seed).shuffle(shuffled)
        again = build_lineage(shuffled, SOURCE)
        assert [(n.id, n.parent, n.steps) for n in again.nodes()] == [
            (n.id, n.parent, n.steps) for n in expected.nodes()
        ]


def test_a_deep_chain_builds_without_recursion_limits() -> None:
    steps: list[str] = []
    chain = []
    for n in range(1100):  # deeper than Python's recursion limit
        steps = [*steps, f"RUN step{n}:1"]
        chain.append(image(steps, f"c:{n}"))
    lineage = build_lineage(chain, SOURCE)
    depths = [depth for depth, _ in lineage.walk()]
    assert depths == list(range(1100))
    assert len(lineage.ancestors(chain[-1].id)) == 1099


def test_an_image_with_no_history_and_no_layers_is_no_ones_parent() -> None:
    empty = replace(image(["LABEL x"], "empty:1"), history=(), layers=())
    bare = replace(image(["LABEL y"], "bare:1"), history=None, layers=())
    family = jupyter_family()
    lineage = build_lineage([empty, bare, *family], SOURCE)
    assert [n.parent for n in lineage.nodes() if n.image.tags[0].startswith("jupyter/docker-stacks")] == [
        None
    ]
    assert not lineage.children(empty.id)
    assert not lineage.children(bare.id)


def test_a_parent_from_the_engine_and_a_child_from_a_config_still_match() -> None:
    """The engine's history API gives whole seconds, an image config keeps fractions."""
    base = image(["import-rootfs", "ENV A=1"], "base:1")
    child = image(["import-rootfs", "ENV A=1", "build-app"], "app:1")
    assert base.history is not None
    assert child.history is not None
    precise = tuple(
        replace(entry, created=entry.created.replace(microsecond=123456)) if entry.created else entry
        for entry in child.history
    )
    assert parents_by_tag([base, replace(child, history=precise)]) == {"base:1": None, "app:1": "base:1"}
