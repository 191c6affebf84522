"""The referrers a registry keeps for its images (OCI distribution-spec 1.1), as the walker's roots.

Two ways, one result: a registry **without** the referrers API keeps an image's referrers in
an index tagged ``sha256-<hex>`` (the "referrers tag schema"): the scan's tag list says where
one exists, the walker reads it as any tag, and :func:`without_referrer_lists` keeps its
artifacts but no image of it (such a tag names no image of the user's). A registry **with**
the API answers ``GET /v2/NAME/referrers/DIGEST`` with an image index of the referrers'
descriptors (``artifactType``, annotations; ``Link`` pages): :func:`referrer_roots` asks it
for each image manifest, once a probe (:func:`referrers_of`, beside the walk) has shown the
API is there, and gives the listed descriptors to the walker as roots. No ``artifactType``
filter is asked for (provenance comes as in-toto and as DSSE artifacts: one unfiltered list
has both), so the ``OCI-Filters-Applied`` header never applies. Each referrer is attached by
its own manifest's ``subject``, never by the list that named it. What is broken is a note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from image_lineage.errors import LineageError
from image_lineage.model import Diagnostic
from image_lineage.sources.oci import media
from image_lineage.sources.oci.descriptor import Descriptor, Malformed, parse_index, parse_json
from image_lineage.sources.oci.walk import Root, Walked
from image_lineage.sources.registry_client import RegistryClient

#: Referrers read from the referrers API, at most: per image (a real one has a handful), per scan.
MAX_REFERRERS = 1_000
MAX_LISTED_REFERRERS = 10_000

#: The referrers API's pages for one manifest; None where the registry has no such API, or
#: why it could not answer.
Referrers = list[bytes] | LineageError | None
#: (repository, manifest digest): what the referrers API is asked about.
Subject = tuple[str, str]


def referrers_of(client: RegistryClient, scope: str, digest: str) -> Referrers:
    """The referrers API's pages for one manifest (None: the registry has no such API), or why
    it could not answer: a referrers list is evidence, never a reason to end the scan."""
    try:
        return client.referrers(scope, digest)
    except LineageError as error:
        return error


def without_referrer_lists(walked: Walked) -> Walked:
    """The walk without the images that only a ``sha256-<hex>`` tag's index reaches: that index
    lists an image's referrers (its entries are artifacts, kept), it names no image of the user's."""
    groups = []
    for group in walked.groups:
        members = tuple(
            replace(placed, roots=kept)
            for placed in group.members
            if (kept := tuple(r for r in placed.roots if not _lists_referrers(r, placed.descriptor.digest)))
        )
        if members:
            groups.append(replace(group, members=members))
    return replace(walked, groups=tuple(groups))


def referrer_roots(
    client: RegistryClient,
    ask: Callable[[Callable[[Subject], Referrers], Sequence[Subject]], list[Referrers]],
    walked: Walked,
    probed: Mapping[Subject, Referrers],
    notes: list[Diagnostic],
) -> list[Root]:
    """The referrers the API lists for each image manifest of the walk, as roots for the walker;
    none where the probe's answer (``probed``) says the registry has no API. ``ask`` runs the
    requests side by side (the scan's pool)."""
    (scope, _), answer = next(iter(probed.items()), (("", ""), None))
    if isinstance(answer, LineageError):
        why = f"its referrers API could not be asked ({answer}); referrers are read from tags only"
        notes.append(Diagnostic(None, "referrers_unreadable", f"{client.host}/{scope}: {why}"))
    if not isinstance(answer, list):
        return []  # no referrers API here: referrers only from sha256-<hex> tags
    subjects = list(
        dict.fromkeys(
            (placed.roots[0].scope, placed.descriptor.digest)
            for group in walked.groups
            for placed in group.members
            if placed.manifest is not None and placed.roots
        )
    )
    asked = [subject for subject in subjects if subject not in probed]
    answers = {
        **dict(zip(asked, ask(lambda item: referrers_of(client, *item), asked), strict=True)),
        **probed,
    }
    roots: dict[str, Root] = {}
    for scope, digest in subjects:
        pages = answers.get((scope, digest))
        where = f"{client.host}/{scope}@{digest}"
        if isinstance(pages, LineageError):
            notes.append(Diagnostic(None, "referrers_unreadable", f"{where}: its referrers: {pages}"))
        for descriptor in _listed(pages if isinstance(pages, list) else [], where, notes):
            if len(roots) >= MAX_LISTED_REFERRERS:
                cut = f"the referrers API lists over {MAX_LISTED_REFERRERS:,} referrers: not all read"
                notes.append(Diagnostic(None, "registry_cut", cut))
                return list(roots.values())
            roots.setdefault(descriptor.digest, Root(descriptor, (f"{where} (its referrers)",), scope))
    return list(roots.values())


def _lists_referrers(root: Root, reached: str) -> bool:
    """Whether ``root`` is a ``sha256-<hex>`` tag's index (the tag schema's referrers list) through
    which the manifest ``reached`` was found. The same name on the image manifest itself (the
    root is what was reached) lists nothing: that image is the user's, shown as any other."""
    return root.descriptor.digest != reached and any(
        media.is_referrers_tag(name.rsplit(":", 1)[-1]) for name in root.names
    )


def _listed(pages: Sequence[bytes], where: str, notes: list[Diagnostic]) -> list[Descriptor]:
    """The referrers' descriptors the referrers API's pages list, at most ``MAX_REFERRERS``;
    a page that is no index, or entries that are no descriptors, are a note."""
    listed: list[Descriptor] = []
    for page in pages:
        try:
            index = parse_index(parse_json(page, "its referrers list"), "its referrers list")
        except Malformed as why:
            notes.append(Diagnostic(None, "referrers_unreadable", f"{where}: {why}"))
            continue
        if index.skipped:
            skipped = f"{len(index.skipped)} entries of its referrers list skipped ({index.skipped[0]})"
            notes.append(Diagnostic(None, "index_entry_skipped", f"{where}: {skipped}"))
        listed += index.manifests
    if len(listed) > MAX_REFERRERS:
        cut = f"{where}: {len(listed):,} referrers listed, only {MAX_REFERRERS:,} read"
        notes.append(Diagnostic(None, "registry_cut", cut))
    return listed[:MAX_REFERRERS]
