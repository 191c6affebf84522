"""Engine failures mapped by exception type and HTTP status, never by message text.

Most chains here are made by failing for real, with no daemon: connecting to a socket
path that does not exist, to a socket nobody listens on, to a local server that hangs
up, hangs, speaks something other than HTTP, answers non-JSON or an error status.
Each runs through both transports (``http.client`` and docker-py), which must say the
same. What cannot be made to fail here (permission denied while running as root, a
host name that does not resolve without a network) is built from real exception
objects of the real types, chained the way docker-py chains them.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import docker.errors
import pytest
import requests
import urllib3.exceptions

from image_lineage.cli import main
from image_lineage.errors import Hint, SourceUnavailable
from image_lineage.net.faults import Fault, fault_of
from image_lineage.sources import open_source
from image_lineage.sources.engine.errors import (
    DOCKER,
    ImageGone,
    http_error,
    unavailable,
)
from image_lineage.sources.engine.transport import SdkTransport, Transport, connect

Connect = Callable[[str, float], Transport]
TRANSPORTS = [
    pytest.param(connect, id="http.client"),
    pytest.param(SdkTransport, id="docker-py"),
]


def read_list(open_transport: Connect, endpoint: str, timeout: float) -> None:
    """What a scan asks first: the version (negotiation), then the image list."""
    transport = open_transport(endpoint, timeout)
    try:
        transport.version()
        transport.images(include_intermediate=False)
    finally:
        transport.close()


def failure(open_transport: Connect, endpoint: str, timeout: float = 5.0) -> SourceUnavailable:
    """The domain error met when reading ``endpoint``'s version and image list."""
    with pytest.raises(SourceUnavailable) as caught:
        read_list(open_transport, endpoint, timeout)
    error = caught.value
    assert "--" not in str(error), "messages name no flag: the front end words the hint"
    assert "\n" not in str(error)
    return error


# --------------------------------------------------------------------------- real failures


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_no_such_socket(open_transport: Connect, tmp_path: Path) -> None:
    endpoint = f"unix://{tmp_path}/docker.sock"
    error = failure(open_transport, endpoint)
    assert str(error).startswith(f"No Docker Engine is listening at {endpoint} (no such socket)")
    assert "DOCKER_HOST" in str(error)
    assert error.hint is Hint.TRY_SAMPLE
    assert isinstance(_root(error), FileNotFoundError)


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_a_socket_nobody_listens_on_refuses(open_transport: Connect, tmp_path: Path) -> None:
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))  # the file exists, but nothing listens: what a crashed daemon leaves
        error = failure(open_transport, f"unix://{path}")
    assert str(error).startswith(f"The Docker Engine at unix://{path} refused the connection: is it running?")
    assert error.hint is Hint.TRY_SAMPLE


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_a_closed_tcp_port_refuses(open_transport: Connect) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connecting is refused
        error = failure(open_transport, f"tcp://127.0.0.1:{port}")
    assert "refused the connection" in str(error)


class _Server:
    """A local TCP server that answers every connection with ``reply(sock)``."""

    def __init__(self, reply: Callable[[socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stopping = threading.Event()
        self.reply = reply
        self.endpoint = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(client,), daemon=True).start()

    def _answer(self, client: socket.socket) -> None:
        with client:
            client.settimeout(5)
            try:
                client.recv(65536)  # the request
                self.reply(client)
            except OSError:
                return

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()


Serve = Callable[[Callable[[socket.socket], None]], _Server]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[_Server] = []

    def start(reply: Callable[[socket.socket], None]) -> _Server:
        servers.append(_Server(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def http_answer(status: str, body: bytes) -> Callable[[socket.socket], None]:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return lambda sock: sock.sendall(head.encode() + body)


VERSION = json.dumps({"ApiVersion": "1.41", "Version": "20.10.24"}).encode()


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_an_engine_that_hangs_up_before_answering(open_transport: Connect, serve: Serve) -> None:
    server = serve(lambda _sock: None)  # reads the request, closes without a word
    error = failure(open_transport, server.endpoint)
    assert str(error).startswith(f"The Docker Engine at {server.endpoint} dropped the connection")
    assert error.hint is Hint.TRY_SAMPLE


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_an_engine_that_never_answers_times_out(open_transport: Connect, serve: Serve) -> None:
    def hang(_sock: socket.socket) -> None:
        server.stopping.wait(10)

    server = serve(hang)
    error = failure(open_transport, server.endpoint, timeout=0.5)
    assert str(error) == (
        f"The Docker Engine at {server.endpoint} did not answer within 0.5 s; check that it is healthy"
    )
    assert error.hint is Hint.RAISE_TIMEOUT


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_something_that_is_not_http(open_transport: Connect, serve: Serve) -> None:
    server = serve(lambda sock: sock.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
    error = failure(open_transport, server.endpoint)
    assert str(error).startswith(f"{server.endpoint} does not answer like a Docker Engine (not HTTP)")


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_an_engine_that_answers_non_json(open_transport: Connect, serve: Serve) -> None:
    server = serve(http_answer("200 OK", b"<html>It works!</html>"))
    error = failure(open_transport, server.endpoint)
    assert str(error).startswith(f"{server.endpoint} answered with something that is not JSON")
    assert error.hint is Hint.TRY_SAMPLE


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_a_server_error_shows_the_engines_explanation(open_transport: Connect, serve: Serve) -> None:
    server = serve(http_answer("500 Internal Server Error", b'{"message": "layer store\\nbroken"}'))
    error = failure(open_transport, server.endpoint)
    assert str(error) == (
        f"The Docker Engine at {server.endpoint} failed to answer GET /version "
        "(error 500: layer store broken); check that it is healthy"
    )


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_a_404_for_the_version_is_not_an_engine(open_transport: Connect, serve: Serve) -> None:
    server = serve(http_answer("404 Not Found", b"{}"))
    error = failure(open_transport, server.endpoint)
    assert str(error).startswith(f"{server.endpoint} answered 404 to GET /version: is it a Docker Engine?")


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_a_404_for_an_image_means_it_is_gone(open_transport: Connect, serve: Serve) -> None:
    def reply(sock: socket.socket) -> None:
        request = b"GET /version"  # the server's reader has taken the first request
        while request:  # keep-alive: every request on this connection
            if b"/version" in request.split(b"\r\n", 1)[0]:
                http_answer("200 OK", VERSION)(sock)
            else:
                http_answer("404 Not Found", b'{"message": "No such image: sha256:abc"}')(sock)
            request = sock.recv(65536)

    server = serve(reply)
    transport = open_transport(server.endpoint, 5.0)
    try:
        transport.version()
        with pytest.raises(ImageGone):
            transport.details("sha256:abc")
    finally:
        transport.close()


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("spec", "engine"),
    [
        pytest.param("docker:localhost:2375", "Docker Engine", id="host-port"),
        pytest.param("docker:/var/run/docker.sock", "Docker Engine", id="socket-path"),
        pytest.param("podman:myhost:8080", "Podman service", id="podman-host-port"),
    ],
)
def test_an_address_without_a_scheme(spec: str, engine: str) -> None:
    address = spec.partition(":")[2]
    with pytest.raises(SourceUnavailable) as caught:
        open_source(spec, use_cache=False).scan()
    assert str(caught.value) == f"The {engine} address {address!r} has no scheme"
    assert caught.value.hint is Hint.ADD_SCHEME


@pytest.mark.parametrize("open_transport", TRANSPORTS)
def test_both_transports_refuse_a_scheme_less_address_alike(open_transport: Connect) -> None:
    with pytest.raises(SourceUnavailable, match="has no scheme") as caught:
        open_transport("localhost:2375", 1.0)
    assert caught.value.hint is Hint.ADD_SCHEME


def test_an_unknown_scheme() -> None:
    with pytest.raises(SourceUnavailable) as caught:
        open_source("docker:ftp://engine.example:2375", use_cache=False).scan()
    assert str(caught.value).startswith(
        "The Docker Engine address 'ftp://engine.example:2375' has an unknown"
    )
    assert caught.value.hint is Hint.ADD_SCHEME


def test_the_cli_says_no_scheme_in_one_line_not_docker_pys_words() -> None:
    import io  # noqa: PLC0415

    out, err = io.StringIO(), io.StringIO()
    assert main(["tree", "--no-cache", "--source", "docker:localhost:2375"], stdout=out, stderr=err) == 1
    assert err.getvalue().count("\n") == 1
    assert "has no scheme" in err.getvalue()
    assert "Invalid bind address" not in err.getvalue()


# --------------------------------------------------------------------------- built chains


def docker_py_chain(os_error: BaseException) -> docker.errors.DockerException:
    """What docker-py raises when negotiating the version fails on ``os_error``, really raised."""
    try:
        try:
            try:
                raise urllib3.exceptions.ProtocolError("Connection aborted.", os_error)
            except urllib3.exceptions.ProtocolError as protocol:
                raise requests.exceptions.ConnectionError(protocol) from protocol
        except requests.exceptions.ConnectionError as connection:
            raise docker.errors.DockerException(
                f"Error while fetching server API version: {connection}"
            ) from connection
    except docker.errors.DockerException as error:
        return error


@pytest.mark.parametrize(
    ("os_error", "fault", "start"),
    [
        pytest.param(
            PermissionError(13, "Permission denied"),
            Fault.PERMISSION,
            "Permission denied on the Docker Engine at unix:///x.sock; add your user to the 'docker' group",
            id="permission",
        ),
        pytest.param(
            FileNotFoundError(2, "No such file or directory"),
            Fault.NO_SOCKET,
            "No Docker Engine is listening at unix:///x.sock (no such socket)",
            id="no-socket",
        ),
        pytest.param(
            ConnectionRefusedError(111, "Connection refused"),
            Fault.REFUSED,
            "The Docker Engine at unix:///x.sock refused the connection",
            id="refused",
        ),
        pytest.param(
            http.client.RemoteDisconnected("Remote end closed connection without response"),
            Fault.LOST,
            "The Docker Engine at unix:///x.sock dropped the connection",
            id="lost",
        ),
        pytest.param(
            TimeoutError("timed out"),  # socket.timeout is TimeoutError
            Fault.TIMEOUT,
            "The Docker Engine at unix:///x.sock did not answer",
            id="timeout",
        ),
        pytest.param(
            socket.gaierror(-2, "Name or service not known"),
            Fault.NO_HOST,
            "The host of unix:///x.sock cannot be found (Name or service not known)",
            id="no-host",
        ),
    ],
)
def test_docker_py_chains_are_read_to_the_bottom(os_error: BaseException, fault: Fault, start: str) -> None:
    error = docker_py_chain(os_error)
    assert fault_of(error) == (fault, os_error)
    assert str(unavailable("unix:///x.sock", error, 30.0)).startswith(start)


def refused_through_urllib3(refused: ConnectionRefusedError) -> None:
    """Raise what requests raises for a refused tcp connection, chained as it chains it."""
    try:
        raise urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection")  # type: ignore[arg-type]
    except urllib3.exceptions.NewConnectionError as new:
        new.__cause__ = refused
        raise requests.exceptions.ConnectionError(
            urllib3.exceptions.MaxRetryError(None, "/version", new)  # type: ignore[arg-type]
        ) from None


def test_urllib3_keeps_the_cause_in_reason() -> None:
    """tcp: requests ConnectionError(MaxRetryError(reason=NewConnectionError from ConnectionRefusedError)).

    NewConnectionError is a urllib3 *timeout* class by inheritance: the refusal below it decides.
    """
    refused = ConnectionRefusedError(111, "Connection refused")
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        refused_through_urllib3(refused)
    assert fault_of(caught.value) == (Fault.REFUSED, refused)


def test_message_text_is_never_read() -> None:
    """The old defect: 'Permission denied' in the text made any error a permission problem."""
    liar = OSError("Permission denied (but really something else)")
    assert fault_of(liar)[0] is None
    error = unavailable("unix:///x.sock", liar, 30.0)
    assert str(error).startswith("Cannot read images from the Docker Engine at unix:///x.sock")
    denied = docker_py_chain(PermissionError(13, "No such file or directory"))  # text contradicts type
    assert fault_of(denied)[0] is Fault.PERMISSION


def timeout_from_none() -> None:
    try:
        raise FileNotFoundError(2, "No such file or directory")
    except FileNotFoundError:
        raise TimeoutError("timed out") from None


def test_a_from_none_hides_the_context() -> None:
    with pytest.raises(TimeoutError) as caught:
        timeout_from_none()
    assert fault_of(caught.value)[0] is Fault.TIMEOUT


def test_api_error_statuses() -> None:
    gone = http_error("unix:///x.sock", 404, "GET /images/abc/json", "No such image", DOCKER, image=True)
    assert isinstance(gone, ImageGone)
    denied = http_error("unix:///x.sock", 403, "GET /images/json", "authorization denied by plugin", DOCKER)
    assert str(denied).startswith(
        "The Docker Engine at unix:///x.sock refused access (403) to GET /images/json"
    )
    odd = http_error("unix:///x.sock", 409, "GET /images/json", "", DOCKER)
    assert str(odd) == "The Docker Engine at unix:///x.sock answered 409 to GET /images/json"


def _root(error: BaseException) -> BaseException:
    return fault_of(error)[1]


def test_an_ssh_engine_without_paramiko_says_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Was "Cannot read images from ... (NameError: name 'SSHHTTPAdapter' is not defined)".
    import docker.transport  # noqa: PLC0415 - docker-py, as the transport imports it

    # docker-py defines its SSH adapter only when paramiko imported: as here, whatever is installed.
    monkeypatch.delattr(docker.transport, "SSHHTTPAdapter", raising=False)
    with pytest.raises(SourceUnavailable) as caught:
        SdkTransport("ssh://nobody@127.0.0.1:1", timeout=3)
    assert str(caught.value).startswith(
        "Reaching the Docker Engine at ssh://nobody@127.0.0.1:1 needs docker-py's SSH support "
        "(pip install paramiko); or forward its socket"
    )
