"""Write OCI image layouts (as tar bytes) in Python: multi-platform indexes, attestations, families.

What ``docker buildx build --platform linux/amd64,linux/arm64 --push``-like output looks like,
made without a builder or a registry, byte-for-byte reproducible (fixed timestamps, gzip
``mtime=0``), so tests can ``docker load`` it into any engine and know every digest:

* ``index.json`` names each tagged image with ``io.containerd.image.name`` (the full
  reference, ``docker.io/...``) and ``org.opencontainers.image.ref.name`` (the tag), like
  ``docker save`` of Engine 25+;
* a tag points at an **image index** (one manifest per platform, plus, per platform, a
  BuildKit-style attestation manifest: platform ``unknown/unknown``, annotations
  ``vnd.docker.reference.type: attestation-manifest`` and ``vnd.docker.reference.digest``,
  one in-toto layer) or directly at a single **image manifest**;
* layers are real gzip-compressed tar blobs; configs carry ``rootfs.diff_ids`` (the sha256
  of the uncompressed tar) and ``history`` with ``empty_layer`` flags;
* optionally a Docker-compatible ``manifest.json`` for one platform (``docker_platform=``),
  which is what Engine 20.10 (classic store) needs to load the same images.

Build images as values, children from parents::

    base = {p: Image.scratch(p).run("ADD rootfs /", {"etc/os": str(p).encode()}) for p in (AMD64, ARM64)}
    app = {p: img.run("RUN make", {"opt/app": b"..."}) for p, img in base.items()}
    layout = OciLayout()
    layout.tag("demo/base:1", layout.add_index(base.values()))
    layout.tag("demo/app:1", layout.add_index(app.values()))
    Path("family.tar").write_bytes(layout.tar_bytes())

:func:`lineage_family` builds the family the integration tests use and says who descends
from whom.  No pytest import here.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "AMD64",
    "ARM64",
    "MEDIA_CONFIG",
    "MEDIA_INDEX",
    "MEDIA_LAYER_GZIP",
    "MEDIA_MANIFEST",
    "Family",
    "Image",
    "Layer",
    "OciLayout",
    "Platform",
    "Step",
    "full_reference",
    "lineage_family",
    "pseudo_random_bytes",
]

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_IN_TOTO = "application/vnd.in-toto+json"

ATTESTATION_TYPE = "attestation-manifest"
REF_TYPE_KEY = "vnd.docker.reference.type"
REF_DIGEST_KEY = "vnd.docker.reference.digest"
CONTAINERD_NAME_KEY = "io.containerd.image.name"
OCI_REF_NAME_KEY = "org.opencontainers.image.ref.name"

#: Layer file timestamps (2024-01-01T00:00:00Z): fixed so layers are reproducible.
LAYER_MTIME = 1704067200
DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def pseudo_random_bytes(seed: str, size: int) -> bytes:
    """``size`` reproducible bytes that do not compress (so compressed != unpacked sizes)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


@dataclass(frozen=True)
class Platform:
    """An OCI platform (``os/architecture[/variant]``)."""

    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    def as_dict(self) -> dict[str, str]:
        result = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            result["variant"] = self.variant
        return result

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
UNKNOWN = Platform("unknown", "unknown")


@dataclass(frozen=True)
class Layer:
    """One layer: the uncompressed tar (its sha256 is the diff_id) and the gzip blob."""

    tar: bytes
    blob: bytes

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], *, mtime: int = LAYER_MTIME) -> Layer:
        """A layer holding ``files`` (path -> content, mode 0644; parent dirs added, 0755)."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            dirs: set[str] = set()
            for name in sorted(files):
                parts = name.strip("/").split("/")
                for depth in range(1, len(parts)):
                    folder = "/".join(parts[:depth])
                    if folder not in dirs:
                        dirs.add(folder)
                        info = tarfile.TarInfo(folder)
                        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
                        tar.addfile(info)
                data = files[name]
                info = tarfile.TarInfo("/".join(parts))
                info.size, info.mode, info.mtime = len(data), 0o644, mtime
                tar.addfile(info, io.BytesIO(data))
        raw = buf.getvalue()
        return cls(tar=raw, blob=gzip.compress(raw, compresslevel=6, mtime=0))

    @property
    def diff_id(self) -> str:
        return _digest(self.tar)

    @property
    def digest(self) -> str:
        return _digest(self.blob)

    @property
    def size(self) -> int:
        """The compressed (blob) size, as a manifest states it."""
        return len(self.blob)

    @property
    def content_size(self) -> int:
        """Sum of the regular files' sizes in the layer."""
        with tarfile.open(fileobj=io.BytesIO(self.tar)) as tar:
            return sum(m.size for m in tar.getmembers() if m.isfile())


@dataclass(frozen=True)
class Step:
    """One config ``history`` entry."""

    created: str
    created_by: str
    empty_layer: bool = False
    comment: str | None = None

    def as_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"created": self.created, "created_by": self.created_by}
        if self.comment is not None:
            entry["comment"] = self.comment
        if self.empty_layer:
            entry["empty_layer"] = True
        return entry


def _clock(n: int) -> str:
    """The n-th build timestamp: one minute apart from 2024-01-01T00:00:00Z."""
    return f"2024-01-01T{n // 60:02d}:{n % 60:02d}:00Z"


@dataclass(frozen=True)
class Image:
    """One platform's image: its layers, history and config; children are made from it."""

    platform: Platform
    layers: tuple[Layer, ...] = ()
    history: tuple[Step, ...] = ()
    env: tuple[str, ...] = DEFAULT_ENV
    cmd: tuple[str, ...] | None = None
    labels: tuple[tuple[str, str], ...] = ()
    tick: int = 0  # how many steps so far: the next step's timestamp

    @classmethod
    def scratch(cls, platform: Platform) -> Image:
        return cls(platform=platform)

    def run(self, created_by: str, files: Mapping[str, bytes], *, comment: str | None = None) -> Image:
        """A child with one more layer holding ``files`` (a ``RUN``/``COPY``/``ADD`` step)."""
        step = Step(_clock(self.tick), created_by, comment=comment)
        return replace(
            self,
            layers=(*self.layers, Layer.from_files(files)),
            history=(*self.history, step),
            tick=self.tick + 1,
        )

    def meta(
        self,
        created_by: str,
        *,
        labels: Mapping[str, str] | None = None,
        cmd: Iterable[str] | None = None,
        env: Iterable[str] = (),
    ) -> Image:
        """A child with no new layer (``LABEL``/``CMD``/``ENV``): one ``empty_layer`` history entry."""
        merged = dict(self.labels)
        merged.update(labels or {})
        return replace(
            self,
            history=(*self.history, Step(_clock(self.tick), created_by, empty_layer=True)),
            labels=tuple(sorted(merged.items())),
            cmd=tuple(cmd) if cmd is not None else self.cmd,
            env=(*self.env, *env),
            tick=self.tick + 1,
        )

    @property
    def diff_ids(self) -> list[str]:
        return [layer.diff_id for layer in self.layers]

    def config(self) -> dict[str, Any]:
        container: dict[str, Any] = {"Env": list(self.env)}
        if self.cmd is not None:
            container["Cmd"] = list(self.cmd)
        if self.labels:
            container["Labels"] = dict(self.labels)
        config: dict[str, Any] = {
            **self.platform.as_dict(),
            "config": container,
            "rootfs": {"type": "layers", "diff_ids": self.diff_ids},
            "history": [step.as_dict() for step in self.history],
        }
        if self.history:
            config["created"] = self.history[-1].created
        return config

    def config_bytes(self) -> bytes:
        return _json_bytes(self.config())

    @property
    def config_digest(self) -> str:
        """The image's identity: the digest of its config."""
        return _digest(self.config_bytes())


@dataclass
class OciLayout:
    """An OCI image layout being written: blobs, ``index.json`` entries, optional ``manifest.json``."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    #: ``manifest.json`` entries (Docker's archive format), for loading into Engine 20.10.
    docker_entries: list[dict[str, Any]] = field(default_factory=list)
    #: image manifest digest -> the Image it describes (every platform, every tag).
    images: dict[str, Image] = field(default_factory=dict)

    def add_blob(self, data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
        digest = _digest(data)
        self.blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}

    def add_image(self, image: Image) -> dict[str, Any]:
        """Write the config, layers and manifest of ``image``; its descriptor (with platform)."""
        config = self.add_blob(image.config_bytes(), MEDIA_CONFIG)
        layers = [self.add_blob(layer.blob, MEDIA_LAYER_GZIP) for layer in image.layers]
        manifest = {"schemaVersion": 2, "mediaType": MEDIA_MANIFEST, "config": config, "layers": layers}
        descriptor = self.add_blob(_json_bytes(manifest), MEDIA_MANIFEST, platform=image.platform.as_dict())
        self.images[descriptor["digest"]] = image
        return descriptor

    def add_attestation(self, subject: dict[str, Any], name: str) -> dict[str, Any]:
        """A BuildKit-style provenance attestation manifest for the image ``subject``."""
        platform = str(Platform(**subject["platform"]))
        statement = {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [
                {
                    "name": f"pkg:docker/{name}?platform={platform.replace('/', '%2F')}",
                    "digest": {"sha256": subject["digest"].removeprefix("sha256:")},
                }
            ],
            "predicate": {
                "builder": {"id": ""},
                "buildType": "https://mobyproject.org/buildkit@v1",
                "metadata": {"buildStartedOn": "2024-01-01T00:00:00Z"},
            },
        }
        statement_bytes = _json_bytes(statement)
        layer = self.add_blob(
            statement_bytes,
            MEDIA_IN_TOTO,
            annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
        )
        config = self.add_blob(
            _json_bytes(
                {
                    **UNKNOWN.as_dict(),
                    "config": {},
                    "rootfs": {"type": "layers", "diff_ids": [_digest(statement_bytes)]},
                }
            ),
            MEDIA_CONFIG,
        )
        manifest = {"schemaVersion": 2, "mediaType": MEDIA_MANIFEST, "config": config, "layers": [layer]}
        return self.add_blob(
            _json_bytes(manifest),
            MEDIA_MANIFEST,
            annotations={REF_DIGEST_KEY: subject["digest"], REF_TYPE_KEY: ATTESTATION_TYPE},
            platform=UNKNOWN.as_dict(),
        )

    def add_index(
        self, images: Iterable[Image], *, attestations: bool = True, name: str = "image"
    ) -> dict[str, Any]:
        """An image index over ``images`` (one per platform), each followed by its attestation."""
        manifests: list[dict[str, Any]] = []
        image_descriptors = [self.add_image(image) for image in images]
        manifests.extend(image_descriptors)
        if attestations:
            manifests.extend(self.add_attestation(d, name) for d in image_descriptors)
        index = {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": manifests}
        return self.add_blob(_json_bytes(index), MEDIA_INDEX)

    def tag(self, name: str, descriptor: dict[str, Any], *, docker_platform: Platform | None = None) -> None:
        """Name ``descriptor`` (an index or a manifest) in ``index.json`` as ``name`` (``repo:tag``).

        With ``docker_platform``, also list that platform's image in ``manifest.json``.
        """
        entry = {key: value for key, value in descriptor.items() if key != "platform"}
        entry["annotations"] = {
            CONTAINERD_NAME_KEY: full_reference(name),
            OCI_REF_NAME_KEY: name.rsplit(":", 1)[1],
        }
        self.entries.append(entry)
        if docker_platform is not None:
            manifest = self._platform_manifest(descriptor, docker_platform)
            image = self.images[manifest["digest"]]
            layers = json.loads(self.blobs[manifest["digest"]])["layers"]
            self.docker_entries.append(
                {
                    "Config": _blob_path(image.config_digest),
                    "RepoTags": [name],
                    "Layers": [_blob_path(layer["digest"]) for layer in layers],
                }
            )

    def _platform_manifest(self, descriptor: dict[str, Any], platform: Platform) -> dict[str, Any]:
        if descriptor["mediaType"] == MEDIA_MANIFEST:
            return descriptor
        for candidate in json.loads(self.blobs[descriptor["digest"]])["manifests"]:
            if candidate.get("platform") == platform.as_dict():
                return dict(candidate)
        raise KeyError(f"no {platform} manifest in {descriptor['digest']}")

    def index_json(self) -> dict[str, Any]:
        return {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": self.entries}

    def tar_bytes(self) -> bytes:
        """The layout as an uncompressed tar (what ``docker load`` reads)."""
        files: list[tuple[str, bytes]] = [
            ("oci-layout", _json_bytes({"imageLayoutVersion": "1.0.0"})),
            ("index.json", _json_bytes(self.index_json())),
        ]
        if self.docker_entries:
            files.append(("manifest.json", _json_bytes(self.docker_entries)))
        files += [(_blob_path(digest), data) for digest, data in sorted(self.blobs.items())]
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for folder in ("blobs", "blobs/sha256"):
                info = tarfile.TarInfo(folder)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, LAYER_MTIME
                tar.addfile(info)
            for name, data in files:
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o644, LAYER_MTIME
                tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()


def _blob_path(digest: str) -> str:
    algorithm, hexdigest = digest.split(":", 1)
    return f"blobs/{algorithm}/{hexdigest}"


def full_reference(name: str) -> str:
    """``repo:tag`` as Docker normalises it: ``docker.io/library/x:1``, ``docker.io/a/b:1``."""
    repo, tag = name.rsplit(":", 1)
    first = repo.split("/", 1)[0]
    if "/" not in repo:
        repo = f"docker.io/library/{repo}"
    elif not ("." in first or ":" in first or first == "localhost"):
        repo = f"docker.io/{repo}"
    return f"{repo}:{tag}"


@dataclass
class Family:
    """The test family: the layout tar, each tag's images by platform, and who descends from whom."""

    layout: OciLayout
    #: tag -> platform string -> Image
    images: dict[str, dict[str, Image]]
    #: tag -> the digest ``index.json`` names for it (index or manifest)
    targets: dict[str, str]
    #: (tag, platform) -> (parent tag, platform), or None for a root
    parents: dict[tuple[str, str], tuple[str, str] | None]

    def tar_bytes(self) -> bytes:
        return self.layout.tar_bytes()


def lineage_family(*, prefix: str = "oci", docker_platform: Platform | None = None) -> Family:
    """The multi-platform family the integration tests load into every engine.

    ============================  ==========================  ====================================
    tag                            platforms                   built from
    ============================  ==========================  ====================================
    ``<prefix>/base:1``            amd64, arm64 (+2 attest.)   scratch: one layer, then CMD
    ``<prefix>/app:1``             amd64, arm64 (+2 attest.)   base (same platform) + one layer
    ``<prefix>/app-labelled:1``    amd64, arm64 (+2 attest.)   app + LABEL only (no new layer)
    ``<prefix>/app-plugin:1``      amd64, arm64 (+2 attest.)   app + one layer (a grandchild)
    ``<prefix>/arm-tool:1``        arm64 only (index, +1)      base/arm64 + one layer
    ``<prefix>/single:1``          amd64 (a bare manifest)     base/amd64 + one layer + LABEL
    ============================  ==========================  ====================================

    Layer contents are pseudo-random (incompressible) and differ per platform, so each
    platform's layers, configs and sizes are distinct.  ``docker_platform`` also writes a
    ``manifest.json`` for that platform (for engines that cannot read ``index.json``).
    """

    def name(short: str) -> str:
        return f"{prefix}/{short}:1"

    both = (AMD64, ARM64)
    base = {
        p: Image.scratch(p)
        .run(
            f"/bin/sh -c #(nop) ADD file:rootfs-{p.architecture}.tar in / ",
            {
                "etc/os-release": f"ID=lineage-test\nARCH={p.architecture}\n".encode(),
                "bin/tool": pseudo_random_bytes(f"base-{p}", 40_000),
            },
        )
        .meta('/bin/sh -c #(nop)  CMD ["/bin/sh"]', cmd=["/bin/sh"])
        for p in both
    }
    app = {
        p: img.run(
            "RUN /bin/sh -c mkdir -p /opt/app && make install # buildkit",
            {"opt/app/app.bin": pseudo_random_bytes(f"app-{p}", 20_000)},
            comment="buildkit.dockerfile.v0",
        )
        for p, img in base.items()
    }
    labelled = {
        p: img.meta("LABEL org.example.team=data", labels={"org.example.team": "data"})
        for p, img in app.items()
    }
    plugin = {
        p: img.run(
            "COPY plugin.so /opt/app/plugins/ # buildkit",
            {"opt/app/plugins/plugin.so": pseudo_random_bytes(f"plugin-{p}", 8_000)},
            comment="buildkit.dockerfile.v0",
        )
        for p, img in app.items()
    }
    arm_tool = {
        ARM64: base[ARM64].run(
            "RUN /bin/sh -c install-arm-tool # buildkit",
            {"usr/local/bin/arm-tool": pseudo_random_bytes("arm-tool", 12_000)},
            comment="buildkit.dockerfile.v0",
        )
    }
    single = {
        AMD64: base[AMD64]
        .run(
            "RUN /bin/sh -c echo single > /single.txt # buildkit",
            {"single.txt": pseudo_random_bytes("single", 5_000)},
            comment="buildkit.dockerfile.v0",
        )
        .meta("LABEL org.example.kind=single", labels={"org.example.kind": "single"})
    }

    layout = OciLayout()
    family = Family(layout=layout, images={}, targets={}, parents={})
    groups: list[tuple[str, dict[Platform, Image], str | None]] = [
        ("base", base, None),
        ("app", app, "base"),
        ("app-labelled", labelled, "app"),
        ("app-plugin", plugin, "app"),
        ("arm-tool", arm_tool, "base"),
        ("single", single, "base"),
    ]
    for short, images, parent in groups:
        tag = name(short)
        if short == "single":
            descriptor = layout.add_image(images[AMD64])
        else:
            descriptor = layout.add_index(images.values(), name=tag)
        platform_for_docker = docker_platform if docker_platform in images else None
        layout.tag(tag, descriptor, docker_platform=platform_for_docker)
        family.targets[tag] = descriptor["digest"]
        family.images[tag] = {str(p): img for p, img in images.items()}
        for p in images:
            family.parents[(tag, str(p))] = (name(parent), str(p)) if parent else None
    return family


if __name__ == "__main__":  # pragma: no cover - manual helper
    import sys
    from pathlib import Path

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("oci-family.tar")
    out.write_bytes(lineage_family(docker_platform=AMD64).tar_bytes())
    print(f"wrote {out}")
