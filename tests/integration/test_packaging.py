"""The wheel a user installs: what it declares, and the CLI without the web app's extra.

Everything here is offline. The wheel is built from a copy of ``pyproject.toml``,
``README.md`` and ``src/`` with this environment's setuptools (``--no-build-isolation``,
``--no-index``; requirements-dev.txt brings a setuptools new enough), and installed
into a fresh venv with ``--no-index --no-deps``: nothing is fetched, so nothing but the
wheel itself can end up in that venv.
"""

from __future__ import annotations

import ast
import email.parser
import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from email.message import Message
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
CORE = {"docker", "requests", "networkx", "graphviz", "grpcio", "protobuf", "zstandard"}
APP = {"streamlit"}
#: Modules that only the web app imports, and so may use the ``app`` extra.
#: The web app's modules (Streamlit and its extra): app.py, the web/ package and the page parts in ui/.
APP_MODULES = {
    ROOT / "app.py",
    *(ROOT / "src" / "image_lineage" / "web").rglob("*.py"),
    *(ROOT / "src" / "image_lineage" / "ui").rglob("*.py"),
}
#: Imported for annotations only, under ``TYPE_CHECKING``; exists only for type checkers.
TYPING_ONLY = {"_typeshed"}


def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy so that no build/ or egg-info lands in the work tree."""
    setuptools = importlib.metadata.version("setuptools")
    if int(setuptools.split(".")[0]) < 77:
        pytest.fail(f"setuptools {setuptools} cannot build this project offline: make test installs >=77")
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    dist = tmp_path_factory.mktemp("dist")
    pip_wheel = ["pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    run(sys.executable, "-m", *pip_wheel, "--wheel-dir", dist, source)
    (built,) = dist.glob("image_lineage-*.whl")
    return built


def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(name).decode())


def requirement_names(meta: Message, *, extra: str | None) -> set[str]:
    """Names in ``Requires-Dist``: the unconditional ones, or those of one extra."""
    names = set()
    for requirement in meta.get_all("Requires-Dist") or []:
        marker = requirement.partition(";")[2]
        wanted = f'extra == "{extra}"' in marker if extra else "extra ==" not in marker
        if wanted:
            names.add(canonical(re.split(r"[\s;\[<>=!~(]", requirement, maxsplit=1)[0]))
    return names


def test_the_wheel_requires_only_what_the_cli_needs_and_offers_the_app_as_an_extra(wheel: Path) -> None:
    meta = metadata(wheel)
    assert requirement_names(meta, extra=None) == CORE
    assert meta.get_all("Provides-Extra") == ["app"]
    assert requirement_names(meta, extra="app") == APP


def third_party_imports(path: Path) -> set[str]:
    """Top-level names of the absolute imports in one file that are not ours or stdlib."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names - set(sys.stdlib_module_names) - {"image_lineage", "__future__"} - TYPING_ONLY


def distribution(module: str) -> str:
    (dist,) = importlib.metadata.packages_distributions().get(module, [module])
    return canonical(dist)


def test_every_import_is_declared_and_every_declaration_imported() -> None:
    """The core may import only core dependencies; the web app also its extra's."""
    core_imports: set[str] = set()
    app_imports: set[str] = set()
    for path in [*sorted((ROOT / "src").rglob("*.py")), ROOT / "app.py"]:
        found = {distribution(module) for module in third_party_imports(path)}
        (app_imports if path in APP_MODULES else core_imports).update(found)
    assert core_imports <= CORE, f"imported by the core but not a dependency: {core_imports - CORE}"
    assert app_imports <= CORE | APP, f"imported by the app but not declared: {app_imports - CORE - APP}"
    assert core_imports | app_imports == CORE | APP, "declared but never imported"


def test_a_fresh_venv_with_the_wheel_alone_runs_the_cli(wheel: Path, tmp_path: Path) -> None:
    """The sample tree needs no third-party package at all; the web module names its extra."""
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)  # ensurepip installs pip from the standard library
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", wheel)

    tree = run(venv / "bin" / "image-lineage", "tree", "--source", "sample")
    assert "jupyter/scipy-notebook:2026-11" in tree.stdout

    installed = run(python, "-m", "pip", "list", "--format=freeze").stdout
    assert "image-lineage==" in installed
    assert not {"streamlit", "altair"} & {canonical(line.partition("==")[0]) for line in installed.split()}

    web = subprocess.run(
        [python, "-c", "import image_lineage.web"], capture_output=True, text=True, check=False
    )
    assert web.returncode == 1
    assert web.stderr.splitlines()[-1] == (
        "ModuleNotFoundError: No module named 'streamlit': the web app needs pip install 'image-lineage[app]'"
    )
