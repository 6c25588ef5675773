"""Signed-distance primitives, smooth CSG and ray casting used to sculpt the default head.

Symbols: N points. Every function takes ``p``: (N, 3) float64 points in mm (model frame) and
returns (N,) float64 signed distances in mm, negative inside. The ellipsoid and the smooth
operators give bounds rather than exact distances, so the ray caster steps conservatively.

Smooth operators follow the polynomial smooth minimum of Inigo Quilez ("smooth minimum",
iquilezles.org/articles/smin): ``smin(a, b, k)`` equals ``min(a, b)`` where ``|a - b| > k``
and blends over a band of width ``k`` (mm) otherwise.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = [
    "SDF", "ellipsoid", "sphere", "round_cone", "capsule", "smin", "smax",
    "smooth_union", "smooth_subtract", "ray_cast", "ray_exit",
]

SDF = Callable[[np.ndarray], np.ndarray]


def sphere(p: np.ndarray, c, r: float) -> np.ndarray:
    """Exact distance to a sphere of radius ``r`` (mm) centred at ``c`` (3,)."""
    return np.linalg.norm(p - np.asarray(c, dtype=np.float64), axis=-1) - r


def ellipsoid(p: np.ndarray, c, r) -> np.ndarray:
    """Approximate distance to an axis-aligned ellipsoid with centre ``c`` and semi-axes ``r``.

    Uses ``k0 (k0 - 1) / k1`` with ``k0 = |q / r|`` and ``k1 = |q / r^2|`` (exact on the
    surface, a good bound near it).
    """
    q = p - np.asarray(c, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    k0 = np.linalg.norm(q / r, axis=-1)
    k1 = np.linalg.norm(q / (r * r), axis=-1)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-9)


def round_cone(p: np.ndarray, a, b, ra: float, rb: float) -> np.ndarray:
    """Distance to the convex hull of sphere(a, ra) and sphere(b, rb) (a tapered capsule).

    Exact for ``|ra - rb| < |b - a|`` (iq's ``sdRoundCone``).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ba = b - a
    l2 = float(ba @ ba)
    rr = ra - rb
    a2 = l2 - rr * rr
    il2 = 1.0 / l2
    pa = p - a
    y = pa @ ba
    z = y - l2
    xv = pa * l2 - np.outer(y, ba)
    x2 = np.einsum("ij,ij->i", xv, xv)
    y2 = y * y * l2
    z2 = z * z * l2
    k = np.sign(rr) * rr * rr * x2
    out = (np.sqrt(x2 * a2 * il2) + y * rr) * il2 - ra
    cap_b = np.sign(z) * a2 * z2 > k
    cap_a = np.sign(y) * a2 * y2 < k
    out = np.where(cap_b, np.sqrt(x2 + z2) * il2 - rb, out)
    out = np.where(cap_a & ~cap_b, np.sqrt(x2 + y2) * il2 - ra, out)
    return out


def capsule(p: np.ndarray, a, b, r: float) -> np.ndarray:
    """Exact distance to the segment ``a``-``b`` swept by a ball of radius ``r``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ba = b - a
    h = np.clip(((p - a) @ ba) / float(ba @ ba), 0.0, 1.0)
    return np.linalg.norm(p - a - h[:, None] * ba, axis=-1) - r


def smin(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth minimum with blend width ``k`` (mm); ``k <= 0`` is the plain min."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.maximum(k - np.abs(a - b), 0.0) / k
    return np.minimum(a, b) - h * h * k * 0.25


def smax(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth maximum (``-smin(-a, -b, k)``)."""
    return -smin(-a, -b, k)


def smooth_union(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Union of two solids given by their distances, blended over ``k`` mm."""
    return smin(a, b, k)


def smooth_subtract(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Solid ``a`` minus solid ``b``, blended over ``k`` mm."""
    return smax(a, -b, k)


def ray_cast(sdf: SDF, origins: np.ndarray, dirs: np.ndarray, t_far: float = 340.0,
             step_scale: float = 0.7, max_iter: int = 2000, tol: float = 1e-3,
             min_step: float = 0.05) -> np.ndarray:
    """Distance along each ray to the *first* surface crossing seen from ``t_far`` inward.

    Rays run from ``origins + t_far * dirs`` back toward ``origins`` (i.e. the outermost
    surface along each half-line is found, which is what a star-shaped chart needs).
    Sphere tracing with ``step_scale`` (the distances are bounds, not exact) and steps of at
    least ``min_step`` mm, then bisection between the last outside and first inside samples.

    Args:
        sdf: distance function, (N, 3) -> (N,), negative inside.
        origins: (N, 3) or (3,) ray origins, mm.
        dirs: (N, 3) unit directions pointing from the origin outward.

    Returns:
        (N,) float64 parameter ``t`` (mm) with ``origins + t * dirs`` on the surface; NaN where
        the ray reaches its origin without entering the solid.
    """
    dirs = np.asarray(dirs, dtype=np.float64)
    n = dirs.shape[0]
    org = np.broadcast_to(np.asarray(origins, dtype=np.float64), (n, 3))
    t = np.full(n, t_far)
    t_out = t.copy()
    active = np.ones(n, dtype=bool)
    inside = np.zeros(n, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        d = sdf(org[idx] + t[idx, None] * dirs[idx])
        hit = d < tol
        inside[idx[hit]] = True
        active[idx[hit]] = False
        go = idx[~hit]
        t_out[go] = t[go]
        t[go] -= np.maximum(d[~hit] * step_scale, min_step)
        dead = go[t[go] <= 0.0]
        active[dead] = False
    # Bisection refinement between the last outside point and the first inside point.
    idx = np.flatnonzero(inside)
    lo, hi = t[idx].copy(), t_out[idx].copy()  # lo inside (or on), hi outside
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        d = sdf(org[idx] + mid[:, None] * dirs[idx])
        ins = d < 0.0
        lo = np.where(ins, mid, lo)
        hi = np.where(ins, hi, mid)
    out = np.full(n, np.nan)
    out[idx] = 0.5 * (lo + hi)
    return out


def ray_exit(sdf: SDF, origins: np.ndarray, dirs: np.ndarray, t_max: float = 80.0,
             step_scale: float = 0.7, min_step: float = 0.05, max_iter: int = 2000) -> np.ndarray:
    """Distance along each ray from an *inside* origin to the first exit from the solid.

    Args:
        origins: (N, 3) or (3,) points inside the solid (mm). dirs: (N, 3) unit directions.

    Returns:
        (N,) float64 ``t`` (mm) of the first crossing; NaN where none occurs before ``t_max``.
    """
    dirs = np.asarray(dirs, dtype=np.float64)
    n = dirs.shape[0]
    org = np.broadcast_to(np.asarray(origins, dtype=np.float64), (n, 3))
    t = np.zeros(n)
    t_in = t.copy()
    active = np.ones(n, dtype=bool)
    out = np.zeros(n, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        d = sdf(org[idx] + t[idx, None] * dirs[idx])
        ex = d > 0.0
        out[idx[ex]] = True
        active[idx[ex]] = False
        go = idx[~ex]
        t_in[go] = t[go]
        t[go] += np.maximum(-d[~ex] * step_scale, min_step)
        active[go[t[go] > t_max]] = False
    idx = np.flatnonzero(out)
    lo, hi = t_in[idx].copy(), t[idx].copy()  # lo inside, hi outside
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        ins = sdf(org[idx] + mid[:, None] * dirs[idx]) < 0.0
        lo = np.where(ins, mid, lo)
        hi = np.where(ins, hi, mid)
    res = np.full(n, np.nan)
    res[idx] = 0.5 * (lo + hi)
    return res
