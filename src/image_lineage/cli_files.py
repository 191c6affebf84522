"""``image-lineage files IMAGE``: the image found among those read, its layers listed from the same
source (``image_layers``: the source's own ``read_layers``), analysed (``contents.py``) and shown
(``render/files.py``); with ``--ci``, dive's three thresholds decide the exit status (1 when one
is crossed)."""

from __future__ import annotations

import argparse
from typing import TextIO

from image_lineage import pipeline, views
from image_lineage.cache import default_cache_dir
from image_lineage.contents import ImageContents, LayerInput, analyse
from image_lineage.errors import LineageError
from image_lineage.lineage import Node
from image_lineage.render.files import (
    FilesView,
    files_json_chunks,
    files_text_lines,
    render_hidden_text,
    render_layer_text,
)
from image_lineage.sources import open_source
from image_lineage.sources.layers import Listings, image_layers
from image_lineage.sources.oci.layer_tar import Listing
from image_lineage.text import human_size


def files_command(
    result: pipeline.Shown, spec: str, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    """Print the image's files as asked; the exit status (1: a CI threshold crossed)."""
    if args.source and len(set(args.source)) > 1:
        raise LineageError("files reads one image's layers from one source: give one --source.")
    lineage = result.everything
    node = lineage.node(views.resolve(lineage, args.image))
    kept = None if args.no_cache else default_cache_dir()  # listings by diff id never go stale
    source = open_source(
        "docker" if spec == "auto" else spec, timeout=args.timeout, use_cache=not args.no_cache
    )
    listings = image_layers(source, node.image, Listings(folder=kept))
    view = files_view(
        node, lineage.node(node.parent).image.layers if node.parent else (), analyse(_inputs(node, listings))
    )
    layer = None if args.layer is None else layer_index(view.contents, args.layer)
    if args.format == "json":
        out.writelines(files_json_chunks(view, layer))
    elif layer is not None:
        out.write(render_layer_text(view, layer))
    elif args.hidden:
        out.write(render_hidden_text(view))
    else:
        out.writelines(files_text_lines(view, ascii_only=args.ascii))  # as drawn: never one huge text
    if not args.ci:
        return 0
    crossed = ci_failures(
        view.contents, args.lowest_efficiency, args.highest_wasted_bytes, args.highest_user_wasted_percent
    )
    for line in crossed:
        print(f"FAIL: {line}", file=err)
    return 1 if crossed else 0


def _inputs(node: Node, listings: list[Listing]) -> list[LayerInput]:
    steps = {step.diff_id: step.created_by for step in node.steps if step.diff_id}
    layers = node.image.layers
    return [
        LayerInput(listing, diff_id, steps.get(diff_id, ""))
        for listing, diff_id in zip(listings, layers, strict=True)
    ]


def files_view(node: Node, parent_layers: tuple[str, ...], contents: ImageContents) -> FilesView:
    return FilesView(node.image, contents, node.parent, len(parent_layers))


def layer_index(contents: ImageContents, given: str) -> int:
    """``--layer``: an index (0 is the base), or a diff id or a prefix of one."""
    text = given.strip().lower()
    if text.isdigit():
        if int(text) < len(contents.layers):
            return int(text)
        raise LineageError(
            f"--layer {given}: the image has {len(contents.layers)} layers (0 to {len(contents.layers) - 1})."
        )
    wanted = text.removeprefix("sha256:")
    found = [
        c.index for c in contents.layers if wanted and c.diff_id.removeprefix("sha256:").startswith(wanted)
    ]
    if len(set(found)) != 1:
        raise LineageError(
            f"--layer {given!r} names {'no layer' if not found else 'several layers'} of this image."
        )
    return found[0]


def ci_failures(
    contents: ImageContents, lowest_efficiency: float, highest_wasted: int | None, highest_percent: float
) -> list[str]:
    """dive's CI rules: each one crossed, in words."""
    crossed = []
    if contents.efficiency < lowest_efficiency:
        crossed.append(f"efficiency {contents.efficiency:.2%} is below {lowest_efficiency:.2%}")
    if highest_wasted is not None and contents.wasted_bytes > highest_wasted:
        crossed.append(
            f"wasted {human_size(contents.wasted_bytes)} is more than {human_size(highest_wasted)}"
        )
    if contents.wasted_percent > highest_percent:
        crossed.append(
            f"wasted {contents.wasted_percent:.2%} of the user size is more than {highest_percent:.2%}"
        )
    return crossed
