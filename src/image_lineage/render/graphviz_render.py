"""SVG, PNG and PDF through Graphviz's programs (the ``graphviz`` system package).

A small picture is one ``dot`` layout of the whole DOT, as ``render_dot`` writes it. One
layout of thousands of images grows much faster than the images (5,000 took 20 s, 20,000
no answer), so past ``WHOLE_LIMIT`` images the families (a root and its descendants) are
laid out on their own, ``BATCH_LIMIT`` images of them per ``dot`` run, then placed in an
array, in their order, by ``gvpack`` and drawn as laid out by ``neato -n2``: Graphviz's
own pipeline for a graph of many parts. The cost then grows with the images.

Every Graphviz run has a deadline (``DEADLINE`` seconds): a run past it is stopped and
reported in one line with what to do instead, never a silent hang. A family of more than
``FAMILY_LIMIT`` images (one layout, whatever its size) is refused at once, in one line.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections import Counter
from collections.abc import Sequence

from image_lineage.errors import RenderError
from image_lineage.lineage import Lineage
from image_lineage.render.dot import (
    FamilyGraph,
    caption_attributes,
    family_graphs,
    family_numbers,
    render_dot,
)

INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install "
    "graphviz), or export --format dot and render it elsewhere"
)
DEADLINE = 120.0  # seconds each Graphviz run may take
WHOLE_LIMIT = 300  # images drawn in one layout; past it, family by family, packed
BATCH_LIMIT = 2000  # images of families laid out per dot run (a bigger family is one run)
# Images in one family, past which a picture is refused at once: one family is one layout,
# and dot's time grows faster than its images (1,000: 0.4 s; 3,000: 3.4 s; 10,000: about
# 40 s on a 2-core machine), so past this it would mostly end at the deadline.
FAMILY_LIMIT = 10_000
# The opening line of a laid-out family graph. Each gets ``node [fixedsize=true]``: the
# packer and neato keep the boxes dot sized (gvpack sizes labels by its own estimate of the
# font, 4 pt taller here, so edges began inside their boxes and covered them to a click).
_FAMILY_GRAPH = re.compile(rb"^(digraph family_\d+ \{)$", re.MULTILINE)
TOO_LONG_HINT = (
    "draw fewer images (--focus IMAGE or --filter REGEX), or export --format json or dot and draw elsewhere"
)


def render_graphviz(
    lineage: Lineage,
    fmt: str,
    *,
    rankdir: str = "TB",
    highlight: str | None = None,
    host_platform: str | None = None,
    deadline: float = DEADLINE,
) -> bytes:
    """The picture as ``fmt`` (svg, png or pdf); ``deadline``: seconds per Graphviz run."""
    count = len(lineage.by_id)
    sizes = Counter(family_numbers(lineage).values())
    biggest = max(sizes.values(), default=0)
    if biggest > FAMILY_LIMIT:
        raise RenderError(
            f"One family holds {biggest:,} images, more than a picture lays out "
            f"({FAMILY_LIMIT:,}): {TOO_LONG_HINT}."
        )
    if count <= WHOLE_LIMIT or len(sizes) < 2:
        dot = render_dot(lineage, rankdir=rankdir, highlight=highlight, host_platform=host_platform)
        return _run(["dot", f"-T{fmt}"], dot.encode(), fmt=fmt, count=count, deadline=deadline)
    families = family_graphs(lineage, rankdir=rankdir, highlight=highlight, host_platform=host_platform)
    laid_out = b"".join(
        _run(["dot"], "".join(batch).encode(), fmt=fmt, count=count, deadline=deadline)
        for batch in batches(families)
    )
    laid_out = _FAMILY_GRAPH.sub(rb"\1\n\tnode [fixedsize=true];", laid_out)
    columns = packed_columns(len(families), rankdir)
    # -array_it: in an array, in the families' order (i), each at the top of its cell (t);
    # -s: the packed graph is called as render_dot's is.
    packing = ["gvpack", f"-array_it{columns}", "-slineage"]
    packed = _run(packing, laid_out, fmt=fmt, count=count, deadline=deadline)
    captioned = with_caption(packed, caption_attributes(lineage))
    return _run(["neato", "-n2", f"-T{fmt}"], captioned, fmt=fmt, count=count, deadline=deadline)


def packed_columns(families: int, rankdir: str) -> int:
    """How many columns of families: as ``render_dot`` stacks them top-down (about half as many
    columns as rows); left to right, families are wide, so one below the other, as one
    ``dot`` layout of them all places them."""
    return 1 if rankdir == "LR" else max(1, round(math.sqrt(families / 2)))


def batches(families: Sequence[FamilyGraph]) -> list[list[str]]:
    """The family graphs in runs of at most ``BATCH_LIMIT`` images, in order (a bigger family alone)."""
    runs: list[list[str]] = []
    size = 0
    for family in families:
        if not runs or size + family.images > BATCH_LIMIT:
            runs.append([])
            size = 0
        runs[-1].append(family.dot)
        size += family.images
    return runs


def with_caption(packed: bytes, caption: str) -> bytes:
    """The packed graph with the picture's caption (gvpack drops graph labels: packing ignores them)."""
    head, newline, rest = packed.partition(b"\n")
    return head + newline + f"  graph [{caption}];\n".encode() + rest


def _run(command: list[str], data: bytes, *, fmt: str, count: int, deadline: float) -> bytes:
    """``command``'s output for ``data`` on its input; a RenderError in one line when it fails."""
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=deadline, check=False)
    except FileNotFoundError as error:
        raise RenderError(f"Graphviz's {command[0]!r} program was not found: {INSTALL_HINT}.") from error
    except subprocess.TimeoutExpired as error:
        raise RenderError(
            f"Graphviz's {command[0]} took more than {deadline:g} s to draw the {fmt} of "
            f"{count:,} images and was stopped: {TOO_LONG_HINT}."
        ) from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"{command[0]} exited with status {done.returncode}"
        raise RenderError(f"Graphviz failed to draw the {fmt}: {detail}")
    return done.stdout
