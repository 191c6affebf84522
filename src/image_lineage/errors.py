"""The domain errors that the CLI and the web app turn into one-line messages.

An error says *what happened* in its message, in words that fit any front end, and
names *what to do* as a ``Hint``: the terminal words a hint as a flag
(``--source sample``), the app as a widget ("pick the bundled sample in the
sidebar"). Messages never mention a command-line flag or a widget themselves.
Anything else that escapes is a bug and is allowed to show a traceback.
"""

from __future__ import annotations

from enum import Enum


class Hint(Enum):
    """A remedy each front end words its own way (see ``cli.HINTS`` and ``web.HINTS``)."""

    TRY_SAMPLE = "try_sample"
    """Nothing to read here: look at the bundled sample instead."""
    RAISE_TIMEOUT = "raise_timeout"
    """The source answered too slowly: wait longer for each answer."""
    REGISTRY_ADDRESS = "registry_address"
    """Give a registry's address: https://HOST[:PORT][/REPOSITORY]."""
    CHOOSE_CONTEXT = "choose_context"
    """The Docker context named does not exist: name one that ``docker context ls`` lists."""
    ADD_SCHEME = "add_scheme"
    """An engine address needs its scheme: unix:// or tcp://."""
    CHOOSE_SOURCE = "choose_source"
    """The source named does not exist: list the ones there are."""
    WRITE_TO_FILE = "write_to_file"
    """Binary output cannot go to this stream: write a file instead."""
    SHOW_ALL = "show_all"
    """The image asked for is hidden: include intermediate images."""
    ALL_PLATFORMS = "all_platforms"
    """Images of other platforms than the host's are hidden: show every platform."""
    CONTAINERD_ADDRESS = "containerd_address"
    """containerd is elsewhere, or its images in another namespace: name its socket and namespace."""
    CONTAINERD_NAMESPACE = "containerd_namespace"
    """containerd answered, without the namespace asked for or with several to choose from: name one."""


def with_remedy(message: str, remedy: str) -> str:
    """``No engine at X.`` + ``or try Y`` -> ``No engine at X, or try Y.`` (else joined by a colon)."""
    text = message.rstrip().rstrip(".")
    return f"{text}{', ' if remedy.startswith('or ') else ': '}{remedy}."


class LineageError(Exception):
    """Base class of every expected failure: ``str(error)`` is what happened; ``hint`` what to do."""

    def __init__(self, message: str, *, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.hint = hint


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
