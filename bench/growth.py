"""Benchmark: how each command's time grows with the number of images.

    python bench/growth.py [--sizes 1000,5000,20000] [--commands tree,stale,...] [--deadline S]

Builds snapshots of about 1,000, 5,000 and 20,000 images by copying the bundled sample
snapshot (121 images with the intermediates, six of them built on an outdated base) as
many times as it takes. Each copy is an independent forest: its image ids, layer digests
and parent hints are new (a hash of the copy's number and the old value) and its
repositories carry a ``f<copy>/`` prefix, so no copy shares a layer or a tag with another.
Every command then runs through the CLI entry point (a new process, interpreter start-up
included) with ``--all``, so every image of the snapshot is shown. A snapshot file is capped
at 64 MiB and the sample's images have long histories (about 8 kB each), so each size is
written as parts of at most ``PART`` images, each read with its own ``--source snapshot:``
(the tree is the same; the merge of the parts is measured with it).

Prints the time of each command at each size (wall, and CPU: the command's and its
Graphviz programs' user and system time, what a busy machine inflates least) and the
ratio against the smallest size.
Target: linear growth, the 20,000-image run within 25x of the 1,000-image run. A run that
takes longer than ``--deadline`` seconds is stopped and shown as ``> S``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_images" / "sample-snapshot.json"
SIZES = (1000, 5000, 20000)
PART = 1000  # images per snapshot file, well under the 64 MiB a snapshot may hold
TARGET = 25.0  # the 20k run within this many times the 1k run (20x is exactly linear)
# Each command's words after ``image-lineage``; the snapshot's ``--source`` and ``--all``
# are added. ``stale`` exits 1 when it finds stale images, which it does here.
COMMANDS: dict[str, list[str]] = {
    "tree": ["tree"],
    "stale": ["stale"],
    "json": ["export", "--format", "json"],
    "dot": ["export", "--format", "dot"],
    "mermaid": ["export", "--format", "mermaid"],
    "svg": ["export", "--format", "svg"],
    "html": ["export", "--format", "html"],
}


def _renamed(value: str, copy_number: int) -> str:
    """A new ``sha256:`` digest for ``value`` in copy ``copy_number`` (the same in, the same out)."""
    if not value:
        return value
    digest = hashlib.sha256(f"{copy_number}:{value}".encode()).hexdigest()
    return f"sha256:{digest}"


def _prefixed(reference: str, copy_number: int) -> str:
    """``jupyter/base:1`` -> ``f007/jupyter/base:1``: a repository of this copy only."""
    return f"f{copy_number:03d}/{reference}"


def copied_image(image: dict[str, Any], copy_number: int) -> dict[str, Any]:
    """One sample image as it is in copy ``copy_number``: new ids, layers, parent and names."""
    moved = copy.deepcopy(image)
    moved["id"] = _renamed(image["id"], copy_number)
    moved["parent_hint"] = _renamed(image.get("parent_hint") or "", copy_number)
    moved["layers"] = [_renamed(layer, copy_number) for layer in image["layers"]]
    moved["tags"] = [_prefixed(tag, copy_number) for tag in image["tags"]]
    moved["digests"] = [_prefixed(digest, copy_number) for digest in image["digests"]]
    for field in ("manifest_digest", "index_digest"):
        moved[field] = _renamed(image.get(field) or "", copy_number)
    return moved


def copied_snapshot(sample: dict[str, Any], images: int) -> dict[str, Any]:
    """The sample copied until it holds at least about ``images`` images (whole copies)."""
    per_copy = len(sample["images"])
    copies = max(1, round(images / per_copy))
    snapshot = {key: value for key, value in sample.items() if key != "images"}
    snapshot["images"] = [
        copied_image(image, number) for number in range(copies) for image in sample["images"]
    ]
    return snapshot


def write_parts(snapshot: dict[str, Any], directory: Path, per_copy: int) -> list[Path]:
    """The snapshot as files of at most about ``PART`` images each (whole copies: no family is cut)."""
    per_part = max(1, PART // per_copy) * per_copy
    images = snapshot["images"]
    paths = []
    for number, start in enumerate(range(0, len(images), per_part)):
        path = directory / f"part-{number:03d}.json"
        path.write_text(
            json.dumps({**snapshot, "images": images[start : start + per_part]}), encoding="utf-8"
        )
        paths.append(path)
    return paths


def timed(command: list[str], deadline: float) -> tuple[float, float] | None:
    """(CPU, wall) seconds the command took, or None when it ran past ``deadline`` (it is stopped).

    CPU: user and system time of the command and of the programs it ran (Graphviz): on a
    machine others share, the figure that load does not inflate much.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        finished = subprocess.run(
            command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=deadline
        )
    except subprocess.TimeoutExpired:
        return None
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if finished.returncode not in (0, 1 if command[3] == "stale" else 0):  # stale: 1 when it found some
        message = finished.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SystemExit(f"{' '.join(command[3:])} failed: {message[-1] if message else finished.returncode}")
    return cpu, elapsed


def _cell(seconds: float | None, deadline: float) -> str:
    return f"> {deadline:.0f} s" if seconds is None else f"{seconds:.2f} s"


def _ratio(seconds: float | None, first: float | None) -> str:
    if seconds is None or first is None:
        return "-"
    return f"{seconds / first:.1f}x"


def report(results: dict[str, list[float | None]], counts: list[int], deadline: float, what: str) -> bool:
    """Prints the table of ``what`` seconds; whether every command's largest run is within
    ``TARGET`` (scaled to the sizes) of its smallest."""
    print(f"{what} seconds:")
    head = ["command", *(f"{count:,}" for count in counts), *(f"{c:,}/{counts[0]:,}" for c in counts[1:])]
    rows = [head]
    within = True
    for name, times in results.items():
        ratios = [_ratio(seconds, times[0]) for seconds in times[1:]]
        rows.append([name, *(_cell(seconds, deadline) for seconds in times), *ratios])
        last, first = times[-1], times[0]
        allowed = TARGET * counts[-1] / (20 * counts[0])  # 25x for 20x the images
        if last is None or first is None or last / first > allowed:
            within = False
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        print(
            "  ".join(
                cell.rjust(width) if i else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
    return within


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--sizes", default=",".join(str(s) for s in SIZES), help="image counts, smallest first"
    )
    parser.add_argument("--commands", default=",".join(COMMANDS), help=f"some of {', '.join(COMMANDS)}")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds before a run is stopped")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    names = [name for name in args.commands.split(",") if name]
    unknown = [name for name in names if name not in COMMANDS]
    if unknown:
        parser.error(f"unknown command {', '.join(unknown)}: use some of {', '.join(COMMANDS)}")
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    results: dict[str, list[tuple[float, float] | None]] = {name: [] for name in names}
    counts = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            snapshot = copied_snapshot(sample, size)
            counts.append(len(snapshot["images"]))
            directory = Path(scratch) / str(size)
            directory.mkdir()
            sources = [
                f"--source=snapshot:{path}"
                for path in write_parts(snapshot, directory, len(sample["images"]))
            ]
            for name in names:
                command = [sys.executable, "-m", "image_lineage", *COMMANDS[name]]
                command += ["--all", *sources]
                timing = timed(command, args.deadline)
                results[name].append(timing)
                shown = (
                    f"CPU {timing[0]:.2f} s, wall {timing[1]:.2f} s" if timing else _cell(None, args.deadline)
                )
                print(f"  {name} at {counts[-1]:,} images: {shown}", file=sys.stderr)
    cpu = {name: [t[0] if t else None for t in times] for name, times in results.items()}
    wall = {name: [t[1] if t else None for t in times] for name, times in results.items()}
    report(wall, counts, args.deadline, "wall")
    within = report(cpu, counts, args.deadline, "CPU (user + system, with Graphviz's)")
    exact = counts[-1] / counts[0]
    print(
        f"target: the {counts[-1]:,}-image run within {TARGET * exact / 20:.1f}x of the "
        f"{counts[0]:,}-image run ({exact:.1f}x the images; {'met' if within else 'NOT met'})"
    )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
