"""Vertex sampling and triangulation of the skin over the sphere of directions.

The skin outside the eye and mouth patches is a star-shaped surface seen from the origin:
a unit direction ``u`` maps to the skin point ``t(u) u`` (``synth.headgen.sdf.ray_cast``).
Vertices are chosen by a greedy variable-radius Poisson-disc pass *in 3D* (so spacing is
even on the skin, not on the sphere), constrained to be mirror-symmetric; the triangles are
the convex hull of their directions (the spherical Delaunay triangulation). Given closed
loops of directions (the rims of the patches) are kept as vertices and the triangles inside
them are removed, leaving holes the patches fill.

Symbols: C candidates, V chart vertices, F triangles, L loop vertices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numba
import numpy as np
from scipy.spatial import ConvexHull

__all__ = ["Chart", "build_chart", "fibonacci_directions"]


@dataclass(frozen=True)
class Chart:
    """Triangulated directions.

    Attributes:
        dirs: (V, 3) float64 unit directions; rows [0, n_mid) lie on the midline plane x = 0,
            then ``n_half`` rows with x > 0, then their mirror images in the same order.
        triangles: (F, 3) int64, counter-clockwise seen from outside the sphere.
        twin: (V,) int64 index of each direction's mirror image (x -> -x).
        loops: one (L_i,) int64 index array per input loop, in the input order.
    """

    dirs: np.ndarray
    triangles: np.ndarray
    twin: np.ndarray
    loops: tuple[np.ndarray, ...]


def fibonacci_directions(n: int) -> np.ndarray:
    """(n, 3) float64 near-uniform unit directions (golden-angle spiral), deterministic."""
    i = np.arange(n, dtype=np.float64) + 0.5
    y = 1.0 - 2.0 * i / n
    r = np.sqrt(np.maximum(1.0 - y * y, 0.0))
    phi = i * np.pi * (3.0 - np.sqrt(5.0))
    return np.column_stack([r * np.sin(phi), y, r * np.cos(phi)])


@numba.njit(cache=True)
def _poisson_kernel(pts, rad, n_fixed, lo, cell, dims, cap):  # pragma: no cover - numba
    """Greedy acceptance in the given order; the first ``n_fixed`` points are always kept.

    Each accepted point (and its mirror image, x -> -x) is stored in a uniform grid; a
    candidate is rejected when an accepted point or mirror lies closer than its radius, or
    when its own mirror does (2 |x| < radius) unless it is on the midline (x == 0).
    """
    nx, ny, nz = dims[0], dims[1], dims[2]
    grid = -np.ones((nx, ny, nz, cap), dtype=np.int32)
    count = np.zeros((nx, ny, nz), dtype=np.int64)
    store = np.empty((2 * pts.shape[0], 3))
    n_store = 0
    keep = np.zeros(pts.shape[0], dtype=np.bool_)
    for i in range(pts.shape[0]):
        p = pts[i]
        r = rad[i]
        ok = True
        if i >= n_fixed:
            if p[0] != 0.0 and 2.0 * abs(p[0]) < r:
                ok = False
            if ok:
                reach = int(np.ceil(r / cell))
                ci = int((p[0] - lo[0]) / cell)
                cj = int((p[1] - lo[1]) / cell)
                ck = int((p[2] - lo[2]) / cell)
                for a in range(max(ci - reach, 0), min(ci + reach + 1, nx)):
                    for b in range(max(cj - reach, 0), min(cj + reach + 1, ny)):
                        for c in range(max(ck - reach, 0), min(ck + reach + 1, nz)):
                            for m in range(count[a, b, c]):
                                q = store[grid[a, b, c, m]]
                                d2 = (q[0] - p[0]) ** 2 + (q[1] - p[1]) ** 2 + (q[2] - p[2]) ** 2
                                if d2 < r * r:
                                    ok = False
                                    break
                            if not ok:
                                break
                        if not ok:
                            break
                    if not ok:
                        break
        if not ok:
            continue
        keep[i] = True
        for sgn in (1.0, -1.0):
            if sgn < 0 and p[0] == 0.0:
                continue
            q0 = sgn * p[0]
            a = min(max(int((q0 - lo[0]) / cell), 0), nx - 1)
            b = min(max(int((p[1] - lo[1]) / cell), 0), ny - 1)
            c = min(max(int((p[2] - lo[2]) / cell), 0), nz - 1)
            store[n_store, 0] = q0
            store[n_store, 1] = p[1]
            store[n_store, 2] = p[2]
            if count[a, b, c] >= cap:
                raise RuntimeError("poisson grid cell overflow")
            grid[a, b, c, count[a, b, c]] = n_store
            count[a, b, c] += 1
            n_store += 1
    return keep


def _poisson_select(pts: np.ndarray, rad: np.ndarray, n_fixed: int) -> np.ndarray:
    """(C,) bool kept candidates; ``pts`` (C, 3) mm in priority order, ``rad`` (C,) mm."""
    cell = 3.0
    lo = np.minimum(pts.min(0), -pts.max(0)) - cell
    hi = np.maximum(pts.max(0), -pts.min(0)) + cell
    dims = np.ceil((hi - lo) / cell).astype(np.int64) + 1
    return _poisson_kernel(pts, rad, n_fixed, lo, cell, dims, 32)


def _hull_triangles(dirs: np.ndarray) -> np.ndarray:
    """(F, 3) int64 convex-hull facets of unit directions, oriented outward."""
    hull = ConvexHull(dirs)
    tri = hull.simplices.astype(np.int64)
    n = np.cross(dirs[tri[:, 1]] - dirs[tri[:, 0]], dirs[tri[:, 2]] - dirs[tri[:, 0]])
    flip = np.einsum("ij,ij->i", n, dirs[tri].sum(1)) < 0
    tri[flip] = tri[flip][:, ::-1]
    return tri


def build_chart(
    surface_of: Callable[[np.ndarray], np.ndarray],
    spacing_of: Callable[[np.ndarray], np.ndarray],
    loops_left: Sequence[np.ndarray],
    loops_sym: Sequence[np.ndarray],
    hole_test: Callable[[np.ndarray], np.ndarray],
    n_candidates: int = 60000,
) -> Chart:
    """Sample, mirror and triangulate the chart.

    Args:
        surface_of: maps (N, 3) unit directions to approximate (N, 3) skin points (mm), used
            only to measure spacing (a coarse lookup is fine).
        spacing_of: maps (N, 3) skin points to the wanted vertex spacing (N,) in mm.
        loops_left: closed loops on the subject's left, each (L, 3) unit directions with
            x > 0; each is mirrored to a right-side loop (listed after all left loops).
        loops_sym: closed loops that are their own mirror image, each (L, 3): points on the
            midline have x == 0.0 exactly and the others come in exact (x, -x) pairs.
        hole_test: (N, 3) approximate skin points -> (N,) bool, True inside a hole (no
            candidate is placed there).

    Returns:
        The ``Chart``; its ``loops`` hold the left loops, then their mirrors, then the
        symmetric loops.
    """
    # -- fixed points: loop vertices, split into midline and left-half sets ------------------
    fixed_mid, fixed_half = [], []
    for lp in loops_left:
        if np.any(lp[:, 0] <= 0):
            raise ValueError("loops_left must lie strictly on x > 0")
        fixed_half.append(lp)
    for lp in loops_sym:
        fixed_mid.append(lp[lp[:, 0] == 0.0])
        fixed_half.append(lp[lp[:, 0] > 0.0])
    fixed_mid_a = np.concatenate(fixed_mid) if fixed_mid else np.zeros((0, 3))
    fixed_half_a = np.concatenate(fixed_half)
    # -- candidates: midline circle first, then the left half (denser toward the neck) -------
    n_mid = max(n_candidates // 40, 400)
    ang = (np.arange(n_mid) + 0.5) / n_mid * 2.0 * np.pi
    mid = np.column_stack([np.zeros(n_mid), np.sin(ang), np.cos(ang)])
    cand = fibonacci_directions(n_candidates)
    cap = fibonacci_directions(n_candidates)
    cap = cap[cap[:, 1] < -0.2]
    cap[:, 1] = -1.0 + (cap[:, 1] + 1.0) * (0.55 / 0.8)  # squeeze into the lower cap (y < -0.45)
    cap /= np.linalg.norm(cap, axis=1, keepdims=True)
    half = np.concatenate([cand, cap])
    half = half[half[:, 0] > 1e-6]
    rng = np.random.default_rng(12345)  # fixed: candidate order only shapes the blue noise
    half = half[rng.permutation(len(half))]
    cands = np.concatenate([mid, half])
    pts = surface_of(cands)
    drop = hole_test(pts)
    for lp in list(loops_left) + list(loops_sym):
        drop |= _near_loop(pts, surface_of(lp))
    cands, pts = cands[~drop], pts[~drop]
    fixed = np.concatenate([fixed_mid_a, fixed_half_a])
    fixed_pts = surface_of(fixed)
    all_pts = np.concatenate([fixed_pts, pts])
    rad = spacing_of(all_pts)
    keep = _poisson_select(all_pts, rad, len(fixed))
    all_dirs = np.concatenate([fixed, cands])[keep]
    on_mid = all_dirs[:, 0] == 0.0
    mid_dirs, half_dirs = all_dirs[on_mid], all_dirs[~on_mid]
    mirror = half_dirs * np.array([-1.0, 1.0, 1.0])
    dirs = np.concatenate([mid_dirs, half_dirs, mirror])
    nm, nh = len(mid_dirs), len(half_dirs)
    twin = np.concatenate([np.arange(nm), np.arange(nm + nh, nm + 2 * nh), np.arange(nm, nm + nh)])
    tri = _hull_triangles(dirs)
    # -- loops: locate their vertices, then cut the triangles inside ---------------------------
    lookup = {tuple(np.round(d, 12)): i for i, d in enumerate(dirs)}

    def idx_of(lp: np.ndarray) -> np.ndarray:
        return np.array([lookup[tuple(np.round(d, 12))] for d in lp], dtype=np.int64)

    loops = [idx_of(lp) for lp in loops_left]
    loops += [idx_of(lp * np.array([-1.0, 1.0, 1.0])) for lp in loops_left]
    loops += [idx_of(lp) for lp in loops_sym]
    drop = np.zeros(len(tri), dtype=bool)
    for lp in loops:
        in_loop = np.zeros(len(dirs), dtype=bool)
        in_loop[lp] = True
        cand_tri = in_loop[tri].all(1)
        # keep a loop-only triangle when it lies outside the loop: test its centroid against
        # the loop polygon in the loop's own tangent plane
        centre = dirs[lp].mean(0)
        centre /= np.linalg.norm(centre)
        e1 = np.cross([0.0, 1.0, 0.0], centre)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(centre, e1)
        poly = np.column_stack([dirs[lp] @ e1, dirs[lp] @ e2])
        cen = dirs[tri[cand_tri]].mean(1)
        drop[np.flatnonzero(cand_tri)] = _points_in_polygon(np.column_stack([cen @ e1, cen @ e2]), poly)
    tri = tri[~drop]
    tri = _delaunay_flips(tri, dirs, surface_of(dirs))
    return Chart(dirs=dirs, triangles=tri, twin=twin, loops=tuple(loops))


def _delaunay_flips(tri: np.ndarray, dirs: np.ndarray, pts: np.ndarray, max_round: int = 60) -> np.ndarray:
    """Flip interior edges until the triangulation is Delaunay *on the skin* (3D angles).

    The hull is Delaunay on the sphere of directions, which the chart map stretches (most
    along the neck, where rays graze the skin), giving slivers. An edge (a, b) shared by
    (a, b, c) and (b, a, d) is replaced by (c, d) when the angles at c and d sum to more than
    pi in 3D and both new triangles keep their orientation on the sphere (no fold). Boundary
    edges (the loops) have one triangle and are never flipped. Each round flips a set of
    edges with no triangle in common, worst first.
    """
    tri = tri.copy()
    n = len(dirs)
    for _ in range(max_round):
        a = tri.reshape(-1)
        b = tri[:, [1, 2, 0]].reshape(-1)
        opp = tri[:, [2, 0, 1]].reshape(-1)
        owner = np.repeat(np.arange(len(tri)), 3)
        key = a * n + b
        order = np.argsort(key)
        skey = key[order]
        rev = b * n + a
        pos = np.clip(np.searchsorted(skey, rev), 0, len(skey) - 1)
        has = (skey[pos] == rev) & (a < b)
        e1 = np.flatnonzero(has)
        e2 = order[pos[e1]]
        ea, eb, c, d = a[e1], b[e1], opp[e1], opp[e2]
        t1, t2 = owner[e1], owner[e2]

        def ang(p, q, r):
            u, v = pts[q] - pts[p], pts[r] - pts[p]
            return np.arctan2(np.linalg.norm(np.cross(u, v), axis=1), np.einsum("ij,ij->i", u, v))

        def ccw(p, q, r):
            nrm = np.cross(dirs[q] - dirs[p], dirs[r] - dirs[p])
            return np.einsum("ij,ij->i", nrm, dirs[p] + dirs[q] + dirs[r]) > 0

        excess = ang(c, ea, eb) + ang(d, ea, eb) - np.pi
        ok = (excess > 1e-9) & (c != d) & ccw(ea, d, c) & ccw(d, eb, c)
        cd = c * n + d
        dc = d * n + c
        exists = (skey[np.clip(np.searchsorted(skey, cd), 0, len(skey) - 1)] == cd) | \
                 (skey[np.clip(np.searchsorted(skey, dc), 0, len(skey) - 1)] == dc)
        cand = np.flatnonzero(ok & ~exists)
        if cand.size == 0:
            break
        cand = cand[np.argsort(-excess[cand], kind="stable")]
        used = np.zeros(len(tri), dtype=bool)
        for k in cand.tolist():
            if used[t1[k]] or used[t2[k]]:
                continue
            used[t1[k]] = used[t2[k]] = True
            tri[t1[k]] = (ea[k], d[k], c[k])
            tri[t2[k]] = (d[k], eb[k], c[k])
    return tri


def _near_loop(pts: np.ndarray, loop: np.ndarray, factor: float = 0.6) -> np.ndarray:
    """(N,) bool: points closer to a segment of the closed ``loop`` (L, 3) than ``factor``
    times that segment's length. Keeping this band empty makes every loop edge a Gabriel
    (hence Delaunay) edge, so the triangulation contains the loop."""
    a = loop
    b = np.roll(loop, -1, axis=0)
    near = np.zeros(len(pts), dtype=bool)
    for i in range(len(a)):
        ab = b[i] - a[i]
        l2 = float(ab @ ab)
        h = np.clip((pts - a[i]) @ ab / l2, 0.0, 1.0)
        d2 = np.sum((pts - a[i] - h[:, None] * ab) ** 2, axis=1)
        near |= d2 < factor * factor * l2
    return near


def _points_in_polygon(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """(N,) bool even-odd rule; ``pts`` (N, 2), ``poly`` (L, 2) closed implicitly."""
    x, y = pts[:, 0][:, None], pts[:, 1][:, None]
    x0, y0 = poly[:, 0][None], poly[:, 1][None]
    x1, y1 = np.roll(poly[:, 0], -1)[None], np.roll(poly[:, 1], -1)[None]
    cond = (y0 > y) != (y1 > y)
    xint = x0 + (y - y0) * (x1 - x0) / np.where(y1 == y0, 1e-30, y1 - y0)
    return (cond & (x < xint)).sum(1) % 2 == 1
