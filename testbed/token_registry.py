"""Registries that ask for credentials: htpasswd basic auth, and token auth with our own issuer.

``TokenIssuer`` is a small token service (an ``http.server`` thread on 127.0.0.1) that
implements the Docker token spec (distribution's ``docs/spec/auth/token.md`` and
``oauth.md``) closely enough for the real ``docker-registry`` to accept its tokens:

- ``GET /token?service=…&scope=…`` anonymously or with basic auth, and ``POST /token``
  with an OAuth2 form (``grant_type=refresh_token`` or ``password``);
- RS256-signed JWTs whose header ``kid`` is the *libtrust* key id of the certificate in
  the registry's ``rootcertbundle`` (distribution looks the signing key up by that id:
  ``registry/auth/token/token.go``, ``VerifySigningKey``);
- claims the registry checks: ``iss`` (its ``issuer``), ``aud`` (its ``service``, a plain
  string: distribution 2.8 reads it as one), ``exp``/``nbf`` (with distribution's 60 s of
  leeway, which ``exp`` subtracts, so a token dies when ``expires_in`` says), and
  ``access`` (type, name, actions) for each scope granted.

Users may push, pull and read the catalog; anonymous callers may pull when
``anonymous_pull`` is set, and never read the catalog (their token names no access, and
the registry then refuses). ``requests`` records each token request as (method, who,
scopes): who is ``anonymous``, ``basic:USER``, ``refresh:USER`` or ``refused``, never a
secret. No pytest import.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import shutil
import stat
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .local_server import serve_in_background

#: distribution's clock-skew allowance on ``exp`` and ``nbf`` (registry/auth/token/token.go).
REGISTRY_LEEWAY = 60
SERVICE = "image-lineage-test-registry"
ISSUER = "image-lineage-test-issuer"
#: Who asked, in ``TokenIssuer.requests`` (else ``basic:USER`` or ``refresh:USER``).
ANONYMOUS, REFUSED = "anonymous", "refused"


class HarnessDependencyMissing(RuntimeError):
    """bcrypt or cryptography (requirements-dev.txt) is not installed."""


def htpasswd_line(user: str, password: str) -> str:
    """``user:$2b$…``: distribution's htpasswd reads bcrypt only."""
    try:
        import bcrypt  # noqa: PLC0415 - a test dependency, only needed here
    except ImportError as error:
        raise HarnessDependencyMissing("bcrypt is needed: pip install -r requirements-dev.txt") from error
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    return f"{user}:{hashed}"


def basic_auth_section(directory: Path, users: Mapping[str, str]) -> str:
    """The registry's ``auth: htpasswd`` section, with the htpasswd file written in ``directory``."""
    path = directory / "htpasswd"
    path.write_text("".join(f"{htpasswd_line(u, p)}\n" for u, p in users.items()))
    return f"auth:\n  htpasswd:\n    realm: image-lineage-test\n    path: {path}\n"


def libtrust_key_id(public_key_der: bytes) -> str:
    """libtrust's key id: base32 of the first 240 bits of SHA-256(SubjectPublicKeyInfo DER),
    in 12 groups of 4 joined by ':' (``libtrust.keyIDFromCryptoKey``)."""
    encoded = base64.b32encode(hashlib.sha256(public_key_der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass
class _Signer:
    """An RSA key and its self-signed certificate (the registry's root cert bundle)."""

    key: Any
    cert_pem: bytes
    key_id: str

    @classmethod
    def create(cls) -> _Signer:
        try:
            from cryptography import x509  # noqa: PLC0415 - a test dependency, only needed here
            from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
            from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415
            from cryptography.x509.oid import NameOID  # noqa: PLC0415
        except ImportError as error:
            raise HarnessDependencyMissing(
                "cryptography is needed: pip install -r requirements-dev.txt"
            ) from error
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(key, cert.public_bytes(serialization.Encoding.PEM), libtrust_key_id(der))

    def jwt(self, claims: Mapping[str, Any]) -> str:
        from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric import padding  # noqa: PLC0415

        header = {"typ": "JWT", "alg": "RS256", "kid": self.key_id}
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


@dataclass
class TokenIssuer:
    """The Docker token spec's authorization service, on 127.0.0.1; a context manager.

    ``users``: name -> password; ``identity_tokens``: refresh token -> user name (what a
    ``docker login`` to such a service stores as ``identitytoken``). ``fail`` makes every
    answer that status (or, with ``"garbage"``, a 200 that is not JSON) for the tests of
    a broken token service.
    """

    users: dict[str, str]
    identity_tokens: dict[str, str] = field(default_factory=dict)
    anonymous_pull: bool = False
    expires_in: int = 300
    fail: int | str | None = None
    requests: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # every token handed out (the secret test greps for them)

    def __post_init__(self) -> None:
        self.signer = _Signer.create()
        self.dir = Path(tempfile.mkdtemp(prefix="il-token-", dir="/tmp"))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread: threading.Thread | None = None
        self.realm = f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def start(self) -> TokenIssuer:
        self._thread = serve_in_background(self._server, name="token-issuer")
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> TokenIssuer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def auth_section(self) -> str:
        """The registry's ``auth: token`` section (the root cert bundle is in the issuer's dir)."""
        bundle = self.dir / "token-root.pem"
        bundle.write_bytes(self.signer.cert_pem)
        return (
            "auth:\n  token:\n"
            f"    realm: {self.realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n"
            f"    rootcertbundle: {bundle}\n"
        )

    def check(self, name: str, password: str) -> str:
        """``basic:NAME`` when the password is NAME's, else ``REFUSED``."""
        return f"basic:{name}" if password and self.users.get(name) == password else REFUSED

    def grant(self, user: str | None, scopes: list[str]) -> list[dict[str, Any]]:
        """The ``access`` claim: what ``user`` (None: anonymous) may do of what it asked."""
        access: list[dict[str, Any]] = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            asked = [a for a in actions.split(",") if a]
            if user is not None:
                allowed = asked
            elif kind == "repository" and self.anonymous_pull:
                allowed = [a for a in asked if a == "pull"]
            else:
                allowed = []
            if allowed:
                access.append({"type": kind, "name": name, "actions": allowed})
        return access

    def token(self, user: str | None, scopes: list[str]) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user or "",
            "aud": SERVICE,
            # The registry accepts a token until exp + its leeway: end it when expires_in says.
            "exp": now + self.expires_in - REGISTRY_LEEWAY,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": self.grant(user, scopes),
        }
        token = self.signer.jwt(claims)
        self.issued.append(token)
        issued_at = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"token": token, "access_token": token, "expires_in": self.expires_in, "issued_at": issued_at}


def _handler(issuer: TokenIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read ``issuer.requests`` instead."""

        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            self._answer("GET", self._basic_user(), query.get("scope", []))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            grant = form.get("grant_type", [""])[0]
            who = REFUSED
            if grant == "refresh_token":
                name = issuer.identity_tokens.get(form.get("refresh_token", [""])[0])
                who = f"refresh:{name}" if name else REFUSED
            elif grant == "password":
                who = issuer.check(form.get("username", [""])[0], form.get("password", [""])[0])
            self._answer("POST", who, form.get("scope", []), oauth=True)

        def _basic_user(self) -> str:
            header = self.headers.get("Authorization", "")
            if not header:
                return ANONYMOUS
            if not header.startswith("Basic "):
                return REFUSED
            try:
                name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return REFUSED
            return issuer.check(name, password)

        def _answer(self, method: str, who: str, scopes: list[str], *, oauth: bool = False) -> None:
            issuer.requests.append((method, who, tuple(scopes)))
            if issuer.fail is not None:
                self._send(200 if issuer.fail == "garbage" else int(issuer.fail), b"<html>not a token</html>")
                return
            if who == REFUSED:
                self._send(401, b'{"details": "incorrect username or password"}')
                return
            answer = issuer.token(None if who == ANONYMOUS else who.split(":", 1)[1], scopes)
            if oauth:
                del answer["token"]
                answer["scope"] = " ".join(scopes)
            self._send(200, json.dumps(answer).encode())

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def write_credential_helper(directory: Path, name: str, entries: Mapping[str, tuple[str, str]]) -> Path:
    """``directory/docker-credential-NAME``: a helper that answers ``get`` from ``entries``
    (server -> (user name, secret); ``<token>`` as user name for an identity token), as
    docker's helpers do: JSON on stdout, or "credentials not found" and exit 1. Put
    ``directory`` first on PATH to use it."""
    data = directory / f"docker-credential-{name}.json"
    data.write_text(json.dumps({server: list(pair) for server, pair in entries.items()}))
    program = directory / f"docker-credential-{name}"
    program.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "if sys.argv[1:] != ['get']:\n"
        "    sys.exit('only get is supported')\n"
        "server = sys.stdin.read().strip()\n"
        f"entries = json.load(open({str(data)!r}))\n"
        "if server not in entries:\n"
        "    print('credentials not found in native keychain')\n"
        "    sys.exit(1)\n"
        "user, secret = entries[server]\n"
        "print(json.dumps({'ServerURL': server, 'Username': user, 'Secret': secret}))\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return program


def write_docker_config(directory: Path, config: Mapping[str, Any]) -> Path:
    """``directory/config.json`` (set ``DOCKER_CONFIG`` to ``directory`` to use it)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path


def auths_entry(user: str, password: str) -> dict[str, str]:
    """An ``auths`` entry as ``docker login`` writes it: base64 ``user:password``."""
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
