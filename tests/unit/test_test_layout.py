"""The test suite's own rules: every test in a tier, and in-process servers that stop at once."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The tiers, each run alone by its directory: ``make test-fast`` runs the first two.
TIERS = ("unit", "app", "integration", "e2e")


def test_every_test_file_is_in_a_tier() -> None:
    outside = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("test_*.py")
        if path.relative_to(ROOT / "tests").parts[0] not in TIERS
    ]
    assert outside == []


def _make_variable(name: str) -> list[str]:
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name} :="):
            return line.split(":=", 1)[1].split()
    raise AssertionError(f"no {name} in the Makefile")


def test_make_test_runs_every_tier_and_test_fast_the_first_two() -> None:
    fast, slow = _make_variable("FAST_TIERS"), _make_variable("SLOW_TIERS")
    assert fast == ["tests/unit", "tests/app"]
    assert sorted(fast + slow) == sorted(f"tests/{tier}" for tier in TIERS)
    assert all((ROOT / tier).is_dir() for tier in fast + slow)


def _serve_forever_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    attributes = (node for node in ast.walk(tree) if isinstance(node, ast.Attribute))
    return [node.lineno for node in attributes if node.attr == "serve_forever"]


def test_in_process_servers_are_served_by_the_quick_stopping_helper() -> None:
    # serve_forever's default poll makes every shutdown() wait up to 0.5 s; the helper polls every 10 ms.
    helper = ROOT / "testbed" / "local_server.py"
    direct = {
        str(path.relative_to(ROOT)): lines
        for folder in ("tests", "testbed", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if path != helper and (lines := _serve_forever_calls(path))
    }
    assert direct == {}
