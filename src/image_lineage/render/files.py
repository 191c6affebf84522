"""An image's files as text (a tree like ``tree`` draws, a layer's changes, what ships for nothing)
or as JSON, schema ``image-lineage.files/v1`` (docs/json-schema.md).

Names come from whoever built the image: in text they pass ``clean_text`` (no control or
bidirectional character reaches the terminal); JSON keeps them exact, escaped as JSON
(``ensure_ascii``: a name that is not UTF-8 stays a ``\\udcXX`` escape, never a broken line).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from image_lineage.contents import Hidden, ImageContents, LayerChanges, Placed
from image_lineage.model import Image
from image_lineage.sources.oci.layer_tar import Entry
from image_lineage.text import clean_text, human_size

SCHEMA = "image-lineage.files/v1"
_STEP_WIDTH = 70


class FilesView(NamedTuple):
    """What the report is about: the image, its analysed layers, and its parent's layer count."""

    image: Image
    contents: ImageContents
    parent_id: str | None = None
    parent_layers: int = 0


def render_files_json(view: FilesView, layer: int | None = None) -> str:
    """The report, schema ``image-lineage.files/v1``, one entry a line."""
    return "".join(files_json_chunks(view, layer))


def files_json_chunks(view: FilesView, layer: int | None = None) -> Iterator[str]:
    """``render_files_json`` a piece at a time (no dict per entry is kept, no text of them all):
    the entries of a million-file image would otherwise take more memory than their listing."""
    contents = view.contents
    layers = contents.layers if layer is None else (contents.layers[layer],)
    added = contents.added_over(view.parent_layers) if view.parent_id else []
    yield f'{{\n  "schema": {_dumps(SCHEMA)},\n'
    yield f'  "image": {_dumps({"id": view.image.id, "tags": list(view.image.tags)})},\n'
    yield '  "layers": ['
    for number, changes in enumerate(layers):
        yield from _layer_json(changes, first=number == 0)
    yield "],\n"
    for key, value in (
        ("hidden_bytes", contents.hidden_bytes),
        ("wasted_bytes", contents.wasted_bytes),
        ("wasted_percent", contents.wasted_percent),
        ("efficiency", contents.efficiency),
    ):
        yield f"  {_dumps(key)}: {_dumps(value)},\n"
    yield '  "biggest": '
    yield from _lines((_placed_json(p) for p in contents.biggest()), 2)
    yield f',\n  "parent": {_dumps({"id": view.parent_id, "layers": view.parent_layers})[:-1]}, "added": '
    yield from _lines((_placed_json(p) for p in added), 2)
    yield '},\n  "hidden": '
    yield from _lines((_hidden_json(h) for h in contents.hidden), 2)
    yield "\n}\n"


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(", ", ": "))


def _lines(items: Iterable[dict[str, object]], depth: int) -> Iterator[str]:
    """A JSON list, one item a line, a line at a time."""
    pad = "  " * (depth + 1)
    opened = False
    for item in items:
        yield f"{',' if opened else '['}\n{pad}{_dumps(item)}"
        opened = True
    yield f"\n{'  ' * depth}]" if opened else "[]"


def _layer_json(changes: LayerChanges, *, first: bool) -> Iterator[str]:
    head = {
        "index": changes.index,
        "diff_id": changes.diff_id,
        "created_by": changes.created_by,
        "size": changes.size,
        "hidden_bytes": changes.hidden_bytes,
    }
    yield f"{'' if first else ','}\n    {_dumps(head)[:-1]}"
    for name, entries in (
        ("added", changes.added),
        ("changed", changes.changed),
        ("removed", changes.removed),
    ):
        yield f', "{name}": '
        yield from _lines((_entry_json(e) for e in entries), 3)
    yield "}"


def _entry_json(entry: Entry) -> dict[str, object]:
    found: dict[str, object] = {
        "path": entry.path,
        "size": entry.size,
        "type": entry.kind,
        "mode": f"{entry.mode & 0o7777:04o}",
        "uid": entry.uid,
        "gid": entry.gid,
    }
    if entry.link:
        found["link"] = entry.link
    return found


def _placed_json(placed: Placed) -> dict[str, object]:
    return {**_entry_json(placed.entry), "layer": placed.layer}


def _hidden_json(hidden: Hidden) -> dict[str, object]:
    return {**_entry_json(hidden.entry), "layer": hidden.layer, "hidden_by": hidden.by}


# ---------------------------------------------------------------------------------- text


def render_files_text(view: FilesView, *, ascii_only: bool = False) -> str:
    """The final filesystem as a tree: each entry's size (a folder's: what is under it) and the
    layer that last wrote it; the layers' steps above it, the image's figures below."""
    return "".join(files_text_lines(view, ascii_only=ascii_only))


def files_text_lines(view: FilesView, *, ascii_only: bool = False) -> Iterator[str]:
    """``render_files_text`` a line at a time (each with its newline): a million entries are
    written as they are drawn, never held as one text."""
    yield f"{clean_text(view.image.display_name)}  {view.image.short_id}\n"
    for line in [*_steps(view.contents.layers), ""]:
        yield line + "\n"
    yield from (line + "\n" for line in _tree(view.contents.final, ascii_only))
    for line in ["", *_summary(view)]:
        yield line + "\n"


def render_layer_text(view: FilesView, layer: int) -> str:
    """One layer's changes: ``+`` added, ``~`` changed, ``-`` removed (what it hides, with sizes)."""
    changes = view.contents.layers[layer]
    lines = [*_steps([changes]), ""]
    for mark, entries in (("+", changes.added), ("~", changes.changed), ("-", changes.removed)):
        lines += [f"{mark} {_entry_text(e)}  {human_size(e.size)}" for e in entries]
    if not (changes.added or changes.changed or changes.removed):
        lines.append("(no file changed)")
    lines += [
        "",
        f"{human_size(changes.size)} in this layer; it hides {human_size(changes.hidden_bytes)} below it",
    ]
    return "\n".join(lines) + "\n"


def render_hidden_text(view: FilesView) -> str:
    """What ships for nothing: each entry a lower layer wrote and a later one removed or replaced."""
    hidden = sorted(view.contents.hidden, key=lambda h: (-h.entry.size, h.entry.path))
    lines = [
        f"{_entry_text(h.entry)}  {human_size(h.entry.size)}  written by L{h.layer}, hidden by L{h.by}"
        for h in hidden
    ]
    if not lines:
        lines = ["Nothing ships for nothing: no layer hides what a lower one wrote."]
    return "\n".join([*lines, "", *_summary(view)]) + "\n"


def _steps(layers: Sequence[LayerChanges]) -> list[str]:
    return [
        f"L{c.index}  {human_size(c.size):>9}  {clean_text(c.created_by or c.diff_id, _STEP_WIDTH)}"
        for c in layers
    ]


def _summary(view: FilesView) -> list[str]:
    contents = view.contents
    lines = [
        f"efficiency {contents.efficiency:.2%}; wasted {human_size(contents.wasted_bytes)} "
        f"({contents.wasted_percent:.2%} of what the layers above the first add); "
        f"hidden {human_size(contents.hidden_bytes)} (written, then removed or replaced)"
    ]
    if view.parent_id:
        added = contents.added_over(view.parent_layers)
        size = sum(p.entry.size for p in added)
        lines.append(f"over its parent: {len(added):,} entries, {human_size(size)}")
    return lines


def _entry_text(entry: Entry) -> str:
    text = clean_text(entry.path)
    if entry.kind == "symlink":
        return f"{text} -> {clean_text(entry.link)}"
    if entry.kind == "hardlink":
        return f"{text} => {clean_text(entry.link)}"
    return f"{text}/" if entry.kind == "dir" else text


def _tree(final: Sequence[Placed], ascii_only: bool) -> Iterator[str]:
    placed = {p.entry.path: p for p in final}  # by path, so a folder comes before what it holds
    children: dict[str, list[str]] = {}  # lists, not sets: a million entries stay affordable
    sizes: dict[str, int] = {}  # folders only: everything under each
    for path, item in placed.items():
        child, size, linking = path, item.entry.size, True
        while child != "/":
            parent = child.rpartition("/")[0] or "/"
            if linking:  # an entry, or a folder no entry names met for the first time
                children.setdefault(parent, []).append(child)
                linking = parent != "/" and parent not in placed and parent not in sizes
            sizes[parent] = sizes.get(parent, 0) + size
            child = parent
    tee, last, bar, space = (
        ("|-- ", "`-- ", "|   ", "    ") if ascii_only else ("├── ", "└── ", "│   ", "    ")
    )
    yield f"/  {human_size(sizes.get('/', 0))}"
    stack = [(path, "", i == 0) for i, path in enumerate(sorted(children.get("/", ()), reverse=True))]
    while stack:
        path, prefix, is_last = stack.pop()
        found = placed.get(path)
        name = clean_text(path.rpartition("/")[2])
        folder = found is None or found.entry.kind == "dir"
        link = f" -> {clean_text(found.entry.link)}" if found and found.entry.kind == "symlink" else ""
        step = f"  L{found.layer}" if found else ""
        mark = "/" if folder else link
        size = sizes.get(path, found.entry.size if found else 0)
        yield f"{prefix}{last if is_last else tee}{name}{mark}  {human_size(size)}{step}"
        deeper = prefix + (space if is_last else bar)
        kids = sorted(children.get(path, ()), reverse=True)
        stack += [(kid, deeper, i == 0) for i, kid in enumerate(kids)]
