"""The committed code generated from the project's containerd ``.proto`` files is exactly what
``make protos`` makes from them now (run it and commit after editing a ``.proto`` file)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PROTO_DIR = Path("image_lineage/sources/containerd/proto")


def generate(src: Path, out: Path) -> None:
    """The Makefile's ``protos`` recipe, in process: the ``.proto`` files below ``src``, to ``out``."""
    protoc = pytest.importorskip("grpc_tools.protoc", reason="make protos needs grpcio-tools")
    plugin = Path(sys.executable).parent / "protoc-gen-mypy"
    if not plugin.is_file():
        pytest.skip("make protos needs mypy-protobuf (protoc-gen-mypy)")
    protos = sorted(str(p.relative_to(src)) for p in (src / PROTO_DIR).glob("*.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")  # google/protobuf/*.proto, as protoc's main adds
    argv = ["protoc", "-I", str(src), "-I", include, f"--plugin=protoc-gen-mypy={plugin}"]
    assert protoc.main([*argv, f"--python_out={out}", f"--mypy_out={out}", *protos]) == 0


def generated(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in (root / PROTO_DIR).glob("*_pb2.py*")}


def test_the_generated_code_is_what_make_protos_makes(tmp_path: Path) -> None:
    generate(SRC, tmp_path)
    fresh, committed = generated(tmp_path), generated(SRC)
    assert sorted(fresh) == sorted(committed), "run make protos and commit what it makes"
    stale = [str(name) for name in sorted(fresh) if fresh[name] != committed[name]]
    assert not stale, f"run make protos and commit what it makes: {stale} differ"


def test_every_proto_file_has_its_generated_code() -> None:
    protos = {p.stem for p in (SRC / PROTO_DIR).glob("*.proto")}
    assert protos == {"content", "descriptor", "images", "namespaces", "version"}
    for stem in protos:
        assert (SRC / PROTO_DIR / f"{stem}_pb2.py").is_file()
        assert (SRC / PROTO_DIR / f"{stem}_pb2.pyi").is_file()


def test_a_stale_generation_is_caught(tmp_path: Path) -> None:
    """The comparison sees an edit: a copy of the sources with one field renumbered differs."""
    copy = tmp_path / "src"
    shutil.copytree(SRC / PROTO_DIR, copy / PROTO_DIR, ignore=shutil.ignore_patterns("*_pb2.py*"))
    edited = copy / PROTO_DIR / "content.proto"
    edited.write_text(edited.read_text().replace("bytes data = 2;", "bytes data = 3;"))
    out = tmp_path / "out"
    out.mkdir()
    generate(copy, out)
    assert generated(out)[PROTO_DIR / "content_pb2.py"] != generated(SRC)[PROTO_DIR / "content_pb2.py"]
