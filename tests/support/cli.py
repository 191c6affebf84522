"""Run ``image_lineage.cli.main`` in-process with a hang guard, or as another user.

No pytest import. A run that does not return within ``timeout`` seconds raises
``AssertionError`` (a hang is a bug); an exception escaping ``main`` is re-raised
with its traceback (an expected failure must be a ``LineageError``).
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass

from image_lineage.cli import PROG, main

#: What every expected failure starts with on stderr.
ERROR_PREFIX = f"{PROG}: error: "
#: Generous: a run that takes longer is hung, not slow.
HANG_GUARD_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def one_line_error(self) -> str:
        """The error message, asserting the run failed the way expected failures must.

        Exit status 1, nothing on stdout, exactly one line on stderr starting with
        ``image-lineage: error: ``, and no traceback.
        """
        assert self.code == 1, f"exit status {self.code}, stderr: {self.stderr!r}"
        assert self.stdout == "", f"stdout should be empty: {self.stdout[:500]!r}"
        lines = self.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {self.stderr!r}"
        assert lines[0].startswith(ERROR_PREFIX), lines[0]
        assert "Traceback" not in self.stderr
        return lines[0].removeprefix(ERROR_PREFIX)


def run_cli(argv: Sequence[str], *, timeout: float = HANG_GUARD_SECONDS) -> CliResult:
    """``main(argv)`` on a daemon thread, with stdout/stderr captured in memory."""
    out, err = io.StringIO(), io.StringIO()
    outcome: list[int | BaseException] = []

    def target() -> None:
        try:
            outcome.append(main(list(argv), stdout=out, stderr=err))
        except BaseException as error:  # handed to the caller below
            outcome.append(error)

    thread = threading.Thread(target=target, name="cli-under-test", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"image-lineage {' '.join(argv)} did not return within {timeout:g} s (hang)")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return CliResult(result, out.getvalue(), err.getvalue())


def run_cli_as(uid: int, gid: int, argv: Sequence[str], *, timeout: float = HANG_GUARD_SECONDS) -> CliResult:
    """``main(argv)`` in a forked child that has dropped root for ``uid``/``gid``.

    A fork, not a new interpreter: the test's Python may live where that user cannot
    read (``/root/.pyenv``). The child reports through a pipe and leaves with
    ``os._exit``, so no atexit hook of the test process (such as the harness stopping
    its daemons) ever runs in it. Everything ``main`` needs must be imported already.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            out, err = io.StringIO(), io.StringIO()
            try:
                code = main(list(argv), stdout=out, stderr=err)
            except BaseException:  # reported to the parent as a traceback
                code = 99
                err.write(traceback.format_exc())
            report = {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        data = _read_all(read_fd, time.monotonic() + timeout)
    finally:
        os.close(read_fd)
    if data is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError(f"image-lineage {' '.join(argv)} as uid {uid}: no answer within {timeout:g} s")
    os.waitpid(pid, 0)
    report = json.loads(data)
    return CliResult(report["code"], report["stdout"], report["stderr"])


def _read_all(fd: int, deadline: float) -> bytes | None:
    """Everything until EOF on ``fd``, or None if the deadline passes first."""
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
