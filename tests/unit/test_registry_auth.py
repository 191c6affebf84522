"""Challenges, config.json and helpers, and the token flow, without a registry.

Credentials are read from a private ``DOCKER_CONFIG`` and a test credential helper put
first on PATH; tokens come from the harness's token issuer (an in-process HTTP server,
the same one the real registry trusts in ``tests/integration/test_registry_auth.py``).
Every failure must be one ``SourceUnavailable`` whose text, like any ``repr``, holds no secret.
"""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_lineage.errors import Hint, SourceUnavailable
from image_lineage.sources.registry_auth import (
    DOCKER_HUB_KEY,
    Challenge,
    RegistryAuth,
    find_credentials,
    parse_challenges,
    registry_key,
)
from testbed.token_registry import (
    ANONYMOUS,
    TokenIssuer,
    auths_entry,
    write_credential_helper,
    write_docker_config,
)
from tests.support.docker_config import private_docker_config

PASSWORD = "pa55-w0rd-never-shown"  # noqa: S105 - a test secret, grepped for
IDENTITY = "identity-token-never-shown"
HOST = "registry.test:5000"
REGISTRY = f"http://{HOST}"  # plain http: the test token service is too
PULL = "repository:team/app:pull"


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return private_docker_config(tmp_path, monkeypatch)


@pytest.fixture
def issuer() -> Iterator[TokenIssuer]:
    with TokenIssuer(users={"alice": PASSWORD}, identity_tokens={IDENTITY: "alice"}) as service:
        yield service


def bearer(issuer: TokenIssuer, scope: str = PULL, extra: str = "") -> str:
    return f'Bearer realm="{issuer.realm}",service="svc",scope="{scope}"{extra}'


def assert_no_secret(text: str) -> None:
    assert PASSWORD not in text
    assert IDENTITY not in text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            'Bearer realm="https://a.t/t",service="svc",scope="repository:a:pull"',
            [Challenge("bearer", {"realm": "https://a.t/t", "service": "svc", "scope": "repository:a:pull"})],
            id="bearer",
        ),
        pytest.param(
            'Bearer realm="r",scope="repository:a/b:pull,push",error="invalid_token"',
            [Challenge("bearer", {"realm": "r", "scope": "repository:a/b:pull,push", "error": "invalid_token"})],  # noqa: E501
            id="comma-inside-quotes",
        ),
        pytest.param(
            'Basic realm="Registry Realm"', [Challenge("basic", {"realm": "Registry Realm"})], id="basic"
        ),
        pytest.param(
            'Basic realm="x", Bearer realm=http://h/t,service=s',
            [Challenge("basic", {"realm": "x"}), Challenge("bearer", {"realm": "http://h/t", "service": "s"})],  # noqa: E501
            id="two-challenges-token-values",
        ),
        pytest.param('BEARER Realm="a\\"b"', [Challenge("bearer", {"realm": 'a"b'})], id="case-and-escapes"),
        pytest.param("Basic", [Challenge("basic", {})], id="no-params"),
        pytest.param("", [], id="empty"),
        pytest.param('"garbage', [], id="garbage"),
    ],
)  # fmt: skip
def test_challenges_are_parsed(header: str, expected: list[Challenge]) -> None:
    assert parse_challenges(header) == expected


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("https://Registry.Test:5000/team/app", HOST),
        ("registry.test:5000", HOST),
        ("http://127.0.0.1:5000", "127.0.0.1:5000"),
        ("ghcr.io", "ghcr.io"),
    ],
)
def test_the_key_credentials_are_stored_under(address: str, key: str) -> None:
    assert registry_key(address) == key


def test_auths_give_user_and_password(docker_config: Path) -> None:
    write_docker_config(docker_config, {"auths": {HOST: auths_entry("alice", PASSWORD)}})
    found = find_credentials(f"https://{HOST}", timeout=5)
    assert found is not None
    assert (found.username, found.password, found.identity_token) == ("alice", PASSWORD, None)
    assert found.origin == f"{docker_config / 'config.json'} (auths)"
    assert_no_secret(repr(found))


def test_auths_keys_written_as_urls_match(docker_config: Path) -> None:
    write_docker_config(docker_config, {"auths": {f"https://{HOST}/v2/": auths_entry("alice", PASSWORD)}})
    found = find_credentials(HOST, timeout=5)
    assert found is not None
    assert found.username == "alice"


def test_an_identity_token_in_auths(docker_config: Path) -> None:
    write_docker_config(docker_config, {"auths": {HOST: {"identitytoken": IDENTITY}}})
    found = find_credentials(HOST, timeout=5)
    assert found is not None
    assert (found.username, found.identity_token) == (None, IDENTITY)


def test_nothing_stored_is_none(docker_config: Path) -> None:
    write_docker_config(docker_config, {"auths": {"other.test": auths_entry("bob", PASSWORD), HOST: {}}})
    assert find_credentials(HOST, timeout=5) is None
    (docker_config / "config.json").unlink()
    assert find_credentials(HOST, timeout=5) is None


def test_cred_helpers_come_before_auths(docker_config: Path) -> None:
    write_credential_helper(docker_config.parent / "bin", "ilt", {HOST: ("helper-user", PASSWORD)})
    write_docker_config(
        docker_config, {"auths": {HOST: auths_entry("auths-user", "x")}, "credHelpers": {HOST: "ilt"}}
    )
    found = find_credentials(HOST, timeout=5)
    assert found is not None
    assert (found.username, found.password, found.origin) == (
        "helper-user",
        PASSWORD,
        "the credential helper docker-credential-ilt",
    )


def test_creds_store_identity_token_and_docker_hub_key(docker_config: Path) -> None:
    write_credential_helper(docker_config.parent / "bin", "ilt", {DOCKER_HUB_KEY: ("<token>", IDENTITY)})
    write_docker_config(docker_config, {"credsStore": "ilt"})
    found = find_credentials("https://registry-1.docker.io", timeout=5)
    assert found is not None
    assert (found.username, found.identity_token) == (None, IDENTITY)


def test_a_helper_with_nothing_falls_back_to_auths(docker_config: Path) -> None:
    write_credential_helper(docker_config.parent / "bin", "ilt", {})
    write_docker_config(docker_config, {"auths": {HOST: auths_entry("alice", PASSWORD)}, "credsStore": "ilt"})
    found = find_credentials(HOST, timeout=5)
    assert found is not None
    assert found.origin.endswith("(auths)")


def test_a_missing_helper_is_one_line_and_no_warning(
    docker_config: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    write_docker_config(docker_config, {"credHelpers": {HOST: "absent"}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # docker-py's Store would warn here
        with pytest.raises(SourceUnavailable) as raised:
            find_credentials(HOST, timeout=5)
    assert "docker-credential-absent" in str(raised.value)
    assert "not installed" in str(raised.value)
    assert capfd.readouterr() == ("", "")


def test_a_failing_helper_is_one_line_without_its_output(
    docker_config: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    helper = docker_config.parent / "bin" / "docker-credential-broken"
    helper.write_text(f"#!/bin/sh\necho 'leaked {PASSWORD}' >&2\necho '{PASSWORD}'\nexit 3\n")
    helper.chmod(0o755)
    write_docker_config(docker_config, {"credHelpers": {HOST: "broken"}})
    with pytest.raises(SourceUnavailable) as raised:
        find_credentials(HOST, timeout=5)
    assert "docker-credential-broken failed" in str(raised.value)
    assert "exit status 3" in str(raised.value)
    assert_no_secret(str(raised.value))
    assert capfd.readouterr() == ("", "")  # the helper's stderr is not passed through


def test_a_hanging_helper_is_cut_off(docker_config: Path) -> None:
    helper = docker_config.parent / "bin" / "docker-credential-slow"
    helper.write_text("#!/bin/sh\nexec sleep 30\n")
    helper.chmod(0o755)
    write_docker_config(docker_config, {"credsStore": "slow"})
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as raised:
        find_credentials(HOST, timeout=0.5)
    assert time.monotonic() - started < 5
    assert raised.value.hint is Hint.RAISE_TIMEOUT


def test_a_damaged_auths_entry_names_the_file_not_the_value(docker_config: Path) -> None:
    write_docker_config(docker_config, {"auths": {HOST: {"auth": f"{PASSWORD}!!not-base64"}}})
    with pytest.raises(SourceUnavailable) as raised:
        find_credentials(HOST, timeout=5)
    assert str(docker_config / "config.json") in str(raised.value)
    assert_no_secret(str(raised.value))
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


@pytest.mark.usefixtures("docker_config")
def test_anonymous_token_and_its_cache(issuer: TokenIssuer) -> None:
    auth = RegistryAuth(REGISTRY, timeout=5)
    first = auth.authorization(bearer(issuer), PULL)
    assert first is not None
    assert first.startswith("Bearer ")
    assert auth.authorization(bearer(issuer), PULL) == first  # cached: one request
    assert issuer.requests == [("GET", ANONYMOUS, (PULL,))]


def test_user_token_by_basic_auth(docker_config: Path, issuer: TokenIssuer) -> None:
    write_docker_config(docker_config, {"auths": {HOST: auths_entry("alice", PASSWORD)}})
    auth = RegistryAuth(REGISTRY, timeout=5)
    assert auth.authorization(bearer(issuer, "registry:catalog:*"), "registry:catalog:*")
    assert issuer.requests == [("GET", "basic:alice", ("registry:catalog:*",))]


def test_identity_token_by_oauth2_refresh_grant(docker_config: Path, issuer: TokenIssuer) -> None:
    write_docker_config(docker_config, {"auths": {HOST: {"identitytoken": IDENTITY}}})
    auth = RegistryAuth(REGISTRY, timeout=5)
    header = auth.authorization(bearer(issuer), PULL)
    assert header == f"Bearer {issuer.issued[-1]}"  # read from access_token
    assert issuer.requests == [("POST", "refresh:alice", (PULL,))]


@pytest.mark.usefixtures("docker_config")
def test_an_invalid_token_challenge_fetches_a_fresh_one(issuer: TokenIssuer) -> None:
    auth = RegistryAuth(REGISTRY, timeout=5)
    first = auth.authorization(bearer(issuer), PULL)
    again = auth.authorization(bearer(issuer, extra=',error="invalid_token"'), PULL)
    assert again != first
    assert len(issuer.requests) == 2


@pytest.mark.usefixtures("docker_config")
def test_an_expired_token_is_fetched_again(issuer: TokenIssuer) -> None:
    # issued_at has whole seconds, so up to 1 s of a token's life may already look spent:
    # 3 s leaves at least 1.8 s (after the 10 % early-renewal margin) for the second ask,
    # and is over, margin or not, 2.7 s after the first.
    issuer.expires_in = 3
    now = [1000.0]
    auth = RegistryAuth(REGISTRY, timeout=5, clock=lambda: now[0])
    auth.authorization(bearer(issuer), PULL)
    now[0] += 1.7
    auth.authorization(bearer(issuer), PULL)
    assert len(issuer.requests) == 1
    now[0] += 1.1  # 2.8 s after the first: over, margin or not
    auth.authorization(bearer(issuer), PULL)
    assert len(issuer.requests) == 2


@pytest.mark.usefixtures("docker_config")
def test_the_challenges_own_scope_is_asked_for_too(issuer: TokenIssuer) -> None:
    RegistryAuth(REGISTRY, timeout=5).authorization(bearer(issuer, "repository:team/app:pull,push"), PULL)
    assert issuer.requests[0][2] == (PULL, "repository:team/app:pull,push")


def test_a_refused_password_names_where_it_came_from(docker_config: Path, issuer: TokenIssuer) -> None:
    write_docker_config(docker_config, {"auths": {HOST: auths_entry("alice", f"wrong-{PASSWORD}")}})
    with pytest.raises(SourceUnavailable) as raised:
        RegistryAuth(REGISTRY, timeout=5).authorization(bearer(issuer), PULL)
    message = str(raised.value)
    assert message.startswith(f"The registry at {HOST} refused the credentials from {docker_config}")
    assert "(auths)" in message
    assert f"docker login {HOST}" in message
    assert_no_secret(message)
    assert raised.value.__cause__ is None


@pytest.mark.parametrize(
    ("fail", "words"),
    [
        pytest.param(500, "answered 500", id="500"),
        pytest.param("garbage", "answered something that is not a token", id="not-json"),
    ],
)
@pytest.mark.usefixtures("docker_config")
def test_a_broken_token_service_is_one_line(issuer: TokenIssuer, fail: int | str, words: str) -> None:
    issuer.fail = fail
    with pytest.raises(SourceUnavailable) as raised:
        RegistryAuth(REGISTRY, timeout=5).authorization(bearer(issuer), PULL)
    assert words in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.usefixtures("docker_config")
def test_an_unreachable_token_service() -> None:
    with pytest.raises(SourceUnavailable) as raised:
        RegistryAuth(REGISTRY, timeout=5).authorization('Bearer realm="http://127.0.0.1:1/token"', PULL)
    assert str(raised.value).startswith(f"Cannot reach the token service of the registry at {HOST}")


def test_basic_challenges(docker_config: Path) -> None:
    auth = RegistryAuth(REGISTRY, timeout=5)
    with pytest.raises(SourceUnavailable) as raised:
        auth.authorization('Basic realm="r"', PULL)
    assert str(raised.value).endswith(f"none are stored for it; log in with docker login {HOST}")
    write_docker_config(docker_config, {"auths": {HOST: auths_entry("alice", PASSWORD)}})
    header = RegistryAuth(REGISTRY, timeout=5).authorization('Basic realm="r"', PULL)
    assert header == "Basic " + auths_entry("alice", PASSWORD)["auth"]
    assert RegistryAuth(REGISTRY, timeout=5).authorization("Negotiate abc", PULL) is None


def test_refused_after_the_retry(docker_config: Path) -> None:
    write_credential_helper(docker_config.parent / "bin", "ilt", {HOST: ("alice", PASSWORD)})
    write_docker_config(docker_config, {"credHelpers": {HOST: "ilt"}})
    message = str(RegistryAuth(REGISTRY, timeout=5).refused(PULL))
    assert message.startswith(f"The registry at {HOST} refused the credentials from the credential helper ")
    assert_no_secret(message)


def test_docker_py_is_imported_only_when_a_registry_asks() -> None:
    script = (
        "import sys\n"
        "from image_lineage.sources.registry_auth import RegistryAuth\n"
        "RegistryAuth('h:1', timeout=1)\n"
        "print('docker' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"
