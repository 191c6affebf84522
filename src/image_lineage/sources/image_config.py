"""The one place where an image *config* (the JSON a ``docker save`` archive, an OCI layout
or a registry holds) becomes an ``Image`` record.

An engine's API answers are read in ``engine_api.py``; configs are another shape of the
same facts: ``rootfs.diff_ids``, ``history`` with exact ``empty_layer`` flags, ``config``.
The image id is the digest of the config's bytes, as engines compute it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from image_lineage.errors import LineageError
from image_lineage.model import HistoryEntry, Image, RunConfig, parse_time


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) else ""


def _list(item: Mapping[str, Any], key: str) -> list[Any]:
    value = item.get(key)
    return value if isinstance(value, list) else []


def _object(item: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = item.get(key)
    return value if isinstance(value, Mapping) else {}


def _keys(item: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """The keys of an object such as ``{"8888/tcp": {}}``, sorted."""
    return tuple(sorted(str(k) for k in _object(item, key)))


def _arguments(item: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """An argument list (``["python", "app.py"]``); an old engine's bare string is one argument."""
    value = item.get(key)
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def run_config(config: object) -> RunConfig | None:
    """An image config's ``config`` object (an engine's inspect ``Config``) -> ``RunConfig``.

    Environment values are never kept, only the names (``PATH=/x`` or ``PATH`` -> ``PATH``).
    None when ``config`` is no object (the source gave none).
    """
    if not isinstance(config, Mapping):
        return None
    env = (v.split("=", 1)[0] for v in _list(config, "Env") if isinstance(v, str))
    return RunConfig(
        exposed_ports=_keys(config, "ExposedPorts"),
        volumes=_keys(config, "Volumes"),
        entrypoint=_arguments(config, "Entrypoint"),
        cmd=_arguments(config, "Cmd"),
        user=_text(config, "User"),
        working_dir=_text(config, "WorkingDir"),
        env_names=tuple(dict.fromkeys(name for name in env if name)),
        stop_signal=_text(config, "StopSignal"),
    )


def image_from_config(
    raw: bytes,
    tags: Sequence[str],
    sizes: Sequence[int],
    origin: str,
    failure: type[LineageError] = LineageError,
) -> Image:
    """An image config (``rootfs``, ``history``, ``config``) -> a record; sizes per layer.

    ``failure`` is the error to raise for a config that is not one (the source's own).

    The config's ``empty_layer`` flags say exactly which history steps made a layer, so
    the k-th step with a layer gets the k-th layer's size.
    """
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise failure(f"{origin}: an image config is not valid JSON.") from error
    if not isinstance(config, Mapping):
        raise failure(f"{origin}: an image config should be an object.")
    layers = tuple(d for d in _list(_object(config, "rootfs"), "diff_ids") if isinstance(d, str))
    layer_sizes = iter(sizes)
    entries = []
    for item in _list(config, "history"):
        if not isinstance(item, Mapping):
            continue
        empty = item.get("empty_layer") is True
        entries.append(
            HistoryEntry(
                created=parse_time(item.get("created")),
                created_by=_text(item, "created_by"),
                comment=_text(item, "comment"),
                size=0 if empty else max(0, int(next(layer_sizes, 0))),
                empty_layer=empty,
            )
        )
    labels = _object(_object(config, "config"), "Labels")
    return Image(
        id="sha256:" + hashlib.sha256(raw).hexdigest(),
        tags=tuple(sorted(set(tags))),
        created=parse_time(config.get("created")),
        size=sum(max(0, int(s)) for s in sizes),
        os=_text(config, "os"),
        architecture=_text(config, "architecture"),
        variant=_text(config, "variant"),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        layers=layers,
        history=tuple(entries) or None,
        run_config=run_config(_object(config, "config")),
    )
