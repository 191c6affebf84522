"""The one pipeline (merge -> platform -> lineage -> mask -> filter/focus -> collapse), as the
CLI (``main([...])``) and the app's page model (``web.build_view``) both run it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from image_lineage import pipeline, web
from image_lineage.cli import main
from image_lineage.lineage import build_lineage
from image_lineage.model import Scan
from image_lineage.sources.snapshot import dumps
from image_lineage.views import chain_links, collapse_chains, filter_names, focus
from tests.builders import AMD64, FOUNDATION, MINIMAL, SOURCE, image, jupyter_family, multi_platform_family
from tests.unit.test_views import legacy_chain

SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def secret_scan() -> Scan:
    secret = image([*MINIMAL, f"ENV GITHUB_TOKEN={SECRET}", "RUN app:10"], "team/app:1")
    return Scan(source=SOURCE, images=(*jupyter_family(), secret))


def cli(tmp_path: Path, scan: Scan, *argv: str) -> tuple[int, str, str]:
    path = tmp_path / "scan.json"
    path.write_text(dumps(scan), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--source", f"snapshot:{path}"], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_filter_and_focus_run_on_the_masked_lineage() -> None:
    options = pipeline.Options(host=AMD64, filter="app", focus="team/app:1")
    result = pipeline.run([secret_scan()], options)
    assert len(result.shown) == len(result.filtered) > 1
    for lineage in (result.filtered, result.shown):  # the very nodes the mask step made
        assert all(result.everything.node(node.id) is node for node in lineage.nodes())
    assert SECRET not in repr(result.shown.by_id)
    assert SECRET in repr(result.real.by_id)  # the lineage itself was built on the real histories


def test_a_filter_or_search_never_matches_a_masked_secret(tmp_path: Path) -> None:
    code, out, _ = cli(tmp_path, secret_scan(), "export", "--format", "json", "--filter", SECRET[:12])
    assert code == 0
    assert SECRET[:12] not in out
    code, out, _ = cli(tmp_path, secret_scan(), "tree", "--filter", "app")
    assert (code, SECRET in out) == (0, False)
    view = web.build_view(secret_scan(), web.ViewOptions(search=SECRET[:12]), AMD64)
    assert not len(view.searched)
    assert view.empty_message == f"No image name contains {SECRET[:12]!r}."


def test_collapse_comes_last_and_gives_what_collapsing_first_gave() -> None:
    scan = legacy_chain()
    real = build_lineage(scan.images, scan.source)
    first = collapse_chains(real, scan)
    result = pipeline.run([scan], pipeline.Options(host=AMD64, collapse=True, filter="one"))
    assert sorted(result.filtered.by_id) == sorted(filter_names(first, "one").by_id)
    assert sorted(result.everything.by_id) == sorted(first.by_id)
    assert {n.id: n.parent for n in result.filtered.nodes()} == {
        n.id: n.parent for n in filter_names(first, "one").nodes()
    }
    focused = pipeline.run([scan], pipeline.Options(host=AMD64, collapse=True, focus="base:1"))
    assert sorted(focused.shown.by_id) == sorted(focus(first, "base:1").by_id)


def test_collapse_keeps_the_image_asked_for(tmp_path: Path) -> None:
    """Before, ``--collapse`` ran before ``--focus``, so a chain link could not be focused on."""
    scan = legacy_chain()
    link = sorted(chain_links(build_lineage(scan.images, scan.source)))[0]
    code, out, err = cli(tmp_path, scan, "tree", "--all", "--collapse", "--focus", link[7:19])
    assert (code, err) == (0, "")
    assert link[7:19] in out
    assert "base:1" in out


def test_a_scan_without_chain_links_keeps_its_lineages() -> None:
    scan = Scan(source=SOURCE, images=tuple(jupyter_family()))
    result = pipeline.run([scan], pipeline.Options(host=AMD64, collapse=True))
    assert result.filtered is result.everything is result.shown


def test_several_scans_are_merged_first() -> None:
    one = Scan(source=SOURCE, images=tuple(jupyter_family()))
    two = Scan(source=SOURCE, images=tuple(multi_platform_family()))
    result = pipeline.run([one, two], pipeline.Options(host=AMD64, platform="all"))
    assert len(result.everything) == len({i.id for i in (*one.images, *two.images)})
    assert result.scan.source.kind == "merged"


@pytest.mark.parametrize("untagged", [True, False])
def test_the_page_model_shows_what_the_pipeline_shows(untagged: bool) -> None:
    scan = Scan(source=SOURCE, images=(*jupyter_family(), image([*FOUNDATION, "RUN x:1"])))
    view = web.build_view(scan, web.ViewOptions(show_untagged=untagged, search="notebook"), AMD64)
    result = pipeline.run([scan], pipeline.Options(host=AMD64, untagged=untagged, filter="(?i)notebook"))
    assert sorted(view.searched.by_id) == sorted(result.filtered.by_id)
