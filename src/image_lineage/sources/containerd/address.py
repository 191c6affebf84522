"""``containerd[:ADDRESS][?namespace=NS]`` read: where the socket is and which namespace to read.

Pure: the socket is looked for (``find_socket``) but never opened here. ADDRESS is
``unix:///path/containerd.sock`` or a plain path; without one, ``$CONTAINERD_ADDRESS`` (as
``ctr`` and nerdctl read it), else the system socket (``/run/containerd/containerd.sock``),
else a rootless one (``$XDG_RUNTIME_DIR/containerd/containerd.sock``). NS is a namespace,
``all``, or nothing: ``$CONTAINERD_NAMESPACE``, else ``k8s.io`` if it is there, else the only
namespace with images.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from image_lineage.errors import LineageError

SYSTEM_SOCKET = Path("/run/containerd/containerd.sock")
#: Kubernetes' namespace (the CRI plugin's): a node's images are there.
KUBERNETES = "k8s.io"
#: ``?namespace=all``: every namespace.
ALL = "all"
# containerd's own rule for a namespace name (namespaces/validate.go): runs of letters and
# digits joined by single dots, dashes or underscores, at most 76 characters.
_NAMESPACE = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")
_MAX_NAMESPACE = 76


@dataclass(frozen=True, slots=True)
class Spec:
    """``path`` None: look for the socket (``find_socket``); ``namespace`` "": choose one."""

    path: Path | None
    namespace: str = ""


def parse_spec(rest: str, environ: Mapping[str, str] | None = None) -> Spec:
    """What follows ``containerd:`` in a source spec, what the environment says where it says
    nothing (``CONTAINERD_ADDRESS``, ``CONTAINERD_NAMESPACE``); ``LineageError`` for one that is
    not one."""
    environ = os.environ if environ is None else environ
    address, _, query = rest.strip().partition("?")
    path = _path(address or environ.get("CONTAINERD_ADDRESS", "").strip())
    namespace = _namespace(query)
    if not query and (from_environment := environ.get("CONTAINERD_NAMESPACE", "").strip()):
        namespace = _namespace(f"namespace={from_environment}")
    return Spec(path, namespace)


def _path(address: str) -> Path | None:
    if not address:
        return None
    scheme, separator, path = address.partition("://")
    if separator and scheme.lower() != "unix":
        raise LineageError(
            f"containerd is read through its unix socket; {address!r} is not one: "
            "write containerd:unix:///PATH/containerd.sock or containerd:/PATH/containerd.sock"
        )
    found = Path(path if separator else address.removeprefix("unix:"))
    if not found.is_absolute():
        raise LineageError(f"The containerd socket {str(found)!r} should be an absolute path.")
    return found


def _namespace(query: str) -> str:
    if not query:
        return ""
    fields = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(fields) - {"namespace"})
    values = fields.get("namespace", [])
    if unknown or len(values) != 1:
        raise LineageError(
            f"containerd takes one option, ?namespace=NS (or ?namespace=all); not {'?' + query!r}."
        )
    name = values[0]
    if name != ALL and not valid_namespace(name):
        raise LineageError(f"{name!r} is not a containerd namespace name (letters, digits and . _ -).")
    return name


def valid_namespace(name: str) -> bool:
    return len(name) <= _MAX_NAMESPACE and _NAMESPACE.fullmatch(name) is not None


def default_sockets(environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """Where containerd listens when no address is given: the system's, then a rootless one."""
    environ = os.environ if environ is None else environ
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    rootless = (Path(runtime) / "containerd" / "containerd.sock",) if runtime else ()
    return (SYSTEM_SOCKET, *rootless)


def find_socket(spec: Spec, environ: Mapping[str, str] | None = None) -> Path:
    """The socket named, else the first default one that exists (else the system's: its error
    names it)."""
    if spec.path is not None:
        return spec.path
    candidates = default_sockets(environ)
    return next((path for path in candidates if path.exists()), candidates[0])


def address_of(path: Path) -> str:
    """The address as messages and ``found_in`` show it."""
    return f"unix://{path}"
