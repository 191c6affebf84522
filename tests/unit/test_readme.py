"""The README's examples on the bundled sample print what the README says they print."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from image_lineage.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_python_api_example_prints_what_the_readme_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    section = _section("Python API")
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    shown = re.search(r"```console\n(.*?)```", section, re.DOTALL)
    assert code is not None
    assert shown is not None
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code[1], str(README), "exec"), {})  # noqa: S102 - the README's own example
    assert printed.getvalue() == shown[1]


def test_the_first_tree_in_the_terminal_is_the_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platform.machine", lambda: "x86_64")  # the sample's platform: no platform line
    console = re.search(r"```console\n(.*?)```", _section("In the terminal"), re.DOTALL)
    assert console is not None
    command, *rest = console[1].split("\n$ ")[0].splitlines()
    argv = shlex.split(command.removeprefix("$ image-lineage "))
    assert argv[:3] == ["tree", "--source", "sample"]
    out = io.StringIO()
    assert main(argv, stdout=out, stderr=io.StringIO()) == 0
    assert out.getvalue().splitlines() == rest
