"""``tree`` and ``export`` remembered per containerd image list (``cli_memo.py`` over
``ContainerdList``): never a stale answer.

Each case runs the command against a real containerd (2.1 and 1.6, ``testbed/containerd.py``),
changes the containerd with ``ctr`` (a tag, an image, a namespace, a label, a blob) and runs
it again: an answer is given again only when nothing it was made from changed. A spy on
``ContainerdList.scan`` shows whether the second run read the images (a kept answer reads
nothing but the lists).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_lineage.cli import main
from image_lineage.model import Scan
from image_lineage.sources.base import Progress
from image_lineage.sources.containerd.source import ContainerdList
from testbed.containerd import ContainerdUnavailable, ThrowawayContainerd, available_builds
from testbed.oci_layout import AMD64, Image, OciLayout, full_reference, lineage_family
from tests.conftest import unavailable
from tests.unit.test_cli_memo import kept_answers

pytestmark = pytest.mark.timeout(300)

LOOKS_SECRET = "ghp_0123456789abcdefghijABCDEFGHIJ012345"  # noqa: S105 - what a GitHub token looks like


@pytest.fixture(scope="module", params=["2.1", "1.6"])
def daemon(request: pytest.FixtureRequest) -> Iterator[ThrowawayContainerd]:
    build = available_builds()[request.param]
    if build is None:
        unavailable(f"containerd {request.param} is not here (make engines; apt-get install containerd)")
    assert build is not None
    try:
        with ThrowawayContainerd(build) as started:
            yield started
    except ContainerdUnavailable as error:
        unavailable(f"containerd {request.param} did not start: {error}")


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``family``: the multi-platform family (``memo/...``); ``solo``: one more image."""
    folder = tmp_path_factory.mktemp("memo")
    solo = OciLayout()
    solo.tag("other/solo:2", solo.add_image(Image.scratch(AMD64).run("ADD solo /", {"solo": b"solo"})))
    paths = {"family": folder / "family.tar", "solo": folder / "solo.tar"}
    paths["family"].write_bytes(lineage_family(prefix="memo").tar_bytes())
    paths["solo"].write_bytes(solo.tar_bytes())
    return paths


@pytest.fixture
def namespace(daemon: ThrowawayContainerd, archives: dict[str, Path]) -> str:
    """A fresh namespace holding the family."""
    name = "m-" + secrets.token_hex(5)
    imported(daemon, name, archives["family"])
    return name


def imported(daemon: ThrowawayContainerd, namespace: str, archive: Path) -> None:
    """The archive's images in ``namespace``, and what the import left unreferenced removed.

    containerd collects that garbage (the archive's own index) on its own, a moment later:
    a content list that changes under a test makes its second run read anew, rightly. A
    lease deleted with ``--sync`` collects it now.
    """
    daemon.import_archive(namespace, archive)
    lease = daemon.ctr("-n", namespace, "leases", "create").split()[0]
    daemon.ctr("-n", namespace, "leases", "delete", "--sync", lease)


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The namespaces each scan read, one entry a scan (none for an answer given again)."""
    ran: list[str] = []
    real = ContainerdList.scan

    def spy(self: ContainerdList, progress: Progress | None = None) -> Scan:
        ran.append(",".join(self.images))
        return real(self, progress)

    monkeypatch.setattr(ContainerdList, "scan", spy)
    return ran


def shown(daemon: ThrowawayContainerd, namespace: str, *command: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    spec = f"containerd:{daemon.socket}?namespace={namespace}"
    assert main([*command, "--platform", "all", "--source", spec], out, err) == 0, err.getvalue()
    return out.getvalue()


def without_time(json_export: str) -> str:
    return json_export.split("\n", 1)[1]


def test_an_unchanged_containerd_is_answered_from_what_was_kept(
    daemon: ThrowawayContainerd, namespace: str, scans: list[str], private_cache: Path
) -> None:
    first = shown(daemon, namespace, "export", "-f", "json")
    again = shown(daemon, namespace, "export", "-f", "json")

    assert scans == [namespace]
    assert without_time(again) == without_time(first)
    assert again.split("\n", 1)[0] != first.split("\n", 1)[0]  # scanned_at: this run's
    assert kept_answers(private_cache) == 1


def test_a_retagged_or_untagged_image_is_shown_at_once(
    daemon: ThrowawayContainerd, namespace: str, scans: list[str]
) -> None:
    before = shown(daemon, namespace, "tree")
    daemon.ctr("-n", namespace, "images", "tag", full_reference("memo/base:1"), full_reference("memo/base:2"))

    retagged = shown(daemon, namespace, "tree")
    daemon.ctr("-n", namespace, "images", "rm", full_reference("memo/base:2"))
    untagged = shown(daemon, namespace, "tree")

    assert "memo/base:2" not in before
    assert "memo/base:2" in retagged
    assert untagged == before
    assert len(scans) == 3


def test_a_new_image_is_shown_at_once(
    daemon: ThrowawayContainerd, namespace: str, archives: dict[str, Path], scans: list[str]
) -> None:
    before = shown(daemon, namespace, "tree")
    imported(daemon, namespace, archives["solo"])

    after = shown(daemon, namespace, "tree")

    assert "other/solo:2" not in before
    assert "other/solo:2" in after
    assert len(scans) == 2


def test_an_image_removed_and_put_back_is_read_anew(
    daemon: ThrowawayContainerd, namespace: str, archives: dict[str, Path], scans: list[str]
) -> None:
    """The same names and targets again, yet made anew: the images' times are in the fingerprint."""
    before = shown(daemon, namespace, "tree")
    daemon.ctr("-n", namespace, "images", "rm", full_reference("memo/single:1"))
    imported(daemon, namespace, archives["family"])

    after = shown(daemon, namespace, "tree")

    assert after == before
    assert len(scans) == 2


def test_a_new_namespace_is_shown_at_once_when_every_one_is_read(
    daemon: ThrowawayContainerd, namespace: str, archives: dict[str, Path], scans: list[str]
) -> None:
    before = shown(daemon, "all", "export", "-f", "json")
    other = "m-" + secrets.token_hex(5)
    imported(daemon, other, archives["family"])  # the same images, found in one more place

    after = shown(daemon, "all", "export", "-f", "json")

    assert f"namespace={namespace}" in before
    assert f"namespace={other}" not in before
    assert f"namespace={other}" in after
    assert len(scans) == 2
    assert other in scans[1].split(",")


def test_a_label_changes_the_list_and_a_secret_in_one_keeps_no_answer(
    daemon: ThrowawayContainerd, namespace: str, scans: list[str], private_cache: Path
) -> None:
    name = full_reference("memo/app:1")
    shown(daemon, namespace, "tree")
    daemon.ctr("-n", namespace, "images", "label", name, "team=platform")
    shown(daemon, namespace, "tree")
    assert len(scans) == 2
    assert kept_answers(private_cache) == 1

    daemon.ctr("-n", namespace, "images", "label", name, f"note={LOOKS_SECRET}")
    shown(daemon, namespace, "tree")
    shown(daemon, namespace, "tree")

    assert len(scans) == 4  # read again each time
    assert kept_answers(private_cache) == 1  # the one before the secret, replaced by none
    assert LOOKS_SECRET.encode() not in (private_cache / "details-v4.sqlite3").read_bytes()


def test_a_blob_removed_from_the_content_store_is_read_anew(
    daemon: ThrowawayContainerd, namespace: str, scans: list[str]
) -> None:
    """No image changes, yet what a scan finds may: the content list is in the fingerprint."""
    shown(daemon, namespace, "tree")
    listed = set(daemon.ctr("-n", namespace, "content", "ls", "-q").split())
    targets = {line.split()[2] for line in daemon.ctr("-n", namespace, "images", "ls").splitlines()[1:]}
    daemon.ctr("-n", namespace, "content", "rm", sorted(listed - targets)[0])

    shown(daemon, namespace, "tree")

    assert len(scans) == 2


def test_an_image_removed_mid_scan_keeps_no_answer(
    daemon: ThrowawayContainerd,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    private_cache: Path,
) -> None:
    """Its manifest goes after the lists were read: that scan's output is given, never kept."""
    name = full_reference("memo/single:1")
    target = next(
        line.split()[2]
        for line in daemon.ctr("-n", namespace, "images", "ls").splitlines()
        if line.startswith(name + " ")
    )
    real = ContainerdList.scan

    def removed_first(self: ContainerdList, progress: Progress | None = None) -> Scan:
        daemon.ctr("-n", namespace, "images", "rm", name)
        daemon.ctr("-n", namespace, "content", "rm", target)
        return real(self, progress)

    monkeypatch.setattr(ContainerdList, "scan", removed_first)
    tree = shown(daemon, namespace, "tree")

    assert "memo/single:1" not in tree
    assert "memo/base:1" in tree
    assert kept_answers(private_cache) == 0
