"""The CLI through ``main([...])``, on snapshot files written from literal records."""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import re
import shlex
from dataclasses import replace
from pathlib import Path

import pytest

from image_lineage.cli import EXAMPLES, build_parser, main
from image_lineage.errors import LineageError
from image_lineage.model import Scan
from image_lineage.render import EXTENSIONS
from image_lineage.sources.snapshot import dumps
from tests.builders import BASE, MINIMAL, SOURCE, image, jupyter_family, multi_platform_family
from tests.support.cli import run_cli


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    images = [*jupyter_family(), image(MINIMAL, intermediate=True, salt="hidden")]
    path = tmp_path / "scan.json"
    path.write_text(dumps(Scan(source=SOURCE, images=tuple(images))), encoding="utf-8")
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_tree_from_a_snapshot(snapshot_file: Path) -> None:
    code, out, err = run("tree", "--source", f"snapshot:{snapshot_file}")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("jupyter/docker-stacks-foundation:latest")
    assert lines[1].startswith("└── jupyter/base-notebook:latest")
    assert "<none>" not in out  # the intermediate image is hidden without --all


def test_all_shows_intermediate_images(snapshot_file: Path) -> None:
    code, out, _ = run("tree", "--all", "--source", f"snapshot:{snapshot_file}")
    assert code == 0
    assert "[intermediate]" in out


def test_focus_keeps_ancestors_and_descendants(snapshot_file: Path) -> None:
    code, out, _ = run(
        "tree", "--ascii", "--focus", "jupyter/minimal-notebook", "--source", f"snapshot:{snapshot_file}"
    )
    assert code == 0
    images = [line for line in out.splitlines() if re.search(r"  [0-9a-f]{12}  ", line)]
    names = [re.sub(r"^[|`\- ]+", "", line).split("  ")[0] for line in images]
    assert names == [
        "jupyter/docker-stacks-foundation:latest",
        "jupyter/base-notebook:latest",
        "jupyter/minimal-notebook:latest",
        "jupyter/r-notebook:latest",
        "jupyter/scipy-notebook:2026-11",
    ]


def test_filter_keeps_the_ancestors_that_connect_matches(snapshot_file: Path) -> None:
    code, out, _ = run(
        "export", "--format", "json", "--filter", "scipy", "--source", f"snapshot:{snapshot_file}"
    )
    assert code == 0
    tags = sorted(t for i in json.loads(out)["images"] for t in i["tags"])
    assert tags == [
        "jupyter/base-notebook:latest",
        "jupyter/docker-stacks-foundation:latest",
        "jupyter/minimal-notebook:latest",
        "jupyter/scipy-notebook:2026-11",
        "jupyter/scipy-notebook:latest",
    ]


def shown_names(out: str) -> list[str]:
    """The image names of a text tree, in order (branches and details cut off)."""
    lines = [line for line in out.splitlines() if re.search(r"  [0-9a-f]{12}  ", line)]
    return [re.sub(r"^[^a-z<]+", "", line).split("  ")[0] for line in lines]


def test_the_readme_filter_matches_repositories_and_tags() -> None:
    """``notebook$`` ends a repository, not ``repo:tag``: it must still find the notebooks."""
    code, out, err = run("tree", "--filter", "notebook$|python", "--source", "sample")
    assert code == 0
    assert "No image matches" not in err  # (the sample's notes on outdated bases may be counted)
    names = shown_names(out)
    assert "jupyter/base-notebook:2026-11" in names
    assert "tutorial/python:3.7.9" in names
    assert "tutorial/multistage-app:latest" not in names


# id -> (--filter, an image it keeps)
FILTERS = {
    "tag-alone": ("^3\\.7", "tutorial/python:3.7.9"),
    "repository-alone": ("^tutorial/python$", "tutorial/python:3.7.9"),
    "repo-and-tag": ("scipy-notebook:latest$", "jupyter/scipy-notebook:2026-11"),
}


@pytest.mark.parametrize(("pattern", "expected"), FILTERS.values(), ids=FILTERS.keys())
def test_a_filter_is_tried_on_the_repository_the_tag_and_both(pattern: str, expected: str) -> None:
    code, out, _ = run("tree", "--filter", pattern, "--source", "sample")
    assert code == 0
    assert expected in shown_names(out)


def test_a_filter_that_keeps_nothing_says_what_it_was_matched_against() -> None:
    code, out, err = run("tree", "--filter", "^notebook", "--source", "sample")
    assert code == 0  # an empty tree is an answer, as docker images --filter gives it
    assert out == "(no images)\n"
    assert err.count("\n") == 1
    assert err.startswith("image-lineage: No image matches '^notebook', a regular expression")
    assert "repository, tag and repository:tag (such as jupyter/base-notebook, 2026-11 and" in err


@pytest.mark.parametrize("fmt", ["json", "dot", "mermaid"])
def test_export_to_stdout_and_to_a_file_agree(snapshot_file: Path, tmp_path: Path, fmt: str) -> None:
    code, out, _ = run("export", "-f", fmt, "--source", f"snapshot:{snapshot_file}")
    assert code == 0
    target = tmp_path / f"out.{fmt}"
    assert run("export", "-f", fmt, "-o", str(target), "--source", f"snapshot:{snapshot_file}")[0] == 0
    assert target.read_text(encoding="utf-8") == out


def test_snapshot_round_trip(snapshot_file: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.json"
    code, _, err = run("snapshot", "--all", "-o", str(again), "--source", f"snapshot:{snapshot_file}")
    assert code == 0
    assert "Saved 6 images" in err
    first = run("export", "-f", "json", "--all", "--source", f"snapshot:{snapshot_file}")[1]
    second = run("export", "-f", "json", "--all", "--source", f"snapshot:{again}")[1]
    assert json.loads(first)["images"] == json.loads(second)["images"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["tree", "--focus", "nope"], "No image 'nope' among the 5 shown", id="unknown-image"),
        pytest.param(["tree", "--filter", "("], "is not a valid regular expression", id="bad-regex"),
        pytest.param(["tree", "--source", "ftp:x"], "Unknown source 'ftp:x'", id="bad-source"),
        pytest.param(
            ["tree", "--source", "snapshot:/nonexistent/x.json"], "Cannot read snapshot", id="no-file"
        ),
        pytest.param(
            ["tree", "--source", "docker:unix:///nonexistent/docker.sock"],
            "No Docker Engine is listening",
            id="no-daemon",
        ),
        pytest.param(
            ["tree", "--source", "podman:unix:///nonexistent/podman.sock"],
            "No Podman service is listening",
            id="no-podman",
        ),
    ],
)
def test_expected_failures_are_one_line(snapshot_file: Path, argv: list[str], message: str) -> None:
    if "--source" not in argv:
        argv = [*argv, "--source", f"snapshot:{snapshot_file}"]
    code, out, err = run(*argv)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("image-lineage: error: ")
    assert message in err


def test_an_unknown_image_suggests_all_only_without_it(snapshot_file: Path) -> None:
    source = f"snapshot:{snapshot_file}"
    assert "add --all" in run("tree", "--focus", "nope", "--source", source)[2]
    code, _, err = run("tree", "--all", "--focus", "nope", "--source", source)
    assert code == 1
    assert "No image 'nope' among the 6 shown" in err
    assert "--all" not in err  # already given: nothing more is hidden


@pytest.mark.parametrize("command", [["snapshot"], ["export", "-f", "json"], ["export"]])
def test_output_dash_is_standard_output(
    snapshot_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    # -o - wrote a file named "-" (snapshot), or said "'-' names no format" (export).
    monkeypatch.chdir(tmp_path)
    code, out, err = run(*command, "-o", "-", "--source", f"snapshot:{snapshot_file}")
    assert code == 0, err
    assert out.startswith("{" if command != ["export"] else "<?xml")
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("command", [["stale"], ["tree"], ["tree", "--notes"]])
def test_a_terminal_that_cannot_show_a_character_gets_a_question_mark(command: list[str]) -> None:
    # stale on an ASCII stream (PYTHONIOENCODING=ascii, a Latin-1 terminal) raised
    # UnicodeEncodeError on the "…" of a shortened step.
    raw_out, raw_err = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(raw_out, encoding="ascii")
    err = io.TextIOWrapper(raw_err, encoding="ascii")
    code = main([*command, "--source", "sample"], stdout=out, stderr=err)
    out.flush()
    err.flush()
    assert code in {0, 1}
    assert raw_out.getvalue().decode("ascii").strip()


def test_binary_export_refuses_a_stream_without_bytes(snapshot_file: Path) -> None:
    code, _, err = run("export", "-f", "png", "--source", f"snapshot:{snapshot_file}")
    assert code == 1
    assert "-o FILE" in err


def test_auto_source_falls_back_to_the_sample_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    code, out, err = run("tree", "--source", "auto")
    assert code == 0
    assert "showing the bundled sample images instead" in err
    assert "jupyter/" in out


def test_secrets_are_masked_unless_asked(tmp_path: Path) -> None:
    leaky = image([*MINIMAL, "ENV API_TOKEN=tok-12345"], "leaky:1")
    path = tmp_path / "leaky.json"
    path.write_text(dumps(Scan(source=SOURCE, images=(leaky,))), encoding="utf-8")
    for fmt in ("json", "dot", "mermaid"):
        assert "tok-12345" not in run("export", "-f", fmt, "--source", f"snapshot:{path}")[1]
    assert "tok-12345" in run("export", "-f", "json", "--show-secrets", "--source", f"snapshot:{path}")[1]
    shared = tmp_path / "shared.json"
    assert run("snapshot", "-o", str(shared), "--source", f"snapshot:{path}")[0] == 0
    assert "tok-12345" not in shared.read_text(encoding="utf-8")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_only_for_slow_scans() -> None:
    from image_lineage.cli import _ProgressBar  # noqa: PLC0415

    terminal = _Terminal()
    quick = _ProgressBar(terminal, delay=60)
    quick(1, 10)
    quick.close()
    assert terminal.getvalue() == ""  # a scan that ends before the delay shows nothing
    slow = _ProgressBar(terminal, delay=0)
    slow(5, 10)
    slow(10, 10)
    slow.close()
    assert "scanning images [###############...............] 5/10" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\033[K")  # the line is wiped when done


def test_collapse_keeps_branch_points_of_the_sample() -> None:
    everything = run("tree", "--all", "--source", "sample")[1].splitlines()
    collapsed = run("tree", "--all", "--collapse", "--source", "sample")[1].splitlines()
    assert len(collapsed) < len(everything) / 3

    def names(lines: list[str]) -> set[str]:
        return {re.sub(r"^[│├└─ ]+", "", line).split("  ")[0] for line in lines if "<none>" not in line}

    assert names(collapsed) == names(everything)  # every tagged image is still there
    assert any("[intermediate]" in line for line in collapsed)  # branch points stay


@pytest.mark.parametrize(
    ("name", "start"),
    [
        pytest.param("stack.json", '{"schema":"image-lineage.graph/v1"', id="json"),
        pytest.param("stack.dot", "digraph", id="dot"),
        pytest.param("stack.gv", "digraph", id="gv"),
        pytest.param("stack.mmd", "flowchart", id="mmd"),
        pytest.param("stack.mermaid", "flowchart", id="mermaid"),
        pytest.param("STACK.JSON", '{"schema":"image-lineage.graph/v1"', id="upper-case"),
        pytest.param("stack.graphml", "<graphml", id="graphml"),
    ],
)
def test_export_takes_the_format_from_the_file_name(
    snapshot_file: Path, tmp_path: Path, name: str, start: str
) -> None:
    target = tmp_path / name
    code, _, err = run("export", "-o", str(target), "--source", f"snapshot:{snapshot_file}")
    assert (code, err) == (0, "")
    assert start in target.read_text(encoding="utf-8")[:200]


@pytest.mark.usefixtures("graphviz")
def test_export_png_by_file_name_writes_a_png(snapshot_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "stack.png"
    assert run("export", "-o", str(target), "--source", f"snapshot:{snapshot_file}")[0] == 0
    assert target.read_bytes().startswith(b"\x89PNG")


def test_an_explicit_format_wins_over_the_file_name(snapshot_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "stack.png"
    code, _, _ = run("export", "-f", "dot", "-o", str(target), "--source", f"snapshot:{snapshot_file}")
    assert code == 0
    assert target.read_text(encoding="utf-8").startswith("digraph")


@pytest.mark.parametrize("name", ["stack.txt", "stack"])
def test_a_file_name_that_names_no_format_is_one_line(snapshot_file: Path, tmp_path: Path, name: str) -> None:
    result = run_cli(["export", "-o", str(tmp_path / name), "--source", f"snapshot:{snapshot_file}"])
    assert "names no format" in result.one_line_error()
    assert "--format" in result.stderr
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("value", ["0", "-1", "86401", "nan", "inf", "soon"])
def test_timeout_range_is_stated_the_way_it_is_checked(value: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["tree", "--timeout", value])


@pytest.mark.parametrize("value", ["0.001", "86400"])
def test_timeout_accepts_the_ends_of_the_stated_range(value: str) -> None:
    assert build_parser().parse_args(["tree", "--timeout", value]).timeout == float(value)


def test_timeout_message_does_not_contradict_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["tree", "--timeout", "0"])
    message = capsys.readouterr().err
    assert "more than 0 and at most 86400" in message
    assert "between 0" not in message


@pytest.fixture
def noisy_snapshot(tmp_path: Path) -> Path:
    """Records whose lineage has 4 notes: two identical images, a child without history (2)."""
    images = [
        image(BASE, "base:1"),
        image(BASE, "twin:1", salt="twin"),
        image([*BASE, "RUN app:10"], "app\x1b[31m:1", history=False),
    ]
    path = tmp_path / "noisy.json"
    path.write_text(dumps(Scan(source=SOURCE, images=tuple(images))), encoding="utf-8")
    return path


def test_tree_counts_its_notes_on_stderr(noisy_snapshot: Path) -> None:
    code, out, err = run("tree", "--source", f"snapshot:{noisy_snapshot}")
    assert code == 0
    assert err == "4 notes about these images: add --notes to read them\n"
    assert "notes" not in out


def test_notes_lists_them_after_the_tree(noisy_snapshot: Path) -> None:
    code, _, err = run("tree", "--notes", "--source", f"snapshot:{noisy_snapshot}")
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 4
    assert "base:1: same layers and history as twin:1: siblings, not parent and child" in lines
    assert "twin:1: same layers and history as base:1: siblings, not parent and child" in lines
    unverified = next(line for line in lines if "layers alone" in line)
    assert unverified.startswith("app\ufffd[31m:1: parent ")  # the escape is shown, not obeyed
    assert "\x1b" not in err


def test_export_counts_its_notes_too(noisy_snapshot: Path) -> None:
    code, out, err = run("export", "-f", "json", "--source", f"snapshot:{noisy_snapshot}")
    assert code == 0
    assert json.loads(out)["schema"] == "image-lineage.graph/v1"
    assert err == "4 notes about these images: add --notes to read them\n"


def test_one_note_is_counted_in_the_singular(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    images = (image(BASE, "base:1"), image([*BASE, "RUN app:10"], "app:1", history=False))
    path.write_text(dumps(Scan(source=SOURCE, images=images)), encoding="utf-8")
    assert (
        run("tree", "--source", f"snapshot:{path}")[2]
        == "1 note about these images: add --notes to read it\n"
    )


def test_a_json_export_reads_back_as_a_source(snapshot_file: Path, tmp_path: Path) -> None:
    graph = tmp_path / "graph.json"
    assert run("export", "--all", "-o", str(graph), "--source", f"snapshot:{snapshot_file}")[0] == 0
    for command in (["tree", "--all"], ["export", "--all", "-f", "json"]):
        first = run(*command, "--source", f"snapshot:{snapshot_file}")
        again = run(*command, "--source", f"snapshot:{graph}")
        assert again[0] == 0
        if command[0] == "tree":
            assert again[1] == first[1]
        else:
            assert json.loads(again[1])["images"] == json.loads(first[1])["images"]


def test_a_docker_inspect_dump_is_named(tmp_path: Path) -> None:
    dump = tmp_path / "inspect.json"
    dump.write_text(json.dumps([{"Id": "sha256:1", "RootFS": {"Layers": []}}]), encoding="utf-8")
    message = run_cli(["tree", "--source", f"snapshot:{dump}"]).one_line_error()
    assert "is docker inspect output" in message


# --------------------------------------------------------------------------- platforms


@pytest.fixture
def two_platforms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The amd64 + arm64 family, read on an amd64 machine."""
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    path = tmp_path / "platforms.json"
    path.write_text(dumps(Scan(source=SOURCE, images=tuple(multi_platform_family()))), encoding="utf-8")
    return path


def tree_names(out: str) -> list[str]:
    return [re.sub(r"^[│├└─ ]+", "", line).split("  ")[0] for line in out.splitlines()[:-1]]


def test_the_default_platform_is_the_hosts_and_says_what_it_hides(two_platforms: Path) -> None:
    code, out, err = run("tree", "--source", f"snapshot:{two_platforms}")
    assert code == 0
    assert "multi/arm-tool:1" not in out
    assert "[linux/" not in out  # the host's own platform goes unnamed
    assert len(tree_names(out)) == 7
    assert err == "image-lineage: 8 images of another platform (linux/arm64) hidden: add --platform all.\n"


@pytest.mark.parametrize("command", [["tree"], ["export", "-f", "json"], ["export", "-f", "mermaid"]])
def test_platform_all_shows_every_platform_and_names_them(two_platforms: Path, command: list[str]) -> None:
    code, out, err = run(*command, "--platform", "all", "--source", f"snapshot:{two_platforms}")
    assert (code, err) == (0, "")
    assert "multi/arm-tool" in out
    if command == ["tree"]:
        assert len(tree_names(out)) == 15
        assert "multi/arm-tool:1  " in out
        assert "[linux/arm64]" in out
        assert "[linux/amd64]" in out
    elif "json" in command:
        records = json.loads(out)["images"]
        assert {(i["os"], i["architecture"]) for i in records} == {("linux", "amd64"), ("linux", "arm64")}
        app = next(i for i in records if "multi/app:1" in i["tags"])
        assert app["index_platforms"][-1] == {"platform": "linux/arm/v7", "present": False}
    else:
        assert "<br/>arm64" in out


def test_another_platform_is_named_even_alone(two_platforms: Path) -> None:
    code, out, err = run("tree", "--platform", "linux/arm64/v8", "--source", f"snapshot:{two_platforms}")
    assert (code, err) == (0, "")  # asked for: nothing to tell
    assert "multi/arm-tool:1" in out
    assert all("[linux/arm64]" in line for line in out.splitlines()[:-1])
    assert "[linux/amd64]" not in out


def test_the_host_on_arm64_sees_arm64_by_default(
    two_platforms: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("platform.machine", lambda: "aarch64")
    code, out, err = run("tree", "--source", f"snapshot:{two_platforms}")
    assert code == 0
    assert "multi/arm-tool:1" in out
    assert "[linux/" not in out
    assert "7 images of another platform (linux/amd64) hidden: add --platform all" in err


def test_no_image_of_the_host_shows_them_all(two_platforms: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platform.machine", lambda: "s390x")
    code, out, err = run("tree", "--source", f"snapshot:{two_platforms}")
    assert (code, err) == (0, "")
    assert len(tree_names(out)) == 15


def test_a_platform_with_no_image_says_what_there_is(two_platforms: Path) -> None:
    code, out, err = run("tree", "--platform", "linux/s390x", "--source", f"snapshot:{two_platforms}")
    assert code == 0
    assert out == "(no images)\n"
    assert err == (
        "image-lineage: 15 images of other platforms (linux/amd64, linux/arm64) hidden: add --platform all.\n"
    )


def test_snapshot_saves_the_platform_shown(two_platforms: Path, tmp_path: Path) -> None:
    saved = tmp_path / "arm.json"
    code, _, err = run("snapshot", "-o", str(saved), "--source", f"snapshot:{two_platforms}")
    assert code == 0
    assert err.splitlines() == [
        f"Saved 7 images to {saved}",
        "image-lineage: 8 images of another platform (linux/arm64) hidden: add --platform all.",
    ]
    everything = tmp_path / "all.json"
    argv = ["snapshot", "--platform", "all", "-o", str(everything), "--source", f"snapshot:{two_platforms}"]
    assert run(*argv)[2] == f"Saved 15 images to {everything}\n"


@pytest.mark.parametrize("value", ["arm64", "linux/", "linux/arm64/v8/x", "/arm64"])
def test_a_malformed_platform_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["tree", "--platform", value])
    assert "is not all or OS/ARCH[/VARIANT]" in capsys.readouterr().err


def test_platform_is_taken_by_every_command() -> None:
    for command in (["tree"], ["export"], ["snapshot", "-o", "x.json"]):
        assert build_parser().parse_args([*command, "--platform", "Linux/ARM64"]).platform == "linux/arm64"


# --------------------------------------------------------------------------- many sources, one tree


@pytest.fixture
def three_sources(tmp_path: Path) -> dict[str, Path]:
    """An OCI archive (``team.tar``), a snapshot of an engine holding two of its images under
    local names with unpacked sizes (``engine.json``), and a snapshot of an unrelated family
    (``other.json``)."""
    from image_lineage.sources.archive import ArchiveSource  # noqa: PLC0415
    from testbed.oci_layout import lineage_family  # noqa: PLC0415

    archive = tmp_path / "team.tar"
    archive.write_bytes(lineage_family(prefix="team").tar_bytes())
    records = {
        i.tags[0]: i for i in ArchiveSource(archive).scan().images if i.tags and i.architecture == "amd64"
    }
    local = [
        replace(records[f"team/{name}:1"], tags=(f"local/{name}:1",), size_kind="unpacked")
        for name in ("base", "app")
    ]
    engine = tmp_path / "engine.json"
    engine.write_text(dumps(Scan(source=SOURCE, images=tuple(local))), encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text(dumps(Scan(source=SOURCE, images=tuple(jupyter_family()))), encoding="utf-8")
    return {
        "archive": archive,
        "engine": engine,
        "other": other,
        **{k: Path(v.id) for k, v in records.items()},
    }


def sources_of(paths: dict[str, Path]) -> list[str]:
    return [
        "--source", f"snapshot:{paths['engine']}",
        "--source", f"archive:{paths['archive']}",
        "--source", f"snapshot:{paths['other']}",
    ]  # fmt: skip


def test_several_sources_make_one_tree(three_sources: dict[str, Path]) -> None:
    code, out, err = run("tree", "--notes", "--platform", "linux/amd64", *sources_of(three_sources))
    assert code == 0
    assert "archive team.tar: " in err  # each note names its source
    names = tree_names(out)
    assert "jupyter/base-notebook:latest" in names  # the first snapshot's family
    assert "local/base:1" in names  # the engine's
    assert "team/app-plugin:1" in names  # the archive's
    assert "team/base:1" not in names  # the same image as local/base:1: one node, one line
    base = next(line for line in out.splitlines() if line.startswith("local/base:1"))
    assert "[also team/base:1]" in base
    assert "[in: snapshot engine.json, archive team.tar]" in base
    plugin = next(line for line in out.splitlines() if "team/app-plugin:1" in line)
    assert "[in: archive team.tar]" in plugin
    assert out.splitlines()[-1] == "Sources: archive team.tar; snapshot engine.json; snapshot other.json."


def test_the_export_says_where_each_image_and_tag_was_found(three_sources: dict[str, Path]) -> None:
    code, out, _ = run("export", "-f", "json", "--platform", "linux/amd64", *sources_of(three_sources))
    assert code == 0
    document = json.loads(out)
    assert document["source"]["kind"] == "merged"
    assert document["source"]["endpoint"] == "snapshot engine.json; archive team.tar; snapshot other.json"
    base = next(i for i in document["images"] if i["id"] == str(three_sources["team/base:1"]))
    assert base["found_in"] == ["snapshot engine.json", "archive team.tar"]
    assert base["tags_by_source"] == {
        "snapshot engine.json": ["local/base:1"],
        "archive team.tar": ["team/base:1"],
    }
    assert base["size_kind"] == "unpacked"  # the engine's sizes win over the archive's tar sizes
    assert {
        tuple(i.get("found_in", ())) for i in document["images"] if i["tags"][0].startswith("jupyter/")
    } == {("snapshot other.json",)}


def test_a_merged_snapshot_replays_where_images_were_found(
    three_sources: dict[str, Path], tmp_path: Path
) -> None:
    saved = tmp_path / "merged.json"
    assert run("snapshot", "--platform", "all", "-o", str(saved), *sources_of(three_sources))[0] == 0
    code, out, _ = run("tree", "--platform", "linux/amd64", "--source", f"snapshot:{saved}")
    assert code == 0
    assert "[in: snapshot engine.json, archive team.tar]" in out


def test_one_source_among_several_failing_is_one_line_naming_it(three_sources: dict[str, Path]) -> None:
    missing = three_sources["engine"].with_name("missing.json")
    code, out, err = run(
        "tree", "--source", f"archive:{three_sources['archive']}", "--source", f"snapshot:{missing}"
    )
    assert (code, out) == (1, "")
    assert err.startswith(f"image-lineage: error: snapshot:{missing}: Cannot read snapshot {missing}")
    assert err.count("\n") == 1


def test_a_source_given_twice_is_read_once(snapshot_file: Path) -> None:
    once = run("tree", "--source", f"snapshot:{snapshot_file}")
    assert (
        run("tree", "--source", f"snapshot:{snapshot_file}", "--source", f"snapshot:{snapshot_file}") == once
    )


def test_auto_is_read_alone() -> None:
    code, _, err = run("tree", "--source", "auto", "--source", "sample")
    assert code == 1
    assert "auto reads an engine or else the sample, so it is read alone" in err
    assert err.count("\n") == 1


def test_context_names_the_engine_among_several_sources() -> None:
    from image_lineage.cli import _with_contexts  # noqa: PLC0415

    assert _with_contexts(["registry:https://r", "docker"], "ci") == [
        "registry:https://r",
        "docker:context:ci",
    ]
    with pytest.raises(LineageError, match="reads none"):
        _with_contexts(["registry:https://r", "sample"], "ci")


def help_of(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def commands() -> list[str]:
    parser = build_parser()
    found = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return list(found[0].choices)


@pytest.mark.parametrize("command", ["", *commands()])
def test_every_help_ends_with_examples_that_parse(capsys: pytest.CaptureFixture[str], command: str) -> None:
    text = help_of(capsys, *([command] if command else []))
    examples = text.split("\nexamples:\n", 1)[1].splitlines()
    runs = [shlex.split(re.split(r" {2,}|>", line.strip())[0])[1:] for line in examples]
    assert runs[0][0] == command or not command
    for argv in runs:
        if "COMMAND" not in argv:
            build_parser().parse_args(argv)  # a wrong option would exit with status 2
    assert set(EXAMPLES) == {"", *commands()}


def test_export_help_names_every_format_and_extension(capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(help_of(capsys, "export").split())
    for extension, fmt in EXTENSIONS.items():
        assert extension in text
        assert fmt in text


def test_snapshot_output_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(help_of(capsys, "snapshot").split())
    assert "-o OUTPUT, --output OUTPUT the JSON file to write" in text


# id -> (the arguments, what the one line says): an address alone is the Docker Engine's
ADDRESSES_ALONE = {
    "unix": (["--source", "unix:///nonexistent/docker.sock"], "No Docker Engine is listening"),
    "https-is-ambiguous": (
        ["--source", "https://127.0.0.1:1"],
        "may be a Docker Engine or a registry: write docker:https://127.0.0.1:1 or registry:",
    ),
    "tcp-and-a-context": (["--context", "x", "--source", "tcp://127.0.0.1:1"], "name two engines"),
}


@pytest.mark.parametrize(("argv", "message"), ADDRESSES_ALONE.values(), ids=ADDRESSES_ALONE.keys())
def test_an_engine_address_alone_is_the_docker_source(argv: list[str], message: str) -> None:
    code, out, err = run("tree", *argv)
    assert (code, out, err.count("\n")) == (1, "", 1)
    assert err.startswith("image-lineage: error: ")
    assert message in err


def test_an_ssh_address_alone_is_an_engine_s_and_says_what_it_needs() -> None:
    """docker-py defines its SSH adapter only with paramiko, which is no dependency."""
    if importlib.util.find_spec("paramiko") is not None:
        pytest.skip("paramiko is installed here: docker-py can reach ssh:// engines")
    code, out, err = run("tree", "--source", "ssh://engine.invalid")
    assert (code, out, err.count("\n")) == (1, "", 1)
    assert "Docker Engine at ssh://engine.invalid needs docker-py's SSH support (pip install paramiko)" in err


def test_an_option_that_changes_nothing_says_so() -> None:
    """--collapse without --all, and a snapshot's view options, were silently ignored."""
    code, _, err = run("tree", "--collapse", "--source", "sample")
    assert code == 0
    assert "--collapse hides intermediate images, which only --all shows: add --all" in err
    code, _, err = run("tree", "--all", "--collapse", "--source", "sample")
    assert "--collapse hides" not in err
    code, out, err = run(
        "snapshot", "-o", "-", "--filter", "python", "--focus", "tutorial/python", "--source", "sample"
    )
    assert code == 0
    assert "a snapshot keeps every image read; --filter, --focus apply when it is read" in err
    assert '"images"' in out  # the snapshot itself, on standard output
