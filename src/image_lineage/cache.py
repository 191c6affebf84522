"""A content-addressed on-disk cache of per-image API answers.

An image id is the digest of the image's config, so what an engine said about one
id (inspect, history) never changes: entries never go stale and are never
invalidated. Tags are not cached; they come from the fresh image list.

The cache is one SQLite file (``details-v2.sqlite3``) under
``$IMAGE_LINEAGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/image-lineage``, else
``~/.cache/image-lineage``. One file, not one per image: measured on 1,000 images,
writing a thousand small files cost more system time than the scan it saved.
A corrupt entry is a miss (and is rewritten); a corrupt or unwritable database is
set aside or ignored. The cache never makes a scan fail.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# v2: history rows keep their "Id" (the step images that pin down which step made a layer).
_FILE = "details-v2.sqlite3"
_CHUNK = 500  # stay far below SQLite's limit on bound variables

Details = tuple[dict[str, Any], list[dict[str, Any]]]


def default_cache_dir() -> Path:
    explicit = os.environ.get("IMAGE_LINEAGE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "image-lineage"


class DetailsCache:
    """Stores ``(inspect, history)`` per (namespace, image id); use as a context manager."""

    def __init__(self, root: Path, namespace: str) -> None:
        self._path = root / _FILE
        self._namespace = namespace
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> DetailsCache:
        self._db = _open(self._path)
        return self

    def __exit__(self, *_: object) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def get_many(self, image_ids: Iterable[str]) -> dict[str, Details]:
        """The cached answers among ``image_ids``; missing or corrupt entries are left out."""
        if self._db is None:
            return {}
        wanted = list(dict.fromkeys(image_ids))
        found: dict[str, Details] = {}
        try:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                placeholders = ",".join("?" * len(chunk))
                query = f"SELECT id, body FROM details WHERE namespace = ? AND id IN ({placeholders})"  # noqa: S608
                rows = self._db.execute(query, [self._namespace, *chunk])
                for image_id, body in rows:
                    entry = _decode(body)
                    if entry is not None:
                        found[image_id] = entry
        except sqlite3.Error:
            return found
        return found

    def put_many(self, entries: Mapping[str, Details]) -> None:
        if self._db is None or not entries:
            return
        rows = [
            (self._namespace, image_id, json.dumps({"inspect": inspect, "history": history}))
            for image_id, (inspect, history) in entries.items()
        ]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO details VALUES (?, ?, ?)", rows)
        except sqlite3.Error:
            return


def _open(path: Path) -> sqlite3.Connection | None:
    """Open (or create) the database; a broken file is moved aside once and recreated."""
    for attempt in (1, 2):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=5)
            db.execute(
                "CREATE TABLE IF NOT EXISTS details "
                "(namespace TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (namespace, id))"
            )
        except sqlite3.DatabaseError:
            if attempt == 2:
                return None
            try:
                path.replace(path.with_suffix(".corrupt"))
            except OSError:
                return None
        except (OSError, sqlite3.Error):
            return None
        else:
            return db
    return None


def _decode(body: object) -> Details | None:
    try:
        entry = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    inspect, history = entry.get("inspect"), entry.get("history")
    if not isinstance(inspect, dict) or not isinstance(history, list):
        return None
    return inspect, history
