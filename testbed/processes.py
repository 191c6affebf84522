"""Starting and ending the programs the tests run in the background."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; returns once it has exited."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class BackgroundService:
    """A program the tests run in the background, in a temp dir of its own; a context manager.

    Subclasses say how to run it (``command``, ``process_env``) and when it is ready to
    serve (``ready``); ``start`` waits for that, ``stop`` ends it and removes the dir.
    Failures raise ``failure`` with the tail of the program's log.
    """

    name = "service"
    failure: type[Exception] = RuntimeError

    def __init__(self, prefix: str, *, start_timeout: float = 30.0) -> None:
        self.start_timeout = start_timeout
        self.dir = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
        self.log_path = self.dir / "service.log"
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def process_env(self) -> dict[str, str] | None:
        return None

    def ready(self) -> bool:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(),
                env=self.process_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise self.failure(f"{self.name} exited: {self.log_tail()}")
            if self.ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise self.failure(f"{self.name} did not answer within {self.start_timeout:g} s: {self.log_tail()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"
