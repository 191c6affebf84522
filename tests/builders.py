"""Short literals -> Image records, for unit and property tests.

An image is written as the list of its build steps, oldest first. A step is
``"RUN something:SIZE"`` (makes a layer of SIZE bytes) or any other instruction
(``"ENV A=1"``, ``"LABEL x"``: metadata only). Equal step strings give equal
history entries and equal layer digests, so images share what they have in common.

An image is ``linux/amd64`` unless ``platform`` says otherwise. The same steps on another
platform make the same history but other layers (another architecture's binaries), unless
``portable``: then the layers are the same on every platform (files copied as they are).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from image_lineage import platforms
from image_lineage.model import HistoryEntry, Image, SizeKind, SourceInfo

SOURCE = SourceInfo(kind="test", endpoint="literal", scanned_at=datetime(2026, 11, 1, tzinfo=UTC))
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
AMD64 = "linux/amd64"
ARM64 = "linux/arm64"


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode(errors="surrogatepass")).hexdigest()


@functools.cache
def entry(step: str) -> HistoryEntry:
    """The history entry a step string stands for (same string, same entry)."""
    seconds = int(hashlib.sha256(step.encode(errors="surrogatepass")).hexdigest()[:6], 16)
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
    platform: str = AMD64,
    portable: bool = False,
    index: Sequence[tuple[str, bool]] = (),
) -> Image:
    """An image made of ``steps``; ``salt`` makes a different id for identical content.

    ``index``: the platforms of the multi-platform index that names the image, each with
    whether it is here (``index_platforms``); the index digest follows from the tags.
    """
    entries = tuple(entry(s) for s in steps)
    on = "" if platform == AMD64 else platform  # amd64 ids and layers stay what they were
    layer_salt = "" if portable else on
    layers = tuple(_layer(layer_salt + s) for s, e in zip(steps, entries, strict=True) if not e.empty_layer)
    os, architecture, variant = platforms.parse(platform)
    return Image(
        id=digest("image:" + "\n".join(steps) + salt + on),
        tags=tuple(sorted(tags)),
        created=_EPOCH,
        size=sum(e.size for e in entries),
        os=os,
        architecture=architecture,
        variant=variant,
        layers=layers,
        history=entries if history else None,
        intermediate=intermediate,
        parent_hint=parent_hint,
        index_digest=digest("index:" + ",".join(sorted(tags)) + salt) if index else "",
        index_platforms=tuple(index),
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


# Two platforms of one family, as a multi-platform build makes them (see multi_platform_family).
BOTH = ((AMD64, True), (ARM64, True))
APP_INDEX = ((AMD64, True), (ARM64, True), ("linux/arm/v7", False))
SCRATCH_LABEL = ["LABEL org.example.kind=metadata"]


def multi_platform_family() -> list[Image]:
    """amd64 and arm64 images of one family, as an engine with the containerd store lists them.

    ``multi/base:1`` and ``multi/app:1`` on both platforms (the app's index also names
    linux/arm/v7, not pulled); ``multi/labelled:1``, a metadata-only child on both;
    ``multi/arm-tool:1``, an arm64-only child of the base; ``multi/meta:1``, a ``FROM
    scratch`` LABEL-only image on both platforms (no layers, identical histories) and
    ``multi/meta-child:1`` built on it: the case that would link across platforms;
    ``multi/config:1``, files copied as they are (the same layer on both) and its child.
    """
    base = [*FOUNDATION, "RUN install-runtime:4000000"]
    app = [*base, "RUN build-app:700000"]
    config = ["RUN copy-config:2000"]
    images = []
    for platform in (AMD64, ARM64):
        images += [
            image(base, "multi/base:1", platform=platform, index=BOTH),
            image(app, "multi/app:1", platform=platform, index=APP_INDEX),
            image([*base, "LABEL team=data"], "multi/labelled:1", platform=platform, index=BOTH),
            image(SCRATCH_LABEL, "multi/meta:1", platform=platform, index=BOTH),
            image([*SCRATCH_LABEL, "LABEL more=1"], "multi/meta-child:1", platform=platform, index=BOTH),
            image(config, "multi/config:1", platform=platform, index=BOTH, portable=True),
            image(
                [*config, "ENV MODE=prod"], "multi/config-app:1", platform=platform, index=BOTH, portable=True
            ),
        ]
    images.append(image([*base, "RUN arm-only-tool:300000"], "multi/arm-tool:1", platform=ARM64))
    return images


def rebuilt(original: Image, *tags: str, from_step: int, later: timedelta = timedelta(days=30)) -> Image:
    """``original`` built again from step ``from_step`` on: same commands, new times, new layers."""
    history = original.history or ()
    new_history = history[:from_step] + tuple(
        replace(entry, created=entry.created + later if entry.created else None)
        for entry in history[from_step:]
    )
    layers_before = sum(1 for entry in history[:from_step] if not entry.empty_layer)
    new_layers = original.layers[:layers_before] + tuple(
        digest(f"rebuilt:{layer}") for layer in original.layers[layers_before:]
    )
    return replace(
        original,
        id=digest(f"rebuilt:{original.id}:{from_step}"),
        tags=tags,
        created=original.created + later if original.created else None,
        layers=new_layers,
        history=new_history,
    )


@functools.cache
def _layer(step: str) -> str:
    return digest("layer:" + step)


def as_found_elsewhere(
    original: Image, *tags: str, size_kind: SizeKind = "compressed", ratio: float = 0.4
) -> Image:
    """The same image (same config digest) as another source reports it: its own tags, and
    layer sizes measured as ``size_kind`` (a registry's compressed blobs: ``ratio`` of them)."""
    history = original.history
    if history is not None:
        history = tuple(replace(e, size=int(e.size * ratio)) for e in history)
    return replace(
        original,
        tags=tuple(sorted(tags)),
        size=int(original.size * ratio),
        size_kind=size_kind,
        history=history,
        parent_hint=None,
        manifest_digest=digest("manifest:" + original.id),
    )
