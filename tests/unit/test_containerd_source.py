"""``containerd:`` without a containerd: the spec, the calls the project declares, and the
one-line errors of a daemon too old or a socket that is not containerd's (real gRPC servers
and sockets started here)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from google.protobuf.message import Message

from image_lineage.cli import error_line
from image_lineage.errors import Hint, LineageError
from image_lineage.sources import open_source
from image_lineage.sources.containerd import client as client_module
from image_lineage.sources.containerd import errors
from image_lineage.sources.containerd.address import Spec, default_sockets, find_socket, parse_spec
from image_lineage.sources.containerd.blobs import ContainerdBlobs
from image_lineage.sources.containerd.client import Client
from image_lineage.sources.containerd.proto import (
    content_pb2,
    descriptor_pb2,
    images_pb2,
    namespaces_pb2,
    version_pb2,
)
from image_lineage.sources.containerd.source import ContainerdSource
from image_lineage.sources.oci.blobs import DigestMismatch, Want
from image_lineage.sources.oci.descriptor import Descriptor
from image_lineage.sources.oci.media import OCI_MANIFEST
from tests.support.cli import run_cli


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("", Spec(None, "")),
        ("?namespace=k8s.io", Spec(None, "k8s.io")),
        ("unix:///run/x/containerd.sock", Spec(Path("/run/x/containerd.sock"), "")),
        ("/run/x/containerd.sock?namespace=all", Spec(Path("/run/x/containerd.sock"), "all")),
        ("unix:/run/c.sock?namespace=moby", Spec(Path("/run/c.sock"), "moby")),
    ],
)
def test_the_spec_names_a_socket_and_a_namespace(rest: str, expected: Spec) -> None:
    assert parse_spec(rest, environ={}) == expected


def test_where_the_spec_says_nothing_the_environment_may_as_for_ctr() -> None:
    environ = {"CONTAINERD_ADDRESS": "/run/k3s/containerd/containerd.sock", "CONTAINERD_NAMESPACE": "moby"}
    assert parse_spec("", environ) == Spec(Path("/run/k3s/containerd/containerd.sock"), "moby")
    assert parse_spec("/x.sock?namespace=all", environ) == Spec(Path("/x.sock"), "all")
    with pytest.raises(LineageError, match="is not a containerd namespace name"):
        parse_spec("", {"CONTAINERD_NAMESPACE": "no good"})


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("containerd", Spec(None, "")),
        ("containerd?namespace=all", Spec(None, "all")),
        ("containerd:?namespace=moby", Spec(None, "moby")),
        ("containerd:/run/k3s/containerd/containerd.sock", Spec(Path("/run/k3s/containerd/containerd.sock"))),
    ],
)
def test_open_source_knows_every_form_of_the_spec(
    spec: str, expected: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONTAINERD_ADDRESS", raising=False)
    monkeypatch.delenv("CONTAINERD_NAMESPACE", raising=False)
    source = open_source(spec)
    assert isinstance(source, ContainerdSource)
    assert source.spec == expected


@pytest.mark.parametrize(
    ("rest", "said"),
    [
        ("tcp://10.0.0.1:1234", "is read through its unix socket"),
        ("relative.sock", "should be an absolute path"),
        ("?ns=k8s.io", "takes one option, ?namespace=NS"),
        ("?namespace=a&namespace=b", "takes one option"),
        ("?namespace=bad..name", "is not a containerd namespace name"),
    ],
)
def test_a_spec_that_is_not_one_is_one_line(rest: str, said: str) -> None:
    with pytest.raises(LineageError, match=said.replace("?", r"\?")):
        parse_spec(rest, environ={})


def test_the_default_socket_is_the_systems_then_the_rootless_one(tmp_path: Path) -> None:
    environ = {"XDG_RUNTIME_DIR": str(tmp_path)}
    system, rootless = default_sockets(environ)
    assert system == Path("/run/containerd/containerd.sock")
    assert rootless == tmp_path / "containerd" / "containerd.sock"
    rootless.parent.mkdir()
    rootless.touch()
    expected = system if system.exists() else rootless
    assert find_socket(Spec(None), environ) == expected
    assert find_socket(Spec(tmp_path / "x.sock"), environ) == tmp_path / "x.sock"


def test_the_declared_services_have_read_calls_only() -> None:
    """No generated code can create, update or delete: the .proto files declare no such call."""
    declared = {
        f"{service.full_name}/{method.name}"
        for module in (content_pb2, images_pb2, namespaces_pb2, version_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert declared == {
        "containerd.services.content.v1.Content/Info",
        "containerd.services.content.v1.Content/List",
        "containerd.services.content.v1.Content/Read",
        "containerd.services.images.v1.Images/Get",
        "containerd.services.images.v1.Images/List",
        "containerd.services.namespaces.v1.Namespaces/List",
        "containerd.services.version.v1.Version/Version",
    }


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A socket path short enough for AF_UNIX (pytest's tmp paths may not be)."""
    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="il-ctrd-", dir="/tmp") as name:
        yield Path(name)


def serve(
    path: Path, version: str | None, *, stuck_read: threading.Event | None = None, content: bytes = b""
) -> grpc.Server:
    """A gRPC server on ``path`` with the version service (answering ``version``), or nothing.

    With ``stuck_read``: also namespaces (``k8s.io``), images (one) and content ``List`` (its
    manifest) as containerd answers, and a content ``Read`` that waits for the event (set: at
    once), then sends ``content`` in two chunks, whatever the digest asked.
    """
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    calls: dict[str, dict[str, grpc.RpcMethodHandler[Any, Any]]] = {}
    if version is not None:
        calls["containerd.services.version.v1.Version"] = {
            "Version": _answer(empty_pb2.Empty, version_pb2.VersionResponse(version=version))
        }
    if stuck_read is not None:
        namespaces = namespaces_pb2.ListNamespacesResponse(
            namespaces=[namespaces_pb2.Namespace(name="k8s.io")]
        )
        target = descriptor_pb2.Descriptor(media_type=OCI_MANIFEST, digest="sha256:" + "a" * 64, size=2)
        images = images_pb2.ListImagesResponse(images=[images_pb2.Image(name="x:1", target=target)])
        calls["containerd.services.namespaces.v1.Namespaces"] = {
            "List": _answer(namespaces_pb2.ListNamespacesRequest, namespaces)
        }
        calls["containerd.services.images.v1.Images"] = {
            "List": _answer(images_pb2.ListImagesRequest, images)
        }

        def stuck(_request: object, _context: object) -> Iterator[content_pb2.ReadContentResponse]:
            stuck_read.wait(30)
            half = len(content) // 2
            yield content_pb2.ReadContentResponse(offset=0, data=content[:half])
            yield content_pb2.ReadContentResponse(offset=half, data=content[half:])

        def listed(_request: object, _context: object) -> Iterator[content_pb2.ListContentResponse]:
            yield content_pb2.ListContentResponse(info=[content_pb2.Info(digest=target.digest, size=2)])

        calls["containerd.services.content.v1.Content"] = {
            "List": grpc.unary_stream_rpc_method_handler(
                listed,
                request_deserializer=content_pb2.ListContentRequest.FromString,
                response_serializer=content_pb2.ListContentResponse.SerializeToString,
            ),
            "Read": grpc.unary_stream_rpc_method_handler(
                stuck,
                request_deserializer=content_pb2.ReadContentRequest.FromString,
                response_serializer=content_pb2.ReadContentResponse.SerializeToString,
            ),
        }
    server.add_generic_rpc_handlers(
        tuple(grpc.method_handlers_generic_handler(name, methods) for name, methods in calls.items())
    )
    server.add_insecure_port(f"unix:{path}")
    server.start()
    return server


def _answer(request: type[Message], answer: Message) -> grpc.RpcMethodHandler[Any, Any]:
    return grpc.unary_unary_rpc_method_handler(
        lambda _request, _context: answer,
        request_deserializer=request.FromString,
        response_serializer=type(answer).SerializeToString,
    )


def test_a_streamed_blob_that_does_not_match_its_digest_is_refused_at_its_end(short_dir: Path) -> None:
    """``open`` (the layer readers' way in) checks the digest, whatever containerd sends."""
    path = short_dir / "containerd.sock"
    ready = threading.Event()
    ready.set()
    server = serve(path, "v2.1.4", stuck_read=ready, content=b"not the layer" * 1000)
    wanted = Want(Descriptor(OCI_MANIFEST, "sha256:" + "b" * 64, 13_000), "k8s.io")
    try:
        with Client(path, 5) as client, ContainerdBlobs(client).open(wanted) as stream:
            assert stream.read(13) == b"not the layer"  # streamed: what came so far is given
            with pytest.raises(DigestMismatch, match="does not match its digest"):
                stream.read()
    finally:
        server.stop(None)


def test_a_read_that_never_comes_ends_at_the_timeout(short_dir: Path) -> None:
    path = short_dir / "containerd.sock"
    release = threading.Event()
    server = serve(path, "v2.1.4", stuck_read=release)
    try:
        error = run_cli(["tree", "--source", f"containerd:{path}", "--timeout", "1"]).one_line_error()
    finally:
        release.set()
        server.stop(None)
    assert error.startswith(
        f"The containerd at unix://{path} did not answer within 1 s; check that it is healthy"
    )


@pytest.mark.parametrize(
    ("version", "said"),
    [
        pytest.param(
            None, "does not implement Version Version: it is too old, or not containerd", id="no-version"
        ),
        pytest.param("v0.2.9", "(v0.2.9) does not implement the v1 images and content services", id="0.2"),
        pytest.param("v1.7.0", "does not implement Namespaces List: it is too old", id="no-namespaces"),
    ],
)
def test_a_daemon_too_old_says_so(short_dir: Path, version: str | None, said: str) -> None:
    path = short_dir / "containerd.sock"
    server = serve(path, version)
    try:
        result = run_cli(["tree", "--source", f"containerd:{path}"])
    finally:
        server.stop(None)
    error = result.one_line_error()
    assert said in error
    assert "this tool reads containerd 1.0 or later" in error


def test_a_socket_that_does_not_speak_grpc_says_so(short_dir: Path) -> None:
    path = short_dir / "docker.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    stop = threading.Event()

    def answer_http() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                peer, _ = listener.accept()
            except TimeoutError:
                continue
            with peer, contextlib.suppress(OSError):  # the client may hang up first
                peer.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=answer_http, daemon=True)
    thread.start()
    try:
        error = run_cli(["tree", "--source", f"containerd:{path}", "--timeout", "5"]).one_line_error()
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert error.startswith(
        f"unix://{path} does not answer like containerd (no gRPC there); check the address"
    )


def test_the_hint_has_words_in_both_front_ends() -> None:
    from image_lineage.cli import HINTS  # noqa: PLC0415
    from image_lineage.web.wording import HINTS as PAGE_HINTS  # noqa: PLC0415

    for hint in (Hint.CONTAINERD_ADDRESS, Hint.CONTAINERD_NAMESPACE):
        assert "--source 'containerd:" in HINTS[hint]
        assert "image-lineage snapshot" in PAGE_HINTS[hint]


def test_a_namespace_error_names_a_namespace_not_another_socket() -> None:
    # Was "... (it has team), or name its socket and namespace: --source 'containerd:/PATH/...",
    # and "... none of them k8s.io: which one to read?, or name its socket ...".
    address = "unix:///run/containerd/containerd.sock"
    remedy = "name the one to read with --source 'containerd:SOCKET?namespace=NS' "
    remedy += "(?namespace=all reads every one)."
    assert error_line(errors.unknown_namespace(address, "nope", ["team"])) == (
        f"The containerd at {address} has no namespace 'nope' (it has team): {remedy}"
    )
    assert error_line(errors.several_namespaces(address, ["buildkit", "nerdctl"])) == (
        f"The containerd at {address} has images in several namespaces (buildkit, nerdctl), none of them "
        f"k8s.io: {remedy}"
    )


def test_a_content_list_past_its_bound_names_no_fingerprint(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The content list is read only to key kept output on: a store listing more blobs than
    ``MAX_CONTENT_LISTED`` (or a server streaming digests without end) is not read to its end,
    and nothing is kept for it."""
    path = short_dir / "containerd.sock"
    ready = threading.Event()
    ready.set()
    server = serve(path, "v2.1.4", stuck_read=ready)
    try:
        source = ContainerdSource(Spec(path), 5)
        with source.image_list() as listing:
            assert listing.fingerprint is not None  # one blob listed: within the bound
        monkeypatch.setattr(client_module, "MAX_CONTENT_LISTED", 0)
        with Client(path, 5) as client:
            assert client.content("k8s.io") is None
        with source.image_list() as listing:
            assert listing.fingerprint is None
    finally:
        server.stop(None)
