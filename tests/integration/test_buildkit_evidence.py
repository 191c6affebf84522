"""Bases named by what BuildKit recorded, on real builds: Engine 28.5 (containerd store) with
docker-buildx 0.29 (``testbed/buildkit.py``), the same images saved to an archive and copied to
a registry with skopeo; and ``stale`` on them after the base is rebuilt under its tag.

Built offline: ``--network=none``, only ``FROM`` and ``COPY`` (local images resolve from the store).
"""

from __future__ import annotations

import json
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from image_lineage.lineage import build_lineage
from image_lineage.model import Image, Scan
from image_lineage.render.text import render_text
from image_lineage.sources import open_source
from image_lineage.sources.archive import ArchiveSource
from image_lineage.sources.engine import DockerEngineSource
from testbed.buildkit import buildx
from testbed.engines import ModernEngine
from tests.support.cli import run_cli

pytestmark = pytest.mark.docker

ANNOTATED = (
    "--annotation", "manifest:org.opencontainers.image.base.name=bk/base:1",
    "--output", "type=image,name=bk/annot:1,oci-mediatypes=true",
)  # fmt: skip


#: A mode=min provenance of a multi-stage build lists every image used, none marked final.
ANY_CANDIDATE = "bk/app:1 or bk/base:1"

#: The base each image's build recorded (the final stage's for bk/multi:1; none for imports).
BASES = {
    "bk/base:1": None,
    "bk/app:1": "bk/base:1",
    "bk/v1:1": "bk/base:1",
    "bk/min:1": "bk/app:1",
    "bk/multi:1": "bk/app:1",
    "bk/minmulti:1": ANY_CANDIDATE,
    "bk/annot:1": "bk/base:1",
    "bk/gone:1": "bk/tmp:1",
}


@dataclass(frozen=True)
class Built:
    engine: ModernEngine
    archive: Path  # docker save of every bk/ image, before the base was rebuilt
    ids: dict[str, str]  # tag -> what --iidfile said (index digest)
    old_base: str  # the first bk/base:1's manifest digest


def _reference(image: Image) -> str | None:
    """The base reference recorded, or ``ANY_CANDIDATE`` where the provenance lists candidates."""
    if image.base is None:
        return None
    return ANY_CANDIDATE if image.base.candidates else image.base.reference


def _ours(scan: Scan) -> dict[str, Image]:
    return {tag: image for image in scan.images for tag in image.tags if "bk/" in tag}


@pytest.fixture(scope="module")
def built(engine_28: ModernEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    engine = engine_28
    old_base = engine.import_busybox("bk/base:1", extra_files={"etc/base-version": "1\n"})
    engine.import_busybox("bk/tmp:1", extra_files={"etc/tmp": "t\n"})
    ids = {
        "bk/app:1": buildx(engine, {"Dockerfile": "FROM bk/base:1\nCOPY a /a\n", "a": "a"},
                           "-t", "bk/app:1", "--provenance=mode=max"),
        "bk/v1:1": buildx(engine, {"Dockerfile": "FROM bk/base:1\nCOPY a /v1\n", "a": "v"},
                          "-t", "bk/v1:1", "--provenance=mode=max,version=v1"),
        "bk/min:1": buildx(engine, {"Dockerfile": "FROM bk/app:1\nCOPY a /min\n", "a": "m"},
                           "-t", "bk/min:1", "--provenance=mode=min"),
        "bk/multi:1": buildx(
            engine,
            {"Dockerfile": "FROM bk/base:1 AS builder\nCOPY a /b\nFROM bk/app:1\nCOPY --from=builder /b /c\n",
             "a": "b"},
            "-t", "bk/multi:1", "--provenance=mode=max,version=v1",
        ),
        "bk/minmulti:1": buildx(
            engine,
            {"Dockerfile": "FROM bk/base:1 AS builder\nCOPY a /b\nFROM bk/app:1\nCOPY --from=builder /b /d\n",
             "a": "d"},
            "-t", "bk/minmulti:1", "--provenance=mode=min",
        ),
        "bk/annot:1": buildx(
            engine, {"Dockerfile": "FROM bk/base:1\nCOPY a /n\n", "a": "n"},
            *ANNOTATED, "--annotation", f"manifest:org.opencontainers.image.base.digest={old_base}",
            "--provenance=mode=min",
        ),
        "bk/gone:1": buildx(engine, {"Dockerfile": "FROM bk/tmp:1\nCOPY a /g\n", "a": "g"},
                            "-t", "bk/gone:1", "--provenance=mode=max"),
    }  # fmt: skip
    archive = tmp_path_factory.mktemp("buildkit") / "bk.tar"
    engine.docker("save", "-o", str(archive), *ids, "bk/base:1")
    engine.docker("rmi", "bk/tmp:1")  # a base deleted after the build
    engine.import_busybox("bk/base:1", extra_files={"etc/base-version": "2\n"})  # rebuilt under its tag
    # A build moving the tag deletes the old build on this store; an import leaves it dangling:
    # removed here, as a build would have.
    engine.docker("rmi", old_base)
    yield Built(engine, archive, ids, old_base)
    engine.docker("rmi", "-f", *ids, "bk/base:1", check=False)


def test_every_buildkit_image_names_its_base_on_the_engine(built: Built) -> None:
    images = _ours(DockerEngineSource(built.engine.host, use_cache=False).scan())
    bases = {tag: (i.base.kind, _reference(i)) if i.base else None for tag, i in images.items()}
    assert bases == {
        "bk/base:1": None,  # imported, not built
        "bk/app:1": ("provenance", "bk/base:1"),  # SLSA v0.2, mode=max
        "bk/v1:1": ("provenance", "bk/base:1"),  # SLSA v1
        "bk/min:1": ("provenance", "bk/app:1"),  # mode=min
        "bk/multi:1": ("provenance", "bk/app:1"),  # the final stage's, not the builder's bk/base:1
        "bk/minmulti:1": ("provenance", ANY_CANDIDATE),  # mode=min: both listed, lineage picks
        "bk/annot:1": ("provenance", "bk/base:1"),  # provenance over its annotations
        "bk/gone:1": ("provenance", "bk/tmp:1"),
    }
    candidates = images["bk/minmulti:1"].base
    assert candidates is not None
    assert sorted(ref for ref, _ in candidates.candidates) == ["bk/app:1", "bk/base:1"]
    assert images["bk/app:1"].base is not None
    assert images["bk/app:1"].base.digest == built.old_base
    assert images["bk/min:1"].base is not None
    assert images["bk/min:1"].base.digest == built.ids["bk/app:1"]  # the index the tag resolved to


def test_the_tree_names_bases_not_here_and_stale_finds_the_rebuilt_base(built: Built) -> None:
    scan = DockerEngineSource(built.engine.host, use_cache=False).scan()
    text = render_text(build_lineage(scan.images, scan.source, scan.diagnostics))
    assert f"built on bk/tmp:1 @ {built_short(scan, 'bk/gone:1')} (not here)" in text
    assert f"built on bk/base:1 @ {built.old_base[:19]}… (not here)" in text
    result = run_cli(["stale", "--source", f"docker:{built.engine.host}", "--format", "json"])
    assert result.code == 1, result.stderr
    found = {i["name"]: i["found_by"] for g in json.loads(result.stdout)["groups"] for i in g["images"]}
    assert {n: f for n, f in found.items() if n.startswith("bk/")} == {
        "bk/app:1": "provenance",
        "bk/v1:1": "provenance",
        "bk/annot:1": "provenance",
        "bk/min:1": "provenance",  # on bk/app:1, itself on the old base
        "bk/multi:1": "provenance",
        "bk/minmulti:1": "provenance",  # its parent, picked by layers among the candidates
    }
    lineage = build_lineage(scan.images, scan.source, scan.diagnostics)
    picked = lineage.node(_ours(scan)["bk/minmulti:1"].id)
    assert (lineage.node(picked.parent or "").image.tags, picked.known_by) == (("bk/app:1",), "provenance")
    tree = run_cli(["tree", "--source", f"docker:{built.engine.host}"])
    assert "bk/app:1" in tree.stdout
    assert "[on an outdated base: image-lineage stale]" in tree.stdout


def built_short(scan: Scan, tag: str) -> str:
    base = _ours(scan)[tag].base
    assert base is not None
    return base.digest[:19] + "…"


def test_the_archive_reads_the_same_bases(built: Built) -> None:
    images = _ours(ArchiveSource(built.archive).scan())
    assert {t: _reference(i) for t, i in images.items()} == BASES


@pytest.fixture(scope="module")
def pushed(built: Built, anonymous_registry: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Every bk/ image copied from the archive to the registry with skopeo, index and attestations."""
    layout = tmp_path_factory.mktemp("layout")
    with tarfile.open(built.archive) as tar:
        tar.extractall(layout, filter="data")
    index = json.loads((layout / "index.json").read_text())
    for entry in index["manifests"]:
        name = entry["annotations"]["io.containerd.image.name"].removeprefix("docker.io/")
        one = layout.parent / f"{layout.name}-{name.replace('/', '-').replace(':', '-')}"
        shutil.copytree(layout, one)
        single = {
            **index,
            "manifests": [{**entry, "annotations": {"org.opencontainers.image.ref.name": "x"}}],
        }
        (one / "index.json").write_text(json.dumps(single))
        anonymous_registry.copy(f"oci:{one}:x", name)
    return anonymous_registry


def test_the_registry_reads_the_same_bases_from_its_attestation_manifests(pushed: Any) -> None:
    scan = open_source(f"registry:{pushed.url}").scan()
    bases = {tag.split("/", 1)[1]: _reference(image) for image in scan.images for tag in image.tags}
    assert bases == BASES


def test_resolve_asks_the_registry_the_base_reference_names(
    engine_28: ModernEngine, anonymous_registry: Any, tmp_path: Path
) -> None:
    """The engine's base is unchanged; only the registry its reference names has a newer build."""
    base = f"{anonymous_registry.address}/rs/base:1"
    engine_28.import_busybox(base, extra_files={"etc/rs": "1\n"})
    buildx(engine_28, {"Dockerfile": f"FROM {base}\nCOPY a /a\n", "a": "a"}, "-t", "rs/app:1",
           "--provenance=mode=max")  # fmt: skip
    newer = engine_28.import_busybox("rs/newer:1", extra_files={"etc/rs": "2\n"})
    saved = tmp_path / "newer.tar"
    engine_28.docker("save", "-o", str(saved), "rs/newer:1")
    anonymous_registry.copy(f"docker-archive:{saved}:rs/newer:1", "rs/base:1")
    engine_28.docker("rmi", "rs/newer:1")
    source = ["stale", "--source", f"docker:{engine_28.host}", "--filter", "^rs/", "--no-cache"]
    try:
        before = len(anonymous_registry.requests())
        plain = run_cli(source)
        assert (plain.code, plain.stdout) == (0, "No image is built on an outdated base.\n"), plain.stderr
        asked = run_cli([*source, "--resolve", "-f", "json"])
        assert asked.code == 1, asked.stderr
        (group,) = json.loads(asked.stdout)["groups"]
        assert group["base_tag"] == base
        assert [(i["name"], i["found_by"]) for i in group["images"]] == [("rs/app:1", "provenance")]
        asked_for = [(m, p) for m, p in anonymous_registry.requests()[before:] if p.startswith("/v2/rs/")]
        assert asked_for == [("HEAD", "/v2/rs/base/manifests/1")]  # one HEAD, nothing pulled
        assert newer  # the registry's build is another image than the engine's
    finally:
        engine_28.docker("rmi", "-f", "rs/app:1", base, check=False)
