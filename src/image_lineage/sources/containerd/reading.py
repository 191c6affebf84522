"""Reading what a containerd listing names (``source.ContainerdList.scan``): each namespace's
images as the roots of the OCI walker (``sources/oci/walk.py``), which reads indexes, manifests
and configs from the content store through ``ContainerdBlobs`` (``blobs.py``, through the blob
cache), then one record per present platform (``sources/oci/records.py``).

Apart from ``source.py`` so that an answer kept for an unchanged listing (``cli_memo``) loads
none of it.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime

from image_lineage import reference
from image_lineage.cache import BlobCache, default_cache_dir
from image_lineage.errors import SourceUnavailable
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.reference import Reference
from image_lineage.sources import oci
from image_lineage.sources.base import Progress
from image_lineage.sources.containerd.blobs import ContainerdBlobs
from image_lineage.sources.containerd.client import Client, ListedImage
from image_lineage.sources.oci.descriptor import Manifest
from image_lineage.sources.oci.records import ImageMaker, images_of
from image_lineage.sources.oci.walk import Placed, Root, Walked, walk

#: The name Docker's containerd store gives an image with no tag left (``docker images``: <none>).
_DANGLING = "moby-dangling"


def read(
    client: Client,
    images: dict[str, list[ListedImage]],
    *,
    every: bool,
    version: str,
    use_cache: bool,
    progress: Progress | None,
) -> tuple[Scan, ContainerdBlobs]:
    """The records of the images listed (by namespace), and the blob source that read them
    (what it found gone, what the cache held back). ``every``: ``?namespace=all``."""
    namespaces = list(images)
    address = client.address
    with ExitStack() as stack:
        caches = {
            ns: stack.enter_context(BlobCache(default_cache_dir(), f"containerd {address} {ns}"))
            for ns in namespaces
            if use_cache
        }
        roots = [root for ns in namespaces for root in _roots(images[ns], ns)]
        if progress:
            progress(0, len(roots))
        blobs = ContainerdBlobs(client, caches, namespaces if every else ())
        walked = walk(blobs, roots, SourceUnavailable, group_direct=False)
        if progress:
            progress(len(roots), len(roots))
    return _scan(walked, address, namespaces, every, version), blobs


def _roots(images: list[ListedImage], namespace: str) -> list[Root]:
    """A namespace's images as walk roots: a tag's name as ``docker images`` shows it, none for a
    name by digest alone (``repo@sha256:...``), Docker's dangling images, or a name that is no
    reference."""
    roots = []
    for image in images:
        name = image.name
        found = Reference.parse(name)
        tagged = found is not None and bool(found.tag) and not name.startswith(_DANGLING)
        roots.append(Root(image.target, (reference.familiar(name),) if tagged else (), namespace))
    return roots


def _scan(walked: Walked, address: str, namespaces: list[str], every: bool, version: str) -> Scan:
    shown = "all" if every else ",".join(namespaces)
    endpoint = f"{address}?namespace={shown}"
    maker = ImageMaker(endpoint, SourceUnavailable)

    def record(placed: Placed, manifest: Manifest, raw: bytes) -> Image:
        sizes = [layer.size for layer in manifest.layers]
        image = maker.make(raw, manifest.config.digest, placed.names, sizes)
        digests = tuple(  # as the engine's RepoDigests: each name's repository @ the digest it points at
            f"{reference.repository(name)}@{root.descriptor.digest}"
            for root in placed.roots
            for name in root.names
        )
        return replace(
            image, digests=digests, manifest_digest=placed.descriptor.digest, size_kind="compressed"
        )

    images = images_of(walked, record)
    if every:
        found_in = _found_in(walked, address)
        images = {key: replace(image, found_in=found_in[key]) for key, image in images.items()}
    notes = [
        Diagnostic(
            None, problem.code, f"{_where(problem.roots, problem.digest, problem.is_root)}: {problem.reason}"
        )
        for problem in walked.problems
    ]
    notes.append(
        Diagnostic(
            None, "containerd_sizes", "sizes are the compressed layer blobs in containerd's content store"
        )
    )
    if not namespaces:
        notes.append(Diagnostic(None, "containerd_empty", f"the containerd at {address} holds no image"))
    notes += oci.artifact_notes(oci.attach_artifacts(walked.artifacts, images.values()), "containerd")
    info = SourceInfo(
        kind="containerd", endpoint=endpoint, engine_version=version, scanned_at=datetime.now(UTC)
    )
    ordered = tuple(images[key] for key in sorted(images))
    return Scan(source=info, images=ordered, diagnostics=tuple(dict.fromkeys(notes)))


def _found_in(walked: Walked, address: str) -> dict[str, tuple[str, ...]]:
    """Each record's id -> the namespaces whose images lead to it, as source labels."""
    namespaces: dict[str, set[str]] = {}
    for group in walked.groups:
        for placed in group.members:
            if placed.manifest is not None:
                found = namespaces.setdefault(placed.manifest.config.digest, set())
                found.update(root.scope for root in placed.roots)
    return {
        image_id: tuple(f"containerd {address}?namespace={ns}" for ns in sorted(found))
        for image_id, found in namespaces.items()
    }


def _where(roots: tuple[Root, ...], digest: str, is_root: bool) -> str:
    """What a problem is about: the image named (and the blob, when it is not the image's own)."""
    root = roots[0] if roots else None
    name = root.names[0] if root and root.names else root.descriptor.digest if root else digest
    where = f"{name} in namespace {root.scope}" if root else name
    return where if is_root else f"{where} ({digest})"
