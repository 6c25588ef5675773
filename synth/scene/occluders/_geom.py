"""Small 2D geometry helpers for drawing occluders: curves, outlines, rotations (float64 px)."""

from __future__ import annotations

import functools
import math

import numpy as np


def rot2(angle_rad: float) -> np.ndarray:
    """(2, 2) rotation; with y pointing down a positive angle turns clockwise on screen."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, -s], [s, c]])


def unit(v: np.ndarray) -> np.ndarray:
    n = math.hypot(v[0], v[1])
    return v / n if n > 1e-9 else np.array([0.0, 1.0])


def perp(d: np.ndarray) -> np.ndarray:
    """``d`` turned by +90 degrees on screen (x right, y down): (x, y) -> (-y, x)."""
    return np.array([-d[1], d[0]])


def bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, n: int = 16) -> np.ndarray:
    """Quadratic Bezier curves: p0, p1, p2 (..., 2) -> (..., n, 2) points from p0 to p2."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    p0, p1, p2 = (np.asarray(p)[..., None, :] for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def through(p0: np.ndarray, mid: np.ndarray, p2: np.ndarray, n: int = 16) -> np.ndarray:
    """Quadratic Bezier from p0 to p2 passing through ``mid`` at t = 0.5."""
    return bezier(p0, 2.0 * mid - 0.5 * (p0 + p2), p2, n)


def superellipse(centre: np.ndarray, a: float, b: float, exponent: float, axis_u: np.ndarray,
                 n: int = 40) -> np.ndarray:
    """(n, 2) closed outline |x/a|^e + |y/b|^e = 1, x along ``axis_u``, y along its perpendicular."""
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    x = a * np.sign(c) * np.abs(c) ** (2.0 / exponent)
    y = b * np.sign(s) * np.abs(s) ** (2.0 / exponent)
    return centre + x[:, None] * axis_u + y[:, None] * perp(axis_u)


def capsule(p0: np.ndarray, p1: np.ndarray, r0: float, r1: float, n_cap: int = 7) -> np.ndarray:
    """Outline of a tapered stroke from p0 (radius r0, flat end) to p1 (radius r1, round end)."""
    d = unit(p1 - p0)
    n = perp(d)
    cos, sin = _half_circle(n_cap)
    out = np.empty((n_cap + 2, 2))
    out[0] = p0 - r0 * n
    out[1:-1] = p1 + r1 * (cos * d + sin * n)
    out[-1] = p0 + r0 * n
    return out


@functools.lru_cache(maxsize=8)
def _half_circle(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 1) cosines and sines of n angles from -90 to +90 degrees (cached constants)."""
    ang = np.linspace(-np.pi / 2, np.pi / 2, n)[:, None]
    return np.cos(ang), np.sin(ang)


def resample(poly: np.ndarray, n: int) -> np.ndarray:
    """(M, 2) open polyline -> (n, 2) points equally spaced along its length."""
    seg = np.hypot(*np.diff(poly, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(t, s, poly[:, 0]), np.interp(t, s, poly[:, 1])], -1)
