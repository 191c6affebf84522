"""The web app on a real Docker Engine (the suite's throwaway dockerd), driven by AppTest."""

from __future__ import annotations

import json
from typing import Any

import pytest

from image_lineage import web
from tests.app.test_app import (
    dot,
    drawn_trees,  # noqa: F401 - autouse: records the trees drawn
    metric,
    names_in,
    ok,
    pick,
    start,
    texts,
)
from tests.integration.test_docker_engine import legacy_family

pytestmark = pytest.mark.docker


@pytest.fixture(autouse=True)
def clean_streamlit_caches() -> Any:
    import streamlit as st  # noqa: PLC0415

    st.cache_data.clear()
    yield
    st.cache_data.clear()


def test_the_app_shows_and_inspects_a_real_engine(dockerd: Any) -> None:
    legacy_family(dockerd, "webapp")
    at = start("docker")
    at.text_input(key="endpoint").input(dockerd.host).run()
    ok(at)
    assert not at.error
    shown = dockerd.image_ids()
    assert metric(at, "Images shown") == str(len(set(shown)))
    assert {"webapp/root:1", "webapp/app:1", "webapp/labelled:1", "webapp/leaf:1"} <= names_in(dot(at))
    assert dockerd.host in texts(at)

    pick(at, "webapp/leaf:1")
    ok(at)
    steps = at.dataframe[0].value
    assert steps["Made by"].iloc[-1] == "this image"
    assert "webapp/labelled:1" in set(steps["Made by"])  # the LABEL-only parent made its LABEL step
    at.toggle(key="focus").set_value(True).run()
    ok(at)
    assert names_in(dot(at)) == {"webapp/root:1", "webapp/app:1", "webapp/labelled:1", "webapp/leaf:1"}

    at.toggle(key="show_intermediate").set_value(True).run()
    at.toggle(key="collapse").set_value(False).run()
    ok(at)
    at.toggle(key="focus").set_value(False).run()
    assert int(metric(at, "Images shown")) == len(set(dockerd.image_ids(all=True)))

    for item in web.EXPORTS:
        at.download_button(key=f"download_{item.fmt}").click().run()
        ok(at)


def test_the_app_json_download_matches_the_cli(dockerd: Any) -> None:
    legacy_family(dockerd, "webjson")
    loaded = web.read_source(f"docker:{dockerd.host}")
    assert loaded.scan is not None
    document = json.loads(web.export(web.make_view(loaded.scan, web.ViewOptions()), "json"))
    leaf = next(i for i in document["images"] if "webjson/leaf:1" in i["tags"])
    parent = next(i for i in document["images"] if i["id"] == leaf["parent"])
    assert parent["tags"] == ["webjson/labelled:1"]
