"""From scans to what is shown: the one order the CLI and the app both follow.

    merge -> platform -> lineage -> mask -> filter/focus -> collapse

* **merge**: several sources' scans as one (``sources.merge_scans``); one scan is itself.
* **platform**: the records of the platform asked for (by default this machine's, or every
  one when no image is of it), with the untagged and intermediate images the options hide
  left out too. Hiding an image is not a cut: its children hang from their nearest ancestor
  among the images kept, so this comes before the lineage.
* **lineage**: parents found by comparing the *real* histories (two different secrets
  masked to the same ``***`` would otherwise look like the same step).
* **mask**: values that look like secrets hidden, unless ``show_secrets``. Everything after
  this sees only masked images: no filter or search runs on a secret.
* **filter/focus**: the images whose name matches (with their ancestors; ``filter`` a regular
  expression, ``search`` a literal text or a digest), then the image asked for with its
  ancestors and descendants.
* **collapse**: the chain links (``views.chain_links``: intermediate images that only
  continue a chain, judged among every image kept, as before filtering) taken out of what is
  shown; each child then hangs from the next image up. Never the image asked for.

``select`` is the first two steps alone (what ``snapshot`` saves); ``run`` is all of them.
The app's page model (``web.page``) calls ``run`` without a focus and focuses on a click
(``focus_on``): focusing commutes with collapsing, because a chain link has one parent and
one child, so taking it out changes no one's ancestors or descendants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from image_lineage import platforms, views
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.masking import mask_lineage
from image_lineage.model import Scan
from image_lineage.sources.merge import merge_scans


@dataclass(frozen=True, slots=True)
class Options:
    """What to show of the scans; the defaults show everything read, masked, on this machine's platform."""

    # os/arch[/variant] or "all"; None: this machine's (every one when no image is of it).
    platform: str | None = None
    host: str | None = None  # this machine's platform; None: platforms.host_platform()
    untagged: bool = True
    intermediate: bool = True
    collapse: bool = False
    show_secrets: bool = False
    filter: str | None = None  # a regular expression: images with a matching name, and their ancestors
    search: str | None = None  # a text in a name (any case) or a digest prefix: views.search
    focus: str | None = None  # a tag, repository or id: that image, its ancestors and its descendants


@dataclass(frozen=True, slots=True)
class Selected:
    """The records kept (merged, of the platform chosen) and what the platform choice hid."""

    scan: Scan
    platforms: views.PlatformSelection
    host: str


@dataclass(frozen=True, slots=True)
class Shown:
    """What each step made of the records kept."""

    selected: Selected
    real: Lineage  # unmasked: for judges that compare histories, such as stale
    everything: Lineage  # masked, collapsed: every image kept
    filtered: Lineage  # what the filter keeps
    shown: Lineage  # what the focus keeps: what is drawn

    @property
    def scan(self) -> Scan:
        return self.selected.scan


def select(scans: Sequence[Scan], options: Options) -> Selected:
    """merge -> platform: the records the lineage is built from."""
    scan = scans[0] if len(scans) == 1 else merge_scans(scans)
    host = options.host or platforms.host_platform()
    images = views.select_images(scan.images, untagged=options.untagged, intermediate=options.intermediate)
    chosen = options.platform or views.default_platform(images, host)
    kept = views.select_platform(images, chosen)
    return Selected(replace(scan, images=kept.images, diagnostics=kept.notes(scan.diagnostics)), kept, host)


def run(scans: Sequence[Scan], options: Options) -> Shown:
    """merge -> platform -> lineage -> mask -> filter/focus -> collapse."""
    selected = select(scans, options)
    scan = selected.scan
    real = build_lineage(scan.images, scan.source, scan.diagnostics)
    everything = _masked(real, options)
    filtered = views.filter_names(everything, options.filter) if options.filter else everything
    filtered = views.search(filtered, options.search) if options.search else filtered
    shown = views.focus(filtered, options.focus) if options.focus else filtered
    if options.collapse:
        keep = {views.resolve(filtered, options.focus)} if options.focus else set()
        everything, filtered, shown = _collapsed(
            selected.scan, real, options, keep, (everything, filtered, shown)
        )
    return Shown(selected, real, everything, filtered, shown)


def focus_on(lineage: Lineage, image_id: str) -> Lineage:
    """The focus step for an image already picked (by id) among ``lineage``."""
    return views.focus(lineage, image_id)


def _masked(lineage: Lineage, options: Options) -> Lineage:
    return lineage if options.show_secrets else mask_lineage(lineage)


def _collapsed(
    scan: Scan, real: Lineage, options: Options, keep: set[str], stages: tuple[Lineage, Lineage, Lineage]
) -> tuple[Lineage, Lineage, Lineage]:
    """Each stage (everything, filtered, shown) without the chain links of the whole.

    The cuts keep their images' ancestors, so each is the collapsed whole restricted to what
    it kept: one new lineage (rebuilt from the real records, then masked), not one per stage;
    a stage that kept everything is the collapsed whole itself.
    """
    links = views.chain_links(real) - keep
    if not links:
        return stages
    kept = [image for image in scan.images if image.id not in links]
    whole = _masked(build_lineage(kept, scan.source, scan.diagnostics), options)
    everything, filtered, shown = stages
    cut_filtered = whole if filtered is everything else whole.subset(filtered.by_id.keys() - links)
    cut_shown = cut_filtered if shown is filtered else whole.subset(shown.by_id.keys() - links)
    return whole, cut_filtered, cut_shown
