"""The lesson view's material on literal records: the tower, the pull, the docker run line.

Also how every source reads what a container starts with (``RunConfig``).
"""

from __future__ import annotations

import json
import shlex
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from image_lineage import lesson
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.masking import mask_image
from image_lineage.model import Image, RunConfig
from image_lineage.render import lesson as drawing
from image_lineage.sources.engine_api import image_from_api, trim_inspect
from image_lineage.sources.image_config import image_from_config, run_config
from tests.builders import SOURCE, image, jupyter_family

ROOT = ["RUN root files:1000"]
PYTHON = [*ROOT, "ENV LANG=C.UTF-8", "RUN install python:3000"]
APP = [*PYTHON, "RUN copy app:50", "EXPOSE 8080", "CMD python app.py"]


def family() -> tuple[Lineage, dict[str, Image]]:
    images = {
        "root": image(ROOT, "debian:slim"),
        "python": image(PYTHON, "python:3"),
        "app": image(APP, "app:1"),
    }
    return build_lineage(list(images.values()), SOURCE), images


# --------------------------------------------------------------------------- the tower


def test_the_tower_is_oldest_first_and_coloured_by_the_image_that_built_each_layer() -> None:
    lineage, images = family()
    tower = lesson.tower(lineage, images["app"].id)
    assert [c.name for c in tower.contributors] == ["debian:slim", "python:3", "app:1"]
    assert [c.role for c in tower.contributors] == ["base", "ancestor", "itself"]
    assert tower.contributors[-1].colour == lesson.ITSELF_COLOUR
    assert len({c.colour for c in tower.contributors}) == 3
    assert [(s.size, s.contributor) for s in tower.layers()] == [(1000, 0), (3000, 1), (50, 2)]
    assert [(c.layers, c.size) for c in tower.contributors] == [(1, 1000), (1, 3000), (1, 50)]
    assert [s.layer for s in tower.steps] == [True, False, True, True, False, False]


def test_stepping_through_says_what_each_step_adds() -> None:
    lineage, images = family()
    tower = lesson.tower(lineage, images["app"].id)
    assert tower.step_title(1) == "Step 1 of 6 adds 1.0\u00a0kB"  # a no-break space: 1.0 and kB stay together
    assert tower.step_title(2) == "Step 2 of 6 adds no layer"
    assert "build of python:3" in tower.step_detail(2)
    assert "only changes the image's settings" in tower.step_detail(2)
    assert [s.number for s in tower.layers(3)] == [1, 3]


def test_the_tower_svg_grows_with_the_steps_and_keeps_its_height() -> None:
    lineage, images = family()
    tower = lesson.tower(lineage, images["app"].id)
    first, whole = ET.fromstring(drawing.tower_svg(tower, 1)), ET.fromstring(drawing.tower_svg(tower))
    blocks = "{http://www.w3.org/2000/svg}rect"
    assert len(whole.findall(blocks)) == 1 + 3  # the background and three layers
    assert len(first.findall(blocks)) == 1 + 1
    assert first.get("height") == whole.get("height")
    places = "{http://www.w3.org/2000/svg}path"
    assert len(first.findall(places)) == 2  # the two layers still to come, as faint places
    assert not whole.findall(places)
    outlined = [r for r in ET.fromstring(drawing.tower_svg(tower, 4)).findall(blocks) if r.get("stroke")]
    assert len(outlined) == 1  # the current step's layer


def test_hostile_names_and_steps_stay_text_in_the_svg_and_the_legend() -> None:
    evil = image([*ROOT, "RUN <script>alert(1)</script>&x:10"], "<svg onload=alert(1)>:1")
    lineage = build_lineage([image(ROOT, "debian:slim"), evil], SOURCE)
    tower = lesson.tower(lineage, evil.id)
    for markup in (drawing.tower_svg(tower), drawing.legend_html(tower)):
        root = ET.fromstring(markup)  # well-formed: nothing broke out of its element
        inside = [e.tag.rsplit("}", 1)[-1] for e in root.iter() if e is not root]
        assert not {"script", "foreignObject", "svg"} & set(inside)
        assert "<script>" not in markup
        assert "<svg onload" not in markup
        assert "onload=" not in " ".join(k for e in root.iter() for k in e.attrib)
    assert "&lt;svg onload=alert(1)&gt;:1" in drawing.legend_html(tower)


def test_the_legend_lists_whose_build_made_what_newest_first() -> None:
    lineage, images = family()
    legend = ET.fromstring(drawing.legend_html(lesson.tower(lineage, images["app"].id)))
    rows = ["".join(item.itertext()) for item in legend.iter("li")]
    assert rows == [
        "app:1this image: 1 layer, 50\u00a0B",
        "python:3an ancestor: 1 layer, 3.0\u00a0kB",
        "debian:slimthe base: 1 layer, 1.0\u00a0kB",
    ]
    swatches = [item.find("span") for item in legend.iter("li")]
    assert [s.get("style", "").rsplit("background:", 1)[1] for s in swatches if s is not None] == [
        lesson.ITSELF_COLOUR,
        *reversed(lesson.ANCESTOR_COLOURS[:2]),
    ]


def test_the_tower_so_far() -> None:
    lineage, images = family()
    tower = lesson.tower(lineage, images["app"].id)
    assert tower.so_far(1) == "The tower so far: 1 layer, 1.0\u00a0kB"
    assert tower.so_far(2) == "The tower so far: 1 layer, 1.0\u00a0kB"  # ENV adds no layer
    assert tower.so_far(6) == "The tower so far: 3 layers, 4.0\u00a0kB"


def test_a_layer_label_is_one_line_with_short_hashes() -> None:
    step = "RUN set -ex \t&&   apt-get update\n    && COPY file:" + "0123abcd" * 8 + " /app"
    assert lesson.tower_label(step) == "RUN set -ex && apt-get update && COPY file:0123… /app"


def test_the_family_and_its_default_image() -> None:
    images = jupyter_family()
    lineage = build_lineage(images, SOURCE)
    (only,) = lesson.families(lineage)
    assert only.members[0] == lesson.family_of(lineage, only.members[-1]).root
    deepest = lineage.node(lesson.default_image(lineage, only))
    assert len(lineage.ancestors(deepest.id)) == max(len(lineage.ancestors(i)) for i in only.members)
    assert lesson.family_label(lineage, only) == f"{only.name} · {len(only.members)} images"


# --------------------------------------------------------------------------- docker pull


def test_pull_downloads_only_the_layers_the_parent_lacks() -> None:
    lineage, images = family()
    plan = lesson.pull_plan(lineage, images["app"].id)
    assert plan.parent == "python:3"
    assert [s.size for s in plan.download] == [50]
    assert [s.size for s in plan.present] == [1000, 3000]
    assert plan.summary() == (
        "With python:3 already here, docker pull downloads 1 layer (50\u00a0B); "
        "the other 2 (4.0\u00a0kB) already exist."
    )
    root = lesson.pull_plan(lineage, images["root"].id)
    assert root.parent is None
    assert [s.size for s in root.download] == [1000]


def test_pull_says_which_sizes_it_shows() -> None:
    lineage = build_lineage([replace(i, size_kind="compressed") for i in jupyter_family()], SOURCE)
    plan = lesson.pull_plan(lineage, lineage.roots()[0].id)
    assert plan.size_kind == "compressed"
    assert "what the pull downloads" in lesson.SIZE_KIND_TEXT[plan.size_kind]
    assert set(lesson.SIZE_KIND_TEXT) == {"unpacked", "tar", "compressed"}


def test_a_metadata_only_child_downloads_no_layer() -> None:
    labelled = image([*PYTHON, "LABEL a=b"], "python:labelled")
    lineage = build_lineage([image(PYTHON, "python:3"), labelled], SOURCE)
    assert "downloads no layer" in lesson.pull_plan(lineage, labelled.id).summary()


# --------------------------------------------------------------------------- docker run


def with_run(config: RunConfig, *tags: str) -> Image:
    return replace(image(APP, *(tags or ("app:1",))), run_config=config)


@pytest.mark.parametrize(
    ("config", "line"),
    [
        pytest.param(
            RunConfig(exposed_ports=("8888/tcp",), working_dir="/home/jovyan"),
            'docker run --rm -p 8888:8888 -v "$PWD":/home/jovyan/work app:1',
            id="jupyter-home",
        ),
        pytest.param(
            RunConfig(exposed_ports=("8080/tcp",), working_dir="/app"),
            "docker run --rm -p 8080:8080 app:1",
            id="web-app",
        ),
        pytest.param(
            RunConfig(exposed_ports=("53/udp", "80/tcp"), volumes=("/var/lib/data",)),
            'docker run --rm -p 53:53/udp -p 80:80 -v "$PWD":/var/lib/data app:1',
            id="udp-and-volume",
        ),
        pytest.param(
            RunConfig(volumes=("/data", "/logs")),
            'docker run --rm -v "$PWD"/data:/data -v "$PWD"/logs:/logs app:1',
            id="two-volumes",
        ),
        pytest.param(RunConfig(), "docker run --rm app:1", id="nothing"),
    ],
)
def test_the_run_line(config: RunConfig, line: str) -> None:
    assert lesson.run_line(with_run(config)) == line


@pytest.mark.parametrize(
    "hostile",
    [
        "x; rm -rf ~",
        "$(touch /tmp/pwned)",
        "`id`",
        "a'b\"c",
        "line\nbreak && id",
        "--privileged",
    ],
)
def test_every_value_from_the_image_is_quoted(hostile: str) -> None:
    config = RunConfig(
        exposed_ports=(hostile,), volumes=(f"/data {hostile}",), working_dir=f"/home/{hostile}"
    )
    evil = with_run(config, f"app:{hostile}")
    line = lesson.run_line(evil)
    words = shlex.split(line.replace('"$PWD"', "PWD"))
    assert words[:3] == ["docker", "run", "--rm"]
    assert words[-1].startswith("app:")  # the image name stays one word, the last
    assert "\n" not in line
    for flag, value in zip(words[3:-1:2], words[4:-1:2], strict=True):
        assert flag in {"-p", "-v"}
        assert value.count(":") >= 1


def test_an_untagged_image_runs_by_its_short_id() -> None:
    untagged = replace(image(APP), run_config=RunConfig())
    assert lesson.run_line(untagged) == f"docker run --rm {untagged.short_id}"


def test_outside_world_says_what_each_setting_means() -> None:
    config = RunConfig(
        exposed_ports=("8080/tcp",),
        cmd=("python", "/app/app.py"),
        working_dir="/app",
        env_names=("PATH", "LANG"),
    )
    world = lesson.outside_world(with_run(config))
    settings = {s.name: s for s in world.settings}
    assert settings["Exposed ports"].value == "8080/tcp"
    assert settings["Command"].value == "python /app/app.py"
    assert settings["User"].value == "root (none set)"
    assert settings["Working directory"].value == "/app"
    assert settings["Environment"].value == "PATH, LANG"
    assert "Stop signal" not in settings
    assert [p.text for p in world.parts] == ["--rm", "-p 8080:8080", "app:1"]
    assert "http://localhost:8080" in world.parts[1].meaning
    assert world.note is None


def test_a_setting_the_image_made_is_literal_and_one_it_did_not_is_words() -> None:
    config = RunConfig(entrypoint=("tini", "-g", "--"), cmd=("start.sh",), user="none")
    settings = {s.name: s for s in lesson.outside_world(with_run(config)).settings}
    # Shown as code: ``--`` is two hyphens, not a typographic dash; a user named "none" is a value.
    assert (settings["Entrypoint"].value, settings["Entrypoint"].literal) == ("tini -g --", True)
    assert (settings["User"].value, settings["User"].literal) == ("none", True)
    assert (settings["Exposed ports"].value, settings["Exposed ports"].literal) == ("none", False)
    assert (settings["Working directory"].value, settings["Working directory"].literal) == (
        "/ (none set)",
        False,
    )


def test_an_image_without_a_recorded_config_says_so() -> None:
    world = lesson.outside_world(image(APP, "app:1"))
    assert world.note == lesson.NO_RUN_CONFIG
    assert world.settings == ()
    assert world.run_line == "docker run --rm app:1"


# --------------------------------------------------------------------------- the sources read it

CONFIG = {
    "ExposedPorts": {"8888/tcp": {}},
    "Volumes": {"/data": {}},
    "Entrypoint": ["tini", "-g", "--"],
    "Cmd": ["start-notebook.py"],
    "User": "1000",
    "WorkingDir": "/home/jovyan",
    "Env": ["PATH=/opt/conda/bin", "API_TOKEN=hunter2hunter2"],
    "StopSignal": "SIGINT",
    "Labels": {"a": "b"},
}
EXPECTED = RunConfig(
    exposed_ports=("8888/tcp",),
    volumes=("/data",),
    entrypoint=("tini", "-g", "--"),
    cmd=("start-notebook.py",),
    user="1000",
    working_dir="/home/jovyan",
    env_names=("PATH", "API_TOKEN"),
    stop_signal="SIGINT",
)


def test_the_engine_api_reads_it_and_caches_no_environment_value() -> None:
    inspect = {"Id": "sha256:" + "1" * 64, "Config": CONFIG, "RootFS": {"Layers": []}}
    trimmed = trim_inspect(inspect)
    assert "hunter2" not in json.dumps(trimmed)
    assert image_from_api({}, inspect, None).run_config == EXPECTED
    assert image_from_api({}, trimmed, None).run_config == EXPECTED
    assert image_from_api({}, {"Id": "sha256:" + "1" * 64}, None).run_config is None


def test_image_configs_read_it() -> None:
    raw = json.dumps({"rootfs": {"diff_ids": []}, "history": [], "config": CONFIG}).encode()
    assert image_from_config(raw, (), (), "t").run_config == EXPECTED
    assert image_from_config(b'{"rootfs": {}}', (), (), "t").run_config == RunConfig()


def test_odd_values_are_read_without_a_crash() -> None:
    odd = {"ExposedPorts": None, "Volumes": [], "Cmd": "serve", "Entrypoint": None, "Env": [1, "=x", "A"]}
    assert run_config(odd) == RunConfig(cmd=("serve",), env_names=("A",))
    assert run_config(None) is None


def test_commands_are_masked_like_history_lines() -> None:
    secret = replace(image(APP), run_config=RunConfig(cmd=("app", "--password", "hunter2hunter2")))
    masked = mask_image(secret).run_config
    assert masked is not None
    assert masked.cmd == ("app", "--password", "***")
