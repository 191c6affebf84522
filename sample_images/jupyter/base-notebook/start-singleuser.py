#!/usr/bin/env python
"""Stand-in for start-singleuser.py."""

import os

os.execvp("jupyterhub-singleuser", ["jupyterhub-singleuser"])  # noqa: S606
