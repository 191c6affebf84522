"""What an image's layers do to its filesystem: pure analysis over the layers' tar listings.

Each layer is applied over the ones below it as the image-spec says: its whiteouts first
(``.wh.NAME`` removes NAME and everything under it; ``.wh..wh..opq`` hides what the lower
layers put in that folder), then its entries (a later entry of the same path wins; a
non-folder over a folder hides the folder's contents). Per layer this gives what it
**added**, **changed** (a path that was there: a file written again, a link retargeted, a
folder whose mode or owner changed; a folder merely listed again is no change) and
**removed** (every entry it hides, with its size).

Per image:

* ``hidden_bytes``: bytes the lower layers ship that a later layer replaces or removes;
* ``wasted_bytes`` and ``efficiency`` exactly as dive computes them (dive
  ``filetree/efficiency.go``, ``image/image.go``): per path, the sum of its sizes over the
  layers where it is a leaf of that layer's tree (a whiteout counts the size of what it hides
  only when that was a folder; opaque markers are not paths, as dive drops them); wasted is
  that sum over the paths seen in two or more layers; efficiency is the sum of each path's
  smallest size over the sum of all; the wasted percent is wasted over the size of every layer
  but the first.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from image_lineage.sources.oci.layer_tar import KINDS, Entry, Listing

ROOT = "/"


@dataclass(frozen=True, slots=True)
class LayerInput:
    """One layer to analyse: its listing, its diff id, and the build step that made it."""

    listing: Listing
    diff_id: str = ""
    created_by: str = ""


class Hidden(NamedTuple):
    """An entry a lower layer ships that layer ``by`` removes or replaces (its bytes ship for nothing)."""

    entry: Entry
    layer: int  # where it was written
    by: int  # the layer that hid it


@dataclass(frozen=True, slots=True)
class LayerChanges:
    """What one layer does to the filesystem below it (entries in tar order; removals by path)."""

    index: int
    size: int  # the bytes of its entries (dive's layer size)
    hidden_bytes: int  # the lower layers' bytes it replaces or removes
    diff_id: str
    created_by: str
    added: tuple[Entry, ...]
    changed: tuple[Entry, ...]
    removed: tuple[Entry, ...]  # the lower entries it hides, with their sizes


class Placed(NamedTuple):
    """An entry of the final filesystem and the layer that last wrote it (a tuple: there may be
    a million)."""

    entry: Entry
    layer: int


@dataclass(frozen=True, slots=True)
class ImageContents:
    """The image's layers analysed, its final filesystem, and what ships for nothing."""

    layers: tuple[LayerChanges, ...]
    final: tuple[Placed, ...]  # by path
    hidden: tuple[Hidden, ...]
    hidden_bytes: int
    wasted_bytes: int
    efficiency: float
    user_size: int = 0  # every layer's size but the first's (dive's "user size")

    @property
    def wasted_percent(self) -> float:
        """Wasted bytes over the user size (dive's ``WastedUserPercent``), 0 when nothing was added."""
        return self.wasted_bytes / self.user_size if self.user_size else 0.0

    def biggest(self, count: int = 10) -> list[Placed]:
        files = [p for p in self.final if p.entry.kind == "file"]
        return sorted(files, key=lambda p: (-p.entry.size, p.entry.path))[:count]

    def added_over(self, parent_layers: int) -> list[Placed]:
        """The final entries the layers above the parent's first ``parent_layers`` wrote."""
        return [p for p in self.final if p.layer >= parent_layers]


@dataclass(slots=True)
class _Tree:
    """The filesystem so far: entry and layer by path. Whole folders (whiteouts, opaque folders,
    a file over a folder) are found in a sorted index of the paths, made when first needed and
    kept while no path is added: a folder's contents are one range of it (``P/`` to ``P0``)."""

    at: dict[str, Placed] = field(default_factory=dict)
    index: list[str] | None = None

    def put(self, placed: Placed) -> None:
        if placed.entry.path not in self.at:
            self.index = None
        self.at[placed.entry.path] = placed

    def below(self, path: str) -> list[str]:
        """Every path under ``path`` (not itself)."""
        if self.index is None:
            self.index = sorted(self.at)
        prefix = "/" if path == ROOT else path + "/"
        start = bisect_left(self.index, prefix)
        end = bisect_left(self.index, prefix[:-1] + "0", start)  # "0" follows "/"
        return [p for p in self.index[start:end] if p in self.at]

    def remove(self, paths: Iterable[str]) -> list[Placed]:
        """Take ``paths`` out; what was there (the index keeps them: ``below`` skips them)."""
        gone = []
        for path in paths:
            placed = self.at.pop(path, None)
            if placed is not None:
                gone.append(placed)
        return gone

    def subtree_bytes(self, path: str) -> int:
        return sum(self.at[p].entry.size for p in (path, *self.below(path)) if p in self.at)


def _parent(path: str) -> str:
    return path.rpartition("/")[0] or ROOT


def analyse(layers: Sequence[LayerInput]) -> ImageContents:
    """Apply the layers in order; see the module's docstring for what is counted."""
    tree = _Tree()
    changes: list[LayerChanges] = []
    hidden: list[Hidden] = []
    efficiency = _Efficiency()
    for index, layer in enumerate(layers):
        efficiency.add(layer.listing, tree)
        gone: list[Placed] = []
        entries: dict[str, Entry] = {}
        for entry in layer.listing:
            if entry.kind == "whiteout":
                gone += tree.remove([*tree.below(entry.path), entry.path])
            elif entry.kind == "opaque":
                gone += tree.remove(list(tree.below(entry.path)))
            elif entry.path != ROOT:
                entries[entry.path] = entry
        added: list[Entry] = []
        changed: list[Entry] = []
        replaced: list[Placed] = []
        for path, entry in entries.items():
            old = tree.at.get(path)
            if old is None:
                added.append(entry)
                tree.put(Placed(entry, index))
                continue
            if old.entry.kind == "dir" and entry.kind != "dir":
                gone += tree.remove(list(tree.below(path)))
            if entry.kind == "dir" and old.entry.kind == "dir" and _same_folder(old.entry, entry):
                continue  # a folder listed again because something under it changed
            changed.append(entry)
            replaced.append(old)
            tree.put(Placed(entry, index))
        lost = [*gone, *replaced]
        hidden += (Hidden(p.entry, p.layer, index) for p in lost)
        changes.append(
            LayerChanges(
                index,
                layer.listing.file_bytes,
                sum(p.entry.size for p in lost),
                layer.diff_id,
                layer.created_by,
                tuple(added),
                tuple(changed),
                tuple(sorted((p.entry for p in gone), key=lambda e: e.path)),
            )
        )
    final = tuple(tree.at[path] for path in sorted(tree.at))
    score, wasted = efficiency.result()
    return ImageContents(
        tuple(changes),
        final,
        tuple(hidden),
        sum(h.entry.size for h in hidden),
        wasted,
        score,
        sum(c.size for c in changes[1:]),
    )


def _same_folder(old: Entry, new: Entry) -> bool:
    return (old.mode, old.uid, old.gid) == (new.mode, new.uid, new.gid)


class _Efficiency:
    """dive's efficiency: per path, its sizes over the layers where it is a leaf. Most paths are
    seen once: their one size is kept alone, the few seen again get ``[total, smallest]``."""

    def __init__(self) -> None:
        self.once: dict[str, int] = {}
        self.again: dict[str, list[int]] = {}

    def add(self, listing: Listing, below: _Tree) -> None:
        """One layer's leaves, ``below`` being the layers under it stacked (for whiteouts)."""
        sizes: dict[str, int] = {}
        parents: set[str] = set()
        whiteout, opaque = KINDS.index("whiteout"), KINDS.index("opaque")
        for path, kind, size in zip(
            listing.paths, listing.kinds, listing.sizes, strict=True
        ):  # no Entry each
            if kind == opaque or path == ROOT:
                continue
            if kind == whiteout:
                lower = below.at.get(path)
                sizes[path] = below.subtree_bytes(path) if lower and lower.entry.kind == "dir" else 0
            else:
                sizes[path] = size
            parent = _parent(path)
            while parent not in parents and parent != ROOT:
                parents.add(parent)
                parent = _parent(parent)
        for path, size in sizes.items():
            if path in parents:
                continue  # not a leaf of this layer's tree
            seen = self.again.get(path)
            if seen is not None:
                seen[0] += size
                seen[1] = min(seen[1], size)
            elif path in self.once:
                first = self.once.pop(path)
                self.again[path] = [first + size, min(first, size)]
            else:
                self.once[path] = size

    def result(self) -> tuple[float, int]:
        single = sum(self.once.values())
        wasted = sum(total for total, _ in self.again.values())
        everything = single + wasted
        score = (single + sum(least for _, least in self.again.values())) / everything if everything else 1.0
        return score, wasted
