"""The overview of a big collection: its families, and where the disk goes.

A *family* (``families.Family``) is a root image (one with no parent among the images
shown) and every image built on it. On a machine with hundreds of images one picture of all of them cannot be
read; one row per family can: how many images, the disk they really use (each layer
counted once, ``insights.disk_usage``) and what layer sharing saves against adding up
the sizes ``docker images`` lists.

``disk_map`` gives the same hierarchy for a picture of where the disk goes (a treemap):
each image is as large as the bytes its subtree adds (its own added size plus its
descendants'), so the whole picture is the disk the tree accounts for.

``by_hidden`` ranks the families by the bytes they ship for nothing, once each image's hidden
entries (``contents.ImageContents.hidden``) were read, on demand, from a source with layers.

Everything here reads a ``Lineage`` and returns plain data; nothing does I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from image_lineage import families as family_tree
from image_lineage.contents import Hidden
from image_lineage.families import Family
from image_lineage.insights import DiskUsage, disk_usage
from image_lineage.lineage import Lineage
from image_lineage.text import clean_text, human_size

family_of = family_tree.family_of  # one family type for every view (``families``)

NAME_LIMIT = 60


@dataclass(frozen=True, slots=True)
class FamilyRow:
    """A family and the disk it uses: one row of the overview's table."""

    family: Family
    disk: DiskUsage

    @property
    def root(self) -> str:
        return self.family.root

    @property
    def name(self) -> str:
        return self.family.name

    @property
    def ids(self) -> frozenset[str]:
        return self.family.ids

    @property
    def images(self) -> int:
        return self.family.images

    def row(self) -> dict[str, object]:
        """The family as one row of the overview's table (plain text and numbers)."""
        return {
            "Family": clean_text(self.name, NAME_LIMIT),
            "Images": self.images,
            "Disk really used": human_size(self.disk.shared),
            "Sharing saves": human_size(self.disk.saved),
        }


def families(lineage: Lineage) -> list[FamilyRow]:
    """Every family of ``lineage`` with its disk use, the one using the most disk first (then by name)."""
    found = [FamilyRow(f, disk_usage(lineage.subset(f.ids))) for f in family_tree.families(lineage)]
    return sorted(found, key=lambda f: (-f.disk.shared, f.name, f.root))


@dataclass(frozen=True, slots=True)
class HiddenRow:
    """A family and the bytes its layers ship that a later layer of one of its images hides."""

    family: FamilyRow
    hidden: int

    def row(self) -> dict[str, object]:
        """The family's row with what it ships for nothing second, beside its name (what it is ranked by)."""
        name, *rest = self.family.row().items()
        return dict([name, ("Ships for nothing", human_size(self.hidden)), *rest])


def by_hidden(
    found: Sequence[FamilyRow], lineage: Lineage, hidden: Mapping[str, Sequence[Hidden]]
) -> list[HiddenRow]:
    """The families, the one shipping the most bytes for nothing first (then as ``found``).

    ``hidden``: each image's hidden entries by image id. A file a shared layer writes and
    several images hide ships once, in that layer: it is counted once per family (keyed by
    the layer's diff id and the path), as the disk keeps it once.
    """
    ranked = []
    for family in found:
        shipped: dict[tuple[str, str], int] = {}
        for image_id in sorted(family.ids):
            layers = lineage.node(image_id).image.layers
            for lost in hidden.get(image_id, ()):
                where = layers[lost.layer] if lost.layer < len(layers) else f"{image_id}#{lost.layer}"
                shipped[(where, lost.entry.path)] = lost.entry.size
        ranked.append(HiddenRow(family, sum(shipped.values())))
    order = {id(row): index for index, row in enumerate(found)}
    return sorted(ranked, key=lambda r: (-r.hidden, order[id(r.family)]))


# --------------------------------------------------------------------------- where the disk goes


@dataclass(frozen=True, slots=True)
class Slice:
    """One image in the picture of where the disk goes.

    ``added``: what the image itself adds over its parent; ``value``: that plus what
    every image built on it adds (the slice's width). ``children`` are sorted widest first.
    """

    id: str
    name: str
    added: int
    value: int
    children: tuple[Slice, ...] = ()

    def walk(self) -> Iterator[Slice]:
        yield self
        for child in self.children:
            yield from child.walk()


def disk_map(lineage: Lineage) -> list[Slice]:
    """The families as nested slices by size added, the widest family first."""
    built: dict[str, Slice] = {}
    # Children before parents: reversed depth-first order does it.
    for _, node in reversed(list(lineage.walk())):
        children = sorted(
            (built[child.id] for child in lineage.children(node.id)), key=lambda s: (-s.value, s.name, s.id)
        )
        added = max(node.added_size, 0)
        built[node.id] = Slice(
            id=node.id,
            name=node.image.display_name,
            added=added,
            value=added + sum(child.value for child in children),
            children=tuple(children),
        )
    return sorted((built[root.id] for root in lineage.roots()), key=lambda s: (-s.value, s.name, s.id))


def echarts_treemap(slices: list[Slice]) -> dict[str, Any]:
    """An Apache ECharts option (what ``st.echarts_chart`` draws): a treemap of ``slices``.

    Each image is a rectangle as large as what it and the images built on it add; an image
    with children holds a rectangle of its own, ``NAME itself``, for what it adds. Two
    levels show at a time; clicking a rectangle zooms into it, the path above goes back.
    Names are cleaned text; ECharts draws them on a canvas and the tooltip as rich text,
    never as HTML.
    """
    return {
        "tooltip": {"trigger": "item", "renderMode": "richText", "valueFormatter": "bytes"},
        "series": [
            {
                "type": "treemap",
                "name": "All families",
                "data": [_echarts_item(s) for s in slices],
                "leafDepth": 2,
                "roam": False,
                "nodeClick": "zoomToNode",
                "top": 8,
                "left": 4,
                "right": 4,
                "bottom": 36,
                "breadcrumb": {"bottom": 4},
                "label": {"show": True, "overflow": "truncate", "fontSize": 12},
                "upperLabel": {"show": True, "height": 22, "overflow": "truncate", "fontSize": 12},
                "levels": [
                    {"itemStyle": {"borderColor": "#ffffff", "borderWidth": 3, "gapWidth": 3}},
                    {
                        "colorSaturation": [0.35, 0.6],
                        "itemStyle": {"borderColorSaturation": 0.7, "gapWidth": 1, "borderWidth": 1},
                    },
                ],
            }
        ],
    }


def _echarts_item(piece: Slice) -> dict[str, Any]:
    name = clean_text(piece.name, NAME_LIMIT)
    item: dict[str, Any] = {"name": name, "value": piece.value}
    if piece.children:
        own = [{"name": f"{name} itself", "value": piece.added}] if piece.added else []
        item["children"] = own + [_echarts_item(child) for child in piece.children]
    return item
