"""Benchmark: reading a gzip-compressed ``docker save`` against one ``gzip -dc`` pass over it.

    python bench/archive.py [--megabytes M] [--images N] [--repeat R]

Writes a ``docker save``-format archive of N images (default 8, a chain: each adds one
layer to its parent) whose layers hold about M megabytes in all (default 200), half
incompressible bytes and half text, like real layers (binaries and configs). It is
gzip-compressed as ``docker save | gzip`` would. Then, in the same run:

* baseline: ``gzip -dc X.tar.gz > /dev/null``, one decompression pass;
* ours: the whole ``image-lineage export --format json --source archive:X.tar.gz``
  command (a new process, interpreter start-up included).

Prints each median and the ratio. Target: ours within ~1.5x of ``gzip -dc``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = b"".join(f"usr/share/doc/package-{n}/copyright: GPL-2+ line {n}\n".encode() for n in range(4096))


def layer_bytes(seed: int, size: int) -> bytes:
    """``size`` bytes, half pseudo-random, half text: compresses to about 55%, like real layers."""
    random_part = bytearray()
    counter = 0
    while len(random_part) < size // 2:
        random_part += hashlib.sha512(f"{seed}:{counter}".encode()).digest()
        counter += 1
    text = (TEXT * (size // len(TEXT) + 1))[: size - size // 2]
    return bytes(random_part[: size // 2]) + text


def layer_tar(seed: int, size: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = layer_bytes(seed, size)
        info = tarfile.TarInfo(f"opt/layer-{seed}/payload.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_save(path: Path, images: int, megabytes: int) -> None:
    """A gzip ``docker save`` (manifest.json, configs, ``<id>/layer.tar``) of a chain of images."""
    per_layer = megabytes * 1024 * 1024 // images
    diff_ids: list[str] = []
    history: list[dict[str, object]] = []
    manifest = []
    with gzip.open(path, "wb", compresslevel=6) as packed, tarfile.open(fileobj=packed, mode="w") as tar:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for n in range(images):
            layer = layer_tar(n, per_layer)
            diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
            add(f"{diff_id[7:]}/layer.tar", layer)
            diff_ids.append(diff_id)
            history.append({"created": f"2026-01-01T00:{n:02d}:00Z", "created_by": f"/bin/sh -c step-{n}"})
            config = {
                "architecture": "amd64",
                "os": "linux",
                "created": f"2026-01-01T00:{n:02d}:00Z",
                "config": {"Env": ["PATH=/usr/bin"]},
                "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
                "history": list(history),
            }
            raw = json.dumps(config).encode()
            name = hashlib.sha256(raw).hexdigest() + ".json"
            add(name, raw)
            layers = [f"{d[7:]}/layer.tar" for d in diff_ids]
            manifest.append({"Config": name, "RepoTags": [f"bench/image-{n}:1"], "Layers": layers})
        add("manifest.json", json.dumps(manifest).encode())


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--megabytes", type=int, default=200, help="uncompressed layer bytes in all")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    gzip_program = shutil.which("gzip")
    if gzip_program is None:
        print("gzip is not installed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "save.tar.gz"
        write_save(path, args.images, args.megabytes)
        size = path.stat().st_size / 1e6
        print(f"{size:.0f} MB compressed, {args.images} images, {args.megabytes} MiB of layers")
        ours_command = [sys.executable, "-m", "image_lineage", "export", "--format", "json"]
        ours_command += ["--source", f"archive:{path}"]
        baseline, ours = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            baseline.append(timed(["sh", "-c", f'"{gzip_program}" -dc "{path}" > /dev/null']))
            ours.append(timed(ours_command))
    base, mine = statistics.median(baseline), statistics.median(ours)
    print(f"gzip -dc X.tar.gz > /dev/null           median {base:.2f} s  (runs: {_runs(baseline)})")
    print(f"image-lineage export --source archive:  median {mine:.2f} s  (runs: {_runs(ours)})")
    print(f"ratio: {mine / base:.2f}x (target <= 1.5x)")
    return 0


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
