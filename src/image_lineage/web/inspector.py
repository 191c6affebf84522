"""The inspector: everything the page shows about the picked image (``image_details``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from image_lineage.bases import outside_text
from image_lineage.insights import (
    LayerRow,
    NewerBuild,
    SizeShare,
    dockerfile,
    layer_rows,
    newer_build,
    size_split,
)
from image_lineage.lineage import Lineage, Node
from image_lineage.render.common import added_summary, source_names
from image_lineage.stale import NOTE_CODE
from image_lineage.text import clean_text, human_size
from image_lineage.views import listed_id
from image_lineage.web.memo import by_identity
from image_lineage.web.page import PageView

SPLIT_ROLES = {"base": "base image", "ancestor": "ancestor", "itself": "this image"}


SPLIT_COLOURS = ["#3b73b9", "#9dbde3", "#d9480f"]


@dataclass(frozen=True, slots=True)
class ImageDetails:
    """Everything the page shows about the picked image."""

    node: Node
    parent_name: str | None
    rows: list[LayerRow]
    split: list[SizeShare]
    dockerfile: str
    newer: NewerBuild | None
    notes: list[str]
    found: str = ""
    """Where it was found, with each source's tags, when the images shown come from several."""
    listed_as: str = ""
    """The digest ``docker images`` shows for it when that is not its id (``views.listed_id``)."""

    @property
    def id_text(self) -> str:
        """Its id and, on a containerd-store engine, the digest ``docker images`` shows (plain text)."""
        image = self.node.image
        if not self.listed_as:
            return f"{image.id}."
        what = "multi-platform index" if self.listed_as == image.index_digest else "manifest"
        return f"{image.id} (its config); docker images shows {self.listed_as} (its {what})."

    @property
    def rebuilt(self) -> str | None:
        """The rebuilt-base warning (plain text), saying where the older build went."""
        if self.newer is None:
            return None
        if self.newer.older is None and not self.newer.itself:
            return (
                f"{self.newer.message} That older build is not in the graph: switch on "
                "Intermediate images to see it (an untagged image with children), or it was deleted."
            )
        return self.newer.message

    @property
    def summary(self) -> str:
        """One line of plain text: total size, what it adds, over which parent."""
        image, node = self.node.image, self.node
        if self.parent_name:
            over = f" over {self.parent_name}"
        else:  # a base image, unless its build named a base that is not here (said just below)
            over = "" if node.outside is not None else " (a base image: no parent here)"
        if self.parent_name and node.known_by not in {"layers", "layers only"}:
            over += f" (parent from {node.known_by})"  # the tree's words
        if node.outside is not None:
            over += f"; built on {outside_text(node.outside)}, as its {node.outside.kind} says"
        return f"{human_size(image.size)} in total; {added_summary(node)}{over}."

    @property
    def platform_text(self) -> str:
        """Its platform and, for a multi-platform image, every platform of its index (plain text)."""
        image = self.node.image
        if not image.platform:
            return ""
        text = f"Platform {image.platform}."
        listed = sorted({clean_text(name, 40): present for name, present in image.index_platforms}.items())
        if len(listed) > 1:
            names = [name if present else f"{name} (not here)" for name, present in listed]
            text += f" Its multi-platform index names {', '.join(names[:-1])} and {names[-1]}."
        return text

    def layer_table(self) -> list[dict[str, object]]:
        """Rows for ``st.dataframe``: step, instruction, size, the image whose build made it."""
        me = self.node.id
        return [
            {
                "Step": row.number,
                "Instruction": row.instruction,
                "Size": human_size(row.size) if row.layer else "0 B (metadata)",
                "Made by": "this image" if row.introduced_by == me else row.introduced_by_name,
            }
            for row in self.rows
        ]

    def split_table(self) -> list[dict[str, object]]:
        """Rows for the size chart, base first: who added how many megabytes."""
        return [
            {
                "Image": f"{number}. {clean_text(share.name, 60)}",
                "MB": round(share.size / 1e6, 3),
                "Size": human_size(share.size),
                "Added by": SPLIT_ROLES[share.role],
            }
            for number, share in enumerate(self.split, start=1)
        ]

    def split_spec(self) -> dict[str, Any]:
        """A bar per image of the chain, base on top, the inspected image last, sizes at the ends:
        a plain Vega-Lite spec for ``st.vega_lite_chart`` (Altair would build and validate its
        objects on each rerun, 25 ms a click)."""
        rows = self.split_table()
        most = max((float(str(row["MB"])) for row in rows), default=0.0)
        x = {
            "field": "MB",
            "type": "quantitative",
            "title": "MB added",
            "axis": {"grid": False, "tickCount": 5},
            # One bar per image, never stacked, on a fixed scale (room for the size at the end):
            # no extent to derive, so Vega logs no "Infinite extent for field MB_start".
            "stack": None,
            "scale": {"domain": [0, round(most * 1.25, 3) or 1], "nice": False},
        }
        y = {
            "field": "Image",
            "type": "nominal",
            "sort": None,
            "title": None,
            "axis": {"labelLimit": 200, "labelFontSize": 13, "labelOverlap": False},
        }
        tooltip = [{"field": name, "type": "nominal"} for name in ("Image", "Size", "Added by")]
        colour = {
            "field": "Added by",
            "type": "nominal",
            "scale": {"domain": list(SPLIT_ROLES.values()), "range": SPLIT_COLOURS},
            "legend": {"orient": "bottom", "direction": "vertical", "title": None, "labelFontSize": 13},
        }
        sizes = {"field": "Size", "type": "nominal"}
        return {
            "data": {"values": rows},
            "height": {"step": 30},
            "padding": {"left": 12, "right": 12},
            "layer": [
                {"mark": {"type": "bar"}, "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip}},
                {
                    "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 13},
                    "encoding": {
                        "x": x,
                        "y": y,
                        "color": {"value": "#333333"},
                        "text": sizes,
                        "tooltip": tooltip,
                    },
                },
            ],
        }


def image_details(view: PageView, image_id: str) -> ImageDetails:
    """``build_image_details`` on ``view.everything``, once per lineage and image."""
    return _details(view.everything, image_id=image_id)


@by_identity(max_entries=32)
def _details(lineage: Lineage, *, image_id: str) -> ImageDetails:
    return build_image_details(lineage, image_id)


def build_image_details(lineage: Lineage, image_id: str) -> ImageDetails:
    """What the inspector shows about ``image_id``, judged among every image of ``lineage``."""
    node = lineage.node(image_id)
    parent = node.parent if node.parent in lineage else None
    newer = newer_build(lineage, image_id)
    # The rebuilt-base warning says what the outdated-base note says: said once, not twice.
    said = {NOTE_CODE} if newer is not None else set()
    return ImageDetails(
        node=node,
        parent_name=lineage.node(parent).image.display_name if parent else None,
        rows=layer_rows(lineage, image_id),
        split=size_split(lineage, image_id),
        dockerfile=dockerfile(lineage, image_id),
        newer=newer,
        notes=[d.message for d in lineage.diagnostics if d.image == image_id and d.code not in said],
        found=found_text(node.image.found_in, node.image.tags_by_source, source_names(lineage)),
        listed_as=listed_id(lineage, node.image),
    )


def found_text(
    found_in: tuple[str, ...], tags: tuple[tuple[str, tuple[str, ...]], ...], names: dict[str, str]
) -> str:
    """``Found in docker (team/app:1), registry (host/team/app:1).``: the inspector's line, plain
    text; "" when the images shown come from one source (``names`` is empty)."""
    if not names:
        return ""
    given = dict(tags)
    shown = [f"{label} ({', '.join(given[label])})" if given.get(label) else label for label in found_in]
    return clean_text(f"Found in {'; '.join(shown)}.", 2000) if shown else ""
