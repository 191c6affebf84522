"""Docker contexts: which engine the docker CLI would talk to, read from its own files.

``docker context use colima`` (Docker Desktop, colima, rootless and remote engines all
set one up) writes the context's name to ``$DOCKER_CONFIG/config.json`` (default
``~/.docker``) as ``currentContext``; the context itself lives in
``contexts/meta/<sha256 hex of its name>/meta.json`` (``Endpoints.docker.Host``,
``SkipTLSVerify``) with any TLS files in ``contexts/tls/<same digest>/docker/``
(``ca.pem``, ``cert.pem``, ``key.pem``). Docker CLI 20.10 and 28 write the same files.

The engine is chosen in the docker CLI's order (docker/cli ``cli/command/cli.go``,
``resolveContextName``, checked against CLI 28.2), first that applies:

1. an explicit address (the CLI's ``--host``; here ``docker:ADDRESS``);
2. a context asked for by name (``--context``; here ``context:NAME`` as the address);
3. ``DOCKER_HOST``, which means the ``default`` context;
4. ``DOCKER_CONTEXT``;
5. ``currentContext`` in ``config.json``;
6. the ``default`` context: ``DOCKER_HOST``, else the default socket.

Empty variables count as unset, as in the CLI. The CLI refuses ``--host`` together with
``--context``; a context asked for beats ``DOCKER_HOST`` without complaint. A context
whose files are missing or damaged is one line naming the context and what chose it.

TLS contexts (a ``tcp://`` host with TLS files or ``SkipTLSVerify``) are not read yet:
the transports take TLS from ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``, and the
context's TLS folder is laid out as ``DOCKER_CERT_PATH`` expects, so the message says
exactly what to set.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from image_lineage.errors import Hint, SourceUnavailable
from image_lineage.sources.engine.errors import Engine
from image_lineage.text import UNSAFE, without_surrogates

#: The address prefix that names a context instead of an engine: ``context:colima``.
CONTEXT_PREFIX = "context:"
#: The context that is no context: ``DOCKER_HOST``, else the default socket.
DEFAULT_CONTEXT = "default"
#: Hosts the docker CLI never speaks TLS to (``isSocket`` and ssh's connection helper).
_NO_TLS_SCHEMES = ("unix", "npipe", "fd", "ssh")
_TLS_FILES = ("ca.pem", "cert.pem", "key.pem")
#: The most of a context file read (the docker CLI's own are a few hundred bytes).
MAX_FILE = 2**20


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An engine's address, and the context it was read from (None: not from a context)."""

    address: str
    context: str | None = None

    @property
    def label(self) -> str:
        """What to call it in a scan's source: ``unix:///… (context colima)``."""
        return self.address if self.context is None else f"{self.address} (context {self.context})"

    def engine(self, engine: Engine) -> Engine:
        """``engine`` named with the context, so that every message about it names the context."""
        if self.context is None:
            return engine
        return replace(
            engine,
            name=f"{engine.name} of context {self.context!r}",
            start="start it, or choose another context (docker context ls lists them)",
        )


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The docker CLI's configuration folder: ``DOCKER_CONFIG``, else ``~/.docker``."""
    env = os.environ if environ is None else environ
    given = env.get("DOCKER_CONFIG")
    return Path(given) if given else Path.home() / ".docker"


def resolve(endpoint: str | None, *, default: str, environ: Mapping[str, str] | None = None) -> Endpoint:
    """The engine to read, in the docker CLI's order (see the module's docstring).

    ``endpoint`` is an address, ``context:NAME``, or None for "as the docker CLI would";
    ``default`` is the default socket's address.
    """
    env = os.environ if environ is None else environ
    if endpoint and not endpoint.startswith(CONTEXT_PREFIX):
        return Endpoint(endpoint)
    asked = (endpoint or "").removeprefix(CONTEXT_PREFIX).strip()
    if asked:
        name, chosen = asked, ""
    elif env.get("DOCKER_HOST"):
        name, chosen = DEFAULT_CONTEXT, ""
    elif env.get("DOCKER_CONTEXT"):
        name, chosen = env["DOCKER_CONTEXT"], " named by DOCKER_CONTEXT"
    else:
        config = config_dir(env) / "config.json"
        name, chosen = current_context(config) or DEFAULT_CONTEXT, f" (current in {config})"
    if name == DEFAULT_CONTEXT:
        return Endpoint(env.get("DOCKER_HOST") or default)
    return load(name, config_dir(env), default=default, chosen=chosen)


def current_context(config: Path) -> str | None:
    """``currentContext`` in the docker CLI's ``config.json``; None when it names none."""
    try:
        text = _read(config, f"The docker CLI's configuration {config}")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SourceUnavailable(
            f"Cannot read the docker CLI's configuration {config} ({error.strerror or error})"
        ) from error
    data = _json(text, f"The docker CLI's configuration {config}")
    if not isinstance(data, dict):
        raise SourceUnavailable(f"The docker CLI's configuration {config} is not a JSON object")
    name = _field(data, "currentContext")
    if name is not None and not isinstance(name, str):
        raise SourceUnavailable(f"currentContext in {config} is not a context's name")
    return name or None


def load(name: str, config: Path, *, default: str, chosen: str = "") -> Endpoint:
    """The engine of context ``name`` in the configuration folder ``config``.

    ``chosen`` says what chose the context (" named by DOCKER_CONTEXT"), for messages.
    """
    digest = hashlib.sha256(_name_bytes(name)).hexdigest()
    meta = config / "contexts" / "meta" / digest / "meta.json"
    what = f"Docker context {name!r}{chosen}"
    try:
        text = _read(meta, f"The {what} ({meta})")
    except (FileNotFoundError, NotADirectoryError) as error:
        raise SourceUnavailable(f"The {what} does not exist (no {meta})", hint=Hint.CHOOSE_CONTEXT) from error
    except OSError as error:
        raise SourceUnavailable(f"Cannot read the {what} ({meta}: {error.strerror or error})") from error
    data = _json(text, f"The {what} is damaged: {meta}")
    endpoints = _field(data, "Endpoints") if isinstance(data, dict) else None
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    if not isinstance(docker, dict):
        raise SourceUnavailable(f"The {what} has no Docker endpoint ({meta})", hint=Hint.CHOOSE_CONTEXT)
    host, skip_verify = _field(docker, "Host"), _field(docker, "SkipTLSVerify")
    if not isinstance(host, str | None) or not isinstance(skip_verify, bool | None):
        raise SourceUnavailable(
            f"The {what} is damaged: {meta} has a Host or SkipTLSVerify of the wrong type"
        )
    if host and UNSAFE.search(host):
        raise SourceUnavailable(
            f"The {what} is damaged: {meta} has a Host with control or invisible characters"
        )
    address = host or default  # no Host: the docker CLI's client uses its default socket
    tls = config / "contexts" / "tls" / digest / "docker"
    scheme = address.partition("://")[0].lower()
    has_tls = any((tls / file).is_file() for file in _TLS_FILES)
    if scheme not in _NO_TLS_SCHEMES and (has_tls or skip_verify):
        cert_path = f" and DOCKER_CERT_PATH={tls}" if has_tls else ""
        raise SourceUnavailable(
            f"The {what} reaches {address} over TLS, which is read only from the environment for now: "
            f"set DOCKER_HOST={address}, DOCKER_TLS_VERIFY=1{cert_path}"
        )
    return Endpoint(address, context=name)


def _name_bytes(name: str) -> bytes:
    """A context's name as the docker CLI hashes it: the bytes it came as (an environment
    variable's undecodable bytes are lone surrogates here), else its text."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return without_surrogates(name).encode("utf-8")


def _read(path: Path, what: str) -> bytes:
    """The bytes of ``path``; a file that is not a regular one (a FIFO would block the read
    forever) or is larger than ``MAX_FILE`` is refused unread, in one line naming ``what``."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise SourceUnavailable(f"{what} is not a regular file")
        if status.st_size > MAX_FILE:
            raise SourceUnavailable(f"{what} is larger than {MAX_FILE // 2**20} MiB; not read")
        return handle.read(MAX_FILE)


def _json(text: bytes, what: str) -> Any:
    """``text`` parsed, or one line saying ``what`` is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        where = f" (line {error.lineno})" if isinstance(error, json.JSONDecodeError) else ""
        raise SourceUnavailable(f"{what} is not valid JSON{where}") from error


def _field(data: Mapping[str, Any], key: str) -> Any:
    """``data[key]`` as Go's ``encoding/json`` finds a struct field: exactly, else ignoring case."""
    if key in data:
        return data[key]
    return next((value for k, value in data.items() if k.lower() == key.lower()), None)
