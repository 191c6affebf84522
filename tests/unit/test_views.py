"""Views: focus, filter, and collapsing chains of intermediate images."""

from __future__ import annotations

import pytest

from image_lineage.errors import Hint, UnknownImage
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Scan
from image_lineage.views import chain_links, collapse_chains, focus, resolve
from tests.builders import BASE, FOUNDATION, SOURCE, image, jupyter_family


def legacy_chain() -> Scan:
    """foundation -> 3 hidden step images -> base (tagged); a hidden branch point under base."""
    steps = [*FOUNDATION, "RUN conda-install:20000000"]
    images = [
        image(FOUNDATION, "foundation:1"),
        image([*FOUNDATION, "ENV A=1"], intermediate=True),
        image([*FOUNDATION, "ENV A=1", "ENV B=2"], intermediate=True),
        image([*FOUNDATION, "ENV A=1", "ENV B=2", "RUN x:5"], intermediate=True),
        image([*FOUNDATION, "ENV A=1", "ENV B=2", "RUN x:5", "RUN y:6"], "base:1"),
        image([*steps, "LABEL shared=1"], intermediate=True),  # where two builds part ways
        image([*steps, "LABEL shared=1", "RUN one:1"], "one:1"),
        image([*steps, "LABEL shared=1", "RUN two:2"], "two:1"),
    ]
    return Scan(source=SOURCE, images=tuple(images))


def test_chain_links_are_single_child_untagged_intermediates() -> None:
    scan = legacy_chain()
    lineage = build_lineage(scan.images, scan.source)
    links = chain_links(lineage)
    assert len(links) == 3
    assert all(lineage.node(i).image.intermediate for i in links)
    collapsed = collapse_chains(lineage, scan)
    names = {n.image.display_name: n for n in collapsed.nodes()}
    base = names["base:1"]
    assert collapsed.node(base.parent).image.tags == ("foundation:1",)  # type: ignore[arg-type]
    assert base.added_layers == 2  # what the hidden steps added is still counted
    branch = [n for n in collapsed.nodes() if n.image.intermediate]
    assert len(branch) == 1
    assert {c.image.tags[0] for c in collapsed.children(branch[0].id)} == {"one:1", "two:1"}


def test_collapse_without_links_is_the_same_lineage() -> None:
    scan = Scan(source=SOURCE, images=tuple(jupyter_family()))
    lineage = build_lineage(scan.images, scan.source)
    assert collapse_chains(lineage, scan) is lineage


def test_focus_and_resolve() -> None:
    lineage = build_lineage([*jupyter_family(), image([*BASE, "RUN other:1"], "other:1")], SOURCE)
    minimal = resolve(lineage, "jupyter/minimal-notebook")
    assert lineage.node(minimal).image.tags == ("jupyter/minimal-notebook:latest",)
    focused = focus(lineage, minimal[:19])  # an id prefix works too
    assert {n.image.tags[0] for n in focused.nodes()} == {
        "jupyter/docker-stacks-foundation:latest",
        "jupyter/base-notebook:latest",
        "jupyter/minimal-notebook:latest",
        "jupyter/r-notebook:latest",
        "jupyter/scipy-notebook:2026-11",
    }
    with pytest.raises(UnknownImage, match="No image 'scipy' among the 6 shown"):
        resolve(lineage, "scipy")


def tutorial_lineage() -> Lineage:
    python = [*FOUNDATION, "RUN install-python:900"]
    return build_lineage(
        [
            *jupyter_family(),
            image(python, "tutorial/python:3.7.9"),
            image([*python, "RUN first:1"], "tutorial/first:1", "tutorial/first:2"),
            image([*python, "RUN app:1"], "tutorial/app:1"),
            image([*python, "RUN app:2"], "tutorial/app:2"),
        ],
        SOURCE,
    )


@pytest.mark.parametrize(
    ("reference", "tag"),
    [
        pytest.param("tutorial/python", "tutorial/python:3.7.9", id="repository-with-one-tag"),
        pytest.param("tutorial/first", "tutorial/first:1", id="one-image-two-tags"),
        pytest.param("tutorial/python:3.7.9", "tutorial/python:3.7.9", id="full-tag"),
        pytest.param("jupyter/base-notebook", "jupyter/base-notebook:latest", id="latest"),
    ],
)
def test_resolve_a_repository_name(reference: str, tag: str) -> None:
    lineage = tutorial_lineage()
    assert tag in lineage.node(resolve(lineage, reference)).image.tags


def test_a_repository_with_several_images_lists_them() -> None:
    with pytest.raises(UnknownImage) as caught:
        resolve(tutorial_lineage(), "tutorial/app")
    message = str(caught.value)
    assert "tutorial/app:1, tutorial/app:2" in message
    assert "\n" not in message


def test_no_match_suggests_the_closest_names() -> None:
    with pytest.raises(UnknownImage) as caught:
        resolve(tutorial_lineage(), "tutorial/pyton")
    assert "did you mean tutorial/python" in str(caught.value)
    assert "3.7.9" not in str(caught.value)  # not the repository's tag as well
    assert caught.value.hint is None
    with pytest.raises(UnknownImage) as caught:
        resolve(tutorial_lineage(), "zzzzzz")
    assert "did you mean" not in str(caught.value)
    assert caught.value.hint is Hint.SHOW_ALL
    assert "--" not in str(caught.value)  # flags are the CLI's words, not the view's


def test_short_ids_and_full_ids_still_resolve() -> None:
    lineage = tutorial_lineage()
    node = next(n for n in lineage.nodes() if "tutorial/app:2" in n.image.tags)
    assert resolve(lineage, node.image.short_id) == node.id
    assert resolve(lineage, node.id) == node.id
    assert focus(lineage, "tutorial/python").node(node.id) == node
