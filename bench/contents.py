"""Benchmark: layer contents (``image-lineage files``), three figures in one run.

    python bench/contents.py [--megabytes M] [--files N] [--big-megabytes B] [--big-files F]

1. **speed**: one image's gzip layers (3 layers, about M MB and N files in all, default 200 MB
   and 60,000 files; half pseudo-random bytes, half text) listed by this tool (headers only,
   digest checked, as ``files`` reads them) against ``tar -tzvf`` over the same blobs, the
   two interleaved; medians of 5, the ratio. Target: within 1.5x.
2. **memory**: a generated image of B MB and F files (default 2,000 MB, 200,000 files; the
   files' bytes are zeros, so the blob is small) read by the whole ``image-lineage files``
   command (text and JSON) in a child process; its peak RSS from ``resource.getrusage``.
   Target: under 300 MB.
3. **sharing**: a family of 20 images on one 2-layer base listed in one run: how many layer
   blobs were read (the base's once: 2 + 20).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.archive import layer_bytes  # noqa: E402
from image_lineage.sources.layers import Listings, image_layers  # noqa: E402
from image_lineage.sources.oci.blobs import Checked  # noqa: E402
from image_lineage.sources.oci.descriptor import Descriptor  # noqa: E402
from image_lineage.sources.oci.layer_tar import read_listing  # noqa: E402
from testbed.oci_layout import AMD64, Image, OciLayout  # noqa: E402

BLOCK = 512


def header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, 1704067200
    return info.tobuf(tarfile.PAX_FORMAT)


def speed_blobs(folder: Path, megabytes: int, files: int) -> list[Path]:
    per_file = megabytes * 1024 * 1024 // files
    sample = layer_bytes(1, per_file * 4)
    blobs = []
    for number in range(3):
        raw = io.BytesIO()
        for index in range(files // 3):
            start = (index * 977) % (len(sample) - per_file)
            raw.write(header(f"usr/lib/pkg-{number}/{index // 100}/file-{index}.so", per_file))
            raw.write(sample[start : start + per_file])
            raw.write(b"\0" * (-per_file % BLOCK))
        raw.write(b"\0" * 2 * BLOCK)
        path = folder / f"layer-{number}.tar.gz"
        path.write_bytes(gzip.compress(raw.getvalue(), compresslevel=6))
        blobs.append(path)
    return blobs


def ours(blobs: list[Path]) -> float:
    started = time.perf_counter()
    for path in blobs:
        descriptor = Descriptor("", "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest())
        with path.open("rb") as handle:
            read_listing(io.BufferedReader(Checked(handle, descriptor), 1 << 20), str(path))
    return time.perf_counter() - started


def tar_tzvf(blobs: list[Path]) -> float:
    started = time.perf_counter()
    for path in blobs:
        subprocess.run(["tar", "-tzvf", str(path)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def big_layout(path: Path, megabytes: int, files: int) -> None:
    """An OCI layout tar holding one image of one layer: ``files`` files of zeros, ``megabytes`` in
    all; the layer is gzip'd as it is made (never held whole) and hashed both ways."""
    per_file = megabytes * 1024 * 1024 // files
    zeros = bytes(1 << 20)
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    diff, blob = hashlib.sha256(), hashlib.sha256()
    layer = path.with_suffix(".layer")
    with layer.open("wb") as out:

        def feed(data: bytes | memoryview) -> None:
            diff.update(data)
            packed = packer.compress(data)
            blob.update(packed)
            out.write(packed)

        for index in range(files):
            feed(header(f"srv/data/{index // 1000}/{index % 1000}/file-{index}.bin", per_file))
            left = per_file + (-per_file % BLOCK)
            while left:
                step = min(left, len(zeros))
                feed(memoryview(zeros)[:step])
                left -= step
        feed(bytes(2 * BLOCK))
        tail = packer.flush()
        blob.update(tail)
        out.write(tail)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff.hexdigest()}"]},
            "history": [{"created_by": "COPY data /srv/data"}],
        }
    ).encode()
    config_digest = hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": f"sha256:{config_digest}",
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": f"sha256:{blob.hexdigest()}",
                    "size": layer.stat().st_size,
                }
            ],
        }
    ).encode()
    manifest_digest = hashlib.sha256(manifest).hexdigest()
    top = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": f"sha256:{manifest_digest}",
                    "size": len(manifest),
                    "annotations": {"io.containerd.image.name": "docker.io/bench/big:1"},
                }
            ],
        }
    ).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in (
            ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
            ("index.json", top),
            (f"blobs/sha256/{manifest_digest}", manifest),
            (f"blobs/sha256/{config_digest}", config),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        tar.add(layer, f"blobs/sha256/{blob.hexdigest()}")
    layer.unlink()


def peak_rss(argv: list[str]) -> tuple[float, float]:
    """Run ``argv`` (output dropped); its peak RSS in MB (``ru_maxrss`` of children) and seconds."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True, env=env
    )
    kilobytes, seconds = out.stdout.split()
    return int(kilobytes) / 1024, float(seconds)


def shared_family(folder: Path) -> tuple[int, int]:
    """20 images on one 2-layer base, listed with one ``Listings``: (blobs read, layers listed)."""
    base = Image.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"x" * 100}).run("RUN apt", {"usr/a": b"a"})
    layout = OciLayout()
    children = [base.run(f"RUN child {n}", {f"opt/{n}": b"c" * n}) for n in range(20)]
    for number, child in enumerate(children):
        layout.tag(f"bench/child-{number}:1", layout.add_image(child))
    archive = folder / "family.tar"
    archive.write_bytes(layout.tar_bytes())
    from image_lineage.sources import open_source  # noqa: PLC0415

    source = open_source(f"archive:{archive}")
    listings = Listings()
    listed = sum(len(image_layers(source, image, listings)) for image in source.scan().images)
    return listings.reads, listed


def speed(folder: Path, megabytes: int, files: int, repeat: int) -> None:
    blobs = speed_blobs(folder, megabytes, files)
    size = sum(p.stat().st_size for p in blobs)
    # interleaved, so that a busy moment of this shared machine falls on both alike
    pairs = [(tar_tzvf(blobs), ours(blobs)) for _ in range(repeat)]
    theirs = statistics.median(t for t, _ in pairs)
    mine = statistics.median(o for _, o in pairs)
    print(
        f"speed: {size / 1e6:.0f} MB of gzip layers, {files:,} files: tar -tzvf {theirs:.2f} s, "
        f"ours {mine:.2f} s, ratio {mine / theirs:.2f}x (target <= 1.5x); each pair: "
        + ", ".join(f"{o / t:.2f}x" for t, o in pairs)
    )


def memory(folder: Path, megabytes: int, files: int) -> None:
    big = folder / "big.tar"
    big_layout(big, megabytes, files)
    cli = [sys.executable, "-m", "image_lineage", "files", "--no-cache", "--platform", "all",
           "--source", f"archive:{big}", "bench/big:1"]  # fmt: skip
    for mode, extra in (("text", []), ("json", ["--format", "json"])):
        rss, seconds = peak_rss([*cli, *extra])
        print(f"memory ({mode}): {megabytes:,} MB, {files:,} files ({big.stat().st_size / 1e6:.0f} MB "
              f"archive): peak RSS {rss:.0f} MB in {seconds:.1f} s (target < 300 MB)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--files", type=int, default=60_000)
    parser.add_argument("--big-megabytes", type=int, default=2000)
    parser.add_argument("--big-files", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--parts", default="speed,memory,sharing", help="which figures, comma-separated")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-contents-") as temporary:
        folder = Path(temporary)
        if "speed" in parts:
            speed(folder, args.megabytes, args.files, args.repeat)
        if "memory" in parts:
            memory(folder, args.big_megabytes, args.big_files)
        if "sharing" in parts:
            reads, listed = shared_family(folder)
            print(
                f"sharing: 20 images on a 2-layer base: {listed} layers listed, {reads} blobs read (2 + 20)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
