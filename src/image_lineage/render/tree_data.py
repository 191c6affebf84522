"""What the interactive tree knows of each box: its tooltip and its parent (pure).

The app's tree (``ui/tree.py``) and the HTML export (``render/html.py``) hand the same data
to the same script (``frontend/tree``), keyed by the DOT node ids ``img_<short id>`` of
``render/dot.node_ids``.
"""

from __future__ import annotations

from collections.abc import Sequence

from image_lineage.lineage import Lineage, Node
from image_lineage.model import SizeKind
from image_lineage.render.common import added_summary, size_kinds, size_marker
from image_lineage.render.dot import node_ids, outside_box_ids
from image_lineage.text import clean_text, human_size

NAME_LIMIT = 300  # characters of a name or tag in the page's data (the picture shortens further)


def node_summary(node: Node, lineage: Lineage, kinds: Sequence[SizeKind] | None = None) -> dict[str, object]:
    """What the tree's tooltip shows about one image (plain strings, cleaned and shortened).

    ``kinds``: ``size_kinds(lineage)``, given by a caller that summarises many nodes.
    """
    image = node.image
    parent = node.parent if node.parent in lineage.by_id else None
    kinds = size_kinds(lineage) if kinds is None else kinds
    return {
        "image": image.id,
        "name": clean_text(image.display_name, NAME_LIMIT),
        "tags": [clean_text(tag, NAME_LIMIT) for tag in image.tags],
        "size": human_size(node.total_size) + size_marker(node, kinds),
        "adds": added_summary(node),
        "platform": clean_text(image.platform or "", 60),
        "parent": parent,
    }


def tree_nodes(lineage: Lineage) -> dict[str, dict[str, object]]:
    """The tooltip data of every image, keyed by its DOT node id (``img_<short id>``); an image
    on a base that is not here names that base's box (``out_<n>``) as its parent."""
    ids = node_ids(lineage)
    kinds = size_kinds(lineage)
    # An image on a base that is not here hangs from that base's box: the script's first view,
    # collapsing and family box then take the box with its images.
    outside = outside_box_ids(lineage)
    nodes = {}
    for _, node in lineage.walk():
        summary = node_summary(node, lineage, kinds)
        parent = summary["parent"]
        summary["parent"] = ids[parent] if isinstance(parent, str) else outside.get(node.id)
        nodes[ids[node.id]] = summary
    return nodes
