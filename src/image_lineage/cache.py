"""A content-addressed on-disk cache of per-image API answers.

An image id is the digest of the image's config, so what an engine said about
one id (inspect, history) never changes: entries never go stale and are never
invalidated. Tags are not cached; they come from the fresh image list.

Entries live under ``$IMAGE_LINEAGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/image-lineage``,
else ``~/.cache/image-lineage``. A corrupt or unreadable entry is treated as a miss
and rewritten; a cache that cannot be written is silently read-only.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

_FORMAT = 1
_SAFE_KEY = re.compile(r"^[a-z0-9]+:[a-f0-9]{16,128}$")


def default_cache_dir() -> Path:
    explicit = os.environ.get("IMAGE_LINEAGE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "image-lineage"


class DetailsCache:
    """Stores ``{"inspect": ..., "history": ...}`` per (namespace, image id)."""

    def __init__(self, root: Path, namespace: str) -> None:
        self._dir = root / namespace

    def _path(self, image_id: str) -> Path | None:
        # Ids come from the engine; refuse anything that is not a plain digest.
        if not _SAFE_KEY.match(image_id):
            return None
        algorithm, digest = image_id.split(":", 1)
        return self._dir / algorithm / digest[:2] / f"{digest}.json"

    def get(self, image_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        path = self._path(image_id)
        if path is None:
            return None
        try:
            entry = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        if (
            not isinstance(entry, dict)
            or entry.get("format") != _FORMAT
            or entry.get("id") != image_id
            or not isinstance(entry.get("inspect"), dict)
            or not isinstance(entry.get("history"), list)
        ):
            return None
        return entry["inspect"], entry["history"]

    def put(self, image_id: str, inspect: dict[str, Any], history: list[dict[str, Any]]) -> None:
        path = self._path(image_id)
        if path is None:
            return
        body = json.dumps(
            {"format": _FORMAT, "id": image_id, "inspect": inspect, "history": history},
            separators=(",", ":"),
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a reader never sees half an entry.
            handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(body)
            Path(tmp).replace(path)
        except OSError:
            return
