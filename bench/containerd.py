"""Benchmark: reading containerd cold and warm against what a user would script with ``ctr``.

    python bench/containerd.py [--images N] [--repeat K]

Builds N generated images (default 300: ``bench/registry.py``'s trees of a base, its children
and grandchildren) as one OCI layout, each named ``bench/rNNN:tM``, and imports it with
``ctr images import`` into a throwaway containerd 2.1 (``testbed/containerd.py``; the engine
cache, ``make engines``). Then, as whole processes, interleaved in the same run:

* cold baseline: a serial shell script: ``ctr -n NS images ls``, then ``ctr content get`` of
  every image's manifest and of the config it names;
* cold: ``image-lineage export --format json --source containerd:SOCKET?namespace=NS`` with
  an empty cache;
* warm baseline: ``ctr -n NS images ls`` alone;
* warm: the same export again on the cache the cold run left (the output kept for this
  image list, ``cli_memo.py``: the lists are read, the answer is printed again).

Prints each median (and the process's own CPU, user + system) and its ratio to its
baseline, and checks every parent, cold and warm. A Python process
starts in a good part of a second on a busy machine where ``ctr`` (Go) starts in a few
milliseconds, so the warm scan is also timed inside one process, after the imports
(``--scan-only``): what the tool itself adds to a listing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.registry import build, check, timed  # noqa: E402
from testbed.containerd import ThrowawayContainerd, sid  # noqa: E402
from testbed.oci_layout import CONTAINERD_NAME_KEY, full_reference  # noqa: E402

NAMESPACE = "bench"

#: The script a user would write: list, then each manifest and the config it names, serially.
SCRIPT = r"""
set -eu
ctr() { "$CTR" -a "$SOCK" -n "$NS" "$@"; }
ctr images ls | tail -n +2 | awk '{print $3}' | while read -r manifest; do
  config=$(ctr content get "$manifest" | grep -o '"config":{[^}]*}' | grep -o 'sha256:[0-9a-f]*')
  ctr content get "$config" > /dev/null
done
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scan-only", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scan_only:
        print(scan_seconds(args.scan_only))
        return 0
    build_21 = sid()
    if build_21 is None:
        raise SystemExit("containerd 2.1 is not in the engine cache: run make engines")
    layout, names, parents = build(args.images, repositories=120)
    for entry, name in zip(layout.entries, names, strict=True):
        entry["annotations"] = {CONTAINERD_NAME_KEY: full_reference(name)}
    with tempfile.TemporaryDirectory() as scratch, ThrowawayContainerd(build_21) as daemon:
        archive = Path(scratch) / "layout.tar"
        archive.write_bytes(layout.tar_bytes())
        started = time.perf_counter()
        daemon.import_archive(NAMESPACE, archive)
        print(f"imported {len(names)} images in {time.perf_counter() - started:.1f} s")
        env = {**os.environ, "CTR": str(build_21.ctr), "SOCK": str(daemon.socket), "NS": NAMESPACE}
        ours = [sys.executable, "-m", "image_lineage", "export", "--format", "json", "--platform", "all"]
        ours += ["--source", f"containerd:{daemon.socket}?namespace={NAMESPACE}"]
        listing = [str(build_21.ctr), "-a", str(daemon.socket), "-n", NAMESPACE, "images", "ls"]
        times: dict[str, list[float]] = {"script": [], "cold": [], "ls": [], "warm": [], "in-process": []}
        cpu: dict[str, list[float]] = {label: [] for label in times}
        for run in range(args.repeat):  # interleaved, so all four see the same machine load
            env["IMAGE_LINEAGE_CACHE_DIR"] = str(Path(scratch) / f"cache-{run}")
            for label, command in (
                ("script", ["sh", "-c", SCRIPT]),
                ("cold", ours),
                ("ls", listing),
                ("warm", ours),
            ):
                done = timed(command, env)
                times[label].append(done.wall)
                cpu[label].append(done.cpu)
                if label in {"cold", "warm"}:
                    check(done.stdout, parents)
            scan_only = [sys.executable, __file__, "--scan-only", ours[-1]]
            times["in-process"].append(float(timed(scan_only, env).stdout))  # what it printed
    median = {label: statistics.median(values) for label, values in times.items()}
    rows = (
        ("export, cold", "cold", "script", "ctr images ls + content get of each manifest and config"),
        ("export, warm", "warm", "ls", "ctr images ls alone"),
        ("scan, warm, in one process", "in-process", "ls", "ctr images ls alone"),
    )
    for what, label, base, said in rows:
        runs = ", ".join(f"{v:.2f}" for v in times[label])
        ratio = median[label] / median[base]
        used = f", CPU {statistics.median(cpu[base]):.2f} s" if cpu[base] else ""
        print(f"baseline ({said}): median {median[base]:.2f} s{used}")
        used = f", CPU {statistics.median(cpu[label]):.2f} s" if cpu[label] else ""
        print(f"image-lineage {what}: median {median[label]:.2f} s{used} (runs: {runs})  {ratio:.2f}x")
    return 0


def scan_seconds(spec: str) -> float:
    """A warm scan's seconds in this process, the imports done first."""
    from image_lineage.sources import open_source  # noqa: PLC0415
    from image_lineage.sources.containerd import reading, source  # noqa: PLC0415, F401 - imported before timing

    started = time.perf_counter()
    open_source(spec).scan()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
