"""instructions.py: ``created_by`` as Engine 20.10/26/28, BuildKit, buildah and imports record it.

The strings are real ones (tests/unit/fixtures/*/history.json, docker-20.10-api-1.41.json and
sample_images/sample-snapshot.json), a few shortened.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from image_lineage.instructions import (
    KINDS,
    METADATA_KINDS,
    parse,
    rebuild_key,
    short_content_hashes,
    without_content_hashes,
)
from image_lineage.sources.engine_api import is_metadata_instruction

SHA = "8874fcace386b0239cf90bebedf99d7d1a1ded2ee48d97492ddcc7e35acdc388"
SH = "/bin/sh -c"
BASH = "/bin/bash -o pipefail -c"


NOP = "/bin/sh -c #(nop) "
ARGS = (("NB_GID", "100"), ("NB_UID", "1000"))
PAIRS = "|2 NB_GID=100 NB_UID=1000"
FILE = f"file:{SHA}"
C, P, B = "classic", "plain", "buildkit"
# created_by -> (kind, arguments, form, shell, build arguments, builder), by what it shows.
PARSED: dict[str, tuple[str, tuple[str, str, str, str, tuple[tuple[str, str], ...], str]]] = {
    "classic-env": (f"{NOP} ENV PYTHON_VERSION=3.7.9", ("ENV", "PYTHON_VERSION=3.7.9", "", SH, (), C)),
    "classic-arg": (f"{NOP} ARG NB_UID=1000", ("ARG", "NB_UID=1000", "", SH, (), C)),
    "classic-cmd": (f'{NOP} CMD ["python" "/app.py"]', ("CMD", '["python" "/app.py"]', "exec", SH, (), C)),
    "classic-workdir": (f"{NOP}WORKDIR /home/jovyan", ("WORKDIR", "/home/jovyan", "", SH, (), C)),
    "classic-copy": (f"{NOP}COPY {FILE} in /bin/ ", ("COPY", f"{FILE} /bin/", "", SH, (), C)),
    "chown": (f"{NOP}COPY --chown=1:2{FILE} in /x/ ", ("COPY", f"--chown=1:2 {FILE} /x/", "", SH, (), C)),
    "classic-add-rootfs": (f"{NOP}ADD file:rootfs.tar in / ", ("ADD", "file:rootfs.tar /", "", SH, (), C)),
    "classic-run": ("/bin/sh -c chmod a+rx /bin/x", ("RUN", "chmod a+rx /bin/x", "shell", SH, (), C)),
    "classic-run-args": (f"{PAIRS} /bin/sh -c apt-get up", ("RUN", "apt-get up", "shell", SH, ARGS, C)),
    "classic-run-bash": (f"{BASH} pip install numpy", ("RUN", "pip install numpy", "shell", BASH, (), C)),
    "classic-nop-after-SHELL": (f"{BASH} #(nop)  ENV A=1", ("ENV", "A=1", "", BASH, (), C)),
    "classic-run-exec": ("echo hi", ("", "echo hi", "", "", (), P)),
    "classic-run-exec-args": (f"{PAIRS} echo hi", ("RUN", "echo hi", "exec", "", ARGS, C)),
    "buildkit-run": ("RUN /bin/sh -c make install # buildkit", ("RUN", "make install", "shell", SH, (), B)),
    "buildkit-run-args": (f"RUN {PAIRS} /bin/sh -c make # buildkit", ("RUN", "make", "shell", SH, ARGS, B)),
    "buildkit-run-exec": ("RUN echo hi # buildkit", ("RUN", "echo hi", "exec", "", (), B)),
    "buildkit-copy": ("COPY plugin.so /opt/ # buildkit", ("COPY", "plugin.so /opt/", "", "", (), B)),
    "buildkit-label": ("LABEL org.example.team=data", ("LABEL", "org.example.team=data", "", "", (), P)),
    "buildkit-cmd": ('CMD ["python3"]', ("CMD", '["python3"]', "exec", "", (), P)),
    "cmd-shell-form": ("CMD python3 app.py", ("CMD", "python3 app.py", "shell", "", (), P)),
    "nothing-recorded": ("", ("", "", "", "", (), "none")),
}  # fmt: skip


@pytest.mark.parametrize(("created_by", "expected"), PARSED.values(), ids=PARSED)
def test_parse(
    created_by: str, expected: tuple[str, str, str, str, tuple[tuple[str, str], ...], str]
) -> None:
    step = parse(created_by)
    assert (step.kind, step.arguments, step.form, step.shell, step.build_args, step.builder) == expected


def test_an_import_is_its_comment() -> None:
    step = parse("", "Imported from -")
    assert step.builder == "none"
    assert step.line == "# Imported from -"
    assert parse("").line == "# no instruction recorded"
    assert parse("/bin/sh -c #(nop) ").line == "# no instruction recorded"


@pytest.mark.parametrize(
    ("created_by", "line"),
    [
        ("/bin/sh -c #(nop)  ENV A=1 B=2", "ENV A=1 B=2"),
        (f"/bin/sh -c #(nop) COPY multi:{SHA} in /etc/jupyter/ ", f"COPY multi:{SHA} /etc/jupyter/"),
        (
            "|1 JUPYTERLAB_VERSION=4.3.1 /bin/sh -c fix-permissions /etc/jupyter/",
            "RUN fix-permissions /etc/jupyter/",
        ),
        ("RUN /bin/sh -c echo single > /single.txt # buildkit", "RUN echo single > /single.txt"),
        ("/bin/sh -c #(nop)  MAINTAINER someone", "MAINTAINER someone"),
        ("/bin/sh -c #(nop) FROBNICATE x", "FROBNICATE x"),  # no instruction known: as recorded
    ],
)
def test_the_dockerfile_line(created_by: str, line: str) -> None:
    assert parse(created_by).line == line


@pytest.mark.parametrize(
    ("created_by", "metadata"),
    [
        ("/bin/sh -c #(nop)  LABEL maintainer=jupyter", True),
        ("/bin/sh -c #(nop)  EXPOSE 8888", True),
        ('/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "3s" "1s" "3s" \'\\x03\'}', True),
        ("/bin/bash -o pipefail -c #(nop)  ENV A=1", True),  # after SHELL the nop runs in that shell
        ("ENV LANG=C.UTF-8", True),
        ("/bin/sh -c #(nop) WORKDIR /app", False),  # a layer, often empty
        (f"/bin/sh -c #(nop) COPY file:{SHA} in / ", False),
        ("/bin/sh -c ENV=1 make", False),  # a RUN that sets a variable
        ("RUN /bin/sh -c echo CMD # buildkit", False),
        ("", False),
    ],
)
def test_metadata_only_steps(created_by: str, metadata: bool) -> None:
    assert parse(created_by).metadata_only is metadata
    assert is_metadata_instruction(created_by) is metadata  # the engine reader asks the same parser


def test_a_rebuild_with_other_files_and_build_arg_values_is_the_same_step() -> None:
    other = SHA[::-1]
    assert rebuild_key(f"/bin/sh -c #(nop) COPY file:{SHA} in / ") == rebuild_key(
        f"/bin/sh -c #(nop) COPY file:{other} in / "
    )
    assert rebuild_key("|1 V=4.2.5 /bin/sh -c pip install x==$V") == rebuild_key(
        "|1 V=4.3.1 /bin/sh -c pip install x==$V"
    )
    assert rebuild_key("|1 V=1 /bin/sh -c make") != rebuild_key("|1 W=1 /bin/sh -c make")
    # One Dockerfile built by the classic builder and by BuildKit made different steps.
    assert rebuild_key("/bin/sh -c make") != rebuild_key("RUN /bin/sh -c make # buildkit")


def test_content_hashes_left_out_or_shortened() -> None:
    text = f"COPY --chown=1000:100 dir:{SHA} /etc/ipython/"
    assert without_content_hashes(text) == "COPY --chown=1000:100 dir:* /etc/ipython/"
    assert short_content_hashes(text) == "COPY --chown=1000:100 dir:8874… /etc/ipython/"
    assert (
        short_content_hashes(f"COPY --chown=1000:100dir:{SHA} in /x")
        == "COPY --chown=1000:100dir:8874… in /x"
    )


# --------------------------------------------------------------------------- properties

_WORDS = st.lists(st.from_regex(r"\A[a-z0-9/$.=_-]{1,8}\Z"), min_size=1, max_size=5).map(" ".join)


@settings(deadline=None)  # a busy machine must not fail a property
@given(st.sampled_from(sorted(METADATA_KINDS)), _WORDS, st.sampled_from(["classic", "plain"]))
def test_a_metadata_step_reads_back_whoever_wrote_it(kind: str, arguments: str, builder: str) -> None:
    created_by = f"/bin/sh -c #(nop)  {kind} {arguments}" if builder == "classic" else f"{kind} {arguments}"
    step = parse(created_by)
    assert (step.kind, step.arguments, step.builder) == (kind, arguments, builder)
    assert step.metadata_only
    assert step.line == f"{kind} {arguments}"


@settings(deadline=None)  # a busy machine must not fail a property
@given(_WORDS, st.lists(st.from_regex(r"\A[A-Z_]{1,6}=[a-z0-9.]{0,4}\Z"), max_size=3), st.booleans())
def test_a_run_reads_back_with_its_build_args(command: str, pairs: list[str], buildkit: bool) -> None:
    prefix = f"|{len(pairs)} {' '.join(pairs)} " if pairs else ""
    created_by = (
        f"RUN {prefix}/bin/sh -c {command} # buildkit" if buildkit else f"{prefix}/bin/sh -c {command}"
    )
    step = parse(created_by)
    assert (step.kind, step.arguments, step.form, step.shell) == ("RUN", command, "shell", SH)
    assert [f"{k}={v}" for k, v in step.build_args] == pairs
    assert step.line == f"RUN {command}"
    assert not step.metadata_only


@settings(deadline=None)  # a busy machine must not fail a property
@given(st.text(max_size=200))
def test_any_text_parses(created_by: str) -> None:
    step = parse(created_by)
    assert step.kind in KINDS or step.kind == ""
    assert step.metadata_only == (step.kind in METADATA_KINDS)
    assert isinstance(step.line, str)
