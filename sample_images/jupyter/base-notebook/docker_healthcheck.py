#!/usr/bin/env python
"""Stand-in for docker_healthcheck.py."""

raise SystemExit(0)
