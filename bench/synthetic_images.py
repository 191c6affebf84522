"""Write a ``docker load`` archive of N generated images that inherit from each other.

No daemon builds anything: each image is a config JSON plus one tiny layer tar on top
of its parent's layers, packed in the ``docker save`` format (manifest.json + configs +
``<id>/layer.tar``). Used by ``bench/scan.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

MAX_DEPTH = 12


def _layer_tar(name: str, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(payload)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def write_archive(path: Path, count: int, *, seed: int = 1, roots: int = 10) -> None:
    """A forest of ``count`` images: ``roots`` bases, every other image on a random earlier one."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    images: list[dict[str, object]] = []  # {"layers": [...], "history": [...], "depth": n}
    manifest = []
    with tarfile.open(path, "w") as archive:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))

        for n in range(count):
            candidates = [i for i in range(len(images)) if images[i]["depth"] < MAX_DEPTH]  # type: ignore[operator]
            parent = None if n < roots or not candidates else images[rng.choice(candidates)]
            payload = rng.randbytes(rng.randint(100, 4000))
            layer = _layer_tar(f"data/file{n}", payload)
            diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
            layer_dir = diff_id.removeprefix("sha256:")
            add(f"{layer_dir}/layer.tar", layer)
            created = (start + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
            layers = [*(parent["layers"] if parent else []), diff_id]  # type: ignore[misc]
            history = [
                *(parent["history"] if parent else []),  # type: ignore[misc]
                {"created": created, "created_by": f"/bin/sh -c make step-{n}"},
                {"created": created, "created_by": f"/bin/sh -c #(nop)  LABEL step={n}", "empty_layer": True},
            ]
            config = {
                "architecture": "amd64",
                "os": "linux",
                "created": created,
                "config": {"Labels": {"step": str(n)}, "Cmd": ["/bin/sh"]},
                "rootfs": {"type": "layers", "diff_ids": layers},
                "history": history,
            }
            body = json.dumps(config, separators=(",", ":")).encode()
            config_name = hashlib.sha256(body).hexdigest() + ".json"
            add(config_name, body)
            layer_paths = [f"{d.removeprefix('sha256:')}/layer.tar" for d in layers]
            manifest.append(
                {"Config": config_name, "RepoTags": [f"bench/image{n}:latest"], "Layers": layer_paths}
            )
            images.append(
                {"layers": layers, "history": history, "depth": (parent["depth"] + 1) if parent else 0}  # type: ignore[operator]
            )
        add("manifest.json", json.dumps(manifest).encode())
