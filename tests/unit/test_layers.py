"""The domain modules stand below the renderers: importing them loads no ``image_lineage.render``.

Checked in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

DOMAIN = ("insights", "lesson", "overview", "stale", "text", "lineage", "views", "grouping")


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_imports_no_renderer(module: str) -> None:
    script = (
        "import importlib, json, sys\n"
        f"importlib.import_module('image_lineage.{module}')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('image_lineage.render'))))\n"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(found.stdout) == []
