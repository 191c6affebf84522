"""Every error line is inert text (issue 15, "Terminal escapes in error lines"): what a source
sent, an engine's 500 ``message`` or a snapshot's label key, reaches the terminal and the page
as one line with no escape sequence, through the one ``messages.one_line`` both front ends use."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_lineage import web
from image_lineage.cli import HINTS, error_line, main
from image_lineage.errors import Hint, LineageError
from image_lineage.messages import one_line
from image_lineage.model import Scan
from image_lineage.sources.snapshot import dumps
from tests.builders import SOURCE, jupyter_family

# Clear the screen, set the window title, write the clipboard (OSC 52), then a forged line.
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZWNobyBwd25lZA==\x07\nimage-lineage: all 16 images verified OK"
ESCAPES = ("\x1b", "\x07", "\x9b", "\n", "\r")


def inert(text: str) -> None:
    assert not any(character in text for character in ESCAPES), repr(text)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def hostile_snapshot(tmp_path: Path) -> Path:
    """A snapshot whose label key holds escapes, with a value of the wrong type: the strict
    reader's error names the key."""
    data = json.loads(dumps(Scan(source=SOURCE, images=tuple(jupyter_family()))))
    data["images"][0]["labels"] = {f"x{HOSTILE}": 5}
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_snapshots_label_key_cannot_forge_a_line(hostile_snapshot: Path) -> None:
    code, out, err = run("tree", "--source", f"snapshot:{hostile_snapshot}")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    inert(err.rstrip("\n"))
    assert err.startswith("image-lineage: error: ")
    assert "should be a string" in err
    loaded = web.read_source(hostile_snapshot.read_bytes())
    assert loaded.scan is None
    assert loaded.problem is not None
    inert(loaded.problem)


@pytest.fixture
def hostile_engine() -> Iterator[str]:
    """A local engine that answers every request with a 500 whose message is hostile."""
    body = json.dumps({"message": HOSTILE}).encode()
    head = (
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with client:
                client.settimeout(5)
                try:
                    client.recv(65536)
                    client.sendall(head.encode() + body)
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_an_engines_500_message_is_printed_inert(hostile_engine: str) -> None:
    code, out, err = run("tree", "--source", f"docker:{hostile_engine}", "--no-cache")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    inert(err.rstrip("\n"))
    assert "error 500" in err
    assert "pwned" in err  # shown, as text: the reader sees what the engine said
    loaded = web.read_source(f"docker:{hostile_engine}")
    assert loaded.problem is not None
    inert(loaded.problem)


@pytest.mark.parametrize("hint", [None, Hint.TRY_SAMPLE, Hint.ADD_SCHEME])
def test_the_cli_and_the_page_word_errors_with_one_function(hint: Hint | None) -> None:
    error = LineageError(f"Bad {HOSTILE}.", hint=hint)
    line, text = error_line(error), web.problem_text(error)
    inert(line)
    inert(text)
    assert line == one_line(error, HINTS)
    assert text == one_line(error, web.HINTS)
    if hint is None:
        assert line == text
    else:
        assert line.endswith(f"{HINTS[hint]}.")
        assert text.endswith(f"{web.HINTS[hint]}.")


def test_the_fallback_note_is_inert_and_drops_try_the_sample() -> None:
    note = web.fallback_note(LineageError(f"No engine {HOSTILE}.", hint=Hint.TRY_SAMPLE))
    inert(note)
    assert note.endswith("verified OK. Showing the bundled sample images instead.")
