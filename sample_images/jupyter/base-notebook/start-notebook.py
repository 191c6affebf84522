#!/usr/bin/env python
"""Stand-in for start-notebook.py."""

import os

os.execvp("jupyter", ["jupyter", "lab"])  # noqa: S606
