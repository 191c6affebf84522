"""A Docker Engine (or anything that speaks its API, such as Podman), read-only.

Split the way docker-py splits itself: ``transport.py`` sends requests, ``errors.py``
turns failures into domain errors with a hint, ``scan.py`` lists, inspects and reads
histories through the cache. Beside them: ``contexts.py`` finds the engine as the docker
CLI does (``--context``, ``DOCKER_HOST``, ...), ``containerd.py`` reads an engine whose images
live in its containerd image store, and ``export.py`` walks an engine's export with the OCI
walker. ``engine_api.py`` (beside this package) turns the answers into records.
"""

from __future__ import annotations

from image_lineage.sources.engine.errors import DOCKER, Engine
from image_lineage.sources.engine.scan import DockerEngineSource

__all__ = ["DOCKER", "DockerEngineSource", "Engine"]
