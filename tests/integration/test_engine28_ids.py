"""On a real Engine 28.5 (containerd image store): the ids ``docker images`` shows find their
images, and the tree says why its own ids differ (recorded answers: tests/unit/test_engine28_ids.py)."""

from __future__ import annotations

import pytest

from image_lineage.model import short_id
from testbed.engines import ModernEngine
from testbed.oci_layout import Family, lineage_family
from tests.support.cli import run_cli

pytestmark = pytest.mark.docker

PREFIX = "e28ids"


@pytest.fixture(scope="module")
def loaded(engine_28: ModernEngine, tmp_path_factory: pytest.TempPathFactory) -> tuple[ModernEngine, Family]:
    family = lineage_family(prefix=PREFIX)
    tar = tmp_path_factory.mktemp("family") / "family.tar"
    tar.write_bytes(family.tar_bytes())
    engine_28.docker("load", "-i", str(tar))
    return engine_28, family


def test_the_ids_docker_images_shows_find_their_images(loaded: tuple[ModernEngine, Family]) -> None:
    engine, family = loaded
    listed = engine.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout.split("\n")
    ids = dict(line.split() for line in listed if line.startswith(f"{PREFIX}/"))
    assert set(ids) == set(family.images)
    for tag, shown in ids.items():
        if "linux/amd64" not in family.images[tag]:
            continue  # arm64 only: hidden on this machine by default
        config = family.images[tag]["linux/amd64"].config_digest
        assert short_id(config) != shown  # the reason for all this
        tree = run_cli(["tree", "--ascii", "--source", engine.host, "--focus", shown])
        assert tree.code == 0, tree.stderr
        focused = next(line for line in tree.stdout.splitlines() if tag in line)
        assert f"  {short_id(config)}  " in focused
        assert "Ids: config digests; docker images on this containerd-store engine shows" in tree.stdout


def test_a_prefix_of_the_config_digest_still_works(loaded: tuple[ModernEngine, Family]) -> None:
    engine, family = loaded
    config = family.images[f"{PREFIX}/app:1"]["linux/amd64"].config_digest
    tree = run_cli(["export", "-f", "json", "--source", engine.host, "--focus", config[7:19]])
    assert tree.code == 0, tree.stderr
    assert f'"{config}"' in tree.stdout
