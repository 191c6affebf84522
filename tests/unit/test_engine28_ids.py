"""Engine 28's ids (tests/unit/fixtures/engine28): ``docker images`` shows index or manifest
digests, the tree config digests. The tree says so, and either finds an image."""

from __future__ import annotations

import functools
import io
import re
from dataclasses import replace
from pathlib import Path

import pytest

from image_lineage.cli import main
from image_lineage.errors import UnknownImage
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.render.text import render_text
from image_lineage.sources import SampleSource
from image_lineage.sources.engine_api import image_from_containerd
from image_lineage.sources.snapshot import dumps
from image_lineage.views import CONTAINERD_STORE, listed_id, resolve, search, select_platform
from image_lineage.web.inspector import build_image_details
from tests.unit.test_containerd_api import exported, recorded, summary

SOURCE = SourceInfo("docker", "unix:///run/engine28.sock", "28.5.2+dfsg4")
STORE = Diagnostic(None, CONTAINERD_STORE, "Engine 28.5.2+dfsg4 (API 1.51) uses the containerd image store")


@functools.cache
def engine28_images() -> tuple[Image, ...]:
    """Every platform of every ``oci/*`` tag, as the containerd scan records it."""
    images = []
    for tag in recorded("28", "family")["oci"]:
        export = exported(tag)
        for platform in export.platforms:
            images.append(
                image_from_containerd(
                    summary("28", tag, manifests=False),
                    platform.config_bytes,
                    list(platform.layer_sizes),
                    size_kind="compressed",
                    manifest_digest=platform.manifest_digest,
                    index_digest=export.index_digest,
                    index_platforms=[(p.platform, True) for p in export.platforms],
                    disk_size=None,
                )
            )
    return tuple(images)


def engine28(platform: str = "all") -> Lineage:
    kept = select_platform(engine28_images(), platform).images
    return build_lineage(kept, SOURCE, [STORE])


def listed_ids() -> dict[tuple[str, str], str]:
    """(tag, platform or "") -> the short id ``docker image ls --tree`` showed (CLI 28.5)."""
    found: dict[tuple[str, str], str] = {}
    tag = ""
    for line in recorded("28", "image-ls-tree")["docker image ls --tree"]:
        if match := re.match(r"^(oci/\S+)\s+([0-9a-f]{12})\s", line):
            tag = match[1]
            found[(tag, "")] = match[2]
        elif (match := re.match(r"^\W+(linux/\S+)\s+([0-9a-f]{12})\s", line)) and tag:
            found[(tag, match[1])] = match[2]
        else:
            tag = ""
    return found


def test_every_id_docker_image_ls_shows_finds_its_image() -> None:
    lineage = engine28()
    ids = listed_ids()
    assert len(ids) == 6 + 10  # six oci tags, ten platforms (attestations are not listed)
    for (tag, platform), short in ids.items():
        if not platform:
            continue
        image = lineage.node(resolve(lineage, short)).image
        assert (image.tags, image.platform) == ((tag,), platform)
        assert image.id != f"sha256:{short}"  # the config digest, which docker images never shows


def test_an_index_id_finds_the_image_of_the_platform_shown() -> None:
    amd64 = engine28("linux/amd64")
    for (tag, platform), short in listed_ids().items():
        if platform or tag == "oci/arm-tool:1":  # arm64 only: not among the amd64 images
            continue
        assert amd64.node(resolve(amd64, short)).image.tags == (tag,)
        assert amd64.node(resolve(amd64, f"sha256:{short}")).image.tags == (tag,)


def test_a_config_listed_under_two_names_in_two_indexes_is_found_by_either() -> None:
    """The same platforms loaded again under another name, in an index of its own (other
    annotations): one record per config digest, each name's ``RepoDigests`` keeps its index."""
    other_index = "sha256:" + "5e" * 32
    images = [
        replace(image, tags=("copy/app:1", *image.tags), digests=(*image.digests, f"copy/app@{other_index}"))
        if image.tags == ("oci/app:1",)
        else image
        for image in select_platform(engine28_images(), "linux/amd64").images
    ]
    lineage = build_lineage(images, SOURCE, [STORE])
    assert lineage.node(resolve(lineage, other_index[7:19])).image.tags == ("copy/app:1", "oci/app:1")


def test_an_index_of_several_platforms_shown_says_so() -> None:
    index = listed_ids()[("oci/app:1", "")]
    with pytest.raises(UnknownImage, match=r"is a multi-platform index of 2 images \(linux/amd64 or "):
        resolve(engine28(), index)


def test_the_tree_says_why_its_ids_differ_and_the_sample_s_does_not() -> None:
    text = render_text(engine28("linux/amd64"))
    caption = text.splitlines()[-1]
    assert caption == (
        "Ids: config digests; docker images on this containerd-store engine shows index or manifest "
        "digests (oci/base:1: 19873913cd86 here, 23a557ea9cd6 there); --focus takes either."
    )
    sample = SampleSource().scan()
    assert "Ids:" not in render_text(build_lineage(sample.images, sample.source, sample.diagnostics))


def test_the_cli_focuses_on_the_id_docker_images_shows(tmp_path: Path) -> None:
    snapshot = tmp_path / "engine28.json"
    scan = Scan(SOURCE, engine28_images(), (STORE,))
    snapshot.write_text(dumps(scan), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    index = listed_ids()[("oci/app-plugin:1", "")]
    argv = [
        "tree",
        "--ascii",
        "--platform",
        "linux/amd64",
        "--focus",
        index,
        "--source",
        f"snapshot:{snapshot}",
    ]
    assert main(argv, stdout=out, stderr=err) == 0, err.getvalue()
    names = [line.lstrip("|`- ").split("  ")[0] for line in out.getvalue().splitlines()[:3]]
    assert names == ["oci/base:1", "oci/app:1", "oci/app-plugin:1"]


def test_the_app_search_and_inspector_know_both_ids() -> None:
    amd64 = engine28("linux/amd64")
    index = listed_ids()[("oci/app:1", "")]
    found = search(amd64, index)
    assert {t for n in found.nodes() for t in n.image.tags} == {"oci/base:1", "oci/app:1"}
    assert len(search(amd64, "APP-PLUG")) == 3  # names: any case, with ancestors
    details = build_image_details(amd64, resolve(amd64, index))
    assert f"(its config); docker images shows sha256:{index}" in details.id_text
    assert details.id_text.endswith("(its multi-platform index).")


def test_an_image_read_from_a_registry_alone_has_no_engine_id() -> None:
    """Merged with a registry's images, only those the engine lists have an id it shows."""
    images = engine28_images()
    engine, registry = "docker unix:///run/engine28.sock", "registry 127.0.0.1:5000"
    merged = [
        replace(i, found_in=(registry,) if "oci/single:1" in i.tags else (engine, registry)) for i in images
    ]
    lineage = build_lineage(select_platform(merged, "linux/amd64").images, SOURCE, [STORE])
    single, app = (lineage.node(resolve(lineage, tag)).image for tag in ("oci/single:1", "oci/app:1"))
    assert listed_id(lineage, single) == ""
    assert listed_id(lineage, app) == app.index_digest
