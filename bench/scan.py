"""Benchmark: scan time of ``image-lineage export --format json`` against plain SDK calls.

    python bench/scan.py [--images N] [--repeat R]

Starts a throwaway dockerd, loads N generated images (default 1,000; see
synthetic_images.py), then measures in the same run:

* baseline: the plain serial docker-py calls a scan needs (1 list + N inspect + N
  history), in this process, after the client is connected;
* cold: the whole ``image-lineage export --format json`` command (a new process,
  interpreter start-up included) with an empty cache;
* warm: the same command again, its cache filled by the cold run.

``--docker-host unix:///...`` measures an engine that already holds the images.

Prints each median and its ratio to the baseline. Targets: cold <= 0.5x, warm <= 0.15x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import docker  # noqa: E402

from bench.synthetic_images import write_archive  # noqa: E402
from testbed import ThrowawayDockerd  # noqa: E402


def baseline(host: str) -> float:
    client = docker.APIClient(base_url=host, version="auto")
    started = time.perf_counter()
    for summary in client.images():
        client.inspect_image(summary["Id"])
        client.history(summary["Id"])
    elapsed = time.perf_counter() - started
    client.close()
    return elapsed


def cli_export(host: str, cache_dir: str) -> float:
    env = {**os.environ, "DOCKER_HOST": host, "IMAGE_LINEAGE_CACHE_DIR": cache_dir}
    command = [sys.executable, "-m", "image_lineage", "export", "--format", "json"]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(host: str, repeat: int, scratch: str) -> tuple[list[float], list[float], list[float]]:
    base, cold, warm = [], [], []
    for attempt in range(repeat):
        cache = tempfile.mkdtemp(dir=scratch, prefix=f"cache{attempt}-")
        base.append(baseline(host))
        cold.append(cli_export(host, cache))
        warm.append(cli_export(host, cache))
    return base, cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--docker-host", help="measure an engine that already holds the images instead of starting one"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.docker_host:
            base, cold, warm = measure(args.docker_host, args.repeat, scratch)
        else:
            with ThrowawayDockerd() as daemon:
                archive = Path(scratch) / "images.tar"
                write_archive(archive, args.images)
                loading = time.perf_counter()
                daemon.docker("load", "-q", "-i", str(archive), timeout=3600)
                print(f"loaded {args.images} images in {time.perf_counter() - loading:.1f} s")
                base, cold, warm = measure(daemon.host, args.repeat, scratch)
    b = statistics.median(base)
    runs = ", ".join(f"{t:.2f}" for t in base)
    print(f"\n{args.images} images, median of {args.repeat} runs (each run in brackets)")
    print(f"{'plain serial SDK calls':<34}{b:8.2f} s   1.00x   ({runs})")
    for name, times in (
        ("image-lineage export (cold cache)", cold),
        ("image-lineage export (warm cache)", warm),
    ):
        t = statistics.median(times)
        runs = ", ".join(f"{x:.2f}" for x in times)
        print(f"{name:<34}{t:8.2f} s   {t / b:.2f}x   ({runs})")


if __name__ == "__main__":
    main()
