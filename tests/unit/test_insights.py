"""insights.py on literal records: disk sharing, steps, size split, Dockerfile, rebuilt bases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from image_lineage.insights import (
    disk_usage,
    dockerfile,
    instruction,
    layer_rows,
    newer_build,
    size_split,
)
from image_lineage.lineage import Lineage, build_lineage
from image_lineage.model import HistoryEntry, Image
from image_lineage.views import resolve
from tests.builders import BASE, FOUNDATION, MINIMAL, SCIPY, SOURCE, digest, image, jupyter_family, rebuilt

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def lineage_of(*images: Image) -> Lineage:
    return build_lineage(images, SOURCE)


def family() -> Lineage:
    return lineage_of(*jupyter_family())


# --------------------------------------------------------------------------- disk usage


def test_disk_usage_counts_each_shared_layer_once() -> None:
    lineage = family()
    usage = disk_usage(lineage)
    sizes = {n.image.tags[0]: n.image.size for n in lineage.nodes()}
    assert usage.images == 5
    assert usage.naive == sum(sizes.values())
    # Every layer of the family once: the foundation, then what each image adds.
    assert usage.shared == 5_300_000 + 20_000_000 + 8_000_000 + 42_000_000 + 25_000_000
    assert usage.saved == usage.naive - usage.shared
    assert usage.exact


def test_disk_usage_of_an_empty_lineage() -> None:
    usage = disk_usage(lineage_of())
    assert (usage.images, usage.naive, usage.shared, usage.saved) == (0, 0, 0, 0)


def test_same_layer_on_different_bases_is_stored_twice() -> None:
    # The engine keys layers by chain: an equal diff_id on another base is another layer.
    one = image(["RUN root-a:100", "RUN same-step:1000"], "a:1")
    two = image(["RUN root-b:200", "RUN same-step:1000"], "b:1")
    assert one.layers[1] == two.layers[1]
    assert disk_usage(lineage_of(one, two)).shared == 100 + 200 + 1000 + 1000


def test_images_without_history_give_an_estimate() -> None:
    base = image(FOUNDATION, "base:1")
    child = replace(image(BASE, "child:1"), history=None)
    usage = disk_usage(lineage_of(base, child))
    assert not usage.exact
    assert usage.shared == child.size  # the base's layers plus what the child's size leaves over


# --------------------------------------------------------------------------- one image


def test_layer_rows_are_oldest_first_with_who_made_each() -> None:
    lineage = family()
    scipy = resolve(lineage, "jupyter/scipy-notebook")
    rows = layer_rows(lineage, scipy)
    assert [r.number for r in rows] == list(range(1, len(SCIPY) + 1))
    assert [r.instruction for r in rows[:3]] == ["RUN import-rootfs", "ENV LANG=C.UTF-8", "RUN install-tini"]
    assert [r.introduced_by_name for r in rows] == [
        *["jupyter/docker-stacks-foundation:latest"] * 3,
        *["jupyter/base-notebook:latest"] * 2,
        "jupyter/minimal-notebook:latest",
        *["jupyter/scipy-notebook:2026-11"] * 2,
    ]
    metadata = [r for r in rows if not r.layer]
    assert [r.instruction for r in metadata] == ["ENV LANG=C.UTF-8", "LABEL maintainer=jupyter"]
    assert all(r.size == 0 and r.diff_id is None for r in metadata)
    assert sum(r.size for r in rows) == lineage.node(scipy).image.size


def test_size_split_runs_from_the_base_to_the_image() -> None:
    lineage = family()
    scipy = resolve(lineage, "jupyter/scipy-notebook")
    split = size_split(lineage, scipy)
    assert [(s.name, s.role) for s in split] == [
        ("jupyter/docker-stacks-foundation:latest", "base"),
        ("jupyter/base-notebook:latest", "ancestor"),
        ("jupyter/minimal-notebook:latest", "ancestor"),
        ("jupyter/scipy-notebook:2026-11", "itself"),
    ]
    assert [s.size for s in split] == [5_300_000, 20_000_000, 8_000_000, 42_000_000]
    assert sum(s.size for s in split) == lineage.node(scipy).image.size


def test_size_split_of_a_root_is_the_root_alone() -> None:
    lineage = family()
    root = resolve(lineage, "jupyter/docker-stacks-foundation")
    assert [(s.role, s.size) for s in size_split(lineage, root)] == [("itself", 5_300_000)]


# --------------------------------------------------------------------------- Dockerfile


@pytest.mark.parametrize(
    ("created_by", "expected"),
    [
        pytest.param("/bin/sh -c #(nop)  ENV A=1 B=2", "ENV A=1 B=2", id="legacy-metadata"),
        pytest.param(
            '/bin/sh -c #(nop) CMD ["python3" "app.py"]', 'CMD ["python3" "app.py"]', id="legacy-cmd"
        ),
        pytest.param(
            "/bin/sh -c apt-get update && apt-get install -y x",
            "RUN apt-get update && apt-get install -y x",
            id="legacy-run",
        ),
        pytest.param(
            "/bin/sh -c #(nop) COPY file:0123abcd in /usr/local/bin/ ",
            "COPY file:0123abcd /usr/local/bin/",
            id="legacy-copy",
        ),
        pytest.param("|2 A=1 B=x /bin/sh -c make install", "RUN make install", id="legacy-build-args"),
        pytest.param("/bin/bash -o pipefail -c pip install numpy", "RUN pip install numpy", id="other-shell"),
        pytest.param(
            "RUN /bin/sh -c pip install flask # buildkit", "RUN pip install flask", id="buildkit-run"
        ),
        pytest.param("RUN |1 PORT=80 /bin/sh -c echo $PORT # buildkit", "RUN echo $PORT", id="buildkit-args"),
        pytest.param("COPY app.py /app/ # buildkit", "COPY app.py /app/", id="buildkit-copy"),
        pytest.param("ENV LANG=C.UTF-8", "ENV LANG=C.UTF-8", id="buildkit-env"),
        pytest.param("|1 A=1 echo hi", "RUN echo hi", id="legacy-exec-form-with-build-args"),
        pytest.param("", "# no instruction recorded", id="empty"),
        pytest.param(
            "/bin/sh -c echo '\x1b[31mred\u202e'", "RUN echo '\ufffd[31mred\ufffd'", id="control-chars"
        ),
    ],
)
def test_instruction(created_by: str, expected: str) -> None:
    assert instruction(created_by) == expected


def test_instruction_of_an_imported_layer_is_its_comment() -> None:
    assert instruction("", "Imported from -") == "# Imported from -"


def test_dockerfile_has_from_parent_then_own_steps() -> None:
    lineage = family()
    text = dockerfile(lineage, resolve(lineage, "jupyter/minimal-notebook"))
    lines = text.splitlines()
    assert lines[0].startswith("# Reconstructed from the history of jupyter/minimal-notebook:latest")
    assert lines[1:] == ["FROM jupyter/base-notebook:latest", "RUN apt-get-tools"]


def test_the_inspector_builds_no_networkx_graph() -> None:
    # ``graph`` is built on first use and costs a fifth of a warm scan: a membership test
    # (``image_id in lineage``) must not build it.
    lineage = family()
    for node in lineage.nodes():
        dockerfile(lineage, node.id)
    assert "graph" not in vars(lineage)


def test_dockerfile_of_a_root_starts_from_scratch() -> None:
    lineage = family()
    lines = dockerfile(lineage, resolve(lineage, "jupyter/docker-stacks-foundation")).splitlines()
    assert lines[1:] == ["FROM scratch", "RUN import-rootfs", "ENV LANG=C.UTF-8", "RUN install-tini"]


def test_dockerfile_names_an_untagged_parent_by_id() -> None:
    base = image(BASE)
    child = image([*BASE, "RUN app:10"], "app:1")
    lineage = lineage_of(base, child)
    lines = dockerfile(lineage, child.id).splitlines()
    assert lines[1] == "# The parent image has no tag: FROM names it by id."
    assert lines[2] == f"FROM {base.id.removeprefix('sha256:')}"


def test_dockerfile_of_a_metadata_only_child() -> None:
    lineage = lineage_of(image(BASE, "base:1"), image([*BASE, "LABEL course=101"], "labelled:1"))
    assert dockerfile(lineage, resolve(lineage, "labelled:1")).splitlines()[1:] == [
        "FROM base:1",
        "LABEL course=101",
    ]


# --------------------------------------------------------------------------- rebuilt bases


def stale_family() -> tuple[Lineage, Image, Image, Image]:
    """base-notebook rebuilt from its own first step on; minimal still on the old one (untagged)."""
    old_base = image(BASE)
    new_base = rebuilt(old_base, "jupyter/base-notebook:latest", from_step=len(FOUNDATION))
    minimal = image(MINIMAL, "jupyter/minimal-notebook:latest")
    lineage = lineage_of(
        image(FOUNDATION, "jupyter/docker-stacks-foundation:latest"), old_base, new_base, minimal
    )
    return lineage, old_base, new_base, minimal


def test_an_image_on_a_rebuilt_base_is_told_so() -> None:
    lineage, old_base, new_base, minimal = stale_family()
    found = newer_build(lineage, minimal.id)
    assert found is not None
    assert (found.newer, found.older, found.itself) == (new_base.id, old_base.id, False)
    assert (found.shared_layers, found.newer_layers) == (2, 3)
    assert found.message.startswith(
        f"Built on an older jupyter/base-notebook ({old_base.display_name}): today's "
        "jupyter/base-notebook:latest (built 2026-01-31) shares only 2 of its 3 layers with it."
    )


def test_the_old_base_itself_has_a_newer_build() -> None:
    lineage, old_base, new_base, _ = stale_family()
    found = newer_build(lineage, old_base.id)
    assert found is not None
    assert (found.newer, found.itself) == (new_base.id, True)
    assert found.message.startswith("Rebuilt since: jupyter/base-notebook:latest")


def test_the_old_base_need_not_be_shown() -> None:
    lineage, old_base, new_base, minimal = stale_family()
    without_old = lineage_of(*(n.image for n in lineage.nodes() if n.id != old_base.id))
    found = newer_build(without_old, minimal.id)
    assert found is not None
    assert (found.newer, found.older) == (new_base.id, None)
    assert "older jupyter/base-notebook:" in found.message


def test_an_image_on_todays_base_is_not_stale() -> None:
    lineage, _, new_base, _ = stale_family()
    # The older build is not "newer" for the current one, nor for anything built on it.
    assert newer_build(lineage, new_base.id) is None
    assert newer_build(lineage, resolve(lineage, "jupyter/docker-stacks-foundation")) is None


def test_siblings_and_ancestors_are_not_rebuilds() -> None:
    lineage = family()
    assert all(newer_build(lineage, n.id) is None for n in lineage.nodes())


def test_no_history_no_verdict() -> None:
    lineage, *_ = stale_family()
    images = [replace(n.image, history=None) for n in lineage.nodes()]
    relaxed = lineage_of(*images)
    assert all(newer_build(relaxed, n.id) is None for n in relaxed.nodes())


def test_the_nearest_rebuilt_ancestor_wins() -> None:
    foundation = image(FOUNDATION, "foundation:1")
    old_base = image(BASE)
    old_minimal = image(MINIMAL)
    scipy = image(SCIPY, "scipy:1")
    new_base = rebuilt(old_base, "base:1", from_step=len(FOUNDATION))
    new_minimal = rebuilt(old_minimal, "minimal:1", from_step=len(BASE))
    lineage = lineage_of(foundation, old_base, old_minimal, scipy, new_base, new_minimal)
    found = newer_build(lineage, scipy.id)
    assert found is not None
    assert (found.newer, found.older, found.shared_layers) == (new_minimal.id, old_minimal.id, 3)


def test_a_rebuild_with_another_build_arg_or_file_is_a_rebuild() -> None:
    def run(args: str, copied: str, seconds: int) -> tuple[HistoryEntry, HistoryEntry]:
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
        return (
            HistoryEntry(moment, f"|1 VERSION={args} /bin/sh -c install", "", 100, False),
            HistoryEntry(moment, f"/bin/sh -c #(nop) COPY file:{copied * 64} in /app ", "", 10, False),
        )

    root = image(FOUNDATION, "root:1")

    def build(name: str, tags: tuple[str, ...], args: str, copied: str, seconds: int) -> Image:
        layers = (*root.layers, digest(f"{name}1"), digest(f"{name}2"))
        history = (*(root.history or ()), *run(args, copied, seconds))
        return replace(root, id=digest(name), tags=tags, layers=layers, history=history)

    old = build("old", (), "4.2.5", "a", 10)
    new = build("new", ("app:latest",), "4.3.1", "b", 20)
    found = newer_build(lineage_of(root, old, new), old.id)
    assert found is not None
    assert (found.newer, found.itself, found.shared_layers) == (new.id, True, len(root.layers))


def test_same_second_steps_are_ordered_by_the_images_times() -> None:
    old_base = image(BASE)
    same_second = rebuilt(old_base, "base:1", from_step=len(FOUNDATION), later=timedelta(0))
    later_image = replace(same_second, created=(old_base.created or EPOCH) + timedelta(milliseconds=300))
    assert newer_build(lineage_of(old_base, later_image), old_base.id) is not None
    assert newer_build(lineage_of(old_base, same_second), old_base.id) is None
    assert newer_build(lineage_of(old_base, later_image), later_image.id) is None


# --------------------------------------------------------------------------- buildable lines


@pytest.mark.parametrize(
    ("recorded", "dockerfile_line"),
    [
        pytest.param(
            "LABEL maintainer=Jupyter Project <jupyter@googlegroups.com>",
            'LABEL maintainer="Jupyter Project <jupyter@googlegroups.com>"',
            id="label-with-spaces",
        ),
        pytest.param("LABEL a=1 b.c=two", "LABEL a=1 b.c=two", id="plain-labels-stay"),
        pytest.param(
            'ENV A=x B=say "hi" $HOME', 'ENV A=x B="say \\"hi\\" \\$HOME"', id="env-quotes-and-dollar"
        ),
        pytest.param("ENV EMPTY=", 'ENV EMPTY=""', id="env-empty"),
        pytest.param("ARG NOTE=two words", 'ARG NOTE="two words"', id="arg"),
        pytest.param("ARG BARE", "ARG BARE", id="arg-without-default"),
        pytest.param('CMD ["python" "/app/app.py"]', 'CMD ["python", "/app/app.py"]', id="cmd-go-list"),
        pytest.param(
            'ENTRYPOINT ["tini" "-g" "--" "start.sh"]',
            'ENTRYPOINT ["tini", "-g", "--", "start.sh"]',
            id="entrypoint",
        ),
        pytest.param(
            'HEALTHCHECK &{["CMD-SHELL" "/bin/check || exit 1"] "3s" "1s" "3s" \'\\x03\'}',
            "HEALTHCHECK --interval=3s --timeout=1s --start-period=3s --retries=3 CMD /bin/check || exit 1",
            id="healthcheck-shell",
        ),
        pytest.param(
            'HEALTHCHECK &{["CMD" "curl" "-f" "http://localhost/"] "0s" "0s" "0s" \'\\x00\'}',
            'HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]',
            id="healthcheck-exec-defaults",
        ),
        pytest.param('HEALTHCHECK &{["NONE"] "0s" "0s" "0s" \'\\x00\'}', "HEALTHCHECK NONE", id="no-check"),
        pytest.param("EXPOSE map[8080/tcp:{}]", "EXPOSE 8080/tcp", id="expose-go-map"),
        pytest.param("EXPOSE 8888", "EXPOSE 8888", id="expose"),
        pytest.param(
            "SHELL [/bin/sh -o pipefail -c]", 'SHELL ["/bin/sh", "-o", "pipefail", "-c"]', id="shell"
        ),
        pytest.param("VOLUME [/data /logs]", 'VOLUME ["/data", "/logs"]', id="volume"),
        pytest.param("RUN echo $HOME > /x", "RUN echo $HOME > /x", id="run-as-is"),
    ],
)
def test_dockerfile_lines_build_the_recorded_step(recorded: str, dockerfile_line: str) -> None:
    from image_lineage.insights import buildable  # noqa: PLC0415

    assert buildable(recorded) == dockerfile_line


def test_copy_with_chown_is_split_from_its_source() -> None:
    sha = "ab" * 32
    recorded = f"/bin/sh -c #(nop) COPY --chown=1000:100dir:{sha} in /etc/ipython/ "
    assert instruction(recorded) == f"COPY --chown=1000:100 dir:{sha} /etc/ipython/"


def test_dockerfile_names_build_arguments_that_differ_from_the_default() -> None:
    base = image(FOUNDATION, "base:1")
    steps = [
        "/bin/sh -c #(nop)  ARG VERSION=2",
        "|1 VERSION=1 /bin/sh -c echo $VERSION",
    ]
    child = replace(
        image([*FOUNDATION, "ARG VERSION=2", "RUN echo:10"], "child:1"),
        history=(base.history or ())
        + tuple(
            HistoryEntry(
                created=EPOCH, created_by=t, comment="", size=0 if "ARG" in t else 10, empty_layer="ARG" in t
            )
            for t in steps
        ),
    )
    text = dockerfile(lineage_of(base, child), child.id)
    assert "# Built with --build-arg VERSION=1 (its RUN steps say so)." in text.splitlines()
    assert text.splitlines()[-2:] == ["ARG VERSION=2", "RUN echo $VERSION"]
