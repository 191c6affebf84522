"""The one record <-> dict layer: ``Image``, ``HistoryEntry``, ``SourceInfo``, ``Diagnostic``.

Snapshots (``sources/snapshot.py``) and the JSON export (``render/json_export.py``)
write an image's fields under the same names with the same meaning, and read them
back with the same strict ``Reader``; a field added to ``Image`` is added here once.
Reading never trusts the file: anything unexpected is a ``SnapshotError`` naming the
file and the path of the bad field, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast, get_args

from image_lineage.errors import SnapshotError
from image_lineage.model import (
    SIZE_KINDS,
    BaseEvidence,
    Diagnostic,
    EvidenceKind,
    HistoryEntry,
    Image,
    RunConfig,
    SizeKind,
    SourceInfo,
    iso_utc,
    parse_time,
)

# --------------------------------------------------------------------------- writing


def source_to_dict(source: SourceInfo) -> dict[str, Any]:
    return {
        "kind": source.kind,
        "endpoint": source.endpoint,
        "engine_version": source.engine_version,
        "scanned_at": iso_utc(source.scanned_at),
    }


def diagnostic_to_dict(diagnostic: Diagnostic) -> dict[str, Any]:
    return {"image": diagnostic.image, "code": diagnostic.code, "message": diagnostic.message}


def entry_to_dict(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "created": iso_utc(entry.created),
        "created_by": entry.created_by,
        "comment": entry.comment,
        "size": entry.size,
        "empty_layer": entry.empty_layer,
    }


def history_to_list(history: tuple[HistoryEntry, ...] | None) -> list[dict[str, Any]] | None:
    return None if history is None else [entry_to_dict(entry) for entry in history]


def found_fields(image: Image) -> dict[str, Any]:
    """Where the image was found (``found_in``) and which tags each source gave
    (``tags_by_source``): written only when the image has them, so files of images that
    name no source stay as they were."""
    fields: dict[str, Any] = {}
    if image.found_in:
        fields["found_in"] = list(image.found_in)
    if image.tags_by_source:
        fields["tags_by_source"] = {label: list(tags) for label, tags in image.tags_by_source}
    return fields


def image_summary(image: Image) -> dict[str, Any]:
    """The fields a snapshot record and an exported image share, in the export's order.

    Not ``size``, ``layers`` or ``history``: the export shows computed sizes and steps
    in their place (see ``render/json_export.py``).
    """
    return (
        {
            "id": image.id,
            "tags": list(image.tags),
            "digests": list(image.digests),
            **found_fields(image),
            "created": iso_utc(image.created),
            "size_kind": image.size_kind,
            "intermediate": image.intermediate,
            "os": image.os,
            "architecture": image.architecture,
            "variant": image.variant,
            "manifest_digest": image.manifest_digest,
            "index_digest": image.index_digest,
            "index_platforms": [
                {"platform": name, "present": present} for name, present in image.index_platforms
            ],
            "labels": dict(image.labels),
            "parent_hint": image.parent_hint,
        }
        | ({} if image.run_config is None else {"run_config": run_config_to_dict(image.run_config)})
        | ({} if image.base is None else {"base": base_to_dict(image.base)})
    )


def base_to_dict(base: BaseEvidence) -> dict[str, Any]:
    """The base a build recorded (``Image.base``): written only where there is one, so older
    readers and files stay as they were."""
    found: dict[str, Any] = {"reference": base.reference, "digest": base.digest, "evidence": base.kind}
    if base.candidates:
        found["candidates"] = [{"reference": ref, "digest": digest} for ref, digest in base.candidates]
    return found


def run_config_to_dict(config: RunConfig) -> dict[str, Any]:
    """Written only for images whose source recorded it (``Image.run_config`` is not None)."""
    return {
        "exposed_ports": list(config.exposed_ports),
        "volumes": list(config.volumes),
        "entrypoint": list(config.entrypoint),
        "cmd": list(config.cmd),
        "user": config.user,
        "working_dir": config.working_dir,
        "env_names": list(config.env_names),
        "stop_signal": config.stop_signal,
    }


def image_to_dict(image: Image) -> dict[str, Any]:
    """A snapshot record: every field of the image, as the source reported it."""
    return {
        **image_summary(image),
        "size": image.size,
        "layers": list(image.layers),
        "history": history_to_list(image.history),
    }


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Reader:
    """Type-checked access to parsed JSON, with ``origin`` and the bad field's path in errors."""

    origin: str

    def fail(self, where: str, expected: str) -> SnapshotError:
        return SnapshotError(f"{self.origin}: {where} should be {expected}.")

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "an object")
        return value

    def items(self, value: object, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "a list")
        return value

    def text(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "a string")
        return value

    def count(self, value: object, where: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(where, "a whole number of bytes")
        return value

    def flag(self, value: object, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, "true or false")
        return value

    def texts(self, value: object, where: str) -> tuple[str, ...]:
        return tuple(self.text(v, f"{where}[{n}]") for n, v in enumerate(self.items(value, where)))

    def optional_text(self, value: object, where: str) -> str | None:
        return None if value is None else self.text(value, where)

    def time(self, value: object, where: str) -> datetime | None:
        if value is None:
            return None
        moment = parse_time(self.text(value, where))
        if moment is None:
            raise self.fail(where, "an ISO 8601 time")
        return moment

    def size_kind(self, value: object, where: str) -> SizeKind:
        for kind in SIZE_KINDS:
            if value == kind:
                return kind
        raise self.fail(where, f"one of {', '.join(SIZE_KINDS)}")

    def tags_by_source(self, value: object, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``{"registry HOST": ["HOST/team/app:1"], ...}`` -> ((label, tags), ...), in the file's order."""
        found = self.mapping(value, where)
        return tuple((label, self.texts(tags, f"{where}.{label}")) for label, tags in found.items())

    def source(self, raw: object, where: str = "source") -> SourceInfo:
        item = self.mapping(raw, where)
        return SourceInfo(
            kind=self.text(item.get("kind"), f"{where}.kind"),
            endpoint=self.text(item.get("endpoint", ""), f"{where}.endpoint"),
            engine_version=self.text(item.get("engine_version", ""), f"{where}.engine_version"),
            scanned_at=parse_time(item.get("scanned_at")) or datetime.fromtimestamp(0, UTC),
        )

    def summary(self, item: Mapping[str, Any], where: str) -> dict[str, Any]:
        """``Image`` keyword arguments for the fields ``image_summary`` writes."""
        labels = self.mapping(item.get("labels", {}), f"{where}.labels")
        return {
            "id": self.text(item.get("id"), f"{where}.id"),
            "tags": self.texts(item.get("tags", []), f"{where}.tags"),
            "digests": self.texts(item.get("digests", []), f"{where}.digests"),
            "found_in": self.texts(item.get("found_in", []), f"{where}.found_in"),
            "tags_by_source": self.tags_by_source(item.get("tags_by_source", {}), f"{where}.tags_by_source"),
            "created": self.time(item.get("created"), f"{where}.created"),
            "size_kind": self.size_kind(item.get("size_kind", "unpacked"), f"{where}.size_kind"),
            "intermediate": item.get("intermediate", False) is True,
            "os": self.text(item.get("os", ""), f"{where}.os"),
            "architecture": self.text(item.get("architecture", ""), f"{where}.architecture"),
            "variant": self.text(item.get("variant", ""), f"{where}.variant"),
            "manifest_digest": self.text(item.get("manifest_digest", ""), f"{where}.manifest_digest"),
            "index_digest": self.text(item.get("index_digest", ""), f"{where}.index_digest"),
            "index_platforms": self.platforms(item.get("index_platforms", []), f"{where}.index_platforms"),
            "labels": tuple(sorted((k, self.text(v, f"{where}.labels.{k}")) for k, v in labels.items())),
            "parent_hint": self.optional_text(item.get("parent_hint"), f"{where}.parent_hint"),
            "run_config": self.run_config(item.get("run_config"), f"{where}.run_config"),
            "base": self.base(item.get("base"), f"{where}.base"),
        }

    def base(self, value: object, where: str) -> BaseEvidence | None:
        """Optional (files written before it have none)."""
        if value is None:
            return None
        item = self.mapping(value, where)
        kind = self.text(item.get("evidence"), f"{where}.evidence")
        if kind not in get_args(EvidenceKind):
            raise self.fail(f"{where}.evidence", "one of " + ", ".join(get_args(EvidenceKind)))
        candidates = []
        for n, raw in enumerate(self.items(item.get("candidates", []), f"{where}.candidates")):
            entry = self.mapping(raw, f"{where}.candidates[{n}]")
            candidates.append(
                (
                    self.text(entry.get("reference"), f"{where}.candidates[{n}].reference"),
                    self.text(entry.get("digest"), f"{where}.candidates[{n}].digest"),
                )
            )
        return BaseEvidence(
            cast(EvidenceKind, kind),
            self.text(item.get("reference", ""), f"{where}.reference"),
            self.text(item.get("digest", ""), f"{where}.digest"),
            tuple(candidates),
        )

    def run_config(self, value: object, where: str) -> RunConfig | None:
        """Optional, and so is each of its fields."""
        if value is None:
            return None
        item = self.mapping(value, where)
        return RunConfig(
            exposed_ports=self.texts(item.get("exposed_ports", []), f"{where}.exposed_ports"),
            volumes=self.texts(item.get("volumes", []), f"{where}.volumes"),
            entrypoint=self.texts(item.get("entrypoint", []), f"{where}.entrypoint"),
            cmd=self.texts(item.get("cmd", []), f"{where}.cmd"),
            user=self.text(item.get("user", ""), f"{where}.user"),
            working_dir=self.text(item.get("working_dir", ""), f"{where}.working_dir"),
            env_names=self.texts(item.get("env_names", []), f"{where}.env_names"),
            stop_signal=self.text(item.get("stop_signal", ""), f"{where}.stop_signal"),
        )

    def platforms(self, value: object, where: str) -> tuple[tuple[str, bool], ...]:
        found = []
        for n, item in enumerate(self.items(value, where)):
            entry = self.mapping(item, f"{where}[{n}]")
            name = self.text(entry.get("platform"), f"{where}[{n}].platform")
            found.append((name, self.flag(entry.get("present"), f"{where}[{n}].present")))
        return tuple(found)

    def history(self, value: object, where: str) -> tuple[HistoryEntry, ...] | None:
        if value is None:
            return None
        return tuple(self.entry(e, f"{where}[{n}]") for n, e in enumerate(self.items(value, where)))

    def image(self, raw: object, where: str) -> Image:
        """A snapshot record (``image_to_dict``)."""
        item = self.mapping(raw, where)
        return Image(
            **self.summary(item, where),
            size=self.count(item.get("size", 0), f"{where}.size"),
            layers=self.texts(item.get("layers", []), f"{where}.layers"),
            history=self.history(item.get("history"), f"{where}.history"),
        )

    def exported_image(self, raw: object, where: str) -> Image:
        """An image of a graph export (``render/json_export.py``): its records from its steps."""
        item = self.mapping(raw, where)
        steps = self.items(item.get("layers", []), f"{where}.layers")
        history, layers = unpack_steps([self.step(s, f"{where}.layers[{n}]") for n, s in enumerate(steps)])
        # Before ``reported_size`` the export's ``size`` was the source's own figure.
        size = item["reported_size"] if "reported_size" in item else item.get("size", 0)
        return Image(
            **self.summary(item, where),
            size=self.count(size, f"{where}.size"),
            layers=self.texts(item["diff_ids"], f"{where}.diff_ids") if "diff_ids" in item else layers,
            history=self.history(item["history"], f"{where}.history") if "history" in item else history,
        )

    def step(self, raw: object, where: str) -> ReadStep:
        item = self.mapping(raw, where)
        diff_id = self.optional_text(item.get("diff_id"), f"{where}.diff_id")
        return ReadStep(**self._row(item, where), diff_id=diff_id)

    def entry(self, raw: object, where: str) -> HistoryEntry:
        item = self.mapping(raw, where)
        empty = self.flag(item.get("empty_layer"), f"{where}.empty_layer")
        return HistoryEntry(**self._row(item, where), empty_layer=empty)

    def _row(self, item: Mapping[str, Any], where: str) -> dict[str, Any]:
        """What a history entry and an exported step share."""
        return {
            "created": self.time(item.get("created"), f"{where}.created"),
            "created_by": self.text(item.get("created_by", ""), f"{where}.created_by"),
            "comment": self.text(item.get("comment", ""), f"{where}.comment"),
            "size": self.count(item.get("size", 0), f"{where}.size"),
        }

    def diagnostic(self, raw: object, where: str) -> Diagnostic:
        item = self.mapping(raw, where)
        return Diagnostic(
            image=self.optional_text(item.get("image"), f"{where}.image"),
            code=self.text(item.get("code"), f"{where}.code"),
            message=self.text(item.get("message"), f"{where}.message"),
        )


# --------------------------------------------------------------------------- export steps


class StepLike(Protocol):
    """A history step with the layer it made, as the export writes it (``lineage.Step``)."""

    @property
    def created(self) -> datetime | None: ...
    @property
    def created_by(self) -> str: ...
    @property
    def comment(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def diff_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ReadStep:
    created: datetime | None
    created_by: str
    comment: str
    size: int
    diff_id: str | None


def unpack_steps(steps: Sequence[StepLike]) -> tuple[tuple[HistoryEntry, ...], tuple[str, ...]]:
    """The history and layers an image's exported steps stand for, one entry a step.

    The export writes an image's own ``history``/``diff_ids`` only where this reading
    of its steps would differ (no history at all, a step inherited from a parent read
    without one, a history that does not match the layers): the same function decides
    on both sides, so a graph file reads back to the records it was made from.
    """
    history = tuple(
        HistoryEntry(
            created=step.created,
            created_by=step.created_by,
            comment=step.comment,
            size=step.size,
            empty_layer=step.diff_id is None,
        )
        for step in steps
    )
    return history, tuple(step.diff_id for step in steps if step.diff_id is not None)
