"""What went wrong with containerd, in one line that says what to do (as for the engine).

Reaching the socket fails as any engine's does (no socket, permission denied, refused): the
socket is tried with a plain ``connect`` first, so the operating system's ``errno`` types tell
why, worded by ``sources/engine/errors.unavailable``. After that, gRPC status codes tell the
rest (never the words of a status's details, which are shown, not matched).
"""

from __future__ import annotations

from collections.abc import Sequence

from image_lineage.errors import Hint, SourceUnavailable
from image_lineage.sources.engine.errors import Engine

CONTAINERD = Engine(
    name="containerd",
    start="start containerd (systemctl start containerd)",
    permission="run as root (sudo: its socket is root's)",
)
#: The oldest containerd whose images, content and namespaces services this tool reads (v1 APIs).
OLDEST = (1, 0)


def not_grpc(address: str) -> SourceUnavailable:
    return SourceUnavailable(
        f"{address} does not answer like containerd (no gRPC there); check the address", hint=Hint.TRY_SAMPLE
    )


def too_old(address: str, what: str, version: str = "") -> SourceUnavailable:
    """A daemon without a service or call this tool needs (``UNIMPLEMENTED``), or older than ``OLDEST``."""
    which = f" ({version})" if version else ""
    oldest = ".".join(map(str, OLDEST))
    return SourceUnavailable(
        f"The containerd at {address}{which} does not implement {what}: it is too old, or not "
        f"containerd; this tool reads containerd {oldest} or later",
        hint=Hint.TRY_SAMPLE,
    )


def not_reached(error: SourceUnavailable) -> SourceUnavailable:
    """No containerd at the socket tried (none, not ours, refused): maybe it is elsewhere."""
    return SourceUnavailable(str(error), hint=Hint.CONTAINERD_ADDRESS)


def unknown_namespace(address: str, namespace: str, known: Sequence[str]) -> SourceUnavailable:
    have = f"it has {', '.join(known)}" if known else "it has none yet"
    return SourceUnavailable(
        f"The containerd at {address} has no namespace {namespace!r} ({have})", hint=Hint.CONTAINERD_NAMESPACE
    )


def several_namespaces(address: str, with_images: Sequence[str]) -> SourceUnavailable:
    return SourceUnavailable(
        f"The containerd at {address} has images in several namespaces ({', '.join(with_images)}), "
        "none of them k8s.io",
        hint=Hint.CONTAINERD_NAMESPACE,
    )


def timed_out(address: str, timeout: float) -> SourceUnavailable:
    return SourceUnavailable(
        f"The containerd at {address} did not answer within {timeout:g} s; check that it is healthy",
        hint=Hint.RAISE_TIMEOUT,
    )


def failed(address: str, call: str, code: str, details: str) -> SourceUnavailable:
    said = " ".join(details.split())[:200]
    return SourceUnavailable(
        f"The containerd at {address} failed to answer {call} ({code}{': ' + said if said else ''}); "
        "check that it is healthy",
        hint=Hint.TRY_SAMPLE,
    )
