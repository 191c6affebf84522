"""``tree`` and ``export`` remembered per engine listing (``cli_memo.py``): never a stale answer.

Each case runs the whole command twice against a fake engine on a unix socket
(``testbed/fake_engine.py``), changing what it answers in between, at the same address:
an answer is given again only when nothing it was made from changed, and the engine's
requests show whether it was (no inspect or history is asked for).
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from image_lineage.cache import RESULTS_KEPT, ResultCache
from image_lineage.cli import main
from image_lineage.sources import open_source
from image_lineage.sources.base import ListsFirst
from testbed.fake_engine import FakeEngine, Routes

pytestmark = pytest.mark.timeout(120)

BASE = "sha256:" + "1" * 64
APP = "sha256:" + "2" * 64
LAYERS = ["sha256:" + "a" * 64, "sha256:" + "b" * 64]


def image(image_id: str, layers: list[str], tag: str, step: str) -> dict[str, Any]:
    """An image's list summary, inspect and history, its history one row a layer."""
    history = [
        {"Id": "<missing>", "Created": 1_700_000_000 + n, "CreatedBy": f"{step} {n}", "Size": 10}
        for n in range(len(layers))
    ]
    history[-1]["Id"] = image_id
    return {
        "summary": {
            "Id": image_id,
            "RepoTags": [tag],
            "RepoDigests": [],
            "Created": 1_700_000_000,
            "Size": 20,
        },
        "inspect": {
            "Id": image_id,
            "Os": "linux",
            "Architecture": "amd64",
            "RootFS": {"Type": "layers", "Layers": layers},
            "Config": {},
        },
        "history": history,
    }


def engine_routes(*images: dict[str, Any], engine_id: str = "engine-1") -> Routes:
    routes: dict[str, tuple[int, bytes]] = {
        r"/images/json": (200, json.dumps([i["summary"] for i in images]).encode()),
        r"/info$": (200, json.dumps({"ID": engine_id, "DriverStatus": []}).encode()),
    }
    for item in images:
        name = item["summary"]["Id"].partition(":")[2]  # the path quotes the colon
        routes[rf"/images/[^/]*{name}/json"] = (200, json.dumps(item["inspect"]).encode())
        routes[rf"/images/[^/]*{name}/history"] = (200, json.dumps(item["history"]).encode())
    return routes


TWO = (image(BASE, LAYERS[:1], "base:1", "ADD"), image(APP, LAYERS, "app:1", "ADD"))


@pytest.fixture
def engine() -> Iterator[FakeEngine]:
    with (
        tempfile.TemporaryDirectory(prefix="il-memo-") as directory,
        FakeEngine(Path(directory), engine_routes(*TWO)) as fake,
    ):
        yield fake


def answer(fake: FakeEngine, routes: Routes, *command: str) -> tuple[str, str, list[str]]:
    """stdout, stderr and the requests of ``command`` run against ``fake`` answering ``routes``."""
    fake._server.routes = dict(routes)  # the same engine, at the same address, changed
    fake.requests.clear()
    out, err = io.StringIO(), io.StringIO()
    assert main([*command, "--source", f"docker:{fake.address}"], out, err) == 0
    return out.getvalue(), err.getvalue(), list(fake.requests)


def read_details(requests: list[str]) -> bool:
    return any("/images/sha256" in request for request in requests)


def without_time(json_export: str) -> str:
    return json_export.split("\n", 1)[1]


def test_an_unchanged_engine_is_answered_from_what_was_kept(engine: FakeEngine) -> None:
    first, first_err, asked = answer(engine, engine_routes(*TWO), "export", "-f", "json")
    again, again_err, asked_again = answer(engine, engine_routes(*TWO), "export", "-f", "json")

    assert read_details(asked)
    assert not read_details(asked_again)
    assert without_time(again) == without_time(first)
    assert again_err == first_err
    # The header says when this scan ran, not the first one.
    assert (
        json.loads(again.split("\n", 1)[0] + '"images":[]}')["source"]["scanned_at"]
        != json.loads(first.split("\n", 1)[0] + '"images":[]}')["source"]["scanned_at"]
    )


def test_a_new_tag_is_shown_at_once(engine: FakeEngine) -> None:
    answer(engine, engine_routes(*TWO), "tree")
    retagged = image(APP, LAYERS, "app:2", "ADD")

    shown, _, _ = answer(engine, engine_routes(TWO[0], retagged), "tree")

    assert "app:2" in shown
    assert "app:1" not in shown


def test_a_removed_image_is_gone_at_once(engine: FakeEngine) -> None:
    answer(engine, engine_routes(*TWO), "tree")

    shown, _, _ = answer(engine, engine_routes(TWO[0]), "tree")

    assert "base:1" in shown
    assert "app:1" not in shown


def test_an_added_image_is_shown_at_once(engine: FakeEngine) -> None:
    answer(engine, engine_routes(TWO[0]), "tree")

    shown, _, asked = answer(engine, engine_routes(*TWO), "tree")

    assert "app:1" in shown
    assert read_details(asked)


def test_another_engine_at_the_same_address_is_read_anew(engine: FakeEngine) -> None:
    answer(engine, engine_routes(*TWO), "tree")

    _, _, asked = answer(engine, engine_routes(*TWO, engine_id="engine-2"), "tree")

    assert read_details(asked)


def test_each_command_line_has_its_own_answer(engine: FakeEngine) -> None:
    tree, _, _ = answer(engine, engine_routes(*TWO), "tree")
    dot, _, _ = answer(engine, engine_routes(*TWO), "export", "-f", "dot")
    mermaid, _, _ = answer(engine, engine_routes(*TWO), "export", "-f", "mermaid")

    assert len({tree, dot, mermaid}) == 3
    for command, first in (("tree",), tree), (("export", "-f", "dot"), dot):
        again, _, asked = answer(engine, engine_routes(*TWO), *command)
        assert again == first
        assert not read_details(asked)


def test_show_secrets_keeps_no_answer(engine: FakeEngine, private_cache: Path) -> None:
    answer(engine, engine_routes(*TWO), "tree", "--show-secrets")
    assert kept_answers(private_cache) == 0

    answer(engine, engine_routes(*TWO), "tree")
    answer(engine, engine_routes(*TWO), "tree", "--show-secrets")
    assert kept_answers(private_cache) == 1  # the masked tree's


def test_an_image_holding_a_secret_keeps_no_answer(engine: FakeEngine, private_cache: Path) -> None:
    secret = image(APP, LAYERS, "app:1", "ENV API_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345 &&")

    shown, _, _ = answer(engine, engine_routes(TWO[0], secret), "tree")
    again, _, asked = answer(engine, engine_routes(TWO[0], secret), "tree")

    assert "ghp_0123456789" not in shown
    assert again == shown
    assert read_details(asked)  # read again each time, as the details cache does
    assert kept_answers(private_cache) == 0
    assert b"ghp_0123456789" not in (private_cache / "details-v4.sqlite3").read_bytes()


def test_a_tag_holding_a_secret_keeps_no_answer(engine: FakeEngine, private_cache: Path) -> None:
    """Tags are not masked; one that looks like a token keeps the output out of the cache."""
    word = "ghp_0123456789abcdefghijabcdefghij012345"  # what a GitHub token looks like
    tagged = image(APP, LAYERS, f"team/{word}:1", "ADD")

    answer(engine, engine_routes(TWO[0], tagged), "tree")

    assert kept_answers(private_cache) == 0
    assert word.encode() not in (private_cache / "details-v4.sqlite3").read_bytes()


def test_no_cache_neither_keeps_nor_reads_an_answer(engine: FakeEngine, private_cache: Path) -> None:
    answer(engine, engine_routes(*TWO), "tree", "--no-cache")
    _, _, asked = answer(engine, engine_routes(*TWO), "tree", "--no-cache")

    assert read_details(asked)
    assert kept_answers(private_cache) == 0


def kept_answers(cache: Path) -> int:
    path = cache / "details-v4.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        except sqlite3.OperationalError:  # no such table: nothing was ever kept
            return 0


@pytest.mark.parametrize(
    "body", ["not json\nanswer", "no line at all", '{"fingerprint": 1}\nanswer'], ids=repr
)
def test_a_damaged_answer_is_made_again(engine: FakeEngine, private_cache: Path, body: str) -> None:
    first, _, _ = answer(engine, engine_routes(*TWO), "tree")
    with sqlite3.connect(private_cache / "details-v4.sqlite3") as db:
        db.execute("UPDATE results SET body = ?", [body])

    again, _, _ = answer(engine, engine_routes(*TWO), "tree")

    assert again == first
    with sqlite3.connect(private_cache / "details-v4.sqlite3") as db:
        assert db.execute("SELECT body FROM results").fetchone()[0] != body  # made, and kept, again


@pytest.mark.usefixtures("graphviz")
def test_what_graphviz_draws_is_drawn_each_time(engine: FakeEngine, private_cache: Path) -> None:
    """An upgraded or removed Graphviz must show as it does: its pictures are never kept."""
    answer(engine, engine_routes(*TWO), "export", "-f", "svg")
    answer(engine, engine_routes(*TWO), "export", "-f", "dot")

    assert kept_answers(private_cache) == 1  # the dot text's


def test_only_the_newest_answers_are_kept(private_cache: Path) -> None:
    for number in range(RESULTS_KEPT + 3):
        with ResultCache(private_cache, f"engine {number % 2}") as cache:
            cache.put(f"question {number}", "listing", f"answer {number}", "")

    with ResultCache(private_cache, "engine 0") as cache:
        assert cache.get("question 2", "listing") is None
        assert cache.get(f"question {RESULTS_KEPT + 2}", "listing") == (f"answer {RESULTS_KEPT + 2}", "")
    assert kept_answers(private_cache) == RESULTS_KEPT


def test_the_engine_podman_and_containerd_list_first_and_no_other_source_does(tmp_path: Path) -> None:
    """The sources whose outputs ``cli`` remembers (``ListsFirst``): those that read a list on its
    own and can name what a scan of it gives. A file or a registry is read whole each time."""
    specs = {
        "docker:unix:///nowhere.sock": True,
        "podman:unix:///nowhere.sock": True,
        "containerd:/nowhere.sock?namespace=k8s.io": True,
        f"archive:{tmp_path / 'a.tar'}": False,
        "registry:http://127.0.0.1:1": False,
        f"snapshot:{tmp_path / 's.json'}": False,
        "sample": False,
    }
    assert {spec: isinstance(open_source(spec), ListsFirst) for spec in specs} == specs
