"""Families: a root image (one with no parent among the images shown) and every image built on it.

The one family type the overview (one row per family) and the lesson (one family at a time)
both use; each orders the families its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from image_lineage.bases import outside_key, outside_text
from image_lineage.lineage import Lineage
from image_lineage.text import clean_text

NAME_LIMIT = 60


@dataclass(frozen=True, slots=True)
class Family:
    """A root and every image built on it: ``members`` in the tree's order, the root first;
    ``name`` the root's name, cleaned and bounded, fit to show."""

    root: str
    name: str
    members: tuple[str, ...]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self.members)

    @property
    def images(self) -> int:
        return len(self.members)


def family_of(lineage: Lineage, image_id: str) -> Family:
    """The family ``image_id`` belongs to (that of its root; of every root on the same base no
    source read, when its root is on one)."""
    chain = lineage.ancestors(image_id)
    root = lineage.node(chain[-1].id if chain else image_id)
    if root.outside is not None:
        return next(family for family in families(lineage) if root.id in family.members)
    return _tree_of(lineage, root.id)


def _tree_of(lineage: Lineage, root_id: str) -> Family:
    root = lineage.node(root_id)
    members = (root.id, *(node.id for node in lineage.descendants(root.id)))
    return Family(root.id, clean_text(root.image.display_name, NAME_LIMIT), members)


def families(lineage: Lineage) -> list[Family]:
    """Every family of ``lineage``, in the order of its roots. Roots built on the same base that no
    source read (``Node.outside``) are one family, named after that base."""
    found: list[Family] = []
    outside: dict[tuple[str, str], int] = {}
    for root in lineage.roots():
        family = _tree_of(lineage, root.id)
        if root.outside is None:
            found.append(family)
            continue
        key = outside_key(root.outside)
        if key not in outside:
            outside[key] = len(found)
            found.append(replace(family, name=clean_text(outside_text(root.outside), NAME_LIMIT)))
            continue
        known = found[outside[key]]
        found[outside[key]] = replace(known, members=(*known.members, *family.members))
    return found
