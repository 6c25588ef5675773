"""Private helpers of ``synth.geometry``: shape checks and numpy/torch dispatch.

torch is never imported here: a value can only be a ``torch.Tensor`` if the caller has
already imported torch, so ``sys.modules`` tells us everything we need.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def is_torch(x: Any) -> bool:
    """True if ``x`` is a ``torch.Tensor`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def stack_last(xs: list[Any]) -> Any:
    """Stack same-shaped numpy arrays or torch tensors along a new last axis."""
    if is_torch(xs[0]):
        import torch

        return torch.stack(xs, dim=-1)
    return np.stack(xs, axis=-1)


def check_trailing(x: Any, trailing: tuple[int | str, ...], name: str) -> None:
    """Raise ValueError unless ``x.shape`` ends with ``trailing``.

    An ``int`` entry must match exactly; a ``str`` entry (e.g. ``"N"``) matches any size.
    """
    shape = tuple(getattr(x, "shape", ()))
    n = len(trailing)
    ok = len(shape) >= n and all(
        isinstance(e, str) or s == e for s, e in zip(shape[len(shape) - n :], trailing)
    )
    if not ok:
        expected = ", ".join(["*", *(str(e) for e in trailing)])
        raise ValueError(f"{name}: expected shape ({expected}), got {shape}")


def as_float_array(x: Any, name: str) -> np.ndarray:
    """``np.asarray(x, float64)`` with an error that names the argument."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: expected a real number or array of them, got {type(x).__name__} ({e})") from None


def as_array(x: Any) -> Any:
    """Torch tensors unchanged; anything else through ``np.asarray`` (lists, scalars, arrays)."""
    return x if is_torch(x) else np.asarray(x)
