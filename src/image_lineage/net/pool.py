"""Fetch many things from a server at once: a few worker threads, stopping at the first failure.

An engine's inspects, histories and exports, a registry's tag lists, manifests and configs
are independent requests; a small pool makes a scan fast (``bench/scan.py``). Something
removed while the scan runs (``Vanished``: an engine's ``ImageGone``) is a diagnostic, not
a failure; any other failure ends the scan, and nothing more is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from image_lineage.model import Diagnostic

#: ``progress(done, total)``, as ``sources.base.Progress``.
Progress = Callable[[int, int], None]

WORKERS = 4
K = TypeVar("K")
T = TypeVar("T")


class Vanished(Exception):
    """Something listed that was removed before it was fetched: left out with a note."""


def fetch_all(
    keys: Sequence[K],
    fetch: Callable[[K], T],
    notes: list[Diagnostic],
    gone: Callable[[K], str],
    progress: Callable[[], None] | None = None,
) -> dict[K, T]:
    """``fetch(key)`` for each key on ``WORKERS`` threads; a key whose image is gone is left out.

    ``gone(key)`` names the image a vanished key was about (for its diagnostic);
    ``progress()`` is called after each key.
    """
    fetched: dict[K, T] = {}
    if not keys:
        return fetched
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - a warm scan needs no threads

    guarded = until_first_failure(fetch)
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(keys))) as pool:
        futures = {key: pool.submit(guarded, key) for key in keys}
        try:
            for key, future in futures.items():
                try:
                    fetched[key] = future.result()
                except Vanished:
                    notes.append(Diagnostic(gone(key), "image_gone", "removed while it was being scanned"))
                if progress:
                    progress()
        except BaseException:
            # Leaving the ``with`` waits for the pool: drop what is still queued.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return fetched


class Abandoned(Exception):
    """A fetch not sent because an earlier one failed (never reaches the caller, see below)."""


def until_first_failure(fetch: Callable[[K], T]) -> Callable[[K], T]:
    """``fetch``, until one call fails (other than ``Vanished``); later calls send nothing.

    A failure ends the scan, and every request still to come would go to an engine
    that is gone or stalled, each waiting up to --timeout: minutes on a big host.
    Workers take fetches in submission order, so a fetch abandoned here always comes
    after the failed one, whose error the caller meets first.
    """
    failed = threading.Event()

    def guarded(key: K) -> T:
        if failed.is_set():
            raise Abandoned(key)
        try:
            return fetch(key)
        except Vanished:
            raise
        except BaseException:
            failed.set()
            raise

    return guarded


def counter(progress: Progress | None, done: int, total: int) -> Callable[[], None] | None:
    """A ``progress()`` that counts on from ``done`` of ``total`` (None without a progress)."""
    if progress is None:
        return None
    state = [done]
    progress(done, total)

    def step() -> None:
        state[0] += 1
        progress(state[0], total)

    return step
