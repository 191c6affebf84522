"""Records -> lineage graph: which image is built on which, and what each one adds.

The ancestry rule (see ``docs/ancestry.md`` and moby's own cache check):
A is an ancestor of B when A's layers are a prefix of B's (equal allowed) and
A's history is a *strict* prefix of B's. B's parent is its nearest ancestor (the
longest history) among the images given. When either image has no history the
rule falls back to layers alone (a strict prefix) and the edge is *unverified*.
Lineage is found per platform: A is never B's ancestor when both name their platform
and the platforms differ (images with no layers, or the same layers on every platform,
would otherwise link an arm64 image to an amd64 one). An unknown platform matches any.

Instead of comparing every pair, every image's history is inserted into a trie
keyed by history entries, and every image's layers into a second trie; one walk
down each trie per image finds all its candidate ancestors, so N images cost
about the total length of their histories.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx

from image_lineage.bases import DigestIndex, KnownBy, is_layer_prefix, names_tag, outside_text, own_base
from image_lineage.model import BaseEvidence, Diagnostic, HistoryEntry, Image, SourceInfo, short_id
from image_lineage.platforms import compatible, normalized


@dataclass(frozen=True, slots=True)
class Step:
    """One history step of an image, aligned with the layer it made (None: metadata only)."""

    created: datetime | None
    created_by: str
    comment: str
    size: int
    diff_id: str | None
    introduced_by: str

    @property
    def empty(self) -> bool:
        return self.diff_id is None


@dataclass(frozen=True, slots=True)
class Node:
    """An image placed in the family tree."""

    image: Image
    parent: str | None
    parent_verified: bool
    steps: tuple[Step, ...]
    added_size: int
    added_layers: int
    total_size: int
    """The sum of the image's layer sizes: its parent's ``total_size`` plus ``added_size``."""
    known_by: KnownBy = "layers"
    """How the parent edge is known (``bases.KnownBy``); "layers" for a root."""
    outside: BaseEvidence | None = None
    """The base the image's build recorded when no image read is that base (``(not here)``)."""

    @property
    def id(self) -> str:
        return self.image.id

    @property
    def metadata_only(self) -> bool:
        """A child that adds no layer and no byte: only LABEL, ENV, CMD and the like."""
        return self.parent is not None and self.added_layers == 0 and self.added_size == 0


@dataclass(frozen=True)
class Lineage:
    """The family tree: every shown image as a ``Node`` with its parent.

    ``graph`` is the same tree as a networkx DiGraph (parent -> child, each node
    carrying its ``Node`` as ``node``), built on first use: importing networkx is
    a fifth of a warm scan's time, and the CLI's own walks do not need it. Ask
    ``image_id in lineage`` (not ``in lineage.graph``) whether an image is shown: that
    is a dictionary lookup and builds no graph.
    Treat it as immutable: views build new ``Lineage`` objects instead of editing one.
    """

    source: SourceInfo
    by_id: Mapping[str, Node]
    diagnostics: tuple[Diagnostic, ...] = ()

    @cached_property
    def _children(self) -> dict[str, list[Node]]:
        children: dict[str, list[Node]] = {image_id: [] for image_id in self.by_id}
        for node in self.nodes():
            if node.parent in children:
                children[node.parent].append(node)
        return children

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The tree as a networkx DiGraph: the Python API for notebooks (see README, "Python API").

        Nodes are image ids, each with its ``Node`` under ``"node"``; edges go parent ->
        child. networkx's algorithms then apply (``nx.descendants``, ``nx.dag_longest_path``);
        ``--format graphml`` writes the same tree for graph tools.
        """
        import networkx as nx  # noqa: PLC0415 - see the class docstring

        graph = nx.DiGraph()
        for image_id in sorted(self.by_id):
            graph.add_node(image_id, node=self.by_id[image_id])
        graph.add_edges_from(self.edges())
        return graph

    def __contains__(self, image_id: object) -> bool:
        return image_id in self.by_id

    def __len__(self) -> int:
        return len(self.by_id)

    def node(self, image_id: str) -> Node:
        return self.by_id[image_id]

    def nodes(self) -> list[Node]:
        """Every node, in the stable display order."""
        return sorted(self.by_id.values(), key=display_order)

    def roots(self) -> list[Node]:
        return [n for n in self.nodes() if n.parent not in self.by_id]

    def children(self, image_id: str) -> list[Node]:
        """Already in display order."""
        return self._children[image_id]

    def edges(self) -> list[tuple[str, str]]:
        """(parent id, child id), sorted."""
        return sorted((n.parent, n.id) for n in self.by_id.values() if n.parent in self.by_id)  # type: ignore[misc]

    def ancestors(self, image_id: str) -> list[Node]:
        """Parent first, root last."""
        chain: list[Node] = []
        parent = self.node(image_id).parent
        while parent is not None and parent in self.by_id:
            chain.append(self.node(parent))
            parent = chain[-1].parent
        return chain

    def descendants(self, image_id: str) -> list[Node]:
        """Children, grandchildren, ... in walk order."""
        found: list[Node] = []
        stack = list(reversed(self.children(image_id)))
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(reversed(self.children(node.id)))
        return found

    def walk(self) -> Iterator[tuple[int, Node]]:
        """Depth-first, roots and children in display order: (depth, node)."""
        stack = [(0, n) for n in reversed(self.roots())]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, c) for c in reversed(self.children(node.id)))

    def subset(self, keep: Iterable[str]) -> Lineage:
        """The same tree restricted to ``keep`` (which should hold its own ancestors)."""
        kept = {image_id: self.by_id[image_id] for image_id in sorted(set(keep)) if image_id in self.by_id}
        # Notes about images the view hides go with them; notes about the scan, or about
        # images that never made it into the tree (removed mid-scan), stay.
        notes = tuple(d for d in self.diagnostics if d.image in kept or d.image not in self.by_id)
        return Lineage(source=self.source, by_id=kept, diagnostics=notes)


def display_order(node: Node) -> tuple[bool, str, str, str]:
    """Tagged images first, then by name, platform and id: the same order on every run."""
    image = node.image
    return (not image.tags, image.tags[0] if image.tags else "", image.platform, image.id)


# --------------------------------------------------------------------------- ancestry


class _Trie:
    """Maps sequences to the images whose whole sequence ends at that node."""

    __slots__ = ("children", "images")

    def __init__(self) -> None:
        self.children: dict[object, _Trie] = {}
        self.images: list[Image] = []

    def insert(self, key: Sequence[object], image: Image) -> None:
        node = self
        for item in key:
            node = node.children.setdefault(item, _Trie())
        node.images.append(image)

    def strict_prefixes(self, key: Sequence[object]) -> list[tuple[int, list[Image]]]:
        """(depth, images) for every image whose sequence is a strict prefix of ``key``."""
        found: list[tuple[int, list[Image]]] = []
        node = self
        for depth, item in enumerate(key):
            # An empty history or layer list is a prefix of everything and proves nothing.
            if node.images and depth > 0:
                found.append((depth, node.images))
            child = node.children.get(item)
            if child is None:
                break
            node = child
        return found


def _history_key(image: Image) -> tuple[tuple[object, ...], ...] | None:
    if image.history is None:
        return None
    return tuple(entry.identity() for entry in image.history)


class _LayerPrefixes:
    """Which images of a trie node's list have layers that begin another image's layers.

    Found by lookup, not by a scan of the list: copies of one project (the same Dockerfile
    built on other roots) share whole histories, so one list can hold an image of every
    copy, and a scan per image would cost n². Each list is indexed once, on first use.
    """

    def __init__(self) -> None:
        self._indexes: dict[int, tuple[list[Image], dict[tuple[str, ...], list[int]], set[int]]] = {}

    def of(self, found: list[Image], child: Image) -> list[Image]:
        """The images of ``found`` whose layers are a prefix of ``child``'s, in ``found``'s order."""
        entry = self._indexes.get(id(found))
        if entry is None:
            by_layers: dict[tuple[str, ...], list[int]] = {}
            for index, image in enumerate(found):
                by_layers.setdefault(tuple(image.layers), []).append(index)
            entry = self._indexes[id(found)] = (found, by_layers, {len(layers) for layers in by_layers})
        _, by_layers, lengths = entry
        hits = sorted(
            index
            for length in lengths
            if length <= len(child.layers)
            for index in by_layers.get(tuple(child.layers[:length]), ())
        )
        return [found[index] for index in hits]


def _same_platform(one: Image, other: Image) -> bool:
    return compatible(one.platform, other.platform)


def _tiebreak(candidates: Iterable[Image], child: Image) -> tuple[Image, bool]:
    """Pick one of several equally near ancestors: the engine's hint, else tagged, else lowest id.

    Returns the choice and whether there was a real choice to make.
    """
    ordered = sorted(candidates, key=lambda a: (a.id != child.parent_hint, not a.tags, a.id))
    return ordered[0], len(ordered) > 1


@dataclass(frozen=True, slots=True)
class _Parent:
    image: Image
    verified: bool
    ambiguous: bool
    known_by: KnownBy = "layers"


def _find_parents(images: Sequence[Image]) -> dict[str, _Parent]:
    history_trie = _Trie()
    layer_trie = _Trie()
    keys = {image.id: _history_key(image) for image in images}
    for image in images:
        key = keys[image.id]
        if key is not None:
            history_trie.insert(key, image)
        layer_trie.insert(image.layers, image)

    layer_prefixes = _LayerPrefixes()
    parents: dict[str, _Parent] = {}
    for child in images:
        verified: tuple[int, list[Image]] | None = None
        key = keys[child.id]
        if key is not None:
            # Deepest first: the nearest ancestor whose layers also match wins.
            for depth, found in reversed(history_trie.strict_prefixes(key)):
                matching = [a for a in layer_prefixes.of(found, child) if _same_platform(a, child)]
                if matching:
                    verified = (depth, matching)
                    break
        unverified: tuple[int, list[Image]] | None = None
        for depth, found in reversed(layer_trie.strict_prefixes(child.layers)):
            matching = [
                a for a in found if (a.history is None or child.history is None) and _same_platform(a, child)
            ]
            if matching:
                unverified = (depth, matching)
                break
        verified_layers = len(verified[1][0].layers) if verified else -1
        if unverified is not None and unverified[0] > verified_layers:
            choice, ambiguous = _tiebreak(unverified[1], child)
            parents[child.id] = _Parent(choice, verified=False, ambiguous=ambiguous)
        elif verified is not None:
            choice, ambiguous = _tiebreak(verified[1], child)
            parents[child.id] = _Parent(choice, verified=True, ambiguous=ambiguous)
    return parents


# --------------------------------------------------------------------------- steps


def _align(image: Image) -> tuple[list[tuple[HistoryEntry | None, str | None]], Diagnostic | None]:
    """Pair the k-th history entry that has a layer with the k-th layer (oldest first)."""
    if image.history is None:
        return [(None, layer) for layer in image.layers], None
    pairs: list[tuple[HistoryEntry | None, str | None]] = []
    layers = iter(image.layers)
    for entry in image.history:
        pairs.append((entry, None if entry.empty_layer else next(layers, None)))
    leftover = list(layers)
    pairs.extend((None, layer) for layer in leftover)
    with_layer = sum(1 for entry in image.history if not entry.empty_layer)
    if with_layer == len(image.layers):
        return pairs, None
    return pairs, Diagnostic(
        image.id,
        "history_layer_mismatch",
        f"history has {with_layer} steps with a layer but the image has "
        f"{len(image.layers)} layers; sizes per step may be off",
    )


def _steps(image: Image, parent: Node | None, verified: bool) -> tuple[tuple[Step, ...], Diagnostic | None]:
    pairs, diagnostic = _align(image)
    inherited: dict[int, Step] = {}
    if parent is not None:
        if verified:
            inherited = dict(enumerate(parent.steps[: len(parent.image.history or ())]))
        else:
            # Without a common history, match the parent's steps by layer position.
            parent_layer_steps = [s for s in parent.steps if s.diff_id is not None]
            layer_index = 0
            for index, (_entry, diff_id) in enumerate(pairs):
                if diff_id is None:
                    continue
                if layer_index < len(parent_layer_steps):
                    inherited[index] = parent_layer_steps[layer_index]
                layer_index += 1
    steps = []
    for index, (entry, diff_id) in enumerate(pairs):
        if index in inherited:
            steps.append(inherited[index])
            continue
        steps.append(
            Step(
                created=entry.created if entry else None,
                created_by=entry.created_by if entry else "",
                comment=entry.comment if entry else "",
                size=entry.size if entry else 0,
                diff_id=diff_id,
                introduced_by=image.id,
            )
        )
    return tuple(steps), diagnostic


def _added(image: Image, parent: Node | None, steps: Sequence[Step]) -> tuple[int, int, int]:
    """(bytes, layers) the image adds over its parent, and its total size.

    The total is built from the steps, parent's steps included, so that a child is
    always its parent plus what it adds, whatever the source measured. Without a
    history there are no steps to add up: the source's own size is all there is.
    """
    added_layers = len(image.layers) - (len(parent.image.layers) if parent else 0)
    base = parent.total_size if parent else 0
    if image.history is None:
        total = max(image.size, base)
        return total - base, added_layers, total
    own = sum(s.size for s in steps if s.introduced_by == image.id)
    return own, added_layers, base + own


# --------------------------------------------------------------------------- graph


def build_lineage(
    images: Iterable[Image],
    source: SourceInfo,
    diagnostics: Iterable[Diagnostic] = (),
) -> Lineage:
    """Infer the family tree of ``images`` (all of them are shown)."""
    unique = {image.id: image for image in images}
    ordered = [unique[k] for k in sorted(unique)]
    parents = _find_parents(ordered)
    notes = list(diagnostics)
    outside = _apply_evidence(ordered, parents, notes)

    nodes: dict[str, Node] = {}
    for image in _parents_first(ordered, parents):
        found = parents.get(image.id)
        parent_node = nodes[found.image.id] if found else None
        verified = found.verified if found else True
        steps, mismatch = _steps(image, parent_node, verified)
        added_size, added_layers, total_size = _added(image, parent_node, steps)
        nodes[image.id] = Node(
            image=image,
            parent=found.image.id if found else None,
            parent_verified=verified,
            steps=steps,
            added_size=added_size,
            added_layers=added_layers,
            total_size=total_size,
            known_by=_known_by(found),
            outside=outside.get(image.id),
        )
        if mismatch:
            notes.append(mismatch)
        if found and not found.verified and found.known_by == "layers":
            notes.append(
                Diagnostic(
                    image.id,
                    "unverified_parent",
                    f"parent {found.image.display_name} decided from layers alone (no history)",
                )
            )
        if found and found.ambiguous:
            notes.append(
                Diagnostic(
                    image.id,
                    "ambiguous_parent",
                    f"several identical images qualify as parent; chose {found.image.display_name}",
                )
            )
    notes.extend(_identical_siblings(ordered))
    return Lineage(
        source=source, by_id={k: nodes[k] for k in sorted(nodes)}, diagnostics=_sorted_unique(notes)
    )


def _apply_evidence(
    images: Sequence[Image], parents: dict[str, _Parent], notes: list[Diagnostic]
) -> dict[str, BaseEvidence]:
    """Parents as the builds recorded them (``bases``), over what layers found; the bases named
    that no image read is (by id: ``Node.outside``). A diagnostic where the two disagree."""
    index = DigestIndex(images)
    outside: dict[str, BaseEvidence] = {}
    for child in images:
        found = parents.get(child.id)
        base = own_base(child, found.image if found else None)
        if base is None:
            continue
        named = index.named(base, child)
        here = next((n.image for n in named if n.image is not None), None)
        kind: KnownBy = base.kind
        if here is None and base.candidates:  # mode=min: which one is the base, nothing here tells
            listed = ", ".join(sorted({ref or digest for ref, digest in base.candidates}))
            notes.append(
                Diagnostic(child.id, "base_unknown", f"its {base.kind} lists {listed}; none is here")
            )
        elif here is None:
            first = named[0]
            if found and names_tag(found.image, first.reference) and not _comparable(found.image):
                continue  # the tag's image here knows no digest to compare: layers have it
            away = outside[child.id] = BaseEvidence(base.kind, first.reference, first.digest)
            if found and names_tag(found.image, first.reference):
                notes.append(_disagree(child, found.image.display_name, base, outside_text(away)))
        elif found and found.image.id == here.id:
            parents[child.id] = _Parent(here, found.verified, False, kind)
        elif (
            is_layer_prefix(here, child)
            and _below(here, child)
            and (found is None or is_layer_prefix(found.image, here))
        ):
            parents[child.id] = _Parent(here, _history_prefix(here, child), False, kind)
        else:
            notes.append(
                _disagree(child, found.image.display_name if found else None, base, here.display_name)
            )
    return outside


def _known_by(found: _Parent | None) -> KnownBy:
    if found is None:
        return "layers"
    return "layers only" if found.known_by == "layers" and not found.verified else found.known_by


def _comparable(image: Image) -> bool:
    """Whether the image is known by a manifest, index or repository digest (not only its config)."""
    return bool(image.manifest_digest or image.index_digest or image.digests)


def _below(base: Image, child: Image) -> bool:
    """Strictly fewer layers, or as many and a shorter history: no evidence can make a cycle."""
    if len(base.layers) != len(child.layers):
        return len(base.layers) < len(child.layers)
    return len(base.history or ()) < len(child.history or ())


def _history_prefix(base: Image, child: Image) -> bool:
    ours, theirs = _history_key(base), _history_key(child)
    return ours is not None and theirs is not None and theirs[: len(ours)] == ours and len(ours) < len(theirs)


def _disagree(child: Image, layers_say: str | None, base: BaseEvidence, evidence_says: str) -> Diagnostic:
    said = f"layers say the parent is {layers_say}" if layers_say else "layers find no parent here"
    return Diagnostic(child.id, "evidence_disagrees", f"{said}; its {base.kind} names {evidence_says}")


def _parents_first(images: Sequence[Image], parents: dict[str, _Parent]) -> list[Image]:
    """Order images so that every parent comes before its children.

    The parent relation has no cycles: layers never shrink along an edge and either
    the history (verified edges) or the layers (unverified edges) strictly grow.
    """
    placed: set[str] = set()
    ordered: list[Image] = []
    for image in images:
        chain: list[Image] = []
        current: Image | None = image
        while current is not None and current.id not in placed:
            chain.append(current)
            placed.add(current.id)
            found = parents.get(current.id)
            current = found.image if found else None
        ordered.extend(reversed(chain))
    return ordered


def _identical_siblings(images: Sequence[Image]) -> list[Diagnostic]:
    groups: dict[object, list[Image]] = {}
    for image in images:
        if image.history is not None:
            key = (image.layers, _history_key(image), normalized(image.platform))
            groups.setdefault(key, []).append(image)
    notes = []
    for group in groups.values():
        if len(group) < 2:
            continue
        for image in group:
            others = ", ".join(sorted(o.display_name for o in group if o is not image))
            notes.append(
                Diagnostic(
                    image.id,
                    "identical_content",
                    f"same layers and history as {others}: siblings, not parent and child",
                )
            )
    return notes


def _sorted_unique(notes: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(set(notes), key=lambda d: (d.image or "", d.code, d.message)))


def describe(lineage: Lineage, image_id: str) -> str:
    """A short human label for an image id that may or may not be in the graph."""
    if image_id in lineage:
        return lineage.node(image_id).image.display_name
    return short_id(image_id)
