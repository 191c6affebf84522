"""Each source lists an image's layers through its own blobs (``Source.read_layers``); features ask
the source object (``layers.image_layers``), never a switch on the spec string."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_lineage.errors import LineageError
from image_lineage.model import Image
from image_lineage.sources import open_source
from image_lineage.sources.layers import Listings, image_layers
from testbed.oci_layout import AMD64, OciLayout
from testbed.oci_layout import Image as Built

APP = Built.scratch(AMD64).run("ADD rootfs /", {"etc/os": b"x"}).run("RUN echo", {"etc/os": b"yy"})


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layout = OciLayout()
    layout.tag("demo/app:1", layout.add_image(APP), docker_platform=AMD64)
    path = tmp_path_factory.mktemp("layer-sources") / "app.tar"
    path.write_bytes(layout.tar_bytes())
    return path


def app_record(archive: Path) -> Image:
    return next(i for i in open_source(f"archive:{archive}").scan().images if i.tags == ("demo/app:1",))


@pytest.mark.parametrize(
    "spec",
    [
        "docker",
        "docker:unix:///nowhere.sock",
        "podman:unix:///nowhere.sock",
        "containerd:/nowhere.sock",
        "archive:/nowhere.tar",
        "registry:http://127.0.0.1:1",
        "snapshot:/nowhere.json",
        "sample",
    ],
)
def test_every_kind_of_source_offers_its_layers_itself(spec: str) -> None:
    """Opening a source reads nothing; the object it gives is what lists the layers."""
    assert callable(open_source(spec).read_layers)


def test_the_archive_source_object_lists_its_layers(archive: Path) -> None:
    listings = Listings()
    listed = image_layers(open_source(f"archive:{archive}"), app_record(archive), listings)
    assert [dict(zip(listing.paths, listing.sizes, strict=True))["/etc/os"] for listing in listed] == [1, 2]
    assert listings.reads == 2


@pytest.mark.parametrize("spec", ["sample", "snapshot:/nowhere.json"])
def test_a_source_of_records_says_in_one_line_that_it_keeps_no_layers(archive: Path, spec: str) -> None:
    with pytest.raises(LineageError) as raised:
        image_layers(open_source(spec), app_record(archive), Listings())
    assert str(raised.value) == (
        f"The source {spec} keeps image records, not layers: read the image from an engine, "
        "containerd, an archive or a registry to see its files."
    )
