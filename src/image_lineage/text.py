"""Sizes and cleaned text: the bottom floor every module may use (it imports nothing of ours).

Text from an image (tags, labels, history lines) is written by whoever built it. ``clean_text``
makes it safe to show in a terminal and in every XML-based output: a single character that
XML 1.0 does not allow (U+FFFE, a lone surrogate) would make Graphviz refuse the whole
picture and the GraphML ill-formed.

A lone surrogate (U+D800..U+DFFF on its own) is valid in a JSON escape (``"\\ud800"``) and in
a Python string, so an engine's or a snapshot's JSON can hand one over, but no UTF-8 file or
terminal can encode it: the JSON writers and the snapshot reader replace it with U+FFFD
(``without_surrogates``, ``parsed_without_surrogates``). Error lines built from what a source
said show what drives a terminal as escapes (``escaped``).
"""

from __future__ import annotations

import re
from typing import Any

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def human_size(size: int) -> str:
    """Decimal units, like ``docker images``: 1 kB = 1000 B."""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1000 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def unbroken_size(size: int) -> str:
    """``4.0 MB`` in a sentence: a no-break space keeps the number with its unit when the
    large type of a projector wraps the line."""
    return human_size(size).replace(" ", "\u00a0")


def count_layers(count: int) -> str:
    return "1 layer" if count == 1 else f"{count} layers"


# The last two code points of each of the 17 planes are noncharacters (U+FFFE, U+10FFFF, ...).
_PLANE_ENDS = "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}-{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
# What must not be shown as it is: control characters (C0, DEL, C1), bidirectional overrides
# that can make text read backwards, surrogates (only ever lone in a ``str``: a decoder's
# ``surrogateescape`` or a JSON ``\ud800``), and the noncharacters (U+FDD0..U+FDEF and the
# plane ends). XML 1.0 allows none of the controls but tab and newlines, no surrogate and not
# U+FFFE/U+FFFF; the other noncharacters it only discourages, but no image name needs one.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufdd0-\ufdef" + _PLANE_ENDS + "]"
)


def clean_text(text: str, limit: int | None = None) -> str:
    """Text from an image made safe to show: no control, bidi, surrogate or noncharacter
    code points (so any XML 1.0 output may hold it), bounded length.

    Newlines and tabs become spaces; other invisible characters become U+FFFD so a
    reader sees that something was there. Escaping for a format is the renderer's job.
    """
    flat = UNSAFE.sub(lambda m: " " if m.group() in "\t\n\r" else "\ufffd", text)
    if limit is not None and len(flat) > limit:
        return flat[: limit - 1] + "…"
    return flat


_SURROGATES = re.compile("[\ud800-\udfff]")
# In JSON text: a surrogate's escape (paired or not: the parser decides), or a raw one.
_SURROGATE_IN_JSON = re.compile("\\\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_SURROGATE_IN_JSON_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (the same object when it has none)."""
    return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text


def may_hold_surrogates(json_text: str | bytes) -> bool:
    """Whether parsed ``json_text`` may hold a lone surrogate (a cheap test before a walk)."""
    if isinstance(json_text, bytes):
        return _SURROGATE_IN_JSON_BYTES.search(json_text) is not None
    return _SURROGATE_IN_JSON.search(json_text) is not None


def parsed_without_surrogates(value: Any) -> Any:
    """Parsed JSON with every string (keys too) passed through ``without_surrogates``."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {without_surrogates(k): parsed_without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [parsed_without_surrogates(item) for item in value]
    return value


def escaped(text: str) -> str:
    """``text`` with every character unsafe on a terminal written as its escape (``\\x1b``, ``\\n``)."""
    return UNSAFE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)
