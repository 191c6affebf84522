"""Typed, immutable records of what a source scanned.

These records are the contract between the sources (which read raw API dicts,
archives or registries) and everything downstream (lineage, views, renderers).
Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, get_args

SHORT_ID_LENGTH = 12
_FRACTION = re.compile(r"(\.\d{1,6})\d*")
UNTAGGED = "<none>"

SizeKind = Literal["unpacked", "tar", "compressed"]
"""What a layer's size measures, which depends on where it was read:

* ``unpacked``: the files' bytes once unpacked, as ``docker history`` shows (engines);
* ``tar``: the uncompressed layer tar, headers included (``docker save`` archives);
* ``compressed``: the compressed blob, what a pull downloads (registries, most OCI layouts).
"""
SIZE_KINDS: tuple[SizeKind, ...] = get_args(SizeKind)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step of an image's build history (one ``docker history`` row), oldest first.

    ``empty_layer`` is True for metadata-only steps (ENV, LABEL, CMD, ...) that add
    no layer. ``created`` is None when the source gives no time.
    """

    created: datetime | None
    created_by: str
    comment: str
    size: int
    empty_layer: bool

    def identity(self) -> tuple[object, ...]:
        """What two histories must agree on, entry by entry, to share this step.

        Times to the whole second: an engine's history API gives whole seconds while the
        image config (archives, registries, engine exports) keeps fractions, and a parent
        read from one and its child from the other must still match.
        """
        created = self.created.replace(microsecond=0) if self.created else None
        return (created, self.created_by, self.comment, self.empty_layer)


@dataclass(frozen=True, slots=True)
class RunConfig:
    """How a container of the image meets the outside world, as its config says.

    ``exposed_ports`` are ``EXPOSE``'s ``PORT/PROTOCOL`` (``8888/tcp``), sorted;
    ``volumes`` the paths ``VOLUME`` declares; ``entrypoint`` and ``cmd`` the argument
    lists ``ENTRYPOINT`` and ``CMD`` left (a shell form is ``/bin/sh -c ...``), empty
    when unset; ``user`` and ``working_dir`` what ``USER`` and ``WORKDIR`` left ("":
    root, ``/``); ``env_names`` the names ``ENV`` set, never their values (a value may
    be a secret); ``stop_signal`` what ``STOPSIGNAL`` set ("": SIGTERM).
    """

    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    user: str = ""
    working_dir: str = ""
    env_names: tuple[str, ...] = ()
    stop_signal: str = ""


EvidenceKind = Literal["provenance", "annotation", "label"]
"""Where a build recorded its base: a BuildKit provenance attestation (SLSA v0.2 materials or v1
resolved dependencies), the manifest's OCI ``org.opencontainers.image.base.*`` annotations, or
the same keys as config labels (older images)."""


@dataclass(frozen=True, slots=True)
class BaseEvidence:
    """The base an image's build recorded: ``reference`` as the build named it (``team/base:1``),
    ``digest`` what that reference resolved to then (an index digest for a multi-platform base),
    ``kind`` where it was recorded. ``candidates``: the other images a provenance lists (builder
    stages, ``COPY --from``) when it does not say which is the final stage's base (``mode=min``):
    then ``reference``/``digest`` are the first, and lineage picks by layers."""

    kind: EvidenceKind
    reference: str
    digest: str
    candidates: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Image:
    """One image as a source reported it.

    ``layers`` are the uncompressed layer digests (``diff_ids``), oldest first.
    ``history`` is None when the source could not provide one; lineage then falls
    back to layers alone and marks the edges it decides as unverified.
    ``intermediate`` marks images that ``docker images`` hides (shown with ``--all``).
    ``parent_hint`` is the engine's ``Parent`` field: a hint, never the truth.
    ``found_in`` names the sources the image was read from, one short label each
    (``docker unix:///var/run/docker.sock``, ``registry registry.example.com``, ``archive
    team.tar``, ``snapshot machine.json``; ``sources.merge``); ``tags_by_source`` says which
    of ``tags`` each source gave, when the image was found in more than one.
    ``id`` is the image's identity wherever it was found: the digest of its config (which
    names its platform). ``manifest_digest`` and ``index_digest`` are the manifest that
    names that config and the multi-platform index that names the manifest, where the
    source knows them (a containerd-store engine lists images by one of them);
    ``index_platforms`` lists every platform that index names, each with whether it is
    present here. ``os``, ``architecture`` and ``variant`` are the image's own platform.
    ``size`` is what the source says the image takes (for an engine, its disk use);
    the sizes that add up along a family are the per-step ones in ``history``, which
    measure what ``size_kind`` says. ``run_config`` is None when the source recorded none
    (a snapshot written before it was read). ``base`` is the base its build recorded
    (``BaseEvidence``), None when it recorded none.
    """

    id: str
    tags: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()
    created: datetime | None = None
    size: int = 0
    os: str = ""
    architecture: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    parent_hint: str | None = None
    found_in: tuple[str, ...] = ()
    tags_by_source: tuple[tuple[str, tuple[str, ...]], ...] = ()
    layers: tuple[str, ...] = ()
    history: tuple[HistoryEntry, ...] | None = None
    intermediate: bool = False
    size_kind: SizeKind = "unpacked"
    variant: str = ""
    manifest_digest: str = ""
    index_digest: str = ""
    index_platforms: tuple[tuple[str, bool], ...] = ()
    run_config: RunConfig | None = None
    base: BaseEvidence | None = None

    @property
    def platform(self) -> str:
        """``os/architecture[/variant]``, as ``--platform`` takes it; "" when unknown."""
        if not (self.os or self.architecture):
            return ""
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)

    @property
    def short_id(self) -> str:
        """The 12 hex digits ``docker images`` shows."""
        return short_id(self.id)

    @property
    def display_name(self) -> str:
        """The first tag, or ``<none>@<short id>`` for an untagged image."""
        if self.tags:
            return self.tags[0]
        return f"{UNTAGGED}@{self.short_id}"

    @property
    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something worth telling the user about one image (or the scan when image is None)."""

    image: str | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """Where a scan came from: ``kind`` is docker, snapshot, sample, ..."""

    kind: str
    endpoint: str
    engine_version: str = ""
    scanned_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Scan:
    """Everything a source returns: the records and what went wrong reading them."""

    source: SourceInfo
    images: tuple[Image, ...]
    diagnostics: tuple[Diagnostic, ...] = ()


def short_id(image_id: str) -> str:
    """``sha256:0123456789abcdef...`` -> ``0123456789ab``."""
    return image_id.split(":", 1)[-1][:SHORT_ID_LENGTH]


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix; whole seconds when there is no fraction."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    text = moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse_time(value: object) -> datetime | None:
    """Unix seconds (list, history) or RFC 3339 with nanoseconds (inspect) -> UTC datetime.

    Anything that is no time, or a time Python cannot hold (before year 1, after 9999,
    beyond the platform's time_t), is None: these values come from files and engines.
    """
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, tz=UTC) if value > 0 else None
        if isinstance(value, str) and value and not value.startswith("0001-01-01"):
            # Python keeps microseconds; engines send nanoseconds.
            text = _FRACTION.sub(lambda m: m.group(1), value.strip()).replace("Z", "+00:00")
            moment = datetime.fromisoformat(text)
            return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None
