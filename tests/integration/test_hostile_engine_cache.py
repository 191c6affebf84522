"""The details cache against a hostile engine: what one engine says is never shown for another.

A hostile engine (a ``tcp://`` host, a context) answers inspect and history for an id
the user's own engine has, with forged labels and layers. Scanning it once must not
change what later scans of the honest engine (a real dockerd) show.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from image_lineage.model import Image
from image_lineage.sources.engine import DockerEngineSource
from testbed.fake_engine import FakeEngine, answers

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]

FORGED_LAYER = "sha256:" + "f" * 64


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory short enough for a unix socket's path."""
    with tempfile.TemporaryDirectory(prefix="il-hostile-") as directory:
        yield Path(directory)


def the_image(endpoint: str, image_id: str, *, use_cache: bool = True) -> Image:
    scan = DockerEngineSource(endpoint=endpoint, use_cache=use_cache).scan()
    return next(image for image in scan.images if image.id == image_id)


def test_a_forged_answer_from_another_engine_is_never_shown_for_the_honest_one(
    dockerd: Any, short_dir: Path
) -> None:
    dockerd.import_busybox("hostile-cache/root:1", extra_files={"etc/hostile-cache": "x"})
    image_id = str(dockerd.build("FROM hostile-cache/root:1\nLABEL team=honest\n", "hostile-cache/app:1"))
    truth = the_image(dockerd.host, image_id, use_cache=False)
    forged_inspect = {
        "Id": image_id,
        "Config": {"Labels": {"team": "forged"}},
        "RootFS": {"Type": "layers", "Layers": [FORGED_LAYER]},
    }
    forged_history = [{"Id": image_id, "Created": 0, "CreatedBy": "forged", "Size": 1}]
    with FakeEngine(short_dir, answers(image_id, forged_inspect, forged_history, "evil:1")) as hostile:
        assert the_image(hostile.address, image_id).labels == (("team", "forged"),)
        assert all(request.startswith("GET ") for request in hostile.requests)

    honest = the_image(dockerd.host, image_id)

    assert honest.labels == truth.labels == (("team", "honest"),)
    assert honest.layers == truth.layers
    assert FORGED_LAYER not in honest.layers
    assert honest.history == truth.history
