"""The Docker Engine source and the ancestry rule against a real dockerd (legacy builder).

Every scenario starts from its own busybox import (a unique first layer), so the
images of one scenario can never be ancestors of another's, and each test asserts
the exact parent of every image it made.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import main
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.sources import open_source
from image_lineage.sources.engine import DockerEngineSource

pytestmark = pytest.mark.docker


def lineage_of(daemon: Any, *, include_intermediate: bool = False) -> Lineage:
    scan = DockerEngineSource(endpoint=daemon.host, use_cache=False).scan(
        include_intermediate=include_intermediate
    )
    return build_lineage(scan.images, scan.source, scan.diagnostics)


def parents(lineage: Lineage, ids: dict[str, str]) -> dict[str, str | None]:
    """{our name: our name of its parent} for the images in ``ids`` (name -> id)."""
    names = {image_id: name for name, image_id in ids.items()}
    result: dict[str, str | None] = {}
    for name, image_id in ids.items():
        if image_id not in lineage:
            continue
        parent = lineage.node(image_id).parent
        result[name] = None if parent is None else names.get(parent, f"other:{parent}")
    return result


def fresh_base(daemon: Any, scenario: str) -> str:
    return str(daemon.import_busybox(f"{scenario}/root:1", extra_files={f"etc/{scenario}": scenario}))


def build(daemon: Any, tag: str | None, dockerfile: str, *args: str) -> str:
    return str(daemon.build(dockerfile + "\n", tag, *args))


def legacy_family(daemon: Any, scenario: str) -> dict[str, str]:
    """root -> app (RUN) -> labelled (LABEL only) -> leaf (RUN)."""
    ids = {"root": fresh_base(daemon, scenario)}
    ids["app"] = build(daemon, f"{scenario}/app:1", f"FROM {scenario}/root:1\nRUN echo app > /app.txt")
    ids["labelled"] = build(daemon, f"{scenario}/labelled:1", f"FROM {scenario}/app:1\nLABEL team=data")
    ids["leaf"] = build(
        daemon, f"{scenario}/leaf:1", f"FROM {scenario}/labelled:1\nENV MODE=prod\nRUN echo leaf > /leaf.txt"
    )
    return ids


EXPECTED_FAMILY = {"root": None, "app": "root", "labelled": "app", "leaf": "labelled"}


def test_legacy_builder_hierarchy(dockerd: Any) -> None:
    ids = legacy_family(dockerd, "legacy")
    lineage = lineage_of(dockerd)
    assert parents(lineage, ids) == EXPECTED_FAMILY
    assert lineage.node(ids["leaf"]).image.parent_hint  # the legacy builder sets Parent ...
    labelled = lineage.node(ids["labelled"])
    assert (labelled.added_layers, labelled.added_size) == (0, 0)  # ... and LABEL adds no layer
    leaf = lineage.node(ids["leaf"])
    assert leaf.added_layers == 1
    assert [s.empty for s in leaf.steps[-2:]] == [True, False]
    assert all(n.parent_verified for n in lineage.nodes())


def save_remove_load(daemon: Any, tags: list[str], tmp_path: Path) -> None:
    """Round-trip images through one archive *each*, so they come back like pulled ones.

    (Loaded from one shared archive, Docker would restore the Parent links between them.)
    """
    archives = []
    for tag in tags:
        archives.append(tmp_path / f"{tag.replace('/', '_').replace(':', '_')}.tar")
        daemon.docker("save", "-o", str(archives[-1]), tag)
    daemon.docker("rmi", *reversed(tags))  # children first, or Docker only untags the parents
    for archive in archives:
        daemon.docker("load", "-i", str(archive))


def test_saved_removed_and_loaded_images_have_no_parent_field_but_the_same_tree(
    dockerd: Any, tmp_path: Path
) -> None:
    ids = legacy_family(dockerd, "loaded")
    save_remove_load(
        dockerd, ["loaded/root:1", "loaded/app:1", "loaded/labelled:1", "loaded/leaf:1"], tmp_path
    )
    lineage = lineage_of(dockerd)
    assert parents(lineage, ids) == EXPECTED_FAMILY
    assert not any(lineage.node(i).image.parent_hint for i in ids.values())


def test_no_cache_metadata_only_siblings(dockerd: Any, tmp_path: Path) -> None:
    ids = {"root": fresh_base(dockerd, "twins")}
    dockerfile = "FROM twins/root:1\nLABEL flavour=plain"
    ids["one"] = build(dockerd, "twins/one:1", dockerfile, "--no-cache")
    ids["two"] = build(dockerd, "twins/two:1", dockerfile, "--no-cache")
    # A third twin with *identical* layers and history (only its config differs), as a
    # re-tagged copy from another machine would be: save, edit a label, load.
    ids["copy"] = load_with_edited_config(dockerd, "twins/one:1", "twins/copy:1", tmp_path)
    lineage = lineage_of(dockerd)
    assert parents(lineage, ids) == {"root": None, "one": "root", "two": "root", "copy": "root"}
    identical = {d.image for d in lineage.diagnostics if d.code == "identical_content"}
    assert {ids["one"], ids["copy"]} <= identical


def load_with_edited_config(daemon: Any, source_tag: str, new_tag: str, tmp_path: Path) -> str:
    import tarfile  # noqa: PLC0415

    archive = tmp_path / "one.tar"
    daemon.docker("save", "-o", str(archive), source_tag)
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    manifest = json.loads((unpacked / "manifest.json").read_text())
    config_path = unpacked / manifest[0]["Config"]
    config = json.loads(config_path.read_text())
    config["config"]["Labels"]["copy"] = "yes"
    new_config = json.dumps(config).encode()
    import hashlib  # noqa: PLC0415

    digest = hashlib.sha256(new_config).hexdigest()
    (unpacked / f"{digest}.json").write_bytes(new_config)
    manifest[0]["Config"] = f"{digest}.json"
    manifest[0]["RepoTags"] = [new_tag]
    (unpacked / "manifest.json").write_text(json.dumps(manifest))
    (unpacked / "repositories").unlink(missing_ok=True)
    repacked = tmp_path / "copy.tar"
    with tarfile.open(repacked, "w") as tar:
        for path in sorted(unpacked.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(unpacked)), recursive=False)
    daemon.docker("load", "-i", str(repacked))
    return f"sha256:{digest}"


def test_replaced_base_with_legacy_builder_is_hidden_until_all(dockerd: Any) -> None:
    ids = {"root": fresh_base(dockerd, "rebased")}
    ids["old-base"] = build(dockerd, "rebased/base:1", "FROM rebased/root:1\nRUN echo v1 > /base.txt")
    ids["child"] = build(dockerd, "rebased/child:1", "FROM rebased/base:1\nRUN echo child > /child.txt")
    ids["new-base"] = build(dockerd, "rebased/base:1", "FROM rebased/root:1\nRUN echo v2 > /base.txt")
    assert ids["new-base"] != ids["old-base"]
    assert ids["old-base"] not in dockerd.image_ids()  # Docker hides it like any intermediate
    shown = lineage_of(dockerd)
    assert parents(shown, ids) == {"root": None, "child": "root", "new-base": "root"}
    everything = lineage_of(dockerd, include_intermediate=True)
    assert parents(everything, ids) == {
        "root": None,
        "old-base": "root",
        "child": "old-base",
        "new-base": "root",
    }
    assert everything.node(ids["old-base"]).image.intermediate


def test_replaced_base_of_loaded_images_stays_as_a_dangling_parent(dockerd: Any, tmp_path: Path) -> None:
    ids = {"root": fresh_base(dockerd, "pulled")}
    ids["old-base"] = build(dockerd, "pulled/base:1", "FROM pulled/root:1\nRUN echo v1 > /base.txt")
    ids["child"] = build(dockerd, "pulled/child:1", "FROM pulled/base:1\nRUN echo child > /child.txt")
    save_remove_load(dockerd, ["pulled/root:1", "pulled/base:1", "pulled/child:1"], tmp_path)
    ids["new-base"] = build(dockerd, "pulled/base:1", "FROM pulled/root:1\nRUN echo v2 > /base.txt")
    assert ids["old-base"] in dockerd.image_ids()  # listed, as <none>:<none>
    lineage = lineage_of(dockerd)
    assert parents(lineage, ids) == {
        "root": None,
        "old-base": "root",
        "child": "old-base",
        "new-base": "root",
    }
    assert lineage.node(ids["old-base"]).image.tags == ()


def test_multi_stage_build_leaves_a_dangling_builder_stage(dockerd: Any) -> None:
    ids = {"root": fresh_base(dockerd, "multi")}
    before = set(dockerd.image_ids())
    ids["final"] = build(
        dockerd,
        "multi/app:1",
        "FROM multi/root:1 AS builder\nRUN echo compiled > /artifact\n"
        'FROM multi/root:1\nCOPY --from=builder /artifact /artifact\nCMD ["cat", "/artifact"]',
    )
    dangling = set(dockerd.image_ids()) - before - {ids["final"]}
    assert len(dangling) == 1
    ids["builder"] = dangling.pop()
    lineage = lineage_of(dockerd)
    assert parents(lineage, ids) == {"root": None, "builder": "root", "final": "root"}
    assert lineage.node(ids["builder"]).image.tags == ()


def test_cli_tree_and_json_against_the_daemon(dockerd: Any, tmp_path: Path) -> None:
    ids = legacy_family(dockerd, "clicheck")
    out, err = io.StringIO(), io.StringIO()
    assert main(["export", "-f", "json", "--source", f"docker:{dockerd.host}"], stdout=out, stderr=err) == 0
    document = json.loads(out.getvalue())
    by_id = {image["id"]: image for image in document["images"]}
    assert by_id[ids["leaf"]]["parent"] == ids["labelled"]
    assert by_id[ids["labelled"]]["parent"] == ids["app"]
    assert document["source"]["engine_version"]
    svg = tmp_path / "stack.svg"
    assert (
        main(
            [
                "export",
                "-f",
                "svg",
                "-o",
                str(svg),
                "--focus",
                "clicheck/leaf:1",
                "--source",
                f"docker:{dockerd.host}",
            ]
        )
        == 0
    )
    assert "clicheck/labelled:1" in svg.read_text(encoding="utf-8")


def test_an_engine_address_alone_is_that_engine(dockerd: Any) -> None:
    """``--source unix:///...`` as ``docker -H`` takes it: the same tree as ``docker:unix:///...``."""
    legacy_family(dockerd, "bareaddress")
    assert dockerd.host.startswith("unix://")
    alone, named = io.StringIO(), io.StringIO()
    assert main(["tree", "--source", dockerd.host], stdout=alone, stderr=io.StringIO()) == 0
    assert main(["tree", "--source", f"docker:{dockerd.host}"], stdout=named, stderr=io.StringIO()) == 0
    assert "bareaddress/leaf:1" in alone.getvalue()
    assert alone.getvalue() == named.getvalue()


def test_docker_host_is_honoured(dockerd: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", dockerd.host)
    scan = open_source("docker").scan()
    assert scan.source.endpoint == dockerd.host
    assert scan.images


def test_second_scan_is_served_from_the_cache(dockerd: Any, private_cache: Path) -> None:
    legacy_family(dockerd, "cached")
    source = DockerEngineSource(endpoint=dockerd.host)
    first = sorted(source.scan().images, key=lambda i: i.id)
    database = private_cache / "details-v4.sqlite3"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM details").fetchone()[0] == len(first)
        db.execute("UPDATE details SET body = '{ not json' WHERE id = ?", (first[0].id,))
    # A corrupt entry is a miss: fetched again, and rewritten.
    assert sorted(source.scan().images, key=lambda i: i.id) == first
    with sqlite3.connect(database) as db:
        body = db.execute("SELECT body FROM details WHERE id = ?", (first[0].id,)).fetchone()[0]
    assert json.loads(body)["inspect"]["Id"] == first[0].id
    # A database that is not one at all is set aside and rebuilt.
    database.write_bytes(b"garbage" * 100)
    assert sorted(source.scan().images, key=lambda i: i.id) == first
    assert database.with_suffix(".corrupt").exists()


def test_an_unwritable_cache_does_not_stop_a_scan(dockerd: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGE_LINEAGE_CACHE_DIR", "/proc/image-lineage-cannot-write-here")
    assert DockerEngineSource(endpoint=dockerd.host).scan().images


def test_progress_is_reported(dockerd: Any) -> None:
    seen: list[tuple[int, int]] = []
    progress: Callable[[int, int], None] = lambda done, total: seen.append((done, total))  # noqa: E731
    scan = DockerEngineSource(endpoint=dockerd.host, use_cache=False).scan(progress=progress)
    assert seen[-1] == (len(scan.images), len(scan.images))


def test_sdk_transport_reads_the_same_records(dockerd: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """TLS and SSH endpoints go through docker-py: it must see exactly what the fast path sees."""
    from image_lineage.sources.engine import transport as docker_engine  # noqa: PLC0415

    legacy_family(dockerd, "transport")
    fast = DockerEngineSource(endpoint=dockerd.host, use_cache=False).scan(include_intermediate=True)
    monkeypatch.setattr(docker_engine, "connect", docker_engine.SdkTransport)
    slow = DockerEngineSource(endpoint=dockerd.host, use_cache=False).scan(include_intermediate=True)
    assert sorted(slow.images, key=lambda i: i.id) == sorted(fast.images, key=lambda i: i.id)
    assert slow.source.engine_version == fast.source.engine_version
