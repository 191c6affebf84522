"""The lesson view: one family, one image, made for a projector.

One hook in ``app.py``, once the view is known: ``lesson.take_over(view)``. It adds the
“Lesson view” switch to the sidebar; when the switch is on it draws the lesson and stops
the page there (the tree, the inspector and the downloads are for exploring, not for a
class). ``is_on()`` tells ``app.py`` earlier in the run whether it will (the first
frame asks it). What the lesson shows is computed in ``image_lineage.lesson``; this
module lays it out and keeps the step in the session.

For a projector (1280x720 and up): the lesson is drawn in one keyed container, and a
style sheet scoped to it (``STYLE``) sets its type sizes, which grow with the window's
width, so that a 1920x1080 projector shows the same proportions as a 1280x720 one. The
same sheet hides what ``app.py`` drew before the lesson (title, source, find row, at
whatever depth ``take_over`` is called): hidden, not skipped, so that its widgets keep
their values for when the lesson is switched off, and the lesson starts in the first
screen. The → and ← keys step through the build (once the focus has left the sidebar's
switch and the select boxes: Streamlit gives keys to the input that has the focus).

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
from image_lineage.render.lesson import legend_html, tower_svg
from image_lineage.text import clean_text, human_size
from image_lineage.ui import files
from image_lineage.web import state
from image_lineage.web.state import STATE

STAGE = "lesson_stage"  # the container the lesson is drawn in: its CSS class is st-key-lesson_stage
# The arrow keys, as on the slider: PageDown/PageUp (a clicker's default) would step the
# focused slider the other way, by several steps, once a drag has given it the focus.
NEXT_KEY = "Right"
BACK_KEY = "Left"
# Streamlit gives a key to the switch or box that has the focus (the lesson's own switch
# has it once turned on), not to the buttons.
KEYS_NOTE = "A key goes to the switch or box that has the focus: click on the lesson first."

# The page's style while the lesson is on. Sizes grow with the window's width (vw) from a
# floor that reads at 1280x720: on a 1920x1080 projector a pixel is smaller, so the same
# type needs more of them. The buttons' key hints are hidden (said in their help instead):
# a class has no use for them, and at 1280 px they left no room for the labels.
_ROOT = f".st-key-{STAGE}"
_MAIN = '[data-testid="stMainBlockContainer"]'
STYLE = f"""<style>
{_MAIN}:has({_ROOT}) {{ padding-top: 4rem; }}
/* At every level from the page down to the lesson, all but the lesson. */
{_MAIN} [data-testid="stVerticalBlock"]:has({_ROOT}) > :not({_ROOT}, :has({_ROOT})) {{ display: none; }}
{_ROOT} {{
  --lesson-text: max(19px, 1.3vw);
  --lesson-control: max(20px, 1.45vw);
  --lesson-code: max(18px, 1.25vw);
  --lesson-run: max(22px, 1.75vw);
  font-size: var(--lesson-text);
}}
{_ROOT} [data-testid="stMarkdownContainer"] :is(p, li, td, th),
{_ROOT} [data-testid="stTable"] :is(td, th) {{ font-size: var(--lesson-text); line-height: 1.45; }}
{_ROOT} [data-testid="stCaptionContainer"],
{_ROOT} [data-testid="stCaptionContainer"] p {{
  font-size: var(--lesson-text);
  color: rgb(49 51 63 / 0.85);
  opacity: 1;  /* a faded caption washes out on a projector */
}}
{_ROOT} [data-testid="stMarkdownContainer"] code {{ font-size: 0.92em; }}
{_ROOT} h2 {{ font-size: max(32px, 2.4vw); }}
{_ROOT} h3 {{ font-size: max(25px, 1.85vw); }}
{_ROOT} h4 {{ font-size: max(21px, 1.5vw); }}
{_ROOT} [data-testid="stWidgetLabel"] p {{ font-size: var(--lesson-control); font-weight: 600; }}
{_ROOT} [data-testid="stSelectbox"] input {{ font-size: var(--lesson-control); }}
{_ROOT} [data-testid="stSelectbox"] [role="group"] {{ min-height: 2.2em; }}
{_ROOT} [data-testid="stButton"] button {{ min-height: 2.6em; font-size: var(--lesson-control); }}
{_ROOT} [data-testid="stButton"] button * {{ font-size: var(--lesson-control); }}
{_ROOT} [data-testid="stButton"] kbd {{ display: none; }}
{_ROOT} [data-testid="stSlider"] [data-testid="stSliderThumbValue"],
{_ROOT} [data-testid="stSlider"] [data-testid="stSliderTickBarMin"],
{_ROOT} [data-testid="stSlider"] [data-testid="stSliderTickBarMax"] {{ font-size: var(--lesson-text); }}
{_ROOT} [data-testid="stCode"] code {{ font-size: var(--lesson-code); line-height: 1.4; }}
{_ROOT} .st-key-lesson_run [data-testid="stCode"] code {{ font-size: var(--lesson-run); }}
{_ROOT} [data-testid="stHtml"] li {{ font-size: var(--lesson-text); }}
/* A tall tower fits a screen once scrolled to (narrower, not cut), against the column's left. */
{_ROOT} .st-key-lesson_tower img {{
  max-height: calc(100vh - 2rem);
  object-fit: contain;
  object-position: left top;
}}
</style>"""


def is_on() -> bool:
    """Whether the lesson takes over this run (the switch's value, known before it is drawn)."""
    return STATE.lesson_on


def switch() -> bool:
    """The sidebar's Lesson view switch, drawn on every page (one with no images too, so that
    it does not vanish while a source is being typed); whether it is on."""
    return st.sidebar.toggle(
        "Lesson view",
        key=state.LESSON,
        help="For a class on a projector: one image's layers, built step by step, and how a "
        "container of it meets the outside world. The → and ← keys step through the build once "
        "the lesson has been clicked; closing this sidebar gives the lesson more room.",
    )


def take_over(view: web.PageView, layers_from: str | None = None) -> None:
    """With the switch on, draw the lesson and stop the page; otherwise do nothing.
    ``layers_from``: the source to read the image's layers from (what each step changed)."""
    if not switch():
        return
    lineage = view.everything
    if not len(lineage):
        st.warning(web.plain(view.empty_message or "There are no images to show."))
        st.stop()
    _follow_pick(view)
    with st.container(key=STAGE):
        st.html(STYLE)
        image_id = _choose(lineage)
        _chapter_layers(lineage, image_id, layers_from)
        st.divider()
        _chapter_outside(lineage, image_id)
    st.stop()


def _follow_pick(view: web.PageView) -> None:
    """An image picked in “Inspect an image” becomes the lesson's image (once per pick)."""
    picked = view.selected
    root = None if picked is None else lesson.family_of(view.everything, picked).root
    STATE.follow_pick(picked, root)


def _choose(lineage: Lineage) -> str:
    families = {f.root: f for f in lesson.families(lineage)}
    STATE.lesson_family_among(set(families))
    family_side, image_side = st.columns(2)
    root = family_side.selectbox(
        "Family",
        list(families),
        format_func=lambda r: lesson.family_label(lineage, families[r]),
        key=state.LESSON_FAMILY,
        help="A base image and every image built on it. One family at a time.",
    )
    family = families[root]
    STATE.lesson_image_among(family.members, lesson.default_image(lineage, family))
    chosen: str = image_side.selectbox(
        "Image",
        list(family.members),
        format_func=lambda i: clean_text(lineage.node(i).image.display_name, 80),
        key=state.LESSON_IMAGE,
    )
    return chosen


def _chapter_layers(lineage: Lineage, image_id: str, layers_from: str | None = None) -> None:
    data = lesson.tower(lineage, image_id)
    st.header("1 · Your code runs on layers", anchor=False)
    last = len(data.steps)
    if not last:
        st.info("This image has no recorded build steps: there is no tower to show.")
        return
    key = STATE.start_steps(lineage.node(image_id).image.short_id)  # each starts at step 1
    tower_side, story_side = st.columns([3, 2], gap="large")
    with story_side:
        back, forward = st.columns(2)
        back.button(
            "◀ Step back",
            key="lesson_back",
            on_click=STATE.move_step,
            args=(key, -1, last),
            disabled=last < 2,
            width="stretch",
            shortcut=BACK_KEY,
            help=f"Or press ←. {KEYS_NOTE}",
        )
        forward.button(
            "Next step ▶",
            key="lesson_next",
            on_click=STATE.move_step,
            args=(key, 1, last),
            disabled=last < 2,
            width="stretch",
            shortcut=NEXT_KEY,
            help=f"Or press →. {KEYS_NOTE}",
        )
        number = st.slider("Build step", 1, last, key=key) if last > 1 else 1
        step = data.steps[number - 1]
        st.subheader(web.plain(data.step_title(number)), anchor=False)
        st.code(step.instruction, language="dockerfile", wrap_lines=True)
        st.markdown(f"#### {web.plain(data.step_detail(number))}")
        st.markdown(f"**{web.plain(data.so_far(number))}**")
        layer = sum(1 for s in data.steps[:number] if s.layer) - 1 if step.layer else None
        files.step_changes(lineage.node(image_id), layer, layers_from)
        st.html(legend_html(data))
        st.caption(web.plain(f"{lesson.TOWER_NOTE} {lesson.SIZE_KIND_TEXT[data.size_kind]}"))
    with tower_side, st.container(key="lesson_tower"):
        st.image(tower_svg(data, number), width="stretch")
    _pull(lineage, image_id)


def _pull(lineage: Lineage, image_id: str) -> None:
    plan = lesson.pull_plan(lineage, image_id)
    st.subheader("What docker pull downloads", anchor=False)
    st.markdown(f"#### {web.plain(plan.summary())}")
    if plan.download:
        # A static table: its type follows the lesson's sizes (a data grid draws its own, small).
        st.table(
            [
                {
                    "Step": str(s.number),
                    "Layer": web.code_span(lesson.tower_label(s.instruction), 80),
                    "Size": human_size(s.size),
                }
                for s in plan.download
            ],
            hide_index=True,
        )
    st.caption(web.plain(lesson.SIZE_KIND_TEXT[plan.size_kind]))


def _chapter_outside(lineage: Lineage, image_id: str) -> None:
    image = lineage.node(image_id).image
    world = lesson.outside_world(image)
    st.header("2 · How a container meets the outside world", anchor=False)
    if world.note:
        st.info(web.plain(world.note), icon=":material/info:")
    st.markdown("#### Start a container of it:")
    with st.container(key="lesson_run"):  # large: read from the back of the room; and a copy button
        st.code(world.run_line, language="bash", wrap_lines=True)
    for part in world.parts:
        st.markdown(f"- {web.code_span(part.text)}: {web.plain(part.meaning)}")
    if world.settings:
        st.subheader("What its config says", anchor=False)
        for setting in world.settings:
            name, value, meaning = st.columns([2, 3, 5], vertical_alignment="center")
            name.markdown(f"**{web.plain(setting.name)}**")
            # A value from the image is shown literally (``--`` is not a dash); “none” is prose.
            shown = web.code_span(setting.value, 300) if setting.literal else web.plain(setting.value, 300)
            value.markdown(f"#### {shown}")
            meaning.markdown(web.plain(setting.meaning))
