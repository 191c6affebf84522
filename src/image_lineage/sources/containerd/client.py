"""containerd's gRPC API, read-only: the only module here that imports ``grpc``.

The calls are the ones the project's own ``.proto`` files declare (``proto/``): version,
namespaces ``List``, images ``List``, content ``Info``, ``List`` and ``Read``. None creates, updates
or deletes anything, and no lease is taken: content is read as it is, and a read that ends
or is closed leaves nothing behind. The namespace travels in the ``containerd-namespace``
header of each call, as containerd's own clients send it.

Each call has a deadline (``timeout``); a failure becomes one line (``errors.py``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2
from google.protobuf.message import Message

from image_lineage.errors import SourceUnavailable
from image_lineage.sources.containerd import errors
from image_lineage.sources.containerd.address import address_of
from image_lineage.sources.containerd.proto import (
    content_pb2,
    descriptor_pb2,
    images_pb2,
    namespaces_pb2,
    version_pb2,
)
from image_lineage.sources.engine.errors import unavailable
from image_lineage.sources.oci.blobs import ABSENT, Unread
from image_lineage.sources.oci.descriptor import Descriptor

#: The header containerd reads the namespace of a call from.
NAMESPACE_HEADER = "containerd-namespace"
#: The largest message this client accepts: a content chunk is 1 MiB; an image list of a
#: busy node (tens of thousands of images) fits.
MAX_MESSAGE = 256 * 1024 * 1024
#: Blobs a namespace's content list is read for, at most (a node holds thousands; a hostile
#: server could stream digests until the deadline): past it, ``content`` gives None.
MAX_CONTENT_LISTED = 1_000_000

R = TypeVar("R", bound=Message)


def _path(service: Any, name: str) -> str:
    """The gRPC path of a call, from the generated descriptors (never spelled by hand)."""
    method = service.methods_by_name[name]
    return f"/{method.containing_service.full_name}/{method.name}"


_IMAGES = images_pb2.DESCRIPTOR.services_by_name["Images"]
_CONTENT = content_pb2.DESCRIPTOR.services_by_name["Content"]
_NAMESPACES = namespaces_pb2.DESCRIPTOR.services_by_name["Namespaces"]
_VERSION = version_pb2.DESCRIPTOR.services_by_name["Version"]


@dataclass(frozen=True, slots=True)
class ListedImage:
    """One image as the images service lists it: its name, the descriptor it points at, its
    labels, and when it was made and last updated (RFC 3339, "" when not said)."""

    name: str
    target: Descriptor
    labels: tuple[tuple[str, str], ...] = ()
    created: str = ""
    updated: str = ""


class Missing(SourceUnavailable):
    """A blob containerd does not hold in the namespace it was asked in."""


class Client:
    """One containerd, through its socket at ``path``; a context manager (closes the channel)."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.address = address_of(path)
        self.timeout = timeout
        self._check_socket()
        self._channel = grpc.insecure_channel(
            f"unix:{path}",
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE),
                ("grpc.enable_http_proxy", 0),  # a local socket: never through a proxy
            ],
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _check_socket(self) -> None:
        """A plain ``connect`` first: its ``errno`` says why a socket cannot be used (gRPC's
        status would only say UNAVAILABLE, with words that change between versions)."""
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(self.timeout)
        try:
            probe.connect(str(self.path))
        except OSError as error:
            said = unavailable(self.address, error, self.timeout, errors.CONTAINERD)
            elsewhere = isinstance(error, (FileNotFoundError, ConnectionRefusedError))  # maybe another socket
            raise (errors.not_reached(said) if elsewhere else said) from error
        finally:
            probe.close()

    # ------------------------------------------------------------------------------ the calls

    def version(self) -> str:
        """containerd's version ("" from one that does not say)."""
        answer = self._unary(_VERSION, "Version", empty_pb2.Empty(), version_pb2.VersionResponse, "")
        return answer.version

    def namespaces(self) -> list[str]:
        answer = self._unary(
            _NAMESPACES,
            "List",
            namespaces_pb2.ListNamespacesRequest(),
            namespaces_pb2.ListNamespacesResponse,
            "",
        )
        return sorted(namespace.name for namespace in answer.namespaces)

    def images(self, namespace: str) -> list[ListedImage]:
        """Every image of a namespace, as listed."""
        answer = self._unary(
            _IMAGES, "List", images_pb2.ListImagesRequest(), images_pb2.ListImagesResponse, namespace
        )
        return [
            ListedImage(
                image.name,
                descriptor(image.target),
                tuple(sorted(image.labels.items())),
                _when(image, "created_at"),
                _when(image, "updated_at"),
            )
            for image in answer.images
        ]

    def content(self, namespace: str) -> list[str] | None:
        """The digest of every blob a namespace's content store holds, sorted (content ``List``);
        None when it lists more than ``MAX_CONTENT_LISTED`` (the stream is then cancelled)."""
        call = self._channel.unary_stream(
            _path(_CONTENT, "List"),
            request_serializer=content_pb2.ListContentRequest.SerializeToString,
            response_deserializer=content_pb2.ListContentResponse.FromString,
        )
        responses = call(
            content_pb2.ListContentRequest(), metadata=_metadata(namespace), timeout=self.timeout
        )
        digests: list[str] = []
        try:
            for response in responses:
                digests.extend(info.digest for info in response.info)
                if len(digests) > MAX_CONTENT_LISTED:
                    responses.cancel()
                    return None
        except grpc.RpcError as error:
            raise self.failure(error, "content List") from error
        return sorted(digests)

    def read(self, namespace: str, digest: str, limit: int) -> bytes | Unread:
        """A whole blob of at most ``limit`` bytes; an ``Unread`` when containerd does not hold it
        in this namespace, or it is bigger."""
        chunks, size = [], 0
        stream = self.chunks(namespace, digest, timeout=self.timeout)
        try:
            for chunk in stream:
                size += len(chunk)
                if size > limit:
                    return Unread("blob_too_big", f"{digest} is more than {limit} bytes: not read")
                chunks.append(chunk)
        except Missing as missing:
            return Unread(ABSENT, str(missing))
        finally:
            stream.close()
        return b"".join(chunks)

    def chunks(
        self, namespace: str, digest: str, *, timeout: float | None = None
    ) -> Generator[bytes, None, None]:
        """A blob's bytes as containerd streams them; closing the generator cancels the call.

        ``timeout``: for the whole read (a small blob's); a layer's stream has none, as it may
        be big and is read at its reader's pace.
        ``Missing`` when containerd does not hold the blob in this namespace; any other failure
        is worded as the other calls' are.
        """
        call = self._channel.unary_stream(
            _path(_CONTENT, "Read"),
            request_serializer=content_pb2.ReadContentRequest.SerializeToString,
            response_deserializer=content_pb2.ReadContentResponse.FromString,
        )
        request = content_pb2.ReadContentRequest(digest=digest)
        responses = call(request, metadata=_metadata(namespace), timeout=timeout)
        try:
            for response in responses:
                if response.data:
                    yield response.data
        except grpc.RpcError as error:
            if _code(error) is grpc.StatusCode.NOT_FOUND:
                raise Missing(
                    f"{digest} is not in the content store of the containerd at {self.address} "
                    f"(namespace {namespace})"
                ) from error
            raise self.failure(error, "content Read") from error
        finally:
            responses.cancel()  # a no-op once the stream has ended

    # ------------------------------------------------------------------------------- plumbing

    def _unary(self, service: Any, name: str, request: Message, answer: type[R], namespace: str) -> R:
        call: Callable[..., R] = self._channel.unary_unary(
            _path(service, name),
            request_serializer=type(request).SerializeToString,
            response_deserializer=answer.FromString,
        )
        try:
            return call(request, metadata=_metadata(namespace), timeout=self.timeout)
        except grpc.RpcError as error:
            raise self.failure(error, f"{service.name} {name}") from error

    def failure(self, error: grpc.RpcError, call: str) -> Exception:
        """A failed call, by its status code."""
        code = _code(error)
        if code is grpc.StatusCode.UNIMPLEMENTED:
            return errors.too_old(self.address, call)
        if code is grpc.StatusCode.DEADLINE_EXCEEDED:
            return errors.timed_out(self.address, self.timeout)
        if code is grpc.StatusCode.UNAVAILABLE:
            # the socket accepted a connection (checked first), but no gRPC server answered
            return errors.not_grpc(self.address)
        details = error.details() if isinstance(error, grpc.Call) else ""
        return errors.failed(self.address, call, code.name if code else "unknown", details or "")


def _code(error: grpc.RpcError) -> grpc.StatusCode | None:
    return error.code() if isinstance(error, grpc.Call) else None


def _metadata(namespace: str) -> tuple[tuple[str, str], ...]:
    return ((NAMESPACE_HEADER, namespace),) if namespace else ()


def _when(image: images_pb2.Image, field: str) -> str:
    """A timestamp of an image as RFC 3339 text; "" when containerd did not send it."""
    return getattr(image, field).ToJsonString() if image.HasField(field) else ""  # type: ignore[arg-type]


def descriptor(target: descriptor_pb2.Descriptor) -> Descriptor:
    """containerd's descriptor as the OCI core's."""
    annotations = tuple(sorted(target.annotations.items()))
    return Descriptor(target.media_type, target.digest, target.size, annotations=annotations)
