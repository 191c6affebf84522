"""The page state (``web/state.py``): the one module that reads or writes ``st.session_state``."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import streamlit as st

from image_lineage import web
from image_lineage.ui import first_frame
from image_lineage.web import state
from image_lineage.web.state import STATE

ROOT = Path(__file__).resolve().parents[2]
PAGE_CODE = [ROOT / "app.py", *sorted((ROOT / "src" / "image_lineage").rglob("*.py"))]
STATE_MODULE = ROOT / "src" / "image_lineage" / "web" / "state.py"
APP_CODE = [
    ROOT / "app.py",
    *sorted((ROOT / "src" / "image_lineage" / "ui").glob("*.py")),
    *sorted((ROOT / "src" / "image_lineage" / "web").glob("*.py")),
]
KEYS = {value for name, value in vars(state).items() if name.isupper() and isinstance(value, str)}


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    store: dict[str, Any] = {}
    monkeypatch.setattr(st, "session_state", store)
    return store


def test_only_the_state_module_touches_session_state() -> None:
    touching = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in PAGE_CODE
        if path != STATE_MODULE
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "session_state"
    ]
    assert touching == []


def test_each_state_key_is_written_in_the_state_module_alone() -> None:
    """A widget whose value code reads or sets gets its key from ``web.state`` (the picker's
    "image" was written in app.py and in ui/overview.py)."""
    literal = [
        f"{path.relative_to(ROOT)}:{node.value.lineno}: {node.value.value!r}"
        for path in APP_CODE
        if path != STATE_MODULE
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.keyword)
        and node.arg == "key"
        and isinstance(node.value, ast.Constant)
        and node.value.value in KEYS
    ]
    assert literal == []


def test_reading_whether_the_first_frame_is_pending_changes_nothing(session: dict[str, Any]) -> None:
    assert first_frame.pending()
    assert first_frame.pending()  # still: reading it did not mark it painted
    assert session == {}
    STATE.first_frame_done()
    assert not first_frame.pending()


def test_the_overview_choices_and_going_back(session: dict[str, Any]) -> None:
    assert STATE.browsing() == web.Browsing()
    session[state.FAMILY_PICK] = "root1"
    STATE.open_picked_family()
    session[state.GROUP] = True
    session[state.EXPANDED] = ["team/app"]
    assert STATE.browsing() == web.Browsing("root1", False, True, frozenset({"team/app"}))
    STATE.pick("image1")
    STATE.back_to_overview()
    assert (session[state.OPEN], session[state.IMAGE], session[state.FOCUS]) == (None, None, False)


def test_the_lesson_follows_a_pick_once(session: dict[str, Any]) -> None:
    STATE.follow_pick("image1", "root1")
    assert (session[state.LESSON_FAMILY], session[state.LESSON_IMAGE]) == ("root1", "image1")
    session[state.LESSON_IMAGE] = "image2"  # chosen in the lesson afterwards
    STATE.follow_pick("image1", "root1")  # the same pick: the lesson's own choice stays
    assert session[state.LESSON_IMAGE] == "image2"
    key = STATE.start_steps("abc")
    assert session[key] == 1  # a lesson starts at its first step
    STATE.move_step(key, 9, 5)
    assert session[key] == 5
    STATE.move_step(key, 1, 5)
    assert session[key] == 5
    STATE.move_step(key, -9, 5)
    assert session[key] == 1
