"""``python -m image_lineage`` runs the command-line interface."""

from __future__ import annotations

import sys

from image_lineage.cli import main

if __name__ == "__main__":
    sys.exit(main())
