"""Hostile registries, token services and credential helpers (issue 15), each bounded in time.

Every server here is an ``http.server`` on 127.0.0.1 whose answers the test writes
(``HostileServer``); nothing waits on real time beyond a deadline of a fraction of a second.
What must hold, whatever the server does: credentials go only to the registry they are
stored for and to the token service *it* names, never in clear from an ``https`` registry;
a trickling server cannot hold a request past its timeout; a ``429`` storm is bounded;
odd bytes end in one line, not a traceback; a listing cut short says so.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from image_lineage.cli import main
from image_lineage.errors import Hint, LineageError, SourceUnavailable
from image_lineage.net.deadline import tls_context
from image_lineage.sources import registry_client
from image_lineage.sources.registry import RegistrySource
from image_lineage.sources.registry_auth import MAX_HELPER_OUTPUT, RegistryAuth, find_credentials
from image_lineage.sources.registry_client import MAX_TAGS, RegistryClient
from testbed.token_registry import auths_entry, write_docker_config
from tests.support.docker_config import private_docker_config
from tests.support.hostile_http import TRICKLE, HostileHandler, hostile

PASSWORD = "a-password-for-A-only"  # noqa: S105 - a test secret, grepped for
IDENTITY = "an-identity-token-for-A-only"
TIMEOUT = 0.4  # the timeout a trickle must not outlast


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return private_docker_config(tmp_path, monkeypatch)


def _tree(spec: str) -> tuple[int, str]:
    err = io.StringIO()
    status = main(["tree", "--timeout", "2", "--source", spec], stdout=io.StringIO(), stderr=err)
    return status, err.getvalue()


# ------------------------------------------------------------------ credentials and redirects


@pytest.mark.parametrize(
    ("entry", "challenge"),
    [
        pytest.param(auths_entry("alice", PASSWORD), "bearer", id="password-to-B's-token-service"),
        pytest.param({"identitytoken": IDENTITY}, "bearer", id="identity-token-to-B's-token-service"),
        pytest.param(auths_entry("alice", PASSWORD), "basic", id="password-to-B"),
    ],
)
def test_a_redirect_target_never_gets_the_registrys_credentials(
    docker_config: Path, entry: dict[str, str], challenge: str
) -> None:
    def b_answers(handler: HostileHandler) -> None:
        if handler.path.startswith("/token"):
            handler.reply(200, json.dumps({"token": "from-B"}).encode())
        elif challenge == "bearer":
            realm = f"http://{handler.headers['Host']}/token"
            handler.reply(401, headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="B"'})
        else:
            handler.reply(401, headers={"WWW-Authenticate": 'Basic realm="B"'})

    with hostile(b_answers) as b:

        def a_answers(handler: HostileHandler) -> None:
            handler.reply(307, b"", {"Location": f"{b.url}{handler.path}"})

        with hostile(a_answers) as a:
            write_docker_config(docker_config, {"auths": {a.address: entry}})
            status, err = _tree(f"registry:{a.url}/team/app")
    assert status == 1
    assert err.count("\n") == 1
    assert f"on to {b.url}, which asks for credentials (401)" in err
    assert "never to another host" in err
    assert "config.json" not in err  # A's credentials were not refused: they were not sent
    assert "refused the credentials" not in err
    assert PASSWORD not in b.secrets_seen()
    assert IDENTITY not in b.secrets_seen()
    assert all("Authorization" not in headers for _, _, headers, _ in b.seen)


def test_a_token_service_redirecting_elsewhere_gets_no_password_on(docker_config: Path) -> None:
    """A GET for a token follows the redirect, without the password (bound to the realm)."""
    with hostile(lambda handler: handler.reply(200, b'{"token": "t"}')) as elsewhere:

        def realm_answers(handler: HostileHandler) -> None:
            handler.reply(307, b"", {"Location": f"{elsewhere.url}{handler.path}"})

        with hostile(realm_answers) as realm:
            write_docker_config(docker_config, {"auths": {"registry.test": auths_entry("alice", PASSWORD)}})
            auth = RegistryAuth("http://registry.test", timeout=5)
            assert auth.authorization(f'Bearer realm="{realm.url}/token"', "repository:a:pull") == "Bearer t"
    assert "Authorization" in realm.seen[0][2]
    assert PASSWORD not in elsewhere.secrets_seen()


def test_an_identity_token_post_is_not_redirected(docker_config: Path) -> None:
    with hostile(lambda handler: handler.reply(200, b'{"token": "t"}')) as elsewhere:

        def realm_answers(handler: HostileHandler) -> None:
            handler.reply(307, b"", {"Location": f"{elsewhere.url}{handler.path}"})

        with hostile(realm_answers) as realm:
            write_docker_config(docker_config, {"auths": {"registry.test": {"identitytoken": IDENTITY}}})
            auth = RegistryAuth("http://registry.test", timeout=5)
            with pytest.raises(SourceUnavailable) as raised:
                auth.authorization(f'Bearer realm="{realm.url}/token"', "repository:a:pull")
    assert str(raised.value).endswith(f"({realm.url}) answered 307")
    assert elsewhere.seen == []


def test_no_password_to_a_plain_http_token_service_of_an_https_registry(docker_config: Path) -> None:
    with hostile(lambda handler: handler.reply(200, b'{"token": "t"}')) as realm:
        write_docker_config(docker_config, {"auths": {"registry.test": auths_entry("alice", PASSWORD)}})
        auth = RegistryAuth("https://registry.test", timeout=TIMEOUT)
        with pytest.raises(SourceUnavailable) as raised:
            auth.authorization(f'Bearer realm="{realm.url}/token",service="s"', "repository:a:pull")
    assert str(raised.value) == (
        f"The registry at registry.test names a token service at {realm.url}, over plain http: "
        f"the credentials from {docker_config / 'config.json'} (auths) are not sent in clear"
    )
    assert realm.seen == []


@pytest.mark.usefixtures("docker_config")
def test_an_anonymous_token_may_come_over_plain_http() -> None:
    with hostile(lambda handler: handler.reply(200, b'{"token": "t"}')) as realm:
        auth = RegistryAuth("https://registry.test", timeout=TIMEOUT)
        assert auth.authorization(f'Bearer realm="{realm.url}/token"', "repository:a:pull") == "Bearer t"


def test_a_password_in_the_registry_address_is_never_shown() -> None:
    status, err = _tree(f"registry:http://alice:{PASSWORD}@127.0.0.1:1/team/app")
    assert status == 1
    assert err.count("\n") == 1
    assert PASSWORD not in err
    assert "store credentials with docker login" in err
    with pytest.raises(LineageError) as raised:
        RegistrySource(f"https://alice:{PASSWORD}@registry.test").scan()
    assert raised.value.hint is Hint.REGISTRY_ADDRESS
    assert PASSWORD not in str(raised.value)


# -------------------------------------------------------------------------- credential helpers


def test_a_credential_helper_named_with_a_path_is_not_run(
    docker_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # docker-credential-../../../bin/evil, from a working directory that makes it bin/evil here.
    work = tmp_path / "work"
    (work / "docker-credential-..").mkdir(parents=True)
    marker = tmp_path / "ran"
    evil = tmp_path / "bin" / "evil"
    evil.write_text(f'#!/bin/sh\ntouch {marker}\necho \'{{"Username": "u", "Secret": "s"}}\'\n')
    evil.chmod(0o755)
    monkeypatch.chdir(work)
    write_docker_config(docker_config, {"credHelpers": {"registry.test": "../../bin/evil"}})
    with pytest.raises(SourceUnavailable) as raised:
        find_credentials("registry.test", timeout=5)
    assert not marker.exists()
    assert "'../../bin/evil'" in str(raised.value)
    assert "may not hold a path separator, so it is not run" in str(raised.value)


def test_a_flooding_credential_helper_is_cut_off(docker_config: Path) -> None:
    helper = docker_config.parent / "bin" / "docker-credential-flood"
    helper.write_text('#!/bin/sh\nexec yes \'{"Username": "u", "Secret": "s"}\'\n')
    helper.chmod(0o755)
    write_docker_config(docker_config, {"credsStore": "flood"})
    with pytest.raises(SourceUnavailable) as raised:
        find_credentials("registry.test", timeout=10)
    assert str(raised.value) == (
        f"The credential helper docker-credential-flood answered more than {MAX_HELPER_OUTPUT // 1024} KiB "
        "(credentials are a few hundred bytes): refused"
    )


# ---------------------------------------------------------------------------- slow answers


def _trickling(at: str) -> Callable[[HostileHandler], None]:
    """An answer that arrives a byte at a time: from its status line, its headers or its body."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"

    def answer(handler: HostileHandler) -> None:
        if at == "status line":
            handler.trickle(head + b"X-Slow: " + b"a" * 10_000)
        elif at == "headers":
            handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
            handler.trickle(b"X-Slow: " + b"a" * 10_000)
        else:
            handler.wfile.write(head + b"\r\n")
            handler.trickle(b'{"token": "' + b"a" * 998)

    return answer


@pytest.mark.parametrize("at", ["status line", "headers", "body"])
def test_a_trickling_registry_is_cut_off_by_the_timeout(at: str) -> None:
    with hostile(_trickling(at)) as server, pytest.raises(SourceUnavailable) as raised:
        RegistrySource(f"{server.url}/team/app", timeout=TIMEOUT).scan()
    assert str(raised.value) == f"The registry at {server.url} did not answer within {TIMEOUT:g} s"
    assert raised.value.hint is Hint.RAISE_TIMEOUT
    assert server.trickled < 3 * TIMEOUT / TRICKLE  # it stopped listening at the timeout


@pytest.mark.parametrize("at", ["status line", "headers", "body"])
@pytest.mark.usefixtures("docker_config")
def test_a_trickling_token_service_is_cut_off_by_the_timeout(at: str) -> None:
    with hostile(_trickling(at)) as realm, pytest.raises(SourceUnavailable) as raised:
        RegistryAuth("http://registry.test", timeout=TIMEOUT).authorization(
            f'Bearer realm="{realm.url}/token"', "repository:a:pull"
        )
    assert str(raised.value) == (
        f"The token service of the registry at registry.test ({realm.url}) "
        f"did not answer within {TIMEOUT:g} s"
    )
    assert realm.trickled < 3 * TIMEOUT / TRICKLE


# ------------------------------------------------------------------------------------ 429


@pytest.mark.parametrize("retry_after", ["0", "Wed, 21 Oct 2015 07:28:00 GMT", "-5", "soon"])
def test_a_429_asking_for_no_wait_is_not_a_storm(retry_after: str) -> None:
    def answer(handler: HostileHandler) -> None:
        if len(handler.server.seen) > 50:  # a storm: give in, so that the test ends either way
            handler.reply(200, b'{"tags": []}')
        else:
            handler.reply(429, headers={"Retry-After": retry_after})

    waits: list[float] = []
    with hostile(answer) as server:
        client = RegistryClient(server.url, timeout=30, sleep=waits.append)
        with pytest.raises(SourceUnavailable) as raised:
            client.tags("team/app")
        asked = len(server.seen)
    assert waits == [1.0, 2.0, 4.0, 8.0]  # a backoff of its own, within the 30 s in all
    assert asked == len(waits) + 1
    assert "limits requests (429 Too Many Requests) and asks to wait 31 s in all" in str(raised.value)


def test_429_waits_stay_within_a_short_timeout() -> None:
    waits: list[float] = []
    storm = hostile(lambda handler: handler.reply(429, headers={"Retry-After": "0"}))
    with storm as server, pytest.raises(SourceUnavailable):
        RegistryClient(server.url, timeout=3, sleep=waits.append).tags("team/app")
    assert sum(waits) <= 3
    assert waits == [1.0, 2.0]


# ---------------------------------------------------------------------- bytes that are not ASCII


@pytest.mark.usefixtures("docker_config")
def test_a_token_that_is_not_latin_1_is_one_line() -> None:
    token = json.dumps({"token": "tök€n"}).encode()
    with (
        hostile(lambda handler: handler.reply(200, token)) as realm,
        pytest.raises(SourceUnavailable) as raised,
    ):
        RegistryAuth("http://registry.test", timeout=5).authorization(
            f'Bearer realm="{realm.url}/token"', "repository:a:pull"
        )
    assert str(raised.value).endswith(f"({realm.url}) answered something that is not a token")


@pytest.mark.usefixtures("docker_config")
def test_non_ascii_names_from_a_registry_are_sent_percent_encoded() -> None:
    """A catalog naming ``téam/äpp``, a ``Link`` to ``?last=é``, a tag pointing at a digest
    that is not ASCII, and a challenge whose realm path is not ASCII: one clean scan."""

    def answer(handler: HostileHandler) -> None:
        path = handler.path
        if path.startswith("/t%C3%B6k%C3%A9n"):
            handler.reply(200, b'{"token": "t"}')
        elif "Authorization" not in handler.headers:
            realm = f"http://{handler.headers['Host']}/tökén"
            handler.reply(401, headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})
        elif path.startswith("/v2/_catalog?n="):
            link = '</v2/_catalog?last=é&n=1>; rel="next"'
            handler.reply(200, json.dumps({"repositories": ["téam/äpp"]}).encode(), {"Link": link})
        elif path.startswith("/v2/_catalog"):
            handler.reply(200, json.dumps({"repositories": ["team/app"]}).encode())
        elif path.endswith("/tags/list?n=1000"):
            handler.reply(200, json.dumps({"tags": ["1"]}).encode())
        elif "/manifests/1" in path:
            handler.reply(404, headers={"Docker-Content-Digest": "sha256:é"})
        else:
            handler.reply(404)

    with hostile(answer) as server:
        found = RegistrySource(server.url, timeout=5).scan()
        paths = [path for _, path, _, _ in server.seen]
    assert found.images == ()
    assert "/v2/t%C3%A9am/%C3%A4pp/tags/list?n=1000" in paths
    assert "/v2/_catalog?last=%C3%A9&n=1" in paths
    assert any(path.startswith("/t%C3%B6k%C3%A9n?") for path in paths)
    assert all(path.isascii() for path in paths)


def test_a_digest_that_is_not_ascii_is_a_note_not_a_traceback() -> None:
    entry = {"digest": "sha256:ü", "mediaType": "application/vnd.oci.image.manifest.v1+json"}
    index = json.dumps({"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [entry]})
    digest = "sha256:" + hashlib.sha256(index.encode()).hexdigest()

    def answer(handler: HostileHandler) -> None:
        if handler.path.endswith("/tags/list?n=1000"):
            handler.reply(200, b'{"tags": ["1"]}')
        elif handler.path.endswith("/manifests/1") or handler.path.endswith(f"/manifests/{digest}"):
            handler.reply(200, index.encode(), {"Docker-Content-Digest": digest})
        else:
            handler.reply(404)

    with hostile(answer) as server:
        found = RegistrySource(f"{server.url}/team/app", timeout=5).scan()
        paths = [path for _, path, _, _ in server.seen]
    assert found.images == ()
    # The walker refuses a digest outside the OCI grammar before asking for it, and says so.
    assert all("%C3%BC" not in path for path in paths)
    assert any("sha256:ü" in note.message or "digest" in note.message for note in found.diagnostics)


# ------------------------------------------------------------------------- listings cut short


def _tags_answer(pages: Callable[[int], tuple[list[str], str | None]]) -> Callable[[HostileHandler], None]:
    """A tag list whose page ``n`` (counted from 0) is ``pages(n)``: tags and the next link."""

    def answer(handler: HostileHandler) -> None:
        if "/tags/list" not in handler.path:
            handler.reply(404)
            return
        tags, link = pages(len(handler.server.seen) - 1)
        headers = {"Link": f'<{link}>; rel="next"'} if link else {}
        handler.reply(200, json.dumps({"tags": tags}).encode(), headers)

    return answer


def test_a_link_loop_is_said_not_followed() -> None:
    loop = _tags_answer(lambda n: ([f"t{n}"], "/v2/team/app/tags/list?n=1000"))
    with hostile(loop) as server:
        client = RegistryClient(f"{server.url}/team/app", timeout=5)
        assert client.tags("team/app") == ["t0"]
        asked = len(server.seen)
    assert asked == 1
    assert [(d.code, d.message) for d in client.notes] == [
        (
            "registry_cut",
            f"the tag list of {server.address}/team/app was cut short: "
            "its pages lead back to one already read",
        )
    ]


def test_pages_past_the_limit_are_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_client, "MAX_PAGES", 3)
    endless = _tags_answer(lambda n: ([f"t{n}"], f"/v2/team/app/tags/list?last=t{n}&n=1000"))
    with hostile(endless) as server:
        found = RegistrySource(f"{server.url}/team/app", timeout=5).scan()
    notes = [d.message for d in found.diagnostics if d.code == "registry_cut"]
    assert notes == [f"the tag list of {server.address}/team/app was cut short: it has more than 3 pages"]


def test_twenty_thousand_tags_are_capped_with_a_note() -> None:
    names = sorted(f"v{i:05}" for i in range(20_000))

    def page(n: int) -> tuple[list[str], str | None]:
        chunk = names[n * 1000 : (n + 1) * 1000]
        return chunk, (f"/v2/team/app/tags/list?last={chunk[-1]}&n=1000" if n < 19 else None)

    with hostile(_tags_answer(page)) as server:
        client = RegistryClient(f"{server.url}/team/app", timeout=5)
        tags = client.tags("team/app")
    assert tags == names[:MAX_TAGS]
    assert [d.message for d in client.notes] == [
        f"{server.address}/team/app lists 20,000 tags: only the first {MAX_TAGS:,} (in name order) are read"
    ]


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA) and its key, as PEM files in ``directory``."""
    import datetime  # noqa: PLC0415
    import ipaddress  # noqa: PLC0415

    from cryptography import x509  # noqa: PLC0415 - a test dependency
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    builder = x509.CertificateBuilder(
        issuer_name=name,
        subject_name=name,
        public_key=key.public_key(),
        serial_number=x509.random_serial_number(),
        not_valid_before=now - datetime.timedelta(hours=1),
        not_valid_after=now + datetime.timedelta(hours=1),
    )
    builder = builder.add_extension(san, critical=False)
    cert = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(
        key, hashes.SHA256()
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("at", ["headers", "body"])
def test_a_trickling_registry_over_tls_is_cut_off_by_the_timeout(
    at: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl  # noqa: PLC0415

    from image_lineage.net import http  # noqa: PLC0415

    cert, key = _self_signed(tmp_path)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)

    def trusting() -> ssl.SSLContext:
        context = tls_context()  # the real one, also trusting the test's certificate
        context.load_verify_locations(cafile=cert)
        return context

    monkeypatch.setattr(http, "tls_context", trusting)
    with hostile(_trickling(at)) as server:
        server.socket = server_side.wrap_socket(server.socket, server_side=True)
        url = f"https://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(SourceUnavailable) as raised:
            RegistrySource(f"{url}/team/app", timeout=TIMEOUT).scan()
    assert str(raised.value) == f"The registry at {url} did not answer within {TIMEOUT:g} s"
    assert server.trickled < 3 * TIMEOUT / TRICKLE
