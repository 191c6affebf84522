"""``image-lineage stale``: grouped text, the image-lineage.stale/v1 JSON, and exit statuses for CI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from image_lineage.model import Image, Scan
from image_lineage.sources.snapshot import dumps
from image_lineage.stale import BASE_DIGEST, BASE_NAME
from tests.builders import BASE, FOUNDATION, MINIMAL, SCIPY, SOURCE, digest, image, jupyter_family, rebuilt
from tests.support.cli import run_cli


def write(tmp_path: Path, images: list[Image]) -> str:
    path = tmp_path / "scan.json"
    path.write_text(dumps(Scan(source=SOURCE, images=tuple(images))), encoding="utf-8")
    return f"snapshot:{path}"


def stale_family() -> list[Image]:
    old_base = image(BASE)
    new_base = replace(
        rebuilt(old_base, "base:1", from_step=len(FOUNDATION)), manifest_digest=digest("manifest:new")
    )
    token = "ghp_" + "a1B2c3D4e5" * 4  # a GitHub token shape: masked unless --show-secrets
    minimal = replace(
        image(MINIMAL, "minimal:1"),
        labels=((BASE_DIGEST, digest("manifest:old")), (BASE_NAME, f"base:1?token={token}")),
    )
    return [image(FOUNDATION, "foundation:1"), old_base, new_base, minimal, image(SCIPY, "scipy:1")]


def test_stale_images_exit_1_grouped_by_base(tmp_path: Path) -> None:
    result = run_cli(["stale", "--source", write(tmp_path, stale_family())])
    assert result.code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2 images to rebuild, on 1 outdated base:"
    assert lines[2].startswith("base:1 now names ")
    assert lines[3].startswith("  minimal:1  on <none>@")
    assert "30 days older; a rebuild replaces 2 layers, 28.0 MB" in lines[3]
    assert lines[4] == "    the newer base differs from step 4: RUN conda-install"
    assert lines[5].startswith("    its annotation contradicts: it names another base")
    assert any(line.startswith("  scipy:1  on <none>@") for line in lines)


def test_the_step_where_the_base_differs_reads_as_one_line(tmp_path: Path) -> None:
    # A RUN continued over lines was shown as "RUN mamba install --yes     'notebook' ...".
    continued = "/bin/sh -c conda-install \t    --yes \n    jupyterlab"
    images = [_with_step(each, 3, continued) for each in stale_family()]  # every build has the step
    lines = run_cli(["stale", "--source", write(tmp_path, images)]).stdout.splitlines()
    assert lines[4] == "    the newer base differs from step 4: RUN conda-install --yes jupyterlab"


def _with_step(built: Image, index: int, created_by: str) -> Image:
    history = list(built.history or ())
    if len(history) > index:
        history[index] = replace(history[index], created_by=created_by)
    return replace(built, history=tuple(history))


def test_secrets_in_annotations_are_masked(tmp_path: Path) -> None:
    source = write(tmp_path, stale_family())
    for fmt in ("text", "json"):
        shown = run_cli(["stale", "--source", source, "--format", fmt])
        assert "ghp_" not in shown.stdout
        revealed = run_cli(["stale", "--source", source, "--format", fmt, "--show-secrets"])
        assert "ghp_" in revealed.stdout


def test_no_stale_image_exit_0(tmp_path: Path) -> None:
    result = run_cli(["stale", "--source", write(tmp_path, list(jupyter_family()))])
    assert (result.code, result.stdout) == (0, "No image is built on an outdated base.\n")


def test_filter_limits_what_is_listed(tmp_path: Path) -> None:
    source = write(tmp_path, stale_family())
    assert run_cli(["stale", "--source", source, "--filter", "^scipy"]).code == 1
    assert run_cli(["stale", "--source", source, "--filter", "^foundation"]).code == 0


def test_json_schema(tmp_path: Path) -> None:
    result = run_cli(["stale", "--source", write(tmp_path, stale_family()), "--format", "json"])
    assert result.code == 1
    document = json.loads(result.stdout)
    assert (document["schema"], document["stale"]) == ("image-lineage.stale/v1", 2)
    (group,) = document["groups"]
    assert (group["base_tag"], group["platform"], group["newer"]["name"]) == (
        "base:1",
        "linux/amd64",
        "base:1",
    )
    minimal, scipy = group["images"]
    assert (minimal["name"], scipy["name"]) == ("minimal:1", "scipy:1")
    assert minimal["age_seconds"] == 30 * 86_400
    assert (minimal["layers_to_change"], minimal["bytes_to_change"]) == (2, 28_000_000)
    assert (minimal["found_by"], minimal["annotation"]["evidence"]) == ("lineage", "contradicted")
    assert set(minimal) == {
        "id",
        "name",
        "platform",
        "old_base",
        "age_seconds",
        "base_steps",
        "shared_layers",
        "layers_to_change",
        "bytes_to_change",
        "diverged_step",
        "found_by",
        "annotation",
    }


def test_json_with_none_is_an_empty_list(tmp_path: Path) -> None:
    result = run_cli(["stale", "--source", write(tmp_path, list(jupyter_family())), "-f", "json"])
    assert result.code == 0
    assert json.loads(result.stdout) == {"schema": "image-lineage.stale/v1", "stale": 0, "groups": []}


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["stale", "--source", "snapshot:/nonexistent/scan.json"], id="expected-error"),
        pytest.param(["stale", "--source", "nowhere:x"], id="unknown-source"),
    ],
)
def test_errors_exit_2_not_1(argv: list[str]) -> None:
    result = run_cli(argv)
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("image-lineage: error: ")


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as stopped:
        run_cli(["stale", "--format", "yaml"])
    assert stopped.value.code == 2
