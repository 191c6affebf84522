"""The cache file's own behaviour: what one scan writes, the next reads, and how it is written."""

from __future__ import annotations

from pathlib import Path

from image_lineage.cache import DetailsCache

IMAGE = "sha256:" + "a" * 64


def test_commits_do_not_wait_for_the_disk(tmp_path: Path) -> None:
    """No fsync per commit (a cold registry scan's three commits waited ~0.1 s for a busy disk):
    the cache is rebuilt from its sources, and the journal still guards against a crash."""
    with DetailsCache(tmp_path, "docker") as cache:
        assert cache._db is not None
        assert cache._db.execute("PRAGMA synchronous").fetchone() == (0,)
        assert cache._db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_what_one_scan_writes_the_next_reads(tmp_path: Path) -> None:
    details = ({"Id": IMAGE, "Size": 3}, [{"CreatedBy": "/bin/sh -c make"}])
    with DetailsCache(tmp_path, "docker") as cache:
        cache.put_many({IMAGE: details})
    with DetailsCache(tmp_path, "docker") as cache:
        assert cache.get_many([IMAGE]) == {IMAGE: details}
    assert [p.name for p in tmp_path.iterdir()] == ["details-v4.sqlite3"]
