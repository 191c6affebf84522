"""A history step's ``created_by`` read once into the Dockerfile instruction it records.

Each builder writes it its own way (real examples: ``tests/unit/test_instructions.py``):

* the classic builder (and buildah, podman) runs every step through the shell:
  ``/bin/sh -c apt-get update`` for a RUN, ``/bin/sh -c #(nop)  ENV A=1`` for a step that ran
  nothing (any shell: ``/bin/bash -o pipefail -c #(nop) ...`` after ``SHELL``), ``/bin/sh -c #(nop)
  COPY file:<sha256> in /app/`` for a copy (content hashed, ``--chown=1000:100`` glued to the
  source), build arguments a RUN saw first (``|2 A=1 B=2 /bin/sh -c make``), and an exec-form RUN
  as its bare arguments (``echo hi``, or ``|1 A=1 echo hi``);
* BuildKit writes the instruction itself: ``RUN /bin/sh -c make # buildkit`` (``RUN |1 A=1 ...``
  with build arguments, ``RUN echo hi # buildkit`` for an exec form), ``COPY app.py /app/ # buildkit``,
  and metadata steps bare (``ENV A=1``, ``CMD ["python3"]``);
* ``docker import`` and images made from a tarball record nothing: the step's comment
  (``Imported from -``) says where it came from.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

KINDS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
        "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    }
)  # fmt: skip
# Instructions that only change the config: no builder ever gives them a layer. WORKDIR is not
# here: the classic builder commits a container for it (a layer, often empty), and BuildKit
# makes a layer when it creates the directory.
METADATA_KINDS = frozenset(
    {"ENV", "LABEL", "CMD", "ENTRYPOINT", "EXPOSE", "USER", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
    | {"ARG", "ONBUILD", "MAINTAINER"}
)

Builder = Literal["classic", "buildkit", "plain", "none"]
"""Who wrote the record: ``classic`` (a shell line, ``#(nop)`` for steps that ran nothing),
``buildkit`` (`` # buildkit`` at the end), ``plain`` (an instruction with no marker: BuildKit's
metadata steps, other builders), ``none`` (nothing recorded: an import)."""
Form = Literal["shell", "exec", ""]
"""How a RUN, CMD or ENTRYPOINT gives its command: through a shell, or as an argument list;
"" for other instructions and where the record cannot tell."""

_BUILDKIT = re.compile(r"\s*# buildkit$")
# Build arguments a RUN saw, before its command: ``|2 A=1 B=2 ``.
_BUILD_ARGS = re.compile(r"\|(?P<count>\d+)(?P<pairs>(?: [^\s=]+=\S*)*) ")
# A shell and its options up to ``-c``: ``/bin/sh -c``, ``/bin/bash -o pipefail -c``.
_SHELL = re.compile(r"(?P<shell>/\S+(?: (?!-c )\S+)* -c) (?P<command>.*)$", re.DOTALL)
_NOP = re.compile(r"#\(nop\)\s*")
# ``COPY --chown=1000:100 dir/ /x/`` is recorded as ``COPY --chown=1000:100dir:<sha> in /x/``.
_LEGACY_COPY = re.compile(
    r"^(?:(?P<flag>--chown=\S*?)(?=(?:file|dir|multi):[0-9a-f]{64} in ))?(?P<source>\S+) in (?P<dest>.+)$",
    re.DOTALL,
)
# What the classic builder and buildah record of copied content: ``file:<sha256>``.
# (No word boundary before the kind: ``--chown=1000:100dir:<sha256>`` glues them.)
CONTENT_HASH = re.compile(r"(file|dir|multi):([0-9a-f]{64})\b")


@dataclass(frozen=True, slots=True)
class Instruction:
    """One step's instruction: ``kind`` (``RUN``, ``ENV``, ``COPY``, ...; "" when the record is
    no instruction a builder writes, or there is none) and its ``arguments`` as recorded (for a
    RUN the command alone; for a classic COPY/ADD ``[--chown=...] SOURCE DEST``); ``shell`` the
    shell line a RUN went through (``/bin/sh -c``); ``build_args`` the ``KEY=value`` pairs a RUN
    recorded; ``comment`` the step's comment."""

    kind: str
    arguments: str
    form: Form = ""
    shell: str = ""
    build_args: tuple[tuple[str, str], ...] = ()
    builder: Builder = "plain"
    comment: str = ""

    @property
    def metadata_only(self) -> bool:
        """A step that only changes the config (ENV, LABEL, CMD, ...): no builder gives it a layer."""
        return self.kind in METADATA_KINDS

    @property
    def line(self) -> str:
        """The Dockerfile line the step came from, as far as the record tells (not cleaned);
        ``# <comment>`` where it tells nothing (an import, an empty ``#(nop)``)."""
        text = f"{self.kind} {self.arguments}".strip() if self.kind else self.arguments
        return text or f"# {self.comment.strip() or 'no instruction recorded'}"


@functools.lru_cache(maxsize=8192)  # histories repeat across a family: each text is read once
def parse(created_by: str, comment: str = "") -> Instruction:
    """The instruction ``created_by`` records (see the module's docstring for the forms)."""
    text = created_by.strip()
    buildkit = text.endswith("# buildkit")
    if buildkit:
        text = _BUILDKIT.sub("", text)
    if not text:
        return Instruction("", "", builder="none", comment=comment)
    builder: Builder = "buildkit" if buildkit else "plain"
    if text.startswith("RUN "):
        return _run(text.removeprefix("RUN "), builder, comment)
    if classic := _classic(text, comment):
        return classic
    kind, _, arguments = text.partition(" ")
    if kind in KINDS:
        return Instruction(kind, arguments.strip(), _form(kind, arguments), "", (), builder, comment)
    return Instruction("", text, builder=builder, comment=comment)


def _classic(text: str, comment: str) -> Instruction | None:
    """A step as the classic builder records it (a shell line, or build arguments first), or None."""
    args, rest = _build_args(text)
    if shell := _SHELL.match(rest):
        command = shell["command"]
        if not args and (nop := _NOP.match(command)):
            return _metadata(command[nop.end() :].strip(), shell["shell"], comment)
        return Instruction("RUN", command, "shell", shell["shell"], args, "classic", comment)
    if args:  # only a RUN records build arguments: this one in exec form
        return Instruction("RUN", rest, "exec", "", args, "classic", comment)
    return None


def _run(text: str, builder: Builder, comment: str) -> Instruction:
    args, rest = _build_args(text)
    if shell := _SHELL.match(rest):
        return Instruction("RUN", shell["command"], "shell", shell["shell"], args, builder, comment)
    return Instruction("RUN", rest, "exec", "", args, builder, comment)


def _build_args(text: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """The ``|N KEY=value ...`` pairs in front of a RUN's command, and the text after them."""
    if not text.startswith("|") or not (found := _BUILD_ARGS.match(text)):
        return (), text
    pairs = tuple((key, value) for key, _, value in (p.partition("=") for p in found["pairs"].split()))
    return pairs, text[found.end() :]


def _metadata(text: str, shell: str, comment: str) -> Instruction:
    """A classic ``#(nop)`` step: ``ENV A=1``, ``COPY file:<sha> in /x/``."""
    kind, _, arguments = text.partition(" ")
    arguments = arguments.strip()
    if kind in {"COPY", "ADD"} and (copy := _LEGACY_COPY.match(arguments)):
        flag = f"{copy['flag']} " if copy["flag"] else ""
        arguments = f"{flag}{copy['source']} {copy['dest'].strip()}"
    if kind not in KINDS:
        return Instruction("", text, "", shell, (), "classic", comment)
    return Instruction(kind, arguments, _form(kind, arguments), shell, (), "classic", comment)


def _form(kind: str, arguments: str) -> Form:
    if kind not in {"RUN", "CMD", "ENTRYPOINT"}:
        return ""
    return "exec" if arguments.startswith("[") else "shell"


def without_content_hashes(text: str) -> str:
    """``COPY file:<sha256> in /x`` -> ``COPY file:* in /x``: the same step with other files."""
    return CONTENT_HASH.sub(r"\1:*", text) if ":" in text else text


def short_content_hashes(text: str) -> str:
    """``COPY file:<sha256> /x`` -> ``COPY file:0123… /x``: a hash cut to its first digits."""
    return CONTENT_HASH.sub(lambda m: f"{m[1]}:{m[2][:4]}…", text) if ":" in text else text


@functools.lru_cache(maxsize=8192)
def rebuild_key(created_by: str) -> str:
    """The step with what two builds of one Dockerfile may differ in left out: the content hash of
    what a classic COPY/ADD copied (``file:*``) and the values of the build arguments a RUN saw
    (their names stay). Equal keys: the same build step. (A string: its hash is kept, and the
    rebuild index hashes every history of a scan.)"""
    step = parse(created_by)
    names = " ".join(name for name, _ in step.build_args)
    return "\x1f".join((step.builder, step.shell, names, step.kind, without_content_hashes(step.arguments)))


# A version in a command: ``3.12.7``, ``1.2-3``, ``2024.01``, ``v1.29`` (one or more dots or
# dashes between alphanumerics, a digit first); and the values of ``NAME=value`` settings.
_VERSION = re.compile(r"(?<![\w])v?\d+(?:[.\-+~]\w+)+")
_SETTING = re.compile(r"([^\s=]+)=(?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|\S*)")


@functools.lru_cache(maxsize=8192)
def target_key(created_by: str) -> str:
    """Looser than ``rebuild_key``: the instruction and what it sets or runs, without values.

    ``ENV``/``ARG``/``LABEL`` keep the names they set (``ENV PYTHON_VERSION=3.12.7`` and
    ``=3.12.6`` are one key); a ``RUN`` keeps its command with versions left out
    (``apt-get install curl=7.88.1-10`` and ``=7.88.1-11``); other steps as ``rebuild_key``. Two
    builds of one Dockerfile after a version bump have equal keys step by step.
    """
    step = parse(created_by)
    arguments = step.arguments
    if step.kind in {"ENV", "ARG", "LABEL"}:
        settings = sorted(found[1] for found in _SETTING.finditer(arguments))
        arguments = " ".join(settings) if settings else arguments.split(" ", 1)[0]
    elif step.kind == "RUN":
        arguments = _VERSION.sub("*", arguments)
    names = " ".join(name for name, _ in step.build_args)
    return "\x1f".join((step.builder, step.shell, names, step.kind, without_content_hashes(arguments)))
