"""The session's first frame: the title, the tagline and the tree, before any widget.

A browser shows nothing of a Streamlit page until it has loaded the script of every kind of
element the run sent (select boxes, toggles, metrics, ...), about fifty of them for the whole
page. So the session's first run sends only the title row, the tagline and the tree of the
view the page opens on, and stops. The tree's script, once it has drawn the tree, asks for
the rest (the trigger ``drawn``): the second run starts only once the first frame is on the
screen. (An ``st.rerun()`` at the end of the first run would race it: the new run clears the
deltas not yet sent to the browser, and its elements, arriving while the browser still loads
the tree's code, are shown together with it.) The tree is sent at the element path it has in
the whole page, so the second run neither moves nor redraws it: the same element gets the
same drawing's digest (``ui/tree.py``).

When the page opens on something else (the overview of a big collection, the lesson, an
error) the first run draws nothing of its own and reruns at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st
from streamlit import config

from image_lineage import web
from image_lineage.model import Scan
from image_lineage.ui import lesson
from image_lineage.web.state import STATE

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile


@dataclass(frozen=True)
class Sidebar:
    """What the sidebar's widgets say; the defaults are the values they start with."""

    kinds: tuple[str, ...] = (next(iter(web.SOURCES)),)
    endpoint: str = ""
    registry_url: str = ""
    upload: UploadedFile | None = None
    show_intermediate: bool = False
    collapse: bool = True
    show_untagged: bool = True
    rankdir: str = next(iter(web.RANKDIRS))
    classroom: bool = False
    show_secrets: bool = False

    def awaiting_input(self) -> bool:
        """Whether a source chosen still waits for its address or file: what it says then is
        the next thing to do, not an error (nothing was typed that could be wrong)."""
        return (
            ("docker" in self.kinds and not self.endpoint.strip())
            or ("registry" in self.kinds and not self.registry_url.strip())
            or ("upload" in self.kinds and self.upload is None)
        )

    def options(self, search: str = "", platform: str = web.HOST) -> web.ViewOptions:
        """The view's options with the find box's text and the platform picked."""
        return web.ViewOptions(
            self.show_untagged,
            self.show_intermediate,
            collapse_chains=self.collapse,
            search=search,
            rankdir=self.rankdir,
            show_secrets=self.show_secrets,
            platform=platform or web.HOST,
        )


DEFAULTS = Sidebar()


def pending() -> bool:
    """True in the session's first run only (a fresh page, a reload), until ``rest_later`` or
    ``skip``; reading it changes nothing."""
    return STATE.first_frame_pending


def rest_later() -> None:
    """End the first frame: the tree asks for the rest once drawn. Under ``AppTest``, which
    runs no script in a browser, the rest comes at once."""
    STATE.first_frame_done()
    if config.get_option("global.appTest"):  # read through the module: AppTest patches it there
        st.rerun()
    st.stop()


def skip() -> None:
    """No first frame of its own (the page opens on an error, the overview or the lesson):
    the whole page at once."""
    STATE.first_frame_done()
    st.rerun()


def tree_view(scan: Scan) -> web.PageView | None:
    """The view the page opens on, when what it opens on is the interactive tree; else None.

    The same page model the whole page calls (``web.make_view``, ``web.make_page``), with the
    widgets' starting values: the first frame draws what the second run will.
    """
    if lesson.is_on() or not web.graphviz_installed():
        return None  # the lesson, or Graphviz's static picture (no script to ask for the rest)
    page = web.make_page(web.make_view(scan, DEFAULTS.options()), None, False, STATE.browsing())
    return page.view if page.tree else None
