"""Reading sources for the page: the source radio's choices, one cached reading per spec
(with a progress bar once it takes a moment), the line saying where the images come from,
and several readings merged into one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from image_lineage.errors import LineageError, SnapshotError
from image_lineage.model import Scan, SourceInfo
from image_lineage.sources import MERGED, SampleSource, merge_scans, open_source, scan_auto, snapshot
from image_lineage.views import select_images
from image_lineage.web.memo import by_identity
from image_lineage.web.wording import fallback_note, problem_text

SCAN_TTL_SECONDS = 60


PROGRESS_DELAY_SECONDS = 0.3


UPLOAD_NAME = "the uploaded file"


# The source radio's options: what the page says for each.
SOURCES = {
    "auto": "This machine's Docker Engine (the sample if none answers)",
    "docker": "A Docker Engine at an address",
    "registry": "An image registry (its address)",
    "containerd": "This machine's containerd (a Kubernetes node, nerdctl)",
    "sample": "The bundled sample images",
    "upload": "A snapshot file (image-lineage snapshot)",
}


MORE_SOURCES = ("docker", "registry", "containerd", "upload", "sample")  # what "Add more sources" offers


@dataclass(frozen=True, slots=True)
class Loaded:
    """What reading a source gave: a scan, or the reason there is none.

    ``note`` is something to know about a scan that *was* read, such as the sample
    standing in for an engine that did not answer. A scan read from an uploaded
    snapshot keeps the source it was recorded from; ``file`` names the upload.
    """

    scan: Scan | None
    problem: str | None = None
    note: str | None = None
    file: str | None = None  # the uploaded snapshot file's name, when the scan came from one


def no_upload_text() -> str:
    """What the page says while no snapshot file has been read: also when the uploader refused
    one (too big: the browser never sends it, and says why under the uploader)."""
    limit = int(st.get_option("server.maxUploadSize"))
    return (
        f"No snapshot file has been read: choose one under “Snapshot file” in the sidebar. Files up "
        f"to {limit} MB are read (a snapshot of 20,000 images takes 40 to 90 MB); the uploader "
        "refuses a larger one and says so under its name."
    )


def source_spec(choice: str, endpoint: str = "") -> str:
    """The spec ``read_source`` takes for a choice of the source radio (not ``upload``).

    ``containerd`` is read where ``CONTAINERD_ADDRESS``/``CONTAINERD_NAMESPACE`` say, else at its
    usual socket and namespace (the CLI names others).
    """
    if choice == "docker":
        return f"docker:{endpoint.strip()}" if endpoint.strip() else "docker"
    if choice == "registry":
        return f"registry:{endpoint.strip()}"
    return choice


def read_source(
    spec: str | bytes,
    *,
    include_intermediate: bool = False,
    name: str = UPLOAD_NAME,
    progress: Callable[[int, int], None] | None = None,
) -> Loaded:
    """Read images from ``spec``: ``auto``, a ``--source`` spec, or a snapshot file's bytes.

    ``auto`` reads the local engine (``DOCKER_HOST`` or the default socket) and falls
    back to the bundled sample, with a note, when no engine answers. Expected
    failures become ``Loaded.problem``; this never raises a ``LineageError``.
    """
    try:
        if isinstance(spec, bytes):
            scan = snapshot.loads(spec, origin=name)
            images = tuple(select_images(scan.images, intermediate=include_intermediate))
            return Loaded(replace(scan, images=images), file=name)
        if spec == "auto":
            scan, fallback = scan_auto(include_intermediate=include_intermediate, progress=progress)
            if fallback is None:
                return Loaded(scan)
            return Loaded(scan, note=fallback_note(fallback))
        if spec == "sample":
            return Loaded(_sample(include_intermediate))
        source = open_source(spec)
        return Loaded(source.scan(include_intermediate=include_intermediate, progress=progress))
    except LineageError as error:
        return Loaded(None, problem=problem_text(error))


def _sample(include_intermediate: bool) -> Scan:
    try:
        return SampleSource().scan(include_intermediate=include_intermediate)
    except OSError as error:
        raise SnapshotError(
            f"The bundled sample is missing from this installation ({error.strerror or error}): "
            "reinstall image-lineage, or run make sample."
        ) from error


@st.cache_resource(ttl=SCAN_TTL_SECONDS, show_spinner=False, max_entries=16)
def load(spec: str | bytes, include_intermediate: bool = False, name: str = UPLOAD_NAME) -> Loaded:
    """``read_source``, cached for ``SCAN_TTL_SECONDS``; a slow scan shows a progress bar.

    Failures are cached too, so a dead engine is not asked again on every click:
    the page's Refresh button calls ``load.clear()``. The one ``Loaded`` is shared, not
    copied (its records are frozen): unpickling a copy of 1,000 images took 0.3 s a rerun.
    """
    meter = _ProgressBar()
    try:
        return read_source(spec, include_intermediate=include_intermediate, name=name, progress=meter)
    finally:
        meter.close()


class _ProgressBar:
    """A progress bar that appears only once a scan has taken a moment.

    It is drawn from inside the cached ``load``, so Streamlit records it with the
    result and replays it (created, then removed) on a cache hit.
    """

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._bar: DeltaGenerator | None = None
        self._shown = -1.0

    def __call__(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        if self._bar is None and time.monotonic() - self._started < PROGRESS_DELAY_SECONDS:
            return
        if self._bar is not None and fraction - self._shown < 0.02 and done != total:
            return
        self._shown = fraction
        text = f"Reading images: {done} of {total}"
        if self._bar is None:
            self._bar = st.progress(fraction, text=text)
        else:
            self._bar.progress(fraction, text=text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.empty()


# SourceInfo.kind -> its name
ENGINES = {"docker": "Docker Engine", "podman": "Podman service", "containerd": "containerd"}


def describe_source(source: SourceInfo, file: str | None = None) -> str:
    """One line saying where the images come from, in plain text (pass through ``plain``).

    ``file``: the name of the uploaded snapshot the scan was read from; ``source`` is
    then where that snapshot was recorded.
    """
    when = f"{source.scanned_at:%Y-%m-%d %H:%M} UTC"
    if source.kind == "sample":
        where = f"The bundled sample images (recorded {when})."
    elif source.kind in ENGINES:
        version = f" {source.engine_version}" if source.engine_version else ""
        where = f"{ENGINES[source.kind]}{version} at {source.endpoint}, read at {when}."
    elif source.kind == "registry":
        where = f"Image registry at {source.endpoint}, read at {when}."
    elif source.kind == "archive":
        where = f"Image archive {source.endpoint}, read at {when}."
    elif source.kind == "snapshot":
        where = f"Snapshot file {source.endpoint}, read at {when}."
    elif source.kind == MERGED:
        where = (
            f"Images from {len(source.endpoint.split('; '))} sources ({source.endpoint}), read from {when}."
        )
    else:
        where = f"Images from {source.endpoint or source.kind}, read at {when}."
    if file is None:
        return where
    return f"Snapshot file {file}: {where}"


def merge_loaded(parts: list[tuple[str, Loaded]]) -> Loaded:
    """``build_merged``, computed once per set of readings (see ``make_view``).

    The readings come from the cached ``load``, so the same ones are the same objects from one
    rerun to the next; a fresh merge each rerun would make every memo keyed by it miss.
    """
    if len(parts) == 1:
        return parts[0][1]
    return _merged(*(loaded for _, loaded in parts), names=tuple(name for name, _ in parts))


@by_identity(max_entries=4)
def _merged(*readings: Loaded, names: tuple[str, ...]) -> Loaded:
    return build_merged(list(zip(names, readings, strict=True)))


def build_merged(parts: list[tuple[str, Loaded]]) -> Loaded:
    """Several sources' readings as one (``sources.merge_scans``): the same image in two is one.

    ``parts``: what the page calls each source, and what reading it gave. One that failed
    fails them all, named (a tree missing one source's images would look complete). An
    uploaded snapshot counts as the file it is, not the machine it was recorded on.
    """
    if len(parts) == 1:
        return parts[0][1]
    scans = []
    for name, loaded in parts:
        if loaded.scan is None:
            return Loaded(None, problem=f"{name}: {loaded.problem or 'nothing was read.'}")
        scan = loaded.scan
        if loaded.file is not None:
            scan = replace(
                scan, source=SourceInfo("snapshot", loaded.file, scanned_at=scan.source.scanned_at)
            )
        scans.append(scan)
    notes = " ".join(loaded.note for _, loaded in parts if loaded.note)
    return Loaded(merge_scans(scans), note=notes or None)
