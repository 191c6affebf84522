"""An error as one line of inert text: what happened, then the remedy in a front end's words.

The CLI (``cli.HINTS``: flags) and the app (``web.wording.HINTS``: widgets) word each
``Hint`` their own way and call ``one_line`` with their words. A message can hold what a
source sent (an engine's 500 ``message``, a snapshot's label key): it passes the same
cleaning as image text, so a terminal escape, an OSC title or clipboard write, or a newline
that would forge a second line comes out as a visible, harmless character or a space.
"""

from __future__ import annotations

from collections.abc import Mapping

from image_lineage.errors import Hint, LineageError, with_remedy
from image_lineage.text import clean_text


def one_line(error: LineageError, remedies: Mapping[Hint, str]) -> str:
    """``str(error)``, with the remedy ``remedies`` gives for its hint (none when it gives none)."""
    text = str(error).rstrip()
    remedy = None if error.hint is None else remedies.get(error.hint)
    return clean_text(text if remedy is None else with_remedy(text, remedy))


def inert(text: str) -> str:
    """Any other line a front end prints that may hold a source's words (a platform's name)."""
    return clean_text(text)
