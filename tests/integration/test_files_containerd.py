"""``image-lineage files --source containerd:...``: the layers streamed from a real containerd's
content store give the same report as the archive they were imported from (``ctr images
import``, a namespace of their own, as ``test_containerd.py`` does)."""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import main
from testbed.containerd import ContainerdUnavailable, ThrowawayContainerd, available_builds
from testbed.oci_layout import AMD64, Image, OciLayout
from tests.conftest import unavailable

TAG = "files/app:1"
BASE = {"data/old.txt": b"o" * 1000, "data/keep.txt": b"k" * 2000, "srv/dir/a": b"a" * 300}
STEP = {"data/.wh.old.txt": b"", "data/keep.txt": b"K" * 5000, "srv/.wh.dir": b"", "new é.txt": b"hi"}


@pytest.fixture(scope="module")
def daemon() -> Iterator[ThrowawayContainerd]:
    """The newest containerd here, once for the module."""
    builds = [build for build in available_builds().values() if build is not None]
    if not builds:
        unavailable("no containerd here (make engines; apt-get install containerd)")
    try:
        started = ThrowawayContainerd(builds[0]).start()
    except ContainerdUnavailable as error:
        unavailable(f"containerd did not start: {error}")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OCI layout tar: a base with known files, a step that removes, rewrites and adds."""
    layout = OciLayout()
    image = Image.scratch(AMD64).run("ADD base /", BASE).run("RUN change", STEP)
    layout.tag(TAG, layout.add_image(image))
    path = tmp_path_factory.mktemp("files") / "app.tar"
    path.write_bytes(layout.tar_bytes())
    return path


def report(*argv: str) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["files", "--no-cache", "--format", "json", *argv], stdout=out, stderr=err)
    assert status == 0, err.getvalue()
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def test_files_from_containerd_match_the_archives_report(daemon: ThrowawayContainerd, archive: Path) -> None:
    namespace = "t-" + secrets.token_hex(5)
    daemon.import_archive(namespace, archive)
    ours = report("--source", f"containerd:{daemon.socket}?namespace={namespace}", TAG)
    theirs = report("--source", f"archive:{archive}", TAG)
    assert ours["layers"] == theirs["layers"]
    for key in ("hidden_bytes", "wasted_bytes", "efficiency"):
        assert ours[key] == theirs[key], key
    assert ours["image"]["id"] == theirs["image"]["id"]
    assert ours["hidden_bytes"] == 1000 + 2000 + 300  # old.txt removed, keep.txt rewritten, dir removed
    _, step = ours["layers"]
    assert [e["path"] for e in step["removed"]] == ["/data/old.txt", "/srv/dir", "/srv/dir/a"]
    assert [(e["path"], e["size"]) for e in step["changed"]] == [("/data/keep.txt", 5000)]


def test_files_from_every_namespace_reads_the_image_where_it_was_found(
    daemon: ThrowawayContainerd, archive: Path
) -> None:
    namespace = "t-" + secrets.token_hex(5)
    daemon.import_archive(namespace, archive)
    ours = report("--source", f"containerd:{daemon.socket}?namespace=all", TAG)
    assert ours["hidden_bytes"] == 1000 + 2000 + 300
