"""Hostile strings an image's builder can put in tags, labels and history lines.

Each entry is (name, text). Used by tests/unit/test_hostile_render.py and the
browser check in tests/e2e/test_hostile_svg.py.
"""

from __future__ import annotations

HOSTILE_TEXT: list[tuple[str, str]] = [
    ("script-tag", "<script>window.__pwned = 1</script>"),
    ("svg-onload", '<svg onload="window.__pwned=1"><image href=x onerror="window.__pwned=2"/></svg>'),
    ("attribute-break", '" onmouseover="window.__pwned=3" x="'),
    ("single-quotes", "' onfocus='window.__pwned=4' '"),
    ("ampersand-entity", "&amp; &lt;b&gt; &#x3C;script&#x3E;"),
    ("cdata-end", "]]><script>window.__pwned=5</script><![CDATA["),
    ("dot-quote-escape", 'evil" ]; injected [label="owned'),
    ("dot-backslash", 'back\\slash\\" \\l \\n \\N'),
    ("dot-braces-edge", "}} digraph x { a -> b } subgraph {"),
    ("dot-port", "repo:1:port:sw"),
    ("newlines", "line one\nline two\r\nline three"),
    ("mermaid-syntax", '"]) --> evil["x"] click evil call alert() %%{init: {"theme":"dark"}}%%'),
    ("mermaid-entity", "#quot; #35; #lt;script#gt;"),
    ("control-chars", "bell\x07 escape\x1b[31mred\x1b[0m null\x00 del\x7f"),
    ("rtl-override", "invoice\u202etxt.exe \u2066isolate\u2069"),
    ("zero-width", "zero\u200bwidth\u200ejoiner"),
    ("xml-noncharacters", "not\ufffe xml\uffff \ufdd0 \U0010ffff"),
    ("emoji-and-cjk", "数据 🐳 ñandú"),
    ("long-100kb", "A" * 100_000),
]

# Text no UTF-8 file can hold (a lone surrogate: what a JSON "\ud800" or a decoder's
# surrogateescape gives), so no snapshot can carry it to the app yet (issue 15): the
# renderers must still survive it.
UNENCODABLE_TEXT: list[tuple[str, str]] = [("lone-surrogate", "lone\ud800 surrogate\udfff")]
