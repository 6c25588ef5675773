"""Smooth scalar windows and displacement helpers for the shape and expression modes.

Symbols: N points; points are (N, 3) float64 mm in the model frame; windows return (N,)
values in [0, 1]; displacements are (N, 3) mm.
"""

from __future__ import annotations

import numpy as np

__all__ = ["smoothstep", "gauss", "rotation_delta", "side_weight", "axis_rotation"]


def smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 below ``lo``, 1 above ``hi``, C1 cubic in between (``lo > hi`` gives the reverse)."""
    t = np.clip((np.asarray(x, dtype=np.float64) - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def gauss(p: np.ndarray, centre, sigma) -> np.ndarray:
    """Anisotropic Gaussian window exp(-sum(((p - centre) / sigma)^2)), (N,)."""
    d = (np.asarray(p, dtype=np.float64) - np.asarray(centre, dtype=np.float64)) / np.asarray(sigma, dtype=np.float64)
    return np.exp(-np.sum(d * d, axis=-1))


def side_weight(x: np.ndarray, width: float = 8.0) -> np.ndarray:
    """Share of a bilateral motion on the subject's left: 1 for x > width, 0 for x < -width."""
    return smoothstep(x, -width, width)


def axis_rotation(axis, angle: float) -> np.ndarray:
    """(3, 3) rotation matrix about unit ``axis`` by ``angle`` rad (right-hand rule)."""
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def rotation_delta(p: np.ndarray, pivot, axis, angle: float) -> np.ndarray:
    """Displacement (N, 3) that rotates ``p`` about the line (``pivot``, ``axis``) by ``angle``."""
    r = axis_rotation(axis, angle)
    q = np.asarray(p, dtype=np.float64) - np.asarray(pivot, dtype=np.float64)
    return q @ r.T - q
