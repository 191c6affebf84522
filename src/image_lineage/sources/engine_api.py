"""The one place where raw Docker Engine API dicts become ``Image`` records.

Handles the field differences between API 1.41 and today's engines (recorded answers
and what differs: ``tests/unit/fixtures/`` and ``docs/modern-engines.md``): untagged
images as ``[]`` or ``<none>:<none>``, missing ``Parent``/``Comment``, nanosecond
timestamps, ``null`` labels, and history returned newest first. Every read is a ``.get()``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from image_lineage.errors import SourceUnavailable
from image_lineage.instructions import parse as parse_instruction
from image_lineage.model import BaseEvidence, HistoryEntry, Image, SizeKind, parse_time
from image_lineage.sources.image_config import image_from_config, run_config

_NO_TAG = "<none>:<none>"
_NO_DIGEST = "<none>@<none>"
# Instructions that only change the config: no builder ever gives them a layer. The legacy
# builder writes "/bin/sh -c #(nop) ENV ..."; BuildKit and buildah write the bare instruction.
# WORKDIR is not here: the legacy builder commits a container for it (a layer, often empty),
# and BuildKit makes a layer when it creates the directory.
_METADATA_INSTRUCTIONS = re.compile(
    r"^(/bin/sh -c #\(nop\)\s*)?(ENV|LABEL|CMD|ENTRYPOINT|EXPOSE|USER|VOLUME|"
    r"STOPSIGNAL|HEALTHCHECK|SHELL|ARG|ONBUILD|MAINTAINER)\b",
)
# The diff id of an empty tar: the legacy builder's layer for a step that changed no file.
EMPTY_LAYER_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
#: The most rows x layers ``assign_layers`` searches: a real image has at most a few
#: hundred rows and 127 layers (overlayfs' limit); an engine's 40,000 rows over 6,000
#: layers would take 1.9 GB and minutes.
MAX_SEARCH_CELLS = 500_000
_HISTORY_FIELDS = ("Id", "Created", "CreatedBy", "Comment", "Size")
_INSPECT_FIELDS = ("Id", "Created", "Size", "Os", "Architecture", "Parent", "RootFS", "Annotations")
# What a container of the image starts with (``model.RunConfig``); ``Env`` is cached as names only.
_RUN_FIELDS = ("ExposedPorts", "Volumes", "Entrypoint", "Cmd", "User", "WorkingDir", "StopSignal")

RawDict = Mapping[str, Any]


def _strings(values: object, *, drop: str) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(sorted({v for v in values if isinstance(v, str) and v and v != drop}))


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def listed_size(summary: RawDict) -> int:
    """The bytes an image list's entry gives (0 when it gives no positive whole number)."""
    return _int(summary.get("Size"))


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def is_metadata_instruction(created_by: str) -> bool:
    """True for steps (ENV, LABEL, CMD, ...) that never make a layer, whatever the builder."""
    return parse_instruction(created_by).metadata_only


def parse_history(
    raw: Sequence[RawDict], layers: Sequence[str], layer_counts: Mapping[str, int] | None = None
) -> tuple[HistoryEntry, ...]:
    """API history (newest first) -> entries oldest first, with ``empty_layer`` decided.

    The API says how big each step is but not whether it made a layer; see
    ``assign_layers`` for how that is decided. ``layer_counts`` (image id -> number of
    layers) pins it down exactly where a row's ``Id`` is a local image: the legacy
    builder leaves one per step, and its layer count is the count after that step.
    """
    rows = _history_rows(raw)
    has_layer, _ = _assigned(rows, layers, layer_counts)
    return tuple(
        _history_entry(created, created_by, comment, size, not layer)
        for (created, created_by, comment, size, _), layer in zip(rows, has_layer, strict=True)
    )


def history_ids(raw: Sequence[RawDict]) -> list[str]:
    """The local image ids a history names (``<missing>`` rows name none), oldest first."""
    return [row_id for *_, row_id in _history_rows(raw) if row_id]


def layers_are_ambiguous(
    raw: Sequence[RawDict], layers: Sequence[str], layer_counts: Mapping[str, int] | None = None
) -> bool:
    """True when the history fits the layers in more than one way, even with ``layer_counts``."""
    return _assigned(_history_rows(raw), layers, layer_counts)[1]


def _assigned(
    rows: Sequence[tuple[object, str, str, int, str]],
    layers: Sequence[str],
    layer_counts: Mapping[str, int] | None,
) -> tuple[Sequence[bool], bool]:
    """``assign_layers`` for ``_history_rows``, with what ``layer_counts`` pins down.

    "All the layers after the last row" pins nothing (every loaded or pulled image's last
    row names the image itself): left out, the common cases are decided by counting, not by
    the search, with the same answer.
    """
    counts = layer_counts or {}
    after = {index: counts[row_id] for index, (*_, row_id) in enumerate(rows) if row_id in counts}
    if after.get(len(rows) - 1) == len(layers):
        del after[len(rows) - 1]
    steps = tuple((size, created_by) for _, created_by, _, size, _ in rows)
    return _assign_once(steps, tuple(layers), tuple(after.items()))


@functools.lru_cache(maxsize=1 << 14)
def _assign_once(
    rows: tuple[tuple[int, str], ...], layers: tuple[str, ...], after: tuple[tuple[int, int], ...]
) -> tuple[tuple[bool, ...], bool]:
    """``assign_layers``, once per distinct question: a scan asks each image's twice (whether it
    is ambiguous, then its history)."""
    chosen, ambiguous = assign_layers(rows, layers, dict(after))
    return tuple(chosen), ambiguous


def _history_rows(raw: Sequence[RawDict]) -> list[tuple[object, str, str, int, str]]:
    """(created, created_by, comment, size, local id or "") per entry, oldest first."""
    return [
        (
            created if isinstance(created := entry.get("Created"), int | float | str) else None,
            _str(entry.get("CreatedBy")),
            _str(entry.get("Comment")),
            _int(entry.get("Size")),
            row_id if (row_id := _str(entry.get("Id"))).startswith("sha256:") and "<" not in row_id else "",
        )
        for entry in reversed(raw)
        if isinstance(entry, Mapping)
    ]


def assign_layers(
    rows: Sequence[tuple[int, str]], layers: Sequence[str], layers_after: Mapping[int, int] | None = None
) -> tuple[list[bool], bool]:
    """Which history rows (``(size, created_by)``, oldest first) made the image's layers.

    Returns one flag per row and whether the answer was ambiguous. What is known:
    a row with a size made a layer, and not an empty one; a metadata instruction made
    none; any other row of size 0 (WORKDIR, a COPY of empty files, a RUN that changed
    nothing) may or may not have made one — the legacy builder drops a step's layer when
    it is empty, BuildKit too, an importer may keep it. The number of layers fixes how
    many of those did; a layer whose diff id is the empty tar's can only come from such
    a row; ``layers_after`` (row index -> layers so far) pins rows down exactly. When
    several assignments still fit, the oldest rows are taken first and the caller is
    told. When none fits (the history disagrees with the layers), sized rows and then
    the oldest size-0 rows are taken until the counts agree; the same, reported ambiguous,
    when rows x layers exceeds ``MAX_SEARCH_CELLS`` (bounded work for any answer).
    """
    known = [size > 0 for size, _ in rows]
    maybe = [size == 0 and not is_metadata_instruction(created_by) for size, created_by in rows]
    wanted = len(layers) - sum(known)
    if not layers_after and 0 <= wanted <= sum(maybe) and wanted in {0, sum(maybe)}:
        # The common cases, decided by counting alone.
        chosen = [k or (m and wanted > 0) for k, m in zip(known, maybe, strict=True)]
        if _fits(chosen, rows, layers):
            return chosen, False
    # The search is rows x layers; past its budget (no real image comes near) the
    # fallback's guess, said to be one.
    searchable = (len(rows) + 1) * (len(layers) + 1) <= MAX_SEARCH_CELLS
    found = _assign_by_search(known, maybe, layers, layers_after or {}) if searchable else None
    if found is not None:
        return found
    fallback = list(known)
    for index, may in enumerate(maybe):
        if wanted <= 0:
            break
        if may:
            fallback[index] = True
            wanted -= 1
    return fallback, not searchable


def _fits(chosen: Sequence[bool], rows: Sequence[tuple[int, str]], layers: Sequence[str]) -> bool:
    """A sized row cannot have made the empty layer."""
    paired = (size for (size, _), layer in zip(rows, chosen, strict=True) if layer)
    return all(
        not (size > 0 and diff_id == EMPTY_LAYER_DIFF_ID)
        for size, diff_id in zip(paired, layers, strict=False)
    )


def _assign_by_search(
    known: Sequence[bool], maybe: Sequence[bool], layers: Sequence[str], layers_after: Mapping[int, int]
) -> tuple[list[bool], bool] | None:
    """Count the assignments of rows to layers (up to two) and return the oldest-first one.

    ``ways[i][j]``: how many ways rows ``i..`` can make layers ``j..`` (capped at 2).
    Rows times layers steps: a few hundred for a real image.
    """
    rows, count = len(known), len(layers)
    ways = [[0] * (count + 1) for _ in range(rows + 1)]
    ways[rows][count] = 1
    for i in range(rows - 1, -1, -1):
        if i in layers_after:  # after row i, exactly this many layers
            ways[i + 1] = [w if j == layers_after[i] else 0 for j, w in enumerate(ways[i + 1])]
        for j in range(count + 1):
            skip = ways[i + 1][j]
            take = ways[i + 1][j + 1] if j < count else 0
            if known[i]:
                total = take if j < count and layers[j] != EMPTY_LAYER_DIFF_ID else 0
            elif maybe[i]:
                total = skip + take
            else:
                total = skip
            ways[i][j] = min(total, 2)
    if ways[0][0] == 0:
        return None
    chosen, j = [], 0
    for i in range(rows):
        take = j < count and ways[i + 1][j + 1] > 0
        if known[i] or (maybe[i] and take):
            chosen.append(True)
            j += 1
        else:
            chosen.append(False)
    return chosen, ways[0][0] > 1


@functools.lru_cache(maxsize=1 << 16)
def _history_entry(created: object, created_by: str, comment: str, size: int, empty: bool) -> HistoryEntry:
    """Children repeat their parents' history: parse each distinct entry once, share the object."""
    return HistoryEntry(parse_time(created), created_by, comment, size, empty)


def inspect_layers(inspect: RawDict) -> list[str]:
    """The layer diff ids an inspect lists (``RootFS.Layers``); none where it has no such list."""
    layers = _mapping(inspect.get("RootFS")).get("Layers")
    return [d for d in layers if isinstance(d, str)] if isinstance(layers, list) else []


def malformed_fields(inspect: RawDict) -> list[str]:
    """The fields of an inspect that are there but of the wrong type (read as absent).

    An engine never sends them so; a hostile or broken one may: ``RootFS`` a string,
    ``RootFS.Layers`` a number, ``Config`` a list.
    """
    wrong = [
        name
        for name in ("RootFS", "Config")
        if inspect.get(name) is not None and not isinstance(inspect.get(name), Mapping)
    ]
    layers = _mapping(inspect.get("RootFS")).get("Layers")
    if layers is not None and not isinstance(layers, list):
        wrong.append("RootFS.Layers")
    labels = _mapping(inspect.get("Config")).get("Labels")
    if labels is not None and not isinstance(labels, Mapping):
        wrong.append("Config.Labels")
    return wrong


def trim_inspect(inspect: RawDict) -> dict[str, Any]:
    """Only the inspect fields ``image_from_api`` reads: what is worth caching."""
    config = inspect.get("Config")
    kept = {key: inspect[key] for key in _INSPECT_FIELDS if key in inspect}
    if isinstance(config, Mapping):
        env = config.get("Env")
        kept["Config"] = {
            "Labels": config.get("Labels"),
            **{key: config[key] for key in _RUN_FIELDS if key in config},
            "Env": [v.split("=", 1)[0] for v in env if isinstance(v, str)] if isinstance(env, list) else None,
        }
    elif config is not None:  # of the wrong type: kept (it is no secret) for the diagnostic
        kept["Config"] = config if isinstance(config, int | float | bool) else type(config).__name__
    return kept


def trim_history(history: Sequence[RawDict]) -> list[dict[str, Any]]:
    """Only the history fields ``parse_history`` reads: what is worth caching."""
    return [
        {key: entry[key] for key in _HISTORY_FIELDS if key in entry}
        for entry in history
        if isinstance(entry, Mapping)
    ]


def image_from_api(
    summary: RawDict,
    inspect: RawDict,
    history: Sequence[RawDict] | None,
    *,
    intermediate: bool = False,
    layer_counts: Mapping[str, int] | None = None,
) -> Image:
    """Build one record from ``/images/json`` (summary), ``/images/{id}/json`` and history.

    Tags and digests come from the fresh summary: the cached inspect may be older
    than a re-tag. Everything else is content-addressed and never changes.
    """
    layers = tuple(inspect_layers(inspect))
    labels = _mapping(inspect.get("Config")).get("Labels") or {}
    parent = _str(inspect.get("Parent")) or _str(summary.get("ParentId"))
    # An image whose config has no history gets ``[]`` from the engine. That is no
    # history to check ancestry against (ancestry falls back to layers, unverified),
    # not an empty one: an empty history is a prefix of every other and proves nothing.
    steps = parse_history(history, layers, layer_counts) if history is not None else ()
    annotations = _mapping(inspect.get("Annotations"))  # Podman's own inspect: the manifest's
    return Image(
        id=_str(inspect.get("Id")) or _str(summary.get("Id")),
        tags=_strings(summary.get("RepoTags"), drop=_NO_TAG),
        digests=_strings(summary.get("RepoDigests"), drop=_NO_DIGEST),
        created=parse_time(inspect.get("Created")) or parse_time(summary.get("Created")),
        size=_int(inspect.get("Size")) or _int(summary.get("Size")),
        os=_str(inspect.get("Os")),
        architecture=_str(inspect.get("Architecture")),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items()))
        if isinstance(labels, Mapping)
        else (),
        parent_hint=parent or None,
        layers=layers,
        history=steps or None,
        intermediate=intermediate,
        run_config=run_config(inspect.get("Config")),
        base=_annotated_base(annotations) if annotations else None,
    )


def _annotated_base(annotations: Mapping[str, Any]) -> BaseEvidence | None:
    """The base an inspect's manifest annotations name (Podman's); the OCI code loads only then."""
    from image_lineage.sources.oci.evidence import from_annotations  # noqa: PLC0415 - Podman's only

    return from_annotations((str(key), value) for key, value in annotations.items() if isinstance(value, str))


# --------------------------------------------------------------------------- containerd image store
#
# On the containerd image store an engine lists and inspects images by their index or
# manifest digest, and no answer names the config digest, which is an image's identity
# everywhere else (docs/modern-engines.md). The configs come from the engine's own export
# (``sources/engine/export.py``); these functions read the API's side of the answer.

CONTAINERD_DRIVER_TYPE = "io.containerd.snapshotter.v1"


def image_store(info: RawDict) -> str:
    """``containerd`` when ``/info`` says the containerd image store is on, else ``classic``."""
    status = info.get("DriverStatus")
    pairs = status if isinstance(status, list) else []
    on = any(
        isinstance(pair, list)
        and len(pair) == 2
        and pair[0] == "driver-type"
        and pair[1] == CONTAINERD_DRIVER_TYPE
        for pair in pairs
    )
    return "containerd" if on else "classic"


def api_at_least(version: str, wanted: str) -> bool:
    """``version`` >= ``wanted`` for API versions such as ``1.45``; an unreadable one is not."""

    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split(".") if p.isdigit())

    return bool(parts(version)) and parts(version) >= parts(wanted)


def platform_name(platform: object) -> str:
    """An OCI platform object -> ``os/architecture[/variant]`` ("" when it names none)."""
    if not isinstance(platform, Mapping):
        return ""
    parts = (_str(platform.get("os")), _str(platform.get("architecture")), _str(platform.get("variant")))
    return "/".join(p for p in parts if p) if parts[0] and parts[1] else ""


def platform_query(platform: str) -> str:
    """``linux/arm64/v8`` -> the JSON object ``platform=`` takes (an engine refuses anything else)."""
    os_, architecture, *variant = platform.split("/")
    value = {"architecture": architecture, "os": os_} | ({"variant": variant[0]} if variant else {})
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True, slots=True)
class Listed:
    """What ``Manifests[]`` (API >= 1.47, ``manifests=1``) says about one platform of a listed image."""

    manifest_digest: str
    available: bool
    unpacked: int
    disk_size: int


def listed_platforms(summary: RawDict) -> dict[str, Listed] | None:
    """Platform -> what the list says, attestations left out; None when the engine gave no ``Manifests``."""
    manifests = summary.get("Manifests")
    if not isinstance(manifests, list):
        return None
    found: dict[str, Listed] = {}
    for entry in manifests:
        if not isinstance(entry, Mapping) or entry.get("Kind") != "image":
            continue
        data = _mapping(entry.get("ImageData"))
        name = platform_name(data.get("Platform"))
        unpacked = _mapping(data.get("Size")).get("Unpacked")
        total = _mapping(entry.get("Size")).get("Total")
        if name:
            found[name] = Listed(
                _str(entry.get("ID")),
                entry.get("Available") is True,
                _int(unpacked),
                _int(total),
            )
    return found


def unpacked_layer_sizes(config: bytes, history: Sequence[RawDict] | None) -> list[int] | None:
    """The engine's history sizes (unpacked, on disk) of the config's steps that made a layer.

    The config's ``empty_layer`` flags say which steps made a layer; the API's history
    has one row per config step (newest first), so the two pair up exactly, with no
    guessing. None when they do not pair up or the engine knows no size (a platform it
    has not unpacked answers 0 for every layer): the caller falls back to blob sizes.
    """
    if history is None:
        return None
    steps = _config_steps(config)
    rows = [entry for entry in reversed(history) if isinstance(entry, Mapping)]
    if steps is None or len(rows) != len(steps):
        return None
    sizes = [_int(row.get("Size")) for row, empty in zip(rows, steps, strict=True) if not empty]
    return sizes if any(sizes) or not sizes else None


def _config_steps(config: bytes) -> list[bool] | None:
    """Each config history step's ``empty_layer`` flag, oldest first (None: not a config)."""
    try:
        parsed = json.loads(config)
    except (ValueError, RecursionError):
        return None
    history = parsed.get("history") if isinstance(parsed, Mapping) else None
    if not isinstance(history, list):
        return None
    return [isinstance(step, Mapping) and step.get("empty_layer") is True for step in history]


def image_from_containerd(
    summary: RawDict,
    config: bytes,
    layer_sizes: Sequence[int],
    *,
    size_kind: SizeKind,
    manifest_digest: str,
    index_digest: str,
    index_platforms: Sequence[tuple[str, bool]],
    disk_size: int | None,
    intermediate: bool = False,
) -> Image:
    """One platform of an image on the containerd store: its config, the list's names and sizes.

    The config (from the engine's export) gives the identity (its digest), layers and
    history with exact ``empty_layer`` flags; ``layer_sizes`` measure what ``size_kind``
    says. Tags, digests and the disk use come from the fresh list: ``disk_size`` is that
    platform's ``Size.Total`` where ``Manifests[]`` gives it, else the list's ``Size``
    for the whole image (every platform).
    """
    image = image_from_config(config, (), layer_sizes, "the engine's export", SourceUnavailable)
    return replace(
        image,
        tags=_strings(summary.get("RepoTags"), drop=_NO_TAG),
        digests=_strings(summary.get("RepoDigests"), drop=_NO_DIGEST),
        size=disk_size if disk_size is not None else _int(summary.get("Size")),
        size_kind=size_kind,
        variant=_config_variant(config),
        manifest_digest=manifest_digest,
        index_digest=index_digest,
        index_platforms=tuple(sorted(index_platforms)),
        intermediate=intermediate,
    )


def _config_variant(config: bytes) -> str:
    try:
        parsed = json.loads(config)
    except (ValueError, RecursionError):
        return ""
    return _str(parsed.get("variant")) if isinstance(parsed, Mapping) else ""
