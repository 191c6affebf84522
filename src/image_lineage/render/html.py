"""One self-contained HTML file: the interactive tree, a search box and an inspector per image.

The picture is Graphviz's SVG of the DOT every other picture uses (``render_dot``), inlined
as the text of a ``<script type="image/svg+xml">`` element that the page's script parses
(the browser's XML parser reads it in half the time its HTML parser takes over the same
drawing inlined as markup, the most of opening 1,000 images); the interaction is the app's
own tree script (``assets/tree-export.js``, built from ``frontend/tree``), inlined too;
the images' details are JSON in a ``<script type="application/json">`` element, shown by
that script through ``textContent`` only. Nothing is fetched: a Content-Security-Policy
allows no request and no script but the one inlined (by its hash), so the file opens from
disk, offline, in any browser.

Image data is untrusted. In the SVG it is escaped by the DOT renderer and Graphviz (so its
only ``<`` are Graphviz's own tags; its comments are dropped, and a drawing that could still
end its element is refused); in the JSON every ``<``, ``>`` and ``&`` is a ``\\uXXXX``
escape, so no string can close the element it sits in.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re

from image_lineage import assets
from image_lineage.insights import layer_rows, size_split
from image_lineage.lineage import Lineage, Node
from image_lineage.render.common import added_summary, size_caption
from image_lineage.render.dot import node_ids
from image_lineage.render.graphviz_render import render_graphviz
from image_lineage.render.tree_data import NAME_LIMIT, tree_nodes
from image_lineage.text import clean_text, human_size

TEXT_LIMIT = 2000  # characters of an instruction
_PROLOG = re.compile(r"\A(?:<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->|\s)*", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# Graphviz's native tooltips: the page's script removes them (its own show more), so they
# need not be written (a sixth of the drawing on 1,000 images, all of it to parse).
_NATIVE_TOOLTIP = re.compile(r' xlink:title="[^"<>]*"')
_ENDS_SCRIPT = re.compile(r"</script|<!--", re.IGNORECASE)  # what could end (or bend) a script element
_JSON_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def tree_script() -> str:
    """The tree's script for a page of its own (``assets/tree-export.js``), as the package ships it."""
    return assets.read(assets.EXPORT)


def _details(lineage: Lineage, node: Node) -> dict[str, object]:
    """The inspector's data: summary line, steps (oldest first) and the size split."""
    parent = lineage.by_id.get(node.parent or "")
    over = f" over {parent.image.display_name}" if parent else " (a base image: no parent here)"
    summary = f"{human_size(node.image.size)} in total; {added_summary(node)}{over}."
    steps = [
        [
            row.number,
            clean_text(row.instruction, TEXT_LIMIT),
            human_size(row.size) if row.layer else "0 B (metadata)",
            "this image" if row.introduced_by == node.id else clean_text(row.introduced_by_name, NAME_LIMIT),
            row.introduced_by == node.id,
        ]
        for row in layer_rows(lineage, node.id)
    ]
    split = [
        [clean_text(share.name, NAME_LIMIT), share.size, human_size(share.size), share.role]
        for share in size_split(lineage, node.id)
    ]
    return {"summary": clean_text(summary, TEXT_LIMIT), "steps": steps, "split": split}


def page_data(lineage: Lineage, *, rankdir: str = "TB") -> dict[str, object]:
    """Everything the page's script reads: tooltips, inspectors, the tree's order."""
    nodes = tree_nodes(lineage)
    ids = node_ids(lineage)
    for _, node in lineage.walk():
        nodes[ids[node.id]].update(_details(lineage, node))
    count = len(lineage)
    return {
        "title": "Image lineage",
        "caption": f"{count} image{'s' if count != 1 else ''}. {size_caption(lineage)}",
        "rankdir": "LR" if rankdir == "LR" else "TB",
        "order": list(nodes),
        "nodes": nodes,
    }


def script_json(value: object) -> str:
    """JSON that can sit inside a ``<script>`` element: nothing in it can end the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda match: _JSON_UNSAFE[match.group()], text)


def render_html(
    lineage: Lineage, *, rankdir: str = "TB", highlight: str | None = None, host_platform: str | None = None
) -> str:
    """The page; needs Graphviz's ``dot``. ``highlight``: an image drawn marked, inspected first."""
    svg = render_graphviz(lineage, "svg", rankdir=rankdir, highlight=highlight, host_platform=host_platform)
    drawing = _NATIVE_TOOLTIP.sub("", _COMMENT.sub("", _PROLOG.sub("", svg.decode("utf-8"))))
    if _ENDS_SCRIPT.search(drawing):
        raise ValueError("the drawing cannot be inlined: it contains </script or <!--")
    script = tree_script()
    if _ENDS_SCRIPT.search(script):  # the bundle must be inlinable as it is
        raise ValueError(f"{assets.EXPORT} cannot be inlined: it contains </script or <!--")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    policy = (
        "default-src 'none'; "
        f"script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    start = node_ids(lineage).get(highlight or "")
    data = script_json(page_data(lineage, rankdir=rankdir))
    title = f"Image lineage: {len(lineage)} image{'s' if len(lineage) != 1 else ''}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="image-lineage">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body"
        + (f' data-start="{html.escape(start)}"' if start else "")
        + ">\n"
        f'<script type="image/svg+xml" id="tree-svg">\n{drawing}</script>\n'
        f'<script type="application/json" id="lineage-data">{data}</script>\n'
        f"<script>{script}</script>\n"
        "<noscript>This page needs JavaScript to show its tree; "
        "image-lineage export --format svg draws it as a picture that needs none.</noscript>\n"
        "</body>\n</html>\n"
    )
