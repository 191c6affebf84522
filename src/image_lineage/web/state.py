"""The page's state in the session: the one module that reads or writes ``st.session_state``.

Streamlit keeps a session's state in ``st.session_state``: every keyed widget's value, and
what the page remembers between runs (the family open in a big collection, the lesson's
step, whether the first frame was painted, the tree's last drawing). The page's parts
(``app.py``, ``ui/``) go through ``STATE`` for all of it, each by name, and give widgets
their keys from here when code other than the widget reads or sets their value: the picker's
key ``IMAGE`` is written here and nowhere else.

Reading never changes anything: a property only reads, and every change is a method named
for what it does.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from image_lineage.web.page import Browsing

# Widgets whose values code reads or sets.
IMAGE = "image"  # the picker, "Inspect an image"; a click in the tree sets it
FOCUS = "focus"  # "Only its family"
GROUP = "group_repositories"  # "Group tags by repository"
EXPANDED = "expanded_repositories"  # "Show each image of": repositories drawn image by image
FAMILY_PICK = "family"  # "Open a family's tree"
FAMILY_TABLE = "families"  # the families table (click a row to open it)
RANK_HIDDEN = "rank_hidden"  # "Rank by what ships for nothing": reads every image's layers
LESSON = "lesson"  # the "Lesson view" switch
LESSON_FAMILY = "lesson_family"
LESSON_IMAGE = "lesson_image"
LESSON_STEP = "lesson_step"  # + the image's short id: each image starts at its first step
TREE = "tree"  # the tree element: its last triggers

# What the page remembers that no widget shows.
OPEN = "open_family"  # the root id of the family whose tree is shown
WHOLE = "whole_tree"  # True: draw every image in one tree, however many
LESSON_SEEN = "lesson_seen_pick"  # the picked image when the lesson last followed it
TREE_SENT = "tree_drawing_sent"  # the digest of the drawing last sent to the tree element
FIRST_FRAME_DONE = "first_frame_done"  # the first frame was painted (or skipped)


class PageState:
    """The session's page state, by name."""

    @property
    def _session(self) -> Any:
        return st.session_state  # looked up on each use: AppTest's tests swap it

    # ----------------------------------------------------------------------- the first frame

    @property
    def first_frame_pending(self) -> bool:
        """True until the first frame was painted or skipped (a fresh page, a reload)."""
        return not self._session.get(FIRST_FRAME_DONE, False)

    def first_frame_done(self) -> None:
        self._session[FIRST_FRAME_DONE] = True

    # ----------------------------------------------------------------------- picking

    def pick(self, image_id: str | None) -> None:
        """Set the picker, as if the image had been picked there (None: nothing picked)."""
        self._session[IMAGE] = image_id

    # ----------------------------------------------------------------------- a big collection

    def browsing(self) -> Browsing:
        """The choices the page model needs: the family open, the whole tree, the grouping."""
        return Browsing(
            family=self._session.get(OPEN),
            whole=bool(self._session.get(WHOLE, False)),
            grouped=bool(self._session.get(GROUP, False)),
            expanded=frozenset(self._session.get(EXPANDED, ())),
        )

    def keep_open(self, root: str | None) -> None:
        """Remember the family the page model opened (a picked image's, when crowded)."""
        if self._session.get(OPEN) != root:
            self._session[OPEN] = root

    def open_family(self, root: str | None) -> None:
        """Open ``root``'s family (None: back to the overview), not the whole tree."""
        self._session[OPEN] = root
        self._session[WHOLE] = False

    def open_picked_family(self) -> None:
        """Open the family chosen under “Open a family's tree”."""
        self.open_family(self._session.get(FAMILY_PICK))

    def open_table_row(self, roots: list[str]) -> None:
        """Open the family of the row clicked in the families table (``roots``: each row's)."""
        rows = self._session[FAMILY_TABLE].selection.rows
        if rows:
            self.open_family(roots[rows[0]])

    def draw_whole(self) -> None:
        self._session[WHOLE] = True

    def back_to_overview(self) -> None:
        """Close the family, and unpick the image (a pick would open its family again)."""
        self.open_family(None)
        self.pick(None)
        self._session[FOCUS] = False

    # ----------------------------------------------------------------------- the lesson

    @property
    def lesson_on(self) -> bool:
        """The lesson switch's value, known before the switch is drawn."""
        return bool(self._session.get(LESSON, False))

    def follow_pick(self, picked: str | None, root: str | None) -> None:
        """The lesson shows the picked image (and ``root``, its family), once per pick."""
        if picked is None or self._session.get(LESSON_SEEN) == picked:
            return
        self._session[LESSON_SEEN] = picked
        self._session[LESSON_FAMILY] = root
        self._session[LESSON_IMAGE] = picked

    def lesson_family_among(self, roots: set[str]) -> None:
        """Forget the lesson's family when it is not among ``roots`` (the select box starts over)."""
        if self._session.get(LESSON_FAMILY) not in roots:
            self._session.pop(LESSON_FAMILY, None)

    def lesson_image_among(self, members: tuple[str, ...] | list[str], default: str) -> None:
        """The lesson's image, ``default`` when the one chosen is not among ``members``."""
        if self._session.get(LESSON_IMAGE) not in members:
            self._session[LESSON_IMAGE] = default

    def start_steps(self, short_id: str) -> str:
        """The key of an image's build-step slider, started at the first step the first time the
        image is shown (a lesson told from its start: "Next step" has somewhere to go)."""
        key = f"{LESSON_STEP}_{short_id}"
        self._session.setdefault(key, 1)
        return key

    def move_step(self, key: str, by: int, last: int) -> None:
        """Move a build-step slider by ``by``, within 1 and ``last``."""
        self._session[key] = min(max(int(self._session.get(key, last)) + by, 1), last)

    # ----------------------------------------------------------------------- the tree

    def tree_trigger(self, name: str) -> Any:
        """The value of the tree element's trigger ``name`` in this interaction (in its callback)."""
        value = self._session.get(TREE)
        return value.get(name) if isinstance(value, dict) else None

    @property
    def tree_sent(self) -> str | None:
        """The digest of the drawing the tree element holds, as far as the server knows."""
        sent = self._session.get(TREE_SENT)
        return sent if isinstance(sent, str) else None

    def tree_holds(self, digest: str | None) -> None:
        self._session[TREE_SENT] = digest


STATE = PageState()
