"""The page model: what the page shows for a scan, the widgets' values and the page state.

Two steps, because the page draws the image picker between them (its choices are the
images the search keeps):

* ``make_view(scan, options)``: the images the toggles, the platform and the search keep,
  through the one pipeline the CLI runs too (``image_lineage.pipeline``), as a ``PageView``.
* ``make_page(view, selected, focused, browsing)``: the image picked and its family focused on,
  the family open in a big collection, repositories grouped, and the images to rebuild
  marked, as a ``Page``, which also says whether the tree or the overview is drawn.

``app.py`` and the first frame (``ui/first_frame.py``) both call these two, so the first
frame shows what the page opens on without guessing it. Nothing here reads or writes the
session: the page state comes in as ``Browsing`` and goes out as ``Page.family``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from image_lineage import grouping, overview, pipeline, platforms
from image_lineage.errors import Hint, with_remedy
from image_lineage.insights import DiskUsage, disk_usage
from image_lineage.lineage import Lineage
from image_lineage.model import Scan
from image_lineage.render import render
from image_lineage.render.common import names_platforms
from image_lineage.stale import StaleReport, noted, stale_images
from image_lineage.text import clean_text, human_size
from image_lineage.views import platforms_of
from image_lineage.web.memo import by_identity
from image_lineage.web.wording import HINTS

RANKDIRS = {"TB": "Top to bottom", "LR": "Left to right"}
COLUMNS = (3, 2)  # with an image picked: the graph's width, the inspector's
NOTE_COLUMNS = (3, 1)  # with classroom notes and no image picked: the graph's width, the notes'
CROWDED = 40  # images: past this, boxes on a page get too small to read


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
        named = _names_platforms(self.everything, host=self.host) and image.platform
        middle = f"  ·  {image.platform}" if named else ""
        return clean_text(f"{image.display_name}{middle}  ·  {human_size(image.size)}", 120)

    def pick(self, selected: str | None, *, focused: bool = False) -> PageView:
        """The same view with an image picked and, when ``focused``, only its family shown."""
        chosen = selected if selected in self.searched else None
        if focused and chosen:
            shown, disk = family(self.searched, image_id=chosen)
        else:
            shown = self.searched
            disk = self.disk if self.shown is shown else disk_usage(shown)
        return replace(self, shown=shown, selected=chosen, disk=disk)


@by_identity(max_entries=8)
def _names_platforms(everything: Lineage, *, host: str) -> bool:
    """``names_platforms``, once per lineage: the picker labels every image with it."""
    return names_platforms(everything, host)


def make_view(scan: Scan, options: ViewOptions) -> PageView:
    """``build_view``, computed once per scan and options, then the same object on every rerun.

    A click reruns the page with the same scan (``load`` shares one object) and the same
    options: building the lineage, masking and the stale check again took most of a rerun on
    1,000 images. Views are frozen, so sharing one between reruns and sessions is safe.
    """
    return _view(scan, options=options, host=platforms.host_platform())


@by_identity(max_entries=8)
def _view(scan: Scan, *, options: ViewOptions, host: str) -> PageView:
    return build_view(scan, options, host)


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
            search=wanted or None,  # a name (any case, literally) or a digest docker images shows
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


@by_identity(max_entries=8)
def family(lineage: Lineage, *, image_id: str) -> tuple[Lineage, DiskUsage]:
    """The focus step (the image, its ancestors and descendants) and its disk usage, once per
    lineage and image: a click in a focused tree keeps the same lineage shown."""
    shown = pipeline.focus_on(lineage, image_id)
    return shown, disk_usage(shown)


def tree_dot(view: PageView) -> str:
    """The DOT ``ui/tree.py`` draws: ``view.shown`` without the picked image's mark (the
    frame marks it), once per lineage shown. A click reruns the page on the same lineage, and
    writing the DOT of 1,000 images again took a fifth of that rerun."""
    return _unmarked_dot(view.shown, rankdir=view.rankdir, host=view.host)


@by_identity(max_entries=8)
def _unmarked_dot(lineage: Lineage, *, rankdir: str, host: str) -> str:
    return str(render(lineage, "dot", rankdir=rankdir, host_platform=host))


def scan_notes(view: PageView) -> list[str]:
    """The scan's diagnostics about the images shown, each naming its image (plain text)."""
    lineage = view.shown
    notes = []
    for diagnostic in lineage.diagnostics:
        if diagnostic.image is None:
            notes.append(diagnostic.message)
        elif diagnostic.image in lineage:
            notes.append(f"{lineage.node(diagnostic.image).image.display_name}: {diagnostic.message}")
    return notes


# --------------------------------------------------------------------------- the page


@dataclass(frozen=True, slots=True)
class Browsing:
    """The page state's choices for a big collection (``ui/overview.py``)."""

    family: str | None = None
    """The root of the family whose tree is open; None: none (the overview, when crowded)."""
    whole: bool = False
    """Draw every image in one tree, however many."""
    grouped: bool = False
    """Each repository of several images as one box."""
    expanded: frozenset[str] = frozenset()
    """Repositories drawn image by image while grouping."""


@dataclass(frozen=True, slots=True)
class Page:
    """What the page shows in one run: the view (narrowed and marked), the family open after
    this run, the images to rebuild, and whether the collection is crowded."""

    view: PageView
    family: str | None
    report: StaleReport
    crowded: bool

    @property
    def overview(self) -> bool:
        """The overview of a big collection is drawn instead of the tree."""
        return self.crowded and self.family is None and self.view.selected is None

    @property
    def tree(self) -> bool:
        """The tree is drawn (not the overview, nor the warning of an empty graph)."""
        return not self.view.empty_message and not self.overview


def make_page(view: PageView, selected: str | None, focused: bool, browsing: Browsing) -> Page:
    """The view with ``selected`` picked (and its family only, when ``focused``); with more than
    ``CROWDED`` images, the open family only (the picked image's opens it); repositories grouped
    when asked; the images to rebuild marked (``stale.noted``) in each of its lineages."""
    view = view.pick(selected, focused=focused)
    crowded = len(view.searched) > CROWDED and not browsing.whole
    root = browsing.family
    if crowded:
        if view.selected is not None:
            root = overview.family_of(view.searched, view.selected).root
        if root not in view.searched.by_id:
            root = None
        if root is not None and len(view.shown) == len(view.searched):  # not already focused on the pick
            shown, disk = family(view.searched, image_id=root)
            view = replace(view, shown=shown, disk=disk)
    if browsing.grouped:
        expanded = set(browsing.expanded)
        if view.selected is not None:  # the picked image keeps a box of its own, to be marked
            expanded.add(grouping.repository_of(view.everything.node(view.selected)) or "")
        view = replace(view, shown=grouped(view.shown, expanded=frozenset(expanded)))
    report = report_of(view.everything)
    if report:
        view = replace(
            view,
            everything=marked(view.everything, report),
            searched=marked(view.searched, report),
            shown=marked(view.shown, report),
        )
    return Page(view, root, report, crowded)


# ``lineage`` is the same object from one rerun to the next (``make_view``): what is drawn
# from it is kept by its identity (the family too, ``family``), so a click in a family's
# tree neither focuses nor groups again, and the tree's DOT (kept by the lineage shown) is
# written once. The report and the marked lineages likewise: on 1,000 images the check took
# a sixth of a rerun, and fresh lineages would make the DOT and the inspector's details miss.
@by_identity(max_entries=8)
def grouped(lineage: Lineage, *, expanded: frozenset[str]) -> Lineage:
    """``grouping.group_repositories(lineage, expanded)``, once per lineage and ``expanded``."""
    return grouping.group_repositories(lineage, expanded)


@by_identity(max_entries=8)
def report_of(everything: Lineage) -> StaleReport:
    """``stale_images(everything)``, once per lineage."""
    return stale_images(everything)


@by_identity(max_entries=24)
def marked(lineage: Lineage, report: StaleReport) -> Lineage:
    """``noted(lineage, report)``, once per lineage and report."""
    return noted(lineage, report)
