"""What the Streamlit page (``app.py``) and its parts (``ui/``) call, by job.

* ``reading``: the source radio's choices, cached readings (with a progress bar), several
  readings merged into one, the line saying where the images come from.
* ``wording``: errors in the page's words (the remedy each ``Hint`` names, as a widget).
* ``page``: the page model: which images a set of widget values shows (``make_view``,
  through ``image_lineage.pipeline``), then what one run of the page shows of them
  (``make_page``: the pick, the family open, the grouping, the images to rebuild).
* ``inspector``: everything shown about the picked image (``image_details``).
* ``exports``: the files offered for download.
* ``text``: the page's own words, and image text made inert for Markdown (``plain``,
  ``code_span``).
* ``memo``: the one memo by identity the page's computations share.
* ``state``: the page's state in the session (``STATE``): the one module that reads or
  writes ``st.session_state``.

The names below are the package's API; ``app.py`` reads them as ``web.NAME``.
"""

from __future__ import annotations

try:
    import streamlit  # noqa: F401 - only to say what is missing, before the modules below need it
except ModuleNotFoundError as missing:  # the CLI installs without it
    raise ModuleNotFoundError(f"{missing}: the web app needs pip install 'image-lineage[app]'") from missing

from image_lineage.web.exports import EXPORTS, Export, export, export_name, graphviz_installed
from image_lineage.web.inspector import ImageDetails, build_image_details, found_text, image_details
from image_lineage.web.page import (
    COLUMNS,
    CROWDED,
    HOST,
    NOTE_COLUMNS,
    RANKDIRS,
    Browsing,
    Page,
    PageView,
    ViewOptions,
    build_view,
    family,
    make_page,
    make_view,
    platform_choices,
    platform_label,
    scan_notes,
    tree_dot,
)
from image_lineage.web.reading import (
    MORE_SOURCES,
    SOURCES,
    UPLOAD_NAME,
    Loaded,
    build_merged,
    describe_source,
    load,
    merge_loaded,
    no_upload_text,
    read_source,
    source_spec,
)
from image_lineage.web.text import CLASSROOM, LEGEND, PAGE_ICON, TAGLINE, code_span, legend, plain
from image_lineage.web.wording import HINTS, fallback_note, problem_text

__all__ = [
    "CLASSROOM",
    "COLUMNS",
    "CROWDED",
    "EXPORTS",
    "HINTS",
    "HOST",
    "LEGEND",
    "MORE_SOURCES",
    "NOTE_COLUMNS",
    "PAGE_ICON",
    "RANKDIRS",
    "SOURCES",
    "TAGLINE",
    "UPLOAD_NAME",
    "Browsing",
    "Export",
    "ImageDetails",
    "Loaded",
    "Page",
    "PageView",
    "ViewOptions",
    "build_image_details",
    "build_merged",
    "build_view",
    "code_span",
    "describe_source",
    "export",
    "export_name",
    "fallback_note",
    "family",
    "found_text",
    "graphviz_installed",
    "image_details",
    "legend",
    "load",
    "make_page",
    "make_view",
    "merge_loaded",
    "no_upload_text",
    "plain",
    "platform_choices",
    "platform_label",
    "problem_text",
    "read_source",
    "scan_notes",
    "source_spec",
    "tree_dot",
]
