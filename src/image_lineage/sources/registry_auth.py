"""Credentials for a registry, found as the docker CLI finds them, and the token flow.

The one place a registry's credentials are read and used. ``registry_client.py`` asks only when
a registry answers 401 with a ``WWW-Authenticate`` challenge; then:

- ``Basic realm=…``: the stored user name and password, as basic auth;
- ``Bearer realm=…,service=…,scope=…`` (the Docker token spec, distribution's
  ``docs/spec/auth/token.md``): a token from the realm for that scope, fetched anonymously
  when nothing is stored for the registry, with basic auth for a user name and password,
  and with an OAuth2 ``grant_type=refresh_token`` POST for an identity token (what
  ``docker login`` keeps for registries that hand them out). Tokens are kept per scope
  until ``expires_in`` (default 60 s) runs out.

Where credentials come from, as the docker CLI: ``$DOCKER_CONFIG/config.json`` (default
``~/.docker/config.json``): ``credHelpers[host]``, else ``credsStore``, else ``auths``.
docker-py reads the file and picks the helper (``docker.auth``); it is imported only when a
registry asks for credentials (~0.3 s). The helper itself (``docker-credential-NAME get``:
the server on stdin, ``{"Username", "Secret"}`` on stdout, ``<token>`` as the user name of
an identity token) is run here rather than by ``docker.credentials.Store``, which waits for
it without a timeout, lets its stderr through to ours, and prints a Python warning when it
is missing: each would break the one-line failure the front ends promise.

Secrets never leave this module except in the ``Authorization`` header it returns: not in
messages (they name *where* credentials came from, never a value), not in ``repr``, not in
exception chains (errors that might quote a secret are raised ``from None``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import selectors
import shutil
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from image_lineage.errors import Hint, SourceUnavailable
from image_lineage.net.faults import Fault, Status, status_of
from image_lineage.net.http import AnswerTooLarge, ExchangeFailed, HttpClient, Request, RequestRefused

#: docker's key for Docker Hub in config.json and in credential helpers.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.docker.io"})
#: The user name a credential helper gives for an identity token (docker's ``<token>``).
TOKEN_USERNAME = "<token>"  # noqa: S105 - a marker, not a password
#: The spec's default lifetime of a token whose answer names none.
DEFAULT_EXPIRES_IN = 60
#: A token answer is a few kilobytes; more is refused unread.
MAX_TOKEN_BYTES = 1024 * 1024
#: A credential helper's answer is a few hundred bytes; more is refused (and the helper killed).
MAX_HELPER_OUTPUT = 1024 * 1024
#: A token as it may stand in an Authorization header (RFC 6750 ``b64token``, and JWT's dots).
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: What this tool calls itself to an OAuth2 token endpoint (the spec's ``client_id``).
CLIENT_ID = "image-lineage"

# RFC 7235: auth-scheme, then auth-params (token=token / token="quoted-string"), comma separated.
_PARAM = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)')
_SCHEME = re.compile(r"\s*,?\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)(?:\s+|$)")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header: ``scheme`` lowercased, its parameters."""

    scheme: str
    params: Mapping[str, str]


def parse_challenges(header: str) -> list[Challenge]:
    """``Bearer realm="x",scope="a:b:pull,push", Basic realm=y`` -> two challenges.

    Quoted values may hold commas (a scope with two actions); a new challenge starts where
    a token is not followed by ``=``. Anything unreadable ends the parse: what was read so
    far is kept.
    """
    challenges: list[Challenge] = []
    position = 0
    while position < len(header):
        scheme = _SCHEME.match(header, position)
        if scheme is None or scheme.end() == position:
            break
        position = scheme.end()
        params: dict[str, str] = {}
        while position < len(header):
            param = _PARAM.match(header, position)
            if param is None or param.end() == position:
                break
            key, value = param.group(1).lower(), param.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[key] = value
            position = param.end()
        challenges.append(Challenge(scheme.group(1).lower(), params))
    return challenges


@dataclass(frozen=True, slots=True)
class Credentials:
    """What is stored for one registry, and where it was found (the only part messages name)."""

    origin: str
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)


@dataclass(slots=True)
class _Token:
    header: str = field(repr=False)
    expires: float  # time.monotonic() after which it is not used


def registry_key(registry: str) -> str:
    """``https://Host:5000/team/app`` -> ``host:5000``: the key docker looks credentials up by."""
    parts = urllib.parse.urlsplit(registry if "://" in registry else f"//{registry}")
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def find_credentials(registry: str, *, timeout: float) -> Credentials | None:
    """What config.json (and the helper it names) holds for ``registry``, or None.

    The docker CLI's order: ``credHelpers[host]``, else ``credsStore``, else ``auths``
    (docker-py falls back to ``auths`` when the helper has nothing, and so do we).
    """
    import docker.auth  # noqa: PLC0415 - costly to import; only a registry that asks needs it
    import docker.errors  # noqa: PLC0415
    from docker.utils.config import find_config_file  # noqa: PLC0415

    key = registry_key(registry)
    hub = key in _DOCKER_HUB_HOSTS
    path = find_config_file()
    where = "config.json" if path is None else path
    try:
        config = docker.auth.load_config()
    except (docker.errors.DockerException, ValueError, UnicodeError, binascii.Error):
        # The error may quote an entry: none of it is shown.
        raise SourceUnavailable(
            f"The docker config file {where} has an entry that cannot be read "
            "(an 'auths' entry that is not base64 'user:password'?); fix it, or log in again "
            "with docker login",
        ) from None
    helper = config.get_credential_store(docker.auth.INDEX_NAME if hub else key)
    if helper:
        found = _from_helper(helper, DOCKER_HUB_KEY if hub else key, timeout=timeout)
        if found is not None:
            return found
    entry = docker.auth.resolve_authconfig({"auths": config.auths}, docker.auth.INDEX_NAME if hub else key)
    return _from_entry(entry, f"{where} (auths)")


def _from_entry(entry: Mapping[str, Any] | None, origin: str) -> Credentials | None:
    """docker-py's ``auths`` entry: ``username``/``password``, or ``IdentityToken``, or empty."""
    if not entry:
        return None
    token = entry.get("IdentityToken")
    if isinstance(token, str) and token:
        return Credentials(origin, identity_token=token)
    username, password = entry.get("username"), entry.get("password")
    if isinstance(username, str) and isinstance(password, str) and (username or password):
        return Credentials(origin, username=username, password=password)
    return None


def _from_helper(name: str, server: str, *, timeout: float) -> Credentials | None:
    """``docker-credential-NAME get`` with ``server`` on stdin; None when it has nothing for it."""
    program = f"docker-credential-{name}"
    origin = f"the credential helper {program}"
    if not name or "/" in name or os.sep in name or (os.altsep and os.altsep in name):
        # docker would run it relative to the working directory: a name is not a path.
        raise SourceUnavailable(
            f"config.json names a credential helper {name!r} for {server}: a helper's name may not "
            "hold a path separator, so it is not run; name a docker-credential-NAME program on PATH",
        )
    path = shutil.which(program)
    if path is None:
        raise SourceUnavailable(
            f"config.json names {origin} for {server}, and it is not installed (not on PATH); "
            "install it, or remove it from config.json",
        )
    returncode, stdout = _run_capped([path, "get"], server.encode(), timeout, origin)
    if returncode != 0:
        # docker's helpers say "credentials not found" on stdout when they hold nothing.
        if b"credentials not found" in stdout.lower():
            return None
        raise SourceUnavailable(
            f"{origin.capitalize()} failed for {server} (exit status {returncode}); "
            f"try {program} get by hand",
        )
    try:
        answer = json.loads(stdout)
        username, secret = answer["Username"], answer["Secret"]
    except (ValueError, TypeError, KeyError, RecursionError):
        raise SourceUnavailable(f"{origin.capitalize()} answered something that is not credentials") from None
    if not isinstance(username, str) or not isinstance(secret, str):
        raise SourceUnavailable(f"{origin.capitalize()} answered something that is not credentials")
    if not username and not secret:
        return None  # docker-credential-pass answers empty fields for servers it does not know
    if username == TOKEN_USERNAME:
        return Credentials(origin, identity_token=secret)
    return Credentials(origin, username=username, password=secret)


def _run_capped(argv: list[str], stdin: bytes, timeout: float, origin: str) -> tuple[int, bytes]:
    """Run ``argv`` with ``stdin``: its exit status and stdout (stderr dropped, never shown),
    within ``timeout`` seconds and ``MAX_HELPER_OUTPUT`` bytes; past either it is killed."""
    deadline = time.monotonic() + timeout
    try:
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError as error:
        raise SourceUnavailable(f"{origin.capitalize()} could not run ({error.strerror})") from None
    with process:
        try:
            stdout = _read_capped(process, stdin, deadline)
            return process.wait(max(0.0, deadline - time.monotonic())), stdout
        except (TimeoutError, subprocess.TimeoutExpired):
            process.kill()
            raise SourceUnavailable(
                f"{origin.capitalize()} did not answer within {timeout:g} s", hint=Hint.RAISE_TIMEOUT
            ) from None
        except OverflowError:
            process.kill()
            raise SourceUnavailable(
                f"{origin.capitalize()} answered more than {MAX_HELPER_OUTPUT // 1024} KiB "
                "(credentials are a few hundred bytes): refused"
            ) from None


def _read_capped(process: subprocess.Popen[bytes], stdin: bytes, deadline: float) -> bytes:
    """Write ``stdin``, then read stdout to its end: ``TimeoutError`` past ``deadline``,
    ``OverflowError`` past ``MAX_HELPER_OUTPUT`` bytes."""
    if process.stdin is None or process.stdout is None:
        raise ValueError("stdin and stdout must be pipes")
    with contextlib.suppress(OSError):  # a helper that exits without reading: its status says why
        process.stdin.write(stdin)
        process.stdin.close()
    chunks: list[bytes] = []
    total = 0
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise TimeoutError
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_HELPER_OUTPUT:
                raise OverflowError


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


class RegistryAuth:
    """Answers one registry's challenges; safe to share between the scan's worker threads.

    ``registry``: its address (``https://host:port`` or ``host:port``). Credentials are looked
    up once, on the first challenge that needs them; tokens are kept per (realm, service,
    scope) until they expire, or until the registry says a token is no longer good
    (``error="invalid_token"`` in its challenge). ``http``: the client to share (the
    registry's); ``clock``: monotonic seconds, for the tokens' lifetimes (a test passes its own).
    """

    def __init__(
        self,
        registry: str,
        *,
        timeout: float,
        http: HttpClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry_key(registry)
        # Without a scheme, as the docker CLI: https. Secrets never go from there to http://.
        self.secure = urllib.parse.urlsplit(registry).scheme.lower() != "http" if "://" in registry else True
        self.timeout = timeout
        self._http = http or HttpClient(timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str], _Token] = {}
        self._credentials: Credentials | None = None
        self._looked_up = False

    def authorization(self, challenge: str, scope: str) -> str | None:
        """The Authorization header value answering this WWW-Authenticate challenge for
        this scope (e.g. 'repository:team/app:pull', 'registry:catalog:*'), or None when
        there is nothing to answer with. Caches tokens per scope until they expire;
        called again after a 401 it fetches a fresh one (refresh on expiry)."""
        challenges = parse_challenges(challenge)
        bearer = next((c for c in challenges if c.scheme == "bearer" and c.params.get("realm")), None)
        if bearer is not None:
            return self._bearer(bearer, scope)
        if any(c.scheme == "basic" for c in challenges):
            credentials = self.credentials()
            if credentials is None:
                raise self.missing(scope)
            if credentials.username is None or credentials.password is None:
                raise SourceUnavailable(
                    f"The registry at {self.registry} asks for a user name and password, and "
                    f"{credentials.origin} holds only an identity token for it; log in with docker login "
                    f"{self.registry}",
                )
            return _basic(credentials.username, credentials.password)
        return None

    def credentials(self) -> Credentials | None:
        """What is stored for this registry (looked up once), or None."""
        with self._lock:
            if not self._looked_up:
                self._credentials = find_credentials(self.registry, timeout=self.timeout)
                self._looked_up = True
            return self._credentials

    def refused(self, scope: str) -> SourceUnavailable:
        """The error for a 401 that came back although the request carried our answer.

        Names where the credentials came from (never their values), or says that none are
        stored and how to store some.
        """
        credentials = self.credentials()
        if credentials is None:
            return self.missing(scope)
        return SourceUnavailable(
            f"The registry at {self.registry} refused the credentials from {credentials.origin} "
            f"(for {scope}); log in again with docker login {self.registry}",
        )

    def missing(self, scope: str) -> SourceUnavailable:
        """A registry that wants credentials for ``scope``, and none are stored for it."""
        return SourceUnavailable(
            f"The registry at {self.registry} wants credentials (for {scope}) and none are stored "
            f"for it; log in with docker login {self.registry}",
        )

    def _bearer(self, challenge: Challenge, scope: str) -> str:
        realm = challenge.params["realm"]
        service = challenge.params.get("service", "")
        key = (realm, service, scope)
        stale = "error" in challenge.params  # invalid_token, insufficient_scope: ours did not do
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and not stale and self._clock() < token.expires:
                return token.header
        credentials = self.credentials()
        scopes = [scope]
        asked = challenge.params.get("scope")
        if asked and asked != scope:
            scopes.append(asked)
        token = self._fetch(realm, service, scopes, credentials)
        with self._lock:
            self._tokens[key] = token
        return token.header

    def _fetch(self, realm: str, service: str, scopes: list[str], credentials: Credentials | None) -> _Token:
        parts = urllib.parse.urlsplit(realm)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise SourceUnavailable(
                f"The registry at {self.registry} names a token service that is not a URL"
            )
        where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        if credentials is not None and self.secure and parts.scheme == "http":
            raise SourceUnavailable(
                f"The registry at {self.registry} names a token service at {where}, over plain http: "
                f"the credentials from {credentials.origin} are not sent in clear",
            )
        query: list[tuple[str, str]] = [("service", service)] if service else []
        query += [("scope", s) for s in scopes]
        headers = {"Accept": "application/json", "User-Agent": CLIENT_ID}
        if credentials is not None and credentials.identity_token is not None:
            # OAuth2 refresh-token grant (distribution's docs/spec/auth/oauth.md); a POST
            # follows no redirect, so the token in its body goes to this realm only.
            form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", credentials.identity_token),
                ("client_id", CLIENT_ID),
                *query,
            ]
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            request = Request("POST", realm, MAX_TOKEN_BYTES, headers, urllib.parse.urlencode(form).encode())
        else:
            separator = "&" if parts.query else "?"
            url = f"{realm}{separator}{urllib.parse.urlencode(query)}" if query else realm
            if (
                credentials is not None
                and credentials.username is not None
                and credentials.password is not None
            ):
                # Bound to the realm's origin: a redirect to another host does not carry it along.
                headers["Authorization"] = _basic(credentials.username, credentials.password)
            request = Request("GET", url, MAX_TOKEN_BYTES, headers)
        started = self._clock()
        who = f"The token service of the registry at {self.registry} ({where})"
        try:
            answer = self._http.send(request)
        except ExchangeFailed as error:
            if error.fault is Fault.TIMEOUT:
                raise SourceUnavailable(
                    f"{who} did not answer within {self.timeout:g} s", hint=Hint.RAISE_TIMEOUT
                ) from None
            raise SourceUnavailable(
                f"Cannot reach the token service of the registry at {self.registry} ({where}); "
                "check the registry's auth settings",
            ) from None
        except (AnswerTooLarge, RequestRefused):
            raise SourceUnavailable(f"{who} answered something that is not a token") from None
        status = status_of(answer.status)
        if status in {Status.CHALLENGE, Status.FORBIDDEN}:
            if credentials is None:
                raise self.missing(" ".join(scopes))
            raise SourceUnavailable(
                f"The registry at {self.registry} refused the credentials from {credentials.origin} "
                f"(its token service at {where} answered {answer.status}); log in again with docker login "
                f"{self.registry}",
            )
        if status is not Status.OK:
            hint = Hint.TRY_SAMPLE if status is Status.SERVER else None
            raise SourceUnavailable(f"{who} answered {answer.status}", hint=hint)
        return _token_of(answer.body, started, who)


def _token_of(body: bytes, started: float, who: str) -> _Token:
    """A token answer: ``token`` or ``access_token``, ``expires_in`` and ``issued_at``."""
    try:
        answer = json.loads(body) if len(body) <= MAX_TOKEN_BYTES else None
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, Mapping):
        raise SourceUnavailable(f"{who} answered something that is not a token")
    value = answer.get("token") or answer.get("access_token")
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise SourceUnavailable(f"{who} answered something that is not a token")
    expires_in = answer.get("expires_in")
    lifetime = (
        float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else DEFAULT_EXPIRES_IN
    )
    lifetime = min(lifetime, 24 * 3600.0)
    age = _issued_age(answer.get("issued_at"))
    if age is not None and age < lifetime:  # issued a while ago (a cached answer): less is left
        lifetime -= age  # (an age beyond the lifetime is clock skew, not a dead token)
    # Renew a little early: a request sent at the last moment would arrive late.
    margin = min(5.0, lifetime / 10)
    return _Token(header=f"Bearer {value}", expires=started + lifetime - margin)


def _issued_age(issued_at: object) -> float | None:
    """Seconds since an RFC 3339 ``issued_at``, when it is readable and in the past."""
    if not isinstance(issued_at, str):
        return None
    try:
        issued = datetime.fromisoformat(issued_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if issued.tzinfo is None:
        return None
    age = time.time() - issued.timestamp()
    return age if age > 0 else None
