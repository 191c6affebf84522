"""reference.py: image names read once, as the docker CLI reads them (distribution/reference)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from image_lineage.reference import Reference, digest_of, familiar, repository, same_tag, shown, split_tag

HUB = "docker.io"
DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("python", Reference(HUB, "library/python"), id="bare-name"),
        pytest.param("python:3.12", Reference(HUB, "library/python", "3.12"), id="official"),
        pytest.param("jupyter/base:1", Reference(HUB, "jupyter/base", "1"), id="hub-user"),
        pytest.param("docker.io/library/python:3", Reference(HUB, "library/python", "3"), id="hub-full"),
        pytest.param("docker.io/python:3", Reference(HUB, "library/python", "3"), id="hub-no-library"),
        pytest.param("index.docker.io/library/x:1", Reference(HUB, "library/x", "1"), id="legacy-hub"),
        pytest.param("localhost:5000/a:1", Reference("localhost:5000", "a", "1"), id="host-with-port"),
        pytest.param("localhost/a", Reference("localhost", "a"), id="localhost"),
        pytest.param("registry.local/team/app", Reference("registry.local", "team/app"), id="dotted-host"),
        pytest.param("Registry/app:1", Reference("Registry", "app", "1"), id="upper-case-first-is-a-host"),
        pytest.param("[::1]:5000/app:1", Reference("[::1]:5000", "app", "1"), id="ipv6-host"),
        pytest.param(f"app@{DIGEST}", Reference(HUB, "library/app", "", DIGEST), id="digest-only"),
        pytest.param(f"app:1@{DIGEST}", Reference(HUB, "library/app", "1", DIGEST), id="tag-and-digest"),
        pytest.param("a/b/c:v1.0_rc-2", Reference(HUB, "a/b/c", "v1.0_rc-2"), id="nested-path"),
    ],
)
def test_parse(text: str, expected: Reference) -> None:
    assert Reference.parse(text) == expected


# Text the CLI would refuse as a reference, by what is wrong with it.
NO_REFERENCE = {
    "empty": "",
    "none-none": "<none>:<none>",
    "untagged-display-name": "<none>@0123456789ab",
    "upper-case-repository": "Python:3",
    "upper-case-path": "team/App:1",
    "tag-only": ":odd",
    "empty-tag": "app:",
    "tag-too-long": "app:" + "t" * 129,
    "short-digest": "app@sha256:short",
    "an-image-id": "a" * 64,
    "name-too-long": "x/" + "a" * 260,
    "trailing-space": "app:1 ",
    "escape": "evil\x1b[2J:1",
    "lone-surrogate": "app\ud800:1",
    "dot-quote": 'evil" ]; x [label="owned',
    "bad-port": "host:port/app",
    "bad-host": "-host.io/app",
}


@pytest.mark.parametrize("text", list(NO_REFERENCE.values()), ids=list(NO_REFERENCE))
def test_what_is_no_reference(text: str) -> None:
    assert Reference.parse(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("docker.io/library/x:1", "x:1"),
        ("docker.io/a/b:1", "a/b:1"),
        ("index.docker.io/library/x", "x"),
        ("docker.io/library/a/b:1", "library/a/b:1"),  # library/ is dropped only for one-level names
        ("localhost:5000/library/x:1", "localhost:5000/library/x:1"),  # only on Docker Hub
        (f"docker.io/library/x:1@{DIGEST}", f"x:1@{DIGEST}"),
        ("registry.local:5000/team/app:1.2", "registry.local:5000/team/app:1.2"),
        ("<none>:<none>", "<none>:<none>"),  # no reference: as it is
    ],
)
def test_familiar_is_what_docker_images_shows(text: str, expected: str) -> None:
    assert familiar(text) == expected


def test_the_full_form_and_the_default_tag() -> None:
    python = Reference.parse("python")
    assert python is not None
    assert str(python) == "docker.io/library/python"
    assert python.name == "docker.io/library/python"
    assert python.tag_or_default == "latest"  # the CLI adds latest to a bare name ...
    pinned = Reference.parse(f"python@{DIGEST}")
    assert pinned is not None
    assert pinned.tag_or_default == ""  # ... and no tag where a digest is given
    assert str(pinned) == f"docker.io/library/python@{DIGEST}"


def test_references_compare_by_what_they_name() -> None:
    assert Reference.parse("python:3") == Reference.parse("docker.io/library/python:3")
    assert Reference.parse("python:3") != Reference.parse("localhost/python:3")
    names = ["b:1", "a:2", "localhost/a:1", "a:1"]
    ordered = sorted(r for n in names if (r := Reference.parse(n)) is not None)
    assert [r.familiar for r in ordered] == ["a:1", "a:2", "b:1", "localhost/a:1"]


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("jupyter/base-notebook:2026-11", ("jupyter/base-notebook", ":2026-11")),
        ("registry.local:5000/team/app:1.2", ("registry.local:5000/team/app", ":1.2")),
        ("registry.local:5000/team/app", ("registry.local:5000/team/app", "")),
        ("localhost:5000/a:1", ("localhost:5000/a", ":1")),
        (f"app:1@{DIGEST}", ("app", f":1@{DIGEST}")),
        (f"app@{DIGEST}", ("app", f"@{DIGEST}")),
        ("docker.io/library/python:3", ("docker.io/library/python", ":3")),  # as written
        ("<none>@0123456789ab", ("<none>@0123456789ab", "")),
        (":odd", (":odd", "")),
    ],
)
def test_split_tag(name: str, parts: tuple[str, str]) -> None:
    assert split_tag(name) == parts


# A name -> its repository, as docker images shows it.
REPOSITORIES = {
    "jupyter/scipy-notebook:latest": "jupyter/scipy-notebook",  # tag
    "host:5000/team/app:1": "host:5000/team/app",  # port-and-tag
    "host:5000/team/app": "host:5000/team/app",  # port-only
    "python": "python",  # no-tag
    "docker.io/library/python:3": "python",  # hub-full
    f"app:1@{DIGEST}": "app",  # tag-and-digest
    "<none>:<none>": "<none>:<none>",  # no-reference
}


@pytest.mark.parametrize(("tag", "expected"), REPOSITORIES.items())
def test_repository_of_a_tag(tag: str, expected: str) -> None:
    assert repository(tag) == expected


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        pytest.param("base:1", "docker.io/library/base:1", True, id="docker-hub-default"),
        pytest.param("base:1", "127.0.0.1:5000/base:1", True, id="registry-host-ignored"),
        pytest.param("localhost/base:1", "base:1", True, id="localhost"),
        pytest.param("base", "base:latest", True, id="latest-default"),
        pytest.param("base:1@sha256:" + "0" * 64, "base:1", True, id="digest-ignored"),
        pytest.param(" base:1", "base:1", True, id="spaces-around"),
        pytest.param("team/base:1", "base:1", False, id="other-path"),
        pytest.param("base:1", "base:2", False, id="other-tag"),
        pytest.param("", "base:1", False, id="empty"),
        pytest.param(f"base@{DIGEST}", "base:latest", False, id="a-digest-names-no-tag"),
        pytest.param(f"base@{DIGEST}", f"base@{DIGEST}", False, id="digests-are-no-tags"),
        pytest.param("<none>:<none>", "<none>:<none>", False, id="no-reference"),
    ],
)
def test_same_tag(one: str, other: str, same: bool) -> None:
    assert same_tag(one, other) is same


def test_digest_of_a_repo_digest() -> None:
    assert digest_of(f"python@{DIGEST}") == DIGEST
    assert digest_of(f"localhost:5000/team/app@{DIGEST}") == DIGEST
    assert digest_of(DIGEST) == DIGEST


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("docker.io/library/x:1", "x:1"),
        ("evil\x1b[2J\u202e:1\ufffe", "evil\ufffd[2J\ufffd:1\ufffd"),
        ("a\ud800", "a\ufffd"),
        ("x" * 100, "x" * 9 + "…"),
    ],
)
def test_shown_is_safe(text: str, expected: str) -> None:
    assert shown(text, 10 if len(text) > 50 else None) == expected


# --------------------------------------------------------------------------- properties

_COMPONENT = st.from_regex(r"\A[a-z0-9]{1,6}(?:[._-][a-z0-9]{1,4})?\Z")
_HOSTS = st.sampled_from(["", "docker.io/", "index.docker.io/", "localhost/", "localhost:5000/", "reg.io/"])
_TAGS = st.one_of(st.just(""), st.from_regex(r"\A:[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}\Z"))
_DIGESTS = st.one_of(st.just(""), st.from_regex(r"\A@sha256:[0-9a-f]{64}\Z"))


@st.composite
def reference_texts(draw: st.DrawFn) -> str:
    path = "/".join(draw(st.lists(_COMPONENT, min_size=1, max_size=3)))
    return draw(_HOSTS) + path + draw(_TAGS) + draw(_DIGESTS)


@settings(deadline=None)  # a busy machine must not fail a property
@given(reference_texts())
def test_parsing_what_a_reference_shows_gives_it_back(text: str) -> None:
    parsed = Reference.parse(text)
    assert parsed is not None
    assert Reference.parse(str(parsed)) == parsed
    assert Reference.parse(parsed.familiar) == parsed
    assert familiar(parsed.familiar) == parsed.familiar
    head, suffix = split_tag(text)
    assert head + suffix == text
    assert suffix == parsed.suffix
    assert repository(text) == parsed.familiar_repository


@settings(deadline=None)  # a busy machine must not fail a property
@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_and_is_shown_cleanly(text: str) -> None:
    parsed = Reference.parse(text)
    if parsed is not None:
        assert Reference.parse(str(parsed)) == parsed
        assert str(parsed).isascii()
        assert str(parsed).isprintable()
    head, suffix = split_tag(text)
    assert head + suffix == text
    assert not any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF or c in "\ufffe\uffff" for c in shown(text))
