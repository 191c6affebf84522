"""One image reference type: registry host, repository, tag and digest, read as the docker CLI reads them.

``python:3.12``, ``docker.io/library/python:3.12`` and ``index.docker.io/library/python:3.12``
are one reference; ``localhost:5000/team/app:1`` names a registry at ``localhost:5000``
(a first component with a ``.`` or a ``:``, ``localhost``, or an upper-case letter is a host),
not the tag ``5000/team/app:1``. The grammar and the normalisation are those of the
``distribution/reference`` package the CLI uses (``ParseNormalizedNamed``, ``FamiliarString``):
a repository is lower case, a tag at most 128 word characters, a name at most 255 characters,
and a bare 64-digit hex string is an image id, not a repository. Anything else (``<none>:<none>``,
hostile text) is no reference: ``Reference.parse`` returns None and the helpers below fall back
to the text as it is, one opaque name.

Parse once, then compare ``Reference`` values (or ``same_tag``) and show ``familiar``, the way
``docker images`` names an image. No default tag is added where the CLI adds none: a name with a
digest has no tag, and ``tag_or_default`` says ``latest`` only for a bare name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from image_lineage.text import clean_text

DOCKER_HUB = "docker.io"
_LEGACY_HUB = "index.docker.io"
_OFFICIAL = "library/"
DEFAULT_TAG = "latest"
NAME_LIMIT = 255  # characters of host/repository (distribution/reference's NameTotalLengthMax)

_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?", re.ASCII
)
_REST = re.compile(
    rf"(?P<repository>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>\w[\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?",
    re.ASCII,
)
_IMAGE_ID = re.compile(r"[a-f0-9]{64}", re.ASCII)


@dataclass(frozen=True, slots=True, order=True)
class Reference:
    """An image reference, normalised: ``host`` is ``docker.io`` for Docker Hub and
    ``repository`` its full path there (``library/python``); ``tag`` and ``digest`` are ""
    when the text gives none. Equal references name the same thing."""

    host: str
    repository: str
    tag: str = ""
    digest: str = ""

    @staticmethod
    @functools.lru_cache(maxsize=4096)  # a scan's tags are compared many times over
    def parse(text: str) -> Reference | None:
        """The reference ``text`` names, or None when it names none (the CLI would refuse it)."""
        if len(text) > 2 * NAME_LIMIT + 200 or _IMAGE_ID.fullmatch(text):
            return None
        first, slash, remainder = text.partition("/")
        if slash and _looks_like_host(first):
            host, rest = first, remainder
            if not _HOST.fullmatch(host):
                return None
        else:
            host, rest = DOCKER_HUB, text
        match = _REST.fullmatch(rest)
        if match is None:
            return None
        host = DOCKER_HUB if host == _LEGACY_HUB else host
        repository = match["repository"]
        if host == DOCKER_HUB and "/" not in repository:
            repository = _OFFICIAL + repository
        if len(host) + 1 + len(repository) > NAME_LIMIT:
            return None
        return Reference(host, repository, match["tag"] or "", match["digest"] or "")

    @property
    def name(self) -> str:
        """``docker.io/library/python``: host and repository, fully spelled."""
        return f"{self.host}/{self.repository}"

    @property
    def familiar_path(self) -> str:
        """The repository as ``docker images`` shows it, without the host: Docker Hub's official
        images lose ``library/`` (``python``); every other path is kept as it is."""
        if self.host == DOCKER_HUB and self.repository.startswith(_OFFICIAL):
            rest = self.repository.removeprefix(_OFFICIAL)
            return rest if "/" not in rest else self.repository
        return self.repository

    @property
    def familiar_repository(self) -> str:
        """``python``, ``jupyter/base-notebook``, ``localhost:5000/team/app``.

        A Docker Hub path whose first component would read as a host (``docker.io/a.b/c``,
        which Docker Hub does not allow but a file can say) keeps its host, so that the
        familiar form still names the same repository.
        """
        if self.host != DOCKER_HUB:
            return f"{self.host}/{self.familiar_path}"
        first, slash, _ = self.familiar_path.partition("/")
        return self.name if slash and _looks_like_host(first) else self.familiar_path

    @property
    def suffix(self) -> str:
        """What follows the repository: ``:3.12``, ``@sha256:...``, ``:3.12@sha256:...`` or ""."""
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    @property
    def familiar(self) -> str:
        """The reference as ``docker images`` names it: ``python:3.12``, ``localhost:5000/app:1``."""
        return self.familiar_repository + self.suffix

    @property
    def tag_or_default(self) -> str:
        """The tag, or ``latest`` where the CLI adds it (a bare name, no tag and no digest)."""
        return self.tag or ("" if self.digest else DEFAULT_TAG)

    def __str__(self) -> str:
        return self.name + self.suffix


def _looks_like_host(component: str) -> bool:
    """Whether the CLI reads a name's first component as a registry host, not a path."""
    return "." in component or ":" in component or component == "localhost" or component.lower() != component


def familiar(text: str) -> str:
    """``docker.io/library/x:1`` -> ``x:1``, ``docker.io/a/b:1`` -> ``a/b:1``, as ``docker images``
    shows names; text that is no reference is returned as it is."""
    found = Reference.parse(text)
    return found.familiar if found else text


def repository(text: str) -> str:
    """``host:5000/team/app:1`` -> ``host:5000/team/app`` (a registry port is not a tag),
    ``docker.io/library/python:3`` -> ``python``; text that is no reference is its own repository."""
    found = Reference.parse(text)
    return found.familiar_repository if found else text


def split_tag(text: str) -> tuple[str, str]:
    """``repo/name:tag`` -> (``repo/name``, ``:tag``), the name as written; text that is no
    reference, or has neither tag nor digest, is all name."""
    found = Reference.parse(text)
    suffix = found.suffix if found else ""
    return (text[: len(text) - len(suffix)], suffix) if suffix else (text, "")


def same_tag(one: str, other: str) -> bool:
    """Whether two names are the same repository:tag, whichever registry keeps them.

    ``base:1``, ``docker.io/library/base:1`` and ``127.0.0.1:5000/base:1`` are the same tag:
    an image pulled from a registry and tagged for the local engine keeps its path and tag.
    ``team/base:1`` and ``base:1`` are not; a digest is not compared. ``base`` is ``base:latest``.
    """
    first, second = Reference.parse(one.strip()), Reference.parse(other.strip())
    return (
        first is not None
        and second is not None
        and bool(first.tag_or_default)
        and (first.familiar_path, first.tag_or_default) == (second.familiar_path, second.tag_or_default)
    )


def digest_of(text: str) -> str:
    """The digest a repo digest names (``python@sha256:...`` -> ``sha256:...``); text that is no
    reference is taken as the digest itself."""
    found = Reference.parse(text)
    return found.digest if found and found.digest else text.rpartition("@")[2]


def shown(text: str, limit: int | None = None) -> str:
    """A name made safe to show: its familiar form, or the text cleaned (control characters,
    bidi overrides and what XML refuses replaced) and bounded when it is no reference."""
    return clean_text(familiar(text), limit)
