"""The few domain errors that the CLI and the web app turn into one-line messages.

Each carries a message written for the user: what happened and what to do.
Anything else that escapes is a bug and is allowed to show a traceback.
"""

from __future__ import annotations


class LineageError(Exception):
    """Base class of every expected failure."""


class SourceUnavailable(LineageError):
    """The image source cannot be reached (daemon down, socket denied, timeout)."""


class SnapshotError(LineageError):
    """A snapshot file is missing, unreadable, malformed or of an unknown version."""


class ArchiveError(LineageError):
    """An image archive is missing, damaged, unsafe or not in a format we read."""


class UnknownImage(LineageError):
    """A name or id given by the user matches no image."""


class RenderError(LineageError):
    """An output format cannot be produced here (for example Graphviz is missing)."""
