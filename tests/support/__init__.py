"""Test helpers that are not fixtures: a recording Engine proxy, a guarded CLI runner."""
