"""The inspector's Files view, computed: an image's layers read from the source it came from
(opened by its spec, it lists them from its own blobs; once per source and image, then kept),
and what each filter shows, as a nested tree.

Filters: everything in the final filesystem; what one step changed (added, changed, and the
entries it removed); what the image adds over its parent; what ships for nothing (written by
one layer, removed or replaced by a later one). At most ``MAX_ROWS`` rows are drawn, the
biggest first: a filesystem of 200,000 files would not fit a page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from image_lineage.cache import default_cache_dir
from image_lineage.contents import Hidden, ImageContents, LayerInput, analyse
from image_lineage.errors import LineageError
from image_lineage.lineage import Lineage, Node
from image_lineage.messages import one_line
from image_lineage.sources import open_source
from image_lineage.sources.layers import Listings, image_layers
from image_lineage.text import clean_text, human_size
from image_lineage.web.memo import by_identity

FILTERS = {
    "all": "Everything",
    "step": "Changed by this step",
    "parent": "Added over its parent",
    "hidden": "Hidden: ships for nothing",
}
MAX_ROWS = 2000
MAX_KEPT_LAYERS = 256  # listings kept per source, at most (then the next reading starts afresh)
_NO_LAYERS = ("sample", "upload", "snapshot")


@dataclass(frozen=True, slots=True)
class Row:
    """One entry to draw: its path, size, the layer behind it, and a mark (+ ~ - or "")."""

    path: str
    size: int
    layer: int
    mark: str = ""
    link: str = ""
    folder: bool = False


@dataclass(frozen=True, slots=True)
class FilesRead:
    contents: ImageContents | None
    problem: str | None = None


def layer_spec(specs: Sequence[str], source_kind: str) -> str | None:
    """The source to read layers from: the first one read that keeps layers (None: none does)."""
    if source_kind in _NO_LAYERS:
        return None
    usable = [s for s in specs if s.partition(":")[0] not in _NO_LAYERS]
    if not usable:
        return None
    return "docker" if usable[0] == "auto" else usable[0]


@st.cache_resource(max_entries=4, show_spinner="Reading the image's layers (headers only)…", ttl=600)
def read_files(spec: str, image_id: str, _node: Node) -> FilesRead:  # noqa: ARG001 - the cache key
    """The image's layers, listed and analysed; a one-line problem instead when they cannot be read."""
    node = _node
    listings = _shared(spec)
    if len(listings.by_diff_id) > MAX_KEPT_LAYERS:
        listings.by_diff_id.clear()
    try:
        found = image_layers(open_source(spec), node.image, listings)
    except LineageError as error:
        return FilesRead(None, one_line(error, {}))
    steps = {step.diff_id: step.created_by for step in node.steps if step.diff_id}
    inputs = [
        LayerInput(listing, diff_id, steps.get(diff_id, ""))
        for listing, diff_id in zip(found, node.image.layers, strict=True)
    ]
    return FilesRead(analyse(inputs))


@dataclass(frozen=True, slots=True)
class HiddenRead:
    """Each image's hidden entries by image id, or the one line saying why they could not be read."""

    hidden: dict[str, tuple[Hidden, ...]]
    problem: str | None = None


@by_identity(max_entries=2)
def hidden_of_images(lineage: Lineage, *, spec: str) -> HiddenRead:
    """Every image's hidden entries, its layers read from ``spec`` (for the overview's ranking,
    only when asked). The images with the most layers are read first: their readings hold their
    ancestors' layers, which are then known (``Listings``) and not read again."""
    listings = _shared(spec)
    hidden: dict[str, tuple[Hidden, ...]] = {}
    try:
        source = open_source(spec)  # not kept between readings: it reads the environment (containerd)
    except LineageError as error:
        return HiddenRead({}, one_line(error, {}))
    for node in sorted(lineage.by_id.values(), key=lambda n: (-len(n.image.layers), n.id)):
        if len(listings.by_diff_id) > MAX_KEPT_LAYERS:
            listings.by_diff_id.clear()  # memory bounded: the disk cache still knows them
        try:
            found = image_layers(source, node.image, listings)
        except LineageError as error:
            return HiddenRead({}, f"{clean_text(node.image.display_name, 80)}: {one_line(error, {})}")
        inputs = [
            LayerInput(listing, diff_id) for listing, diff_id in zip(found, node.image.layers, strict=True)
        ]
        hidden[node.id] = analyse(inputs).hidden
    return HiddenRead(hidden)


@st.cache_resource(max_entries=2, show_spinner=False)
def _shared(spec: str) -> Listings:  # noqa: ARG001 - the cache key
    """Layer listings by diff id for one source: a family's shared layers are read once."""
    return Listings(folder=default_cache_dir())


def rows(contents: ImageContents, choice: str, layer: int = 0, parent_layers: int = 0) -> list[Row]:
    """The entries a filter shows, biggest first, at most ``MAX_ROWS``."""
    found: list[Row]
    if choice == "step":
        changes = contents.layers[layer]
        found = [
            Row(e.path, e.size, layer, mark, e.link, e.kind == "dir")
            for mark, entries in (("+", changes.added), ("~", changes.changed), ("-", changes.removed))
            for e in entries
        ]
    elif choice == "hidden":
        found = [
            Row(h.entry.path, h.entry.size, h.layer, "-", h.entry.link, h.entry.kind == "dir")
            for h in contents.hidden
        ]
    else:
        kept = contents.final if choice == "all" else contents.added_over(parent_layers)
        found = [
            Row(p.entry.path, p.entry.size, p.layer, "", p.entry.link, p.entry.kind == "dir") for p in kept
        ]
    return sorted(found, key=lambda r: (-r.size, r.path))[:MAX_ROWS]


def tree_html(shown: Sequence[Row]) -> str:
    """``shown`` as nested ``<details>`` (folders open and close without any script); every
    name escaped and cleaned of control and bidirectional characters."""
    children: dict[str, set[str]] = {}
    by_path = {row.path: row for row in shown}
    sizes: dict[str, int] = {}
    for row in shown:
        child = row.path
        sizes[child] = sizes.get(child, 0) + row.size
        while child != "/":
            parent = child.rpartition("/")[0] or "/"
            children.setdefault(parent, set()).add(child)
            if parent != row.path:
                sizes[parent] = sizes.get(parent, 0) + row.size
            child = parent
    return f'{_STYLE}<div class="il-files">{_html_level("/", children, by_path, sizes, depth=0)}</div>'


# Each line (a folder's summary too): a triangle's place, the name, which wraps anywhere (a
# long path never widens the inspector), then the size and the layer in columns of their own,
# right-aligned in tabular figures: the sizes line up down the tree at every depth (a level is
# indented on its left; its right edge is the tree's). A summary drawn as a flex line loses the
# browser's own triangle: it draws its own. One style sheet, not a style on each of 2,000 lines.
_STYLE = """<style>
.il-files .il-l, .il-files summary {display: flex; gap: .5em; align-items: baseline}
.il-files summary {cursor: pointer; list-style: none}
.il-files summary::-webkit-details-marker {display: none}
.il-files .il-l::before, .il-files summary::before {content: ""; flex: none; width: .8em}
.il-files summary::before {content: "\\25B8"}
.il-files details[open] > summary::before {content: "\\25BE"}
.il-files .il-n {flex: 1; min-width: 0; overflow-wrap: anywhere}
.il-files .il-s, .il-files .il-k {white-space: nowrap; font-variant-numeric: tabular-nums; opacity: .75}
.il-files .il-s {text-align: right; min-width: 5.5em}
.il-files .il-k {min-width: 2.6em}
.il-files .il-d {margin-left: 1.1em}
</style>"""


def _html_level(
    path: str, children: dict[str, set[str]], by_path: dict[str, Row], sizes: dict[str, int], depth: int
) -> str:
    parts = []
    for child in sorted(children.get(path, ())):
        row = by_path.get(child)
        name = html.escape(clean_text(child.rpartition("/")[2]))
        columns = _columns(row, sizes.get(child, 0))
        if child in children:
            opened = " open" if depth < 1 else ""
            inner = _html_level(child, children, by_path, sizes, depth + 1)
            line = f'<span class="il-n">{name}/</span>{columns}'
            parts.append(f"<details{opened}><summary>{line}</summary>{inner}</details>")
        else:
            suffix = "/" if row is not None and row.folder else ""
            link = f" → {html.escape(clean_text(row.link))}" if row is not None and row.link else ""
            line = f'<span class="il-n">{name}{suffix}{link}</span>{columns}'
            parts.append(f'<div class="il-l">{line}</div>')
    return f'<div class="il-d">{"".join(parts)}</div>'


def _columns(row: Row | None, size: int) -> str:
    """The size (with the mark: + added, ~ changed, - removed) and the layer behind the entry."""
    mark = f"{html.escape(row.mark)} " if row is not None and row.mark else ""
    layer = f"· L{row.layer}" if row is not None else ""
    return f'<span class="il-s">{mark}{human_size(size)}</span><span class="il-k">{layer}</span>'


LEGEND = (
    "A folder's size is the sum of what it shows. Beside each entry, the layer that last wrote "
    "it (L0 is the first)."
)
MARKS = " + added, ~ changed, - removed."  # only where the filter marks its entries


def legend(choice: str) -> str:
    """What the tree's columns mean, the marks only where the filter shows any."""
    return LEGEND + (MARKS if choice in {"step", "hidden"} else "")


def step_text(contents: ImageContents, layer: int) -> str:
    """What one layer did to the filesystem, in a sentence for the lesson; a removal says plainly
    that the removed bytes still ship (they sit in the layers below, downloaded all the same)."""
    changes = contents.layers[layer]
    added = sum(e.size for e in changes.added)
    parts = []  # what it did, a count of nothing left out ("added 0 entries (0 B)" says nothing)
    if changes.added:
        # "unpacked": the tower beside it may show the layers' compressed sizes (a registry's, containerd's)
        parts.append(f"added {_count(len(changes.added), 'entry', 'entries')} ({human_size(added)} unpacked)")
    if changes.changed:
        parts.append(f"changed {_count(len(changes.changed), 'entry', 'entries')}")
    if not parts and not changes.removed:
        return "In the files, this step changed nothing."
    text = "In the files, this step " + ", ".join(parts)
    if changes.removed:
        gone = sum(e.size for e in changes.removed)
        removed = f"removed {_count(len(changes.removed), 'entry', 'entries')}"
        text += (
            f"{'; it ' if parts else ''}{removed}, yet their "
            f"{human_size(gone)} still ship: a layer below holds them, and every pull downloads them"
        )
    elif changes.hidden_bytes:
        text += f"; the {human_size(changes.hidden_bytes)} it wrote over still ship in the layers below"
    return text + "."


def _count(number: int, one: str, many: str) -> str:
    return f"{number:,} {one if number == 1 else many}"


def figures(contents: ImageContents) -> str:
    """One line of the image's figures, in dive's terms."""
    return (
        f"Efficiency {contents.efficiency:.1%} · wasted {human_size(contents.wasted_bytes)} · "
        f"hidden {human_size(contents.hidden_bytes)} (written, then removed or replaced)"
    )
