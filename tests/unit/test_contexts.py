"""Docker contexts: the docker CLI's order of choice, and its files as real files in a temp folder.

The files are written here as docker CLI 20.10 and 28 write them (``docker context create``;
``tests/integration/test_contexts.py`` has the CLI itself write them and reads what it wrote).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from image_lineage.cli import HINTS
from image_lineage.errors import Hint, SourceUnavailable
from image_lineage.sources.engine import DOCKER
from image_lineage.sources.engine.contexts import Endpoint, config_dir, resolve
from image_lineage.sources.engine.transport import DEFAULT_ENDPOINT
from tests.support.cli import run_cli

DEFAULT = "unix:///default/docker.sock"


def context_dir(config: Path, name: str, kind: str = "meta") -> Path:
    return config / "contexts" / kind / hashlib.sha256(name.encode()).hexdigest()


def write_context(config: Path, name: str, host: str = "", *, skip_tls_verify: bool = False) -> None:
    """``contexts/meta/<sha256>/meta.json`` exactly as ``docker context create`` writes it."""
    meta = {
        "Name": name,
        "Metadata": {},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_tls_verify}},
    }
    write_meta(config, name, json.dumps(meta, separators=(",", ":")))


def write_meta(config: Path, name: str, text: str) -> None:
    folder = context_dir(config, name)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(text, encoding="utf-8")


def use(config: Path, name: str) -> None:
    """``docker context use NAME``: ``currentContext`` in ``config.json``."""
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.json").write_text(json.dumps({"auths": {}, "currentContext": name}, indent="\t"))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A docker CLI configuration folder with contexts 'current', 'envctx' and 'asked', 'current' in use."""
    folder = tmp_path / "docker-config"
    for name in ("current", "envctx", "asked"):
        write_context(folder, name, f"unix:///run/{name}.sock")
    use(folder, "current")
    return folder


# ----------------------------------------------------------------------------- precedence

PRECEDENCE = [
    # (address given, DOCKER_HOST, DOCKER_CONTEXT) -> the endpoint chosen; 'current' is in use.
    pytest.param(
        "tcp://given:2375",
        "unix:///run/env-host.sock",
        "envctx",
        Endpoint("tcp://given:2375"),
        id="an-address-beats-everything",
    ),
    pytest.param(
        "context:asked",
        "unix:///run/env-host.sock",
        "envctx",
        Endpoint("unix:///run/asked.sock", "asked"),
        id="a-context-asked-for-beats-DOCKER_HOST",
    ),
    pytest.param(
        None,
        "unix:///run/env-host.sock",
        "envctx",
        Endpoint("unix:///run/env-host.sock"),
        id="DOCKER_HOST-beats-DOCKER_CONTEXT-and-the-current-context",
    ),
    pytest.param(
        None, None, "envctx", Endpoint("unix:///run/envctx.sock", "envctx"), id="DOCKER_CONTEXT-beats-current"
    ),
    pytest.param(None, None, None, Endpoint("unix:///run/current.sock", "current"), id="the-current-context"),
    pytest.param(
        None, "", "", Endpoint("unix:///run/current.sock", "current"), id="empty-variables-are-unset"
    ),
    pytest.param(
        "context:", None, "envctx", Endpoint("unix:///run/envctx.sock", "envctx"), id="no-name-asks-for-none"
    ),
    pytest.param(
        "context:default",
        "unix:///run/env-host.sock",
        None,
        Endpoint("unix:///run/env-host.sock"),
        id="the-default-context-is-DOCKER_HOST",
    ),
    pytest.param("context:default", None, None, Endpoint(DEFAULT), id="the-default-context-else-the-socket"),
    pytest.param(None, None, "default", Endpoint(DEFAULT), id="DOCKER_CONTEXT-default"),
]


@pytest.mark.parametrize(("given", "docker_host", "docker_context", "expected"), PRECEDENCE)
def test_the_docker_clis_order(
    config: Path, given: str | None, docker_host: str | None, docker_context: str | None, expected: Endpoint
) -> None:
    env = {"DOCKER_CONFIG": str(config)}
    if docker_host is not None:
        env["DOCKER_HOST"] = docker_host
    if docker_context is not None:
        env["DOCKER_CONTEXT"] = docker_context
    assert resolve(given, default=DEFAULT, environ=env) == expected


@pytest.mark.parametrize(
    "config_json",
    [
        pytest.param(None, id="no-config-json"),
        pytest.param({"auths": {}}, id="no-current-context"),
        pytest.param({"currentContext": ""}, id="empty-current-context"),
        pytest.param({"currentContext": "default"}, id="current-context-default"),
    ],
)
def test_no_context_in_use_means_the_default_socket(tmp_path: Path, config_json: object) -> None:
    if config_json is not None:
        (tmp_path / "config.json").write_text(json.dumps(config_json))
    assert resolve(None, default=DEFAULT, environ={"DOCKER_CONFIG": str(tmp_path)}) == Endpoint(DEFAULT)


def test_without_DOCKER_CONFIG_the_folder_is_dot_docker_at_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DOCKER_CONFIG", "DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    write_context(tmp_path / ".docker", "colima", "unix:///home/me/.colima/default/docker.sock")
    use(tmp_path / ".docker", "colima")
    assert config_dir() == tmp_path / ".docker"
    assert resolve(None, default=DEFAULT_ENDPOINT).address == "unix:///home/me/.colima/default/docker.sock"
    assert resolve("context:default", default=DEFAULT_ENDPOINT).address == DEFAULT_ENDPOINT


# ----------------------------------------------------------------------------- the files


def test_a_context_names_itself_in_the_source_and_the_messages(config: Path) -> None:
    endpoint = resolve("context:asked", default=DEFAULT, environ={"DOCKER_CONFIG": str(config)})
    assert endpoint.label == "unix:///run/asked.sock (context asked)"
    assert endpoint.engine(DOCKER).name == "Docker Engine of context 'asked'"
    assert Endpoint("unix:///x").label == "unix:///x"
    assert Endpoint("unix:///x").engine(DOCKER) is DOCKER


@pytest.mark.parametrize(
    ("meta", "address"),
    [
        pytest.param(
            {"Name": "c", "Endpoints": {"docker": {"Host": "ssh://me@build-box"}}},
            "ssh://me@build-box",
            id="ssh-host",
        ),
        pytest.param(
            {"Name": "c", "Endpoints": {"docker": {"Host": "tcp://10.0.0.5:2375", "SkipTLSVerify": False}}},
            "tcp://10.0.0.5:2375",
            id="plain-tcp-host",
        ),
        pytest.param(
            {"name": "c", "endpoints": {"docker": {"host": "unix:///run/lower.sock"}}},
            "unix:///run/lower.sock",
            id="keys-in-any-case-as-go-reads-them",
        ),
        pytest.param({"Name": "c", "Endpoints": {"docker": {}}}, DEFAULT, id="no-host-is-the-default-socket"),
        pytest.param(
            {"Name": "c", "Endpoints": {"docker": {"Host": "unix:///run/x.sock"}, "kubernetes": {}}},
            "unix:///run/x.sock",
            id="other-endpoints-ignored",
        ),
    ],
)
def test_meta_json_is_read(tmp_path: Path, meta: object, address: str) -> None:
    write_meta(tmp_path, "c", json.dumps(meta))
    endpoint = resolve("context:c", default=DEFAULT, environ={"DOCKER_CONFIG": str(tmp_path)})
    assert endpoint == Endpoint(address, "c")


def test_tls_files_are_ignored_for_a_socket(tmp_path: Path) -> None:
    """The docker CLI speaks TLS to no unix socket (``isSocket``), whatever the context holds."""
    write_context(tmp_path, "c", "unix:///run/x.sock", skip_tls_verify=True)
    tls = context_dir(tmp_path, "c", "tls") / "docker"
    tls.mkdir(parents=True)
    (tls / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    assert resolve("context:c", default=DEFAULT, environ={"DOCKER_CONFIG": str(tmp_path)}).address == (
        "unix:///run/x.sock"
    )


FAILURES = [
    # (how the context is chosen, what the files hold) -> words the one line must have, hint
    pytest.param(
        "asked",
        None,
        ["Docker context 'nope' does not exist", "meta.json"],
        Hint.CHOOSE_CONTEXT,
        id="missing-asked",
    ),
    pytest.param(
        "env",
        None,
        ["'nope' named by DOCKER_CONTEXT does not exist"],
        Hint.CHOOSE_CONTEXT,
        id="missing-from-env",
    ),
    pytest.param(
        "current",
        None,
        ["'nope' (current in ", "config.json) does not exist"],
        Hint.CHOOSE_CONTEXT,
        id="missing-current",
    ),
    pytest.param(
        "asked",
        '{"Name": "nope",',
        ["'nope' is damaged", "not valid JSON (line 1)"],
        None,
        id="meta-not-json",
    ),
    pytest.param(
        "asked", "[]", ["'nope' has no Docker endpoint"], Hint.CHOOSE_CONTEXT, id="meta-not-an-object"
    ),
    pytest.param(
        "asked",
        '{"Endpoints": {"kubernetes": {}}}',
        ["has no Docker endpoint"],
        Hint.CHOOSE_CONTEXT,
        id="no-docker-endpoint",
    ),
    pytest.param(
        "asked",
        '{"Endpoints": {"docker": {"Host": 2375}}}',
        ["damaged", "wrong type"],
        None,
        id="host-not-a-string",
    ),
    pytest.param(
        "asked",
        '{"Endpoints": {"docker": {"Host": "tcp://h:2376", "SkipTLSVerify": "yes"}}}',
        ["wrong type"],
        None,
        id="skip-tls-verify-not-a-bool",
    ),
]


@pytest.mark.parametrize(("chosen", "meta", "words", "hint"), FAILURES)
def test_a_missing_or_damaged_context_is_one_line(
    tmp_path: Path, chosen: str, meta: str | None, words: list[str], hint: Hint | None
) -> None:
    env = {"DOCKER_CONFIG": str(tmp_path)}
    given = None
    if chosen == "asked":
        given = "context:nope"
    elif chosen == "env":
        env["DOCKER_CONTEXT"] = "nope"
    else:
        use(tmp_path, "nope")
    if meta is not None:
        write_meta(tmp_path, "nope", meta)
    with pytest.raises(SourceUnavailable) as caught:
        resolve(given, default=DEFAULT, environ=env)
    message = str(caught.value)
    assert "\n" not in message
    assert "--" not in message, "messages name no flags"
    for word in words:
        assert word in message
    assert caught.value.hint is hint


@pytest.mark.parametrize(
    ("config_json", "words"),
    [
        pytest.param('{"currentContext": ', "is not valid JSON (line 1)", id="not-json"),
        pytest.param('["colima"]', "is not a JSON object", id="not-an-object"),
        pytest.param('{"currentContext": 7}', "currentContext in", id="current-context-not-a-name"),
    ],
)
def test_a_damaged_config_json_is_one_line(tmp_path: Path, config_json: str, words: str) -> None:
    (tmp_path / "config.json").write_text(config_json)
    with pytest.raises(SourceUnavailable) as caught:
        resolve(None, default=DEFAULT, environ={"DOCKER_CONFIG": str(tmp_path)})
    assert words in str(caught.value)
    assert str(tmp_path / "config.json") in str(caught.value)


def test_an_unreadable_meta_json_is_one_line(tmp_path: Path) -> None:
    (context_dir(tmp_path, "c") / "meta.json").mkdir(parents=True)  # unreadable, even for root
    with pytest.raises(SourceUnavailable, match="Cannot read the Docker context 'c'"):
        resolve("context:c", default=DEFAULT, environ={"DOCKER_CONFIG": str(tmp_path)})


@pytest.mark.parametrize(
    ("files", "skip_verify", "cert_path"),
    [
        pytest.param(("ca.pem", "cert.pem", "key.pem"), False, True, id="ca-cert-key"),
        pytest.param(("ca.pem",), False, True, id="ca-only"),
        pytest.param((), True, False, id="skip-tls-verify"),
    ],
)
def test_a_tls_context_says_what_to_set(
    tmp_path: Path, files: tuple[str, ...], skip_verify: bool, cert_path: bool
) -> None:
    write_context(tmp_path, "remote", "tcp://10.0.0.5:2376", skip_tls_verify=skip_verify)
    tls = context_dir(tmp_path, "remote", "tls") / "docker"
    tls.mkdir(parents=True)
    for name in files:
        (tls / name).write_text("-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(SourceUnavailable) as caught:
        resolve("context:remote", default=DEFAULT, environ={"DOCKER_CONFIG": str(tmp_path)})
    message = str(caught.value)
    assert "Docker context 'remote' reaches tcp://10.0.0.5:2376 over TLS" in message
    assert "DOCKER_HOST=tcp://10.0.0.5:2376, DOCKER_TLS_VERIFY=1" in message
    assert (f"DOCKER_CERT_PATH={tls}" in message) is cert_path


# ----------------------------------------------------------------------------- the command line


@pytest.fixture
def cli_env(config: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    write_context(config, "gone", "unix:///nonexistent/colima/docker.sock")
    return config


@pytest.mark.usefixtures("cli_env")
def test_a_context_whose_engine_is_gone_reads_as_a_missing_daemon_naming_it() -> None:
    line = run_cli(["tree", "--no-cache", "--context", "gone"]).one_line_error()
    assert line.startswith(
        "No Docker Engine of context 'gone' is listening at unix:///nonexistent/colima/docker.sock"
    )


def test_the_current_context_is_followed_by_default(cli_env: Path) -> None:
    use(cli_env, "gone")
    line = run_cli(["tree", "--no-cache"]).one_line_error()
    assert "of context 'gone'" in line


@pytest.mark.usefixtures("cli_env")
def test_a_missing_context_words_the_hint_as_flags() -> None:
    line = run_cli(["tree", "--no-cache", "--context", "nope"]).one_line_error()
    assert "Docker context 'nope' does not exist" in line
    assert line.endswith(f"{HINTS[Hint.CHOOSE_CONTEXT]}.")


@pytest.mark.parametrize(
    ("source", "words"),
    [
        pytest.param("docker:unix:///run/x.sock", "name two engines: give one", id="with-an-address"),
        pytest.param("archive:images.tar", "reads none: use --source docker", id="with-an-archive"),
        pytest.param("auto", "reads none: use --source docker", id="with-auto"),
    ],
)
@pytest.mark.usefixtures("cli_env")
def test_context_goes_with_the_docker_source_alone(source: str, words: str) -> None:
    """Like docker, which refuses ``--host`` with ``--context``: two engines named is a mistake."""
    line = run_cli(["tree", "--no-cache", "--source", source, "--context", "asked"]).one_line_error()
    assert words in line


@pytest.mark.usefixtures("cli_env")
def test_the_same_context_spelled_as_an_address() -> None:
    """``--source docker:context:NAME`` (the app's "Engine address" takes ``context:NAME``)."""
    line = run_cli(["tree", "--no-cache", "--source", "docker:context:gone"]).one_line_error()
    assert "of context 'gone'" in line
