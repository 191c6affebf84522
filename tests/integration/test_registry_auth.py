"""Registries that ask for credentials: Debian's docker-registry with htpasswd and with token auth.

The token registry trusts the harness's token issuer (RS256 JWTs, libtrust ``kid``), which
lets anonymous callers pull but not read the catalog, as Docker Hub and GHCR do. Images go
in with ``skopeo copy --dest-creds`` from OCI archives built in Python (no daemon). The
credentials the tool reads come from a private ``DOCKER_CONFIG`` (``auths``,
``credHelpers``, ``credsStore``) and a test helper, ``docker-credential-ilt``, first on PATH.

Two levels: ``RegistryAuth`` answering the real registries' own challenges (what the
registry accepts is the proof), and whole scans through the CLI, after which every artifact
of the run (stdout, stderr, snapshot, JSON export, the cache dir) is grepped for the
password, the identity token and every token the issuer handed out.
"""

from __future__ import annotations

import io
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_lineage.cli import main
from image_lineage.errors import SourceUnavailable
from image_lineage.lineage import build_lineage
from image_lineage.sources import open_source
from image_lineage.sources.registry_auth import RegistryAuth
from testbed.oci_layout import AMD64, Image, OciLayout, pseudo_random_bytes
from testbed.registry import RegistryError, RegistryMissing, ThrowawayRegistry
from testbed.token_registry import (
    ANONYMOUS,
    HarnessDependencyMissing,
    TokenIssuer,
    auths_entry,
    basic_auth_section,
    write_credential_helper,
    write_docker_config,
)
from tests.conftest import unavailable

pytestmark = pytest.mark.docker

PASSWORD = "s3cret-pa55word-in-no-output"  # noqa: S105 - a test secret, grepped for
IDENTITY = "identity-token-in-no-output"
USER = "alice"
PULL = "repository:team/app:pull"
CATALOG = "registry:catalog:*"


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """team/base:1 and team/app:1 (built on it): repo -> (OCI archive, config digest)."""
    base = Image.scratch(AMD64).run("ADD rootfs /", {"etc/os": pseudo_random_bytes("auth-base", 3000)})
    app = base.run("RUN make", {"opt/app": pseudo_random_bytes("auth-app", 2000)})
    folder = tmp_path_factory.mktemp("auth-family")
    archives = {}
    for repo, image in (("team/base", base), ("team/app", app)):
        layout = OciLayout()
        layout.tag(f"{repo}:1", layout.add_image(image))
        path = folder / f"{repo.replace('/', '-')}.tar"
        path.write_bytes(layout.tar_bytes())
        archives[repo] = (path, image.config_digest)
    return archives


def _start(auth: str) -> ThrowawayRegistry:
    try:
        return ThrowawayRegistry(auth=auth).start()
    except (RegistryMissing, RegistryError) as error:
        unavailable(f"no throwaway registry: {error}")
        raise  # unreachable: unavailable skips or fails


def _push(registry: ThrowawayRegistry, family: dict[str, tuple[Path, str]]) -> None:
    for repo, (archive, _) in family.items():
        registry.copy(f"oci-archive:{archive}:1", f"{repo}:1", creds=f"{USER}:{PASSWORD}")


@pytest.fixture(scope="module")
def issuer() -> Iterator[TokenIssuer]:
    try:
        service = TokenIssuer(users={USER: PASSWORD}, identity_tokens={IDENTITY: USER}, anonymous_pull=True)
    except HarnessDependencyMissing as error:
        unavailable(str(error))
        raise
    with service:
        yield service


@pytest.fixture(scope="module")
def token_registry(issuer: TokenIssuer, family: dict[str, tuple[Path, str]]) -> Iterator[ThrowawayRegistry]:
    registry = _start(issuer.auth_section())
    try:
        _push(registry, family)
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="module")
def basic_registry(
    family: dict[str, tuple[Path, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThrowawayRegistry]:
    try:
        section = basic_auth_section(tmp_path_factory.mktemp("htpasswd"), {USER: PASSWORD})
    except HarnessDependencyMissing as error:
        unavailable(str(error))
        raise
    registry = _start(section)
    try:
        _push(registry, family)
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private DOCKER_CONFIG (empty), and a bin dir first on PATH for the test helper."""
    config = tmp_path / "docker-config"
    write_docker_config(config, {})
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    return config


@pytest.fixture(autouse=True)
def _fresh_issuer_log(request: pytest.FixtureRequest) -> None:
    if "issuer" in request.fixturenames:
        issuer: TokenIssuer = request.getfixturevalue("issuer")
        issuer.requests.clear()
        issuer.expires_in = 300
        issuer.anonymous_pull = True


def read(registry: ThrowawayRegistry, path: str, scope: str, auth: RegistryAuth) -> dict[str, object]:
    """GET ``path`` as registry.py does: on a 401 with a challenge, answer it and retry once."""
    url = f"{registry.url}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - local registry
            return dict(json.load(answer))
    except urllib.error.HTTPError as error:
        if error.code != 401:
            raise
        challenge = error.headers["WWW-Authenticate"]
    header = auth.authorization(challenge, scope)
    assert header is not None
    request = urllib.request.Request(url, headers={"Authorization": header})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return dict(json.load(answer))
    except urllib.error.HTTPError as error:
        if error.code == 401:
            raise auth.refused(scope) from None
        raise


def helper_config(config: Path, registry: ThrowawayRegistry, key: str) -> None:
    """``docker-credential-ilt`` holding alice's password, named by ``credHelpers`` or ``credsStore``."""
    write_credential_helper(config.parent / "bin", "ilt", {registry.address: (USER, PASSWORD)})
    value: object = {registry.address: "ilt"} if key == "credHelpers" else "ilt"
    write_docker_config(config, {key: value})


# --- RegistryAuth against the registries' own challenges ---------------------------------


def test_basic_auth_from_auths(basic_registry: ThrowawayRegistry, docker_config: Path) -> None:
    write_docker_config(docker_config, {"auths": {basic_registry.address: auths_entry(USER, PASSWORD)}})
    auth = RegistryAuth(basic_registry.url, timeout=10)
    assert read(basic_registry, "/v2/_catalog", CATALOG, auth) == {"repositories": ["team/app", "team/base"]}


def test_basic_auth_without_credentials_says_log_in(
    basic_registry: ThrowawayRegistry, docker_config: Path
) -> None:
    with pytest.raises(SourceUnavailable) as raised:
        read(basic_registry, "/v2/team/app/tags/list", PULL, RegistryAuth(basic_registry.url, timeout=10))
    assert f"log in with docker login {basic_registry.address}" in str(raised.value)
    assert docker_config.exists()


@pytest.mark.parametrize("key", ["credHelpers", "credsStore"])
def test_token_auth_from_a_helper(
    token_registry: ThrowawayRegistry, issuer: TokenIssuer, docker_config: Path, key: str
) -> None:
    helper_config(docker_config, token_registry, key)
    auth = RegistryAuth(token_registry.url, timeout=10)
    assert read(token_registry, "/v2/_catalog", CATALOG, auth) == {"repositories": ["team/app", "team/base"]}
    assert issuer.requests == [("GET", f"basic:{USER}", (CATALOG,))]


def test_token_auth_from_an_identity_token(
    token_registry: ThrowawayRegistry, issuer: TokenIssuer, docker_config: Path
) -> None:
    write_docker_config(docker_config, {"auths": {token_registry.address: {"identitytoken": IDENTITY}}})
    auth = RegistryAuth(token_registry.url, timeout=10)
    assert read(token_registry, "/v2/_catalog", CATALOG, auth)["repositories"] == ["team/app", "team/base"]
    assert issuer.requests == [("POST", f"refresh:{USER}", (CATALOG,))]


@pytest.mark.usefixtures("docker_config")
def test_anonymous_pull_but_no_anonymous_catalog(
    token_registry: ThrowawayRegistry, issuer: TokenIssuer
) -> None:
    auth = RegistryAuth(token_registry.url, timeout=10)
    assert read(token_registry, "/v2/team/app/tags/list", PULL, auth) == {"name": "team/app", "tags": ["1"]}
    with pytest.raises(SourceUnavailable) as raised:
        read(token_registry, "/v2/_catalog", CATALOG, auth)
    assert str(raised.value).endswith(
        f"none are stored for it; log in with docker login {token_registry.address}"
    )
    assert {who for _, who, _ in issuer.requests} == {ANONYMOUS}


def test_an_expired_token_is_refused_by_the_registry_and_renewed(
    token_registry: ThrowawayRegistry, issuer: TokenIssuer, docker_config: Path
) -> None:
    write_docker_config(docker_config, {"auths": {token_registry.address: auths_entry(USER, PASSWORD)}})
    issuer.expires_in = 2
    auth = RegistryAuth(token_registry.url, timeout=10)
    header = auth.authorization(
        f'Bearer realm="{issuer.realm}",service="image-lineage-test-registry",scope="{PULL}"', PULL
    )
    assert header is not None
    time.sleep(2.5)
    stale = urllib.request.Request(  # noqa: S310 - local registry
        f"{token_registry.url}/v2/team/app/tags/list", headers={"Authorization": header}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(stale, timeout=10)  # noqa: S310 - local registry
    challenge = refused.value.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge  # the registry itself says the token is dead
    fresh = auth.authorization(challenge, PULL)
    assert fresh != header
    assert read(token_registry, "/v2/team/app/tags/list", PULL, auth)["tags"] == ["1"]
    assert len(issuer.requests) == 2


def test_a_wrong_password_is_refused_at_the_token_service(
    token_registry: ThrowawayRegistry, docker_config: Path
) -> None:
    write_docker_config(docker_config, {"auths": {token_registry.address: auths_entry(USER, "wrong")}})
    with pytest.raises(SourceUnavailable) as raised:
        read(token_registry, "/v2/_catalog", CATALOG, RegistryAuth(token_registry.url, timeout=10))
    where = docker_config / "config.json"
    assert str(raised.value).startswith(
        f"The registry at {token_registry.address} refused the credentials from {where} (auths)"
    )


# --- whole scans, through the registry source and the CLI --------------------------------


def _tree(spec: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["tree", "--source", spec], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_a_scan_with_credentials_from_auths_reads_both_registries(
    basic_registry: ThrowawayRegistry,
    token_registry: ThrowawayRegistry,
    family: dict[str, tuple[Path, str]],
    docker_config: Path,
) -> None:
    entry = auths_entry(USER, PASSWORD)
    write_docker_config(
        docker_config, {"auths": {basic_registry.address: entry, token_registry.address: entry}}
    )
    for registry in (basic_registry, token_registry):
        scan = open_source(f"registry:{registry.url}").scan()
        lineage = build_lineage(scan.images, scan.source, scan.diagnostics)
        app, base = family["team/app"][1], family["team/base"][1]
        assert {n.id for n in lineage.nodes()} == {app, base}
        assert lineage.node(app).parent == base


@pytest.mark.usefixtures("docker_config")
def test_an_anonymous_scan_reads_the_repository_named(
    token_registry: ThrowawayRegistry, family: dict[str, tuple[Path, str]]
) -> None:
    scan = open_source(f"registry:{token_registry.url}/team/app").scan()
    assert [image.id for image in scan.images] == [family["team/app"][1]]
    status, _, err = _tree(f"registry:{token_registry.url}")  # the whole catalog: not anonymously
    assert status == 1
    assert err.count("\n") == 1
    assert "REPOSITORY" in err  # name a repository in the address


def test_a_scan_that_outlives_its_tokens_renews_them(
    token_registry: ThrowawayRegistry, issuer: TokenIssuer, docker_config: Path
) -> None:
    helper_config(docker_config, token_registry, "credHelpers")
    issuer.expires_in = 2

    def slow(_done: int, _total: int) -> None:
        time.sleep(1.5)  # after each tag's HEAD: manifests and configs come after the tokens died

    scan = open_source(f"registry:{token_registry.url}").scan(progress=slow)
    assert len(scan.images) == 2
    for repository in ("team/app", "team/base"):
        asked = [scopes for _, _, scopes in issuer.requests if f"repository:{repository}:pull" in scopes]
        assert len(asked) >= 2, issuer.requests  # a token, then a fresh one once it had expired


@pytest.mark.parametrize(
    ("registry_name", "path"),
    [
        pytest.param("basic_registry", "/team/app", id="basic"),  # refused by the registry
        pytest.param("token_registry", "", id="token"),  # refused by the token service
    ],
)
def test_a_wrong_password_is_one_line(
    request: pytest.FixtureRequest, docker_config: Path, registry_name: str, path: str
) -> None:
    registry: ThrowawayRegistry = request.getfixturevalue(registry_name)
    write_docker_config(docker_config, {"auths": {registry.address: auths_entry(USER, f"not-{PASSWORD}")}})
    status, out, err = _tree(f"registry:{registry.url}{path}")
    assert (status, out) == (1, "")
    assert err.count("\n") == 1, err
    assert f"refused the credentials from {docker_config / 'config.json'} (auths)" in err
    assert PASSWORD not in err


@pytest.fixture
def registries(
    token_registry: ThrowawayRegistry, basic_registry: ThrowawayRegistry
) -> tuple[ThrowawayRegistry, ThrowawayRegistry]:
    return token_registry, basic_registry


def test_no_secret_in_any_artifact(
    registries: tuple[ThrowawayRegistry, ThrowawayRegistry],
    issuer: TokenIssuer,
    docker_config: Path,
    private_cache: Path,
    tmp_path: Path,
) -> None:
    token_registry, basic_registry = registries
    helper_config(docker_config, token_registry, "credsStore")
    write_credential_helper(
        docker_config.parent / "bin",
        "ilt",
        {token_registry.address: (USER, PASSWORD), basic_registry.address: (USER, PASSWORD)},
    )
    issued_before = len(issuer.issued)
    out, err = io.StringIO(), io.StringIO()
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    for registry in (token_registry, basic_registry):
        spec = f"registry:{registry.url}"
        name = registry.address.replace(":", "-")
        runs = [
            ["tree", "--source", spec, "--notes"],
            ["export", "-f", "json", "--source", spec, "-o", str(outputs / f"{name}.json")],
            ["export", "-f", "dot", "--source", spec],
            ["snapshot", "--source", spec, "-o", str(outputs / f"{name}.snapshot.json")],
        ]
        for argv in runs:
            assert main(argv, stdout=out, stderr=err) == 0, err.getvalue()
    write_credential_helper(
        docker_config.parent / "bin", "ilt", {token_registry.address: (USER, f"x{PASSWORD}")}
    )
    assert main(["tree", "--source", f"registry:{token_registry.url}"], stdout=out, stderr=err) == 1
    tokens = issuer.issued[issued_before:]
    assert tokens, "no token was issued: nothing was checked"
    artifacts = {"stdout": out.getvalue().encode(), "stderr": err.getvalue().encode()}
    for folder in (outputs, private_cache):
        artifacts.update({str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()})
    assert any(str(p).endswith(".snapshot.json") for p in artifacts)
    assert any(
        str(p).startswith(str(private_cache)) for p in artifacts
    )  # the cache was written, and read here
    secrets = [PASSWORD.encode(), *(t.encode() for t in tokens)]
    secrets += [part.encode() for t in tokens for part in t.split(".")[1:]]  # claims and signature alone
    leaks = [(where, s[:12]) for where, data in artifacts.items() for s in secrets if s in data]
    assert leaks == []
