"""Archives written by real tools: ``docker save`` (dockerd 20.10) and ``skopeo`` (OCI layout).

The tree read from an archive must be the tree read from the engine that saved it.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cli import main
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.sources import open_source
from tests.conftest import unavailable
from tests.integration.test_docker_engine import legacy_family

pytestmark = pytest.mark.docker

TAGS = ["archived/root:1", "archived/app:1", "archived/labelled:1", "archived/leaf:1"]


def tree(spec: str) -> Lineage:
    scan = open_source(spec, use_cache=False).scan()
    return build_lineage(scan.images, scan.source, scan.diagnostics)


def edges_by_tag(lineage: Lineage) -> set[tuple[str, str]]:
    return {
        (lineage.node(parent).image.tags[0], lineage.node(child).image.tags[0])
        for parent, child in lineage.edges()
        if lineage.node(parent).image.tags and lineage.node(child).image.tags
    }


@pytest.fixture(scope="module")
def saved(dockerd: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    legacy_family(dockerd, "archived")
    path = tmp_path_factory.mktemp("saved") / "family.tar"
    dockerd.docker("save", "-o", str(path), *TAGS)
    return path


def test_docker_save_reads_as_the_engine_does(dockerd: Any, saved: Path) -> None:
    from_archive = tree(f"archive:{saved}")
    from_engine = tree(f"docker:{dockerd.host}")
    ours = {n.id for n in from_archive.nodes()}
    assert ours <= {n.id for n in from_engine.nodes()}  # the same image ids (config digests)
    assert len(ours) == len(TAGS)
    expected = {
        ("archived/root:1", "archived/app:1"),
        ("archived/app:1", "archived/labelled:1"),
        ("archived/labelled:1", "archived/leaf:1"),
    }
    assert edges_by_tag(from_archive) == expected
    assert expected <= edges_by_tag(from_engine)
    leaf = next(n for n in from_archive.nodes() if n.image.tags == ("archived/leaf:1",))
    assert leaf.added_layers == 1
    assert leaf.added_size > 0


def test_the_cli_reads_an_archive_and_leaves_it_untouched(saved: Path) -> None:
    before = hashlib.sha256(saved.read_bytes()).hexdigest()
    out = io.StringIO()
    assert main(["tree", "--source", f"archive:{saved}"], stdout=out) == 0
    assert "archived/leaf:1" in out.getvalue()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == before


def test_an_oci_layout_from_skopeo(saved: Path, tmp_path: Path) -> None:
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        unavailable("skopeo is not installed (apt-get install skopeo)")
        return
    layout = tmp_path / "layout"
    for tag in TAGS:
        subprocess.run(
            [skopeo, "copy", "--quiet", f"docker-archive:{saved}:{tag}", f"oci:{layout}:{tag}"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    archive = tmp_path / "oci.tar"
    with tarfile.open(archive, "w") as tar:
        for path in sorted(layout.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(layout)), recursive=False)
    lineage = tree(f"archive:{archive}")
    assert {n.image.tags[0] for n in lineage.nodes()} == set(TAGS)
    assert edges_by_tag(lineage) == {
        ("archived/root:1", "archived/app:1"),
        ("archived/app:1", "archived/labelled:1"),
        ("archived/labelled:1", "archived/leaf:1"),
    }
    assert any("compressed" in d.message for d in lineage.diagnostics)
