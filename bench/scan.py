"""Benchmark: scan time of ``image-lineage export --format json`` against two same-run baselines.

    python bench/scan.py [--images N] [--repeat R] [--docker-host unix:///...]

Starts a throwaway dockerd, loads N generated images (default 1,000; see
synthetic_images.py), then measures, interleaved in the same run (R times each):

* ``docker images -a`` (the docker CLI, a whole process): the floor a warm scan is held to,
  as it lists every image and needs no more;
* the plain serial docker-py calls a scan needs (1 list + N inspect + N history), in this
  process, after the client is connected: the baseline of a cold scan;
* cold: the whole ``image-lineage export --format json`` command (a new process,
  interpreter start-up included) with an empty cache;
* warm: the same command again, its cache filled by the cold run.

For the processes it also reports their own CPU time (user + system, from ``getrusage``
of the finished child), steadier than wall time on a busy machine; the engine's own CPU
is not in it. ``--docker-host`` measures an engine that already holds the images.

Prints each median, and each ratio to a baseline as the median of the runs' own ratios.
Targets: cold <= 0.25x the SDK calls, warm <= 2x ``docker images -a``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import docker  # noqa: E402

from bench.synthetic_images import write_archive  # noqa: E402
from testbed import ThrowawayDockerd  # noqa: E402
from testbed.dockerd import DockerToolsMissing, require_docker_tools  # noqa: E402


def baseline(host: str) -> float:
    client = docker.APIClient(base_url=host, version="auto")
    started = time.perf_counter()
    for summary in client.images():
        client.inspect_image(summary["Id"])
        client.history(summary["Id"])
    elapsed = time.perf_counter() - started
    client.close()
    return elapsed


def timed(command: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and the child's own CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def docker_cli() -> str:
    """The docker CLI the testbed uses (the daemon's own), else the first on ``PATH``."""
    try:
        return require_docker_tools().docker
    except DockerToolsMissing:  # --docker-host on a machine without dockerd, or not as root
        found = shutil.which("docker")
        if found is None:
            raise SystemExit("bench/scan.py needs the docker CLI (its 'docker images -a' baseline)") from None
        return found


def measure(host: str, repeat: int, scratch: str) -> dict[str, list[tuple[float, float]]]:
    """(wall, cpu) per run of each case; the SDK calls run in this process (cpu not taken)."""
    env = {**os.environ, "DOCKER_HOST": host}
    ours = [sys.executable, "-m", "image_lineage", "export", "--format", "json"]
    listing = [docker_cli(), "images", "-a"]
    runs: dict[str, list[tuple[float, float]]] = {"sdk": [], "images": [], "cold": [], "warm": []}
    for attempt in range(repeat):  # interleaved, so that every case sees the same machine load
        env["IMAGE_LINEAGE_CACHE_DIR"] = tempfile.mkdtemp(dir=scratch, prefix=f"cache{attempt}-")
        runs["images"].append(timed(listing, env))
        runs["sdk"].append((baseline(host), float("nan")))
        runs["cold"].append(timed(ours, env))
        runs["warm"].append(timed(ours, env))
    return runs


def report(images: int, runs: dict[str, list[tuple[float, float]]]) -> None:
    """Medians, and each ratio as the median of the runs' own ratios (a run's cases ran
    back to back, so a ratio within a run cancels most of a busy machine's drift)."""

    def median(case: str, index: int = 0) -> float:
        return statistics.median(run[index] for run in runs[case])

    def ratio(case: str, baseline: str) -> float:
        return statistics.median(a[0] / b[0] for a, b in zip(runs[case], runs[baseline], strict=True))

    print(f"\n{images} images, median of {len(runs['sdk'])} runs (wall seconds of each run in brackets)")
    print(f"{'case':<36}{'wall':>8}{'cpu':>8}   vs SDK calls   vs docker images -a")
    for label, case in (
        ("plain serial SDK calls", "sdk"),
        ("docker images -a", "images"),
        ("image-lineage export (cold cache)", "cold"),
        ("image-lineage export (warm cache)", "warm"),
    ):
        cpu = "" if case == "sdk" else f"{median(case, 1):7.2f}s"
        each = ", ".join(f"{w:.2f}" for w, _ in runs[case])
        print(
            f"{label:<36}{median(case):7.2f}s{cpu:>8}   {ratio(case, 'sdk'):10.3f}x"
            f"   {ratio(case, 'images'):12.2f}x   ({each})"
        )


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
            runs = measure(args.docker_host, args.repeat, scratch)
        else:
            with ThrowawayDockerd() as daemon:
                archive = Path(scratch) / "images.tar"
                write_archive(archive, args.images)
                loading = time.perf_counter()
                daemon.docker("load", "-q", "-i", str(archive), timeout=3600)
                print(f"loaded {args.images} images in {time.perf_counter() - loading:.1f} s")
                runs = measure(daemon.host, args.repeat, scratch)
    report(args.images, runs)


if __name__ == "__main__":
    main()
