"""Engine faults, for real: a daemon that is down, denied, dies, stalls or changes under a scan.

Every expected failure must read as one line on stderr starting ``image-lineage: error:``,
exit status 1, nothing on stdout and no traceback (``CliResult.one_line_error``); a fault
that leaves the rest of the graph meaningful (an image deleted mid-scan, odd images) must
instead give the graph with a diagnostic. Every run has a hang guard (``run_cli``).

These tests stop, kill, lock and delete from daemons of their own (``victim``, ``stress``),
never the session one. Faults in the middle of a conversation are injected by a
``RecordingProxy`` placed in front of the victim's socket.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from image_lineage.sources.engine import transport as docker_engine
from testbed import ThrowawayDockerd
from tests.conftest import start_dockerd, unavailable
from tests.support.cli import run_cli, run_cli_as
from tests.support.recording_proxy import RecordingProxy, Request, Response, drip, inspected_images

pytestmark = pytest.mark.docker

NOBODY = 65534
TRANSPORTS = [
    pytest.param("http", id="http.client"),
    pytest.param("docker-py", id="docker-py"),
]


def own_daemon() -> ThrowawayDockerd:
    """A started private daemon, or ``unavailable`` (skip here, fail under CI=true)."""
    daemon: ThrowawayDockerd = start_dockerd()
    return daemon


@pytest.fixture(scope="module")
def victim_daemon() -> Iterator[ThrowawayDockerd]:
    """A private daemon with six unrelated images: enough for four scan workers to overlap."""
    daemon = own_daemon()
    for n in range(6):
        daemon.import_busybox(f"victim/img{n}:1", extra_files={f"etc/victim{n}": str(n)})
    yield daemon
    daemon.stop()


@pytest.fixture
def victim(victim_daemon: ThrowawayDockerd) -> Iterator[ThrowawayDockerd]:
    """The private daemon, running and reachable; whatever a test did to it is undone after."""
    if not victim_daemon.running:
        victim_daemon.start()
    modes = {path: path.stat().st_mode for path in (victim_daemon.dir, victim_daemon.socket_path)}
    yield victim_daemon
    if victim_daemon.running:
        for path, mode in modes.items():
            path.chmod(stat.S_IMODE(mode))
    else:
        victim_daemon.start()


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the fast transport, then with docker-py (used for TLS and SSH)."""
    if request.param == "docker-py":
        monkeypatch.setattr(docker_engine, "connect", docker_engine.SdkTransport)
    return str(request.param)


def cli(*args: str, source: str) -> list[str]:
    """``tree ARGS --no-cache --source docker:SOURCE`` (no cache: every run asks the engine)."""
    return ["tree", *args, "--no-cache", "--source", f"docker:{source}"]


def only_a_note_count(stderr: str) -> bool:
    """Nothing on stderr but, where the scan has diagnostics, the line that counts them."""
    return (
        re.fullmatch(r"(\d+ notes? about these images: add --notes to read (it|them)\n)?", stderr) is not None
    )


def is_inspect(request: Request) -> bool:
    parts = request.route.split("/")
    return len(parts) == 4 and parts[1] == "images" and parts[3] == "json" and parts[2] != "json"


def on_nth(
    predicate: Callable[[Request], bool], n: int, action: Callable[[], object]
) -> Callable[[Request], None]:
    """A ``before`` hook that runs ``action`` once, when the ``n``-th matching request arrives.

    The hook holds a lock while ``action`` runs, so requests arriving meanwhile on other
    connections are forwarded only once it is done (to a daemon that is then gone).
    """
    lock = threading.Lock()
    seen = 0

    def hook(request: Request) -> None:
        nonlocal seen
        with lock:
            if not predicate(request):
                return
            seen += 1
            if seen != n:
                return
            action()

    return hook


# --------------------------------------------------------------------------- 1. not running


@pytest.mark.usefixtures("transport")
def test_socket_missing(victim: ThrowawayDockerd) -> None:
    victim.stop(remove=False)  # a clean stop removes the socket file
    assert not victim.socket_path.exists()
    message = run_cli(cli(source=victim.host)).one_line_error()
    assert message.startswith(f"No Docker Engine is listening at {victim.host} (no such socket)"), message
    assert "start Docker" in message
    assert message.endswith("or try --source sample.")  # the hint, in the terminal's words


@pytest.mark.usefixtures("transport")
def test_socket_left_behind_but_nothing_listens(victim: ThrowawayDockerd) -> None:
    victim.kill()  # a crash leaves the socket file, with nobody accepting on it
    assert victim.socket_path.exists()
    message = run_cli(cli(source=victim.host)).one_line_error()
    assert message.startswith(f"The Docker Engine at {victim.host} refused the connection: is it running?"), (
        message
    )


# --------------------------------------------------------------------------- 2. permission


@pytest.mark.usefixtures("transport")
def test_socket_permission_denied_for_an_unprivileged_user(victim: ThrowawayDockerd) -> None:
    """Root ignores file modes: the CLI runs in a child process that became ``nobody``.

    The ``PermissionError`` is found by its type at the bottom of the chain (docker-py
    wraps it three times), not by the words of any message.
    """
    import docker  # noqa: F401, PLC0415 - imported before the fork: nobody may not read the venv

    victim.dir.chmod(0o755)  # let others reach the socket (mkdtemp made its directory 0700) ...
    victim.socket_path.chmod(0o600)  # ... and be turned away by the socket itself
    result = run_cli_as(NOBODY, NOBODY, cli(source=victim.host))
    message = result.one_line_error()
    assert message.startswith(f"Permission denied on the Docker Engine at {victim.host}"), message
    assert "add your user to the 'docker' group" in message
    assert message.endswith("or try --source sample.")


# --------------------------------------------------------------------------- 3. dies mid-scan


@pytest.mark.parametrize("how", ["kill", "stop"])
def test_daemon_dies_in_the_middle_of_a_scan(victim: ThrowawayDockerd, how: str) -> None:
    """The daemon answers the list and the first inspects, then is killed (or stopped)."""
    end = victim.kill if how == "kill" else lambda: victim.stop(remove=False)
    with RecordingProxy(victim.socket_path, before=on_nth(is_inspect, 3, end)) as proxy:
        message = run_cli(cli(source=proxy.endpoint)).one_line_error()
        assert len(inspected_images(proxy.requests)) >= 3
    assert not victim.running
    assert message.startswith(
        f"The Docker Engine at {proxy.endpoint} dropped the connection before answering: did it stop"
    ), message


# --------------------------------------------------------------------------- 4. too slow


@pytest.mark.parametrize(
    "slow",
    [
        pytest.param(lambda r: r.route == "/version", id="version"),
        pytest.param(lambda r: r.route == "/images/json", id="list"),
        pytest.param(is_inspect, id="inspect"),
    ],
)
@pytest.mark.usefixtures("transport")
def test_an_engine_that_answers_too_late(victim: ThrowawayDockerd, slow: Callable[[Request], bool]) -> None:
    proxy = RecordingProxy(victim.socket_path)

    def answer_late(request: Request) -> None:
        if slow(request):
            proxy.closing.wait(5)  # 5 s > --timeout 1

    proxy.before = answer_late
    with proxy:
        message = run_cli(cli("--timeout", "1", source=proxy.endpoint)).one_line_error()
        inspected = inspected_images(proxy.requests)
    assert message.startswith(
        f"The Docker Engine at {proxy.endpoint} did not answer within 1 s; check that it is healthy"
    ), message
    assert message.endswith("or raise --timeout.")  # Hint.RAISE_TIMEOUT, in the terminal's words
    # After the first timeout the scan stops asking: at most one request per worker was
    # sent, not one per image (each of which would wait another second).
    assert len(inspected) <= 4 < len(victim.image_ids())


@pytest.mark.usefixtures("transport")
def test_an_engine_that_trickles_its_answer_cannot_hold_a_scan(victim: ThrowawayDockerd) -> None:
    """One byte every half second never trips a per-read timeout: the deadline is per request."""
    with RecordingProxy(victim.socket_path, send=drip(0.5, only=is_inspect)) as proxy:
        message = run_cli(cli("--timeout", "1", source=proxy.endpoint)).one_line_error()
    assert message.startswith(f"The Docker Engine at {proxy.endpoint} did not answer within 1 s")


# --------------------------------------------------------------------------- 5. image deleted


@pytest.mark.parametrize("moment", ["after-list", "between-inspect-and-history"])
def test_an_image_deleted_during_the_scan_is_left_out_with_a_diagnostic(
    victim: ThrowawayDockerd, moment: str
) -> None:
    doomed = victim.import_busybox(f"gone/{moment}:1", extra_files={f"etc/gone-{moment}": moment})
    before = set(victim.image_ids())
    removed = threading.Event()

    def remove_doomed(request: Request, response: Response) -> None:
        """Delete the image (docker rmi, on the real socket) before this answer is passed on."""
        trigger = "/images/json" if moment == "after-list" else f"/images/{doomed}/json"
        if request.route == trigger and response.status == 200 and not removed.is_set():
            removed.set()
            victim.docker("rmi", doomed)

    with RecordingProxy(victim.socket_path, after=remove_doomed) as proxy:
        result = run_cli(["export", "-f", "json", "--no-cache", "--source", f"docker:{proxy.endpoint}"])
    assert removed.is_set()
    assert result.code == 0
    assert only_a_note_count(result.stderr)
    document = json.loads(result.stdout)
    assert {image["id"] for image in document["images"]} == before - {doomed}
    gone = [d for d in document["diagnostics"] if d.get("code") == "image_gone"]
    assert gone == [{"image": doomed, "code": "image_gone", "message": "removed while it was being scanned"}]


# --------------------------------------------------------------------------- 6. odd images


@pytest.fixture(scope="module")
def stress() -> Iterator[ThrowawayDockerd]:
    """A private daemon for images that stress the parser (so 2,000 tags stay out of the others)."""
    daemon = own_daemon()
    yield daemon
    daemon.stop()


def export_json(daemon: ThrowawayDockerd, *args: str) -> dict[str, Any]:
    result = run_cli(["export", "-f", "json", *args, "--no-cache", "--source", f"docker:{daemon.host}"])
    assert result.code == 0
    assert only_a_note_count(result.stderr)
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def image_in(document: dict[str, Any], image_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(image for image in document["images"] if image["id"] == image_id)
    return found


def codes_for(document: dict[str, Any], image_id: str) -> list[str]:
    return [d["code"] for d in document["diagnostics"] if d.get("image") == image_id]


def test_an_image_with_no_layers(stress: ThrowawayDockerd) -> None:
    """FROM scratch with only metadata: no layers at all, two history steps."""
    image_id = stress.build("FROM scratch\nLABEL stress=none\nENV EMPTY=1\n", "stress/nolayers:1")
    document = export_json(stress, "--all")
    image = image_in(document, image_id)
    assert (image["size"], image["added_size"]) == (0, 0)
    assert [(step["diff_id"], step["empty"]) for step in image["layers"]] == [(None, True), (None, True)]
    parent = image_in(document, image["parent"])  # the legacy builder's hidden LABEL step
    assert parent["intermediate"]
    assert parent["parent"] is None
    assert image["parent_verified"]
    assert codes_for(document, image_id) == []
    tree = run_cli(cli(source=stress.host))
    assert tree.code == 0
    assert "stress/nolayers:1" in tree.stdout


def test_a_zero_size_layer_is_aligned_with_its_step(stress: ThrowawayDockerd, tmp_path: Path) -> None:
    """COPY of an empty directory makes a real layer whose history step says size 0."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY empty /empty\nLABEL stress=zero\n")
    image_id = stress.build(tmp_path, "stress/zerolayer:1")
    document = export_json(stress)
    image = image_in(document, image_id)
    steps = [(step["created_by"].split()[-2:], step["diff_id"] is not None) for step in image["layers"]]
    assert [has_layer for _, has_layer in steps] == [True, False]  # COPY has the layer, LABEL none
    assert "COPY" in image["layers"][0]["created_by"]
    assert codes_for(document, image_id) == []


def test_a_history_that_disagrees_with_the_layers_is_reported(
    stress: ThrowawayDockerd, tmp_path: Path
) -> None:
    """A commit whose command looks like a metadata step but made a (zero-size) layer.

    ``docker commit`` records the container's command as the step: here ``LABEL x=1``,
    size 0, yet ``docker cp`` of an empty directory gave it a layer. The API has no
    empty-layer flag, so the counts cannot be reconciled: a diagnostic, and the image
    still hangs under its base.
    """
    base = stress.import_busybox("stress/base:1", extra_files={"etc/stress": "base"})
    (tmp_path / "empty").mkdir()
    stress.docker("create", "--name", "stress-commit", base, "LABEL", "x=1")
    try:
        stress.docker("cp", str(tmp_path / "empty"), "stress-commit:/empty")
        committed = stress.docker("commit", "stress-commit", "stress/committed:1").stdout.strip()
    finally:
        stress.docker("rm", "stress-commit")
    document = export_json(stress)
    image = image_in(document, committed)
    assert (image["parent"], image["parent_verified"], image["added_size"]) == (base, True, 0)
    assert codes_for(document, committed) == ["history_layer_mismatch"]


def tag_many(daemon: ThrowawayDockerd, image_id: str, repository: str, count: int) -> None:
    """``docker tag`` ``count`` times, as the CLI does it (POST .../tag), on one connection.

    (2,000 runs of the docker CLI take over a minute; the same API calls take seconds.)
    """
    connection = http.client.HTTPConnection("localhost", timeout=60)
    connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.sock.connect(str(daemon.socket_path))
    try:
        for n in range(count):
            connection.request("POST", f"/images/{image_id}/tag?repo={repository}&tag=t{n:04d}")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 201, answer.status
    finally:
        connection.close()


def test_thousands_of_tags_stay_bounded(stress: ThrowawayDockerd, tmp_path: Path) -> None:
    image_id = stress.import_busybox("stress/many:latest", extra_files={"etc/many": "many"})
    tag_many(stress, image_id, "stress/many", 2000)
    source = ["--no-cache", "--source", f"docker:{stress.host}"]

    tree = run_cli(["tree", *source])
    assert tree.code == 0
    line = next(line for line in tree.stdout.splitlines() if "stress/many:" in line)
    assert "[also stress/many:t0000, stress/many:t0001" in line
    assert line.endswith("…]")
    assert len(line) < 300

    dot = run_cli(["export", "-f", "dot", *source])
    assert dot.code == 0
    node = next(line for line in dot.stdout.splitlines() if "stress/many:" in line)
    assert "+2000 more tags" in node
    assert len(node) < 3000  # the label and a 2,000-character tooltip, not 2,001 names

    if not shutil.which("dot"):
        unavailable("Graphviz 'dot' is not installed (apt-get install graphviz)")
    svg_path = tmp_path / "many.svg"
    assert run_cli(["export", "-f", "svg", "-o", str(svg_path), *source]).code == 0
    svg = svg_path.read_text(encoding="utf-8")
    assert "+2000 more tags" in svg
    assert svg.count("stress/many:") < 150  # the visible name and the bounded tooltip

    assert len(image_in(export_json(stress), image_id)["tags"]) == 2001  # the data stays whole
