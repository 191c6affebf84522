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


def test_an_answer_nested_deeper_than_recursion_is_checked_not_a_crash(tmp_path: Path) -> None:
    """An engine's labels nested 400 deep parse as JSON; the secret check walked them
    recursively and raised RecursionError out of the scan."""
    labels: object = "API_TOKEN=ghp_" + "a" * 36
    for _ in range(2_000):
        labels = {"a": labels}
    inspect = {"Id": IMAGE, "Config": {"Labels": labels}}
    with DetailsCache(tmp_path, "docker") as cache:
        cache.put_many({IMAGE: (inspect, [])})
        assert cache.get_many([IMAGE]) == {}  # it holds a secret: never written


def test_an_answer_too_deep_to_write_is_left_out(tmp_path: Path) -> None:
    labels: object = "plain"
    for _ in range(2_000):
        labels = {"a": labels}
    inspect = {"Id": IMAGE, "Config": {"Labels": labels}}
    with DetailsCache(tmp_path, "docker") as cache:
        cache.put_many({IMAGE: (inspect, [])})
        assert cache.get_many([IMAGE]) == {}
