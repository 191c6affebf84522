"""The one walker: roots -> indexes -> image manifests -> configs, through a blob source.

It reads level by level (one ``read_many`` batch per level, so a registry fetches side by
side), each digest once, however many roots, indexes or entries name it; attestations are
known by their index entry and never read. Then, per index (once each, however many paths
lead to it) and per group of root manifests, it places every entry: an image (manifest and
config as read, or None where the source lacks them) or an artifact. Names flow from the
roots down to everything they reach.

Bounds: indexes nest at most ``MAX_INDEX_DEPTH`` deep; a walk reads at most
``MAX_DESCRIPTORS`` distinct manifests and indexes (one index lists at most
``descriptor.MAX_INDEX_ENTRIES``). What cannot be read is a :class:`Problem`: the caller
decides whether it ends the scan (an archive) or becomes a diagnostic (a registry).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from image_lineage.errors import LineageError
from image_lineage.sources.base import MAX_JSON_BYTES
from image_lineage.sources.oci import media
from image_lineage.sources.oci.artifacts import Artifact
from image_lineage.sources.oci.blobs import ABSENT, BlobSource, Unread, Want, check
from image_lineage.sources.oci.descriptor import (
    Descriptor,
    Index,
    Malformed,
    Manifest,
    Platform,
    is_index_json,
    parse_index,
    parse_json,
    parse_manifest,
)

#: Indexes below a root, at most: a real image has one, a few tools nest one more.
MAX_INDEX_DEPTH = 4
#: Distinct manifests and indexes one walk reads, at most.
MAX_DESCRIPTORS = 200_000


@dataclass(frozen=True, slots=True)
class Root:
    """Where a walk starts: what a layout's ``index.json`` or a registry's tag names."""

    descriptor: Descriptor
    names: tuple[str, ...] = ()
    scope: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """A blob that could not be read or used, and the roots that lead to it."""

    code: str
    reason: str
    digest: str
    roots: tuple[Root, ...] = ()
    is_root: bool = False


@dataclass(frozen=True, slots=True)
class Placed:
    """One image manifest as an index (or a group of roots) lists it.

    ``manifest``/``config`` are None where the source does not hold them (a platform not
    saved) or could not read them (then a ``Problem`` says why).
    """

    descriptor: Descriptor
    manifest: Manifest | None
    config: bytes | None
    roots: tuple[Root, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for root in self.roots for name in root.names))


@dataclass(frozen=True, slots=True)
class Group:
    """The images one index lists (``index_digest``), or root manifests under one name
    (``index_digest`` "" for one; an implied index's digest for several platforms)."""

    index_digest: str
    members: tuple[Placed, ...]
    direct: bool = False  # root manifests, not an index's entries


@dataclass(frozen=True, slots=True)
class Walked:
    groups: tuple[Group, ...]
    artifacts: tuple[Artifact, ...]
    problems: tuple[Problem, ...]


@dataclass(slots=True)
class _Node:
    """One digest as read: an index, a manifest, or why it is neither."""

    want: Want
    depth: int
    index: Index | None = None
    manifest: Manifest | None = None
    unread: Unread | None = None
    roots: dict[Root, None] = field(default_factory=dict)  # ordered set


def walk(
    source: BlobSource,
    roots: Sequence[Root],
    failure: type[LineageError] = LineageError,
    *,
    group_direct: bool = True,
) -> Walked:
    """Walk ``roots`` through ``source``; ``failure`` is the error for a walk past its bounds.

    ``group_direct``: root manifests listed under the same names are one multi-platform
    image (a layout's ``index.json``); else each root manifest is its own group.
    """
    return _Walker(source, failure).run(roots, group_direct)


class _Walker:
    def __init__(self, source: BlobSource, failure: type[LineageError]) -> None:
        self.source = source
        self.failure = failure
        self.nodes: dict[str, _Node] = {}
        self.configs: dict[str, bytes | Unread] = {}
        self.problems: list[Problem] = []
        self.artifacts: list[Artifact] = []

    def run(self, roots: Sequence[Root], group_direct: bool) -> Walked:
        self.read(roots)
        self.spread_names(roots)
        self.read_configs()
        groups = [self.index_group(node, node.index) for node in self.nodes.values() if node.index]
        groups += self.direct_groups(roots, group_direct)
        for node in self.nodes.values():
            if node.unread is not None and node.unread.fault():
                self.problem(node, node.unread.code, node.unread.reason)
            if node.index is not None:
                for why in node.index.skipped:
                    self.problem(node, "index_entry_skipped", why)
        return Walked(tuple(g for g in groups if g.members), tuple(self.artifacts), tuple(self.problems))

    # ---------------------------------------------------------------- reading, level by level

    def read(self, roots: Sequence[Root]) -> None:
        frontier: dict[str, Want] = {}
        for root in roots:
            frontier.setdefault(root.descriptor.digest, Want(root.descriptor, root.scope, manifest=True))
        depth = 0
        while frontier:
            if len(self.nodes) + len(frontier) > MAX_DESCRIPTORS:
                raise self.failure(
                    f"more than {MAX_DESCRIPTORS} distinct manifests and indexes: refusing to walk further"
                )
            found = self.source.read_many(list(frontier.values()), MAX_JSON_BYTES)
            following: dict[str, Want] = {}
            for digest, want in frontier.items():
                node = self.nodes[digest] = self.parse(want, depth, found.get(digest))
                if node.index is not None and depth >= MAX_INDEX_DEPTH:
                    node.index = None  # not followed: its entries are not read
                    node.unread = Unread("too_deep", f"indexes nest deeper than {MAX_INDEX_DEPTH}")
                for child in node.index.manifests if node.index else ():
                    if not (media.is_attestation(child) or child.digest in self.nodes):
                        following.setdefault(child.digest, Want(child, want.scope, manifest=True))
            frontier = {d: w for d, w in following.items() if d not in self.nodes}
            depth += 1

    def parse(self, want: Want, depth: int, found: bytes | Unread | None) -> _Node:
        node = _Node(want, depth)
        descriptor = want.descriptor
        if found is None:
            found = Unread(ABSENT, f"{descriptor.digest} is not there")
        if isinstance(found, bytes):
            found = check(descriptor, found, MAX_JSON_BYTES)
        if isinstance(found, Unread):
            node.unread = found
            return node
        where = f"the manifest {descriptor.digest}"
        try:
            value = parse_json(found, where)
            if is_index_json(value, descriptor):
                node.index = parse_index(value, f"the index {descriptor.digest}")
            else:
                node.manifest = parse_manifest(value, where)
        except Malformed as why:
            node.unread = Unread("blob_unreadable", str(why))
        return node

    def read_configs(self) -> None:
        """The config of every manifest that may be an image (an artifact's is never read)."""
        wanted: dict[str, Want] = {}
        for node in self.nodes.values():
            manifest = node.manifest
            if manifest is not None and media.is_image(Descriptor("", node.want.descriptor.digest), manifest):
                wanted.setdefault(manifest.config.digest, Want(manifest.config, node.want.scope))
        if not wanted:
            return
        found = self.source.read_many(list(wanted.values()), MAX_JSON_BYTES)
        for digest, want in wanted.items():
            got = found.get(digest) or Unread(ABSENT, f"config {digest} is not there")
            self.configs[digest] = (
                check(want.descriptor, got, MAX_JSON_BYTES) if isinstance(got, bytes) else got
            )

    def spread_names(self, roots: Sequence[Root]) -> None:
        """Every node learns the roots that reach it, parents before children (the graph is a DAG:
        digests are checked, so no index can list itself)."""
        for root in roots:
            self.nodes[root.descriptor.digest].roots[root] = None
        waiting: dict[str, int] = dict.fromkeys(self.nodes, 0)
        for node in self.nodes.values():
            for child in self.children(node):
                waiting[child] += 1
        ready = [digest for digest, count in waiting.items() if count == 0]
        while ready:
            node = self.nodes[ready.pop()]
            for child in self.children(node):
                self.nodes[child].roots.update(node.roots)
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)

    def children(self, node: _Node) -> Iterable[str]:
        if node.index is None:
            return ()
        return dict.fromkeys(d.digest for d in node.index.manifests if d.digest in self.nodes)

    # ---------------------------------------------------------------------------- placing

    def index_group(self, node: _Node, index: Index) -> Group:
        """Every entry of one index: its images placed, its artifacts recorded."""
        roots = tuple(node.roots)
        members = []
        entries: dict[str, Descriptor] = {}
        for descriptor in index.manifests:
            entries.setdefault(descriptor.digest, descriptor)  # the same entry listed again is one
        for entry in entries.values():
            child = self.nodes.get(entry.digest)
            if child is not None and child.index is not None:
                continue  # a nested index: a group of its own
            placed = self.place(entry, child, roots)
            if placed is not None:
                members.append(placed)
        return Group(node.want.descriptor.digest, tuple(members))

    def direct_groups(self, roots: Sequence[Root], group_direct: bool) -> list[Group]:
        """Root manifests, grouped by their names (a layout) or one group each (a registry's tags)."""
        by_names: dict[tuple[str, ...] | Root, dict[str, list[Root]]] = {}
        for root in roots:
            node = self.nodes[root.descriptor.digest]
            if node.index is None:
                key = root.names if group_direct else root
                by_names.setdefault(key, {}).setdefault(root.descriptor.digest, []).append(root)
        groups = []
        for per_digest in by_names.values():
            members = []
            for digest, same in per_digest.items():
                placed = self.place(same[0].descriptor, self.nodes[digest], tuple(same))
                if placed is not None:
                    members.append(placed)
            implied = implied_index_digest([m.descriptor for m in members]) if len(members) > 1 else ""
            groups.append(Group(implied, tuple(members), direct=True))
        return groups

    def place(self, entry: Descriptor, node: _Node | None, roots: tuple[Root, ...]) -> Placed | None:
        """An image manifest placed, or None for an artifact (recorded as one)."""
        manifest = node.manifest if node is not None else None
        names = [name for root in roots for name in root.names]
        kind = media.artifact_kind(entry, manifest, names)
        if kind is not None:
            scope = roots[0].scope if roots else ""
            self.artifacts.append(
                Artifact(kind, entry.digest, media.subject_of(entry, manifest, names), scope=scope)
            )
            return None
        config = None
        if manifest is not None:
            found = self.configs.get(manifest.config.digest)
            if isinstance(found, Unread) and found.fault():
                self.problems.append(Problem(found.code, found.reason, manifest.config.digest, roots))
            config = found if isinstance(found, bytes) else None
        return Placed(entry, manifest, config, roots)

    def problem(self, node: _Node, code: str, reason: str) -> None:
        digest = node.want.descriptor.digest
        is_root = any(root.descriptor.digest == digest for root in node.roots)
        self.problems.append(Problem(code, reason, digest, tuple(node.roots), is_root))


def implied_index_digest(descriptors: Iterable[Descriptor]) -> str:
    """The digest of the index that ``descriptors`` (platform manifests listed one by one under
    the same names) would make: no such blob exists, but the group needs one identity, and
    this one is the same whenever the same manifests are listed."""
    manifests = [
        {
            "mediaType": d.media_type,
            "digest": d.digest,
            "size": d.size,
            **({"platform": _platform_json(d.platform)} if d.platform else {}),
        }
        for d in sorted(descriptors, key=lambda d: d.digest)
    ]
    index = {"schemaVersion": 2, "mediaType": media.OCI_INDEX, "manifests": manifests}
    raw = json.dumps(index, separators=(",", ":"), sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _platform_json(platform: Platform) -> Mapping[str, str]:
    fields = {"os": platform.os, "architecture": platform.architecture, "variant": platform.variant}
    return {key: value for key, value in fields.items() if value}
