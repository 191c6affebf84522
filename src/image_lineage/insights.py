"""Pure summaries of a lineage, for people: what the web page shows beside the tree.

* ``disk_usage``: what ``docker images`` suggests (every size added up) against the
  disk the images really take (each layer stored once, as the engine stores them).
* ``layer_rows``: one image's steps, oldest first, with the ancestor that made each.
* ``size_split``: one image's size split by ancestor (base, each level, itself).
* ``dockerfile``: a Dockerfile reconstructed from one image's own history steps.
* ``newer_build``: whether one of the image's bases (or the image itself) has been
  rebuilt since, judged from the same build steps giving different layers (the search
  is ``stale.rebuilds``, which ``stale.stale_images`` runs for every image).

Everything here reads a ``Lineage`` and returns plain data; nothing does I/O.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from image_lineage.instructions import parse as parse_instruction
from image_lineage.lineage import Lineage, Node, describe
from image_lineage.reference import repository
from image_lineage.stale import rebuilds
from image_lineage.text import clean_text, human_size

INSTRUCTION_LIMIT = 4000

# --------------------------------------------------------------------------- disk


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """Sizes of a set of images: added up naively, and with shared layers counted once.

    ``exact`` is False when an image without a history made some layer sizes guesses.
    """

    images: int
    naive: int
    shared: int
    exact: bool = True

    @property
    def saved(self) -> int:
        return self.naive - self.shared


def disk_usage(lineage: Lineage) -> DiskUsage:
    """``docker images`` sizes added up, and the disk the same images really share.

    The engine stores a layer once per *chain* (the layer and every layer below it),
    so two images share a layer when they agree on it and on everything beneath it.
    """
    sizes: dict[str, int] = {}
    guesses: dict[str, int] = {}
    naive = 0
    for node in lineage.nodes():
        naive += node.image.size
        chain = list(_chain_sizes(node))
        if node.image.history is not None:
            sizes.update(chain)
            continue
        # No history, so no size per layer: charge what the known layers do not
        # explain to the image's top layer.
        known = sum(sizes.get(key, 0) for key, _ in chain)
        if chain:
            top = chain[-1][0]
            guesses[top] = max(guesses.get(top, 0), node.image.size - known)
    unexplained = {key: size for key, size in guesses.items() if key not in sizes}
    shared = sum(sizes.values()) + sum(unexplained.values())
    return DiskUsage(len(lineage), naive, shared, exact=not unexplained)


def _chain_sizes(node: Node) -> Iterator[tuple[str, int]]:
    """(chain id, size) per layer of the image, oldest first."""
    chain = ""
    sizes = iter([s.size for s in node.steps if s.diff_id is not None])
    for diff_id in node.image.layers:
        chain = _chain_id(chain, diff_id)
        yield chain, next(sizes, 0)


def _chain_id(below: str, diff_id: str) -> str:
    """The engine's ChainID: the bottom layer's diff_id, then sha256 of "<below> <diff_id>"."""
    if not below:
        return diff_id
    return "sha256:" + hashlib.sha256(f"{below} {diff_id}".encode()).hexdigest()


# --------------------------------------------------------------------------- one image


@dataclass(frozen=True, slots=True)
class LayerRow:
    """One build step of an image, oldest first.

    ``instruction`` is the Dockerfile line the step came from (see ``instruction``);
    ``layer`` is False for metadata-only steps (ENV, LABEL, CMD...), which add 0 B.
    ``introduced_by`` is the id of the image whose build ran the step.
    """

    number: int
    instruction: str
    size: int
    layer: bool
    introduced_by: str
    introduced_by_name: str
    diff_id: str | None


def layer_rows(lineage: Lineage, image_id: str) -> list[LayerRow]:
    return [
        LayerRow(
            number=number,
            instruction=instruction(step.created_by, step.comment),
            size=step.size,
            layer=step.diff_id is not None,
            introduced_by=step.introduced_by,
            introduced_by_name=describe(lineage, step.introduced_by),
            diff_id=step.diff_id,
        )
        for number, step in enumerate(lineage.node(image_id).steps, start=1)
    ]


@dataclass(frozen=True, slots=True)
class SizeShare:
    """What one image of the chain adds to the size of the image being inspected."""

    image_id: str
    name: str
    size: int
    role: str  # "base", "ancestor" or "itself"


def size_split(lineage: Lineage, image_id: str) -> list[SizeShare]:
    """The image's size split by who added it: its base first, the image itself last."""
    chain = [*reversed(lineage.ancestors(image_id)), lineage.node(image_id)]
    shares = []
    for index, node in enumerate(chain):
        role = "itself" if node.id == image_id else "base" if index == 0 else "ancestor"
        shares.append(SizeShare(node.id, node.image.display_name, node.added_size, role))
    return shares


# --------------------------------------------------------------------------- Dockerfile


def instruction(created_by: str, comment: str = "") -> str:
    """The Dockerfile line a history step came from, as far as the history tells, fit to show.

    The legacy builder records ``/bin/sh -c #(nop)  ENV A=1`` for metadata steps and
    ``/bin/sh -c cmd`` for RUN; BuildKit records ``RUN /bin/sh -c cmd # buildkit``.
    A step with no recorded command (``docker import``) gives ``# <comment>``.
    (``instructions.parse`` reads them.)
    """
    return clean_text(parse_instruction(created_by, comment).line, INSTRUCTION_LIMIT)


def dockerfile(lineage: Lineage, image_id: str) -> str:
    """``FROM <parent>`` then the image's own steps, as a Dockerfile reconstructed from history.

    File contents and multi-stage builds are not in a history; ``COPY``/``ADD`` sources
    are the content hashes the legacy builder recorded. Each line is written so that the
    classic builder reads it back as the same step (see ``buildable``); build arguments
    that RUN steps recorded with another value than the ``ARG`` default are named in a
    comment, to pass with ``--build-arg``.
    """
    node = lineage.node(image_id)
    image = node.image
    lines = [f"# Reconstructed from the history of {_comment_safe(image.display_name)} ({image.id})."]
    if node.parent is None:
        lines.append("FROM scratch")
    else:
        parent = lineage.node(node.parent).image if node.parent in lineage else None
        if parent is None or not parent.tags:
            lines.append("# The parent image has no tag: FROM names it by id.")
            lines.append(f"FROM {node.parent.removeprefix('sha256:')}")
        else:
            lines.append(f"FROM {_first_word(parent.tags[0])}")
        if not node.parent_verified:
            lines.append("# (parent decided from layers alone: the images carry no history)")
    own = [s for s in node.steps if s.introduced_by == image.id]
    if not own:
        lines.append("# (no steps of its own: the same image as its parent under another id)")
    steps: list[str] = []
    for step in own:
        text = buildable(instruction(step.created_by, step.comment))
        if step.diff_id is not None and not step.created_by and image.history is None:
            text = f"# a layer of {human_size(step.size)}; the image has no history"
        steps.append(text)
    if arguments := _changed_build_args([s.created_by for s in own]):
        lines.append(f"# Built with --build-arg {' --build-arg '.join(arguments)} (its RUN steps say so).")
    return "\n".join([*lines, *steps]) + "\n"


# ---- Dockerfile lines the classic builder reads back as the recorded step

_PAIR_START = re.compile(r" (?=[^\s=\"']+=)")
_NEEDS_QUOTES = re.compile(r"[\s\"'\\$]")
_GO_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_HEALTHCHECK = re.compile(r"^&\{\[(?P<test>.*)\](?P<rest>(?: \S+)*)\}$", re.DOTALL)
_EXPOSE_MAP = re.compile(r"^map\[(?P<ports>.*)\]$")


def buildable(line: str) -> str:
    """A history instruction as Dockerfile text that builds the same step again.

    The classic builder records ``LABEL``/``ENV``/``ARG`` values unquoted (after
    substituting variables), ``CMD``/``ENTRYPOINT`` as a Go list without commas,
    ``HEALTHCHECK`` as a Go struct, ``SHELL``/``VOLUME`` as ``[a b]`` and, in older
    releases, ``EXPOSE`` as a Go map. Each is turned back into what a Dockerfile says.
    Other lines are returned as they are.
    """
    verb, _, rest = line.partition(" ")
    rewrite = _REWRITES.get(verb)
    text = rewrite(rest) if rewrite and rest else None
    return f"{verb} {text}" if text is not None else line


def _pairs(rest: str) -> str | None:
    return " ".join(_pair(pair) for pair in _PAIR_START.split(rest)) if "=" in rest else None


def _exec_form(rest: str) -> str | None:
    return _json_list(rest) if rest.startswith("[") and rest.endswith("]") else None


def _go_slice(rest: str) -> str | None:
    if rest.startswith("[") and rest.endswith("]") and '"' not in rest:
        return json.dumps(rest[1:-1].split())
    return None


def _expose(rest: str) -> str | None:
    ports = _EXPOSE_MAP.match(rest)
    return " ".join(p.removesuffix(":{}") for p in ports["ports"].split()) if ports else None


def _healthcheck_struct(rest: str) -> str | None:
    check = _HEALTHCHECK.match(rest)
    return _healthcheck(check["test"], check["rest"].split()) if check else None


def _pair(pair: str) -> str:
    """``key=value`` with the value quoted when a Dockerfile would otherwise split or expand it."""
    key, equals, value = pair.partition("=")
    if not equals or not (value == "" or _NEEDS_QUOTES.search(value)):
        return pair
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'{key}="{escaped}"'


_REWRITES: dict[str, Callable[[str], str | None]] = {
    "LABEL": _pairs,
    "ENV": _pairs,
    "ARG": _pair,
    "CMD": _exec_form,
    "ENTRYPOINT": _exec_form,
    "SHELL": _go_slice,
    "VOLUME": _go_slice,
    "EXPOSE": _expose,
    "HEALTHCHECK": _healthcheck_struct,
}


def _go_strings(text: str) -> list[str]:
    """The Go-quoted strings (``%q``) in ``text``, decoded."""
    out = []
    for quoted in _GO_STRING.findall(text):
        try:
            out.append(json.loads(quoted))
        except ValueError:  # \x.. and \a-style escapes: Python reads those like Go
            out.append(str(ast.literal_eval(quoted)))
    return out


def _json_list(text: str) -> str:
    return json.dumps(_go_strings(text))


def _healthcheck(test: str, fields: list[str]) -> str:
    """``["CMD-SHELL" "cmd"]``, ``"3s" "1s" "3s" '\\x03'`` as ``--interval=3s ... CMD cmd``."""
    words = _go_strings(test)
    if not words or words[0] == "NONE":
        return "NONE"
    options = []
    durations = [f.strip('"') for f in fields if f.startswith('"')]
    for flag, value in zip(
        ("interval", "timeout", "start-period", "start-interval"), durations, strict=False
    ):
        if value not in {"0s", ""}:
            options.append(f"--{flag}={value}")
    retries = next((f for f in fields if not f.startswith('"')), "")
    if retries:
        count = ast.literal_eval(retries) if retries.startswith("'") else retries
        number = ord(count) if isinstance(count, str) and len(count) == 1 else int(count)
        if number:
            options.append(f"--retries={number}")
    command = words[1] if words[0] == "CMD-SHELL" and len(words) == 2 else json.dumps(words[1:])
    return " ".join([*options, "CMD", command])


def _changed_build_args(created_by: list[str]) -> list[str]:
    """``NAME=value`` for each build argument a RUN step recorded with a non-default value."""
    defaults: dict[str, str | None] = {}
    changed: dict[str, str] = {}
    for text in created_by:
        step = parse_instruction(text)
        if step.kind == "ARG" and step.arguments:
            name, equals, default = step.arguments.partition("=")
            defaults[name] = default if equals else None
        for name, value in step.build_args:
            if name in defaults and defaults[name] != value:
                changed[name] = value
    return [f"{name}={value}" for name, value in changed.items()]


def _comment_safe(text: str) -> str:
    return clean_text(text, 200)


def _first_word(text: str) -> str:
    cleaned = clean_text(text, 400)
    return cleaned.split()[0] if cleaned.split() else "scratch"


# --------------------------------------------------------------------------- rebuilt bases


@dataclass(frozen=True, slots=True)
class NewerBuild:
    """A newer build of the image's base (or of the image itself) found among the images.

    It ran the same build steps as the first ``steps`` steps of the image but made
    different layers: the base was rebuilt, and the image still sits on the old one.
    ``shared_layers`` of the newer build's ``newer_layers`` layers are the image's too.
    ``older`` is the image's own ancestor (or itself) built from those steps, when shown.
    """

    image_id: str
    newer: str
    newer_name: str
    newer_created: datetime | None
    steps: int
    shared_layers: int
    newer_layers: int
    older: str | None
    older_name: str | None
    itself: bool

    @property
    def message(self) -> str:
        when = f" (built {self.newer_created:%Y-%m-%d})" if self.newer_created else ""
        overlap = f"{self.shared_layers} of its {self.newer_layers} layers"
        if self.itself:
            return (
                f"Rebuilt since: {self.newer_name}{when} ran the same build steps and shares "
                f"only {overlap} with this image."
            )
        older = f" ({self.older_name})" if self.older_name else ""
        return (
            f"Built on an older {repository(self.newer_name)}{older}: today's "
            f"{self.newer_name}{when} shares only {overlap} with it."
        )


def newer_build(lineage: Lineage, image_id: str) -> NewerBuild | None:
    """The nearest rebuilt base of the image: same build steps, different layers, built later.

    Candidates are the images of ``lineage`` of the image's platform whose history is,
    step for step, the same commands as the start of the image's history (or all of it;
    copied files and build-argument values may differ) while their layers are not a
    prefix of the image's, that share at least one layer with it, and whose first
    differing step was made later (``stale.rebuilds``). The nearest is the one with the
    most steps; ties go to a tagged, then newer image. None without a history.
    """
    image = lineage.node(image_id).image
    found = rebuilds(lineage, image_id)
    if not found:
        return None
    newer, steps, shared = found[0].newer, found[0].steps, found[0].shared_layers
    chain = [lineage.node(image_id), *lineage.ancestors(image_id)]
    older = next((n.image for n in chain if len(n.image.history or ()) == steps), None)
    return NewerBuild(
        image_id=image.id,
        newer=newer.id,
        newer_name=newer.display_name,
        newer_created=newer.created,
        steps=steps,
        shared_layers=shared,
        newer_layers=len(newer.layers),
        older=older.id if older else None,
        older_name=older.display_name if older else None,
        itself=steps == len(image.history or ()),
    )
