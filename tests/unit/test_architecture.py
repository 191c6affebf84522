"""The import rules docs/architecture.md states, checked on the code by parsing its imports.

Every ``import`` and ``from ... import`` of every module under ``src/image_lineage`` (and
``app.py``) counts, those inside functions too (a lazy import is still a dependency). A
module's *unit* is its top-level name in the package: ``sources`` for everything under
``sources/``, ``web`` for everything under ``web/``, ``lineage`` for
``lineage.py``. ``assets`` is in the table before it exists: the planned home of the tree's
JS bundles (today ``ui/tree_component/``, read as files, not imported).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "image_lineage"
APP = ROOT / "app.py"
DOC = ROOT / "docs" / "architecture.md"

#: The layers, bottom first (docs/architecture.md, "Layers"): a unit imports units of its
#: own layer or below, never above.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "floor",
        frozenset(
            {
                "image_lineage",
                "assets",
                "errors",
                "text",
                "secret_text",
                "reference",
                "instructions",
                "platforms",
                "model",
                "records",
            }
        ),
    ),
    ("sources", frozenset({"cache", "net", "sources"})),
    (
        "domain",
        frozenset(
            {
                "lineage",
                "bases",
                "views",
                "masking",
                "grouping",
                "families",
                "stale",
                "insights",
                "overview",
                "lesson",
                "pipeline",
                "contents",
            }
        ),
    ),
    ("render", frozenset({"render"})),
    ("front ends", frozenset({"cli", "cli_files", "cli_memo", "__main__", "messages", "web", "ui"})),
)
LAYER_OF = {unit: index for index, (_, units) in enumerate(LAYERS) for unit in units}

#: Only these import Streamlit (app.py too).
STREAMLIT_UNITS = frozenset({"web", "ui"})
#: Only these import docker-py or speak HTTP themselves.
NETWORK_UNITS = frozenset({"sources", "net"})
NETWORK_MODULES = ("docker", "requests", "http.client", "http.server", "urllib.request", "socket", "grpc")
#: Front ends that must not import each other (``ui`` and ``web`` are the app, one front end).
FRONT_ENDS = ({"cli", "cli_files", "cli_memo", "__main__"}, {"web", "ui"})

#: Imports that run back up and are allowed: none (the last ones went when ``text.py`` took
#: ``human_size`` and ``clean_text`` out of ``render.common``). Keep it empty.
KNOWN_LEAKS: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name, e.g. image_lineage.sources.registry
    imported: str  # dotted module name (for ``from m import n``: m, and m.n as well)

    @property
    def importer_unit(self) -> str:
        return unit_of(self.importer)


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "image_lineage" else parts[0]


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted name of a file under src/, and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def imports_of(path: Path, name: str, is_package: bool) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield Import(name, module)
            for alias in node.names:
                yield Import(name, f"{module}.{alias.name}")


def all_imports() -> list[Import]:
    found: list[Import] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name, is_package = module_name(path)
        found.extend(imports_of(path, name, is_package))
    return found


def internal_units(imports: list[Import]) -> set[tuple[str, str]]:
    """(importer unit, imported unit) for every import of the package by the package."""
    return {
        (item.importer_unit, unit_of(item.imported))
        for item in imports
        if item.imported.split(".")[0] == "image_lineage" and item.importer_unit != unit_of(item.imported)
    }


def imports_any(item: Import, names: tuple[str, ...] | frozenset[str]) -> bool:
    return any(item.imported == name or item.imported.startswith(f"{name}.") for name in names)


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return all_imports()


def test_every_module_is_in_a_layer(imports: list[Import]) -> None:
    units = {item.importer_unit for item in imports} | {
        unit_of(module_name(path)[0]) for path in PACKAGE.rglob("*.py")
    }
    unplaced = sorted(units - set(LAYER_OF))
    assert unplaced == [], f"add {unplaced} to docs/architecture.md's tables and to LAYERS here"


def test_no_import_runs_back_up_the_layers(imports: list[Import]) -> None:
    upward = {
        (importer, imported)
        for importer, imported in internal_units(imports)
        if importer in LAYER_OF and imported in LAYER_OF and LAYER_OF[imported] > LAYER_OF[importer]
    }
    assert upward - KNOWN_LEAKS == set()


def test_nothing_below_render_imports_render_or_the_front_ends(imports: list[Import]) -> None:
    above = {"render", "cli", "__main__", "web", "ui"}
    below = {unit for unit, layer in LAYER_OF.items() if layer < LAYER_OF["render"]}
    found = {(a, b) for a, b in internal_units(imports) if a in below and b in above}
    assert found - KNOWN_LEAKS == set()


def test_front_ends_do_not_import_each_other(imports: list[Import]) -> None:
    side = {unit: index for index, group in enumerate(FRONT_ENDS) for unit in group}
    crossing = {(a, b) for a, b in internal_units(imports) if a in side and b in side and side[a] != side[b]}
    assert crossing == set()


def test_only_the_app_imports_streamlit(imports: list[Import]) -> None:
    importers = {item.importer for item in imports if imports_any(item, ("streamlit", "altair"))}
    outside = sorted(name for name in importers if unit_of(name) not in STREAMLIT_UNITS)
    assert outside == []
    assert any(unit_of(name) in STREAMLIT_UNITS for name in importers)  # the rule is about something
    app_imports = list(imports_of(APP, "app", is_package=False))
    assert any(imports_any(item, ("streamlit",)) for item in app_imports)


def test_only_sources_and_the_http_layer_speak_to_daemons(imports: list[Import]) -> None:
    importers = {item.importer for item in imports if imports_any(item, NETWORK_MODULES)}
    outside = sorted(name for name in importers if unit_of(name) not in NETWORK_UNITS)
    assert outside == []
    assert any(unit_of(name) == "sources" for name in importers)


def test_the_app_page_reaches_the_package_only_through_the_front_end_and_core() -> None:
    # app.py lays out widgets; it must not talk to daemons itself.
    app_imports = list(imports_of(APP, "app", is_package=False))
    assert not any(imports_any(item, NETWORK_MODULES) for item in app_imports)


def test_the_doc_names_every_layer_and_unit() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name, _ in LAYERS if name not in text]
    missing += sorted(
        unit
        for _, units in LAYERS
        for unit in units
        if unit not in {"image_lineage", "__main__", "assets"} and f"`{unit}" not in text
    )
    assert missing == []


def test_the_rules_see_relative_and_lazy_imports(tmp_path: Path) -> None:
    # The parser the rules stand on: a relative import inside a function is an import too.
    module = tmp_path / "image_lineage" / "sources" / "thing.py"
    module.parent.mkdir(parents=True)
    module.write_text("def f():\n    from ..render import common\n    import socket\n", encoding="utf-8")
    found = {item.imported for item in imports_of(module, "image_lineage.sources.thing", is_package=False)}
    assert {"image_lineage.render", "image_lineage.render.common", "socket"} <= found
