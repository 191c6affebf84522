"""A view that draws every image of a repository as one box.

A machine keeps many tags of one repository (``jupyter/scipy-notebook:2026-10``,
``:2026-11``, ``:latest``, ...), each its own image, and a tree of a few hundred images
is mostly those. ``group_repositories`` returns a smaller ``Lineage`` in which the
images of each repository with two or more of them are one node, named
``REPOSITORY:N images``, carrying every tag of the group, unless the repository is
in ``expanded``. Untagged images are never grouped.

The group's node is its shallowest member (the one nearest a root; ties in display
order) with what the group adds: its ``added_size`` and ``added_layers`` are the sums of
its members', so the tree still adds up to the same bytes. Its parent is the group of
that member's parent. Parents are always shallower than their children, so the
grouped tree has no cycles even when two repositories build on each other's images.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import replace

from image_lineage.lineage import Lineage, Node, display_order
from image_lineage.reference import repository


def repository_of(node: Node) -> str | None:
    """The repository of the image's first tag; None for an untagged image."""
    return repository(node.image.tags[0]) if node.image.tags else None


def repositories(lineage: Lineage) -> dict[str, list[str]]:
    """Repositories with two or more images -> their image ids, in display order."""
    members: dict[str, list[str]] = defaultdict(list)
    for node in lineage.nodes():
        name = repository_of(node)
        if name is not None:
            members[name].append(node.id)
    return {name: ids for name, ids in sorted(members.items()) if len(ids) > 1}


def group_repositories(lineage: Lineage, expanded: Collection[str] = ()) -> Lineage:
    """``lineage`` with each repository of several images as one node (except ``expanded``)."""
    groups = {name: ids for name, ids in repositories(lineage).items() if name not in expanded}
    if not groups:
        return lineage
    depth = {node.id: level for level, node in lineage.walk()}
    leader: dict[str, str] = {}  # image id -> the id of the node that stands for it
    for ids in groups.values():
        first = min(ids, key=lambda i: (depth[i], display_order(lineage.node(i))))
        leader.update(dict.fromkeys(ids, first))
    by_id: dict[str, Node] = {}
    for node in lineage.nodes():
        if leader.get(node.id, node.id) != node.id:
            continue
        parent = leader.get(node.parent, node.parent) if node.parent else None
        name = repository_of(node)
        ids = groups.get(name, []) if name is not None else []
        if len(ids) > 1:
            by_id[node.id] = _group_node(lineage, name or "", ids, node, parent)
        else:
            by_id[node.id] = replace(node, parent=parent)
    return Lineage(source=lineage.source, by_id=dict(sorted(by_id.items())), diagnostics=lineage.diagnostics)


def _group_node(lineage: Lineage, name: str, ids: list[str], first: Node, parent: str | None) -> Node:
    members = [lineage.node(i) for i in ids]
    tags = sorted({tag for member in members for tag in member.image.tags})
    image = replace(
        first.image,
        tags=(f"{name}:{len(members)} images", *tags),
        size=max(member.image.size for member in members),
        intermediate=False,
    )
    return replace(
        first,
        image=image,
        parent=parent,
        added_size=sum(member.added_size for member in members),
        added_layers=sum(member.added_layers for member in members),
        total_size=max(member.total_size for member in members),
    )
