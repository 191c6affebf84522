"""``stale --resolve``: what a base reference's tag names now, asked of the registry it names.

One ``HEAD`` per distinct reference (``Docker-Content-Digest``), nothing pulled, credentials as
for any registry source (``registry_auth``). Off by default: ``stale`` reaches no network
unasked. A registry that cannot answer is a diagnostic, never the end of the report.
"""

from __future__ import annotations

from collections.abc import Iterable

from image_lineage.errors import LineageError
from image_lineage.model import Diagnostic
from image_lineage.reference import DOCKER_HUB, Reference
from image_lineage.sources.registry_client import RegistryClient

#: Where Docker Hub's registry API answers (``docker.io`` names it in references).
HUB_REGISTRY = "registry-1.docker.io"
#: Hosts spoken to in plain HTTP, as docker itself does for them.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def resolve_tags(references: Iterable[str], timeout: float) -> tuple[dict[str, str], list[Diagnostic]]:
    """Each reference's digest now (by its text as given), and a note for each that got none."""
    found: dict[str, str] = {}
    notes: list[Diagnostic] = []
    clients: dict[str, RegistryClient] = {}
    for text in sorted(set(references)):
        reference = Reference.parse(text)
        if reference is None or not reference.tag:
            continue  # pinned by digest, or no reference: nothing to ask
        host = HUB_REGISTRY if reference.host == DOCKER_HUB else reference.host
        scheme = "http" if host.rsplit(":", 1)[0] in _LOCAL_HOSTS else "https"
        try:
            client = clients.get(host) or clients.setdefault(
                host, RegistryClient(f"{scheme}://{host}", timeout)
            )
            found[text], _ = client.tag_digest(reference.repository, reference.tag)
        except LineageError as error:
            notes.append(Diagnostic(None, "resolve_failed", f"{text}: {error}"))
    return found, notes
