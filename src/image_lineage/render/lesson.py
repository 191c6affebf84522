"""The lesson's pictures: one image's layers as a tower (SVG) and whose build made each (HTML).

They draw ``lesson.Tower``, the plain data the lesson view steps through. Every text from an
image goes through ``clean_text`` and is XML-escaped.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from image_lineage.lesson import Tower, tower_label
from image_lineage.text import clean_text, human_size, unbroken_size

_TOWER_WIDTH = 600
_GAP = 3
_FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
_CHAR = 0.6  # a character's width, in font sizes (DejaVu Sans runs wide)


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#rrggbb``)."""
    red, green, blue = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#000000" if luminance > 0.4 else "#ffffff"


def _fit(text: str, width: float, font: int) -> str:
    """``text`` cut to what ``width`` pixels hold at ``font`` pixels."""
    return clean_text(text, max(4, int(width / (font * _CHAR))))


def _svg_open(width: int, height: int, label: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" font-family="{_FONT}" role="img" aria-label="{_attr(label)}">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def tower_svg(data: Tower, upto: int | None = None) -> str:
    """The layers as a stack, oldest at the bottom, up to step ``upto`` (all when None).

    The picture keeps the whole tower's height whatever ``upto`` is, so stepping through
    the build grows the stack from the bottom without the page jumping. Each layer shows
    its instruction and size, in its contributor's colour, and is a little taller the more
    it holds; the layers still to come are faint dashed places. The current step's layer,
    when it made one, is outlined.
    """
    every = data.layers()
    drawn = {s.number for s in data.layers(upto)}
    low = max(30, min(52, 420 // max(len(every), 1)))
    font = 22 if low >= 40 else 20
    total = sum(s.size for s in every) or 1
    heights = [low + round(160 * s.size / total) for s in every]
    height = sum(heights) + _GAP * len(every) + 16
    parts = _svg_open(_TOWER_WIDTH + 8, height, "The layers of " + data.name)
    bottom = height - 8
    for step, block in zip(every, heights, strict=True):
        top = bottom - block
        if step.number in drawn:
            who = data.contributors[step.contributor]
            ink = text_colour(who.colour)
            outline = ' stroke="#000000" stroke-width="6"' if step.number == upto else ""
            middle = top + block / 2 + font * 0.36
            size = human_size(step.size)
            room = _TOWER_WIDTH - 36 - (len(size) + 1) * (font + 2) * _CHAR
            parts += [
                f'<rect x="4" y="{top}" width="{_TOWER_WIDTH}" height="{block}" rx="6" '
                f'fill="{who.colour}"{outline}/>',
                f'<text x="16" y="{middle:.0f}" font-size="{font}" fill="{ink}">'
                f"{escape(_fit(tower_label(step.instruction), room, font))}</text>",
                f'<text x="{_TOWER_WIDTH - 8}" y="{middle:.0f}" font-size="{font + 2}" font-weight="bold" '
                f'text-anchor="end" fill="{ink}">{escape(size)}</text>',
            ]
        else:  # a layer still to come: a faint dashed place, so the empty height reads as "to build"
            parts.append(
                f'<path d="M6 {top + 1} h {_TOWER_WIDTH - 4} v {block - 2} h -{_TOWER_WIDTH - 4} z" '
                'fill="#f4f6fa" stroke="#c5ccd6" stroke-width="2" stroke-dasharray="8 6"/>'
            )
        bottom = top - _GAP
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


_ROLE = {"base": "the base", "ancestor": "an ancestor", "itself": "this image"}


def legend_html(data: Tower) -> str:
    """The legend: each contributing image, newest on top as in the tower, with what it adds.

    HTML rather than a picture: a long name wraps instead of being cut, and the text takes
    the page's type size. Names are escaped; the colours are this module's own.
    """
    rows = []
    for who in reversed(data.contributors):
        amount = f"{who.layers} layer{'s' if who.layers != 1 else ''}, {unbroken_size(who.size)}"
        rows.append(
            '<li style="display:flex;align-items:center;gap:0.6em;margin:0 0 0.5em 0">'
            f'<span style="flex:none;width:1.6em;height:1.6em;border-radius:4px;background:{who.colour}">'
            "</span>"
            f'<span style="overflow-wrap:anywhere;line-height:1.3"><b>{escape(who.name)}</b><br/>'
            f"{escape(_ROLE[who.role])}: {escape(amount)}</span></li>"
        )
    label = _attr("Whose build made each layer")
    return f'<ul aria-label="{label}" style="list-style:none;padding:0;margin:0">{"".join(rows)}</ul>\n'


def _attr(text: str) -> str:
    return escape(clean_text(text, 200), {'"': "&quot;"})
