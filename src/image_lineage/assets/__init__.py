"""The tree's JavaScript, built from ``frontend/tree`` (``make frontend``) and committed.

Two bundles of the same sources: ``tree-component.js``, the app's Streamlit component (an
ES module, ``ui/tree.py``), and ``tree-export.js``, the HTML export's classic script
(``render/html.py``). Shipped as package data, so that neither the app nor a wheel needs Node.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

Bundle = Literal["tree-component.js", "tree-export.js"]
COMPONENT: Bundle = "tree-component.js"
EXPORT: Bundle = "tree-export.js"


def read(bundle: Bundle) -> str:
    """The text of one bundle, as the package ships it."""
    return resources.files(__name__).joinpath(bundle).read_text(encoding="utf-8")
