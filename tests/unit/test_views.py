"""Views: focus, filter, and collapsing chains of intermediate images."""

from __future__ import annotations

from dataclasses import replace

import pytest

from image_lineage import platforms
from image_lineage.errors import Hint, UnknownImage
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Diagnostic, Scan
from image_lineage.views import (
    chain_links,
    collapse_chains,
    default_platform,
    focus,
    platforms_of,
    resolve,
    select_platform,
)
from tests.builders import BASE, FOUNDATION, SOURCE, image, jupyter_family, multi_platform_family


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
        pytest.param("docker.io/tutorial/python:3.7.9", "tutorial/python:3.7.9", id="hub-spelled-out"),
        pytest.param("index.docker.io/tutorial/python", "tutorial/python:3.7.9", id="hub-repository"),
        pytest.param("docker.io/jupyter/base-notebook", "jupyter/base-notebook:latest", id="hub-latest"),
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


# --------------------------------------------------------------------------- platforms


def test_select_platform_keeps_one_platform_and_counts_the_others() -> None:
    images = multi_platform_family()
    unknown = replace(image(["RUN mystery:1"], "mystery:1"), os="", architecture="")
    chosen = select_platform([*images, unknown], "linux/arm64")
    assert {i.platform for i in chosen.images} == {"linux/arm64", ""}
    assert unknown in chosen.images  # an unknown platform is always shown
    assert chosen.hidden == {"linux/amd64": 7}
    assert chosen.note() == "7 images of another platform (linux/amd64) hidden"
    everything = select_platform(images, platforms.ALL)
    assert (len(everything.images), everything.hidden, everything.note()) == (len(images), {}, None)


def test_notes_about_hidden_images_go_with_them() -> None:
    images = multi_platform_family()
    arm = next(i for i in images if i.platform == "linux/arm64")
    notes = [
        Diagnostic(arm.id, "x", "about arm"),
        Diagnostic(None, "y", "the scan"),
        Diagnostic("gone", "z", ""),
    ]
    assert [d.code for d in select_platform(images, "linux/amd64").notes(notes)] == ["y", "z"]
    assert len(select_platform(images, "all").notes(notes)) == 3


def test_the_note_names_every_hidden_platform_and_counts_in_the_singular() -> None:
    images = [
        image(["RUN a:1"], "a:1"),
        image(["RUN a:1"], "a:1", platform="linux/arm/v7"),
        image(["RUN a:1"], "a:1", platform="linux/arm64"),
    ]
    assert select_platform(images, "linux/amd64").note() == (
        "2 images of other platforms (linux/arm/v7, linux/arm64) hidden"
    )
    assert (
        select_platform(images[:2], "linux/amd64").note()
        == "1 image of another platform (linux/arm/v7) hidden"
    )


def test_lineage_after_selecting_a_platform_is_that_platforms_tree() -> None:
    chosen = select_platform(multi_platform_family(), "linux/arm64/v8")  # v8: arm64's default variant
    lineage = build_lineage(chosen.images, SOURCE)
    base = resolve(lineage, "multi/base:1")
    assert {n.image.display_name for n in lineage.children(base)} == {
        "multi/app:1",
        "multi/arm-tool:1",
        "multi/labelled:1",
    }


def test_the_default_platform_is_the_hosts_unless_no_image_is_of_it() -> None:
    images = multi_platform_family()
    assert default_platform(images, "linux/amd64") == "linux/amd64"
    assert default_platform(images, "linux/arm64") == "linux/arm64"
    assert default_platform(images, "linux/s390x") == platforms.ALL  # an empty tree helps no one
    unknown = replace(image(["RUN a:1"], "a:1"), os="", architecture="")
    assert default_platform([unknown], "linux/s390x") == "linux/s390x"
    assert platforms_of(images) == ["linux/amd64", "linux/arm64"]


@pytest.mark.parametrize(
    ("machine", "host"),
    [
        pytest.param("x86_64", "linux/amd64", id="x86_64"),
        pytest.param("AMD64", "linux/amd64", id="windows-amd64"),
        pytest.param("aarch64", "linux/arm64", id="aarch64"),
        pytest.param("arm64", "linux/arm64", id="macos-arm64"),
        pytest.param("armv7l", "linux/arm/v7", id="armv7l"),
        pytest.param("armv6l", "linux/arm/v6", id="armv6l"),
        pytest.param("i686", "linux/386", id="i686"),
        pytest.param("ppc64le", "linux/ppc64le", id="ppc64le"),
        pytest.param("s390x", "linux/s390x", id="s390x"),
        pytest.param("riscv64", "linux/riscv64", id="riscv64"),
    ],
)
def test_host_platform_uses_go_architecture_names(
    monkeypatch: pytest.MonkeyPatch, machine: str, host: str
) -> None:
    monkeypatch.setattr("platform.machine", lambda: machine)
    assert platforms.host_platform() == host


def test_a_view_keeps_notes_about_images_that_never_reached_the_tree() -> None:
    """An image removed mid-scan is in no view; its note must not vanish with the filter."""
    gone = Diagnostic("sha256:" + "f" * 64, "image_gone", "removed while it was being scanned")
    family = jupyter_family()
    lineage = build_lineage(family, SOURCE, [gone])
    scipy = next(i for i in family if "jupyter/scipy-notebook:latest" in i.tags)
    shown = focus(lineage, scipy.id)
    assert gone in shown.diagnostics
    assert len(shown) < len(lineage)
