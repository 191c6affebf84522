"""Graphviz DOT text. Needs no Graphviz: ``graphviz_render`` turns it into pictures.

Node ids are generated (``img_<digest>``), never image names: an unquoted
``repo:1`` would be read as a node port. Labels are HTML-like tables with every
string escaped; names are shortened in the picture and given in full in the tooltip.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from dataclasses import dataclass

from image_lineage import platforms
from image_lineage.bases import outside_key, outside_text
from image_lineage.lineage import Lineage, Node
from image_lineage.reference import split_tag
from image_lineage.render.common import (
    found_summary,
    index_summary,
    names_platforms,
    ordered_edges,
    size_caption,
    size_kinds,
    size_marker,
    source_names,
)
from image_lineage.stale import NOTE_CODE
from image_lineage.text import clean_text, count_layers, human_size

NAME_LIMIT = 48
FONT = "DejaVu Sans,Helvetica,Arial,sans-serif"
_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")

STYLE_TAGGED = 'fillcolor="#e8f1fb" color="#3b73b9"'
STYLE_UNTAGGED = 'fillcolor="#f3f3f3" color="#888888" style="rounded,filled,dashed"'
STYLE_INTERMEDIATE = 'fillcolor="#fafafa" color="#aaaaaa" style="rounded,filled,dotted"'
# The image a reader picked (later attributes win in DOT): solid violet, unlike the orange
# dashed border of an image on an outdated base (and the same mark the interactive tree draws).
PICKED_COLOUR = "#6741d9"
STYLE_HIGHLIGHT = f'penwidth=3 color="{PICKED_COLOUR}" fillcolor="#f3f0ff" style="rounded,filled"'
# An image built on an outdated base (an ``outdated_base`` note: ``stale.noted``); the
# picked image's mark, written after it, still wins.
STYLE_STALE = 'penwidth=2 color="#e8590c" style="rounded,filled,dashed"'
LEGEND_STALE = "Orange dashed border: built on an outdated base (image-lineage stale)."
# A base an image's build recorded that no source read: a dashed white box, grey and thin
# (unlike the thick orange dashes of an outdated base and the solid violet of the picked image).
STYLE_OUTSIDE = 'fillcolor="white" color="#888888" style="rounded,dashed"'
# An edge the build recorded (provenance, annotation, label), to an image here or to a base
# that is not: bold green.
STYLE_EVIDENCE_EDGE = 'penwidth=2 color="#2f7d32"'
EVIDENCE_KINDS = frozenset({"provenance", "annotation", "label"})
LEGEND_EVIDENCE = "Bold green arrow: the parent its build recorded (provenance, annotation or label)."
LEGEND_OUTSIDE = "White dashed box, “not here”: the base a build recorded, not among these images."


def node_ids(lineage: Lineage) -> dict[str, str]:
    """A DOT-safe id per image: ``img_`` and its short id (the full digest if two clash)."""
    ordered = sorted(lineage.by_id)
    digests = [match.group(1) if (match := _DIGEST.match(i)) else None for i in ordered]
    short = [d[:12] for d in digests if d]
    width = 12 if len(set(short)) == len(short) else 64
    return {
        image_id: f"img_{digest[:width]}" if digest else f"img_n{rank}"
        for rank, (image_id, digest) in enumerate(zip(ordered, digests, strict=True))
    }


def render_dot(
    lineage: Lineage, *, rankdir: str = "TB", highlight: str | None = None, host_platform: str | None = None
) -> str:
    """``highlight``: the id of an image to draw with a thick orange border. Images with an
    ``outdated_base`` note (``stale.noted``) get a dashed orange border and a legend line.

    Boxes name their image's platform (short: ``arm64``) when ``names_platforms`` says so;
    tooltips say where each image was found when the images shown come from several sources.
    """
    ids = node_ids(lineage)
    nodes, edges = _statements(lineage, ids, highlight=highlight, host_platform=host_platform)
    lines = [
        "digraph lineage {",
        *_defaults(rankdir, caption_attributes(lineage)),
        *(line for _, line in nodes),
        *(line for _, line in edges),
        *_stacking_edges(lineage, ids, rankdir),
        "}",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class FamilyGraph:
    """One family's DOT graph and how many images it draws."""

    dot: str
    images: int


def family_graphs(
    lineage: Lineage, *, rankdir: str = "TB", highlight: str | None = None, host_platform: str | None = None
) -> list[FamilyGraph]:
    """The DOT of ``render_dot``, one graph per family (a root and its descendants), roots in order.

    For laying out each family on its own and packing the drawings (``graphviz_render``):
    one layout of thousands of images costs far more than the layouts of its families.
    The graphs carry no caption (``caption_attributes`` is for the packed picture) and no
    invisible stacking edges (packing places the families).
    """
    ids = node_ids(lineage)
    nodes, edges = _statements(lineage, ids, highlight=highlight, host_platform=host_platform)
    family_of = family_numbers(lineage)
    bodies: dict[int, list[str]] = {}
    for image_id, line in (*nodes, *edges):
        bodies.setdefault(family_of[image_id], []).append(line)
    sizes = Counter(family_of.values())
    head = _defaults(rankdir, "")
    return [
        FamilyGraph("\n".join([f"digraph family_{number} {{", *head, *body, "}"]) + "\n", sizes[number])
        for number, body in sorted(bodies.items())
    ]


def family_numbers(lineage: Lineage) -> dict[str, int]:
    """Each image's family, numbered in the order of the roots (not from 0 by one); roots built on
    the same base that no source read (``Node.outside``) are one family, drawn under its box."""
    family_of: dict[str, int] = {}
    on_base: dict[tuple[str, str], int] = {}
    for _, node in lineage.walk():
        if node.parent is None and node.outside is not None:
            family_of[node.id] = on_base.setdefault(outside_key(node.outside), len(family_of))
        else:
            family_of[node.id] = family_of.get(node.parent or "", len(family_of))
    return family_of


def caption_attributes(lineage: Lineage) -> str:
    """The graph attributes of the caption under the picture (what sizes mean, the legend)."""
    stale = {note.image for note in lineage.diagnostics if note.code == NOTE_CODE}
    # One line per legend ("\\l" ends a left-justified line): one long line would make the
    # picture as wide as the legend.
    lines = _caption(lineage, stale)
    label = "".join(f"{_escape(line)}\\l" for line in lines) if len(lines) > 1 else _escape("".join(lines))
    return f'labelloc="b" labeljust="l" fontsize=11 fontcolor="#555555" label="{label}"'


def _defaults(rankdir: str, caption: str) -> list[str]:
    """The graph, node and edge defaults; ``caption``: ``caption_attributes`` or ""."""
    return [
        f'  graph [rankdir={"LR" if rankdir == "LR" else "TB"} fontname="{FONT}" '
        'nodesep=0.35 ranksep=0.55 bgcolor="white" tooltip="image lineage"'
        + (f" {caption}];" if caption else "];"),
        f'  node [shape=box style="rounded,filled" fontname="{FONT}" fontsize=14 margin="0.15,0.08"];',
        f'  edge [fontname="{FONT}" fontsize=11 color="#555555" fontcolor="#333333" arrowsize=0.7];',
    ]


def _statements(
    lineage: Lineage, ids: dict[str, str], *, highlight: str | None, host_platform: str | None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The node statements (in walk order) and edge statements, each with its image's id
    (an edge's: its child's)."""
    stale = {note.image for note in lineage.diagnostics if note.code == NOTE_CODE}
    platform = names_platforms(lineage, host_platform)
    names = source_names(lineage)
    kinds = size_kinds(lineage)
    nodes = []
    for _, node in lineage.walk():
        extra = f" {STYLE_STALE}" if node.id in stale else ""
        extra += f" {STYLE_HIGHLIGHT}" if node.id == highlight else ""
        attributes = _node_attributes(node, size_marker(node, kinds), platform=platform, names=names)
        nodes.append((node.id, f"  {ids[node.id]} [{attributes}{extra}];"))
    edges = []
    for parent, child in ordered_edges(lineage):
        style = _edge_style(child)
        label = _escape(_edge_label(child))
        edges.append((child.id, f'  {ids[parent.id]} -> {ids[child.id]} [label=" {label} "{style}];'))
    boxes, arrows = _outside_bases(lineage, ids)
    # A base's box before every image: the tree's script starts on the first family's root
    # that it meets in the drawing, and that is the box, not the first image under it.
    return [*boxes, *nodes], [*edges, *arrows]


def _edge_style(child: Node) -> str:
    """Solid: layers and history; bold green: the build recorded it; dashed: layers alone."""
    if child.known_by in EVIDENCE_KINDS:
        return f' {STYLE_EVIDENCE_EDGE} tooltip="{_escape("parent from " + child.known_by)}"'
    return "" if child.parent_verified else ' style="dashed"'


def _outside_bases(
    lineage: Lineage, ids: dict[str, str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A dashed box for each base that images' builds recorded and no source read, an edge to each
    of those images that has no parent here; each statement with the image it belongs with (the
    box: its first image's, which ``family_numbers`` gives every image on that base): the box
    statements and the edge statements."""
    boxes = outside_box_ids(lineage)
    drawn: set[str] = set()
    lines: list[tuple[str, str]] = []
    arrows: list[tuple[str, str]] = []
    for _, node in lineage.walk():
        if node.outside is None or node.id not in boxes:
            continue
        box = boxes[node.id]
        if box not in drawn:
            drawn.add(box)
            name, _, digest = outside_text(node.outside).removesuffix(" (not here)").partition(" @ ")
            rows = [f"<B>{_escape(clean_text(name, NAME_LIMIT))}</B>"]
            rows += [f'<FONT POINT-SIZE="11" COLOR="#444444">{_escape(digest)}</FONT>'] if digest else []
            rows.append('<FONT POINT-SIZE="11" COLOR="#666666">not here</FONT>')
            label = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
            tooltip = _escape(clean_text(f"{node.outside.reference}\n{node.outside.digest}", 2000))
            lines.append(
                (
                    node.id,
                    f'  {box} [label=<<TABLE BORDER="0" CELLSPACING="1">{label}</TABLE>> '
                    f'tooltip="{tooltip}" {STYLE_OUTSIDE}];',
                )
            )
        what = _escape(f"from {node.outside.kind}")
        arrows.append((node.id, f'  {box} -> {ids[node.id]} [label=" {what} " {STYLE_EVIDENCE_EDGE}];'))
    return lines, arrows


def outside_box_ids(lineage: Lineage) -> dict[str, str]:
    """The DOT id of the box of the base that is not here (``out_<n>``), for each image drawn
    under one: an image whose build recorded a base no source read, and that has no parent here."""
    boxes: dict[tuple[str, str], str] = {}
    under: dict[str, str] = {}
    for _, node in lineage.walk():
        if node.outside is None or node.parent is not None:
            continue
        under[node.id] = boxes.setdefault(outside_key(node.outside), f"out_{len(boxes)}")
    return under


def _caption(lineage: Lineage, stale: set[str | None]) -> list[str]:
    """What sizes mean; the legend of the recorded parents and of the outdated-base mark, when drawn."""
    outside = bool(outside_box_ids(lineage))
    recorded = outside or any(node.known_by in EVIDENCE_KINDS for node in lineage.by_id.values())
    legends = [size_caption(lineage)]
    legends += [LEGEND_EVIDENCE] if recorded else []
    legends += [LEGEND_OUTSIDE] if outside else []
    legends += [LEGEND_STALE] if stale & set(lineage.by_id) else []
    return [legend for legend in legends if legend]


def _stacking_edges(lineage: Lineage, ids: dict[str, str], rankdir: str) -> list[str]:
    """Invisible edges that put unrelated families below one another, in a few columns.

    Side by side, a machine's families make a picture so wide that a page or a slide
    shrinks its text to a few pixels. Each family after the first in a column hangs,
    invisibly, from the deepest image of the one above it. About half as many columns
    as rows suits a page (two families: one above the other).
    """
    # A family's top: its root, or the box of the base that is not here that its roots hang from
    # (those roots are one family: stacked one under another, they would sit a rank apart).
    family_of, boxes = family_numbers(lineage), outside_box_ids(lineage)
    tops: dict[int, str] = {}
    deepest: dict[int, tuple[int, Node]] = {}  # family -> (depth, its deepest image)
    for depth, node in lineage.walk():
        family = family_of[node.id]
        tops.setdefault(family, boxes.get(node.id, ids[node.id]))
        if family not in deepest or depth > deepest[family][0]:
            deepest[family] = (depth, node)
    order = list(tops)
    if rankdir == "LR" or len(order) < 2:
        return []
    columns = max(1, round(math.sqrt(len(order) / 2)))
    edges = []
    for index in range(columns, len(order)):
        above, below = deepest[order[index - columns]][1], tops[order[index]]
        edges.append(f"  {ids[above.id]} -> {below} [style=invis];")
    return edges


def _node_attributes(node: Node, marker: str, *, platform: bool, names: dict[str, str]) -> str:
    image = node.image
    # Split before shortening: a name cut short is no reference any more.
    repository, tag = (clean_text(part, NAME_LIMIT) for part in split_tag(image.display_name))
    total = human_size(node.total_size) + marker
    details = f"{image.short_id} · {total}" if image.tags else total
    rows = [f"<B>{_escape(repository)}</B>"]
    if tag:
        # The tag on a line of its own keeps boxes narrow, so a page or slide shrinks the
        # picture less: one family's rank of three images is a third narrower.
        rows.append(f"<B>{_escape(tag)}</B>")
    rows.append(f'<FONT POINT-SIZE="11" COLOR="#444444">{_escape(details)}</FONT>')
    if platform and image.platform:
        rows.append(f'<FONT POINT-SIZE="11" COLOR="#7a3e9d">{_escape(short_platform(image.platform))}</FONT>')
    if len(image.tags) > 1:
        more = len(image.tags) - 1
        rows.append(f'<FONT POINT-SIZE="10" COLOR="#666666">+{more} more tag{"s" if more > 1 else ""}</FONT>')
    if node.parent is not None:
        adds = f"adds {human_size(node.added_size)}"
    elif node.outside is not None:  # not a root: its arrow comes from the base that is not here
        adds = f"{count_layers(node.added_layers)} with its base"
    else:
        adds = f"root · {count_layers(node.added_layers)}"
    rows.append(f'<FONT POINT-SIZE="12" COLOR="#1d5e20">{_escape(adds)}</FONT>')
    label = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    style = STYLE_INTERMEDIATE if image.intermediate else STYLE_TAGGED if image.tags else STYLE_UNTAGGED
    about = [
        line
        for line in (
            image.platform if platform else "",
            index_summary(image),
            found_summary(image, names, tags=True),
        )
        if line
    ]
    tooltip = _escape(clean_text("\n".join([*image.tags, image.id, *about]), 2000))
    return f'label=<<TABLE BORDER="0" CELLSPACING="1">{label}</TABLE>> tooltip="{tooltip}" {style}'


def short_platform(platform: str) -> str:
    """What a picture says of a platform: ``arm64``, ``arm/v7``, ``windows/amd64``."""
    return platforms.short(clean_text(platform, 40))


def _edge_label(child: Node) -> str:
    if child.metadata_only:
        return "metadata only"
    return f"+{count_layers(child.added_layers)}"


def _escape(text: str) -> str:
    """Safe inside both an HTML-like label and a double-quoted DOT string."""
    return html.escape(text, quote=True).replace("\\", "&#92;")
