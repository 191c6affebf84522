"""What layers do to the filesystem: whiteouts, opaque folders, rewrites, and dive's figures."""

from __future__ import annotations

import io

from image_lineage.contents import LayerInput, analyse
from image_lineage.sources.oci.layer_tar import Entry, Listing, read_listing
from tests.unit.test_layer_tar import layer


def listing(*entries: Entry) -> Listing:
    found = Listing()
    for entry in entries:
        found.add(entry)
    return found


def file(path: str, size: int) -> Entry:
    return Entry(path, "file", size, 0o644)


def folder(path: str, mode: int = 0o755) -> Entry:
    return Entry(path, "dir", 0, mode)


BASE = listing(
    folder("/etc"),
    file("/etc/os", 100),
    folder("/opt"),
    folder("/opt/d"),
    file("/opt/d/f1", 300),
    file("/opt/d/f2", 400),
    file("/opt/big", 5000),
    folder("/keep"),
    file("/keep/k", 10),
    file("/gone", 7),
)
CHILD = listing(
    folder("/etc"),  # listed again, unchanged: no change
    file("/etc/os", 120),  # written again
    Entry("/opt/d", "whiteout"),  # a folder removed
    Entry("/gone", "whiteout"),  # a file removed
    Entry("/keep", "opaque"),  # made opaque ...
    file("/keep/n", 1),  # ... with a new file in it
    Entry("/ln", "symlink", link="/opt/big"),
)


def test_adds_changes_and_removals_per_layer() -> None:
    contents = analyse([LayerInput(BASE, "sha256:a", "ADD rootfs /"), LayerInput(CHILD, "sha256:b", "RUN x")])
    base, child = contents.layers
    assert [e.path for e in base.added] == [e.path for e in BASE]
    assert not base.changed
    assert not base.removed
    assert base.hidden_bytes == 0
    assert [e.path for e in child.added] == ["/keep/n", "/ln"]
    assert [(e.path, e.size) for e in child.changed] == [("/etc/os", 120)]
    assert [(e.path, e.size) for e in child.removed] == [
        ("/gone", 7),
        ("/keep/k", 10),
        ("/opt/d", 0),
        ("/opt/d/f1", 300),
        ("/opt/d/f2", 400),
    ]
    assert child.hidden_bytes == 7 + 10 + 300 + 400 + 100  # removed, and the old /etc/os
    assert contents.hidden_bytes == child.hidden_bytes
    assert child.created_by == "RUN x"
    assert child.size == 121


def test_the_final_filesystem_and_who_wrote_each_entry() -> None:
    contents = analyse([LayerInput(BASE), LayerInput(CHILD)])
    final = {p.entry.path: (p.entry.size, p.layer) for p in contents.final}
    assert final == {
        "/etc": (0, 0),
        "/etc/os": (120, 1),
        "/opt": (0, 0),
        "/opt/big": (5000, 0),
        "/keep": (0, 0),
        "/keep/n": (1, 1),
        "/ln": (0, 1),
    }
    assert [p.entry.path for p in contents.biggest(2)] == ["/opt/big", "/etc/os"]
    assert [p.entry.path for p in contents.added_over(1)] == ["/etc/os", "/keep/n", "/ln"]
    assert {(h.entry.path, h.layer, h.by) for h in contents.hidden} >= {("/etc/os", 0, 1), ("/gone", 0, 1)}


def test_dive_efficiency_and_wasted_bytes() -> None:
    """dive counts, per path, its sizes over the layers where it is a leaf; a whiteout counts what
    it hides only when that was a folder; wasted is the sum over paths seen in 2+ layers."""
    contents = analyse([LayerInput(BASE), LayerInput(CHILD)])
    # /etc/os: 100 + 120 (two layers, wasted); /gone: 7 then a file whiteout, 0 (wasted 7);
    # /opt/d: not a leaf in the base, its whiteout counts 700; /keep/k, f1, f2, big, n, ln once.
    totals = {"/etc/os": 220, "/gone": 7, "/opt/d": 700, "/keep/k": 10, "/opt/d/f1": 300}
    totals |= {"/opt/d/f2": 400, "/opt/big": 5000, "/keep/n": 1, "/ln": 0}
    smallest = dict(totals) | {"/etc/os": 100, "/gone": 0}
    assert contents.wasted_bytes == 220 + 7
    assert contents.efficiency == sum(smallest.values()) / sum(totals.values())
    assert contents.user_size == 121
    assert contents.wasted_percent == 227 / 121


def test_a_file_over_a_folder_hides_the_folder() -> None:
    top = listing(file("/opt/d", 5))
    contents = analyse([LayerInput(BASE), LayerInput(top)])
    assert {e.path for e in contents.layers[1].removed} == {"/opt/d/f1", "/opt/d/f2"}
    assert [e.path for e in contents.layers[1].changed] == ["/opt/d"]


def test_a_folder_whose_mode_changes_is_a_change() -> None:
    contents = analyse([LayerInput(BASE), LayerInput(listing(folder("/etc", 0o700)))])
    assert [e.path for e in contents.layers[1].changed] == ["/etc"]


def test_layers_read_from_tars_agree_with_hand_built_listings() -> None:
    data = layer(("a/b", "f", b"12345"), ("a/.wh.c", "f", b""))
    read = read_listing(io.BytesIO(data), "a layer")
    lower = listing(file("/a/c", 9))
    contents = analyse([LayerInput(lower), LayerInput(read)])
    assert [(e.path, e.size) for e in contents.layers[1].removed] == [("/a/c", 9)]
    assert [(e.path, e.size) for e in contents.layers[1].added] == [("/a/b", 5)]


def test_nothing_at_all() -> None:
    contents = analyse([])
    assert (contents.efficiency, contents.wasted_bytes, contents.hidden_bytes, contents.wasted_percent) == (
        1.0,
        0,
        0,
        0.0,
    )


def test_the_tree_links_folders_no_entry_names() -> None:
    from image_lineage.model import Image  # noqa: PLC0415
    from image_lineage.render.files import FilesView, render_files_text  # noqa: PLC0415

    contents = analyse(
        [
            LayerInput(
                listing(file("/a/b/c", 1), file("/a/b/d", 2), file("/a/x", 4), folder("/e"), file("/a-b", 8))
            )
        ]
    )
    text = render_files_text(FilesView(Image(id="sha256:" + "0" * 64), contents))
    tree = text.split("\n\n")[1].splitlines()
    assert tree == [
        "/  15 B",
        "├── a/  7 B",
        "│   ├── b/  3 B",
        "│   │   ├── c  1 B  L0",
        "│   │   └── d  2 B  L0",
        "│   └── x  4 B  L0",
        "├── a-b  8 B  L0",
        "└── e/  0 B  L0",
    ]
