"""Errors in the page's words: the remedy each ``Hint`` names, as the page's widgets say it.

The terminal words the same hints as flags (``cli.HINTS``); both word an error with
``messages.one_line``, which also makes what a source sent inert."""

from __future__ import annotations

from image_lineage.errors import Hint, LineageError
from image_lineage.messages import one_line

# How the page words each remedy an error names (the terminal words them as flags). Each
# quotes the label of a widget on the page; tests/app/test_app.py checks that the page has it.
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
    Hint.CONTAINERD_ADDRESS: "the page reads the containerd that CONTAINERD_ADDRESS and CONTAINERD_NAMESPACE "
    "name, else the usual one; for another, save its images with image-lineage snapshot and choose "
    "“A snapshot file (image-lineage snapshot)”",
    Hint.CONTAINERD_NAMESPACE: "name the one to read in CONTAINERD_NAMESPACE before starting the page, or "
    "save its images with image-lineage snapshot and choose “A snapshot file (image-lineage snapshot)”",
}


def problem_text(error: LineageError) -> str:
    """What happened, then the remedy in the page's words: every error the page shows."""
    return one_line(error, HINTS)


def fallback_note(error: LineageError) -> str:
    """Why ``auto`` shows the sample: the engine's problem, without "try the sample"."""
    text = one_line(error, {hint: words for hint, words in HINTS.items() if hint is not Hint.TRY_SAMPLE})
    return f"{text.rstrip('.')}. Showing the bundled sample images instead."
