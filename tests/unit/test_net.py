"""The one HTTP layer (``image_lineage.net``): its rules, against in-process servers on 127.0.0.1."""

from __future__ import annotations

import pytest

from image_lineage.net import http
from image_lineage.net.faults import Fault, Status, status_of
from tests.support.hostile_http import HostileHandler, hostile


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (200, Status.OK),
        (307, Status.REDIRECT),
        (401, Status.CHALLENGE),
        (403, Status.FORBIDDEN),
        (404, Status.GONE),
        (429, Status.RATE_LIMITED),
        (503, Status.SERVER),
        (418, Status.OTHER),
    ],
)
def test_statuses_are_classified(code: int, status: Status) -> None:
    assert status_of(code) is status


def test_an_origin_has_no_user_and_no_case() -> None:
    assert http.origin_of("https://User:pw@Registry.Test:5000/v2/x?y") == "https://registry.test:5000"


def test_a_request_target_is_ascii() -> None:
    assert http.request_target("http://h/v2/téam/app/tags/list?last=é&n=1") == (
        "/v2/t%C3%A9am/app/tags/list?last=%C3%A9&n=1"
    )
    assert http.request_target("http://h/v2/a%20b/x?q=1") == "/v2/a%20b/x?q=1"  # escapes kept as they are
    assert http.request_target("http://h") == "/"


def test_authorization_stays_on_its_origin() -> None:
    with hostile(lambda handler: handler.reply(200, b"ok")) as other:
        with hostile(lambda h: h.reply(307, b"", {"Location": f"{other.url}/x"})) as first:
            answer = http.HttpClient(5).send(
                http.Request("GET", f"{first.url}/x", 10, {"Authorization": "Bearer secret"})
            )
        assert answer.status == 200
        assert answer.url == f"{other.url}/x"
        assert answer.origin == other.url
        assert "Authorization" in first.seen[0][2]
        assert "Authorization" not in other.seen[0][2]


def test_authorization_follows_a_redirect_on_the_same_origin() -> None:
    def answer(handler: HostileHandler) -> None:
        if handler.path == "/a":
            handler.reply(302, b"", {"Location": "/b"})
        else:
            handler.reply(200, b"ok")

    with hostile(answer) as server:
        http.HttpClient(5).send(http.Request("GET", f"{server.url}/a", 10, {"Authorization": "Bearer t"}))
    assert [headers.get("Authorization") for _, _, headers, _ in server.seen] == ["Bearer t", "Bearer t"]


def test_a_post_is_not_redirected() -> None:
    with hostile(lambda handler: handler.reply(200)) as other:
        with hostile(lambda h: h.reply(307, b"", {"Location": f"{other.url}/token"})) as first:
            answer = http.HttpClient(5).send(
                http.Request("POST", f"{first.url}/token", 10, body=b"refresh_token=x")
            )
        assert answer.status == 307
        assert other.seen == []


def test_redirects_are_bounded_and_only_to_http() -> None:
    def loop(handler: HostileHandler) -> None:
        handler.reply(302, b"", {"Location": handler.path + "x"})

    with hostile(loop) as server, pytest.raises(http.RequestRefused, match="more than 5 redirects"):
        http.HttpClient(5).send(http.Request("GET", f"{server.url}/", 10))
    with (
        hostile(lambda h: h.reply(302, b"", {"Location": "file:///etc/passwd"})) as server,
        pytest.raises(http.RequestRefused, match="a redirect to a file URL"),
    ):
        http.HttpClient(5).send(http.Request("GET", f"{server.url}/", 10))


def test_an_answer_larger_than_its_limit_is_refused() -> None:
    with hostile(lambda handler: handler.reply(200, b"x" * 100)) as server:
        client = http.HttpClient(5)
        with pytest.raises(http.AnswerTooLarge):
            client.send(http.Request("GET", f"{server.url}/", 99))
        assert client.send(http.Request("GET", f"{server.url}/", 100)).body == b"x" * 100


def test_an_error_answer_is_read_only_in_part() -> None:
    with hostile(lambda handler: handler.reply(500, b"e" * 200_000)) as server:
        answer = http.HttpClient(5).send(http.Request("GET", f"{server.url}/", 10))
    assert answer.status == 500
    assert len(answer.body) == 64 * 1024


def test_a_header_that_is_not_printable_ascii_is_refused_unsent() -> None:
    with hostile(lambda handler: handler.reply(200)) as server:
        with pytest.raises(http.RequestRefused, match="not printable ASCII"):
            http.HttpClient(5).send(
                http.Request("GET", f"{server.url}/", 10, {"Authorization": "Bearer tök€n"})
            )
        with pytest.raises(http.RequestRefused):
            http.HttpClient(5).send(http.Request("GET", f"{server.url}/", 10, {"X": "a\r\nInjected: 1"}))
        assert server.seen == []


def test_a_refused_connection_is_a_fault_by_type() -> None:
    with hostile(lambda handler: handler.reply(200)) as server:
        url = server.url
    with pytest.raises(http.ExchangeFailed) as raised:
        http.HttpClient(5).send(http.Request("GET", f"{url}/", 10))
    assert raised.value.fault is Fault.REFUSED
