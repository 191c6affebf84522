"""The lesson view: one family, one image, made for a projector.

One hook in ``app.py``, once the view is known: ``lesson.take_over(view)``. It adds the
“Lesson view” switch to the sidebar; when the switch is on it draws the lesson and stops
the page there (the tree, the inspector and the downloads are for exploring, not for a
class). What the lesson shows is computed in ``image_lineage.lesson``; this module lays
it out and keeps the step in the session.

Chapter 1, “Your code runs on layers”: the picked image's layer tower (oldest at the
bottom, coloured by the image whose build made each layer), stepped through one
instruction at a time, and what ``docker pull`` downloads with the parent already here.
Chapter 2, “How a container meets the outside world”: its ports, volumes, command, user
and working directory, and the ``docker run`` line that uses them.
"""

from __future__ import annotations

import streamlit as st

from image_lineage import lesson, web
from image_lineage.lineage import Lineage
from image_lineage.render.common import clean_text, human_size

SWITCH = "lesson"
FAMILY = "lesson_family"
IMAGE = "lesson_image"
STEP = "lesson_step"  # + the image's short id: each image starts at its whole tower
SEEN = "lesson_seen_pick"  # the page's picked image when the lesson last followed it


def take_over(view: web.PageView) -> None:
    """With the switch on, draw the lesson and stop the page; otherwise do nothing."""
    on = st.sidebar.toggle(
        "Lesson view",
        key=SWITCH,
        help="For a class on a projector: one image's layers, built step by step, and how a "
        "container of it meets the outside world.",
    )
    if not on:
        return
    lineage = view.everything
    if not len(lineage):
        st.warning(web.plain(view.empty_message or "There are no images to show."))
        st.stop()
    _follow_pick(view)
    image_id = _choose(lineage)
    st.divider()
    _chapter_layers(lineage, image_id)
    st.divider()
    _chapter_outside(lineage, image_id)
    st.stop()


def _follow_pick(view: web.PageView) -> None:
    """An image picked in “Inspect an image” becomes the lesson's image (once per pick)."""
    picked = view.selected
    if picked is None or st.session_state.get(SEEN) == picked:
        return
    st.session_state[SEEN] = picked
    st.session_state[FAMILY] = lesson.family_of(view.everything, picked).root
    st.session_state[IMAGE] = picked


def _choose(lineage: Lineage) -> str:
    families = {f.root: f for f in lesson.families(lineage)}
    if st.session_state.get(FAMILY) not in families:
        st.session_state.pop(FAMILY, None)
    family_side, image_side = st.columns(2)
    root = family_side.selectbox(
        "Family",
        list(families),
        format_func=lambda r: f"Built on {families[r].name} ({len(families[r].members)} images)",
        key=FAMILY,
        help="A base image and every image built on it. One family at a time.",
    )
    family = families[root]
    if st.session_state.get(IMAGE) not in family.members:
        st.session_state[IMAGE] = lesson.default_image(lineage, family)
    chosen: str = image_side.selectbox(
        "Image",
        list(family.members),
        format_func=lambda i: clean_text(lineage.node(i).image.display_name, 80),
        key=IMAGE,
    )
    return chosen


def _move(key: str, by: int, last: int) -> None:
    st.session_state[key] = min(max(int(st.session_state.get(key, last)) + by, 1), last)


def _chapter_layers(lineage: Lineage, image_id: str) -> None:
    data = lesson.tower(lineage, image_id)
    st.header("1 · Your code runs on layers", anchor=False)
    last = len(data.steps)
    if not last:
        st.info("This image has no recorded build steps: there is no tower to show.")
        return
    key = f"{STEP}_{lineage.node(image_id).image.short_id}"
    tower_side, story_side = st.columns([3, 2], gap="large")
    with story_side:
        back, forward = st.columns(2)
        back.button(
            "◀ Step back",
            key="lesson_back",
            on_click=_move,
            args=(key, -1, last),
            disabled=last < 2,
            width="stretch",
        )
        forward.button(
            "Next step ▶",
            key="lesson_next",
            on_click=_move,
            args=(key, 1, last),
            disabled=last < 2,
            width="stretch",
        )
        st.session_state.setdefault(key, last)  # each image starts with its whole tower
        number = st.slider("Build step", 1, last, key=key) if last > 1 else 1
        step = data.steps[number - 1]
        st.subheader(web.plain(data.step_title(number)), anchor=False)
        st.code(step.instruction, language="dockerfile", wrap_lines=True)
        st.markdown(f"#### {web.plain(data.step_detail(number))}")
        built = data.layers(number)
        st.markdown(
            f"**The tower so far: {len(built)} layer{'s' if len(built) != 1 else ''}, "
            f"{web.plain(human_size(sum(s.size for s in built)))}**"
        )
        st.image(lesson.legend_svg(data), width="stretch")
        st.caption(
            "Each block is a layer: the files one step added, oldest at the bottom. Its colour says "
            "whose build made it. Steps such as ENV, LABEL or CMD change only the settings and add no layer."
        )
    with tower_side:
        st.image(lesson.tower_svg(data, number), width="stretch")
    _pull(lineage, image_id)


def _pull(lineage: Lineage, image_id: str) -> None:
    plan = lesson.pull_plan(lineage, image_id)
    st.subheader("What docker pull downloads", anchor=False)
    st.markdown(f"#### {web.plain(plan.summary())}")
    if plan.download:
        st.dataframe(
            [
                {"Step": s.number, "Layer": lesson.tower_label(s.instruction), "Size": human_size(s.size)}
                for s in plan.download
            ],
            hide_index=True,
            width="stretch",
            key="lesson_pull",
        )
    st.caption(web.plain(lesson.SIZE_KIND_TEXT[plan.size_kind]))


def _chapter_outside(lineage: Lineage, image_id: str) -> None:
    image = lineage.node(image_id).image
    world = lesson.outside_world(image)
    st.header("2 · How a container meets the outside world", anchor=False)
    if world.note:
        st.info(web.plain(world.note), icon=":material/info:")
    st.markdown("#### Start a container of it:")
    st.markdown(f"### {web.code_span(world.run_line, 600)}")  # large: read from the back of the room
    for part in world.parts:
        st.markdown(f"- {web.code_span(part.text)}: {web.plain(part.meaning)}")
    if world.settings:
        st.subheader("What its config says", anchor=False)
        for setting in world.settings:
            name, value, meaning = st.columns([2, 3, 5], vertical_alignment="center")
            name.markdown(f"**{web.plain(setting.name)}**")
            value.markdown(f"#### {web.plain(setting.value, 300)}")
            meaning.markdown(web.plain(setting.meaning))
