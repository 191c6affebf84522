"""Read an engine on the containerd image store: one record per platform, keyed by config digest.

There (``docs/modern-engines.md``) an image's ``Id`` is its index or manifest digest, no
answer names a config digest, one id holds several platforms, and sizes mean something
else. So, for each listed id:

* the engine's export (``export.py``) gives every platform's manifest and config: the
  identity (the config digest, as on the classic store and in archives), the layers and
  the history with exact ``empty_layer`` flags, and the compressed blob sizes. It is
  read once per id, ever: the facts are cached by the id, a content digest;
* ``Manifests[]`` (``manifests=1``, API >= 1.47) says which platforms are present, and
  what each takes on disk;
* the history (``platform=`` per platform, API >= 1.48; else the one platform the
  engine answers for, found by its inspect) gives the unpacked sizes ``docker history``
  shows. A platform the engine has not unpacked has none: every image of that platform
  then gets its compressed blob sizes, so that sizes still add up along a family.

Attestations are never records. Only GET requests are sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any

from image_lineage.cache import DetailsCache, FactsCache, default_cache_dir
from image_lineage.model import Diagnostic, Image, SizeKind
from image_lineage.net.pool import counter, fetch_all
from image_lineage.sources import oci
from image_lineage.sources.base import Progress
from image_lineage.sources.engine import transport
from image_lineage.sources.engine.export import Exported, ExportedPlatform, read_export
from image_lineage.sources.engine_api import (
    Listed,
    api_at_least,
    image_from_containerd,
    listed_platforms,
    listed_size,
    platform_name,
    platform_query,
    unpacked_layer_sizes,
)

#: From these API versions an engine honours ``manifests=1`` on the list, ``platform=`` on history.
MANIFESTS_API = "1.47"
PLATFORM_HISTORY_API = "1.48"

Summaries = list[tuple[Mapping[str, Any], bool]]


@dataclass(frozen=True, slots=True)
class _Present:
    """One platform of one listed image, present on the engine, with what is known of its sizes."""

    summary: Mapping[str, Any]
    intermediate: bool
    exported: Exported
    platform: ExportedPlatform
    listed: Listed | None
    unpacked: list[int] | None


def scan(
    client: transport.Transport,
    summaries: Summaries,
    *,
    api: str,
    version: str,
    kind: str,
    use_cache: bool,
    progress: Progress | None,
) -> tuple[tuple[Image, ...], tuple[Diagnostic, ...]]:
    """Records (one per present platform) and diagnostics for ``summaries`` listed by ``client``."""
    notes = [
        Diagnostic(
            None,
            "engine_store",
            f"Engine {version} (API {api}) uses the containerd image store: images are named by "
            "their config digests, read from the engine's export (docker save) once per image and cached",
        )
    ]
    ids = list(dict.fromkeys(str(summary.get("Id", "")) for summary, _ in summaries))
    facts = FactsCache(default_cache_dir(), f"{kind}-export") if use_cache else None
    histories = DetailsCache(default_cache_dir(), f"{kind}-history") if use_cache else None
    with facts or nullcontext(), histories or nullcontext():
        listed = {str(summary.get("Id", "")): listed_size(summary) for summary, _ in summaries}
        exports = _exports(client, ids, facts, progress, notes, sizes=listed)
        present = _present(summaries, exports)
        sized = _sizes(client, present, api, histories, notes)
    images: dict[str, Image] = {}
    for platform, kind_ in _size_kinds(sized, api, notes).items():
        for item in (p for p in sized if p.platform.platform == platform):
            sizes = (
                item.unpacked
                if kind_ == "unpacked" and item.unpacked is not None
                else item.platform.layer_sizes
            )
            oci.add_image(images, _record(item, list(sizes), kind_))
    return tuple(images[k] for k in sorted(images)), tuple(notes)


def _record(item: _Present, sizes: list[int], size_kind: SizeKind) -> Image:
    listed = listed_platforms(item.summary)
    named = [
        (
            p.platform,
            (listed[p.platform].available if listed and p.platform in listed else p.config is not None),
        )
        for p in item.exported.platforms
    ]
    made = image_from_containerd(
        item.summary,
        item.platform.config_bytes,
        sizes,
        size_kind=size_kind,
        manifest_digest=item.platform.manifest_digest,
        index_digest=item.exported.index_digest,
        index_platforms=named if item.exported.index_digest else (),
        disk_size=item.listed.disk_size if item.listed else None,
        intermediate=item.intermediate,
    )
    return replace(made, base=item.platform.base) if item.platform.base else made


def _exports(
    client: transport.Transport,
    ids: list[str],
    cache: FactsCache | None,
    progress: Progress | None,
    notes: list[Diagnostic],
    *,
    sizes: Mapping[str, int],
) -> dict[str, Exported]:
    """Each id's export facts: from the cache, else from the engine's export (then cached);
    ``sizes``: each id's bytes as listed, which lengthen its export's deadline."""
    found = {
        key: e
        for key, value in (cache.get_many(ids) if cache else {}).items()
        if (e := Exported.from_json(value))
    }
    misses = [i for i in ids if i not in found]

    def export(image_id: str) -> Exported:
        return client.export(
            image_id,
            lambda stream: read_export(stream, image_id, f"the export of {image_id}"),
            size=sizes.get(image_id, 0),
        )

    fetched = fetch_all(misses, export, notes, gone=str, progress=counter(progress, len(found), len(ids)))
    if cache:
        cache.put_many({key: value.as_json() for key, value in fetched.items()})
    return found | fetched


def _present(summaries: Summaries, exports: Mapping[str, Exported]) -> list[_Present]:
    """Every platform present: ``Available`` where the list says, else whose config was exported."""
    present = []
    for summary, intermediate in summaries:
        exported = exports.get(str(summary.get("Id", "")))
        if exported is None:
            continue
        listed = listed_platforms(summary)
        for platform in exported.platforms:
            known = listed.get(platform.platform) if listed is not None else None
            if platform.config is None or (listed is not None and not (known and known.available)):
                continue
            present.append(_Present(summary, intermediate, exported, platform, known, None))
    return present


def _sizes(
    client: transport.Transport,
    present: list[_Present],
    api: str,
    cache: DetailsCache | None,
    notes: list[Diagnostic],
) -> list[_Present]:
    """Each present platform with the unpacked sizes its history gives, where it gives them."""
    if api_at_least(api, PLATFORM_HISTORY_API):
        return _sizes_per_platform(client, present, cache, notes)
    return _sizes_of_default_platform(client, present, api, cache, notes)


def _sizes_per_platform(
    client: transport.Transport, present: list[_Present], cache: DetailsCache | None, notes: list[Diagnostic]
) -> list[_Present]:
    """API >= 1.48: ``history?platform=`` per platform; cached by manifest digest once it has sizes."""
    keys = {p.platform.manifest_digest: p for p in present if not (p.listed and p.listed.unpacked == 0)}
    cached = {k: history for k, (_, history) in (cache.get_many(keys) if cache else {}).items()}
    misses = [k for k in keys if k not in cached]

    def history(manifest: str) -> list[dict[str, Any]]:
        item = keys[manifest]
        return client.history(str(item.summary.get("Id")), platform_query(item.platform.platform))

    fetched = fetch_all(misses, history, notes, gone=lambda m: keys[m].platform.manifest_digest)
    answers = cached | fetched
    sized = []
    for item in present:
        answer = answers.get(item.platform.manifest_digest)
        sizes = unpacked_layer_sizes(item.platform.config_bytes, answer)
        if sizes is not None and cache and item.platform.manifest_digest in fetched:
            cache.put_many({item.platform.manifest_digest: ({}, answer or [])})
        sized.append(_with_sizes(item, sizes))
    return sized


def _sizes_of_default_platform(
    client: transport.Transport,
    present: list[_Present],
    api: str,
    cache: DetailsCache | None,
    notes: list[Diagnostic],
) -> list[_Present]:
    """API < 1.48: the engine answers inspect and history for one platform only (the host's,
    or the image's only one); its inspect says which, and the others have no unpacked sizes."""
    ids = list(dict.fromkeys(str(p.summary.get("Id")) for p in present))
    cached = cache.get_many(ids) if cache else {}
    misses = [i for i in ids if i not in cached]

    def details(image_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        inspect = client.inspect(image_id)
        kept = {
            "Os": inspect.get("Os"),
            "Architecture": inspect.get("Architecture"),
            "RootFS": inspect.get("RootFS"),
        }
        return kept, client.history(image_id)

    fetched = fetch_all(misses, details, notes, gone=str)
    if cache:
        cache.put_many(fetched)
    answers = cached | fetched
    if any(len(p.exported.platforms) > 1 for p in present):
        notes.append(
            Diagnostic(
                None,
                "platforms_hidden",
                f"API {api} answers for one platform of an image only: only the host's platform's sizes "
                "are known (the others are their compressed layer blobs, from the engine's export)",
            )
        )
    sized = []
    for item in present:
        inspect, history = answers.get(str(item.summary.get("Id")), ({}, []))
        answered = _answered_platform(inspect)
        same = answered == item.platform.platform and _layers(inspect) == _config_layers(item.platform)
        sized.append(
            _with_sizes(item, unpacked_layer_sizes(item.platform.config_bytes, history) if same else None)
        )
    return sized


def _with_sizes(item: _Present, sizes: list[int] | None) -> _Present:
    return _Present(item.summary, item.intermediate, item.exported, item.platform, item.listed, sizes)


def _answered_platform(inspect: Mapping[str, Any]) -> str:
    return platform_name(
        {
            "os": inspect.get("Os"),
            "architecture": inspect.get("Architecture"),
            "variant": inspect.get("Variant"),
        }
    )


def _layers(inspect: Mapping[str, Any]) -> list[str]:
    rootfs = inspect.get("RootFS")
    layers = rootfs.get("Layers") if isinstance(rootfs, Mapping) else None
    return [d for d in layers if isinstance(d, str)] if isinstance(layers, list) else []


def _config_layers(platform: ExportedPlatform) -> list[str]:
    try:
        config = json.loads(platform.config_bytes)
    except ValueError:
        return []
    rootfs = config.get("rootfs") if isinstance(config, Mapping) else None
    ids = rootfs.get("diff_ids") if isinstance(rootfs, Mapping) else None
    return [d for d in ids if isinstance(d, str)] if isinstance(ids, list) else []


def _size_kinds(sized: Sequence[_Present], api: str, notes: list[Diagnostic]) -> dict[str, SizeKind]:
    """Per platform: unpacked sizes when the engine gave them for every image of it, else compressed.

    One kind per platform, so that a child's size is its parent's plus what it adds in
    the same unit: mixing a base's compressed sizes with a child's unpacked ones would not.
    """
    kinds: dict[str, SizeKind] = {}
    for platform in sorted({p.platform.platform for p in sized}):
        unknown = [p for p in sized if p.platform.platform == platform and p.unpacked is None]
        kinds[platform] = "compressed" if unknown else "unpacked"
        if unknown:
            notes.append(
                Diagnostic(
                    None,
                    "compressed_sizes",
                    f"{platform or 'an unnamed platform'}: the engine gives no unpacked size for "
                    f"{len(unknown)} of its images (not unpacked here, or API {api} cannot show them): "
                    "sizes on this platform are the compressed layer blobs",
                )
            )
    return kinds
