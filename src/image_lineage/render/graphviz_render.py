"""SVG, PNG and PDF through Graphviz's ``dot`` program (the ``graphviz`` package)."""

from __future__ import annotations

from image_lineage.errors import RenderError
from image_lineage.lineage import Lineage
from image_lineage.render.dot import render_dot

INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install "
    "graphviz), or export --format dot and render it elsewhere"
)


def render_graphviz(
    lineage: Lineage,
    fmt: str,
    *,
    rankdir: str = "TB",
    highlight: str | None = None,
    host_platform: str | None = None,
) -> bytes:
    import graphviz  # noqa: PLC0415 - only needed for pictures

    dot = render_dot(lineage, rankdir=rankdir, highlight=highlight, host_platform=host_platform)
    source = graphviz.Source(dot)
    try:
        output: bytes = source.pipe(format=fmt)
    except graphviz.ExecutableNotFound as error:
        raise RenderError(f"Graphviz's 'dot' program was not found: {INSTALL_HINT}.") from error
    except graphviz.CalledProcessError as error:
        message = (error.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RenderError(
            f"Graphviz failed to draw the {fmt}: {message[-1] if message else error}"
        ) from error
    return output
