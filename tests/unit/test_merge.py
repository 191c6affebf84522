"""Many sources, one tree: ``merge_scans`` on literal records, and what the outputs say of it."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from image_lineage.lineage import build_lineage
from image_lineage.model import Diagnostic, Image, Scan, SourceInfo
from image_lineage.render.dot import render_dot
from image_lineage.render.json_export import render_json
from image_lineage.render.text import render_text
from image_lineage.sources import MERGED, merge_scans, source_label, source_labels
from image_lineage.sources.snapshot import dumps, loads
from tests.builders import BASE, FOUNDATION, MINIMAL, SCIPY, as_found_elsewhere, image

ENGINE = SourceInfo(
    kind="docker",
    endpoint="unix:///var/run/docker.sock",
    engine_version="28.5.1",
    scanned_at=datetime(2026, 11, 2, tzinfo=UTC),
)
REGISTRY = SourceInfo(
    kind="registry", endpoint="https://registry.example.com", scanned_at=datetime(2026, 11, 1, tzinfo=UTC)
)
ENGINE_LABEL = "docker unix:///var/run/docker.sock"
REGISTRY_LABEL = "registry registry.example.com"

# The engine holds the base, minimal and scipy images; the registry holds base and minimal
# (pushed under its own names, compressed sizes) and a child only it has.
BASE_IMAGE = image(BASE, "team/base:1", parent_hint="sha256:" + "0" * 64)
MINIMAL_IMAGE = image(MINIMAL, "team/minimal:1")
SCIPY_IMAGE = image(SCIPY, "team/scipy:1")
REMOTE_CHILD = as_found_elsewhere(
    image([*MINIMAL, "RUN remote-only:1000"]), "registry.example.com/team/remote:1"
)


def engine_scan() -> Scan:
    notes = (Diagnostic(image=None, code="engine_note", message="Something about the engine."),)
    return Scan(source=ENGINE, images=(BASE_IMAGE, MINIMAL_IMAGE, SCIPY_IMAGE), diagnostics=notes)


def registry_scan() -> Scan:
    images = (
        as_found_elsewhere(BASE_IMAGE, "registry.example.com/team/base:1"),
        as_found_elsewhere(
            MINIMAL_IMAGE, "registry.example.com/team/minimal:1", "registry.example.com/team/minimal:latest"
        ),
        REMOTE_CHILD,
    )
    notes = (Diagnostic(image=None, code="registry_sizes", message="Sizes are compressed."),)
    return Scan(source=REGISTRY, images=images, diagnostics=notes)


def merged() -> Scan:
    return merge_scans([engine_scan(), registry_scan()])


def test_the_same_image_in_two_sources_is_one_record_found_in_both() -> None:
    scan = merged()
    by_id = {i.id: i for i in scan.images}
    assert len(scan.images) == 4
    base = by_id[BASE_IMAGE.id]
    assert base.found_in == (ENGINE_LABEL, REGISTRY_LABEL)
    assert base.tags == ("team/base:1", "registry.example.com/team/base:1")  # the engine's first
    assert base.tags_by_source == (
        (ENGINE_LABEL, ("team/base:1",)),
        (REGISTRY_LABEL, ("registry.example.com/team/base:1",)),
    )
    assert by_id[SCIPY_IMAGE.id].found_in == (ENGINE_LABEL,)
    assert by_id[SCIPY_IMAGE.id].tags_by_source == ()  # one source: found_in says it all
    assert by_id[REMOTE_CHILD.id].found_in == (REGISTRY_LABEL,)


def test_unpacked_sizes_and_the_engines_fields_win_whatever_the_order() -> None:
    for scans in ([engine_scan(), registry_scan()], [registry_scan(), engine_scan()]):
        base = next(i for i in merge_scans(scans).images if i.id == BASE_IMAGE.id)
        assert (base.size, base.size_kind, base.history) == (
            BASE_IMAGE.size,
            "unpacked",
            BASE_IMAGE.history,
        )
        assert base.parent_hint == BASE_IMAGE.parent_hint  # only the engine has one
        assert base.manifest_digest.startswith("sha256:")  # only the registry knows it
    assert (
        merge_scans([engine_scan(), registry_scan()]).images
        == merge_scans([registry_scan(), engine_scan()]).images
    )


def test_a_source_with_a_history_wins_over_one_without() -> None:
    engine = replace(BASE_IMAGE, history=None)
    remote = as_found_elsewhere(BASE_IMAGE, "r/base:1")
    one = merge_scans([Scan(ENGINE, (engine,)), Scan(REGISTRY, (remote,))]).images[0]
    assert (one.history, one.size_kind, one.size) == (remote.history, "compressed", remote.size)


def test_an_image_is_intermediate_only_if_every_source_says_so() -> None:
    hidden = image(FOUNDATION, intermediate=True)
    scans = [Scan(ENGINE, (hidden,)), Scan(REGISTRY, (replace(hidden, intermediate=False, tags=("r/f:1",)),))]
    assert not merge_scans(scans).images[0].intermediate
    assert merge_scans([Scan(ENGINE, (hidden,)), Scan(REGISTRY, (hidden,))]).images[0].intermediate


def test_the_merged_source_names_every_source_and_notes_name_theirs() -> None:
    scan = merged()
    assert scan.source.kind == MERGED
    assert scan.source.endpoint == f"{ENGINE_LABEL}; {REGISTRY_LABEL}"
    assert scan.source.scanned_at == REGISTRY.scanned_at  # the oldest reading
    assert {d.message for d in scan.diagnostics} == {
        f"{ENGINE_LABEL}: Something about the engine.",
        f"{REGISTRY_LABEL}: Sizes are compressed.",
    }


def test_one_scan_comes_back_as_it_was_with_where_its_images_were_found() -> None:
    scan = merge_scans([engine_scan()])
    assert scan.source == ENGINE
    assert scan.diagnostics == engine_scan().diagnostics
    assert {i.found_in for i in scan.images} == {(ENGINE_LABEL,)}
    recorded = replace(BASE_IMAGE, found_in=("docker tcp://elsewhere:2375",))
    snapshot = SourceInfo(kind="snapshot", endpoint="/tmp/machine.json")
    assert merge_scans([Scan(snapshot, (recorded,))]).images[0].found_in == ("docker tcp://elsewhere:2375",)


@pytest.mark.parametrize(
    ("source", "label"),
    [
        pytest.param(ENGINE, ENGINE_LABEL, id="engine"),
        pytest.param(
            SourceInfo("podman", "unix:///run/podman/podman.sock"),
            "podman unix:///run/podman/podman.sock",
            id="podman",
        ),
        pytest.param(REGISTRY, REGISTRY_LABEL, id="registry"),
        pytest.param(SourceInfo("archive", "/srv/images/team.tar"), "archive team.tar", id="archive"),
        pytest.param(SourceInfo("snapshot", "../machine.json"), "snapshot machine.json", id="snapshot"),
        pytest.param(SourceInfo("sample", "unix:///tmp/d.sock"), "sample", id="sample"),
    ],
)
def test_labels_are_short(source: SourceInfo, label: str) -> None:
    assert source_label(source) == label


def test_two_files_of_one_name_are_told_apart_by_their_path() -> None:
    sources = [SourceInfo("snapshot", "a/scan.json"), SourceInfo("snapshot", "b/scan.json"), ENGINE]
    assert source_labels(sources) == ["snapshot a/scan.json", "snapshot b/scan.json", ENGINE_LABEL]


def test_lineage_runs_across_sources() -> None:
    lineage = build_lineage(merged().images, merged().source)
    assert len(lineage) == 4
    remote = lineage.node(REMOTE_CHILD.id)
    assert remote.parent == MINIMAL_IMAGE.id  # a registry's image on the engine's minimal
    assert lineage.node(SCIPY_IMAGE.id).parent == MINIMAL_IMAGE.id


def test_the_tree_says_where_each_image_was_found_only_with_several_sources() -> None:
    text = render_text(build_lineage(merged().images, merged().source))
    lines = text.splitlines()
    assert "[in: docker, registry]" in next(line for line in lines if line.startswith("team/base:1"))
    assert "[in: registry]" in next(line for line in lines if "team/remote:1" in line)
    assert lines[-1] == f"Sources: docker = {ENGINE_LABEL}; registry = {REGISTRY_LABEL}."
    alone = merge_scans([engine_scan()])
    assert "[in:" not in render_text(build_lineage(alone.images, alone.source))
    assert "Sources:" not in render_text(build_lineage(alone.images, alone.source))


def test_two_sources_of_one_kind_are_named_in_full() -> None:
    other = SourceInfo(kind="docker", endpoint="tcp://build:2375")
    scan = merge_scans([engine_scan(), Scan(other, (BASE_IMAGE,))])
    text = render_text(build_lineage(scan.images, scan.source))
    assert f"[in: docker tcp://build:2375, {ENGINE_LABEL}]" in text  # same kind of size: by label


def test_the_dot_tooltip_names_each_sources_tags() -> None:
    dot = render_dot(build_lineage(merged().images, merged().source))
    assert "in: docker (team/base:1), registry (registry.example.com/team/base:1)" in dot
    assert "in: registry" in dot


def test_found_in_survives_a_snapshot_and_a_graph_export() -> None:
    scan = merged()
    assert loads(dumps(scan)).images == scan.images
    lineage = build_lineage(scan.images, scan.source)
    document = json.loads(render_json(lineage))
    base = next(i for i in document["images"] if i["id"] == BASE_IMAGE.id)
    assert base["found_in"] == [ENGINE_LABEL, REGISTRY_LABEL]
    assert base["tags_by_source"] == {
        ENGINE_LABEL: ["team/base:1"],
        REGISTRY_LABEL: ["registry.example.com/team/base:1"],
    }
    assert document["source"]["kind"] == MERGED
    assert {i.id: i.found_in for i in loads(render_json(lineage)).images} == {
        i.id: i.found_in for i in scan.images
    }


def test_images_that_name_no_source_write_no_such_field() -> None:
    written = json.loads(dumps(Scan(ENGINE, (BASE_IMAGE,))))["images"][0]
    assert "found_in" not in written
    assert "tags_by_source" not in written


def test_a_shuffled_merge_renders_the_same_bytes() -> None:
    expected = render_text(build_lineage(merged().images, merged().source))
    engine, registry = engine_scan(), registry_scan()
    for seed in range(5):
        shuffled = [
            replace(s, images=tuple(random.Random(seed).sample(list(s.images), len(s.images))))
            for s in (engine, registry)
        ]
        scan = merge_scans(shuffled)
        assert render_text(build_lineage(scan.images, scan.source)) == expected


def test_nothing_to_merge_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        merge_scans([])


def test_the_same_record_twice_is_one() -> None:
    scan = merge_scans([engine_scan(), engine_scan()])
    assert len(scan.images) == 3
    assert all(i.found_in == (ENGINE_LABEL,) for i in scan.images)
    assert isinstance(scan.images[0], Image)
