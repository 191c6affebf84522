"""The on-disk cache against hostile and secret-bearing content: private files, no secret at rest.

A private registry's config carries ``AWS_SECRET_ACCESS_KEY=…``, a ``curl -u`` line and a
``ghp_…`` label; an engine's history the same. None of it may reach the cache file, whose
file and directory only the user may read. Time: bounded (no daemon, a few small writes).
"""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from image_lineage.cache import BlobCache, DetailsCache, FactsCache, default_cache_dir, engine_namespace

pytestmark = pytest.mark.timeout(60)

AWS = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CURL = "curl -u deploy:s3cr3t-Passw0rd https://artifacts.example.com/app.tgz"
GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SECRETS = (AWS, "s3cr3t-Passw0rd", GHP)


def config_with_secrets() -> bytes:
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/bin", f"AWS_SECRET_ACCESS_KEY={AWS}"],
            "Labels": {"ci.token": GHP},
        },
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created_by": f"/bin/sh -c {CURL}"}],
    }
    return json.dumps(config).encode()


def plain_config() -> bytes:
    return json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin"]}}).encode()


def digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def cache_bytes(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in root.iterdir() if path.is_file())


def test_a_registry_config_holding_secrets_is_never_written(tmp_path: Path) -> None:
    secret, plain = config_with_secrets(), plain_config()
    with BlobCache(tmp_path, "registry") as cache:
        cache.put_many({digest(secret): secret, digest(plain): plain})
    with BlobCache(tmp_path, "registry") as cache:
        found = cache.get_many([digest(secret), digest(plain)])
    assert found == {digest(plain): plain}  # the plain one stays cached: warm scans stay warm
    written = cache_bytes(tmp_path)
    assert not [s for s in SECRETS if s.encode() in written]


def test_engine_details_holding_secrets_are_never_written(tmp_path: Path) -> None:
    image_id = "sha256:" + "a" * 64
    inspect = {"Id": image_id, "Config": {"Labels": {"password": "hunter2-horse", "ci.token": GHP}}}
    history = [{"Id": image_id, "CreatedBy": f"/bin/sh -c {CURL}", "Size": 1}]
    with DetailsCache(tmp_path, "docker") as cache:
        cache.put_many({image_id: (inspect, history)})
    with DetailsCache(tmp_path, "docker") as cache:
        assert cache.get_many([image_id]) == {}
    written = cache_bytes(tmp_path)
    assert not [s for s in (*SECRETS, "hunter2-horse") if s.encode() in written]


def test_export_facts_holding_secrets_are_never_written(tmp_path: Path) -> None:
    facts = {"index_digest": "", "platforms": [{"config": config_with_secrets().decode()}]}
    with FactsCache(tmp_path, "docker-export") as cache:
        cache.put_many({"sha256:" + "b" * 64: facts})
    assert not [s for s in SECRETS if s.encode() in cache_bytes(tmp_path)]


def test_the_cache_file_and_directories_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGE_LINEAGE_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    root = default_cache_dir()
    with BlobCache(root, "registry") as cache:
        cache.put_many({digest(plain_config()): plain_config()})
    for directory in (tmp_path / "home" / ".cache", root):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    files = [path for path in root.iterdir() if path.is_file()]
    assert files
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)


def test_an_older_cache_is_narrowed_and_its_unmasked_file_removed(tmp_path: Path) -> None:
    root = tmp_path / "image-lineage"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    old = root / "details-v3.sqlite3"
    old.write_bytes(config_with_secrets())
    with BlobCache(root, "registry") as cache:
        assert cache.empty()
    assert not old.exists()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700


def test_engines_have_their_own_namespaces() -> None:
    honest = engine_namespace("docker", "unix:///var/run/docker.sock", "A1B2")
    assert honest != engine_namespace("docker", "tcp://evil.example:2375", "A1B2")
    assert honest != engine_namespace("docker", "unix:///var/run/docker.sock", "C3D4")
    assert honest != engine_namespace("podman", "unix:///var/run/docker.sock", "A1B2")


def test_an_inspect_stored_under_another_id_is_a_miss(tmp_path: Path) -> None:
    wanted, other = "sha256:" + "c" * 64, "sha256:" + "d" * 64
    with DetailsCache(tmp_path, "docker") as cache:
        cache.put_many({wanted: ({"Id": other}, [])})
    with DetailsCache(tmp_path, "docker") as cache:
        assert cache.get_many([wanted]) == {}


def test_a_chosen_shared_directory_keeps_its_mode(tmp_path: Path) -> None:
    """IMAGE_LINEAGE_CACHE_DIR=/tmp must not make /tmp 0700 (as root, it could)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with BlobCache(shared, "registry") as cache:
        cache.put_many({digest(plain_config()): plain_config()})
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE((shared / "details-v4.sqlite3").stat().st_mode) == 0o600
