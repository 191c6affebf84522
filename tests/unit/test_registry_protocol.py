"""The registry protocol as the reader speaks it, against a small registry in ``http.server``.

The fake serves a multi-platform family written by ``testbed/oci_layout.py`` (so every
digest is known) and records every request; each test turns one behaviour on: ``429`` with
and without ``Retry-After``, ``Link`` pages, manifests and configs that do not match their
digests, ``HEAD`` answers without a digest, redirects, and ``401`` challenges answered by a
fake ``RegistryAuth`` (the real one is exercised by its own tests).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from image_lineage.cli import main
from image_lineage.errors import SourceUnavailable
from image_lineage.model import Scan
from image_lineage.sources import registry as registry_module
from image_lineage.sources import registry_auth, registry_client
from image_lineage.sources.oci.blobs import DigestMismatch, Want
from image_lineage.sources.oci.descriptor import Descriptor
from image_lineage.sources.registry import RegistrySource
from testbed.local_server import serve_in_background
from testbed.oci_layout import (
    AMD64,
    ARM64,
    MEDIA_CONFIG,
    MEDIA_INDEX,
    MEDIA_LAYER_GZIP,
    Family,
    lineage_family,
)
from testbed.oci_layout import Image as BuiltImage
from tests.support.registry_requests import request_kind


@dataclass
class _State:
    """What the fake serves and how it misbehaves; ``log`` is every (method, path) served."""

    family: Family
    log: list[tuple[str, str]] = field(default_factory=list)
    tags: dict[str, list[str]] = field(default_factory=dict)  # repository -> tags
    deleted: set[str] = field(default_factory=set)  # repositories the catalog lists, gone since
    targets: dict[tuple[str, str], str] = field(default_factory=dict)  # (repository, tag) -> digest
    page_limit: int = 1000  # the most entries a page holds, whatever ?n= asks
    too_many: int = 0  # answer this many requests with 429 first
    retry_after: str | None = None
    tampered: set[str] = field(default_factory=set)  # digests served with other bytes
    head_digest: bool = True
    redirect_blobs: bool = False
    token: str = ""  # required Authorization header ("" = anonymous)
    referrers: dict[str, list[dict[str, Any]]] | None = None  # the referrers API's lists (None: no API)
    referrers_body: bytes | None = None  # what it answers instead of a list
    referrers_status: int = 200  # its status (a 401 without a challenge: a route it refuses oddly)
    challenges: int = 0
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def blob(self, digest: str) -> bytes | None:
        data = self.family.layout.blobs.get(digest)
        if data is not None and digest in self.tampered:
            return data + b" "  # still the same JSON: only the digest can tell
        return data


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        with self.server.state.lock:
            self.server.state.connections += 1

    def do_HEAD(self) -> None:
        self.answer(head=True)

    def do_GET(self) -> None:
        self.answer(head=False)

    def answer(self, *, head: bool) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        with state.lock:
            state.log.append((self.command, self.path))
            if state.too_many > 0:
                state.too_many -= 1
                extra = {"Retry-After": state.retry_after} if state.retry_after is not None else {}
                self.send(429, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}', head, extra)
                return
        if state.token and self.headers.get("Authorization") != state.token:
            state.challenges += 1
            challenge = 'Bearer realm="http://127.0.0.1:1/token",service="fake"'
            self.send(401, b"{}", head, {"WWW-Authenticate": challenge})
            return
        parts = url.path.split("/")
        query = parse_qs(url.query)
        if url.path == "/v2/_catalog":
            self.page("repositories", sorted({*state.tags, *state.deleted}), query, head)
        elif url.path.endswith("/tags/list"):
            repository = "/".join(parts[2:-2])
            if repository not in state.tags:  # as distribution answers: NAME_UNKNOWN
                self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}', head)
                return
            self.page("tags", sorted(state.tags[repository]), query, head)
        elif "/manifests/" in url.path:
            repository, reference = url.path[4:].split("/manifests/")
            digest = (
                reference if reference.startswith("sha256:") else state.targets.get((repository, reference))
            )
            data = state.blob(digest) if digest else None
            if data is None or digest is None:
                self.send(404, b"{}", head)
                return
            media = json.loads(state.family.layout.blobs[digest]).get("mediaType", MEDIA_INDEX)
            headers = {"Content-Type": media}
            if state.head_digest:
                headers["Docker-Content-Digest"] = digest
            self.send(200, data, head, headers)
        elif "/referrers/" in url.path and (state.referrers is not None or state.referrers_status != 200):
            self.referrers((state.referrers or {}).get(url.path.rsplit("/", 1)[1], []), query, head)
        elif "/blobs/" in url.path:
            digest = url.path.rsplit("/", 1)[1]
            if state.redirect_blobs and not url.query:
                self.send(307, b"", head, {"Location": f"{url.path}?redirected=1"})
                return
            data = state.blob(digest)
            self.send(200, data, head) if data is not None else self.send(404, b"{}", head)
        else:
            self.send(404, b"{}", head)

    def referrers(self, listed: list[dict[str, Any]], query: dict[str, list[str]], head: bool) -> None:
        """A referrers API page (``page_limit`` descriptors), a ``Link`` to the next one."""
        if self.server.state.referrers_status != 200:
            self.send(self.server.state.referrers_status, b"{}", head)
            return
        start, size = int(query.get("page", ["0"])[0]), self.server.state.page_limit
        index = {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": listed[start : start + size]}
        headers = {"Content-Type": MEDIA_INDEX}
        if start + size < len(listed):
            headers["Link"] = f'<{urlsplit(self.path).path}?page={start + size}>; rel="next"'
        self.send(200, self.server.state.referrers_body or json.dumps(index).encode(), head, headers)

    def page(self, key: str, names: list[str], query: dict[str, list[str]], head: bool) -> None:
        size = min(int(query.get("n", ["1000"])[0]), self.server.state.page_limit)
        last = query.get("last", [""])[0]
        rest = [n for n in names if n > last]
        body = json.dumps({key: rest[:size]}).encode()
        headers = {}
        if len(rest) > size:
            path = urlsplit(self.path).path
            # Absolute and relative links both occur in the wild: use the absolute form.
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            headers["Link"] = f'<{host}{path}?last={rest[size - 1]}&n={size}>; rel="next"'
        self.send(200, body, head, headers)

    def send(self, status: int, body: bytes, head: bool, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def family() -> Family:
    return lineage_family(prefix="fake")


@pytest.fixture
def fake(family: Family) -> Iterator[_Server]:
    with _serving(family) as server:
        yield server


@contextmanager
def _serving(family: Family) -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    state = _State(family)
    for tag, digest in family.targets.items():
        repository, name = tag.rsplit(":", 1)
        state.tags.setdefault(f"team/{repository.split('/')[-1]}", []).append(name)
        state.targets[(f"team/{repository.split('/')[-1]}", name)] = digest
    server.state = state
    serve_in_background(server)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _platforms(family: Family) -> set[str]:
    return {image.config_digest for images in family.images.values() for image in images.values()}


def _kind(method: str, path: str) -> str:
    """``GET /v2/team/app/tags/list?n=1000`` -> ``GET tags``."""
    return f"{method} {request_kind(path)}"


def scan(server: _Server, path: str = "", timeout: float = 5.0, waits: list[float] | None = None) -> Scan:
    """A scan of ``server``; its 429 waits are recorded in ``waits``, never slept."""
    sleep = (waits if waits is not None else []).append
    return RegistrySource(server.url + path, timeout=timeout, sleep=sleep).scan()


def test_every_platform_once_with_attestations_counted(fake: _Server, family: Family) -> None:
    found = scan(fake)
    assert {image.id for image in found.images} == _platforms(family)
    by_id = {image.id: image for image in found.images}
    for tag, images in family.images.items():
        for platform, built in images.items():
            image = by_id[built.config_digest]
            assert image.platform == platform
            assert image.size_kind == "compressed"
            assert image.size == sum(layer.size for layer in built.layers)
            if family.layout.blobs[family.targets[tag]].startswith(b'{"manifests"'):
                assert image.index_digest == family.targets[tag]
                assert {p for p, here in image.index_platforms if here} == set(images)
    notes = [d for d in found.diagnostics if d.code == "artifacts"]
    assert len(notes) == 9  # one attestation per platform of every index (single has none)
    assert all(d.message == "1 attestation refers to this image" for d in notes)


def test_a_warm_scan_sends_only_tag_lists_and_heads(fake: _Server) -> None:
    cold = scan(fake)
    assert all(method == "GET" for method, _ in fake.state.log)  # nothing cached: no HEAD first
    fake.state.log.clear()
    warm = scan(fake)
    assert warm.images == cold.images
    kinds = [_kind(method, path) for method, path in fake.state.log]
    assert set(kinds) == {"GET catalog", "GET tags", "HEAD manifest", "GET referrers"}, fake.state.log
    assert sum(method == "HEAD" for method, _ in fake.state.log) == len(fake.state.targets)
    assert kinds.count("GET referrers") == 1  # one probe for the referrers API (404 here), not one per image


def test_link_pages_are_followed(fake: _Server, family: Family, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.state.tags["team/base"] += ["2", "3"]
    for extra in ("2", "3"):
        fake.state.targets[("team/base", extra)] = fake.state.targets[("team/base", "1")]
    monkeypatch.setattr(registry_client, "PAGE_SIZE", 2)
    found = scan(fake)
    assert {image.id for image in found.images} == _platforms(family)
    base = next(
        image for image in found.images if "3" in "".join(image.tags) and "base" in "".join(image.tags)
    )
    assert [t.rsplit(":", 1)[1] for t in base.tags] == ["1", "2", "3"]
    paths = [path for _, path in fake.state.log]
    assert sum(path.startswith("/v2/_catalog") for path in paths) == 3  # 6 repositories, 2 a page
    assert "/v2/team/base/tags/list?last=2&n=2" in paths


def test_retry_after_is_waited_out(fake: _Server, family: Family) -> None:
    fake.state.too_many, fake.state.retry_after = 2, "1"
    waits: list[float] = []
    found = scan(fake, waits=waits)
    assert waits == [1.0, 2.0]  # as asked, then the backoff when it asks less
    assert {image.id for image in found.images} == _platforms(family)


def test_a_429_without_retry_after_waits_a_bounded_time(fake: _Server) -> None:
    fake.state.too_many = 1_000_000
    waits: list[float] = []
    with pytest.raises(SourceUnavailable) as caught:
        scan(fake, timeout=2.5, waits=waits)
    assert waits == [1.0]  # 1 s, then 2 more would pass the 2.5 s timeout
    assert len(fake.state.log) == 2
    assert "limits requests (429 Too Many Requests)" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_long_retry_after_is_one_line_at_once(fake: _Server) -> None:
    fake.state.too_many, fake.state.retry_after = 1, "3600"
    err = io.StringIO()
    started = time.monotonic()
    assert main(["tree", "--source", f"registry:{fake.url}"], stdout=io.StringIO(), stderr=err) == 1
    assert time.monotonic() - started < 5
    assert err.getvalue().count("\n") == 1
    assert "asks to wait 3600 s in all; try again later" in err.getvalue()


def test_a_retry_after_date_is_read() -> None:
    assert registry_client._retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 0) == 0.0
    assert registry_client._retry_after("7", 0) == 7.0
    assert registry_client._retry_after("", 0) == 1.0
    assert registry_client._retry_after("", 2.0) == 2.0


@pytest.mark.parametrize("what", ["platform manifest", "config", "index"])
def test_bytes_that_do_not_match_their_digest_are_refused(fake: _Server, family: Family, what: str) -> None:
    base = family.images["fake/base:1"]
    index = family.targets["fake/base:1"]
    manifest = next(d for d, image in family.layout.images.items() if image is base["linux/arm64"])
    digest = {"platform manifest": manifest, "config": base["linux/arm64"].config_digest, "index": index}[
        what
    ]
    fake.state.tampered.add(digest)
    found = scan(fake)
    ids = {image.id for image in found.images}
    assert base["linux/arm64"].config_digest not in ids
    assert all(hashlib.sha256(b"").hexdigest() not in i for i in ids)
    if what == "index":
        assert base["linux/amd64"].config_digest not in ids
    refused = [d for d in found.diagnostics if d.code == "digest_mismatch"]
    assert len(refused) == 1
    assert digest in refused[0].message
    assert "does not match its digest: refused, not trusted" in refused[0].message
    assert ids >= {family.images["fake/app:1"]["linux/amd64"].config_digest}


def test_a_tampered_entry_in_the_cache_is_a_miss(fake: _Server) -> None:
    import sqlite3  # noqa: PLC0415

    from image_lineage.cache import default_cache_dir  # noqa: PLC0415

    cold = scan(fake)
    with sqlite3.connect(next(default_cache_dir().glob("*.sqlite3"))) as db:
        db.execute("UPDATE blobs SET body = ?", (b"{}",))
    fake.state.log.clear()
    assert scan(fake).images == cold.images
    assert any(method == "GET" and "/blobs/" in path for method, path in fake.state.log)


def test_a_head_without_a_digest_falls_back_to_get(fake: _Server, family: Family) -> None:
    fake.state.head_digest = False
    found = scan(fake)
    assert {image.id for image in found.images} == _platforms(family)


def test_redirects_are_followed(fake: _Server, family: Family) -> None:
    fake.state.redirect_blobs = True
    assert {image.id for image in scan(fake).images} == _platforms(family)


def test_requests_are_get_or_head_on_a_few_kept_connections(fake: _Server) -> None:
    scan(fake)
    assert {method for method, _ in fake.state.log} <= {"GET", "HEAD"}
    assert 4 <= registry_module.WORKERS <= 8
    assert len(fake.state.log) > 30
    assert fake.state.connections <= registry_module.WORKERS + 1  # the scan's thread and the pool's


class _FakeAuth:
    """Stands for ``registry_auth.RegistryAuth``: hands out ``Bearer t1``, ``Bearer t2``..."""

    calls: list[tuple[str, str]] = []  # noqa: RUF012 - shared across the instances of one test

    def __init__(self, registry: str, *, timeout: float, http: object = None) -> None:
        self.registry = registry

    def authorization(self, challenge: str, scope: str) -> str | None:
        self.calls.append((challenge, scope))
        return f"Bearer t{len(self.calls)}"

    def refused(self, scope: str) -> SourceUnavailable:
        return SourceUnavailable(f"The registry at {self.registry} refused the credentials (for {scope})")

    def missing(self, scope: str) -> SourceUnavailable:
        return SourceUnavailable(f"The registry at {self.registry} wants credentials (for {scope})")


@pytest.fixture
def fake_auth(monkeypatch: pytest.MonkeyPatch) -> type[_FakeAuth]:
    _FakeAuth.calls = []
    monkeypatch.setattr(registry_auth, "RegistryAuth", _FakeAuth)
    return _FakeAuth


def test_a_challenge_is_answered_once_per_scope(
    fake: _Server, family: Family, fake_auth: type[_FakeAuth]
) -> None:
    fake.state.token = "Bearer t1"  # noqa: S105 - what the first call of each scope gives
    found = scan(fake, "/team/app")
    assert {image.id for image in found.images} == {
        i.config_digest for i in family.images["fake/app:1"].values()
    }
    assert [scope for _, scope in fake_auth.calls] == ["repository:team/app:pull"]
    assert fake.state.challenges == 1  # remembered for every later request of the scope


def test_an_expired_answer_is_asked_for_again_once(fake: _Server, fake_auth: type[_FakeAuth]) -> None:
    fake.state.token = "Bearer t2"  # noqa: S105 - the first answer is refused (expired): the second works
    found = scan(fake, "/team/base")
    assert len(found.images) == 2
    assert [scope for _, scope in fake_auth.calls] == ["repository:team/base:pull"] * 2


def test_a_refused_answer_is_one_line(fake: _Server, fake_auth: type[_FakeAuth]) -> None:
    fake.state.token = "Bearer never"  # noqa: S105 - a fake token
    with pytest.raises(SourceUnavailable) as caught:
        scan(fake, "/team/base")
    assert (
        str(caught.value)
        == f"The registry at {fake.url} refused the credentials (for repository:team/base:pull)"
    )
    assert len(fake_auth.calls) == 2


def test_a_refused_catalog_says_to_name_a_repository(fake: _Server, fake_auth: type[_FakeAuth]) -> None:
    fake.state.token = "Bearer never"  # noqa: S105 - a fake token
    with pytest.raises(SourceUnavailable) as caught:
        scan(fake)
    assert "does not list its repositories to this user (401); name one in the address" in str(caught.value)
    assert [scope for _, scope in fake_auth.calls] == ["registry:catalog:*"] * 2


@pytest.mark.parametrize(
    ("path", "said"),
    [
        pytest.param("/team/nope", "has no repository 'team/nope': check its name", id="typo"),
        pytest.param(
            "/team/base:1", "has no repository 'team/base:1': the address names a repository", id="a-tag"
        ),
    ],
)
def test_a_repository_the_address_names_and_the_registry_lacks_is_one_line(
    fake: _Server, path: str, said: str
) -> None:
    # Not "(no images)" and exit 0: a mistyped name would look like an empty repository.
    err = io.StringIO()
    code = main(["tree", "--source", f"registry:{fake.url}{path}"], stdout=io.StringIO(), stderr=err)
    assert code == 1
    assert err.getvalue().count("\n") == 1
    assert f"The registry at {fake.url} {said}" in err.getvalue()


def test_a_repository_deleted_after_the_catalog_listed_it_is_left_out(fake: _Server) -> None:
    whole = len(scan(fake).images)
    fake.state.deleted.add("team/gone")
    assert len(scan(fake).images) == whole


def test_json_output_of_a_multi_platform_scan(fake: _Server) -> None:
    out = io.StringIO()
    assert (
        main(["export", "-f", "json", "--platform", "all", "--source", f"registry:{fake.url}"], stdout=out)
        == 0
    )
    document: dict[str, Any] = json.loads(out.getvalue())
    assert len(document["images"]) == 10


# ------------------------------------------- real shapes and fan-out, through the same walker


def _own_family() -> Family:
    """A family of its own, to which a test may add tags (the module's is shared)."""
    return lineage_family(prefix="fake")


def _index(family: Family, entries: list[dict[str, Any]]) -> dict[str, Any]:
    raw = json.dumps({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": entries}).encode()
    return family.layout.add_blob(raw, MEDIA_INDEX)


def test_apko_index_entries_are_images_in_a_registry_too() -> None:
    """apko 0.19 ``apko publish``: each index entry has ``artifactType`` = the image config type."""
    family = _own_family()
    images = [BuiltImage.scratch(p).run("apko", {"etc/os-release": str(p).encode()}) for p in (AMD64, ARM64)]
    entries = [{**family.layout.add_image(image), "artifactType": MEDIA_CONFIG} for image in images]
    with _serving(family) as server:
        server.state.tags["chainguard/static"] = ["latest"]
        server.state.targets[("chainguard/static", "latest")] = _index(family, entries)["digest"]
        found = scan(server, "/chainguard/static")
    assert {image.id for image in found.images} == {image.config_digest for image in images}


def test_a_schema_1_tag_is_a_diagnostic_naming_the_format() -> None:
    """A tag pushed by Docker 1.9 (registry v2 of 2015) still serving its schema 1 manifest."""
    family = _own_family()
    raw = json.dumps({"schemaVersion": 1, "name": "old/busybox", "tag": "1.21", "fsLayers": []}).encode()
    digest = family.layout.add_blob(raw, "application/vnd.docker.distribution.manifest.v1+prettyjws")[
        "digest"
    ]
    with _serving(family) as server:
        server.state.tags["old/busybox"] = ["1.21"]
        server.state.targets[("old/busybox", "1.21")] = digest
        found = scan(server, "/old/busybox")
    assert found.images == ()
    (note,) = [d for d in found.diagnostics if d.code == "blob_unreadable"]
    assert note.message.startswith(f"127.0.0.1:{server.server_address[1]}/old/busybox:1.21: the manifest")
    assert "Docker schema 1 manifest" in note.message


def test_an_index_of_four_levels_of_fifty_identical_entries_costs_a_few_requests() -> None:
    """7 requests, 6.25 million visits: the tag's index lists one index 50 times, and so on down."""
    family = _own_family()
    image = BuiltImage.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"amd64"})
    entry = family.layout.add_image(image)
    for _ in range(4):
        entry = _index(family, [entry] * 50)
    with _serving(family) as server:
        server.state.tags["fan/out"] = ["1"]
        server.state.targets[("fan/out", "1")] = entry["digest"]
        found = scan(server, "/fan/out")
        requests = len(server.state.log)
    assert [image.id for image in found.images] == [image.config_digest]
    assert requests <= 8  # tags, the tag, 3 more indexes, the manifest, the config, the referrers probe


def test_a_blob_streams_from_the_registry_with_its_digest_checked(fake: _Server, family: Family) -> None:
    """The registry's blob source gives a layer as a stream (layer contents read it so)."""
    image = family.images["fake/base:1"]["linux/amd64"]
    layer = image.layers[0]
    want = Want(Descriptor(MEDIA_LAYER_GZIP, layer.digest, len(layer.blob)), scope="team/base")
    blobs = registry_module._RegistryBlobs(
        registry_client.RegistryClient(fake.url, 5.0),
        cache=None,  # type: ignore[arg-type]
        pool=None,
    )
    with blobs.open(want) as stream:
        assert stream.read() == layer.blob
    fake.state.tampered.add(layer.digest)  # served one byte longer
    roomy = Want(Descriptor(MEDIA_LAYER_GZIP, layer.digest, len(layer.blob) + 1), scope="team/base")
    with pytest.raises(DigestMismatch, match="does not match its digest"), blobs.open(roomy) as stream:
        stream.read()
    with pytest.raises(SourceUnavailable, match=r"than its descriptor.s"), blobs.open(want) as stream:
        stream.read()
