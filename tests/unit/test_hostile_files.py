"""Hostile names inside layers: every output of ``files`` keeps them inert."""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile

import pytest

from image_lineage.contents import LayerInput, analyse
from image_lineage.model import Image
from image_lineage.render.files import FilesView, render_files_json, render_files_text, render_hidden_text
from image_lineage.sources.oci.layer_tar import read_listing
from image_lineage.web.files import rows, tree_html
from tests.hostile.corpus import HOSTILE_TEXT, UNENCODABLE_TEXT

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def hostile_layer(text: str) -> bytes:
    """A gzip layer with ``text`` as a folder, a file name and a link target (PAX: any name)."""
    raw = text.replace("\x00", "?").replace("/", "|")[:5000]
    name = raw.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")  # bytes no UTF-8 reads
    buffer = io.BytesIO()
    with tarfile.open(
        fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape"
    ) as tar:
        for member, kind, target in (
            (f"{name}/{name}", tarfile.REGTYPE, ""),
            ("link", tarfile.SYMTYPE, name),
        ):
            info = tarfile.TarInfo(member)
            info.type, info.linkname, info.size = kind, target, 3 if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(b"abc") if kind == tarfile.REGTYPE else None)
        info = tarfile.TarInfo(f"{name}/.wh.{name}")
        tar.addfile(info, io.BytesIO(b""))
    return gzip.compress(buffer.getvalue())


@pytest.mark.parametrize(
    ("label", "text"), HOSTILE_TEXT + UNENCODABLE_TEXT, ids=[n for n, _ in HOSTILE_TEXT + UNENCODABLE_TEXT]
)
def test_hostile_names_stay_inert_in_every_output(label: str, text: str) -> None:
    listing = read_listing(io.BytesIO(hostile_layer(text)), "the layer")
    contents = analyse([LayerInput(listing, "sha256:" + "a" * 64, text)])
    view = FilesView(Image(id="sha256:" + "b" * 64, tags=(text[:50],)), contents)
    for output in (render_files_text(view), render_hidden_text(view)):
        assert not UNSAFE.search(output), label
        assert len(max(output.splitlines(), key=len)) < 20_000  # names are bounded
    document = json.loads(render_files_json(view))
    assert document["layers"][0]["added"][0]["path"].startswith("/")
    page = tree_html(rows(contents, "all"))
    assert "<script" not in page
    assert "onload=" not in page.replace("onload=&quot;", "")
    assert not UNSAFE.search(page)
