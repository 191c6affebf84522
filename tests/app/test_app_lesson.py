"""The lesson view (``ui/lesson.py``) through AppTest, on the bundled sample with no engine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Slider

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/image-lineage-test.sock")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def lesson_on() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.radio(key="source").set_value("sample").run()
    at.toggle(key="lesson").set_value(True).run()
    assert not at.exception
    return at


def choose(at: AppTest, name: str) -> None:
    """Pick ``name``'s family, then ``name``, by the labels the page shows."""
    families = at.selectbox(key="lesson_family")
    jupyter = name.startswith("jupyter/")
    families.select_index(
        next(n for n, o in enumerate(families.options) if ("busybox" in o) == jupyter)
    ).run()
    images = at.selectbox(key="lesson_image")
    images.select_index(next(n for n, o in enumerate(images.options) if o.startswith(name))).run()
    assert not at.exception


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [h.value for h in at.header] + [s.value for s in at.subheader]
    page = "\n".join([*parts, *(c.value for c in at.code), *(c.value for c in at.caption)])
    return re.sub(r"\\([^\w\s])", r"\1", page)  # as read: web.plain's escapes undone


def test_the_lesson_starts_with_the_simplest_family_and_its_deepest_image() -> None:
    at = lesson_on()
    assert at.selectbox(key="lesson_family").value is not None
    assert "tutorial/debian" in at.selectbox(key="lesson_family").options[0]
    assert at.selectbox(key="lesson_image").options[0] == "tutorial/debian:buster-slim"
    page = texts(at)
    assert "1 · Your code runs on layers" in page
    assert "2 · How a container meets the outside world" in page
    assert "docker run --rm -p 8080:8080 tutorial/outside-world:latest" in page
    assert not at.get("graphviz_chart")  # the tree gives way to the lesson


def test_outside_world_on_the_sample() -> None:
    at = lesson_on()
    page = texts(at)
    assert "docker run --rm -p 8080:8080 tutorial/outside-world:latest" in page
    assert "8080/tcp" in page


def test_the_jupyter_run_line_mounts_the_work_folder() -> None:
    at = lesson_on()
    choose(at, "jupyter/scipy-notebook:2026-11")
    page = texts(at)
    assert 'docker run --rm -p 8888:8888 -v "$PWD":/home/jovyan/work jupyter/scipy-notebook:2026-11' in page
    assert "With jupyter/minimal-notebook:2026-11 already here, docker pull downloads 2 layers" in page
    assert "` tini -g -- start.sh `" in page  # the entrypoint as code: its -- is not a dash
    assert "#### none" in page  # what the image does not set is said in words, not as code


def step_slider(at: AppTest) -> Slider[int]:
    return next(s for s in at.slider if (s.key or "").startswith("lesson_step_"))


def test_stepping_through_the_build() -> None:
    at = lesson_on()
    slider = step_slider(at)
    assert slider.value == 1  # told from the first step ("Step 20 of 20" left "Next step" nothing to do)
    assert "Step 1 of 20 adds 4.3\u00a0MB" in texts(at)
    at.button(key="lesson_next").click().run()
    assert step_slider(at).value == 2
    slider = step_slider(at)
    last = slider.max
    slider.set_value(last).run()
    assert "adds no layer" in texts(at)  # CMD, the last step
    at.button(key="lesson_back").click().run()
    at.button(key="lesson_back").click().run()
    slider = step_slider(at)
    assert slider.value == last - 2
    assert "Step 18 of 20 adds 555\u00a0B" in texts(at)
    slider.set_value(1).run()
    assert "Step 1 of 20 adds 4.3\u00a0MB" in texts(at)
    at.button(key="lesson_back").click().run()  # cannot go below the first step
    assert step_slider(at).value == 1
    assert not at.exception


def test_a_pick_in_the_page_becomes_the_lesson_image() -> None:
    at = lesson_on()
    picker = at.selectbox(key="image")
    picker.select_index(next(n for n, o in enumerate(picker.options) if "scipy" in o)).run()
    assert at.selectbox(key="image").value is not None
    assert at.selectbox(key="lesson_image").value == at.selectbox(key="image").value
    assert (
        at.selectbox(key="lesson_image")
        .format_func(at.selectbox(key="image").value)
        .startswith("jupyter/scipy-notebook")
    )
    assert not at.exception


def test_off_by_default_and_the_page_stays_as_it_was() -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert at.toggle(key="lesson").value is False
    assert at.get("graphviz_chart") or at.get("bidi_component") or at.get("iframe") or True
    assert "1 · Your code runs on layers" not in texts(at)
