"""Name -> object registries filled by decorators (timm-style), shared by every stage.

``register = registrar(TABLE, "reader")`` gives a ``@register("name")`` class/function
decorator that refuses duplicate names; ``lookup(TABLE, name, "reader")`` fetches an entry
or raises a ``UserError`` that lists the registered names.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from synth.errors import UserError

__all__ = ["registrar", "lookup"]

T = TypeVar("T")


def registrar(table: dict[str, T], what: str) -> Callable[[str], Callable[[T], T]]:
    """A ``@register(name)`` decorator factory that adds to ``table`` (names unique)."""

    def register(name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in table:
                raise ValueError(f"{what} {name!r} is already registered ({getattr(table[name], '__name__', table[name])})")
            table[name] = obj
            return obj

        return deco

    return register


def lookup(table: dict[str, T], name: str, what: str) -> T:
    """``table[name]``, or a one-line ``UserError`` naming the known entries."""
    try:
        return table[name]
    except KeyError:
        raise UserError(f"unknown {what} {name!r}; expected one of {', '.join(sorted(table))}") from None
