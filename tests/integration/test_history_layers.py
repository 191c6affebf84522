"""Which history step made which layer, checked against a real legacy-builder build.

The Engine API gives a size per history row but not whether the row made a layer.
The classic builder commits a container for ``WORKDIR``; the layer is kept when the
directory was created and dropped when it already existed (an empty diff). A ``COPY``
of an empty file makes a 0 B layer; a ``RUN`` that changes nothing makes none. Sizes
alone cannot tell these apart; the step images the legacy builder leaves behind can.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from image_lineage.lineage import build_lineage
from image_lineage.sources.engine import DockerEngineSource

pytestmark = pytest.mark.docker

DOCKERFILE = """\
FROM history-layers/root:1
ENV APP_HOME=/srv/app
WORKDIR /srv/app/data
WORKDIR /tmp
COPY empty.txt /srv/app/empty.txt
RUN echo hello > /srv/app/hello.txt
LABEL team=data
RUN true
CMD ["sh"]
"""

# (instruction keyword, makes a layer) per step of the build, after the root's import;
# checked against the config's own empty_layer flags in a `docker save` of this build.
EXPECTED = [
    ("ENV", False),
    ("WORKDIR", True),  # creates /srv/app/data: a 0 B layer holding directory entries
    ("WORKDIR", False),  # /tmp exists: the builder commits, finds the diff empty, drops it
    ("COPY", True),  # an empty file: 0 B, yet a layer with one entry
    ("RUN", True),
    ("LABEL", False),
    ("RUN", False),  # changes nothing: dropped like the WORKDIR above
    ("CMD", False),
]


def test_every_step_gets_its_own_layer(dockerd: Any, tmp_path: Path) -> None:
    dockerd.import_busybox("history-layers/root:1", extra_files={"etc/history-layers": "x"})
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "empty.txt").write_bytes(b"")
    image_id = dockerd.build(tmp_path, "history-layers/app:1")

    scan = DockerEngineSource(endpoint=dockerd.host, use_cache=False).scan()
    lineage = build_lineage(scan.images, scan.source, scan.diagnostics)
    node = lineage.node(image_id)
    steps = node.steps[-len(EXPECTED) :]

    seen = [
        (
            step.created_by.split("#(nop)")[-1].split()[0] if "#(nop)" in step.created_by else "RUN",
            step.diff_id is not None,
        )
        for step in steps
    ]
    assert seen == EXPECTED
    # Each layer is paired with its own step: the image's layers, in order, are the steps'.
    assert [s.diff_id for s in node.steps if s.diff_id] == list(node.image.layers)
    assert [d for d in lineage.diagnostics if d.image == image_id] == []

    # Without --all the step images are not listed, yet the scan asked for them to decide.
    assert not any(i.intermediate for i in scan.images)
    # The root is the parent, and the sizes add up.
    root = lineage.node(node.parent or "")
    assert node.total_size == root.total_size + node.added_size


def test_a_loaded_image_says_when_its_steps_cannot_be_told_apart(dockerd: Any, tmp_path: Path) -> None:
    """After save and load no step image is left: the answer is a guess, and the scan says so."""
    dockerd.import_busybox("history-loaded/root:1", extra_files={"etc/history-loaded": "x"})
    (tmp_path / "Dockerfile").write_text(DOCKERFILE.replace("history-layers", "history-loaded"))
    (tmp_path / "empty.txt").write_bytes(b"")
    dockerd.build(tmp_path, "history-loaded/app:1")
    archive = tmp_path / "app.tar"
    dockerd.docker("save", "-o", str(archive), "history-loaded/app:1")
    dockerd.docker("rmi", "history-loaded/app:1")
    dockerd.docker("load", "-i", str(archive))
    image_id = dockerd.docker(
        "image", "inspect", "--format", "{{.Id}}", "history-loaded/app:1"
    ).stdout.strip()

    scan = DockerEngineSource(endpoint=dockerd.host, use_cache=False).scan()
    codes = [d.code for d in scan.diagnostics if d.image == image_id]
    assert codes == ["history_layers_ambiguous"]
    # The guess still pairs every layer with a step, so the tree and sizes hold.
    node = build_lineage(scan.images, scan.source).node(image_id)
    assert [s.diff_id for s in node.steps if s.diff_id] == list(node.image.layers)
