"""The overview of a big collection (families, where the disk goes) and grouping by repository.

Literal records from ``tests.builders``, then a 1,000-image ``docker save`` archive made
by ``bench/synthetic_images.py``, read as the app reads it.
"""

from __future__ import annotations

import pytest
from bench.synthetic_images import write_archive

from image_lineage import lesson
from image_lineage.grouping import group_repositories, repositories
from image_lineage.insights import disk_usage
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.overview import disk_map, echarts_treemap, families, family_of
from image_lineage.sources import open_source
from tests.builders import MINIMAL, SCIPY, SOURCE, image, jupyter_family

PYTHON = ["RUN import-debian:3000000", "RUN install-python:40000000"]
WEB_APP = [*PYTHON, "RUN pip-flask:2000000"]


def two_families() -> Lineage:
    """The jupyter family (5 images) and a small python one (2 images)."""
    python = [image(PYTHON, "python:3.12"), image(WEB_APP, "team/web:1")]
    return build_lineage([*jupyter_family(), *python], SOURCE)


def test_one_row_per_family_biggest_disk_user_first() -> None:
    lineage = two_families()
    found = families(lineage)
    assert [(f.name, f.images) for f in found] == [
        ("jupyter/docker-stacks-foundation:latest", 5),
        ("python:3.12", 2),
    ]
    jupyter, python = found
    # Each layer once: foundation 5.3 MB, conda 20, tools 8, scipy 30, pandas 12, R 25.
    assert jupyter.disk.shared == 100_300_000
    # What docker images adds up: 5.3 + 25.3 + 33.3 + 75.3 + 58.3 MB.
    assert jupyter.disk.naive == 197_500_000
    assert jupyter.disk.saved == 97_200_000
    assert python.disk.shared == 45_000_000
    assert python.disk.naive == 43_000_000 + 45_000_000
    assert jupyter.row() == {
        "Family": "jupyter/docker-stacks-foundation:latest",
        "Images": 5,
        "Disk really used": "100 MB",
        "Sharing saves": "97.2 MB",
    }
    assert jupyter.ids | python.ids == set(lineage.by_id)


def test_an_image_belongs_to_the_family_of_its_root() -> None:
    lineage = two_families()
    scipy = next(n.id for n in lineage.nodes() if "jupyter/scipy-notebook:latest" in n.image.tags)
    family = family_of(lineage, scipy)
    assert lineage.node(family.root).image.tags == ("jupyter/docker-stacks-foundation:latest",)
    assert family_of(lineage, family.root) == family
    assert family.members[0] == family.root
    assert family.images == 5
    # One family type: the overview's rows and the lesson's families are the same families.
    assert {row.family for row in families(lineage)} == set(lesson.families(lineage))


def test_where_the_disk_goes_adds_up_to_the_disk_used() -> None:
    lineage = two_families()
    slices = disk_map(lineage)
    assert [s.name for s in slices] == ["jupyter/docker-stacks-foundation:latest", "python:3.12"]
    assert [s.value for s in slices] == [f.disk.shared for f in families(lineage)]
    foundation = slices[0]
    assert foundation.added == 5_300_000
    (base,) = foundation.children
    (minimal,) = base.children
    assert [(c.name, c.value) for c in minimal.children] == [
        ("jupyter/scipy-notebook:2026-11", 42_000_000),  # widest first
        ("jupyter/r-notebook:latest", 25_000_000),
    ]
    assert sum(1 for s in slices for _ in s.walk()) == len(lineage)


def test_the_treemap_holds_each_image_and_what_it_adds_itself() -> None:
    spec = echarts_treemap(disk_map(two_families()))
    (series,) = spec["series"]
    assert series["type"] == "treemap"
    assert spec["tooltip"]["renderMode"] == "richText"  # never HTML
    python = series["data"][1]
    assert python == {
        "name": "python:3.12",
        "value": 45_000_000,
        "children": [
            {"name": "python:3.12 itself", "value": 43_000_000},
            {"name": "team/web:1", "value": 2_000_000},
        ],
    }


def test_names_in_the_picture_are_cleaned() -> None:
    hostile = image(["RUN evil:10"], "evil/\u202eexe.txt:1\x1b[31m")
    (item,) = echarts_treemap(disk_map(build_lineage([hostile], SOURCE)))["series"][0]["data"]
    assert "\u202e" not in item["name"]
    assert "\x1b" not in item["name"]


# --------------------------------------------------------------------------- a thousand images


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> Lineage:
    path = tmp_path_factory.mktemp("synthetic") / "images.tar"
    write_archive(path, 1000, roots=10)
    scan = open_source(f"archive:{path}").scan()
    return build_lineage(scan.images, scan.source)


def test_a_thousand_images_make_ten_families(thousand: Lineage) -> None:
    found = families(thousand)
    assert len(thousand) == 1000
    assert len(found) == 10
    assert sum(f.images for f in found) == 1000
    assert frozenset().union(*(f.ids for f in found)) == set(thousand.by_id)
    used = [f.disk.shared for f in found]
    assert used == sorted(used, reverse=True)
    # Families share no layer, so their disks add up to the whole collection's.
    assert sum(used) == disk_usage(thousand).shared
    assert all(f.disk.saved >= 0 for f in found)


def test_a_thousand_images_in_the_picture(thousand: Lineage) -> None:
    slices = disk_map(thousand)
    assert sum(s.value for s in slices) == disk_usage(thousand).shared
    assert sum(1 for s in slices for _ in s.walk()) == 1000
    spec = echarts_treemap(slices)
    assert len(spec["series"][0]["data"]) == 10


def test_a_thousand_images_of_one_repository_each_group_to_themselves(thousand: Lineage) -> None:
    assert group_repositories(thousand) is thousand


# --------------------------------------------------------------------------- grouping by repository

OLD_SCIPY = [*MINIMAL, "RUN pip-scipy-old:29000000"]


def with_tags() -> Lineage:
    """jupyter's family, plus an older scipy-notebook build and an untagged image."""
    images = [
        *jupyter_family(),
        image(OLD_SCIPY, "jupyter/scipy-notebook:2026-10"),
        image([*SCIPY, "RUN extra:1000"], "jupyter/scipy-notebook:2026-12"),
        image([*MINIMAL, "RUN dangling:5"]),
    ]
    return build_lineage(images, SOURCE)


def by_name(lineage: Lineage) -> dict[str, str]:
    return {n.image.display_name: n.id for n in lineage.nodes()}


def test_one_repository_however_its_tags_are_spelled() -> None:
    # Podman names Docker Hub images in full; the engine as docker images shows them.
    images = [
        *jupyter_family(),
        image(OLD_SCIPY, "docker.io/jupyter/scipy-notebook:2026-10"),
        image([*SCIPY, "RUN extra:1000"], "index.docker.io/jupyter/scipy-notebook:2026-12"),
    ]
    assert {name: len(ids) for name, ids in repositories(build_lineage(images, SOURCE)).items()} == {
        "jupyter/scipy-notebook": 3
    }


def test_every_image_of_a_repository_becomes_one_box() -> None:
    lineage = with_tags()
    assert {name: len(ids) for name, ids in repositories(lineage).items()} == {"jupyter/scipy-notebook": 3}
    grouped = group_repositories(lineage)
    assert len(grouped) == len(lineage) - 2
    names = by_name(grouped)
    group = grouped.node(names["jupyter/scipy-notebook:3 images"])
    assert group.image.tags[1:] == (
        "jupyter/scipy-notebook:2026-10",
        "jupyter/scipy-notebook:2026-11",
        "jupyter/scipy-notebook:2026-12",
        "jupyter/scipy-notebook:latest",
    )
    assert group.parent == names["jupyter/minimal-notebook:latest"]
    # What the three add: 29 MB, 42 MB, and 1 kB on top of the newest.
    assert group.added_size == 29_000_000 + 42_000_000 + 1000
    assert group.added_layers == 1 + 2 + 1
    assert sum(n.added_size for n in grouped.nodes()) == sum(n.added_size for n in lineage.nodes())
    assert any(not n.image.tags for n in grouped.nodes()), "untagged images are never grouped"
    assert not grouped.children(group.id), "the newest build, a child of another, is inside the box"


def test_an_expanded_repository_keeps_its_images() -> None:
    lineage = with_tags()
    assert group_repositories(lineage, expanded={"jupyter/scipy-notebook"}) is lineage


def test_repositories_built_on_each_other_make_no_cycle() -> None:
    """a:1 <- b:1 <- a:2 <- b:2: each repository's box hangs from the shallower one."""
    steps = ["RUN one:1"]
    chain = []
    for n, tag in enumerate(["a:1", "b:1", "a:2", "b:2"]):
        steps = [*steps, f"RUN step{n}:10"]
        chain.append(image(steps, tag))
    grouped = group_repositories(build_lineage(chain, SOURCE))
    names = by_name(grouped)
    assert len(grouped) == 2
    assert grouped.node(names["a:2 images"]).parent is None
    assert grouped.node(names["b:2 images"]).parent == names["a:2 images"]
    assert [depth for depth, _ in grouped.walk()] == [0, 1]


def test_families_rank_by_what_they_ship_for_nothing_each_hidden_file_once() -> None:
    from image_lineage.contents import Hidden  # noqa: PLC0415 - only this test
    from image_lineage.overview import by_hidden  # noqa: PLC0415
    from image_lineage.sources.oci.layer_tar import Entry  # noqa: PLC0415

    lineage = two_families()
    jupyter, python = families(lineage)
    web = next(n for n in lineage.nodes() if n.image.display_name == "team/web:1")
    base = lineage.node(python.root)
    leaf = next(n for n in lineage.nodes() if n.image.display_name == "jupyter/scipy-notebook:2026-11")
    # python:3.12 and team/web:1 hide the same file of their shared first layer: counted once.
    shared = Hidden(Entry("/usr/lib/big", "file", 700), 0, 1)
    hidden = {
        base.id: (shared,),
        web.id: (shared, Hidden(Entry("/app/tmp", "file", 50), 1, 2)),
        leaf.id: (Hidden(Entry("/opt/conda/x", "file", 600), 1, 2),),
    }
    ranked = by_hidden([jupyter, python], lineage, hidden)
    assert [(row.family.name, row.hidden) for row in ranked] == [
        ("python:3.12", 750),
        ("jupyter/docker-stacks-foundation:latest", 600),
    ]
    assert ranked[0].row()["Ships for nothing"] == "750 B"
    assert [row.hidden for row in by_hidden([jupyter, python], lineage, {})] == [0, 0]  # found's order kept
