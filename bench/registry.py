"""Benchmark: reading a registry cold and warm against the plain serial GETs such a scan needs.

    python bench/registry.py [--images N] [--repositories R] [--repeat K]

Writes an OCI layout of N generated images (default 300: trees of a base, its children and
grandchildren, small layers) and pushes each with ``skopeo copy`` to a throwaway local
``docker-registry`` (Debian's distribution 2.8), as ``bench/rNNN:tM`` over R repositories
(default 120). Then, as whole processes, interleaved in the same run:

* baseline: one Python process sending the plain serial GETs a scan needs, on one
  keep-alive connection: the catalog, each repository's tag list, each tag's manifest and
  each image's config (``--serial URL`` runs it);
* cold: ``image-lineage export --format json --source registry:URL`` with an empty cache;
* warm: the same command again on the cache the cold run left.

With ``--skopeo``, also what a user would script today, as issue 9 measured it: the
catalog, then serial ``skopeo list-tags``, ``skopeo inspect`` and ``skopeo inspect
--config`` per tag (in every run too, interleaved: ~15 s each).

For each process it also reports its own CPU time (user + system, from ``getrusage`` of the
finished child), steadier than wall time on a busy machine (the registry's CPU is not in it).
Prints each median, each ratio to a baseline as the median of the runs' own ratios, and
checks every parent.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testbed.oci_layout import AMD64, OCI_REF_NAME_KEY, Image, OciLayout  # noqa: E402
from testbed.registry import ThrowawayRegistry  # noqa: E402

ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)


def build(images: int, repositories: int) -> tuple[OciLayout, list[str], dict[str, str | None]]:
    """The layout, each image's ``repo:tag``, and each config digest's parent config digest.

    Image k's parent is image (k - 1) // 3: a tree three wide, a few levels deep.
    """
    layout = OciLayout()
    built: list[Image] = []
    names: list[str] = []
    parents: dict[str, str | None] = {}
    for k in range(images):
        parent = built[(k - 1) // 3] if k else Image.scratch(AMD64)
        image = parent.run(f"RUN /bin/sh -c step-{k}", {f"opt/step-{k}.txt": f"image {k}\n".encode() * 20})
        built.append(image)
        name = f"bench/r{k % repositories:03d}:t{k // repositories}"
        descriptor = {**layout.add_image(image)}
        descriptor.pop("platform")
        descriptor["annotations"] = {OCI_REF_NAME_KEY: f"ref{k}"}
        layout.entries.append(descriptor)
        names.append(name)
        parents[image.config_digest] = built[(k - 1) // 3].config_digest if k else None
    return layout, names, parents


def serial(url: str) -> int:
    """The plain serial GETs a scan needs, on one keep-alive connection; the requests sent."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    sent = 0

    def get(path: str, accept: str = "application/json") -> bytes:
        nonlocal sent
        sent += 1
        connection.request("GET", path, headers={"Accept": accept})
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"GET {path}: {answer.status}")
        return body

    for repository in json.loads(get("/v2/_catalog?n=1000"))["repositories"]:
        for tag in json.loads(get(f"/v2/{repository}/tags/list"))["tags"]:
            manifest = json.loads(get(f"/v2/{repository}/manifests/{tag}", ACCEPT))
            get(f"/v2/{repository}/blobs/{manifest['config']['digest']}")
    return sent


class Timed(NamedTuple):
    wall: float  # seconds
    cpu: float  # the process's own user + system seconds
    stdout: bytes


def timed(command: list[str], env: dict[str, str]) -> Timed:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(wall, cpu, done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--repositories", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skopeo", action="store_true", help="also time the skopeo script (~15 s a run)")
    parser.add_argument("--serial", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serial:
        print(serial(args.serial))
        return 0
    layout, names, parents = build(args.images, args.repositories)
    with tempfile.TemporaryDirectory() as scratch, ThrowawayRegistry() as registry:
        archive = Path(scratch) / "layout.tar"
        archive.write_bytes(layout.tar_bytes())
        (archive.parent / "auth.json").write_text('{"auths": {}}')
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda k: push(registry, archive, k, names[k]), range(len(names))))
        took = time.perf_counter() - started
        print(f"pushed {len(names)} images to {args.repositories} repositories in {took:.0f} s")
        ours = [sys.executable, "-m", "image_lineage", "export", "--format", "json", "--platform", "all"]
        ours += ["--source", f"registry:{registry.url}"]
        runs: dict[str, list[Timed]] = {"serial": [], "skopeo": [], "cold": [], "warm": []}
        env = dict(os.environ)
        for run in range(args.repeat):  # interleaved, so all see the same machine load
            env["IMAGE_LINEAGE_CACHE_DIR"] = str(Path(scratch) / f"cache-{run}")
            serial_run = timed([sys.executable, __file__, "--serial", registry.url], env)
            runs["serial"].append(serial_run)
            if args.skopeo:
                runs["skopeo"].append(skopeo_script(registry, archive.parent / "auth.json"))
            cold = timed(ours, env)
            runs["cold"].append(cold)
            check(cold.stdout, parents)
            before = served(registry)
            runs["warm"].append(timed(ours, env))
            warm_requests = served(registry)[len(before) :]
    report(runs, int(serial_run.stdout))
    kinds = sorted(
        {
            f"{method} {path.split('?')[0].rsplit('/', 2)[-2].replace('v2', 'catalog')}"
            for method, path in warm_requests
        }
    )
    print(f"a warm scan sent {len(warm_requests)} requests: {', '.join(kinds)}")
    return 0


def push(registry: ThrowawayRegistry, archive: Path, number: int, name: str) -> None:
    """``skopeo copy`` one image of the layout (several at once: one auth file written before)."""
    auth = archive.parent / "auth.json"
    subprocess.run(
        [
            registry.skopeo_path, "copy", "--quiet", "--dest-tls-verify=false", "--dest-authfile", str(auth),
            f"oci-archive:{archive}:ref{number}", f"docker://{registry.address}/{name}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip


def report(runs: dict[str, list[Timed]], sent: int) -> None:
    """Each case's median wall and CPU time, and its ratio to each baseline as the median of the
    runs' own ratios (a run's cases ran back to back: a busy machine's drift cancels within it)."""
    wall = {case: statistics.median(r.wall for r in done) for case, done in runs.items() if done}
    cpu = {case: statistics.median(r.cpu for r in done) for case, done in runs.items() if done}

    def ratio(case: str, baseline: str) -> str:
        if baseline not in wall:
            return ""
        mine = zip(runs[case], runs[baseline], strict=True)
        return f"{statistics.median(a.wall / b.wall for a, b in mine):.3f}x"

    print(f"median of {len(runs['serial'])} runs (wall seconds of each run in brackets)")
    print(f"{'case':<46}{'wall':>8}{'cpu':>8}   vs serial GETs   vs skopeo script")
    for label, case in (
        (f"plain serial GETs ({sent} requests)", "serial"),
        ("skopeo list-tags + inspect + inspect --config", "skopeo"),
        ("image-lineage export, cold cache", "cold"),
        ("image-lineage export, warm cache", "warm"),
    ):
        if case in wall:
            print(
                f"{label:<46}{wall[case]:7.2f}s{cpu[case]:7.2f}s   {ratio(case, 'serial'):>14}"
                f"   {ratio(case, 'skopeo'):>16}   ({_runs([r.wall for r in runs[case]])})"
            )


def skopeo_script(registry: ThrowawayRegistry, auth: Path) -> Timed:
    """The catalog, then serial ``skopeo list-tags``, ``inspect``, ``inspect --config``: wall and
    the skopeo processes' CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    flags = ["--tls-verify=false", "--authfile", str(auth)]

    def skopeo(*words: str) -> bytes:
        done = subprocess.run([registry.skopeo_path, *words], check=True, capture_output=True, timeout=60)
        return done.stdout

    catalog = json.loads(http_get(f"{registry.url}/v2/_catalog?n=1000"))
    for repository in catalog["repositories"]:
        reference = f"docker://{registry.address}/{repository}"
        for tag in json.loads(skopeo("list-tags", *flags, reference))["Tags"]:
            skopeo("inspect", *flags, f"{reference}:{tag}")
            skopeo("inspect", "--config", *flags, f"{reference}:{tag}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Timed(wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), b"")


def http_get(url: str) -> bytes:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    connection.request("GET", f"{parts.path}?{parts.query}")
    return connection.getresponse().read()


def served(registry: ThrowawayRegistry) -> list[tuple[str, str]]:
    """(method, path) of every request in the registry's access log."""
    return re.findall(r'"([A-Z]+) (\S+) HTTP/[\d.]+"', registry.log_path.read_text(errors="replace"))


def check(output: bytes, parents: dict[str, str | None]) -> None:
    document = json.loads(output)
    found = {image["id"]: image["parent"] for image in document["images"]}
    if found != parents:
        wrong = sum(found.get(k) != v for k, v in parents.items())
        raise SystemExit(f"{wrong} of {len(parents)} parents are wrong")


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
