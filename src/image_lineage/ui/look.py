"""The page's own style, for what the theme (``.streamlit/config.toml``) has no setting for.

Sent as a style-only ``st.html``, which Streamlit puts outside the page's layout: it takes
no place and moves no element (the first frame's tree keeps its element path).
"""

from __future__ import annotations

import streamlit as st

_MAIN = '[data-testid="stMainBlockContainer"]'
STYLE = f"""<style>
/* Streamlit leaves 6rem above the page under its 3.75rem header (a menu in the corner here):
   at 1280x720 the rest of that room is the tree's first rows. */
{_MAIN} {{ padding-top: 3.75rem; }}
/* A headline number's label wraps at laptop widths rather than being cut ("Disk really u…"). */
[data-testid="stMetricLabel"] {{ height: auto; }}
[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"],
[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p {{
  white-space: normal; overflow: visible; text-overflow: clip;
}}
</style>"""


def apply() -> None:
    """Add the style to this run's page (every run: a rerun's page drops what it did not send)."""
    st.html(STYLE)
