"""Image sources behind one small interface, chosen by a spec string.

``docker`` (the default; honours ``DOCKER_HOST``), ``docker:unix:///path`` or
``docker:tcp://host:port`` for an explicit endpoint (or the address alone, as ``docker -H``
takes it: ``unix:///path``, ``tcp://host:port``, ``ssh://host``); ``podman`` (honours
``CONTAINER_HOST``) or ``podman:ENDPOINT``; ``containerd[:SOCKET][?namespace=NS]`` for
containerd's own images (``sources/containerd/``); ``archive:PATH`` for a ``docker save``
archive or an OCI layout (tar, compressed tar or directory); ``registry:URL`` for an OCI
distribution registry; ``snapshot:PATH`` for a snapshot file; ``sample`` for the bundled
sample stack. Only modules in this package and the HTTP layer (``image_lineage.net``) import
``docker`` or speak to a server. Several specs read as one scan (``scan_sources``): their
records merge by image identity (``merge.py``) before lineage runs. A source also lists an
image's layers from its own blobs (``Source.read_layers``; ``layers.py``): snapshots and the
sample keep records only, and say so in one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from image_lineage.errors import Hint, LineageError, SourceUnavailable
from image_lineage.model import Image, Scan
from image_lineage.sources.base import DEFAULT_TIMEOUT, Progress
from image_lineage.sources.engine import DockerEngineSource
from image_lineage.sources.merge import MERGED, merge_scans, source_label, source_labels
from image_lineage.sources.podman import podman_source

if TYPE_CHECKING:
    from image_lineage.sources.layers import Listings
    from image_lineage.sources.oci.layer_tar import Listing

__all__ = [
    "DEFAULT_TIMEOUT",
    "MERGED",
    "SPEC_HELP",
    "Progress",
    "SampleSource",
    "SnapshotSource",
    "Source",
    "engine_spec",
    "merge_scans",
    "open_source",
    "scan_auto",
    "scan_sources",
    "source_label",
    "source_labels",
]
SPEC_HELP = (
    "docker (default, honours DOCKER_HOST), docker:ENDPOINT or the ENDPOINT alone (unix:///PATH, "
    "tcp://HOST:PORT, ssh://HOST), podman (honours CONTAINER_HOST), "
    "podman:ENDPOINT, containerd[:SOCKET][?namespace=NS|all], archive:PATH (docker save / OCI layout tar), "
    "registry:URL, snapshot:PATH, sample"
)


class Source(Protocol):
    """Where images are read from: their records (``scan``) and, from the same source, the
    contents of an image's layers (``read_layers``)."""

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan: ...

    def read_layers(self, image: Image, listings: Listings) -> list[Listing]:
        """The listings of ``image``'s layers (oldest first), each layer ``listings`` does not
        know read from this source's own blobs and kept there; a source that keeps records
        only raises ``records_only``'s one line. Features call ``layers.image_layers``."""
        ...


@dataclass(frozen=True, slots=True)
class SnapshotSource:
    path: Path

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        from image_lineage.sources import snapshot  # noqa: PLC0415 - not needed to read an engine

        return _select(snapshot.load(self.path), include_intermediate)

    def read_layers(self, image: Image, listings: Listings) -> list[Listing]:
        from image_lineage.sources.layers import records_only  # noqa: PLC0415 - only files asks

        raise records_only(f"snapshot:{self.path}")


@dataclass(frozen=True, slots=True)
class SampleSource:
    """The Jupyter-like stack recorded from ``sample_images/`` and shipped with the package."""

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        from image_lineage.sources import snapshot  # noqa: PLC0415 - not needed to read an engine

        text = resources.files("image_lineage").joinpath("data/sample-snapshot.json").read_bytes()
        scan = snapshot.loads(text, origin="the bundled sample")
        return _select(replace(scan, source=replace(scan.source, kind="sample")), include_intermediate)

    def read_layers(self, image: Image, listings: Listings) -> list[Listing]:
        from image_lineage.sources.layers import records_only  # noqa: PLC0415 - only files asks

        raise records_only("sample")


def _select(scan: Scan, include_intermediate: bool) -> Scan:
    """A snapshot may hold intermediate images; show them only when asked, like the engine."""
    if include_intermediate:
        return scan
    return replace(scan, images=tuple(i for i in scan.images if not i.intermediate))


def scan_auto(
    *,
    include_intermediate: bool = False,
    progress: Progress | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    use_cache: bool = True,
) -> tuple[Scan, SourceUnavailable | None]:
    """The ``auto`` source, decided here for every front end: the local engine, else the sample.

    Returns the scan and, when the engine could not be read, why: each front end tells
    the user in its own words that it fell back to the sample.
    """
    try:
        engine = open_source("docker", timeout=timeout, use_cache=use_cache)
        return engine.scan(include_intermediate=include_intermediate, progress=progress), None
    except SourceUnavailable as error:
        return SampleSource().scan(include_intermediate=include_intermediate), error


# An engine's address given alone names a Docker Engine, as ``docker -H ADDRESS`` does.
ENGINE_SCHEMES = ("unix://", "tcp://", "ssh://")
# An address both an engine and a registry may have: which one is meant must be said.
_EITHER_SCHEMES = ("http://", "https://")


def engine_spec(spec: str) -> str:
    """``spec`` with an engine address alone written as the docker source at that address."""
    if spec.lower().startswith(ENGINE_SCHEMES):
        return f"docker:{spec}"
    if spec.lower().startswith(_EITHER_SCHEMES):
        raise LineageError(
            f"{spec!r} may be a Docker Engine or a registry: write docker:{spec} or registry:{spec}."
        )
    return spec


def open_source(  # noqa: PLR0911 - one return per kind of source
    spec: str, *, timeout: float = DEFAULT_TIMEOUT, use_cache: bool = True
) -> Source:
    """``spec`` as given to ``--source``; raises ``LineageError`` for an unknown one."""
    kind, _, rest = engine_spec(spec).partition(":")
    if kind == "docker":
        return DockerEngineSource(endpoint=rest or None, timeout=timeout, use_cache=use_cache)
    if kind == "podman":
        return podman_source(rest or None, timeout=timeout, use_cache=use_cache)
    if kind == "snapshot" and rest:
        return SnapshotSource(Path(rest))
    # Imported on use: a warm scan of a local engine should not pay for tarfile or urllib.
    if kind == "archive" and rest:
        from image_lineage.sources.archive import ArchiveSource  # noqa: PLC0415

        return ArchiveSource(Path(rest))
    if kind == "registry":
        if not rest.strip():
            raise LineageError("No registry address was given.", hint=Hint.REGISTRY_ADDRESS)
        from image_lineage.sources.registry import RegistrySource  # noqa: PLC0415

        return RegistrySource(rest.strip(), timeout=timeout, use_cache=use_cache)
    if kind == "containerd" or kind.startswith("containerd?"):  # containerd?namespace=NS: no address
        rest = spec.removeprefix("containerd").removeprefix(":")
        from image_lineage.sources.containerd.address import parse_spec  # noqa: PLC0415 - grpc: only here
        from image_lineage.sources.containerd.source import ContainerdSource  # noqa: PLC0415

        return ContainerdSource(parse_spec(rest), timeout=timeout, use_cache=use_cache)
    if spec == "sample":
        return SampleSource()
    raise LineageError(f"Unknown source {spec!r}.", hint=Hint.CHOOSE_SOURCE)


def scan_sources(
    specs: Sequence[str],
    *,
    include_intermediate: bool = False,
    progress: Progress | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    use_cache: bool = True,
) -> Scan:
    """Read every spec (a spec given twice is read once) and merge them: ``merge_scans``.

    The sources are read one after another, in the order given. A source that fails
    fails the whole reading: a tree missing one source's images would look complete, so
    the error is raised, its message led by the spec that failed when there are several
    (same class, same hint). ``auto`` (an engine, else the sample) only reads alone.
    """
    wanted = list(dict.fromkeys(spec.strip() for spec in specs))
    if not wanted:
        raise LineageError("No source was given.", hint=Hint.CHOOSE_SOURCE)
    if "auto" in wanted and len(wanted) > 1:
        raise LineageError(
            "auto reads an engine or else the sample, so it is read alone; with other sources, "
            "name the engine (docker).",
        )
    scans = []
    for spec in wanted:
        try:
            if spec == "auto":
                scans.append(
                    scan_auto(
                        include_intermediate=include_intermediate,
                        progress=progress,
                        timeout=timeout,
                        use_cache=use_cache,
                    )[0]
                )
                continue
            source = open_source(spec, timeout=timeout, use_cache=use_cache)
            scans.append(source.scan(include_intermediate=include_intermediate, progress=progress))
        except LineageError as error:
            if len(wanted) == 1:
                raise
            raise type(error)(f"{spec}: {str(error).rstrip()}", hint=error.hint) from error
    return merge_scans(scans)
