"""What the Streamlit page (``app.py``) calls: cached scans and the page's view-model.

The page only lays out widgets. Everything it shows is computed here or in the
core: which images a set of widget values selects (``make_view``), the numbers,
tables, chart data and texts of one image (``image_details``), and the files
offered for download (``export``). Only this module and ``app.py`` import Streamlit;
the functions without ``st`` in them are plain Python and unit-tested as such.

Image data is untrusted: it reaches the page only through ``code_span`` and
``plain`` (Markdown made inert), tables, code blocks and the escaped DOT, never
through HTML.
"""

from __future__ import annotations

import re
import shutil
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

try:
    import altair as alt
    import streamlit as st
    from streamlit.delta_generator import DeltaGenerator
except ModuleNotFoundError as missing:  # the CLI installs without them
    raise ModuleNotFoundError(f"{missing}: the web app needs pip install 'image-lineage[app]'") from missing

from image_lineage import pipeline, platforms
from image_lineage.errors import Hint, LineageError, SnapshotError, with_remedy
from image_lineage.insights import (
    DiskUsage,
    LayerRow,
    NewerBuild,
    SizeShare,
    disk_usage,
    dockerfile,
    layer_rows,
    newer_build,
    size_split,
)
from image_lineage.lineage import Lineage, Node
from image_lineage.messages import one_line
from image_lineage.model import Scan, SourceInfo
from image_lineage.render import render
from image_lineage.render.common import (
    added_summary,
    clean_text,
    human_size,
    names_platforms,
    source_names,
)
from image_lineage.sources import MERGED, SampleSource, merge_scans, open_source, scan_auto, snapshot
from image_lineage.views import (
    platforms_of,
    select_images,
)

SCAN_TTL_SECONDS = 60
PROGRESS_DELAY_SECONDS = 0.3
UPLOAD_NAME = "the uploaded file"

# The source radio's options: what the page says for each.
SOURCES = {
    "auto": "This machine's Docker Engine (the sample if none answers)",
    "docker": "A Docker Engine at an address",
    "registry": "An image registry (its address)",
    "sample": "The bundled sample images",
    "upload": "A snapshot file (image-lineage snapshot)",
}
MORE_SOURCES = ("docker", "registry", "upload", "sample")  # what "Add more sources" offers
RANKDIRS = {"TB": "Top to bottom", "LR": "Left to right"}
SPLIT_ROLES = {"base": "base image", "ancestor": "ancestor", "itself": "this image"}
SPLIT_COLOURS = ["#3b73b9", "#9dbde3", "#d9480f"]

# The favicon: a file shipped in the package, sent to the browser inline. An emoji or a
# :material/...: icon would make the browser fetch it from a font CDN, and nothing here
# may leave the machine.
PAGE_ICON = str(resources.files("image_lineage").joinpath("static/icon.svg"))
TAGLINE = "Which container image is built on which, and what each one adds."
COLUMNS = (3, 2)  # with an image picked: the graph's width, the inspector's


# --------------------------------------------------------------------------- reading a source


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


def source_spec(choice: str, endpoint: str = "") -> str:
    """The spec ``read_source`` takes for a choice of the source radio (not ``upload``)."""
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


# How the page words each remedy an error names (the terminal words them as flags). Each
# quotes the label of a widget on the page; tests/test_app.py checks that the page has it.
HINTS = {
    Hint.TRY_SAMPLE: "or choose “The bundled sample images” under “Where are the images?” in the sidebar",
    Hint.RAISE_TIMEOUT: "or press “Refresh” in the sidebar to ask again",
    Hint.REGISTRY_ADDRESS: "type it in “Registry address” as https://HOST[:PORT][/REPOSITORY]",
    Hint.CHOOSE_CONTEXT: "type context:NAME in “Engine address”, with a name that docker context ls lists",
    Hint.ADD_SCHEME: "type “Engine address” with unix:// or tcp:// in front (tcp://HOST:2375)",
    Hint.CHOOSE_SOURCE: "choose one under “Where are the images?” in the sidebar",
    Hint.WRITE_TO_FILE: "use the buttons under “Download what is shown”",
    Hint.SHOW_ALL: "switch on “Intermediate images” in the sidebar",
    Hint.ALL_PLATFORMS: "choose “All platforms” under “Platform” in the sidebar",
}


def problem_text(error: LineageError) -> str:
    """What happened, then the remedy in the page's words: every error the page shows."""
    return one_line(error, HINTS)


def fallback_note(error: LineageError) -> str:
    """Why ``auto`` shows the sample: the engine's problem, without "try the sample"."""
    text = one_line(error, {hint: words for hint, words in HINTS.items() if hint is not Hint.TRY_SAMPLE})
    return f"{text.rstrip('.')}. Showing the bundled sample images instead."


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


@st.cache_resource
def graphviz_installed() -> bool:
    """Whether Graphviz's ``dot`` (needed for the SVG and PNG downloads) is on PATH."""
    return shutil.which("dot") is not None


ENGINES = {"docker": "Docker Engine", "podman": "Podman service"}  # SourceInfo.kind -> its name


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
    rerun to the next; a fresh merge each rerun would make every cache keyed by it miss.
    """
    if len(parts) == 1:
        return parts[0][1]
    readings = tuple(loaded for _, loaded in parts)
    held, merged = _merged_entry(tuple(name for name, _ in parts), ids_of(readings), readings)
    return merged if same_objects(held, readings) else build_merged(parts)


@st.cache_resource(max_entries=4, show_spinner=False)
def _merged_entry(
    names: tuple[str, ...],
    ids: tuple[int, ...],  # noqa: ARG001 - the cache key
    _readings: tuple[Loaded, ...],
) -> tuple[tuple[Loaded, ...], Loaded]:
    return _readings, build_merged(list(zip(names, _readings, strict=True)))


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


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True, slots=True)
class ViewOptions:
    """The widget values that decide what the page shows."""

    show_untagged: bool = True
    show_intermediate: bool = False
    collapse_chains: bool = False  # with show_intermediate: keep only where builds branch
    search: str = ""
    selected: str | None = None
    focus: bool = False
    rankdir: str = "TB"
    show_secrets: bool = False
    platform: str = "host"  # one of platform_choices: this machine's, all, or os/arch[/variant]


HOST = "host"


def platform_choices(scan: Scan) -> list[str]:
    """The platform select box's options: this machine's, all, then each platform in the scan.

    Empty when the images are of one platform (or none is known): there is nothing to choose.
    """
    present = platforms_of(scan.images)
    if len(present) < 2:  # one platform is no choice
        return []
    return [HOST, platforms.ALL, *present]


def platform_label(choice: str) -> str:
    """How the select box shows a platform choice (plain text)."""
    if choice == HOST:
        return f"This machine's ({platforms.host_platform()})"
    if choice == platforms.ALL:
        return "All platforms"
    return clean_text(choice, 60)


@dataclass(frozen=True, slots=True)
class PageView:
    """What the page shows for one scan and one set of widget values.

    ``everything``: every image the toggles let through (the selected image is
    compared with these); ``searched``: those the search keeps (the images one can
    pick); ``shown``: after focus, what the graph and the downloads show. Unless
    ``ViewOptions.show_secrets``, values that look like secrets are masked in all three.
    """

    everything: Lineage
    searched: Lineage
    shown: Lineage
    selected: str | None
    rankdir: str
    disk: DiskUsage
    search: str
    host: str = ""
    platform_note: str | None = None
    """Images of other platforms hidden by the default choice: how many, and how to see them."""
    _named: list[bool] = field(default_factory=list, init=False, repr=False, compare=False)
    """``names_platforms(everything)``, once computed: the picker labels every image with it."""

    @property
    def dot(self) -> str:
        return str(
            render(self.shown, "dot", rankdir=self.rankdir, highlight=self.selected, host_platform=self.host)
        )

    @property
    def empty_message(self) -> str | None:
        """Why the graph is empty, when it is."""
        if len(self.shown):
            return None
        if self.search.strip() and len(self.everything):
            return f"No image name contains {self.search.strip()!r}."
        return "There are no images to show."

    def choices(self) -> list[str]:
        """Ids of the images one can pick, in the tree's order."""
        return [node.id for _, node in self.searched.walk()]

    def label(self, image_id: str) -> str:
        """``name  ·  size`` for the image picker (plain text); ``name  ·  platform  ·  size``
        when the images are of several platforms (or not this machine's)."""
        image = self.everything.node(image_id).image
        if not self._named:  # one pass over the images, not one per label
            self._named.append(names_platforms(self.everything, self.host))
        named = self._named[0] and image.platform
        middle = f"  ·  {image.platform}" if named else ""
        return clean_text(f"{image.display_name}{middle}  ·  {human_size(image.size)}", 120)

    def pick(self, selected: str | None, *, focused: bool = False) -> PageView:
        """The same view with an image picked and, when ``focused``, only its family shown."""
        chosen = selected if selected in self.searched.graph else None
        if focused and chosen:
            shown, disk = family(self.searched, chosen)
        else:
            shown = self.searched
            disk = self.disk if self.shown is shown else disk_usage(shown)
        return replace(self, shown=shown, selected=chosen, disk=disk)


def make_view(scan: Scan, options: ViewOptions) -> PageView:
    """``build_view``, computed once per scan and options, then the same object on every rerun.

    A click reruns the page with the same scan (``load`` shares one object) and the same
    options: building the lineage, masking and the stale check again took most of a rerun on
    1,000 images. Views are frozen, so sharing one between reruns and sessions is safe.
    """
    host = platforms.host_platform()
    held, view = _view_entry(id(scan), options, host, scan)
    return view if held is scan else build_view(scan, options, host)


# Keyed by the scan's id (hashing 1,000 records each rerun would cost what the cache saves);
# the entry holds the scan, so while it lives no other object can have that id.
@st.cache_resource(max_entries=8, show_spinner=False)
def _view_entry(
    scan_id: int,  # noqa: ARG001 - the cache key
    options: ViewOptions,
    host: str,
    _scan: Scan,
) -> tuple[Scan, PageView]:
    return _scan, build_view(_scan, options, host)


def build_view(scan: Scan, options: ViewOptions, host: str | None = None) -> PageView:
    """What the page shows for ``scan`` and the widgets' ``options`` (``host``: this machine's
    platform, ``platforms.host_platform()`` when not given)."""
    wanted = options.search.strip()
    result = pipeline.run(
        [scan],
        pipeline.Options(
            platform=None if options.platform == HOST else options.platform,
            host=host,
            untagged=options.show_untagged,
            intermediate=options.show_intermediate,
            collapse=options.show_intermediate and options.collapse_chains,
            show_secrets=options.show_secrets,
            filter="(?i)" + re.escape(wanted) if wanted else None,  # any case, literally
        ),
    )
    note = result.selected.platforms.note()
    if note and options.platform != HOST and result.selected.platforms.images:
        note = None  # a platform chosen on purpose: what it leaves out is no news
    everything, searched, host = result.everything, result.filtered, result.selected.host
    view = PageView(
        everything=everything,
        searched=searched,
        shown=searched,
        selected=None,
        rankdir=options.rankdir if options.rankdir in RANKDIRS else "TB",
        disk=disk_usage(searched),
        search=options.search,
        host=host,
        platform_note=with_remedy(note, HINTS[Hint.ALL_PLATFORMS]) if note else None,
    )
    return view.pick(options.selected, focused=options.focus)


def family(lineage: Lineage, image_id: str) -> tuple[Lineage, DiskUsage]:
    """``focus(lineage, image_id)`` (the image, its ancestors and descendants) and its disk
    usage, once per lineage and image: a click in a focused tree keeps the same lineage shown."""
    held, result = _family_entry(id(lineage), image_id, lineage)
    if held is lineage:
        return result
    shown = pipeline.focus_on(lineage, image_id)
    return shown, disk_usage(shown)


@st.cache_resource(max_entries=8, show_spinner=False)
def _family_entry(
    lineage_id: int,  # noqa: ARG001 - the cache key
    image_id: str,
    _lineage: Lineage,
) -> tuple[Lineage, tuple[Lineage, DiskUsage]]:
    shown = pipeline.focus_on(_lineage, image_id)
    return _lineage, (shown, disk_usage(shown))


def tree_dot(view: PageView) -> str:
    """The DOT ``ui/tree.py`` draws: ``view.shown`` without the picked image's mark (the
    frame marks it), once per lineage shown. A click reruns the page on the same lineage, and
    writing the DOT of 1,000 images again took a fifth of that rerun."""
    held, dot = _dot_entry(id(view.shown), view.rankdir, view.host, view.shown)
    return dot if held is view.shown else _unmarked_dot(view.shown, view.rankdir, view.host)


@st.cache_resource(max_entries=8, show_spinner=False)
def _dot_entry(
    lineage_id: int,  # noqa: ARG001 - the cache key
    rankdir: str,
    host: str,
    _lineage: Lineage,
) -> tuple[Lineage, str]:
    return _lineage, _unmarked_dot(_lineage, rankdir, host)


def _unmarked_dot(lineage: Lineage, rankdir: str, host: str) -> str:
    return str(render(lineage, "dot", rankdir=rankdir, host_platform=host))


def ids_of(objects: tuple[object, ...]) -> tuple[int, ...]:
    """A cache key for objects too big to hash each rerun: their ids. An entry keyed by them
    must hold the objects themselves (so no other object can take an id while it lives), and
    ``same_objects`` checks them on the way out."""
    return tuple(id(thing) for thing in objects)


def same_objects(held: tuple[object, ...], objects: tuple[object, ...]) -> bool:
    return len(held) == len(objects) and all(a is b for a, b in zip(held, objects, strict=True))


# --------------------------------------------------------------------------- downloads


@dataclass(frozen=True, slots=True)
class Export:
    fmt: str
    label: str
    extension: str
    mime: str
    needs_graphviz: bool = False


EXPORTS = (
    Export("svg", "SVG", "svg", "image/svg+xml", needs_graphviz=True),
    Export("png", "PNG", "png", "image/png", needs_graphviz=True),
    Export("dot", "DOT", "dot", "text/vnd.graphviz"),
    Export("mermaid", "Mermaid", "mmd", "text/plain"),
    Export("json", "JSON", "json", "application/json"),
)


def export(view: PageView, fmt: str) -> bytes:
    """The shown graph as a file: exactly what the page draws (same lineage, same DOT)."""
    data = render(view.shown, fmt, rankdir=view.rankdir, highlight=view.selected, host_platform=view.host)
    return data.encode("utf-8") if isinstance(data, str) else data


def export_name(view: PageView, item: Export) -> str:
    suffix = ""
    if view.selected and len(view.shown) < len(view.searched):
        name = view.everything.node(view.selected).image.display_name
        suffix = "-" + re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:60]
    return f"image-lineage{suffix}.{item.extension}"


# --------------------------------------------------------------------------- one image


@dataclass(frozen=True, slots=True)
class ImageDetails:
    """Everything the page shows about the picked image."""

    node: Node
    parent_name: str | None
    rows: list[LayerRow]
    split: list[SizeShare]
    dockerfile: str
    newer: NewerBuild | None
    notes: list[str]
    found: str = ""
    """Where it was found, with each source's tags, when the images shown come from several."""

    @property
    def rebuilt(self) -> str | None:
        """The rebuilt-base warning (plain text), saying where the older build went."""
        if self.newer is None:
            return None
        if self.newer.older is None and not self.newer.itself:
            return (
                f"{self.newer.message} That older build is not in the graph: switch on "
                "Intermediate images to see it (an untagged image with children), or it was deleted."
            )
        return self.newer.message

    @property
    def summary(self) -> str:
        """One line of plain text: total size, what it adds, over which parent."""
        image = self.node.image
        over = f" over {self.parent_name}" if self.parent_name else " (a base image: no parent here)"
        return f"{human_size(image.size)} in total; {added_summary(self.node)}{over}."

    @property
    def platform_text(self) -> str:
        """Its platform and, for a multi-platform image, every platform of its index (plain text)."""
        image = self.node.image
        if not image.platform:
            return ""
        text = f"Platform {image.platform}."
        listed = sorted({clean_text(name, 40): present for name, present in image.index_platforms}.items())
        if len(listed) > 1:
            names = [name if present else f"{name} (not here)" for name, present in listed]
            text += f" Its multi-platform index names {', '.join(names[:-1])} and {names[-1]}."
        return text

    def layer_table(self) -> list[dict[str, object]]:
        """Rows for ``st.dataframe``: step, instruction, size, the image whose build made it."""
        me = self.node.id
        return [
            {
                "Step": row.number,
                "Instruction": row.instruction,
                "Size": human_size(row.size) if row.layer else "0 B (metadata)",
                "Made by": "this image" if row.introduced_by == me else row.introduced_by_name,
            }
            for row in self.rows
        ]

    def split_table(self) -> list[dict[str, object]]:
        """Rows for the size chart, base first: who added how many megabytes."""
        return [
            {
                "Image": f"{number}. {clean_text(share.name, 60)}",
                "MB": round(share.size / 1e6, 3),
                "Size": human_size(share.size),
                "Added by": SPLIT_ROLES[share.role],
            }
            for number, share in enumerate(self.split, start=1)
        ]

    def split_spec(self) -> dict[str, Any]:
        """``split_chart`` as a plain Vega-Lite spec, for ``st.vega_lite_chart``: the same picture
        without Altair building and validating its objects on each rerun (25 ms a click)."""
        x = {
            "field": "MB",
            "type": "quantitative",
            "title": "MB added",
            "axis": {"grid": False, "tickCount": 5},
        }
        y = {
            "field": "Image",
            "type": "nominal",
            "sort": None,
            "title": None,
            "axis": {"labelLimit": 200, "labelFontSize": 13, "labelOverlap": False},
        }
        tooltip = [{"field": name, "type": "nominal"} for name in ("Image", "Size", "Added by")]
        colour = {
            "field": "Added by",
            "type": "nominal",
            "scale": {"domain": list(SPLIT_ROLES.values()), "range": SPLIT_COLOURS},
            "legend": {"orient": "bottom", "direction": "vertical", "title": None, "labelFontSize": 13},
        }
        sizes = {"field": "Size", "type": "nominal"}
        return {
            "data": {"values": self.split_table()},
            "height": {"step": 30},
            "padding": {"left": 12, "right": 12},
            "layer": [
                {"mark": {"type": "bar"}, "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip}},
                {
                    "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 13},
                    "encoding": {
                        "x": x,
                        "y": y,
                        "color": {"value": "#333333"},
                        "text": sizes,
                        "tooltip": tooltip,
                    },
                },
            ],
        }

    def split_chart(self) -> alt.LayerChart:
        """A bar per image of the chain, base on top, the inspected image last, sizes at the ends."""
        data = alt.InlineData(values=self.split_table())
        bars = (
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X("MB:Q", title="MB added", axis=alt.Axis(grid=False, tickCount=5)),
                y=alt.Y(
                    "Image:N",
                    sort=None,
                    title=None,
                    axis=alt.Axis(labelLimit=200, labelFontSize=13, labelOverlap=False),
                ),
                color=alt.Color(
                    "Added by:N",
                    scale=alt.Scale(domain=list(SPLIT_ROLES.values()), range=SPLIT_COLOURS),
                    legend=alt.Legend(orient="bottom", direction="vertical", title=None, labelFontSize=13),
                ),
                tooltip=["Image:N", "Size:N", "Added by:N"],
            )
        )
        sizes = bars.mark_text(align="left", dx=4, fontSize=13).encode(
            text="Size:N", color=alt.value("#333333")
        )
        return alt.LayerChart(layer=[bars, sizes], height=alt.Step(30), padding={"left": 12, "right": 12})


def image_details(view: PageView, image_id: str) -> ImageDetails:
    """``build_image_details`` on ``view.everything``, once per lineage and image."""
    lineage = view.everything
    held, details = _details_entry(id(lineage), image_id, lineage)
    return details if held is lineage else build_image_details(lineage, image_id)


@st.cache_resource(max_entries=32, show_spinner=False)
def _details_entry(
    lineage_id: int,  # noqa: ARG001 - the cache key
    image_id: str,
    _lineage: Lineage,
) -> tuple[Lineage, ImageDetails]:
    return _lineage, build_image_details(_lineage, image_id)


def build_image_details(lineage: Lineage, image_id: str) -> ImageDetails:
    """What the inspector shows about ``image_id``, judged among every image of ``lineage``."""
    node = lineage.node(image_id)
    parent = node.parent if node.parent in lineage.graph else None
    return ImageDetails(
        node=node,
        parent_name=lineage.node(parent).image.display_name if parent else None,
        rows=layer_rows(lineage, image_id),
        split=size_split(lineage, image_id),
        dockerfile=dockerfile(lineage, image_id),
        newer=newer_build(lineage, image_id),
        notes=[d.message for d in lineage.diagnostics if d.image == image_id],
        found=found_text(node.image.found_in, node.image.tags_by_source, source_names(lineage)),
    )


def scan_notes(view: PageView) -> list[str]:
    """The scan's diagnostics about the images shown, each naming its image (plain text)."""
    lineage = view.shown
    notes = []
    for diagnostic in lineage.diagnostics:
        if diagnostic.image is None:
            notes.append(diagnostic.message)
        elif diagnostic.image in lineage.graph:
            notes.append(f"{lineage.node(diagnostic.image).image.display_name}: {diagnostic.message}")
    return notes


# --------------------------------------------------------------------------- text for the page

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def plain(text: str, limit: int | None = 2000) -> str:
    """Text from an image or a file, made inert for Streamlit Markdown (no links, no markup)."""
    return _PUNCTUATION.sub(r"\\\1", clean_text(text, limit))


def code_span(text: str, limit: int | None = 200) -> str:
    """Text as a Markdown code span: shown literally, whatever it contains."""
    cleaned = clean_text(text, limit)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", cleaned)), default=0) + 1)
    return f"{fence} {cleaned} {fence}"


# Classroom mode: one short explanation beside each thing the page shows.
CLASSROOM = {
    "layer": (
        "**What is a layer?** Each build step that changes files (`RUN`, `COPY`, `ADD`) "
        "saves those changes as a *layer*: a read-only archive of files. An image is a "
        "stack of layers, oldest at the bottom, plus some settings."
    ),
    "sharing": (
        "**Why do children share their parent's layers?** `FROM parent` starts a build "
        "from the parent's layers as they are; the child only adds layers on top. The "
        "engine stores each layer once, so every image in a family shares the layers of "
        "its ancestors. An arrow here means: the child starts with all of the parent's "
        "layers, and the label says what it adds."
    ),
    "sizes": (
        "**Why don't `docker images` sizes add up?** Each image's size counts all of its "
        "layers, including those it shares with its parent, its siblings and its "
        "children. Adding those sizes counts shared layers many times; the disk holds "
        "each layer once."
    ),
    "untagged": (
        "**Why is an image `<none>`?** It has lost its name: a newer build took the tag "
        "(it is *dangling*) while images built on it still need its layers, or it is a "
        "step left over by a build. Dashed boxes in the graph are untagged images; "
        "dotted ones are the hidden intermediate steps of the classic builder."
    ),
    "metadata": (
        "**What is a metadata-only step?** `ENV`, `LABEL`, `CMD`, `EXPOSE`, `WORKDIR`... "
        "change the image's settings, not its files. They are steps in the history but "
        "make no layer, so they add 0 B. An image made only of such steps on top of its "
        "parent adds nothing to the disk."
    ),
    "rebuilt": (
        "**Rebuilt bases:** building the same Dockerfile again (new packages, `--no-cache`) "
        "makes new layers, and the tag moves to the new image. Images built on the old "
        "base keep the old layers until they are rebuilt too."
    ),
}

CROWDED = 40  # images: past this, boxes on a page get too small to read


def legend(shown: int) -> str:
    """The caption under the graph; on a crowded graph, how to see less of it."""
    if shown <= CROWDED:
        return LEGEND
    return (
        f"{LEGEND} With {shown} images the boxes are small: type part of a name in "
        "*Find an image*, or pick one and switch on *Only its family*."
    )


LEGEND = (
    "Arrows go from a parent to the images built on it; each arrow says what the child "
    "adds. Boxes show the image's name, id and total size. Dashed box: untagged "
    "(`<none>`); dotted box: intermediate; dashed arrow: parent judged from layers alone. "
    "To see it larger, hover over it and use its full-screen button."
)


def found_text(
    found_in: tuple[str, ...], tags: tuple[tuple[str, tuple[str, ...]], ...], names: dict[str, str]
) -> str:
    """``Found in docker (team/app:1), registry (host/team/app:1).``: the inspector's line, plain
    text; "" when the images shown come from one source (``names`` is empty)."""
    if not names:
        return ""
    given = dict(tags)
    shown = [f"{label} ({', '.join(given[label])})" if given.get(label) else label for label in found_in]
    return clean_text(f"Found in {'; '.join(shown)}.", 2000) if shown else ""
