"""image-lineage: see how container images inherit from each other.

The data flows one way (see ``docs/architecture.md``)::

    source -> Image records -> lineage graph -> view -> render -> CLI / web app
"""

from __future__ import annotations

__version__ = "0.1.0"
