"""Short literals -> Image records, for unit and property tests.

An image is written as the list of its build steps, oldest first. A step is
``"RUN something:SIZE"`` (makes a layer of SIZE bytes) or any other instruction
(``"ENV A=1"``, ``"LABEL x"``: metadata only). Equal step strings give equal
history entries and equal layer digests, so images share what they have in common.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from image_lineage.model import HistoryEntry, Image, SourceInfo

SOURCE = SourceInfo(kind="test", endpoint="literal", scanned_at=datetime(2026, 11, 1, tzinfo=UTC))
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def entry(step: str) -> HistoryEntry:
    """The history entry a step string stands for (same string, same entry)."""
    seconds = int(hashlib.sha256(step.encode()).hexdigest()[:6], 16)
    instruction, _, size = step.rpartition(":") if step.startswith("RUN ") else (step, "", "")
    has_layer = step.startswith("RUN ")
    return HistoryEntry(
        created=_EPOCH + timedelta(seconds=seconds),
        created_by=f"/bin/sh -c {instruction[4:]}" if has_layer else f"/bin/sh -c #(nop)  {step}",
        comment="",
        size=int(size) if has_layer else 0,
        empty_layer=not has_layer,
    )


def image(
    steps: Sequence[str],
    *tags: str,
    salt: str = "",
    intermediate: bool = False,
    history: bool = True,
    parent_hint: str | None = None,
) -> Image:
    """An image made of ``steps``; ``salt`` makes a different id for identical content."""
    entries = tuple(entry(s) for s in steps)
    layers = tuple(_layer(s) for s, e in zip(steps, entries, strict=True) if not e.empty_layer)
    return Image(
        id=digest("image:" + "\n".join(steps) + salt),
        tags=tuple(sorted(tags)),
        created=_EPOCH,
        size=sum(e.size for e in entries),
        os="linux",
        architecture="amd64",
        layers=layers,
        history=entries if history else None,
        intermediate=intermediate,
        parent_hint=parent_hint,
    )


# A small docker-stacks-like family used by several tests.
FOUNDATION = ["RUN import-rootfs:5000000", "ENV LANG=C.UTF-8", "RUN install-tini:300000"]
BASE = [*FOUNDATION, "RUN conda-install:20000000", "LABEL maintainer=jupyter"]
MINIMAL = [*BASE, "RUN apt-get-tools:8000000"]
SCIPY = [*MINIMAL, "RUN pip-scipy:30000000", "RUN pip-pandas:12000000"]
R_NOTEBOOK = [*MINIMAL, "RUN install-r:25000000"]


def jupyter_family() -> list[Image]:
    return [
        image(FOUNDATION, "jupyter/docker-stacks-foundation:latest"),
        image(BASE, "jupyter/base-notebook:latest"),
        image(MINIMAL, "jupyter/minimal-notebook:latest"),
        image(SCIPY, "jupyter/scipy-notebook:latest", "jupyter/scipy-notebook:2026-11"),
        image(R_NOTEBOOK, "jupyter/r-notebook:latest"),
    ]


@functools.cache
def _layer(step: str) -> str:
    return digest("layer:" + step)
