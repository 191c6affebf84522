"""The HTTP side of a registry: the distribution API's requests, as ``registry.py`` makes them.

``RegistryClient`` lists the catalog and tag lists (following ``Link`` pages), asks a tag's
digest (``HEAD``), and fetches manifests and blobs by digest, refusing bytes that do not
hash to it. Around each request: keep-alive connections per worker thread, redirects
(credentials only to the registry itself), ``429`` waited out as ``Retry-After`` says
(bounded), and ``401`` challenges answered by ``registry_auth.RegistryAuth`` (imported only
then) for the request's scope (``repository:NAME:pull``, ``registry:catalog:*``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO, TYPE_CHECKING, Any

from image_lineage.cache import digest_matches
from image_lineage.errors import Hint, LineageError, SourceUnavailable
from image_lineage.model import Diagnostic
from image_lineage.net.faults import Fault, Status, status_of
from image_lineage.net.http import (
    Answer,
    AnswerTooLarge,
    ExchangeFailed,
    HttpClient,
    Request,
    RequestRefused,
    origin_of,
)
from image_lineage.sources import oci
from image_lineage.sources.base import MAX_JSON_BYTES

if TYPE_CHECKING:
    from image_lineage.sources.registry_auth import RegistryAuth

#: Entries asked for per page of the catalog and of a tag list (``?n=``).
PAGE_SIZE = 1000
MAX_PAGES = 1000
#: The longest one request waits in all on ``429`` answers before the scan gives up.
MAX_RETRY_WAIT = 30.0
#: How long to wait on a ``429`` that names no ``Retry-After`` (doubling each time).
FIRST_RETRY_WAIT = 1.0
#: The most ``429`` answers one request waits out (each at least the backoff: 1, 2, 4... s).
MAX_RETRIES = 5
#: The most tags read from one repository: more are left out with a ``registry_cut`` note
#: (each tag costs a request; a repository of per-commit tags can list tens of thousands).
MAX_TAGS = 10_000
USER_AGENT = "image-lineage"
#: Pages of one manifest's referrers read from the referrers API, at most (a page may list
#: thousands; a real image has a handful of referrers).
MAX_REFERRER_PAGES = 10


class Skip(LineageError):
    """What leaves one tag or platform out of the scan (a diagnostic), not the whole scan."""

    code = "registry_missing"


class Missing(Skip):
    """A tag, manifest or blob the registry named but does not serve (deleted meanwhile)."""


class TooLarge(SourceUnavailable):
    """An answer larger than what was asked for may be: a listing or a tag's manifest ends the
    scan (one line); a blob asked for by its digest is left out with a note (``registry.py``)."""

    code = "blob_too_big"


class Mismatch(Skip):
    """A manifest or config whose bytes do not hash to the digest it was fetched by."""

    code = "digest_mismatch"


class RegistryClient:
    """GET and HEAD against one registry: keep-alive per thread, redirects, 429s, credentials.

    ``notes``: what the listing could not fully read (pages cut, tags left out), as
    diagnostics for the scan. ``sleep`` waits out a ``429`` (a test passes its own).
    """

    def __init__(self, url: str, timeout: float, *, sleep: Callable[[float], None] = time.sleep) -> None:
        parts = urllib.parse.urlsplit(url if "://" in url else f"https://{url}")
        if "@" in parts.netloc:
            # Never echoed: the address may hold a password.
            raise LineageError(
                "A registry address with a user name or password in it is not read (it would show "
                "wherever the address does); store credentials with docker login HOST instead",
                hint=Hint.REGISTRY_ADDRESS,
            )
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise LineageError(f"{url!r} is not a registry address.", hint=Hint.REGISTRY_ADDRESS)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.origin = origin_of(self.base)
        self.host = parts.netloc
        self.repository = parts.path.strip("/")
        self.timeout = timeout
        self.http = HttpClient(timeout)
        self.notes: list[Diagnostic] = []
        self._sleep = sleep
        self._lock = threading.Lock()
        self._answers: dict[str, str] = {}  # scope -> the Authorization header that worked
        self._auth: RegistryAuth | None = None

    # ------------------------------------------------------------------------ the protocol

    def catalog(self) -> list[str]:
        repositories: list[str] = []
        for answer, path in self._pages(f"/v2/_catalog?n={PAGE_SIZE}", None, f"the catalog of {self.host}"):
            if status_of(answer.status) in {Status.CHALLENGE, Status.FORBIDDEN}:
                raise SourceUnavailable(
                    f"The registry at {self.base} does not list its repositories to this user "
                    f"({answer.status}); name one in the address: {self.base}/REPOSITORY",
                    hint=Hint.REGISTRY_ADDRESS,
                )
            listed = self._json(answer, path).get("repositories")
            if not isinstance(listed, list):
                raise SourceUnavailable(f"{self.base} sent an unexpected catalog.")
            repositories.extend(n for n in listed if isinstance(n, str))
        return repositories

    def tags(self, repository: str) -> list[str]:
        """The repository's tags, sorted; at most ``MAX_TAGS`` (a note says when more are listed)."""
        tags: list[str] = []
        where = f"the tag list of {self.host}/{repository}"
        for answer, path in self._pages(f"/v2/{repository}/tags/list?n={PAGE_SIZE}", repository, where):
            if status_of(answer.status) is Status.GONE:
                if repository == self.repository:  # the one the address names: there is none
                    raise SourceUnavailable(_no_repository(self.base, repository))
                return []  # listed by the catalog, deleted since
            listed = self._json(answer, path).get("tags")
            tags.extend(t for t in listed or [] if isinstance(t, str))
        found = sorted(set(tags))
        if len(found) > MAX_TAGS:
            self._note(
                "registry_cut",
                f"{self.host}/{repository} lists {len(found):,} tags: only the first {MAX_TAGS:,} "
                "(in name order) are read",
            )
        return found[:MAX_TAGS]

    def _pages(self, path: str, repository: str | None, what: str) -> Iterator[tuple[Answer, str]]:
        """Each page of a list and its path, following ``Link: <…>; rel="next"`` headers
        (on this registry only); a page seen before, or more than ``MAX_PAGES``, ends the
        list with a note that says it was cut."""
        page: str | None = path
        seen: set[str] = set()
        while page is not None:
            if page in seen or len(seen) >= MAX_PAGES:
                why = (
                    "its pages lead back to one already read"
                    if page in seen
                    else f"it has more than {MAX_PAGES:,} pages"
                )
                self._note("registry_cut", f"{what} was cut short: {why}")
                return
            seen.add(page)
            answer = self.request("GET", page, "application/json", repository)
            yield answer, page
            page = _next_page(answer.headers.get("link", ""))

    def _note(self, code: str, message: str) -> None:
        with self._lock:
            self.notes.append(Diagnostic(None, code, message))

    def tag_digest(self, repository: str, tag: str, fetch: bool = False) -> tuple[str, bytes | None]:
        """What ``tag`` points at, by ``HEAD`` (``Docker-Content-Digest``), and None; with
        ``fetch``, or from a registry that names no digest, by ``GET``: the digest and the
        manifest's bytes, which must hash to the digest the registry names (else to their own)."""
        path = f"/v2/{repository}/manifests/{urllib.parse.quote(tag)}"
        if not fetch:
            answer = self.request("HEAD", path, oci.MANIFEST_ACCEPT, repository)
            self._expect(answer, "HEAD", path)
            digest = answer.headers.get("docker-content-digest", "")
            if digest:
                return digest, None
        answer = self.request("GET", path, oci.MANIFEST_ACCEPT, repository)
        self._expect(answer, "GET", path)
        digest = answer.headers.get("docker-content-digest", "")
        if not digest:
            return "sha256:" + hashlib.sha256(answer.body).hexdigest(), answer.body
        if not digest_matches(digest, answer.body):
            raise Mismatch(
                f"the registry's manifest {digest} does not match its digest: refused, not trusted"
            )
        return digest, answer.body

    def referrers(self, repository: str, digest: str) -> list[bytes] | None:
        """The referrers API's answer for the manifest ``digest`` (distribution-spec 1.1: ``GET
        /v2/NAME/referrers/DIGEST``): each page's body (an image index listing the referrers'
        descriptors), following ``Link`` pages (at most ``MAX_REFERRER_PAGES``, a note says when
        cut); None when the registry does not offer the API: it answers ``404`` (as the spec has
        a registry without it answer), or anything but ``200`` on the first page."""
        pages: list[bytes] = []
        path = f"/v2/{repository}/referrers/{urllib.parse.quote(digest, safe=':')}"
        what = f"the referrers list of {self.host}/{repository}@{digest}"
        for answer, _ in self._pages(path, repository, what):
            if status_of(answer.status) is not Status.OK:
                return pages or None
            pages.append(answer.body)
            if len(pages) >= MAX_REFERRER_PAGES and _next_page(answer.headers.get("link", "")):
                self._note("registry_cut", f"{what} was cut short: over {MAX_REFERRER_PAGES} pages")
                break
        return pages

    def manifest(self, repository: str, digest: str) -> bytes:
        return self._content(repository, f"/v2/{repository}/manifests/{digest}", digest, "manifest")

    def blob(self, repository: str, digest: str) -> bytes:
        return self._content(repository, f"/v2/{repository}/blobs/{digest}", digest, "config")

    @contextlib.contextmanager
    def blob_stream(self, repository: str, digest: str, size: int) -> Iterator[IO[bytes]]:
        """A (layer) blob as it comes, at most ``size`` bytes (its descriptor's), under a deadline
        that grows with its size (``net.http.HttpClient.stream``); the caller checks its digest.
        A ``HEAD`` first answers any ``401`` or ``429``, so the GET itself is sent once."""
        path = f"/v2/{repository}/blobs/{digest}"
        self._expect(self.request("HEAD", path, "*/*", repository), "HEAD", path)
        with self._lock:
            authorization = self._answers.get(f"repository:{repository}:pull")
        request = Request("GET", f"{self.base}{path}", size, self._headers("*/*", authorization))
        with (
            self._failures("GET", path, f"is more than its descriptor's {size:,} bytes"),
            self.http.stream(request) as answer,
        ):
            self._expect(answer, "GET", path)
            if answer.stream is None:  # pragma: no cover - a 200 answer is always streamed
                raise SourceUnavailable(f"The registry at {self.base} sent no body for {path}.")
            yield answer.stream

    def _content(self, repository: str, path: str, digest: str, what: str) -> bytes:
        """A manifest or config fetched by its digest, refused unless its bytes hash to it."""
        accept = oci.MANIFEST_ACCEPT if what == "manifest" else "*/*"
        answer = self.request("GET", path, accept, repository)
        self._expect(answer, "GET", path)
        if not digest_matches(digest, answer.body):
            raise Mismatch(f"the registry's {what} {digest} does not match its digest: refused, not trusted")
        return answer.body

    def _expect(self, answer: Answer, method: str, path: str) -> None:
        status = status_of(answer.status)
        if status is Status.GONE:
            raise Missing(f"{path} is gone from the registry")
        if status is Status.FORBIDDEN:
            raise SourceUnavailable(f"The registry at {self.base} refuses {method} {path} (403).")
        if status is not Status.OK:
            hint = Hint.TRY_SAMPLE if status is Status.SERVER else None
            raise SourceUnavailable(
                f"The registry at {self.base} answered {answer.status} to {method} {path}.", hint=hint
            )

    def _json(self, answer: Answer, path: str) -> Mapping[str, Any]:
        self._expect(answer, "GET", path)
        try:
            found = json.loads(answer.body)
        except (ValueError, RecursionError) as error:
            raise SourceUnavailable(
                f"The registry at {self.base} sent something that is not JSON for {path}: is it a registry?",
                hint=Hint.TRY_SAMPLE,
            ) from error
        return found if isinstance(found, Mapping) else {}

    # ------------------------------------------------------- credentials, 429, redirects

    def request(self, method: str, path: str, accept: str, repository: str | None) -> Answer:
        """One request, answered: 401s with credentials (once more after a refusal), 429s
        waited out (bounded). 401 and 403 are returned for the caller to word (catalog)."""
        scope = f"repository:{repository}:pull" if repository else "registry:catalog:*"
        with self._lock:
            authorization = self._answers.get(scope)
        answered = 0
        waits: list[float] = []
        while True:
            answer = self._send(method, path, accept, authorization)
            if status_of(answer.status) is Status.CHALLENGE:
                if answer.origin != self.origin:
                    # A redirect's target asks: what is stored for this registry is not for it.
                    raise SourceUnavailable(
                        f"The registry at {self.base} sent {method} {path} on to {answer.origin}, which "
                        f"asks for credentials (401); credentials for {self.host} go to {self.host} and "
                        "the token service it names, never to another host",
                    )
                challenge = answer.headers.get("www-authenticate", "")
                if not challenge:
                    raise SourceUnavailable(
                        f"The registry at {self.base} wants credentials (401) and says not how "
                        "(no WWW-Authenticate challenge)",
                        hint=Hint.TRY_SAMPLE,
                    )
                auth = self._credentials()
                if answered >= 2:
                    if repository is None:
                        return answer  # the catalog: the caller says to name a repository
                    raise auth.refused(scope)
                authorization = auth.authorization(challenge, scope)
                if authorization is None:
                    raise auth.missing(scope)
                answered += 1
                with self._lock:
                    self._answers[scope] = authorization
                continue
            if status_of(answer.status) is Status.RATE_LIMITED:
                wait = retry_wait(answer.headers.get("retry-after", ""), waits)
                if len(waits) >= MAX_RETRIES or sum(waits) + wait > min(MAX_RETRY_WAIT, self.timeout):
                    raise SourceUnavailable(
                        f"The registry at {self.base} limits requests (429 Too Many Requests) and asks to "
                        f"wait {sum(waits) + wait:g} s in all; try again later",
                    )
                self._sleep(wait)
                waits.append(wait)
                continue
            return answer

    def _credentials(self) -> RegistryAuth:
        with self._lock:
            if self._auth is None:
                from image_lineage.sources.registry_auth import RegistryAuth  # noqa: PLC0415 - on a 401 only

                self._auth = RegistryAuth(self.base, timeout=self.timeout, http=self.http)
            return self._auth

    def _send(self, method: str, path: str, accept: str, authorization: str | None) -> Answer:
        """``method`` on ``path``, following redirects (credentials only to the registry itself)."""
        request = Request(method, f"{self.base}{path}", MAX_JSON_BYTES, self._headers(accept, authorization))
        larger = f"is larger than a manifest or config should be (over {MAX_JSON_BYTES // (1024 * 1024)} MiB)"
        with self._failures(method, path, larger):
            return self.http.send(request)

    @staticmethod
    def _headers(accept: str, authorization: str | None) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        if authorization:
            headers["Authorization"] = authorization
        return headers

    @contextlib.contextmanager
    def _failures(self, method: str, path: str, larger: str) -> Iterator[None]:
        """The HTTP layer's failures as one line each; ``larger`` says what an answer too large is."""
        try:
            yield
        except ExchangeFailed as error:
            raise self._unreachable(error) from error
        except AnswerTooLarge:
            raise TooLarge(f"{self.base}{path} {larger}: refused") from None
        except RequestRefused as refused:
            raise SourceUnavailable(
                f"The registry at {self.base} answered {method} {path} with {refused}"
            ) from None

    def _unreachable(self, error: ExchangeFailed) -> SourceUnavailable:
        """Why the registry could not be read, by the exception types along the cause chain."""
        fault, cause = error.fault, error.cause
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
        reason, remedy = why.get(
            fault, (getattr(cause, "strerror", None) or type(cause).__name__, "check the address")
        )
        return SourceUnavailable(
            f"Cannot reach the registry at {self.base} ({reason}); {remedy}", hint=Hint.TRY_SAMPLE
        )


def retry_wait(value: str, waits: list[float]) -> float:
    """Seconds to wait before asking again after a ``429``: what ``Retry-After`` says (seconds
    or a date), but never less than the backoff (1, 2, 4... s): a ``Retry-After: 0`` or a date
    in the past must not become a storm of requests."""
    backoff: float = FIRST_RETRY_WAIT * 2 ** len(waits)
    return max(backoff, _retry_after(value, 0.0))


def _retry_after(value: str, waited: float) -> float:
    """Seconds a 429 asks to wait: ``Retry-After`` as seconds or a date; without one, 1, 2, 4..."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    if value:
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return max(FIRST_RETRY_WAIT, waited)


def _no_repository(base: str, repository: str) -> str:
    """The line for a repository the address names and the registry does not have."""
    if ":" in repository or "@" in repository:  # registry:https://host/team/app:1
        return (
            f"The registry at {base} has no repository {repository!r}: the address names a "
            "repository, not a tag or digest; every tag of it is read"
        )
    return (
        f"The registry at {base} has no repository {repository!r}: check its name, or leave it "
        "out of the address to read every repository"
    )


def _next_page(link: str) -> str | None:
    """The path of a ``Link: </v2/_catalog?last=x&n=1000>; rel="next"`` header, if any."""
    if 'rel="next"' not in link or "<" not in link:
        return None
    target = link[link.index("<") + 1 : link.index(">")]
    parts = urllib.parse.urlsplit(target)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
