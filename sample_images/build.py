#!/usr/bin/env python3
"""Build the sample image hierarchy in a throwaway dockerd, then snapshot it.

Usage::

    python sample_images/build.py                 # build, print, snapshot, stop
    python sample_images/build.py --snapshot-cmd 'python -m image_lineage snapshot --all -o out.json'
    python sample_images/build.py --no-snapshot --serve   # keep the daemon up for poking around
    python sample_images/build.py --manifest /tmp/ids.json  # write tag -> image id (and the oddities)

Everything is built offline: the two roots are ``docker import``s of the
host's static busybox plus an offline package mirror and stand-ins for
``apt-get``/``wget`` (``offline_mirror.py``); every other image is a legacy-builder
(``DOCKER_BUILDKIT=0``) build of a Dockerfile in this folder.  See README.md for the
hierarchy.

The last step runs the snapshot command (``--snapshot-cmd``, else the
``IMAGE_LINEAGE_SNAPSHOT_CMD`` env var, else
``python -m image_lineage snapshot --all -o sample_images/sample-snapshot.json``)
with ``DOCKER_HOST`` pointing at the throwaway daemon, from the repo root,
with ``<repo>/src`` prepended to ``PYTHONPATH``.  The default command is skipped
with a message when ``image_lineage`` is not importable yet.

Needs root and ``apt-get install -y docker.io busybox-static``.

Reuse from another script (a benchmark, a test) against your own daemon::

    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("sample_build", "sample_images/build.py")
    sample_build = importlib.util.module_from_spec(spec)
    sys.modules["sample_build"] = sample_build  # before exec: the dataclasses need it
    spec.loader.exec_module(sample_build)
    manifest, timings = sample_build.run_plan(daemon)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from testbed.busybox_rootfs import busybox_version  # noqa: E402
from testbed.dockerd import ThrowawayDockerd  # noqa: E402

sys.path.insert(0, str(HERE))
import offline_mirror  # noqa: E402

#: Tag used for the Jupyter images.
JUPYTER_TAG = "2026-11"

DEFAULT_SNAPSHOT_CMD = "python -m image_lineage snapshot --all -o sample_images/sample-snapshot.json"
SNAPSHOT_ENV_VAR = "IMAGE_LINEAGE_SNAPSHOT_CMD"

#: The tutorial root's /etc/os-release: it calls itself buster, as the image's tag does.
DEBIAN_OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\n'
    'NAME="Debian GNU/Linux"\n'
    'VERSION_ID="10"\n'
    'VERSION="10 (buster)"\n'
    "VERSION_CODENAME=buster\n"
    "ID=debian\n"
)


@dataclass(frozen=True)
class Step:
    """One thing to do to the daemon, in order."""

    key: str  # manifest key
    kind: str  # "import" | "build" | "tag"
    tag: str | None = None  # image tag to create
    context: str | None = None  # build context, relative to this folder
    build_args: dict[str, str] = field(default_factory=dict)
    source: str | None = None  # for "tag": existing image
    #: for "import": a function giving the files added to the busybox root, and the
    #: import message (``docker history`` shows it as the root step's comment)
    import_files: Callable[[], dict[str, bytes]] | None = None
    message: str = ""
    note: str = ""


def j(name: str) -> str:
    return f"jupyter/{name}:{JUPYTER_TAG}"


#: The build plan, in dependency order.
PLAN: tuple[Step, ...] = (
    Step(
        "busybox-root",
        "import",
        tag="sample/busybox-root:latest",
        import_files=offline_mirror.jupyter_root_files,
        message="Imported from busybox-{busybox}-rootfs.tar (dash as /bin/sh; apt, conda, pypi mirror)",
        note="root of the Jupyter family (docker import, no parent)",
    ),
    Step(
        "debian-root",
        "import",
        tag="tutorial/debian:buster-slim",
        import_files=lambda: offline_mirror.tutorial_root_files(DEBIAN_OS_RELEASE, "10.6\n"),
        message="Imported from buster-slim-rootfs.tar (busybox {busybox}, dash as /bin/sh; apt mirror)",
        note="second root, for the tutorial family",
    ),
    Step(
        "docker-stacks-foundation",
        "build",
        tag=j("docker-stacks-foundation"),
        context="jupyter/docker-stacks-foundation",
    ),
    Step(
        "base-notebook-old",
        "build",
        tag=j("base-notebook"),
        context="jupyter/base-notebook",
        build_args={"JUPYTERLAB_VERSION": "4.2.5"},
        note="first build of base-notebook; loses its tag when rebuilt below",
    ),
    Step(
        "minimal-notebook",
        "build",
        tag=j("minimal-notebook"),
        context="jupyter/minimal-notebook",
        note="built on the OLD base-notebook",
    ),
    Step("scipy-notebook", "build", tag=j("scipy-notebook"), context="jupyter/scipy-notebook"),
    Step(
        "scipy-notebook-latest",
        "tag",
        tag="jupyter/scipy-notebook:latest",
        source=j("scipy-notebook"),
        note="second tag on the same image id",
    ),
    Step("r-notebook", "build", tag=j("r-notebook"), context="jupyter/r-notebook"),
    Step("tensorflow-notebook", "build", tag=j("tensorflow-notebook"), context="jupyter/tensorflow-notebook"),
    Step("pytorch-notebook", "build", tag=j("pytorch-notebook"), context="jupyter/pytorch-notebook"),
    Step(
        "datascience-notebook", "build", tag=j("datascience-notebook"), context="jupyter/datascience-notebook"
    ),
    Step(
        "base-notebook",
        "build",
        tag=j("base-notebook"),
        context="jupyter/base-notebook",
        note="rebuild with the default JUPYTERLAB_VERSION: the old one becomes an untagged image "
        "with children (hidden by `docker images`, shown by `docker images -a`)",
    ),
    Step("python", "build", tag="tutorial/python:3.7.9", context="tutorial/python"),
    Step("my-first-image", "build", tag="tutorial/my-first-image:latest", context="tutorial/my-first-image"),
    Step(
        "outside-world-old",
        "build",
        tag="tutorial/outside-world:latest",
        context="tutorial/outside-world",
        build_args={"APP_SRC": "app-v1.py"},
        note="first build of outside-world; becomes a dangling <none> when rebuilt below",
    ),
    Step("outside-world", "build", tag="tutorial/outside-world:latest", context="tutorial/outside-world"),
    Step(
        "multistage-app",
        "build",
        tag="tutorial/multistage-app:latest",
        context="tutorial/multistage-app",
        note="legacy builder leaves the 'builder' stage as a dangling <none> image",
    ),
)


def run_plan(
    d: ThrowawayDockerd,
    plan: tuple[Step, ...] = PLAN,
    *,
    verbose: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, str], list[tuple[str, float]]]:
    """Execute ``plan`` against a running daemon.

    Returns ``(manifest, timings)``: manifest maps step keys to image ids
    (plus ``dangling`` and ``untagged_with_children`` lists), timings is a
    list of ``(step key, seconds)``.
    """
    manifest: dict[str, str] = {}
    timings: list[tuple[str, float]] = []
    for step in plan:
        t0 = time.monotonic()
        if step.kind == "import":
            if not step.tag:
                raise ValueError(f"import step {step.key} needs a tag")
            files = step.import_files() if step.import_files else None
            message = step.message.format(busybox=busybox_version(d.tools.busybox))
            image_id = d.import_busybox(step.tag, extra_files=files, message=message)
        elif step.kind == "build":
            if not (step.tag and step.context):
                raise ValueError(f"build step {step.key} needs tag and context")
            args: list[str] = []
            for k, v in step.build_args.items():
                args += ["--build-arg", f"{k}={v}"]
            if verbose:
                # Same as d.build() but with the builder's output shown.
                res = d.docker("build", "-t", step.tag, *args, str(HERE / step.context))
                log(res.stdout)
                image_id = d.docker("image", "inspect", "--format", "{{.Id}}", step.tag).stdout.strip()
            else:
                image_id = d.build(HERE / step.context, step.tag, *args)
        elif step.kind == "tag":
            if not (step.tag and step.source):
                raise ValueError(f"tag step {step.key} needs tag and source")
            d.docker("tag", step.source, step.tag)
            image_id = d.docker("image", "inspect", "--format", "{{.Id}}", step.tag).stdout.strip()
        else:  # pragma: no cover - plan is static
            raise ValueError(step.kind)
        dt = time.monotonic() - t0
        timings.append((step.key, dt))
        manifest[step.key] = image_id
        log(
            f"  {dt:6.1f}s  {step.kind:6s} {step.tag:45s} {image_id[7:19]}"
            + (f"   # {step.note}" if step.note else "")
        )
    return manifest, timings


def find_oddities(d: ThrowawayDockerd) -> dict[str, list[str]]:
    """Ids of the dangling images ``docker images`` lists (untagged, childless)."""
    listed = d.docker("images", "--filter", "dangling=true", "-q", "--no-trunc").stdout.split()
    return {"dangling_listed": sorted(set(listed))}


def snapshot(d: ThrowawayDockerd, cmd_text: str | None) -> int:
    """Run the snapshot command against ``d``; return its exit code (0 if skipped)."""
    is_default = cmd_text is None
    cmd_text = cmd_text or DEFAULT_SNAPSHOT_CMD
    argv = shlex.split(cmd_text)
    env = d.env
    src = str(REPO_ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if argv and argv[0] in {"python", "python3"}:
        argv[0] = sys.executable  # the interpreter running this script (e.g. the venv's)
    if is_default:
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                "import importlib.util, sys; "
                "sys.exit(0 if importlib.util.find_spec('image_lineage.__main__') else 3)",
            ],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0:
            print(
                f"\n== snapshot: SKIPPED: `python -m image_lineage` is not importable yet "
                f"(looked in {src} and the installed packages).\n"
                f"   Run later: {cmd_text}\n"
                f"   (or set {SNAPSHOT_ENV_VAR} / pass --snapshot-cmd)"
            )
            return 0
    print(f"\n== snapshot: {' '.join(shlex.quote(a) for a in argv)}   (DOCKER_HOST={d.host})")
    t0 = time.monotonic()
    res = subprocess.run(argv, env=env, cwd=REPO_ROOT, check=False)
    print(f"== snapshot: exit {res.returncode} after {time.monotonic() - t0:.1f}s")
    return res.returncode


def du_bytes(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += (Path(dirpath) / f).lstat().st_size
    return total


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument(
        "--snapshot-cmd",
        default=None,
        help=f"command to run last (default: ${SNAPSHOT_ENV_VAR} or '{DEFAULT_SNAPSHOT_CMD}')",
    )
    ap.add_argument("--no-snapshot", action="store_true", help="skip the snapshot step")
    ap.add_argument(
        "--manifest", type=Path, default=None, help="write a JSON file mapping build steps to image ids"
    )
    ap.add_argument("--verbose", "-v", action="store_true", help="show the builder's output")
    ap.add_argument(
        "--serve", action="store_true", help="after everything, keep the daemon running until Ctrl-C"
    )
    ap.add_argument("--keep-dir", action="store_true", help="do not delete the daemon's temp dir")
    ap.add_argument(
        "--storage-driver",
        default=None,
        help="dockerd storage driver (default: $IL_DOCKERD_STORAGE_DRIVER or vfs; "
        "overlay2 is ~5x faster here)",
    )
    return ap.parse_args(argv)


def print_report(d: ThrowawayDockerd, timings: list[tuple[str, float]], build_s: float) -> None:
    """Timings, disk use, ``docker images`` and one ``docker history``."""
    print(
        f"== built {len(timings)} steps in {build_s:.1f}s; "
        f"data root holds {du_bytes(d.data_root) / 1e6:.0f} MB"
        + (" (vfs keeps one full rootfs copy per layer)" if d.storage_driver == "vfs" else "")
    )
    slow = sorted(timings, key=lambda kv: kv[1], reverse=True)[:5]
    print("== slowest steps: " + ", ".join(f"{k} {s:.1f}s" for k, s in slow))
    print("\n$ docker images")
    print(d.docker("images").stdout.rstrip())
    print("\n$ docker images --filter dangling=true")
    print(d.docker("images", "--filter", "dangling=true").stdout.rstrip())
    n_all = len(set(d.docker("images", "-a", "-q", "--no-trunc").stdout.split()))
    print(f"\n(`docker images -a` lists {n_all} distinct image ids, build intermediates included)")
    print(f"\n$ docker history {j('scipy-notebook')}")
    print(d.docker("history", j("scipy-notebook")).stdout.rstrip())


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def serve(d: ThrowawayDockerd) -> None:
    print(f"\n== serving; in another shell:  export DOCKER_HOST={d.host}\n   Ctrl-C to stop.")
    # A background job ignores Ctrl-C; let `kill` (SIGTERM) stop and clean up the daemon too.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        while d.running:
            time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    snapshot_cmd = args.snapshot_cmd or os.environ.get(SNAPSHOT_ENV_VAR) or None

    t_all = time.monotonic()
    d = ThrowawayDockerd(keep_dir=args.keep_dir, storage_driver=args.storage_driver)
    rc = 0
    try:
        d.start()
        print(
            f"== dockerd up in {d.last_start_seconds:.2f}s: {d.host} "
            f"(pid {d.pid}, dir {d.dir}, storage driver {d.storage_driver})"
        )
        print(f"== docker CLI: {d.tools.docker}")
        print("== building")
        t_build = time.monotonic()
        manifest, timings = run_plan(d, verbose=args.verbose)
        print_report(d, timings, time.monotonic() - t_build)

        if args.manifest:
            data = {"docker_host": d.host, "images": manifest, **find_oddities(d)}
            args.manifest.write_text(json.dumps(data, indent=2) + "\n")
            print(f"\n== manifest written to {args.manifest}")

        if not args.no_snapshot:
            rc = snapshot(d, snapshot_cmd)

        if args.serve:
            serve(d)
    finally:
        t_stop = time.monotonic()
        d.stop(remove=not args.keep_dir)
        print(
            f"== dockerd stopped{' and removed' if not args.keep_dir else ''} "
            f"in {time.monotonic() - t_stop:.1f}s; total {time.monotonic() - t_all:.1f}s"
        )
    return rc


if __name__ == "__main__":
    sys.exit(main())
