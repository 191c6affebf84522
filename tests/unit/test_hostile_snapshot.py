"""Snapshots and the JSON export against hostile text: lone surrogates, escapes in keys.

A lone surrogate (``\\ud800``) is valid in a JSON escape and in a Python string, but no
UTF-8 file or terminal can hold it: a label or tag carrying one must not break the
snapshot, the JSON export, or any command reading such a snapshot. The strict reader's
errors name the bad field; a key full of escapes must not reach the terminal raw.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import main
from image_lineage.errors import SnapshotError
from image_lineage.lineage import build_lineage
from image_lineage.render.json_export import render_json
from image_lineage.sources import snapshot

pytestmark = pytest.mark.timeout(300)

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "image_lineage" / "data" / "sample-snapshot.json"
TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
LONE = "\ud800"


def hostile_document() -> dict[str, Any]:
    """The bundled sample with lone surrogates in a tag, a label key and value, and a history line."""
    document = json.loads(SAMPLE.read_text(encoding="utf-8"))
    tagged = next(image for image in document["images"] if image["tags"])
    tagged["tags"][0] += LONE
    tagged["labels"][f"key{LONE}"] = f"value{LONE}\udfff"
    tagged["history"][0]["created_by"] += "\udfff"
    return dict(document)


def hostile_snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.json"
    # ensure_ascii: the only way JSON can carry a lone surrogate (as an escape)
    path.write_text(json.dumps(hostile_document(), ensure_ascii=True), encoding="ascii")
    return path


def test_a_snapshot_with_lone_surrogates_reads_with_them_replaced(tmp_path: Path) -> None:
    scan = snapshot.load(hostile_snapshot(tmp_path))
    texts = [t for image in scan.images for t in (*image.tags, *(k + v for k, v in image.labels))]
    texts += [step.created_by for image in scan.images for step in image.history or ()]
    assert not [t for t in texts if TERMINAL.search(t)]
    assert any("\ufffd" in t for t in texts)


def test_a_scan_holding_lone_surrogates_writes_a_valid_snapshot_and_json_export(tmp_path: Path) -> None:
    # Sources can hand them over (an engine's JSON): build the scan without the reader's cleaning.
    scan = snapshot.loads(json.dumps(hostile_document()).replace("\\ud800", "x"))
    lone = scan.images[0].__class__
    images = tuple(
        image if not image.tags else lone(**{**_fields(image), "tags": (image.tags[0] + LONE,)})
        for image in scan.images
    )
    scan = scan.__class__(source=scan.source, images=images, diagnostics=scan.diagnostics)
    text = snapshot.dumps(scan)
    text.encode("utf-8")  # a file can hold it
    snapshot.save(scan, tmp_path / "out.json")
    assert snapshot.load(tmp_path / "out.json").images
    exported = render_json(build_lineage(scan.images, scan.source, scan.diagnostics))
    exported.encode("utf-8")
    assert snapshot.loads(exported).images


def _fields(image: Any) -> dict[str, Any]:
    return {name: getattr(image, name) for name in image.__slots__}


COMMANDS = {
    "tree": ["tree"],
    "export svg": ["export", "-f", "svg"],
    "export png": ["export", "-f", "png", "-o", "{out}/tree.png"],
    "export dot": ["export", "-f", "dot"],
    "export mermaid": ["export", "-f", "mermaid"],
    "export graphml": ["export", "-f", "graphml"],
    "export html": ["export", "-f", "html"],
    "export json": ["export", "-f", "json"],
    "snapshot": ["snapshot", "-o", "{out}/again.json"],
    "stale": ["stale", "-f", "json"],
}


@pytest.mark.usefixtures("graphviz")
@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_every_command_reads_a_snapshot_with_lone_surrogates(command: list[str], tmp_path: Path) -> None:
    path = hostile_snapshot(tmp_path)
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # strict, as a UTF-8 terminal or file
    stderr = io.StringIO()
    argv = [part.format(out=tmp_path) for part in command]
    status = main([*argv, "--source", f"snapshot:{path}", "--platform", "all"], stdout, stderr)
    stdout.flush()
    assert status in {0, 1} if command[0] == "stale" else status == 0, stderr.getvalue()
    assert "error" not in stderr.getvalue()


def test_a_label_key_full_of_escapes_is_named_cleanly_in_the_readers_error() -> None:
    document = json.loads(SAMPLE.read_text(encoding="utf-8"))
    forged = "\x1b[2J\x1b]0;owned\x07\nimage-lineage: all 16 images verified OK"
    document["images"][0]["labels"][forged] = 5
    with pytest.raises(SnapshotError) as caught:
        snapshot.loads(json.dumps(document), origin="hostile.json")
    message = str(caught.value)
    assert not TERMINAL.search(message), repr(message)
    assert "labels" in message
    assert "should be a string" in message


def test_a_snapshot_larger_than_the_cap_is_refused_unparsed(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(snapshot.MAX_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(SnapshotError, match=f"larger than {snapshot.MAX_BYTES // 2**20} MiB"):
        snapshot.load(path)


def test_a_snapshot_nested_a_hundred_thousand_deep_is_one_line() -> None:
    with pytest.raises(SnapshotError, match="not valid JSON"):
        snapshot.loads("[" * 100_000 + "]" * 100_000)

    def surrogate_nested(depth: int) -> str:
        return '{"a": ' * depth + '"\\ud800"' + "}" * depth

    with pytest.raises(SnapshotError, match="not valid JSON"):
        snapshot.loads(surrogate_nested(100_000))
    with pytest.raises(SnapshotError, match="nested too deeply to be a snapshot"):  # valid JSON, no snapshot
        snapshot.loads(surrogate_nested(900))
