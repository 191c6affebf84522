"""Cost that grows with the number of images, not faster: checked by counting work, not timing it.

``bench/growth.py`` times the commands at 1,000, 5,000 and 20,000 images; these tests pin
the shape of each fix: what runs once per render, what is compared with what.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest

from image_lineage import stale
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Image, SizeKind
from image_lineage.render import common, dot, html, mermaid, text
from tests.builders import SOURCE, as_found_elsewhere, digest, jupyter_family
from tests.unit.test_stale import family


def copies(images: Sequence[Image], count: int) -> list[Image]:
    """``count`` independent copies of ``images``: the same histories on other layers, other names."""
    return [
        replace(
            original,
            id=digest(f"copy{number}:{original.id}"),
            layers=tuple(digest(f"copy{number}:{layer}") for layer in original.layers),
            tags=tuple(f"copy{number}/{tag}" for tag in original.tags),
            manifest_digest=digest(f"copy{number}:{original.manifest_digest}")
            if original.manifest_digest
            else "",
        )
        for number in range(count)
        for original in images
    ]


# --------------------------------------------------------------------------- size kinds


def count_size_kinds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every call of ``size_kinds``, wherever a renderer imported it from."""
    calls = [0]
    real = common.size_kinds

    def counting(lineage: Lineage) -> list[SizeKind]:
        calls[0] += 1
        return real(lineage)

    for module in (common, text, dot, mermaid, html):
        monkeypatch.setattr(module, "size_kinds", counting, raising=False)
    return calls


RENDERS: dict[str, Callable[[Lineage], Any]] = {
    "text": text.render_text,
    "dot": dot.render_dot,
    "mermaid": mermaid.render_mermaid,
    "html nodes": html.tree_nodes,
}


@pytest.mark.parametrize("name", RENDERS)
def test_size_kinds_are_found_once_per_render_not_once_per_image(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    images = jupyter_family()
    mixed = [*images, as_found_elsewhere(images[0], "registry/foundation:1")]  # two kinds: markers shown
    calls = count_size_kinds(monkeypatch)
    for count in (1, 10):
        calls[0] = 0
        output = RENDERS[name](build_lineage(copies(mixed, count), SOURCE))
        assert "(compressed)" in str(output)
        assert calls[0] <= 2, f"{calls[0]} calls for {count} copies"


# --------------------------------------------------------------------------- stale


def test_stale_compares_an_image_only_with_images_on_its_own_bottom_layer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Copies of one project (the same commands on other roots) are never candidate rebuilds
    of each other: n copies cost n times one copy, not n² (each image met every copy)."""
    calls = [0]
    real = stale.common_prefix

    def counting(first: Sequence[str], second: Sequence[str]) -> int:
        calls[0] += 1
        return real(first, second)

    monkeypatch.setattr(stale, "common_prefix", counting)
    images, _, _ = family()
    found = []
    for count in (1, 8):
        calls[0] = 0
        report = stale.stale_images(build_lineage(copies(images, count), SOURCE))
        found.append((len(report.groups), len(report), calls[0]))
    (groups, stale_count, compared), (groups_8, stale_8, compared_8) = found
    assert (groups, stale_count) == (1, 2)
    assert (groups_8, stale_8) == (8, 16), "each copy's stale images are found, in its own group"
    assert compared_8 == 8 * compared
