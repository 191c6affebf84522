"""What kind of registry request a path is, for tests that count what a scan sent. No pytest import."""

from __future__ import annotations

_KINDS = (
    ("/_catalog", "catalog"),
    ("/tags/list", "tags"),
    ("/manifests/", "manifest"),
    ("/referrers/", "referrers"),
    ("/blobs/", "blob"),
)


def request_kind(path: str) -> str:
    """``/v2/team/app/tags/list?n=1000`` -> ``tags``; a path of no known kind is itself."""
    return next((kind for word, kind in _KINDS if word in path), path)
