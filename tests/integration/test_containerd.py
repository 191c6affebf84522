"""``--source containerd``: real containerd daemons (2.1 from the engine cache, Debian 12's 1.6)
on private sockets, images put in with ``ctr images import`` from archives built here, a
namespace per case (``testbed/containerd.py``)."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from image_lineage.model import Scan
from image_lineage.sources import open_source
from image_lineage.sources.containerd.blobs import ContainerdBlobs
from image_lineage.sources.containerd.client import Client, Missing
from image_lineage.sources.oci.blobs import Want
from image_lineage.sources.oci.descriptor import Descriptor
from testbed.containerd import ContainerdUnavailable, ThrowawayContainerd, available_builds
from testbed.oci_layout import AMD64, ARM64, Family, Image, OciLayout, lineage_family
from tests.conftest import unavailable
from tests.support.cli import run_cli, run_cli_as

BUILDS = available_builds()


@pytest.fixture(scope="module", params=sorted(BUILDS))
def daemon(request: pytest.FixtureRequest) -> Iterator[ThrowawayContainerd]:
    """containerd 2.1 and 1.6, each once for the module."""
    build = BUILDS[request.param]
    if build is None:
        unavailable(f"containerd {request.param} is not here (make engines; apt-get install containerd)")
    assert build is not None
    try:
        started = ThrowawayContainerd(build).start()
    except ContainerdUnavailable as error:
        unavailable(f"containerd {request.param} did not start: {error}")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> tuple[Family, Path]:
    """The multi-platform family with attestations, as an OCI layout tar."""
    built = lineage_family(prefix="ctrd")
    path = tmp_path_factory.mktemp("family") / "family.tar"
    path.write_bytes(built.tar_bytes())
    return built, path


def fresh_namespace() -> str:
    return "t-" + secrets.token_hex(5)


def loaded(daemon: ThrowawayContainerd, tar: Path) -> str:
    """A fresh namespace holding the archive's images."""
    namespace = fresh_namespace()
    daemon.import_archive(namespace, tar)
    return namespace


def scan(daemon: ThrowawayContainerd, namespace: str, **options: bool) -> Scan:
    return open_source(f"containerd:{daemon.socket}?namespace={namespace}", **options).scan()


def test_every_present_platform_is_a_record_with_its_history_and_compressed_sizes(
    daemon: ThrowawayContainerd, family: tuple[Family, Path]
) -> None:
    built, tar = family
    namespace = loaded(daemon, tar)
    result = scan(daemon, namespace)
    by_id = {image.id: image for image in result.images}
    expected = {
        image.config_digest: (tag, platform, image)
        for tag, platforms in built.images.items()
        for platform, image in platforms.items()
    }
    assert set(by_id) == set(expected)  # attestations are no records
    for image_id, (tag, platform, made) in expected.items():
        record = by_id[image_id]
        assert record.tags == (tag,)
        assert record.platform == platform
        assert record.size_kind == "compressed"
        assert record.size == sum(layer.size for layer in made.layers)  # sizes add up
        assert record.layers == tuple(made.diff_ids)
        assert record.history is not None
        assert len(record.history) == len(made.config()["history"])
        if tag != "ctrd/single:1":
            assert record.index_digest == built.targets[tag]
    attested = [note for note in result.diagnostics if note.code == "artifacts"]
    assert len(attested) == len(expected) - 1  # every platform of an index has one; the bare manifest none
    assert result.source.kind == "containerd"
    assert result.source.endpoint == f"unix://{daemon.socket}?namespace={namespace}"


def test_the_tree_says_who_descends_from_whom(
    daemon: ThrowawayContainerd, family: tuple[Family, Path]
) -> None:
    built, tar = family
    namespace = loaded(daemon, tar)
    spec = f"containerd:{daemon.socket}?namespace={namespace}"
    out = run_cli(["export", "--source", spec, "-f", "json", "--platform", "all"])
    assert out.code == 0, out.stderr
    records = {image["id"]: image for image in json.loads(out.stdout)["images"]}
    config = {(tag, p): image.config_digest for tag, ps in built.images.items() for p, image in ps.items()}
    for key, parent in built.parents.items():
        assert records[config[key]]["parent"] == (config[parent] if parent else None), key


def test_a_namespace_holds_only_its_own_images_and_all_says_where_each_was_found(
    daemon: ThrowawayContainerd, family: tuple[Family, Path], tmp_path: Path
) -> None:
    _built, tar = family
    first, second = fresh_namespace(), fresh_namespace()
    daemon.import_archive(first, tar)
    extra = OciLayout()
    extra.tag("other/solo:2", extra.add_image(Image.scratch(AMD64).run("ADD solo /", {"solo": b"solo"})))
    (tmp_path / "extra.tar").write_bytes(extra.tar_bytes())
    daemon.import_archive(second, tmp_path / "extra.tar")
    daemon.import_archive(second, tar)  # the family in both

    only_second = scan(daemon, second)
    assert {i.tags for i in only_second.images} >= {("other/solo:2",)}
    every = open_source(f"containerd:{daemon.socket}?namespace=all").scan()
    where = {image.tags[0]: image.found_in for image in every.images}
    address = f"containerd unix://{daemon.socket}?namespace="
    assert where["other/solo:2"] == (address + second,)
    assert {address + first, address + second} <= set(where["ctrd/base:1"])  # (and earlier tests')
    assert every.source.endpoint.endswith("?namespace=all")
    assert not any(note.code not in {"artifacts", "containerd_sizes"} for note in every.diagnostics)


def test_without_a_namespace_the_only_one_with_images_is_read_and_several_are_refused(
    daemon: ThrowawayContainerd, family: tuple[Family, Path]
) -> None:
    """(The module's other tests made namespaces with images: a daemon of its own here.)"""
    _, tar = family
    with ThrowawayContainerd(daemon.build) as alone:
        alone.ctr("namespaces", "create", "empty")
        nothing = open_source(f"containerd:{alone.socket}").scan()
        assert nothing.images == ()
        assert "containerd_empty" in {note.code for note in nothing.diagnostics}
        alone.import_archive("nerdctl", tar)
        assert {i.tags[0] for i in open_source(f"containerd:{alone.socket}").scan().images} >= {"ctrd/base:1"}
        alone.import_archive("buildkit", tar)
        error = run_cli(["tree", "--source", f"containerd:{alone.socket}"]).one_line_error()
        assert "has images in several namespaces (buildkit, nerdctl), none of them k8s.io" in error
        assert error.endswith(
            "k8s.io: name the one to read with --source 'containerd:SOCKET?namespace=NS' "
            "(?namespace=all reads every one)."
        )
        alone.import_archive("k8s.io", tar)
        kubernetes = open_source(f"containerd:{alone.socket}").scan()
        assert kubernetes.source.endpoint.endswith("?namespace=k8s.io")


def test_an_unknown_namespace_is_named_with_the_ones_there_are(daemon: ThrowawayContainerd) -> None:
    daemon.ctr("namespaces", "create", "known-one")
    error = run_cli(["tree", "--source", f"containerd:{daemon.socket}?namespace=nope"]).one_line_error()
    assert error.startswith(f"The containerd at unix://{daemon.socket} has no namespace 'nope' (it has ")
    assert "known-one" in error
    assert "?namespace=all" in error


def test_a_layer_streams_through_the_content_store_checked_and_a_missing_one_says_so(
    daemon: ThrowawayContainerd, family: tuple[Family, Path]
) -> None:
    """What layer contents (issue 17) will use: ``open`` on the containerd backend."""
    built, tar = family
    namespace = loaded(daemon, tar)
    layer = built.images["ctrd/base:1"][str(AMD64)].layers[0]
    wanted = Want(
        Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer.digest, layer.size), namespace
    )
    with Client(daemon.socket, 10) as client:
        blobs = ContainerdBlobs(client)
        with blobs.open(wanted) as stream:
            assert stream.read() == layer.blob
        with blobs.open(wanted) as stream:  # closed half-read: the call is cancelled, nothing left
            assert stream.read(10) == layer.blob[:10]
        elsewhere = Want(wanted.descriptor, fresh_namespace())
        with pytest.raises(Missing, match="is not in the content store"):
            blobs.open(elsewhere)


def test_a_scan_changes_nothing_by_containerds_own_events(
    daemon: ThrowawayContainerd, family: tuple[Family, Path]
) -> None:
    """containerd publishes an event for every image, content, namespace, lease or snapshot
    change; during a scan (cold and warm, every namespace) none comes but the test's own
    canary (a tag made after the scan, proving that the subscription hears)."""
    namespace = loaded(daemon, family[1])
    command = [str(daemon.build.ctr), "-a", str(daemon.socket), "events"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as events:
        try:
            for spec in (f"?namespace={namespace}", "?namespace=all"):
                open_source(f"containerd:{daemon.socket}{spec}").scan()  # cold, then warm
                open_source(f"containerd:{daemon.socket}{spec}").scan()
            images = daemon.ctr("-n", namespace, "images", "ls", "-q").split()
            daemon.ctr("-n", namespace, "images", "tag", images[0], "canary.example/after:scan")
            seen = []
            assert events.stdout is not None
            for line in events.stdout:
                seen.append(line)
                if "canary.example/after:scan" in line:
                    break
        finally:
            events.terminate()
    assert len(seen) == 1, seen  # the canary alone
    assert "/images/create" in seen[0]


def test_no_socket_and_a_socket_that_is_not_containerd_say_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "containerd.sock"
    error = run_cli(["tree", "--source", f"containerd:{missing}"]).one_line_error()
    assert error.startswith(
        f"No containerd is listening at unix://{missing} (no such socket); start containerd"
    )
    assert "--source 'containerd:/PATH/containerd.sock?namespace=NS'" in error


def test_a_node_snapshot_per_namespace_merges_with_found_in_per_node(
    daemon: ThrowawayContainerd, family: tuple[Family, Path], tmp_path: Path
) -> None:
    """Two "nodes" (two namespaces here): ``snapshot --source containerd`` on each, then one tree."""
    _, tar = family
    nodes = {"node1": fresh_namespace(), "node2": fresh_namespace()}
    daemon.import_archive(nodes["node1"], tar)
    solo = OciLayout()
    solo.tag("ctrd/only-on-node2:1", solo.add_image(Image.scratch(AMD64).run("ADD x /", {"x": b"node2"})))
    (tmp_path / "solo.tar").write_bytes(solo.tar_bytes())
    daemon.import_archive(nodes["node2"], tmp_path / "solo.tar")
    daemon.import_archive(nodes["node2"], tar)
    for node, namespace in nodes.items():
        made = run_cli(
            [
                "snapshot",
                "--source",
                f"containerd:{daemon.socket}?namespace={namespace}",
                "-o",
                str(tmp_path / f"{node}.json"),
            ]
        )
        assert made.code == 0, made.stderr
    merged = run_cli(
        [
            "export",
            *("--source", f"snapshot:{tmp_path / 'node1.json'}"),
            *("--source", f"snapshot:{tmp_path / 'node2.json'}"),
            *("-f", "json", "--platform", "all"),
        ]
    )
    assert merged.code == 0, merged.stderr
    images = json.loads(merged.stdout)["images"]
    found = {image["tags"][0]: image.get("found_in") for image in images}
    assert found["ctrd/only-on-node2:1"] == ["snapshot node2.json"]
    assert found["ctrd/base:1"] == ["snapshot node1.json", "snapshot node2.json"]


def test_permission_denied_says_what_to_do(daemon: ThrowawayContainerd) -> None:
    result = run_cli_as(65534, 65534, ["tree", "--source", f"containerd:{daemon.socket}"])
    error = result.one_line_error()
    assert error.startswith(f"Permission denied on the containerd at unix://{daemon.socket}; run as root")


def test_docker_s_containerd_store_reads_the_same_through_the_engine_and_through_containerd(
    engine_28: Any, family: tuple[Family, Path]
) -> None:
    """The same images, loaded into Engine 28.5's containerd store: the Engine API and
    ``containerd:`` on the engine's own containerd (its namespace) give the same tree."""
    _, tar = family
    engine_28.docker("load", "-i", str(tar))
    socket_path = Path(engine_28.exec_root) / "containerd" / "containerd.sock"
    through = {
        "engine": f"docker:unix://{engine_28.socket_path}",
        "containerd": f"containerd:{socket_path}?namespace={engine_28.containerd_namespace}",
    }
    trees = {}
    for name, spec in through.items():
        out = run_cli(
            ["export", "--source", spec, "-f", "json", "--platform", "all", "--no-cache"], timeout=120
        )
        assert out.code == 0, out.stderr
        trees[name] = {image["id"]: image for image in json.loads(out.stdout)["images"]}
    engine, containerd = trees["engine"], trees["containerd"]
    assert set(containerd) == set(engine)
    same = ("tags", "os", "architecture", "parent", "children", "manifest_digest", "index_digest")
    for image_id, record in engine.items():
        ours = containerd[image_id]
        assert {k: ours[k] for k in same} == {k: record[k] for k in same}, image_id
        assert ours["index_platforms"] == record["index_platforms"], image_id
        if record["size_kind"] == "compressed":  # a platform the engine did not unpack: sizes alike
            assert (ours["size"], ours["layers"]) == (record["size"], record["layers"]), image_id
        else:  # the same steps and layers; the engine measured them unpacked
            assert [without_size(layer) for layer in ours["layers"]] == [
                without_size(layer) for layer in record["layers"]
            ], image_id


def without_size(layer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in layer.items() if key != "size"}


def test_a_platform_one_namespace_lacks_is_read_from_another_with_all(
    daemon: ThrowawayContainerd, family: tuple[Family, Path]
) -> None:
    """As a node pulls: one platform's content in one namespace (the others' manifests removed
    there, as a node never pulled them), every platform in another; ``?namespace=all`` finds
    every platform, whichever namespace is walked first."""
    built, tar = family
    arm = [digest for digest, image in built.layout.images.items() if str(image.platform) == str(ARM64)]
    with ThrowawayContainerd(daemon.build) as fresh:
        fresh.import_archive("a-one-platform", tar)
        fresh.ctr("-n", "a-one-platform", "content", "rm", *arm)
        one = open_source(f"containerd:{fresh.socket}?namespace=a-one-platform").scan()
        assert {image.platform for image in one.images} == {str(AMD64)}
        assert any(("linux/arm64", False) in image.index_platforms for image in one.images)
        fresh.import_archive("b-every-platform", tar)
        every = open_source(f"containerd:{fresh.socket}?namespace=all").scan()
    expected = {image.config_digest for platforms in built.images.values() for image in platforms.values()}
    assert {image.id for image in every.images} == expected
    assert all(("linux/arm64", False) not in image.index_platforms for image in every.images)


def test_the_app_shows_a_containerd_s_images(
    daemon: ThrowawayContainerd, family: tuple[Family, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app reads containerd where ``CONTAINERD_ADDRESS`` and ``CONTAINERD_NAMESPACE`` say, as ctr."""
    import streamlit as st  # noqa: PLC0415

    from tests.app.test_app import dot, names_in, ok, record_trees, start  # noqa: PLC0415 - the app tier's

    record_trees(monkeypatch)
    monkeypatch.setenv("CONTAINERD_ADDRESS", str(daemon.socket))
    monkeypatch.setenv("CONTAINERD_NAMESPACE", loaded(daemon, family[1]))
    st.cache_resource.clear()
    at = start("containerd")
    ok(at)
    assert not at.error, [e.value for e in at.error]
    assert {"ctrd/base:1", "ctrd/app:1", "ctrd/app-plugin:1", "ctrd/single:1"} <= names_in(dot(at))
    st.cache_resource.clear()
