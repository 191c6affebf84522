"""Read images from an OCI distribution registry without pulling a layer.

``registry:URL`` lists the registry's catalog (or only the repository the URL names),
each repository's tags, each tag's manifest (one platform of a multi-platform index,
the native one first), and each image's config blob. Configs are content-addressed,
so one config read serves every tag of an image. Sizes are the layer descriptors'
sizes: compressed, as the registry stores them (a diagnostic says so).

Anonymous access only (a registry that asks for credentials is a clear error). Only
GET requests are sent. ``http://`` URLs are for registries on a trusted local network.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from image_lineage.errors import Hint, LineageError, SourceUnavailable
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.sources import oci
from image_lineage.sources.base import DEFAULT_TIMEOUT, MAX_JSON_BYTES, Progress
from image_lineage.sources.engine.errors import Fault, fault_of
from image_lineage.sources.image_config import image_from_config

MAX_PAGES = 1000
_INDEX_KEY = "manifests"


@dataclass(frozen=True, slots=True)
class RegistrySource:
    """``url``: ``https://host[:port]`` (the whole catalog) or ``https://host/repository``."""

    url: str
    timeout: float = DEFAULT_TIMEOUT

    def scan(self, *, include_intermediate: bool = False, progress: Progress | None = None) -> Scan:
        client = _Client(self.url, self.timeout)
        repositories = [client.repository] if client.repository else client.catalog()
        images: dict[str, Image] = {}
        notes: list[Diagnostic] = []
        for done, repository in enumerate(repositories, start=1):
            for tag in client.tags(repository):
                try:
                    oci.add_image(images, client.image(repository, tag))
                except _Missing as missing:
                    notes.append(Diagnostic(None, "registry_missing", str(missing)))
            if progress:
                progress(done, len(repositories))
        notes.append(Diagnostic(None, "registry_sizes", "sizes are the registry's compressed layer sizes"))
        info = SourceInfo(kind="registry", endpoint=client.base, scanned_at=datetime.now(UTC))
        return Scan(source=info, images=tuple(images[k] for k in sorted(images)), diagnostics=tuple(notes))


class _Missing(LineageError):
    """A tag or blob the registry listed but does not serve (deleted meanwhile)."""


class _Client:
    def __init__(self, url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url if "://" in url else f"https://{url}")
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise LineageError(f"{url!r} is not a registry address.", hint=Hint.REGISTRY_ADDRESS)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self.repository = parts.path.strip("/")
        self.timeout = timeout
        self._opener = urllib.request.build_opener()

    def catalog(self) -> list[str]:
        repositories: list[str] = []
        path: str | None = "/v2/_catalog?n=1000"
        for _ in range(MAX_PAGES):
            if path is None:
                break
            answer, headers = self._get_json(path)
            names = answer.get("repositories") if isinstance(answer, Mapping) else None
            if not isinstance(names, list):
                raise SourceUnavailable(f"{self.base} sent an unexpected catalog.")
            repositories.extend(n for n in names if isinstance(n, str))
            path = _next_page(headers.get("Link", ""))
        return repositories

    def tags(self, repository: str) -> list[str]:
        try:
            answer, _ = self._get_json(f"/v2/{repository}/tags/list")
        except _Missing:
            return []
        tags = answer.get("tags") if isinstance(answer, Mapping) else None
        return sorted(t for t in tags or [] if isinstance(t, str))

    def image(self, repository: str, tag: str) -> Image:
        manifest, headers = self._get_json(f"/v2/{repository}/manifests/{tag}", accept=oci.MANIFEST_ACCEPT)
        digest = headers.get("Docker-Content-Digest", "")
        if isinstance(manifest, Mapping) and isinstance(manifest.get(_INDEX_KEY), list):
            chosen = next(iter(_platform_images(manifest[_INDEX_KEY])), None)
            if chosen is None:
                raise _Missing(f"{repository}:{tag} has no image for this platform")
            digest = str(chosen["digest"])
            manifest, _ = self._get_json(f"/v2/{repository}/manifests/{digest}", accept=oci.MANIFEST_ACCEPT)
        config = manifest.get("config") if isinstance(manifest, Mapping) else None
        layers = manifest.get("layers") if isinstance(manifest, Mapping) else None
        if (
            not isinstance(config, Mapping)
            or not isinstance(config.get("digest"), str)
            or not isinstance(layers, list)
        ):
            raise _Missing(f"{repository}:{tag} has a manifest this tool does not read (schema 1?)")
        raw = self._get_bytes(f"/v2/{repository}/blobs/{config['digest']}")
        sizes = [_size(layer) for layer in layers]
        name = f"{self.host}/{repository}"
        image = image_from_config(raw, [f"{name}:{tag}"], sizes, f"{name}:{tag}", SourceUnavailable)
        return replace(image, digests=(f"{name}@{digest}",) if digest else ())

    def _get_json(self, path: str, accept: str = "application/json") -> tuple[Any, Mapping[str, str]]:
        body, headers = self._request(path, accept)
        try:
            return json.loads(body), headers
        except (ValueError, RecursionError) as error:
            raise SourceUnavailable(
                f"The registry at {self.base} sent something that is not JSON for {path}: is it a registry?",
                hint=Hint.TRY_SAMPLE,
            ) from error

    def _get_bytes(self, path: str) -> bytes:
        return self._request(path, "*/*")[0]

    def _request(self, path: str, accept: str) -> tuple[bytes, Mapping[str, str]]:
        # The scheme is http or https: checked in __init__.
        url = f"{self.base}{path}"
        request = urllib.request.Request(url, headers={"Accept": accept}, method="GET")  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read(MAX_JSON_BYTES + 1)
                headers = dict(response.headers.items())
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise _Missing(f"{path} is gone from the registry") from error
            if error.code in {401, 403}:
                raise SourceUnavailable(
                    f"The registry at {self.base} wants credentials ({error.code}) and only anonymous "
                    "reading is supported so far; copy its images to an archive (skopeo copy, or docker "
                    "save after a pull) and read that",
                    hint=Hint.TRY_SAMPLE,
                ) from error
            hint = Hint.TRY_SAMPLE if error.code >= 500 else None
            raise SourceUnavailable(
                f"The registry at {self.base} answered {error.code} to GET {path}.", hint=hint
            ) from error
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise self._unreachable(error) from error
        if len(body) > MAX_JSON_BYTES:
            raise SourceUnavailable(f"{self.base}{path} is larger than a manifest or config should be.")
        return body, headers

    def _unreachable(self, error: BaseException) -> SourceUnavailable:
        """Why the registry could not be read, by the exception types along the cause chain."""
        fault, cause = fault_of(error)  # urllib keeps the socket's error in URLError.reason
        if fault is Fault.TIMEOUT:
            return SourceUnavailable(
                f"The registry at {self.base} did not answer within {self.timeout:g} s",
                hint=Hint.RAISE_TIMEOUT,
            )
        why: dict[Fault | None, tuple[str, str]] = {
            Fault.REFUSED: ("connection refused", "check the address and port"),
            Fault.NO_HOST: (f"no host {self.host!r} is known", "check the address"),
            Fault.TLS: (
                f"TLS failed: {cause}",
                "for a registry on a trusted local network, give its address with http://",
            ),
            Fault.LOST: ("it dropped the connection", "check the address"),
            Fault.NOT_HTTP: ("it does not speak HTTP", "check the address"),
        }
        reason, remedy = why.get(fault, (getattr(cause, "strerror", None) or str(cause), "check the address"))
        return SourceUnavailable(
            f"Cannot reach the registry at {self.base} ({reason}); {remedy}", hint=Hint.TRY_SAMPLE
        )


def _size(descriptor: object) -> int:
    size = descriptor.get("size") if isinstance(descriptor, Mapping) else None
    return size if isinstance(size, int) and size > 0 else 0


def _next_page(link: str) -> str | None:
    """The path of a ``Link: </v2/_catalog?last=x&n=1000>; rel="next"`` header, if any."""
    if 'rel="next"' not in link or "<" not in link:
        return None
    target = link[link.index("<") + 1 : link.index(">")]
    parts = urllib.parse.urlsplit(target)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _platform_images(manifests: list[Any]) -> list[Mapping[str, Any]]:
    """An index's usable image entries, this machine's platform first (see ``oci.native_first``)."""
    return oci.native_first(
        m for m in manifests if isinstance(m, Mapping) and isinstance(m.get("digest"), str)
    )
