"""The HTTP layer's streamed answers (layer blobs): capped, under a deadline that grows with size."""

from __future__ import annotations

import pytest

from image_lineage.net import http
from image_lineage.net.faults import Fault
from tests.support.hostile_http import HostileHandler, hostile


def test_a_streamed_body_is_read_as_it_comes_and_capped() -> None:
    with hostile(lambda handler: handler.reply(200, b"y" * 300_000)) as server:
        client = http.HttpClient(5)
        with client.stream(http.Request("GET", f"{server.url}/blob", 300_000)) as answer:
            assert answer.status == 200
            assert answer.stream is not None
            assert answer.stream.read(10) == b"y" * 10
            assert len(answer.stream.read()) == 300_000 - 10
        too_big = client.stream(http.Request("GET", f"{server.url}/blob", 299_999))
        with pytest.raises(http.AnswerTooLarge):  # its Content-Length says so: refused unread
            too_big.__enter__()


def test_a_streamed_answer_follows_redirects_and_gives_errors_whole() -> None:
    def answer(handler: HostileHandler) -> None:
        if handler.path == "/a":
            handler.reply(307, b"", {"Location": "/b"})
        elif handler.path == "/b":
            handler.reply(200, b"blob")
        else:
            handler.reply(404, b"no such blob")

    with hostile(answer) as server:
        client = http.HttpClient(5)
        with client.stream(http.Request("GET", f"{server.url}/a", 4)) as found:
            assert found.url == f"{server.url}/b"
            assert found.stream is not None
            assert found.stream.read() == b"blob"
        with client.stream(http.Request("GET", f"{server.url}/c", 4)) as missing:
            assert (missing.status, missing.body, missing.stream) == (404, b"no such blob", None)


def test_a_trickling_body_is_cut_by_the_deadline() -> None:
    """Ten bytes may take the timeout plus ten bytes at ``MIN_RATE``; a byte per tick takes far more."""

    def slow(handler: HostileHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.trickle(b"z" * 1000)

    with hostile(slow) as server:
        with http.HttpClient(0.3).stream(http.Request("GET", f"{server.url}/", 1000)) as answer:
            assert answer.stream is not None
            with pytest.raises(http.ExchangeFailed) as failed:
                answer.stream.read()
        assert failed.value.fault is Fault.TIMEOUT
        assert server.trickled < 1000


def test_the_deadline_grows_with_the_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """A body that takes longer than the timeout, but not than its size at ``MIN_RATE`` more, is read."""

    def slow(handler: HostileHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "40")
        handler.end_headers()
        handler.trickle(b"z" * 40)  # 40 ticks: about 0.8 s

    monkeypatch.setattr(http, "MIN_RATE", 4)  # 40 bytes may take 10 s more
    with hostile(slow) as server:
        client = http.HttpClient(0.2)
        with pytest.raises(http.ExchangeFailed):  # a whole answer within 0.2 s: no
            client.send(http.Request("GET", f"{server.url}/", 40))
        with client.stream(http.Request("GET", f"{server.url}/", 40)) as answer:
            assert answer.stream is not None
            assert answer.stream.read() == b"z" * 40
