"""``image-lineage files`` on real images: built on Engine 20.10 (classic store, legacy builder),
saved (``docker save``), loaded into Engine 28.5 (containerd store), pushed to a registry (skopeo).

The build's steps delete a file, rewrite one, remove a folder, make one opaque, add links and
names with spaces and non-ASCII characters. Every source must give the same report, and its
numbers must match an independent reading of the same layer tars: ``tar -tv`` run on each
layer blob of the saved archive, its lines parsed here.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import main
from tests.conftest import unavailable
from tests.integration.test_podman import podman  # noqa: F401 - the fixture

pytestmark = pytest.mark.docker

ROOT_FILES = {
    "data/old.txt": "o" * 1000,
    "data/keep.txt": "k" * 2000,
    "srv/dir/a": "a" * 300,
    "srv/dir/b": "b" * 400,
    "cache/c1": "c" * 50,
}
STEPS = (
    "RUN rm /data/old.txt",
    "RUN head -c 5000 /dev/zero > /data/keep.txt",
    "RUN rm -rf /srv/dir",
    # vfs (the test daemon's driver) records no opaque folder: the marker is written as the
    # layer tar's own entry, which every reader (the engines, this tool) takes as opaque.
    "RUN rm -rf /cache && mkdir /cache && echo fresh > /cache/new && touch /cache/.wh..wh..opq",
    "RUN ln -s /data/keep.txt /data/link && echo hard > /data/h1 && ln /data/h1 /data/h2"
    ' && echo hi > "/data/with space é.txt"',
)
TAG = "contents/app:1"
LETTERS = {"file": "-", "dir": "d", "symlink": "l", "hardlink": "h", "other": "?"}


@pytest.fixture(scope="module")
def built(dockerd: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The family on Engine 20.10, and its ``docker save`` archive."""
    dockerd.import_busybox("contents/root:1", extra_files=ROOT_FILES)
    image_id = dockerd.build("FROM contents/root:1\n" + "\n".join(STEPS) + "\n", TAG)
    archive = tmp_path_factory.mktemp("contents") / "app.tar"
    dockerd.docker("save", "-o", str(archive), TAG, "contents/root:1")
    return archive, image_id


def report(*argv: str) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["files", "--no-cache", "--format", "json", *argv], stdout=out, stderr=err)
    assert status == 0, err.getvalue()
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def tar_listing(blob: bytes, folder: Path) -> dict[str, tuple[str, int]]:
    """``tar -tv`` of one layer blob: path -> (type letter, size), parsed from its lines."""
    path = folder / "layer.blob"
    path.write_bytes(blob)
    lines = subprocess.run(
        ["tar", "--quoting-style=literal", "-tvf", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    found = {}
    for line in lines:
        match = re.match(r"(\S)\S+ \S+\s+(\d+) \S+ \S+ (.*?)(?: -> .*| link to .*)?$", line)
        assert match, line
        kind, size, name = match.groups()
        found["/" + name.removeprefix("./").rstrip("/")] = (kind, int(size))
    return found


def saved_layers(archive: Path, folder: Path) -> list[dict[str, tuple[str, int]]]:
    """Each layer of the image, from the archive's manifest.json, read by ``tar -tv``."""
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        entry = next(e for e in manifest if TAG in (e.get("RepoTags") or []))
        return [tar_listing(tar.extractfile(name).read(), folder) for name in entry["Layers"]]  # type: ignore[union-attr]


def test_the_report_matches_an_independent_reading_of_the_layers(
    built: tuple[Path, str], tmp_path: Path
) -> None:
    archive, image_id = built
    ours = report("--source", f"archive:{archive}", TAG)
    theirs = saved_layers(archive, tmp_path)
    assert ours["image"]["id"] == image_id
    assert len(ours["layers"]) == len(theirs) == 1 + len(STEPS)
    for layer, listed in zip(ours["layers"], theirs, strict=True):
        entries = layer["added"] + layer["changed"]
        # every file tar lists (whiteouts apart) is added or changed with tar's size, or is an
        # unchanged folder listed again
        files = {p: s for p, (k, s) in listed.items() if k == "-" and ".wh." not in p}
        assert {e["path"]: e["size"] for e in entries if e["type"] == "file"} == files
        assert {e["path"]: LETTERS[e["type"]] for e in entries} == {
            p: k for p, (k, _) in listed.items() if p in {e["path"] for e in entries}
        }
        assert {p for p, (k, _) in listed.items() if k != "d" and ".wh." not in p} <= {
            e["path"] for e in entries
        }
        assert layer["size"] == sum(s for p, (k, s) in listed.items() if k == "-" and ".wh." not in p)
    _, rm_old, rewrite, rm_dir, opaque, links = ours["layers"]
    base = theirs[0]
    assert [(e["path"], e["size"]) for e in rm_old["removed"]] == [
        ("/data/old.txt", base["/data/old.txt"][1])
    ]
    assert [(e["path"], e["size"]) for e in rewrite["changed"]] == [("/data/keep.txt", 5000)]
    assert [(e["path"], e["size"]) for e in rm_dir["removed"]] == [
        ("/srv/dir", 0),
        ("/srv/dir/a", base["/srv/dir/a"][1]),
        ("/srv/dir/b", base["/srv/dir/b"][1]),
    ]
    assert ("/cache/c1", base["/cache/c1"][1]) in [(e["path"], e["size"]) for e in opaque["removed"]]
    kinds = {e["path"]: (e["type"], e.get("link")) for e in links["added"] + links["changed"]}
    assert kinds["/data/link"] == ("symlink", "/data/keep.txt")
    # a hard link's first name in a layer tar is the file, the other names link to it
    assert {kinds["/data/h1"], kinds["/data/h2"]} in (
        {("file", None), ("hardlink", "/data/h1")},
        {("file", None), ("hardlink", "/data/h2")},
    )
    assert kinds["/data/with space é.txt"] == ("file", None)
    hidden = sum(
        base[p][1] for p in ("/data/old.txt", "/data/keep.txt", "/srv/dir/a", "/srv/dir/b", "/cache/c1")
    )
    assert ours["hidden_bytes"] == hidden
    # dive: keep.txt twice (2000 + 5000), old.txt (1000 + a file whiteout's 0), and c1 when the
    # engine wrote its own whiteout beside the opaque marker (vfs does: it diffs by walking)
    whited = "/cache/.wh.c1" in theirs[4]
    expected = (
        base["/data/keep.txt"][1] + 5000 + base["/data/old.txt"][1] + (base["/cache/c1"][1] if whited else 0)
    )
    assert ours["wasted_bytes"] == expected
    assert ours["parent"]["id"] is not None


@pytest.fixture(scope="module")
def expected(built: tuple[Path, str]) -> dict[str, Any]:
    return report("--source", f"archive:{built[0]}", TAG)


def test_the_classic_engine_gives_the_same_report(dockerd: Any, expected: dict[str, Any]) -> None:
    assert report("--source", f"docker:{dockerd.host}", TAG) == expected


def test_the_containerd_store_gives_the_same_report(
    engine_28: Any, built: tuple[Path, str], expected: dict[str, Any]
) -> None:
    engine_28.docker("load", "-i", str(built[0]))
    assert report("--source", f"docker:{engine_28.host}", TAG) == expected


def test_a_registry_gives_the_same_report(
    anonymous_registry: Any, built: tuple[Path, str], expected: dict[str, Any]
) -> None:
    if shutil.which("skopeo") is None:
        unavailable("skopeo is not installed (apt-get install skopeo)")
    anonymous_registry.push(built[0], TAG, "contents/app:1")
    anonymous_registry.push(built[0], "contents/root:1", "contents/root:1")
    found = report(
        "--source", f"registry:http://{anonymous_registry.address}", f"{anonymous_registry.address}/{TAG}"
    )
    assert found["layers"] == expected["layers"]
    assert (found["hidden_bytes"], found["wasted_bytes"]) == (
        expected["hidden_bytes"],
        expected["wasted_bytes"],
    )


def test_a_compressed_archive_is_read_in_one_pass(
    built: tuple[Path, str], tmp_path: Path, expected: dict[str, Any]
) -> None:
    packed = tmp_path / "app.tar.gz"
    subprocess.run(["gzip", "-k", "-c", str(built[0])], stdout=packed.open("wb"), check=True)
    assert report("--source", f"archive:{packed}", TAG) == expected


@pytest.mark.podman
def test_podman_gives_the_same_layers(podman: Any, built: tuple[Path, str], expected: dict[str, Any]) -> None:  # noqa: F811
    podman.podman("load", "-i", str(built[0]))
    found = report("--source", f"podman:{podman.host}", built[1])
    assert found["image"]["id"] == built[1]
    assert found["layers"] == expected["layers"]
    assert (found["hidden_bytes"], found["wasted_bytes"]) == (
        expected["hidden_bytes"],
        expected["wasted_bytes"],
    )


def files_view(at: Any) -> str:
    """The Files view's HTML on the page ("" before it is read); the page's style is an HTML element too."""
    return next((element.value for element in at.html if "il-files" in element.value), "")


@pytest.mark.usefixtures("built")
def test_the_app_files_view_on_the_engine(dockerd: Any) -> None:
    """The inspector's Files view: read when asked, filters, the step that removed a folder."""
    from tests.app.test_app import ok, pick, start  # noqa: PLC0415 - the app's helpers need Streamlit

    at = start("docker")
    at.text_input(key="endpoint").input(dockerd.host).run()
    pick(at, TAG)
    ok(at)
    assert files_view(at) == ""  # nothing read before asked
    at.toggle(key="files_read").set_value(True).run()
    ok(at)
    assert "keep.txt" in files_view(at)
    at.radio(key="files_filter").set_value("step").run()
    at.selectbox(key="files_step").set_value(3).run()  # RUN rm -rf /srv/dir
    ok(at)
    shown = files_view(at)
    assert "- 300 B" in shown
    assert "- 400 B" in shown
    at.radio(key="files_filter").set_value("hidden").run()
    ok(at)
    assert "old.txt" in files_view(at)


@pytest.mark.usefixtures("built")
def test_the_lesson_says_what_each_step_changed(dockerd: Any) -> None:
    from tests.app.test_app import ok, pick, start  # noqa: PLC0415 - the app's helpers need Streamlit

    at = start("docker")
    at.text_input(key="endpoint").input(dockerd.host).run()
    pick(at, TAG)
    at.toggle(key="lesson").set_value(True).run()
    ok(at)
    at.toggle(key="lesson_files").set_value(True).run()
    ok(at)
    assert said(at).startswith("In the files, this step added ")  # a lesson starts at step 1: the base
    steps = next(slider for slider in at.slider if slider.label == "Build step")
    steps.set_value(steps.max).run()  # the last step
    ok(at)
    assert said(at) == "In the files, this step added 4 entries (8 B unpacked)."  # the links and names
    at.button(key="lesson_back").click().run()
    at.button(key="lesson_back").click().run()  # RUN rm -rf /srv/dir
    ok(at)
    assert "removed 3 entries, yet their 700 B still ship" in said(at)


def said(at: Any) -> str:
    (line,) = [m.value for m in at.markdown if m.value.startswith("In the files")]
    return str(line)
