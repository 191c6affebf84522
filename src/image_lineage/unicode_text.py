"""Text that every file, JSON reader and terminal can hold.

A lone surrogate (U+D800..U+DFFF on its own) is valid in a JSON escape (``"\\ud800"``)
and in a Python string, so an engine's or a snapshot's JSON can hand one over; but no
UTF-8 file or terminal can encode it. The JSON writers (snapshots, the JSON export)
replace it with U+FFFD, and the snapshot reader does the same to what it reads.

Error lines built from what a source said (an engine's message, a snapshot's key) must
not carry what drives a terminal: ``UNSAFE`` is that, ``escaped`` shows it inert.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATES = re.compile("[\ud800-\udfff]")
# In JSON text: a surrogate's escape (paired or not: the parser decides), or a raw one.
_SURROGATE_IN_JSON = re.compile("\\\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_SURROGATE_IN_JSON_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
# What an error line must not carry raw: control characters (an escape sequence clears the
# screen, sets the window title, writes the clipboard), bidi overrides (text that reads
# backwards) and lone surrogates (no terminal can encode one).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


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
