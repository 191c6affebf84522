"""The app's containerd choice: its usual socket, or ``CONTAINERD_ADDRESS`` as ``ctr`` reads it;
what it says when none answers (no daemon here: ``tests/integration/test_containerd.py`` has one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from image_lineage import web
from image_lineage.errors import Hint
from tests.app.test_app import drawn_trees, ok, speaks_the_page, start, unescape  # noqa: F401 - autouse fixture


@pytest.fixture(autouse=True)
def clean_streamlit_caches() -> Any:
    import streamlit as st  # noqa: PLC0415

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def test_no_containerd_is_one_line_in_the_page_s_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "containerd.sock"
    monkeypatch.setenv("CONTAINERD_ADDRESS", str(missing))
    at = start("containerd")
    ok(at)
    (error,) = [unescape(e.value) for e in at.error]
    assert f"No containerd is listening at unix://{missing} (no such socket)" in error
    assert web.HINTS[Hint.CONTAINERD_ADDRESS] in error
    speaks_the_page(web.HINTS[Hint.CONTAINERD_ADDRESS])
