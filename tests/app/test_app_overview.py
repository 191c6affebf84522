"""The app on a big collection: the overview of families first, a family's tree on demand,
and the switch that groups a repository's images into one box (AppTest, by widget key).

What the tree shows is read from the view the page hands to ``ui.overview.drawn_instead``
(recorded by the ``drawn`` fixture), whatever draws the tree.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from image_lineage import web
from image_lineage.model import Image
from image_lineage.ui import overview
from tests.app.test_app import NO_ENGINE, ok, snapshot_bytes, start
from tests.builders import image

FAMILIES = 3
APPS = 15  # per family: 3 x (1 base + 15 apps) = 48 images, more than web.CROWDED


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    st.cache_data.clear()
    yield
    st.cache_data.clear()


# What the last run of the page showed: the overview (True) or a tree, and its view.
DRAWN: list[tuple[bool, web.PageView]] = []


@pytest.fixture(autouse=True)
def drawn(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    original = overview.drawn_instead

    def recording(page: web.Page, layers_from: str | None = None) -> bool:
        instead = original(page, layers_from)
        DRAWN.append((instead, page.view))
        return instead

    monkeypatch.setattr(overview, "drawn_instead", recording)
    DRAWN.clear()
    yield
    DRAWN.clear()


def big_collection() -> list[Image]:
    """Three bases, each with 15 tags of one repository built on it; base0's apps are the biggest."""
    images = []
    for family in range(FAMILIES):
        base = [f"RUN base{family}:{(FAMILIES - family) * 10_000_000}"]
        images.append(image(base, f"base{family}:1"))
        images += [image([*base, f"RUN app{family}-{n}:1000"], f"team/app{family}:{n}") for n in range(APPS)]
    assert len(images) > web.CROWDED
    return images


def root(family: int) -> str:
    return big_collection()[family * (1 + APPS)].id


def uploaded() -> AppTest:
    at = start("upload")
    at.file_uploader(key="upload").set_value(("big.json", snapshot_bytes(big_collection()), "")).run()
    ok(at)
    return at


def tree_shown() -> bool:
    return bool(DRAWN) and not DRAWN[-1][0]


def boxes() -> list[str]:
    """The names of the boxes in the tree the page drew last."""
    assert tree_shown(), "the page drew the overview, not a tree"
    return sorted(node.image.display_name for node in DRAWN[-1][1].shown.nodes())


def metric(at: AppTest, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


def test_a_big_collection_starts_from_the_overview() -> None:
    at = uploaded()
    assert not tree_shown(), "no tree of 48 images"
    assert at.subheader[0].value == "48 images in 3 families"
    table = at.dataframe[0].value
    assert list(table["Family"]) == ["base0:1", "base1:1", "base2:1"]  # most disk first
    assert list(table["Images"]) == [16, 16, 16]
    assert list(table["Disk really used"]) == ["30.0 MB", "20.0 MB", "10.0 MB"]
    assert list(table["Sharing saves"]) == ["450 MB", "300 MB", "150 MB"]  # 15 apps repeat the base
    assert len(at.get("echarts_chart")) == 1  # where the disk goes
    assert metric(at, "Images shown") == "48"


def test_choosing_a_family_opens_its_tree_and_the_way_back() -> None:
    at = uploaded()
    families = at.selectbox(key="family")
    assert families.options == ["base0:1", "base1:1", "base2:1"]
    families.set_value(root(1)).run()
    ok(at)
    assert boxes() == sorted(["base1:1", *(f"team/app1:{n}" for n in range(APPS))])
    assert metric(at, "Images shown") == "16"
    assert any("The family of base1" in c.value for c in at.caption)
    at.button(key="back_to_overview").click().run()
    ok(at)
    assert not tree_shown()
    assert at.subheader[0].value == "48 images in 3 families"
    assert metric(at, "Images shown") == "48"


def test_picking_an_image_opens_its_family() -> None:
    at = uploaded()
    at.selectbox(key="image").set_value(big_collection()[2 * (1 + APPS) + 1 + 7].id).run()
    ok(at)
    assert "base2:1" in boxes()
    assert len(boxes()) == 1 + APPS
    assert any(h.value.startswith("Inspecting") for h in at.subheader)
    at.button(key="back_to_overview").click().run()
    ok(at)
    assert at.selectbox(key="image").value is None
    assert not tree_shown()


def test_drawing_every_image_anyway() -> None:
    at = uploaded()
    at.button(key="whole_tree_button").click().run()
    ok(at)
    assert len(boxes()) == len(big_collection())
    assert any("With 48 images the boxes are small" in c.value for c in at.caption)


def test_grouping_by_repository_is_a_switch() -> None:
    at = uploaded()
    at.selectbox(key="family").set_value(root(0)).run()
    at.toggle(key="group_repositories").set_value(True).run()
    ok(at)
    assert boxes() == ["base0:1", f"team/app0:{APPS} images"]
    assert metric(at, "Images shown") == "16", "the numbers still count every image"
    expand = at.multiselect(key="expanded_repositories")
    assert expand.options == [f"team/app{n} ({APPS})" for n in range(FAMILIES)]
    expand.set_value(["team/app0"]).run()
    ok(at)
    assert len(boxes()) == 1 + APPS
    at.toggle(key="group_repositories").set_value(False).run()
    assert len(boxes()) == 1 + APPS


def test_grouping_on_the_overview_and_on_a_small_collection() -> None:
    at = uploaded()
    at.toggle(key="group_repositories").set_value(True).run()
    ok(at)
    assert at.subheader[0].value == "48 images in 3 families"  # the table counts images, grouped or not
    at.selectbox(key="family").set_value(root(2)).run()
    assert boxes() == ["base2:1", f"team/app2:{APPS} images"]


def test_a_small_collection_shows_its_tree_with_no_way_back() -> None:
    at = start("sample")
    assert len(boxes()) == 16
    assert not [b for b in at.button if b.key == "back_to_overview"]


def test_records_only_offer_no_ranking_by_what_ships_for_nothing() -> None:
    """A snapshot keeps no layers: the switch that would read them is not offered (a source with
    layers: ``tests/integration/test_files_containerd.py``)."""
    at = uploaded()
    assert "rank_hidden" not in [toggle.key for toggle in at.toggle]
    assert "Ships for nothing" not in at.dataframe[0].value.columns
