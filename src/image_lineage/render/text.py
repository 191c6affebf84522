"""The terminal tree: one line per image, box-drawing branches (or ASCII)."""

from __future__ import annotations

from collections.abc import Sequence

from image_lineage.bases import outside_text
from image_lineage.lineage import Lineage, Node
from image_lineage.model import SizeKind, short_id
from image_lineage.render.common import (
    added_summary,
    found_summary,
    index_summary,
    names_platforms,
    size_caption,
    size_kinds,
    size_marker,
    source_names,
    sources_caption,
)
from image_lineage.stale import NOTE_CODE
from image_lineage.text import clean_text, human_size
from image_lineage.views import listed_id

NAME_LIMIT = 80

_UNICODE = ("├── ", "└── ", "│   ", "    ")
_ASCII = ("|-- ", "`-- ", "|   ", "    ")


def render_text(lineage: Lineage, *, ascii_only: bool = False, host_platform: str | None = None) -> str:
    """The family tree, roots first, children in display order; ends with a newline.

    Each line names its image's platform when the images shown are of several platforms
    or of one that is not ``host_platform`` (``names_platforms``); a multi-platform
    image also lists the platforms of its index, saying which are not here. When the images
    shown were found in more than one source, each line says which (``[in: docker,
    registry]``) and a last line names the sources.
    """
    tee, last, pipe, blank = _ASCII if ascii_only else _UNICODE
    platform = names_platforms(lineage, host_platform)
    names = source_names(lineage)
    kinds = size_kinds(lineage)
    outdated = _outdated(lineage)
    lines: list[str] = []
    # An explicit stack, not recursion: ``--all`` can show chains thousands deep. A base no
    # source read (``Node.outside``) is a line of its own, its images' roots below it.
    stack: list[_Line] = []
    for key, roots in reversed(list(_roots_by_outside(lineage).items())):
        if key:
            stack.extend((root, "", last if n == 0 else tee) for n, root in enumerate(reversed(roots)))
            stack.append((key, "", ""))
        else:
            stack.extend((root, "", "") for root in reversed(roots))
    while stack:
        node, prefix, branch = stack.pop()
        if isinstance(node, str):
            lines.append(f"built on {node}")
            continue
        lines.append(
            f"{prefix}{branch}{_describe(node, kinds, platform=platform, names=names, outdated=outdated)}"
        )
        if branch:
            prefix += pipe if branch == tee else blank
        _push_children(stack, lineage, node, prefix, (tee, last))
    if not lines:
        lines.append("(no images)")
    else:
        lines.append(size_caption(lineage))
        if ids := _ids_caption(lineage):
            lines.append(ids)
        if names:
            lines.append(sources_caption(names))
    return "\n".join(lines) + "\n"


def _ids_caption(lineage: Lineage) -> str:
    """On a containerd-store engine: why the ids differ from ``docker images``, and that either works."""
    example = next(
        (node.image for _, node in lineage.walk() if node.image.tags and listed_id(lineage, node.image)), None
    )
    if example is None:
        return ""
    listed = short_id(listed_id(lineage, example))
    name = clean_text(example.display_name, NAME_LIMIT)
    return (
        f"Ids: config digests; docker images on this containerd-store engine shows index or manifest "
        f"digests ({name}: {example.short_id} here, {listed} there); --focus takes either."
    )


_Line = tuple[Node | str, str, str]  # an image (or an outside base's text), its prefix, its branch


def _outdated(lineage: Lineage) -> frozenset[str | None]:
    """The images with an ``outdated_base`` note (``stale.noted``: the CLI and the app add them)."""
    return frozenset(note.image for note in lineage.diagnostics if note.code == NOTE_CODE)


def _push_children(
    stack: list[_Line], lineage: Lineage, node: Node, prefix: str, marks: tuple[str, str]
) -> None:
    tee, last = marks
    children = lineage.children(node.id)
    for index in reversed(range(len(children))):
        stack.append((children[index], prefix, last if index == len(children) - 1 else tee))


def _roots_by_outside(lineage: Lineage) -> dict[str, list[Node]]:
    """Roots in display order, those on the same base no source read under its text ("": none)."""
    grouped: dict[str, list[Node]] = {}
    for root in lineage.roots():
        grouped.setdefault(outside_text(root.outside) if root.outside else "", []).append(root)
    return grouped


def _describe(
    node: Node,
    kinds: Sequence[SizeKind],
    *,
    platform: bool,
    names: dict[str, str],
    outdated: frozenset[str | None],
) -> str:
    image = node.image
    parts = [clean_text(image.display_name, NAME_LIMIT)]
    if image.tags:
        parts.append(image.short_id)
    parts.append(human_size(node.total_size) + size_marker(node, kinds))
    parts.append(f"({added_summary(node)})")
    if platform and image.platform:
        parts.append(f"[{clean_text(image.platform, 40)}]")
    if len(image.tags) > 1:
        parts.append(f"[also {clean_text(', '.join(image.tags[1:]), NAME_LIMIT * 2)}]")
    if index := index_summary(image):
        parts.append(f"[{index}]")
    if found := found_summary(image, names):
        parts.append(f"[{found}]")
    if node.known_by != "layers" and node.parent is not None:
        parts.append(f"[parent from {node.known_by}]")
    elif not node.parent_verified and node.parent is not None:
        parts.append("[parent from layers only]")
    if node.outside is not None and node.parent is not None:
        parts.append(f"[built on {outside_text(node.outside)}]")
    if image.intermediate:
        parts.append("[intermediate]")
    if node.id in outdated:
        parts.append("[on an outdated base: image-lineage stale]")
    return "  ".join(parts)
