"""The docker CLI's context files against hostile content: one line each, never a hang or a traceback.

A context's files are read before any engine is reached: ``config.json`` (``currentContext``)
and ``contexts/meta/<sha256>/meta.json``. Whoever can write them (a setup script, a shared
``DOCKER_CONFIG``) can make them a FIFO, a huge file, a name no file system can encode, or
a Host full of escape sequences. Bounded time each (no daemon).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from image_lineage.errors import SourceUnavailable
from image_lineage.sources.engine.contexts import MAX_FILE, resolve

pytestmark = pytest.mark.timeout(30)

DEFAULT = "unix:///default/docker.sock"
TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def meta_path(config: Path, name: str) -> Path:
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()
    folder = config / "contexts" / "meta" / digest
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "meta.json"


def failure(config: Path, **environ: str) -> str:
    with pytest.raises(SourceUnavailable) as caught:
        resolve(None, default=DEFAULT, environ={"DOCKER_CONFIG": str(config), **environ})
    message = str(caught.value)
    assert not TERMINAL.search(message), repr(message)
    return message


def test_a_meta_json_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(meta_path(tmp_path, "evil"))
    assert "not a regular file" in failure(tmp_path, DOCKER_CONTEXT="evil")


def test_a_config_json_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "config.json")
    assert "not a regular file" in failure(tmp_path)


def test_a_huge_meta_json_is_refused_unread(tmp_path: Path) -> None:
    with meta_path(tmp_path, "huge").open("wb") as handle:
        handle.truncate(MAX_FILE + 1)  # sparse: nothing is written
    assert "larger than" in failure(tmp_path, DOCKER_CONTEXT="huge")


def test_a_huge_config_json_is_refused_unread(tmp_path: Path) -> None:
    with (tmp_path / "config.json").open("wb") as handle:
        handle.truncate(MAX_FILE + 1)
    assert "larger than" in failure(tmp_path)


def test_a_context_name_no_file_system_encodes_is_one_line(tmp_path: Path) -> None:
    # os.environ holds undecodable bytes as lone surrogates
    assert "does not exist" in failure(tmp_path, DOCKER_CONTEXT="evil\udcff")


def test_a_host_full_of_escapes_is_refused_cleanly(tmp_path: Path) -> None:
    host = "unix:///run/x.sock\x1b[2J\x1b]0;owned\x07\nimage-lineage: all 16 images verified OK"
    meta = {"Name": "evil", "Endpoints": {"docker": {"Host": host}}}
    meta_path(tmp_path, "evil").write_text(json.dumps(meta), encoding="utf-8")
    assert "Host" in failure(tmp_path, DOCKER_CONTEXT="evil")


def test_a_deeply_nested_meta_json_is_one_line(tmp_path: Path) -> None:
    meta_path(tmp_path, "deep").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert "not valid JSON" in failure(tmp_path, DOCKER_CONTEXT="deep")
