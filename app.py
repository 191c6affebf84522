"""image-lineage in the browser: layout and widgets only.

Run with ``streamlit run app.py`` (``.streamlit/config.toml`` binds it to 127.0.0.1).
What is computed and how lives in ``image_lineage.web`` and the core; see
``docs/web-app.md``.
"""

from __future__ import annotations

import functools

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from image_lineage import web
from image_lineage.text import human_size
from image_lineage.ui import files, first_frame, lesson, look, overview, stale, tree
from image_lineage.ui.first_frame import DEFAULTS
from image_lineage.web import state
from image_lineage.web.state import STATE

st.set_page_config(page_title="image-lineage", page_icon=web.PAGE_ICON, layout="wide")
look.apply()

# --------------------------------------------------------------------------- sidebar: what to read, how


def sidebar() -> tuple[first_frame.Sidebar, DeltaGenerator]:
    """The sidebar's widgets: their values, and the place kept for the platform's."""
    with st.sidebar:
        return _sidebar_widgets()


def _sidebar_widgets() -> tuple[first_frame.Sidebar, DeltaGenerator]:
    choice = st.radio(
        "Where are the images?",
        list(web.SOURCES),
        format_func=web.SOURCES.__getitem__,
        key="source",
    )
    more = st.multiselect(
        "Add more sources",
        [kind for kind in web.MORE_SOURCES if kind != choice],
        format_func=web.SOURCES.__getitem__,
        key="more_sources",
        placeholder="None: only the one above",
        help="Read several places as one tree, such as this machine's engine and a registry: "
        "an image found in both is one box, and says where it was found.",
    )
    kinds = list(dict.fromkeys([choice, *more]))
    endpoint = registry_url = ""
    upload = None
    if "docker" in kinds:
        endpoint = st.text_input(
            "Engine address",
            key="endpoint",
            placeholder="unix:///var/run/docker.sock",
            help="Empty: DOCKER_HOST, else the current docker context, else the default socket. Examples: "
            "unix:///run/user/1000/docker.sock, tcp://127.0.0.1:2375, or context:NAME for a docker context. "
            "A Podman service speaks the same API: unix:///run/podman/podman.sock.",
        )
    if "registry" in kinds:
        registry_url = st.text_input(
            "Registry address",
            key="registry_url",
            placeholder="https://registry.example.com/team/app",
            help="A registry's address reads its whole catalog; add a repository to read only that one. "
            "Anonymous reading; no layer is downloaded.",
        )
    if "upload" in kinds:
        upload = st.file_uploader(
            "Snapshot file",
            type=["json"],
            key="upload",
            help="Made with: image-lineage snapshot -o scan.json (on any machine with Docker).",
        )
    # Filled once the images are read: offered only when they are of several platforms.
    platform_slot = st.container()
    show_intermediate = st.toggle(
        "Intermediate images",
        value=DEFAULTS.show_intermediate,
        key="show_intermediate",
        help="The hidden steps the classic builder keeps (docker images -a).",
    )
    collapse = st.toggle(
        "Only where builds branch",
        value=DEFAULTS.collapse,
        key="collapse",
        disabled=not show_intermediate,
        help="Hide the intermediate images that only continue a chain (one per build step); "
        "keep those where two builds part ways.",
    )
    show_untagged = st.toggle(
        "Untagged images (<none>)",
        value=DEFAULTS.show_untagged,
        key="show_untagged",
        help="Images that have lost their tag.",
    )
    rankdir = st.radio(
        "Tree direction",
        list(web.RANKDIRS),
        format_func=web.RANKDIRS.__getitem__,
        key="rankdir",
        horizontal=True,
        help="Left to right suits trees with many images side by side.",
    )
    classroom = st.toggle(
        "Classroom explanations",
        value=DEFAULTS.classroom,
        key="classroom",
        help="Short notes beside what is shown.",
    )
    show_secrets = st.toggle(
        "Show secrets",
        value=DEFAULTS.show_secrets,
        key="show_secrets",
        help="Values that look like passwords, tokens or keys in build steps and labels are shown "
        "as *** (also in the downloads) unless this is on.",
    )
    if st.button("Refresh", key="refresh", icon=":material/refresh:", help="Read the images again now."):
        web.load.clear()
    return (
        first_frame.Sidebar(
            tuple(kinds),
            endpoint,
            registry_url,
            upload,
            show_intermediate,
            collapse,
            show_untagged,
            rankdir,
            classroom,
            show_secrets,
        ),
        platform_slot,
    )


# The session's first run sends the title row, the tagline and the tree alone; the rest comes
# with the next run, which the tree asks for once drawn (ui/first_frame.py): a browser shows
# the page only once it has loaded the script of every kind of element sent, and the
# widgets' are many.
first = first_frame.pending()
st.sidebar.header("Images")  # in the first frame too: the page has its final width from the start
settings, platform_slot = (DEFAULTS, None) if first else sidebar()

# --------------------------------------------------------------------------- reading

# The title shares its row with the headline numbers (filled in once the view is known),
# so that the graph starts in the first screen.
title, numbers = st.columns([1, 2], vertical_alignment="bottom")
title.title("Image lineage", anchor=False)


def _spec(kind: str) -> str:
    return web.source_spec(kind, settings.registry_url if kind == "registry" else settings.endpoint)


def _read(kind: str) -> web.Loaded:
    if kind != "upload":
        return web.load(_spec(kind), settings.show_intermediate)
    if settings.upload is None:
        return web.Loaded(None, problem=web.no_upload_text())
    return web.load(settings.upload.getvalue(), settings.show_intermediate, settings.upload.name)


loaded = web.merge_loaded([(web.SOURCES[kind], _read(kind)) for kind in settings.kinds])
opening = first_frame.tree_view(loaded.scan) if first and loaded.scan is not None else None
if first and opening is None:
    first_frame.skip()  # the page opens on an error, the overview or the lesson: nothing to paint first

if loaded.scan is None:
    st.caption(web.TAGLINE)
    if settings.awaiting_input():
        # Nothing typed or chosen yet: what to do next, not an error.
        st.info(web.plain(loaded.problem or "Nothing to show."), icon=":material/info:")
    else:
        st.error(web.plain(loaded.problem or "Nothing to show."), icon=":material/error:")
        st.info("Pick another source in the sidebar: the bundled sample always works.")
    if not first:
        lesson.switch()  # in its place while the source is being typed
    st.stop()

scan = loaded.scan
st.caption(f"{web.TAGLINE} {web.plain(web.describe_source(scan.source, loaded.file))}")
if loaded.note:
    st.info(web.plain(loaded.note), icon=":material/info:")

# Everything between the tagline and the graph is in one container, empty in the first
# frame, so that the tree's element has the same place in both runs.
controls = st.container()
if opening is not None:  # the first frame: the graph's column, the bar above it (empty), the tree
    with st.columns(1)[0]:
        st.container()
        tree.show(opening, first_frame=True)
    first_frame.rest_later()

# --------------------------------------------------------------------------- finding and picking

# Where the picked image's layers are read from, if the images come from a source that keeps them.
layers_from = files.source([_spec(kind) for kind in settings.kinds if kind != "upload"], scan.source.kind)
with controls:
    platform = web.HOST
    if platform_slot is not None and (platform_choices := web.platform_choices(scan)):
        platform = platform_slot.selectbox(
            "Platform",
            platform_choices,
            format_func=web.platform_label,
            key="platform",
            help="Each image is built for one operating system and processor (linux/amd64, linux/arm64, "
            "...) and only ever on an image of its own platform. Images whose platform is unknown always "
            "show.",
        )
    find, pick, zoom = st.columns([2, 3, 2], vertical_alignment="bottom")
    query = find.text_input("Find an image", key="search", placeholder="part of a name, e.g. notebook")
    view = web.make_view(scan, settings.options(query, platform))
    selected = pick.selectbox(
        "Inspect an image",
        view.choices(),
        index=None,
        format_func=view.label,
        key=state.IMAGE,
        placeholder="Pick one (type to search)",
    )
    focused = zoom.toggle(
        "Only its family",
        key=state.FOCUS,
        disabled=selected is None,
        help="Show only the picked image, its ancestors and its descendants.",
    )
    # Above ~40 images one family at a time; tags grouped by repository; the images to rebuild marked.
    page = web.make_page(view, selected, focused, STATE.browsing())
    STATE.keep_open(page.family)
    view = page.view
    stale.show(page.report)  # the images to rebuild, listed
    if view.platform_note:
        st.info(web.plain(view.platform_note), icon=":material/filter_alt:")
    lesson.take_over(view, layers_from)  # the lesson view, when switched on, is the rest of the page

# --------------------------------------------------------------------------- headline numbers

disk = view.disk
with numbers:
    images, naive, shared, saved = st.columns(4)
images.metric("Images shown", disk.images)
naive.metric(
    "Sizes added up",
    human_size(disk.naive),
    help="What adding up the SIZE column of docker images suggests.",
)
shared.metric(
    "Disk really used",
    human_size(disk.shared) if disk.exact else f"≈ {human_size(disk.shared)}",
    help="Each layer counted once, as the engine stores it.",
)
saved.metric(
    "Layer sharing saves",
    human_size(disk.saved),
    delta=f"{disk.saved / disk.naive:.0%} of the sum" if disk.naive else None,
    delta_color="off",
    delta_arrow="off",
)

# --------------------------------------------------------------------------- the family tree

# The whole width for the graph; once an image is picked, the graph on the left and the
# image beside it, both in the first screen (the classroom notes about the graph beside it
# when none is). The graph is always in a first column, so that picking an image keeps the
# tree where it is (its frame, its drawing and its zoom) rather than drawing it afresh.
notes_beside = settings.classroom and view.selected is None and not view.empty_message
image_side: DeltaGenerator | None
if view.selected is not None:
    graph_side, image_side = st.columns(web.COLUMNS, gap="medium")
elif notes_beside:
    graph_side, image_side = st.columns(web.NOTE_COLUMNS, gap="medium")
else:
    graph_side, image_side = st.columns(1)[0], None

with graph_side:
    with st.container():  # above the tree: the warning, the overview instead, or the overview's bar
        if view.empty_message:
            st.warning(web.plain(view.empty_message))
        shows_tree = not view.empty_message and not overview.drawn_instead(page, layers_from)
    if shows_tree:
        tree.show(view)  # the interactive tree: pan, zoom, hover, collapse; a click picks the image
        if settings.classroom and not notes_beside:  # the inspector is beside: the notes right under the tree
            for key in ("sizes", "sharing", "untagged"):
                st.info(web.CLASSROOM[key], icon=":material/school:")
        st.caption(web.legend(len(view.shown)))
        st.write("Download what is shown:")
        buttons = st.columns(len(web.EXPORTS))
        graphviz = web.graphviz_installed()
        for column, item in zip(buttons, web.EXPORTS, strict=True):
            missing = item.needs_graphviz and not graphviz
            column.download_button(
                item.label,
                data=functools.partial(web.export, view, item.fmt),
                file_name=web.export_name(view, item),
                mime=item.mime,
                key=f"download_{item.fmt}",
                on_click="ignore",
                disabled=missing,
                help="Needs Graphviz's dot program on the server." if missing else None,
                width="stretch",
            )
    if settings.classroom and view.empty_message:
        st.info(web.CLASSROOM["sizes"], icon=":material/school:")

if notes_beside and image_side is not None:
    with image_side:
        st.subheader("Reading the tree", anchor=False)
        for key in ("sizes", "sharing", "untagged"):
            st.info(web.CLASSROOM[key], icon=":material/school:")

# --------------------------------------------------------------------------- one image

STEP_ROW_HEIGHT = 68  # px: over 4rem, so that the grid wraps a long instruction on up to three lines

if image_side is not None and view.selected is not None:
    with image_side:
        details = web.image_details(view, view.selected)
        image = details.node.image
        st.subheader(f"Inspecting {web.code_span(image.display_name)}", anchor=False)
        if len(image.tags) > 1:
            st.markdown("Also tagged " + ", ".join(web.code_span(tag) for tag in image.tags[1:]))
        st.caption(web.plain(f"{details.id_text} {details.summary}"))
        if details.platform_text:
            st.caption(web.plain(details.platform_text))
        if details.found:
            st.caption(web.plain(details.found))
        if details.rebuilt is not None:
            st.warning(web.plain(details.rebuilt), icon=":material/update:")
            if settings.classroom:
                st.info(web.CLASSROOM["rebuilt"], icon=":material/school:")
        for note in details.notes:
            st.caption(web.plain(note))

        st.markdown("**Where its size comes from**: what its base, each ancestor and the image itself add")
        st.vega_lite_chart(spec=details.split_spec(), width="stretch")
        st.markdown("**Its steps, oldest first**")
        table = details.layer_table()
        # As the HTML export's table: instructions wrap rather than being cut (the grid wraps
        # text in rows taller than 4rem), and "Made by" stays in view beside them.
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            row_height=STEP_ROW_HEIGHT,
            height=min(STEP_ROW_HEIGHT * len(table) + 40, 640),
            column_config={
                # Narrow enough to fit the inspector's column at 1440 px (they stretch wider).
                "Step": st.column_config.NumberColumn(width=36),
                "Instruction": st.column_config.TextColumn(width=140),
                "Size": st.column_config.TextColumn(width=100),
                "Made by": st.column_config.TextColumn(width=96),
            },
            key="layers",
        )
        if settings.classroom:
            st.info(web.CLASSROOM["layer"], icon=":material/school:")
            st.info(web.CLASSROOM["metadata"], icon=":material/school:")
        st.markdown("**A Dockerfile reconstructed from its history**: `FROM` its parent, then its own steps")
        st.code(details.dockerfile, language="dockerfile", wrap_lines=True)
        parent = details.node.parent
        parent_layers = len(view.everything.node(parent).image.layers) if parent else 0
        files.show(details.node, layers_from, parent_layers)  # the Files view: reads only when asked

# --------------------------------------------------------------------------- what the scan noticed

notes = web.scan_notes(view)
if notes:
    with st.expander(f"{len(notes)} note{'s' if len(notes) > 1 else ''} about these images"):
        for note in notes:
            st.text(note)
