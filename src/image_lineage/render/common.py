"""Small pieces every renderer shares: sizes, names, one-line summaries."""

from __future__ import annotations

from collections.abc import Sequence

from image_lineage import platforms
from image_lineage.lineage import Lineage, Node
from image_lineage.model import Image, SizeKind
from image_lineage.text import clean_text, count_layers, human_size


def added_summary(node: Node) -> str:
    """``+15.2 MB in 3 layers`` (or ``metadata only``) over the parent."""
    layers = count_layers(node.added_layers)
    if node.parent is None:
        return f"{layers}"
    if node.metadata_only:
        return "+0 B, metadata only"
    return f"+{human_size(node.added_size)} in {layers}"


SIZE_MEANINGS: dict[SizeKind, str] = {
    "unpacked": "unpacked layer sizes, as docker history shows them",
    "tar": "uncompressed layer tar sizes, as stored in the archive",
    "compressed": "compressed layer sizes, as a pull downloads them",
}


def size_kinds(lineage: Lineage) -> list[SizeKind]:
    """The kinds of size the images shown were measured in, in a stable order."""
    found = {node.image.size_kind for node in lineage.by_id.values()}
    return [kind for kind in SIZE_MEANINGS if kind in found]


def size_caption(lineage: Lineage) -> str:
    """``Sizes: unpacked layer sizes, as docker history shows them.``: what every size means."""
    kinds = size_kinds(lineage)
    if not kinds:
        return ""
    if len(kinds) == 1:
        return f"Sizes: {SIZE_MEANINGS[kinds[0]]}."
    return "Sizes differ by image: " + "; ".join(f"{k} = {SIZE_MEANINGS[k]}" for k in kinds) + "."


def size_marker(node: Node, kinds: Sequence[SizeKind]) -> str:
    """`` (compressed)`` after a size when the images shown mix kinds of size, else nothing.

    ``kinds``: ``size_kinds`` of the images shown, computed once per render (each call
    walks every image: per node, a render of n images would cost n²).
    """
    return f" ({node.image.size_kind})" if len(kinds) > 1 else ""


def names_platforms(lineage: Lineage, host_platform: str | None = None) -> bool:
    """Whether each image's platform is worth naming: the images shown are of more than one
    platform, or of one that is not ``host_platform`` (None: the host is not known).

    Every renderer that names platforms follows this one rule, so a picture of the host's
    own images stays as it always was.
    """
    shown = {platforms.normalized(n.image.platform) for n in lineage.by_id.values() if n.image.platform}
    if len(shown) > 1:
        return True
    if not shown or host_platform is None:
        return False
    return not platforms.matches(platforms.join(shown.pop()), host_platform)


def source_names(lineage: Lineage) -> dict[str, str]:
    """How the outputs name each source the images shown were found in (``Image.found_in``):
    by kind (``docker``, ``registry``) when no two sources shown are of one kind, else by
    their whole label. Empty when the images shown come from one source (or name none):
    then there is nothing to tell apart.
    """
    labels = sorted({label for node in lineage.by_id.values() for label in node.image.found_in})
    if len(labels) < 2:
        return {}
    kinds = [label.partition(" ")[0] for label in labels]
    unique = len(set(kinds)) == len(kinds)
    return {
        label: clean_text(kind if unique else label, 80) for label, kind in zip(labels, kinds, strict=True)
    }


def found_summary(image: Image, names: dict[str, str], *, tags: bool = False) -> str:
    """``in: docker, registry``: where the image was found, when ``names`` (``source_names``) is
    not empty; ``tags``: with the tags each source gave, ``in: docker (app:1), registry (...)``."""
    given = dict(image.tags_by_source) if tags else {}
    shown = [
        f"{names[label]} ({', '.join(given[label])})" if given.get(label) else names[label]
        for label in image.found_in
        if label in names
    ]
    return f"in: {', '.join(shown)}" if shown else ""


def sources_caption(names: dict[str, str]) -> str:
    """``Sources: docker = docker unix:///var/run/docker.sock; ...``: what ``found_summary`` abbreviates."""
    if not names:
        return ""
    parts = [label if short == label else f"{short} = {label}" for label, short in names.items()]
    return clean_text("Sources: " + "; ".join(parts) + ".", 2000)


INDEX_LIMIT = 4  # platforms named in a line; past that, "and N more"


def index_summary(image: Image) -> str:
    """``platforms: linux/amd64, linux/arm64 (arm64 not here)`` for a multi-platform image, else "".

    The platforms its index names, and which of them this source does not hold.
    """
    listed = sorted({clean_text(p, 40): present for p, present in image.index_platforms}.items())
    if len(listed) < 2:  # one platform is no multi-platform image
        return ""
    names = [name for name, _ in listed]
    text = ", ".join(names[:INDEX_LIMIT])
    if len(names) > INDEX_LIMIT:
        text += f" and {len(names) - INDEX_LIMIT} more"
    missing = [platforms.short(name) for name, present in listed if not present]
    if not missing:
        return f"platforms: {text}"
    gone = ", ".join(missing) if len(missing) < INDEX_LIMIT else str(len(missing))
    return f"platforms: {text} ({gone} not here)"


def ordered_edges(lineage: Lineage) -> list[tuple[Node, Node]]:
    """(parent, child) in the order a depth-first walk meets the children."""
    return [
        (lineage.node(node.parent), node)
        for _, node in lineage.walk()
        if node.parent is not None and node.parent in lineage
    ]
