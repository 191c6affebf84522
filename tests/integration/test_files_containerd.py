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
from testbed.oci_layout import AMD64, Image, OciLayout, pseudo_random_bytes
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


@pytest.fixture(autouse=True)
def clean_streamlit_caches() -> Iterator[None]:
    import streamlit as st  # noqa: PLC0415 - only the app's tests need it

    from image_lineage.web.memo import clear_all  # noqa: PLC0415

    st.cache_data.clear()
    st.cache_resource.clear()
    clear_all()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    clear_all()


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


APPS = 14  # per family: 3 x (1 base + 14 apps) = 45 images, more than web.CROWDED: the overview


def crowded(path: Path) -> Path:
    """Three families: ``big`` uses the most disk and hides nothing; ``waste``'s apps each delete
    the same 3000-byte file of their base (it ships once, in the base's layer) and one rewrites
    a 500-byte file too; ``small`` hides nothing."""
    layout = OciLayout()
    for family, size in (("big", 200_000), ("waste", 20_000), ("small", 5_000)):
        files = {f"{family}/blob": pseudo_random_bytes(family, size), "etc/junk": b"j" * 3000}
        files["etc/conf"] = b"c" * 500
        base = Image.scratch(AMD64).run(f"ADD {family} /", files)
        layout.tag(f"{family}/base:1", layout.add_image(base))
        for n in range(APPS):
            step: dict[str, bytes] = {f"app/{n}": pseudo_random_bytes(f"{family}{n}", 100)}
            if family == "waste":
                step["etc/.wh.junk"] = b""
                if n == 0:
                    step["etc/conf"] = b"C" * 10
            layout.tag(f"{family}/app:{n}", layout.add_image(base.run(f"RUN app {n}", step)))
    path.write_bytes(layout.tar_bytes())
    return path


def test_the_overview_ranks_families_by_what_ships_for_nothing_when_asked(
    daemon: ThrowawayContainerd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from image_lineage.web import files  # noqa: PLC0415 - the app's reading needs Streamlit
    from tests.app.test_app import ok, start  # noqa: PLC0415 - the app's helpers need Streamlit

    namespace = "t-" + secrets.token_hex(5)
    daemon.import_archive(namespace, crowded(tmp_path / "crowded.tar"))
    monkeypatch.setenv("CONTAINERD_ADDRESS", str(daemon.socket))
    monkeypatch.setenv("CONTAINERD_NAMESPACE", namespace)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    asked: list[str] = []
    real = files.image_layers  # type: ignore[attr-defined]  # the name web.files calls

    def counted(source: Any, image: Any, *args: Any, **options: Any) -> Any:
        asked.append(image.id)  # counted, not replaced: the layers are read from containerd
        return real(source, image, *args, **options)

    monkeypatch.setattr(files, "image_layers", counted)
    at = start("containerd")
    ok(at)
    table = at.dataframe[0].value
    assert list(table["Family"]) == ["big/base:1", "waste/base:1", "small/base:1"]  # by disk
    assert "Ships for nothing" not in table.columns
    assert asked == []  # nothing read unasked
    at.toggle(key="rank_hidden").set_value(True).run()
    ok(at)
    table = at.dataframe[0].value
    assert list(table["Family"]) == ["waste/base:1", "big/base:1", "small/base:1"]
    assert list(table["Ships for nothing"]) == ["3.5 kB", "0 B", "0 B"]  # junk once, and conf
    assert list(table.columns)[:2] == ["Family", "Ships for nothing"]  # in view beside the name
    assert len(asked) == 3 * (1 + APPS)
    at.toggle(key="rank_hidden").set_value(False).run()
    ok(at)
    assert list(at.dataframe[0].value["Family"]) == ["big/base:1", "waste/base:1", "small/base:1"]
