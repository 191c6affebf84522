"""The page's own words, and image text made inert for Streamlit Markdown.

Image data is untrusted: it reaches the page only through ``code_span`` and ``plain``
(Markdown made inert), tables, code blocks and the escaped DOT, never through HTML."""

from __future__ import annotations

import re
import string
from importlib import resources

from image_lineage.text import clean_text
from image_lineage.web.page import CROWDED

# The favicon: a file shipped in the package, sent to the browser inline. An emoji or a
# :material/...: icon would make the browser fetch it from a font CDN, and nothing here
# may leave the machine.
PAGE_ICON = str(resources.files("image_lineage").joinpath("static/icon.svg"))


TAGLINE = "Which container image is built on which, and what each one adds."


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
        "step left over by a build. Grey dashed boxes in the graph are untagged images; "
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
    "adds. Boxes show the image's name, id and total size. Grey dashed box: untagged "
    "(`<none>`); dotted box: intermediate; dashed arrow: parent judged from layers alone. "
    "To see it larger, hover over it and use its full-screen button."
)
