"""A hostile engine (a ``tcp://`` host, a context, a socket) against both transports and the mapping.

Each case is a fake engine on a unix socket (``testbed/fake_engine.py``) answering
what a hostile one would: answers too large to hold, escape sequences in its error
messages, fields of the wrong type, a history far too long for its layers. Each ends in
one clean line or a diagnostic, in bounded time and memory; the engine sees only GETs.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import main
from image_lineage.errors import SourceUnavailable
from image_lineage.sources.engine import DockerEngineSource, transport
from image_lineage.sources.engine.transport import SdkTransport, Transport, connect
from image_lineage.sources.engine_api import assign_layers, image_from_api
from testbed.fake_engine import FakeEngine, Routes, answers

pytestmark = pytest.mark.timeout(120)

Connect = Callable[[str, float], Transport]
TRANSPORTS = [pytest.param(connect, id="http.client"), pytest.param(SdkTransport, id="docker-py")]
IMAGE_ID = "sha256:" + "1" * 64
LAYER = "sha256:" + "2" * 64
TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Clear the screen, set the window title, write the clipboard (OSC 52), then forge a line.
ESCAPES = (
    "\x1b[2J\x1b]0;owned\x07\x1b]52;c;ZWNobyBvd25lZA==\x07boom\nimage-lineage: all 16 images verified OK"
)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="il-hostile-") as directory:
        yield Path(directory)


def list_images(open_transport: Connect, address: str) -> list[Any]:
    client = open_transport(address, 5.0)
    try:
        client.version()
        return list(client.images(include_intermediate=False))
    finally:
        client.close()


def failure(open_transport: Connect, directory: Path, routes: Routes) -> SourceUnavailable:
    with FakeEngine(directory, routes) as engine, pytest.raises(SourceUnavailable) as caught:
        list_images(open_transport, engine.address)
    assert all(request.startswith("GET ") for request in engine.requests)
    return caught.value


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("open_transport", TRANSPORTS)
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
def test_an_answer_larger_than_the_cap_is_refused_in_one_line(
    open_transport: Connect, declared: bool, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "MAX_ANSWER", 2**20)
    huge = json.dumps([{"Id": "x" * 1000}] * 3000).encode()  # 3 MB of a valid list
    reply = (200, huge) if declared else (200, huge, False)
    error = failure(open_transport, short_dir, {r"/images/json": reply})
    assert "sent more than 1 MiB in answer to GET /" in str(error)
    assert "images/json" in str(error)
    assert not TERMINAL.search(str(error))


def test_an_answer_under_the_cap_is_read(short_dir: Path) -> None:
    routes = answers(IMAGE_ID, {"Id": IMAGE_ID}, [], "ok:1")
    with FakeEngine(short_dir, routes) as engine:
        assert [i["Id"] for i in list_images(connect, engine.address)] == [IMAGE_ID]


# --------------------------------------------------------------------------- error messages


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_an_engines_error_message_cannot_drive_the_terminal(open_transport: Connect, short_dir: Path) -> None:
    body = json.dumps({"message": ESCAPES}).encode()
    error = failure(open_transport, short_dir, {r"/images/json": (500, body)})
    assert "error 500" in str(error)
    assert "boom" in str(error)
    assert not TERMINAL.search(str(error)), repr(str(error))


def test_the_cli_prints_an_engines_hostile_error_as_one_clean_line(short_dir: Path) -> None:
    body = json.dumps({"message": ESCAPES}).encode()
    err = io.StringIO()
    with FakeEngine(short_dir, {r"/images/json": (500, body)}) as engine:
        assert main(["tree", "--source", f"docker:{engine.address}", "--no-cache"], io.StringIO(), err) == 1
    line = err.getvalue()
    assert line.count("\n") == 1
    assert not TERMINAL.search(line.rstrip("\n")), repr(line)


# --------------------------------------------------------------------------- wrong types


WRONG_SHAPES = {
    "RootFS a string": {"RootFS": "layers"},
    "RootFS a number": {"RootFS": 7},
    "RootFS.Layers a number": {"RootFS": {"Type": "layers", "Layers": 7}},
    "Config a string": {"Config": "x", "RootFS": {"Layers": [LAYER]}},
    "Config a number": {"Config": 3},
    "Config.Labels a list": {"Config": {"Labels": ["a=b"]}},
}


@pytest.mark.parametrize("fields", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_fields_of_the_wrong_type_are_absent_with_a_diagnostic(
    fields: dict[str, Any], short_dir: Path
) -> None:
    inspect = {"Id": IMAGE_ID, **fields}
    history = [{"Id": IMAGE_ID, "Created": 0, "CreatedBy": "/bin/sh -c true", "Size": 1}]
    with FakeEngine(short_dir, answers(IMAGE_ID, inspect, history, "odd:1")) as engine:
        scan = DockerEngineSource(endpoint=engine.address, use_cache=False).scan()
    (image,) = scan.images
    assert image.id == IMAGE_ID
    assert image.tags == ("odd:1",)
    assert image.labels == ()
    assert [d.code for d in scan.diagnostics] == ["engine_answer_malformed"]
    # The mapping alone, as any caller uses it, reads them as absent too.
    mapped = image_from_api({"Id": IMAGE_ID}, inspect, history)
    assert mapped.labels == image.labels


# --------------------------------------------------------------------------- unbounded work


def test_forty_thousand_rows_over_six_thousand_layers_is_bounded_work() -> None:
    """A rows x layers table would be 240 million cells (1.9 GB): a best guess, said to be one."""
    rows = [(0, f"/bin/sh -c step {n}") for n in range(40_000)]
    layers = [f"sha256:{n:064x}" for n in range(6_000)]
    chosen, ambiguous = assign_layers(rows, layers)
    assert sum(chosen) == len(layers)
    assert ambiguous


def test_a_scan_of_a_history_far_longer_than_its_layers_ends_with_a_diagnostic(short_dir: Path) -> None:
    history = [{"Created": 0, "CreatedBy": f"/bin/sh -c step {n}", "Size": 0} for n in range(40_000)]
    layers = [f"sha256:{n:064x}" for n in range(6_000)]
    inspect = {"Id": IMAGE_ID, "RootFS": {"Type": "layers", "Layers": layers}}
    with FakeEngine(short_dir, answers(IMAGE_ID, inspect, history, "long:1")) as engine:
        scan = DockerEngineSource(endpoint=engine.address, use_cache=False).scan()
    (image,) = scan.images
    assert image.history is not None
    assert sum(not step.empty_layer for step in image.history) == len(layers)
    assert "history_layers_ambiguous" in [d.code for d in scan.diagnostics]


# --------------------------------------------------------------------------- text no output can hold


@pytest.mark.parametrize("command", [["tree"], ["export", "-f", "dot"], ["export", "-f", "json"]], ids=str)
def test_lone_surrogates_from_an_engine_reach_no_output(command: list[str], short_dir: Path) -> None:
    inspect = {"Id": IMAGE_ID, "Config": {"Labels": {"k\ud800": "v\udfff"}}}
    history = [{"Id": IMAGE_ID, "Created": 0, "CreatedBy": "/bin/sh -c echo \ud800", "Size": 1}]
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # strict, as a UTF-8 terminal or file
    with FakeEngine(short_dir, answers(IMAGE_ID, inspect, history, "evil\ud800:1")) as engine:
        status = main([*command, "--source", f"docker:{engine.address}", "--no-cache"], stdout, io.StringIO())
    stdout.flush()
    assert status == 0
    assert "evil\ufffd:1" in stdout.buffer.getvalue().decode("utf-8")


# --------------------------------------------------------------------------- versions and odd shapes


@pytest.mark.parametrize("open_transport", TRANSPORTS)
@pytest.mark.parametrize("api", ["1.41\u2028é", "1.41/../../containers/json?x=", "", 1.41], ids=repr)
def test_an_api_version_that_is_not_one_is_refused_in_one_line(
    open_transport: Connect, api: object, short_dir: Path
) -> None:
    version = json.dumps({"ApiVersion": api, "Version": "20.10.24"}).encode()
    error = failure(open_transport, short_dir, {r"/version$": (200, version)})
    assert "answered /version without an API version" in str(error)


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_answers_of_the_wrong_shape_are_read_as_nothing(open_transport: Connect, short_dir: Path) -> None:
    routes = {r"/info$": (200, b"[1, 2]"), r"/images/json": (200, b'[1, "x", {"Id": "sha256:1"}]')}
    with FakeEngine(short_dir, routes) as engine:
        client = open_transport(engine.address, 5.0)
        try:
            assert client.info() == {}
            assert client.images(include_intermediate=False) == [{"Id": "sha256:1"}]
        finally:
            client.close()
