"""``image-lineage files`` over archives written in Python (tar, gzip'd tar, layout folder)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from image_lineage.cli import main
from testbed.oci_layout import AMD64, Image, OciLayout

BASE = Image.scratch(AMD64).run(
    "ADD rootfs /",
    {"etc/os": b"x" * 100, "opt/big": b"b" * 5000, "opt/d/f1": b"1" * 300, "opt/d/f2": b"2" * 400},
)
APP = BASE.run(
    "RUN rm -rf /opt/d && echo > /etc/os",
    {"etc/os": b"y" * 120, "opt/.wh.d": b"", "sp ace/é\u202e.txt": b"z" * 3},
)


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    layout = OciLayout()
    layout.tag("demo/base:1", layout.add_image(BASE), docker_platform=AMD64)
    layout.tag("demo/app:1", layout.add_image(APP), docker_platform=AMD64)
    data = layout.tar_bytes()
    folder = tmp_path_factory.mktemp("archives")
    (folder / "family.tar").write_bytes(data)
    (folder / "family.tar.gz").write_bytes(gzip.compress(data))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(folder / "layout", filter="data")
    return {"tar": folder / "family.tar", "gzip": folder / "family.tar.gz", "folder": folder / "layout"}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["files", "--platform", "all", *argv], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("kind", ["tar", "gzip", "folder"])
def test_the_json_report_is_the_same_from_every_kind_of_archive(archives: dict[str, Path], kind: str) -> None:
    status, out, err = run("--source", f"archive:{archives[kind]}", "demo/app:1", "--format", "json")
    assert (status, err) == (0, "")
    report = json.loads(out)
    assert report["schema"] == "image-lineage.files/v1"
    assert report["image"] == {"id": APP.config_digest, "tags": ["demo/app:1"]}
    assert [layer["diff_id"] for layer in report["layers"]] == APP.diff_ids
    assert [layer["created_by"] for layer in report["layers"]] == [s.created_by for s in APP.history]
    top = report["layers"][1]
    assert [(e["path"], e["size"]) for e in top["changed"]] == [("/etc/os", 120)]
    assert [(e["path"], e["size"]) for e in top["removed"]] == [
        ("/opt/d", 0),
        ("/opt/d/f1", 300),
        ("/opt/d/f2", 400),
    ]
    assert ("/sp ace/é\u202e.txt", 3) in [(e["path"], e["size"]) for e in top["added"]]
    assert report["hidden_bytes"] == 100 + 300 + 400
    assert report["wasted_bytes"] == 220
    assert report["parent"]["id"] == BASE.config_digest
    assert {e["path"] for e in report["parent"]["added"]} >= {"/etc/os", "/sp ace/é\u202e.txt"}
    if kind == "tar":
        assert run("--source", f"archive:{archives['gzip']}", "demo/app:1", "--format", "json")[1] == out


def test_the_text_tree_shows_sizes_and_steps_and_no_raw_bidi(archives: dict[str, Path]) -> None:
    status, out, _ = run("--source", f"archive:{archives['tar']}", "demo/app:1")
    assert status == 0
    assert "└── big  5.0 kB  L0" in out
    assert "os  120 B  L1" in out
    assert "\u202e" not in out
    assert "L1      123 B  RUN rm -rf /opt/d" in out


def test_one_layer_and_the_hidden_bytes(archives: dict[str, Path]) -> None:
    source = f"archive:{archives['tar']}"
    _, by_index, _ = run("--source", source, "demo/app:1", "--layer", "1")
    _, by_digest, _ = run("--source", source, "demo/app:1", "--layer", APP.diff_ids[1][:20])
    assert by_index == by_digest
    assert "- /opt/d/f2  400 B" in by_index
    assert "~ /etc/os  120 B" in by_index
    _, one, _ = run("--source", source, "demo/app:1", "--layer", "1", "--format", "json")
    assert [layer["index"] for layer in json.loads(one)["layers"]] == [1]
    _, hidden, _ = run("--source", source, "demo/app:1", "--hidden")
    assert hidden.splitlines()[0] == "/opt/d/f2  400 B  written by L0, hidden by L1"


def test_ci_thresholds_set_the_exit_status(archives: dict[str, Path]) -> None:
    source = f"archive:{archives['tar']}"
    status, _, err = run("--source", source, "demo/app:1", "--ci")
    assert status == 1  # 220 B wasted over 123 B added: over dive's 10 %
    assert "FAIL: wasted" in err
    lenient = ("--highest-user-wasted-percent", "2", "--lowest-efficiency", "0.5")
    assert run("--source", source, "demo/app:1", "--ci", *lenient)[0] == 0
    assert run("--source", source, "demo/app:1", "--ci", *lenient, "--highest-wasted-bytes", "100")[0] == 1
    assert run("--source", source, "demo/base:1", "--ci")[0] == 0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("--source", "sample", "jupyter/base-notebook:2026-11"), "keeps image records, not layers"),
        (("demo/app:1", "--layer", "7"), "has 2 layers"),
        (("demo/app:1", "--layer", "sha256:ffff"), "names no layer"),
        (("nobody/nothing:1",), "nobody/nothing"),
    ],
)
def test_errors_are_one_line(archives: dict[str, Path], argv: tuple[str, ...], words: str) -> None:
    source = () if "--source" in argv else ("--source", f"archive:{archives['tar']}")
    status, out, err = run(*source, *argv)
    assert status == 2
    assert out == ""
    assert words in err
    assert len(err.strip().splitlines()) == 1


def test_a_family_reads_its_shared_layers_once(tmp_path: Path) -> None:
    """Listings by diff id: the base's layers (an empty one too) are read once for the family."""
    from image_lineage.sources import open_source  # noqa: PLC0415
    from image_lineage.sources.layers import Listings, image_layers  # noqa: PLC0415

    base = Image.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"x"}).run("RUN true", {})
    layout = OciLayout()
    for number in range(3):
        layout.tag(
            f"demo/child-{number}:1", layout.add_image(base.run(f"RUN {number}", {f"n{number}": b"1"}))
        )
    for name, data in (
        ("family.tar", layout.tar_bytes()),
        ("family.tar.gz", gzip.compress(layout.tar_bytes())),
    ):
        (tmp_path / name).write_bytes(data)
        spec = f"archive:{tmp_path / name}"
        listings = Listings()
        source = open_source(spec)
        listed = [image_layers(source, image, listings) for image in source.scan().images]
        assert [len(layers) for layers in listed] == [3, 3, 3]
        assert len(listed[0][1]) == 0  # the empty layer
        if name == "family.tar":
            assert listings.reads == 2 + 3  # the base's two layers once, each child's own


def test_listings_are_kept_on_disk_by_diff_id(archives: dict[str, Path], tmp_path: Path) -> None:
    """A second reading lists no blob; a damaged cache file is a miss, never an error."""
    from image_lineage.sources import open_source  # noqa: PLC0415
    from image_lineage.sources.layers import Listings, image_layers  # noqa: PLC0415

    source = open_source(f"archive:{archives['tar']}")
    app = next(i for i in source.scan().images if i.tags == ("demo/app:1",))
    first = Listings(folder=tmp_path)
    read = image_layers(source, app, first)
    assert first.reads == 2
    again = Listings(folder=tmp_path)
    kept = image_layers(open_source("archive:/nonexistent.tar"), app, again)  # not even opened
    assert again.reads == 0
    assert [list(listing) for listing in kept] == [list(listing) for listing in read]
    files = sorted((tmp_path / "layers-v1").iterdir())
    assert len(files) == 2
    files[0].write_bytes(b"not gzip")
    damaged = Listings(folder=tmp_path)
    assert [list(listing) for listing in image_layers(source, app, damaged)] == [list(x) for x in read]
    assert damaged.reads == 1


def test_no_cache_writes_no_listing(archives: dict[str, Path], private_cache: Path) -> None:
    run("--source", f"archive:{archives['tar']}", "demo/app:1", "--no-cache")
    assert not (private_cache / "layers-v1").exists()
    run("--source", f"archive:{archives['tar']}", "demo/app:1")
    assert len(list((private_cache / "layers-v1").iterdir())) == 2


def test_kept_listings_are_the_users_own(archives: dict[str, Path], private_cache: Path) -> None:
    run("--source", f"archive:{archives['tar']}", "demo/app:1")
    folder = private_cache / "layers-v1"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert {path.stat().st_mode & 0o777 for path in folder.iterdir()} == {0o600}
