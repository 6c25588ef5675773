"""Private validators for the scene configs: one-line ``UserError`` naming field, value, expectation.

Each helper returns the normalised value (YAML lists -> tuples, str -> Path) so that
``__post_init__`` of a frozen dataclass can store it with ``object.__setattr__``.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import Any

from synth.errors import UserError


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_probability(owner: str, name: str, v: Any) -> float:
    if not _is_real(v) or not 0.0 <= v <= 1.0:
        raise UserError(f"{owner}.{name} = {v!r}, expected a probability in [0, 1]")
    return float(v)


def check_number(owner: str, name: str, v: Any, lo: float | None = None, hi: float | None = None,
                 integer: bool = False) -> float | int:
    """A finite number in [lo, hi] (either bound optional)."""
    ok = _is_real(v) and (not integer or float(v).is_integer())
    if ok and ((lo is not None and v < lo) or (hi is not None and v > hi)):
        ok = False
    if not ok:
        kind = "an integer" if integer else "a number"
        raise UserError(f"{owner}.{name} = {v!r}, expected {kind} in {_bounds(lo, hi)}")
    return int(v) if integer else float(v)


def check_range(owner: str, name: str, v: Any, lo: float | None = None, hi: float | None = None,
                integer: bool = False) -> tuple:
    """A pair ``(a, b)`` with ``lo <= a <= b <= hi``; lists (from YAML) become tuples."""
    ok = isinstance(v, (tuple, list)) and len(v) == 2 and all(
        _is_real(x) and (not integer or float(x).is_integer()) for x in v)
    if ok:
        a, b = v
        ok = a <= b and (lo is None or a >= lo) and (hi is None or b <= hi)
    if not ok:
        kind = "integers" if integer else "numbers"
        raise UserError(f"{owner}.{name} = {v!r}, expected a pair (low, high) of {kind}, "
                        f"low <= high, within {_bounds(lo, hi)}")
    conv = int if integer else float
    return (conv(v[0]), conv(v[1]))


def check_folder_field(owner: str, name: str, v: Any) -> Path | None:
    """``None`` or a path (str accepted); existence is checked when the folder is listed."""
    if v is None:
        return None
    if isinstance(v, (str, Path)) and str(v):
        return Path(v)
    raise UserError(f"{owner}.{name} = {v!r}, expected a folder path or null")


def check_fields(obj: Any, spec: dict[str, tuple]) -> None:
    """Validate and normalise the fields of a frozen dataclass ``obj`` in place.

    ``spec`` maps field name -> ``(checker, *args)``; fields not in ``spec`` are left alone.
    """
    owner = type(obj).__name__
    for f in fields(obj):
        if f.name in spec:
            checker, *args = spec[f.name]
            object.__setattr__(obj, f.name, checker(owner, f.name, getattr(obj, f.name), *args))


def _bounds(lo: float | None, hi: float | None) -> str:
    return f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
