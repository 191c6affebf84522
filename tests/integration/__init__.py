"""Tests against a real dockerd that the suite starts (testbed/)."""
