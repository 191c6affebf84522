"""The bundled sample is what every new user and class sees first: it must be clean and add up."""

from __future__ import annotations

from importlib import resources

import pytest

from image_lineage.lineage import Lineage, build_lineage
from image_lineage.sources import SampleSource

MB = 1_000_000


def sample_lineage(*, intermediate: bool) -> Lineage:
    scan = SampleSource().scan(include_intermediate=intermediate)
    return build_lineage(scan.images, scan.source, scan.diagnostics)


@pytest.mark.parametrize("intermediate", [False, True], ids=["shown", "with-intermediates"])
def test_the_sample_has_no_diagnostics(intermediate: bool) -> None:
    scan = SampleSource().scan(include_intermediate=intermediate)
    assert scan.diagnostics == ()
    assert sample_lineage(intermediate=intermediate).diagnostics == ()


@pytest.mark.parametrize("intermediate", [False, True], ids=["shown", "with-intermediates"])
def test_each_size_is_the_parents_plus_what_the_image_adds(intermediate: bool) -> None:
    lineage = sample_lineage(intermediate=intermediate)
    for node in lineage.nodes():
        below = lineage.node(node.parent).total_size if node.parent else 0
        assert node.total_size == below + node.added_size, node.image.display_name
        assert node.total_size == node.image.size, node.image.display_name  # what `docker images` says
        own = [s for s in node.steps if s.introduced_by == node.id]
        assert node.added_size == sum(s.size for s in own), node.image.display_name


@pytest.mark.parametrize(
    ("name", "adds"),
    [
        pytest.param("jupyter/docker-stacks-foundation:2026-11", 20.5, id="foundation"),
        pytest.param("jupyter/base-notebook:2026-11", 15, id="base"),
        pytest.param("jupyter/scipy-notebook:2026-11", 30, id="scipy"),
        pytest.param("jupyter/r-notebook:2026-11", 20, id="r"),
        pytest.param("jupyter/tensorflow-notebook:2026-11", 40, id="tensorflow"),
        pytest.param("jupyter/pytorch-notebook:2026-11", 30, id="pytorch"),
        pytest.param("jupyter/datascience-notebook:2026-11", 26.5, id="datascience"),
        pytest.param("tutorial/python:3.7.9", 30, id="python"),
        pytest.param("tutorial/multistage-app:latest", 4, id="multistage"),
    ],
)
def test_sizes_keep_realistic_proportions(name: str, adds: float) -> None:
    lineage = sample_lineage(intermediate=False)
    node = next(n for n in lineage.nodes() if name in n.image.tags)
    assert node.added_size == pytest.approx(adds * MB, abs=0.3 * MB)


def test_the_sample_shows_no_test_internals_and_no_random_bytes() -> None:
    text = resources.files("image_lineage").joinpath("data/sample-snapshot.json").read_text()
    for leak in ("harness", "urandom", "head -c"):
        assert leak not in text


def test_every_step_reads_like_a_dockerfile_line() -> None:
    # Only the two imported roots have a step without a command; theirs is a comment.
    lineage = sample_lineage(intermediate=True)
    for node in lineage.nodes():
        history = node.image.history or ()
        assert history, node.image.display_name
        blank = [entry for entry in history if not entry.created_by]
        assert len(blank) == 1
        assert blank[0].comment.startswith("Imported from ")
