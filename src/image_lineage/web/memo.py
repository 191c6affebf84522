"""One memo for what the page computes from big objects, keyed by their identity.

A click reruns the page with the same scan (``reading.load`` shares one object) and so the
same lineages (``page.make_view`` shares one view): what is computed from them can be kept
by their identity, which costs nothing, where hashing 1,000 records each rerun would cost
what the memo saves. An object's id is unique only while it lives, so each entry holds the
objects it was computed from (no other object can take their ids meanwhile), and a hit is
checked with ``is`` on the way out all the same.

The rule: **positional arguments are keyed by identity, keyword arguments by value** (they
must be hashable). Make the by-value parameters keyword-only, so a call cannot get it wrong.
Plain Python, no Streamlit: the memo is shared by every session of the process, as
``st.cache_resource`` would be, bounded to ``max_entries`` (least recently used first out).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_ALL: list[Memo[..., object]] = []  # every memo made, for ``clear_all``
# The ids of the positional arguments, then the keyword arguments by name.
Key = tuple[tuple[int, ...], tuple[tuple[str, Hashable], ...]]


class Memo(Generic[P, R]):
    """``function`` with its results kept by the identity of its positional arguments."""

    def __init__(self, function: Callable[P, R], max_entries: int) -> None:
        self._function = function
        self._max_entries = max_entries
        self._entries: OrderedDict[Key, tuple[tuple[object, ...], R]] = OrderedDict()
        self._lock = threading.Lock()  # sessions rerun in threads of their own
        functools.update_wrapper(self, function)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        key: Key = (tuple(id(thing) for thing in args), tuple(sorted(kwargs.items())))
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and same_objects(entry[0], args):
                self._entries.move_to_end(key)
                return entry[1]
        result = self._function(*args, **kwargs)  # outside the lock: other sessions go on
        with self._lock:
            self._entries[key] = (args, result)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return result

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def by_identity(max_entries: int) -> Callable[[Callable[P, R]], Memo[P, R]]:
    """Decorate a function to keep its last ``max_entries`` results (see the module's rule)."""

    def decorate(function: Callable[P, R]) -> Memo[P, R]:
        memo = Memo(function, max_entries)
        _ALL.append(memo)  # type: ignore[arg-type]  # any memo clears alike
        return memo

    return decorate


def clear_all() -> None:
    """Forget every result kept (tests start from nothing, as with ``st.cache_resource.clear``)."""
    for memo in _ALL:
        memo.clear()


def same_objects(held: tuple[object, ...], objects: tuple[object, ...]) -> bool:
    return len(held) == len(objects) and all(a is b for a, b in zip(held, objects, strict=True))
