"""The reconstructed Dockerfiles of the sample build again, step for step.

The whole sample (``sample_images/build.py``) is built on a private throwaway dockerd.
Then, parents first, every image shown is rebuilt with the classic builder from the
Dockerfile ``insights.dockerfile`` writes for it, ``FROM`` its rebuilt parent (the
rebuilt image takes the original's tags; an untagged parent is named by its rebuilt
id). The rebuilt history must read as the original's, instruction for instruction.

What a history cannot hold is supplied, and only that: the files a ``COPY``/``ADD``
copied (taken from the layer that step made in the original, under the recorded
source name) and the build arguments its RUN steps recorded. The comparison ignores
only what must differ: the content hashes in ``COPY file:<sha256>`` (the builder
hashes file metadata too, and a source of several files becomes one directory) and
creation times, which it never reads.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import pytest

from image_lineage.insights import dockerfile
from image_lineage.lineage import Lineage, Node, build_lineage
from image_lineage.sources import open_source
from tests.conftest import unavailable

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
_SOURCE = re.compile(r"(file|dir|multi):[0-9a-f]{64}")  # no \b: "--chown=1:1dir:<sha>"
_COPY = re.compile(
    r"#\(nop\) (?:COPY|ADD) (?:--chown=\S*?)?(?P<source>(?:file|dir|multi):[0-9a-f]{64}) in (?P<dest>.+?)\s*$"
)
_WORKDIR = re.compile(r"#\(nop\) WORKDIR (?P<dir>.+?)\s*$")
_BUILD_ARGS = re.compile(r"^\|\d+(?P<args>(?: [^\s=]+=\S*)*) ")


def load_sample_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sample_build", REPO / "sample_images" / "build.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["sample_build"] = module  # before exec: its dataclasses need it
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Built:
    daemon: Any
    lineage: Lineage
    seconds: float


def start_fast_dockerd() -> Any:
    """A throwaway dockerd on overlay2 where the kernel allows it, else on vfs.

    The sample is about 120 build steps: about 40 s here on overlay2 and 4 minutes on
    vfs, which copies the whole rootfs for every layer. ``$IL_DOCKERD_STORAGE_DRIVER``
    picks the driver instead. Skips on a machine without the tools; fails under CI=true.
    """
    from testbed import DockerdStartError, DockerToolsMissing, ThrowawayDockerd  # noqa: PLC0415

    chosen = os.environ.get("IL_DOCKERD_STORAGE_DRIVER")
    errors = []
    for driver in [chosen] if chosen else ["overlay2", "vfs"]:
        try:
            daemon = ThrowawayDockerd(storage_driver=driver)
        except DockerToolsMissing as error:
            unavailable(f"no throwaway dockerd: {error}")
        try:
            return daemon.start()
        except DockerdStartError as error:
            daemon.stop()
            errors.append(f"{driver}: {error}")
    unavailable("dockerd did not start: " + "; ".join(errors))
    return None  # unreachable: unavailable() skips or fails


@pytest.fixture(scope="module")
def sample() -> Iterator[Built]:
    """The sample, built on a daemon of its own (its ~120 images stay out of other tests).

    Shown as the CLI shows it, plus the untagged first base-notebook, so that one
    Dockerfile names its parent by id.
    """
    daemon = start_fast_dockerd()
    try:
        started = time.monotonic()
        manifest, _ = load_sample_build().run_plan(daemon, log=lambda _line: None)
        seconds = time.monotonic() - started
        scan = open_source(f"docker:{daemon.host}", use_cache=False).scan(include_intermediate=True)
        # The images `docker images` lists, and the first base-notebook: untagged, with children.
        shown = [i for i in scan.images if not i.intermediate or i.id == manifest["base-notebook-old"]]
        yield Built(daemon, build_lineage(shown, scan.source, scan.diagnostics), seconds)
    finally:
        daemon.stop()


def instructions(daemon: Any, image_id: str) -> list[str]:
    """The image's history, oldest first, with copied-content hashes made comparable."""
    out = daemon.docker("image", "history", "--no-trunc", "--format", "{{json .CreatedBy}}", image_id).stdout
    return [_SOURCE.sub("<source>", json.loads(line)) for line in reversed(out.splitlines())]


def parents_first(lineage: Lineage) -> list[Node]:
    return sorted(lineage.nodes(), key=lambda node: (len(lineage.ancestors(node.id)), node.id))


class SavedImages:
    """``docker save`` of the originals: each step's own layer, to take copied files from."""

    def __init__(self, daemon: Any, ids: list[str], where: Path) -> None:
        self.path = where / "originals.tar"
        daemon.docker("save", "-o", str(self.path), *ids)
        self.tar = tarfile.open(self.path)  # noqa: SIM115 - closed by the test
        manifest = json.load(self._file("manifest.json"))
        self.layers = {entry["Config"].removesuffix(".json"): entry["Layers"] for entry in manifest}

    def _file(self, name: str) -> Any:
        handle = self.tar.extractfile(name)
        assert handle is not None
        return handle

    def history(self, image_id: str) -> list[dict[str, Any]]:
        config = json.load(self._file(f"{image_id.removeprefix('sha256:')}.json"))
        return list(config["history"])

    def layer_of_step(self, image_id: str, step: int) -> tarfile.TarFile:
        history = self.history(image_id)
        index = sum(1 for entry in history[:step] if not entry.get("empty_layer"))
        layer = self.layers[image_id.removeprefix("sha256:")][index]
        return tarfile.open(fileobj=self._file(layer))


def copy_sources(saved: SavedImages, image_id: str, own: int, context: Path) -> None:
    """Put into ``context`` what each COPY/ADD of the image's own steps copied, by its recorded name."""
    history = saved.history(image_id)
    workdir = "/"
    for number, entry in enumerate(history):
        created_by = entry.get("created_by", "")
        if found := _WORKDIR.search(created_by):
            workdir = found["dir"]
        copy = _COPY.search(created_by)
        if number < len(history) - own or not copy:
            continue
        dest = PurePosixPath(workdir, copy["dest"]).as_posix().lstrip("/")
        one_file = copy["source"].startswith("file:") and not copy["dest"].endswith(("/", "."))
        target = context / copy["source"]
        layer = saved.layer_of_step(image_id, number)
        for member in layer.getmembers():
            if one_file and member.name.rstrip("/") == dest and member.isfile():
                extract(layer, member, target)
            elif not one_file and member.name.startswith(f"{dest}/".lstrip("/")):
                inner = member.name[len(dest) :].strip("/") if dest else member.name
                if inner:
                    extract(layer, member, target / inner)
        if not target.exists():
            target.mkdir(parents=True) if not one_file else target.write_text("")


def extract(layer: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if member.isdir():
        target.mkdir(exist_ok=True)
    elif member.issym():
        target.symlink_to(member.linkname)
    elif member.isfile():
        handle = layer.extractfile(member)
        assert handle is not None
        target.write_bytes(handle.read())
        target.chmod(member.mode & 0o777)


def build_args(saved: SavedImages, image_id: str, own: int) -> list[str]:
    args: dict[str, str] = {}
    for entry in saved.history(image_id)[-own:]:
        if found := _BUILD_ARGS.match(entry.get("created_by", "")):
            args.update(pair.split("=", 1) for pair in found["args"].split())  # type: ignore[misc]
    return [arg for name, value in args.items() for arg in ("--build-arg", f"{name}={value}")]


def test_every_reconstructed_dockerfile_builds_the_same_steps(sample: Built, tmp_path: Path) -> None:
    daemon, lineage = sample.daemon, sample.lineage
    assert lineage.diagnostics == ()
    nodes = parents_first(lineage)
    children = [node for node in nodes if node.parent is not None]
    assert len(children) == 15  # every image shown but the two imported roots
    saved = SavedImages(daemon, [node.id for node in children], tmp_path)
    texts = {node.id: dockerfile(lineage, node.id) for node in children}  # before any tag moves
    rebuilt: dict[str, str] = {node.id: node.id for node in nodes if node.parent is None}
    started = time.monotonic()
    mismatches = []
    for node in children:
        assert node.parent is not None
        own = sum(1 for step in node.steps if step.introduced_by == node.id)
        context = tmp_path / node.id.removeprefix("sha256:")[:12]
        context.mkdir()
        text = texts[node.id]
        parent = lineage.node(node.parent).image
        if not parent.tags:  # named by id: the rebuilt parent has another one
            text = text.replace(
                f"FROM {node.parent.removeprefix('sha256:')}",
                f"FROM {rebuilt[node.parent].removeprefix('sha256:')}",
            )
        (context / "Dockerfile").write_text(text)
        copy_sources(saved, node.id, own, context)
        image_id = daemon.build(context, None, *build_args(saved, node.id, own))
        rebuilt[node.id] = image_id
        for tag in node.image.tags:
            daemon.docker("tag", image_id, tag)
        again, before = instructions(daemon, image_id), instructions(daemon, node.id)
        if again != before:
            differ = [(a, b) for a, b in zip(again, before, strict=False) if a != b][:1]
            mismatches.append(f"{node.image.display_name}: {len(again)} vs {len(before)} steps, {differ}")
        original_layers = len(node.image.layers)
        rebuilt_layers = json.loads(daemon.docker("image", "inspect", image_id).stdout)[0]["RootFS"]["Layers"]
        assert len(rebuilt_layers) == original_layers, node.image.display_name
    took = time.monotonic() - started
    print(f"sample built in {sample.seconds:.0f}s; {len(children)} images rebuilt in {took:.0f}s")
    assert mismatches == []
