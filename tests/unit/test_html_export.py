"""``export --format html``: one self-contained page with the tree, search and inspectors.

The page is checked as text here (what it holds, what it may fetch, that its data is the
core's); tests/e2e/test_interactive.py opens it in Chromium, offline, and clicks through it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import random
import re
from pathlib import Path

import pytest

from image_lineage.cli import main
from image_lineage.insights import layer_rows, size_split
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import Scan
from image_lineage.render import EXTENSIONS, FORMATS, format_for, render
from image_lineage.render.dot import node_ids
from image_lineage.render.html import script_json, tree_script
from image_lineage.sources import SampleSource
from image_lineage.sources.snapshot import dumps
from image_lineage.text import human_size
from tests.builders import BASE, SOURCE, image, jupyter_family

pytestmark = pytest.mark.usefixtures("graphviz")

DATA = re.compile(r'<script type="application/json" id="lineage-data">(.*?)</script>', re.DOTALL)


def sample_lineage() -> Lineage:
    scan = SampleSource().scan()
    return build_lineage(scan.images, scan.source)


def page_data(page: str) -> dict[str, object]:
    found = DATA.search(page)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


def nodes_of(page: str) -> dict[str, dict[str, object]]:
    nodes = page_data(page)["nodes"]
    assert isinstance(nodes, dict)
    return nodes


def export(tmp_path: Path, *args: str, name: str = "tree.html") -> str:
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / name
    assert main(["export", *args, "-o", str(path)], stdout=out, stderr=err) == 0, err.getvalue()
    return path.read_text(encoding="utf-8")


def test_html_is_a_format_named_by_its_extension() -> None:
    assert "html" in FORMATS
    assert EXTENSIONS[".html"] == "html"
    assert format_for("lineage.HTML") == "html"
    assert format_for("lineage.htm") == "html"


def test_the_page_is_self_contained(tmp_path: Path) -> None:
    page = export(tmp_path, "--source", "sample")
    assert page.startswith("<!DOCTYPE html>")
    # Nothing to fetch: no src= or href= anywhere but the SVG's own in-document links, and a
    # policy that refuses every request and every script but the one inlined.
    assert not re.search(r"\s(?:src|href)\s*=", page.replace("xlink:href", "")), "an attribute that fetches"
    assert not re.search(r"url\(\s*['\"]?(?!#|data:)", page), "a CSS url() that fetches"
    meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert meta is not None
    policy = html.unescape(meta.group(1))
    assert "default-src 'none'" in policy
    script = tree_script()
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert page.count(f"<script>{script}</script>") == 1  # the app's own bundle, inlined as it ships
    assert len(re.findall(r"<script\b", page)) == 3  # that, the JSON data and the drawing
    assert page.count("<svg") == 1


def test_the_drawing_is_text_its_element_cannot_end_early() -> None:
    """Graphviz's SVG sits as text in a script element (parsed by the page's script): nothing in
    it, hostile names included, may end that element early or hide its end."""
    hostile = "</script><script>alert(1)</script><!--x-->"
    images = [image(BASE, "base:1"), image([*BASE, "RUN true:100"], f"app/{hostile}:1")]
    page = str(render(build_lineage(images, SOURCE), "html"))
    found = re.search(r'<script type="image/svg\+xml" id="tree-svg">(.*?)</script>', page, re.DOTALL)
    assert found is not None
    drawing = found.group(1)
    assert drawing.lstrip().startswith("<svg")
    assert drawing.rstrip().endswith("</svg>")
    assert not re.search(r"</script|<!--", drawing, re.IGNORECASE)
    assert "app/&lt;/script&gt;" in drawing  # the name is there, escaped


def test_the_page_data_is_the_inspectors_data() -> None:
    lineage = sample_lineage()
    page = str(render(lineage, "html"))
    nodes = nodes_of(page)
    ids = node_ids(lineage)
    assert set(nodes) == set(ids.values())
    assert set(re.findall(r"<title>(img_\w+)</title>", page)) == set(nodes)  # every box has its data
    for image_id, node_id in ids.items():
        node = nodes[node_id]
        assert node["image"] == image_id
        rows = layer_rows(lineage, image_id)
        steps = node["steps"]
        assert isinstance(steps, list)
        assert [step[0] for step in steps] == [row.number for row in rows]
        assert [step[1] for step in steps] == [row.instruction for row in rows]
        assert [step[2] for step in steps] == [
            human_size(row.size) if row.layer else "0 B (metadata)" for row in rows
        ]
        shares = size_split(lineage, image_id)
        assert node["split"] == [[s.name, s.size, human_size(s.size), s.role] for s in shares]
        parent = lineage.node(image_id).parent
        assert node["parent"] == ids.get(parent or "")


def test_the_page_is_deterministic() -> None:
    images = jupyter_family()
    first = render(build_lineage(images, SOURCE), "html")
    random.Random(7).shuffle(images)
    assert render(build_lineage(images, SOURCE), "html") == first


def test_a_highlighted_image_is_marked_and_inspected_first() -> None:
    lineage = sample_lineage()
    deepest = max(lineage.nodes(), key=lambda n: (len(lineage.ancestors(n.id)), n.id))
    page = str(render(lineage, "html", highlight=deepest.id))
    assert f'data-start="{node_ids(lineage)[deepest.id]}"' in page
    assert '#6741d9"' in page  # the picked mark: solid violet, unlike the outdated-base border


def test_script_json_cannot_close_its_element() -> None:
    text = script_json({"a": "</script><script>alert(1)</script><!-- & \u2028"})
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert json.loads(text) == {"a": "</script><script>alert(1)</script><!-- & \u2028"}


def test_secrets_are_masked_unless_asked(tmp_path: Path) -> None:
    secret = "-".join(["s3cr3t", "value", "42"])  # made, not written: no scanner mistakes it
    images = [image(BASE, "base:1"), image([*BASE, f"ENV API_TOKEN={secret}"], "app:1")]
    snapshot = tmp_path / "scan.json"
    snapshot.write_text(dumps(Scan(source=SOURCE, images=tuple(images))), encoding="utf-8")
    masked = export(tmp_path, "--source", f"snapshot:{snapshot}")
    assert secret not in masked
    assert "API_TOKEN=***" in masked
    shown = export(tmp_path, "--source", f"snapshot:{snapshot}", "--show-secrets", name="shown.html")
    assert secret in shown


def test_the_app_and_the_export_read_the_bundles_from_the_package_assets() -> None:
    """One place for the built scripts (``assets/``): the export inlines ``tree-export.js`` and the
    app's component is ``tree-component.js``; the package data ships both."""
    from image_lineage import assets  # noqa: PLC0415
    from image_lineage.ui import tree  # noqa: PLC0415 - imports Streamlit

    assert tree_script() == assets.read(assets.EXPORT)
    assert assets.read(assets.COMPONENT) in tree._script()
    assert "as default}" in assets.read(assets.COMPONENT)  # the ES module, not the classic script
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"assets/*.js"' in pyproject
    assert not (Path(assets.__file__).parent.parent / "ui" / "tree_component").exists()
