"""What went wrong with an engine, as a domain error that says what to do.

Both transports (``transport.py``) hand their failures here, so that the same fault
reads the same whichever transport met it.
"""

from __future__ import annotations

from dataclasses import dataclass

from image_lineage.errors import SourceUnavailable


@dataclass(frozen=True, slots=True)
class Engine:
    """What to call an engine in messages, and how its user gets it running."""

    name: str
    start: str
    permission: str


DOCKER = Engine(
    name="Docker Engine",
    start="start Docker, set DOCKER_HOST",
    permission="add your user to the 'docker' group (then log in again), or point DOCKER_HOST "
    "at a socket you may use",
)


class ImageGone(Exception):
    """The engine answered 404: the image was removed after it was listed."""


def unavailable(
    endpoint: str, error: BaseException, timeout: float, engine: Engine = DOCKER
) -> SourceUnavailable:
    """Turn the many ways of failing to reach an engine into one actionable sentence."""
    text = f"{type(error).__name__} {error!r} {error}"
    where = f"the {engine.name} at {endpoint}"
    if isinstance(error, PermissionError) or "PermissionError" in text or "Permission denied" in text:
        return SourceUnavailable(f"Permission denied on {where}: {engine.permission}.")
    if isinstance(error, FileNotFoundError) or "FileNotFoundError" in text or "No such file" in text:
        return SourceUnavailable(
            f"No {engine.name} is listening at {endpoint} (no such socket): {engine.start}, "
            "or try --source sample."
        )
    if isinstance(error, TimeoutError) or "timed out" in text.lower() or "Timeout" in text:
        return SourceUnavailable(
            f"The {engine.name} at {endpoint} did not answer within {timeout:g} s: check that "
            "the daemon is healthy, or raise --timeout."
        )
    if isinstance(error, ConnectionError) or "Connection refused" in text or "Connection aborted" in text:
        return SourceUnavailable(
            f"The {engine.name} at {endpoint} refused or dropped the connection: is the daemon "
            "running? Start it, or try --source sample."
        )
    return SourceUnavailable(f"Cannot read images from {where}: {error}")
