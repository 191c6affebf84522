"""Keeping what is computed from big objects by their identity (a cache key that costs nothing)."""

from __future__ import annotations


def ids_of(objects: tuple[object, ...]) -> tuple[int, ...]:
    """A cache key for objects too big to hash each rerun: their ids. An entry keyed by them
    must hold the objects themselves (so no other object can take an id while it lives), and
    ``same_objects`` checks them on the way out."""
    return tuple(id(thing) for thing in objects)


def same_objects(held: tuple[object, ...], objects: tuple[object, ...]) -> bool:
    return len(held) == len(objects) and all(a is b for a, b in zip(held, objects, strict=True))
