"""The images to rebuild (``stale.stale_images``) as text for people and JSON for tools.

JSON schema ``image-lineage.stale/v1`` (a contract: see docs/stale.md). Every name and
annotation from an image passes ``clean_text`` in the text; history text is read from the
lineage given, which the caller masks.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from image_lineage.insights import instruction
from image_lineage.lineage import Lineage
from image_lineage.model import iso_utc, short_id
from image_lineage.secret_text import mask_text
from image_lineage.stale import SCHEMA, Annotation, StaleGroup, StaleImage, StaleReport, age_text, count
from image_lineage.text import clean_text, count_layers, human_size

NAME_LIMIT = 120
NONE_TEXT = "No image is built on an outdated base.\n"
#: The line that says what a finding rests on, where lineage (the steps above) does not.
RESTS_ON = {
    "provenance": "found by its provenance (the base digest its build recorded): it ",
    "annotation": "found by its annotation alone: it ",
    "tag": "found by the tag alone: ",
}
BY_INSTRUCTION = (
    "    found by lineage: the newer base ran the same instructions on the same targets, other values"
)


def render_stale_text(
    report: StaleReport, lineage: Lineage, *, host_platform: str = "", masked: bool = True
) -> str:
    """Grouped by base: the tag, the newer image it names, then each image to rebuild.

    ``lineage`` gives each image's history (the step where the newer base parts from it);
    platforms are named when the groups are not all of ``host_platform``; annotation text
    is masked unless ``masked`` is False.
    """
    if not report:
        return NONE_TEXT
    bases = len(report.groups)
    lines = [
        f"{count(len(report), 'image')} to rebuild, on {count(bases, 'outdated base')}:",
    ]
    named = any(group.platform != host_platform for group in report.groups)
    for group in report.groups:
        lines.append("")
        lines.append(_group_line(group, platform=named))
        for stale in group.images:
            lines.extend(_image_lines(stale, lineage, mask_text if masked else str))
    return "\n".join(lines) + "\n"


def _group_line(group: StaleGroup, *, platform: bool) -> str:
    tag = clean_text(group.tag, NAME_LIMIT)
    on = f" ({clean_text(group.platform, 40)})" if platform and group.platform else ""
    when = f", built {group.newer_created:%Y-%m-%d %H:%M} UTC" if group.newer_created else ""
    return f"{tag}{on} now names {short_id(group.newer)}{when}:"


def _image_lines(stale: StaleImage, lineage: Lineage, shown: Callable[[str], str]) -> list[str]:
    base = clean_text(stale.old_base_name, NAME_LIMIT) if stale.old_base_name else "an older build"
    if stale.old_base is None and stale.old_base_name is None:
        base += " (not among these images)"
    age = f", {age_text(stale.age)} older" if stale.age is not None else ""
    change = f"{count_layers(stale.layers_to_change)}, {human_size(stale.bytes_to_change)}"
    lines = [f"  {clean_text(stale.name, NAME_LIMIT)}  on {base}{age}; a rebuild replaces {change}"]
    if stale.diverged_step is not None and stale.image_id in lineage:
        history = lineage.node(stale.image_id).image.history or ()
        if 0 < stale.diverged_step <= len(history):
            step = history[stale.diverged_step - 1]
            # One line: the runs of spaces a RUN's continued lines leave (``\`` + indent) as one.
            text = " ".join(instruction(step.created_by, step.comment).split())
            lines.append(
                f"    the newer base differs from step {stale.diverged_step}: {clean_text(text, 160)}"
            )
    detail = clean_text(shown(stale.annotation.detail), 300)
    if stale.found_by == "lineage by instruction":
        lines.append(BY_INSTRUCTION)
    if stale.found_by in RESTS_ON:
        lines.append(f"    {RESTS_ON[stale.found_by]}{detail}")
    elif stale.annotation.evidence != "none":
        lines.append(f"    its annotation {_verb(stale.annotation)}: it {detail}")
    return lines


def _verb(annotation: Annotation) -> str:
    return "confirms" if annotation.evidence == "confirmed" else "contradicts"


def render_stale_json(report: StaleReport, *, masked: bool = True) -> str:
    """The report as ``image-lineage.stale/v1``; annotation text masked unless ``masked`` is False."""
    document = {
        "schema": SCHEMA,
        "stale": len(report),
        "groups": [_group(group, masked=masked) for group in report.groups],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _group(group: StaleGroup, *, masked: bool) -> dict[str, object]:
    return {
        "base_tag": group.tag,
        "platform": group.platform,
        "newer": {"id": group.newer, "name": group.newer_name, "created": iso_utc(group.newer_created)},
        "images": [_image(stale, masked=masked) for stale in group.images],
    }


def _image(stale: StaleImage, *, masked: bool) -> dict[str, object]:
    annotation = stale.annotation
    shown: Callable[[str], str] = mask_text if masked else str
    return {
        "id": stale.image_id,
        "name": stale.name,
        "platform": stale.platform,
        "old_base": {
            "id": stale.old_base,
            "name": stale.old_base_name,
            "created": iso_utc(stale.old_base_created),
        },
        "age_seconds": int(stale.age.total_seconds()) if stale.age is not None else None,
        "base_steps": stale.base_steps,
        "shared_layers": stale.shared_layers,
        "layers_to_change": stale.layers_to_change,
        "bytes_to_change": stale.bytes_to_change,
        "diverged_step": stale.diverged_step,
        "found_by": stale.found_by,
        "annotation": {
            "evidence": annotation.evidence,
            "name": shown(annotation.name),
            "digest": annotation.digest,
            "detail": shown(annotation.detail),
        },
    }
