"""The inspector's Files view: its filters and tree (``web.files``) and the page around it."""

from __future__ import annotations

import re

import pytest

from image_lineage.contents import LayerInput, analyse
from image_lineage.sources.oci.layer_tar import Entry, Listing
from image_lineage.web import files
from tests.app.test_app import ok, sample_scan, start, texts


def listing(*entries: Entry) -> Listing:
    found = Listing()
    for entry in entries:
        found.add(entry)
    return found


CONTENTS = analyse(
    [
        LayerInput(
            listing(
                Entry("/etc/os", "file", 100),
                Entry("/opt/d/f1", "file", 300),
                Entry("/x/\x1b[31m<b>\u202eevil", "file", 5),
            ),
            "sha256:a",
            "ADD rootfs /",
        ),
        LayerInput(
            listing(
                Entry("/etc/os", "file", 120),
                Entry("/opt/d", "whiteout"),
                Entry("/ln", "symlink", link="<i>"),
            ),
            "sha256:b",
            "RUN step",
        ),
    ]
)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("all", [("/etc/os", 120, 1, ""), ("/x/\x1b[31m<b>\u202eevil", 5, 0, ""), ("/ln", 0, 1, "")]),
        (
            "step",
            [("/opt/d/f1", 300, 1, "-"), ("/etc/os", 120, 1, "~"), ("/ln", 0, 1, "+")],
        ),
        ("parent", [("/etc/os", 120, 1, ""), ("/ln", 0, 1, "")]),
        ("hidden", [("/opt/d/f1", 300, 0, "-"), ("/etc/os", 100, 0, "-")]),
    ],
)
def test_each_filter_shows_its_entries_biggest_first(
    choice: str, expected: list[tuple[str, int, int, str]]
) -> None:
    shown = files.rows(CONTENTS, choice, layer=1, parent_layers=1)
    assert [(r.path, r.size, r.layer, r.mark) for r in shown] == expected


def test_the_tree_is_nested_details_with_inert_names() -> None:
    page = files.tree_html(files.rows(CONTENTS, "all"))
    assert '<details open><summary><span class="il-n">etc/</span>' in page
    assert "<b>" not in page
    assert "<i>" not in page
    assert "&lt;b&gt;" in page
    assert "\x1b" not in page
    assert "\u202e" not in page
    assert "· L1" in page


def test_sizes_sit_in_a_column_of_their_own_and_long_names_wrap() -> None:
    """Every line, a folder's too: the name (wrapping anywhere), then the size right-aligned in
    tabular figures, then the layer: the sizes line up down the tree whatever the names."""
    page = files.tree_html(files.rows(CONTENTS, "step", layer=1))
    lines = re.findall(r'<span class="il-n">([^<]*)</span><span class="il-s">([^<]*)</span>'
                       r'<span class="il-k">([^<]*)</span>', page)  # fmt: skip
    assert lines == [
        ("etc/", "120 B", ""),  # a folder: what it shows inside, no layer of its own here
        ("os", "~ 120 B", "· L1"),
        ("ln → &lt;i&gt;", "+ 0 B", "· L1"),
        ("opt/", "300 B", ""),
        ("d/", "300 B", ""),
        ("f1", "- 300 B", "· L1"),
    ]
    style = page.partition("</style>")[0]
    assert ".il-files .il-n {flex: 1; min-width: 0; overflow-wrap: anywhere}" in style
    assert ".il-files .il-s {text-align: right; min-width: 5.5em}" in style
    assert "tabular-nums" in style
    assert page.count("<style>") == 1  # one style sheet, not one on each line


def test_the_legend_names_the_marks_only_where_the_filter_shows_them() -> None:
    assert "+ added" not in files.legend("all")
    assert "+ added" not in files.legend("parent")
    assert files.legend("step").endswith("+ added, ~ changed, - removed.")
    assert "(L0 is the first)" in files.legend("hidden")


def test_only_sources_with_layers_are_read() -> None:
    assert files.layer_spec(["auto"], "docker") == "docker"
    assert files.layer_spec(["sample", "registry:http://r:5000"], "merged") == "registry:http://r:5000"
    assert files.layer_spec(["auto"], "sample") is None  # auto fell back to the sample
    assert files.layer_spec(["sample"], "sample") is None


def test_the_sample_says_it_keeps_no_files() -> None:
    at = start()
    at.selectbox(key="image").set_value(sample_scan().images[0].id).run()
    ok(at)
    assert "records only" in texts(at)
    assert "files_read" not in [toggle.key for toggle in at.toggle]  # nothing to read: not offered


def test_a_step_says_plainly_that_what_it_removed_still_ships() -> None:
    text = files.step_text(CONTENTS, 1)
    assert text.startswith("In the files, this step added 1 entry (0 B unpacked), changed 1 entry")
    assert "removed 1 entry, yet their 300 B still ship" in text
    assert files.step_text(CONTENTS, 0) == "In the files, this step added 3 entries (405 B unpacked)."


def test_a_step_that_only_removes_says_so_without_counting_nothing() -> None:
    removing = analyse(
        [
            LayerInput(listing(Entry("/srv/a", "file", 40), Entry("/srv/b", "file", 60)), "sha256:a"),
            LayerInput(listing(Entry("/srv/a", "whiteout")), "sha256:b"),
            LayerInput(listing(), "sha256:c"),
        ]
    )
    assert files.step_text(removing, 1) == (
        "In the files, this step removed 1 entry, yet their 40 B still ship: a layer below holds "
        "them, and every pull downloads them."
    )
    assert files.step_text(removing, 2) == "In the files, this step changed nothing."
