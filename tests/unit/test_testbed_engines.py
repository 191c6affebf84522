"""The modern engines are the install step's to fetch (``make engines``), never a test's."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.engines import EngineUnavailable, ModernEngine, installed_engine


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "engines"
    cache.mkdir()
    monkeypatch.setenv("IMAGE_LINEAGE_ENGINE_CACHE", str(cache))
    return cache


@pytest.mark.parametrize("name", ["28", "26"])
def test_an_engine_not_fetched_says_make_engines(empty_cache: Path, name: str) -> None:
    with pytest.raises(EngineUnavailable) as raised:
        installed_engine(name)
    assert f"Engine {name}" in str(raised.value)
    assert "make engines" in str(raised.value)
    assert list(empty_cache.iterdir()) == []


def test_starting_an_engine_never_downloads_it(empty_cache: Path) -> None:
    with pytest.raises(EngineUnavailable):
        ModernEngine("28")
    assert list(empty_cache.iterdir()) == []  # no lock, no half-unpacked folder: nothing fetched
