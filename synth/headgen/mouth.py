"""Mouth: the lip patch (lips, perioral skin) and the oral pouch behind the lips.

Patch rings (each ``N_RING`` vertices, index-aligned spokes): ring 0 is the line where the
lips meet (the inner lip contour; upper and lower spokes coincide at rest, so the mouth is
closed), lip rings up to the vermilion border (ring ``K_BORDER``), perioral skin rings, then
the boundary loop shared with the skin chart. Behind ring 0 the pouch (rings -1..-7 and a cap)
forms the mouth cavity, dark when the jaw opens.

Spokes: 0 = the subject's right corner (x < 0), 1..N_HALF-1 along the upper lip to the left
corner N_HALF, then N_HALF+1..N_RING-1 back along the lower lip. Spoke ``N_RING - i`` is below
spoke ``i``; spoke ``N_HALF - i`` is the mirror image of spoke ``i`` (and ``N_RING + N_HALF - i``
that of lower spoke ``N_HALF + i``). Symbols: N = N_RING spokes, mm, model frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.headgen.anatomy import ANATOMY
from synth.headgen.shape import surface_point_frontal

__all__ = [
    "N_HALF", "N_RING", "K_BORDER", "MouthPatch", "spoke_mirror", "perioral_contains", "mouth_boundary_dirs",
    "build_mouth_patch",
]

N_HALF = 32
N_RING = 2 * N_HALF
_LIP_T = (0.06, 0.15, 0.28, 0.45, 0.65, 0.84)  # lip rings, fraction crease -> border
K_BORDER = len(_LIP_T) + 1
_SKIN_T = (0.1, 0.22, 0.37, 0.55, 0.76)  # skin rings, fraction border -> boundary
_POUCH_DEPTH = (1.2, 3.0, 6.0, 10.0, 15.0, 21.0, 27.0)
_POUCH_OPEN = (0.5, 1.8, 4.0, 7.0, 9.0, 9.0, 6.0)
_POUCH_XS = (1.0, 0.99, 0.97, 0.93, 0.86, 0.74, 0.55)
_BORDER_HALF_WIDTH = 26.0
_BOUNDARY = (41.0, 16.0, 22.0, -2.0)  # half width, up, down, centre offset below stomion


def spoke_mirror() -> np.ndarray:
    """(N_RING,) int64: the spoke that is the mirror image (x -> -x) of each spoke."""
    i = np.arange(N_RING)
    return np.where(i <= N_HALF, N_HALF - i, N_RING + N_HALF - i) % N_RING


def _spoke_x(half_width: float) -> np.ndarray:
    """(N_RING,) x of the spokes for a contour of the given half width, exactly symmetric."""
    i = np.arange(N_HALF // 2 + 1)
    right = -half_width * np.cos(np.pi * i / N_HALF)
    right[-1] = 0.0
    upper = np.concatenate([right, -right[-2::-1]])  # spokes 0..N_HALF
    lower = upper[1:-1][::-1]  # spokes N_HALF+1..N_RING-1 share x with the upper ones above
    return np.concatenate([upper, lower])


def _side() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N_RING,) sign (+1 upper, -1 lower, 0 corner), and bool masks upper/lower."""
    i = np.arange(N_RING)
    upper = (i > 0) & (i < N_HALF)
    lower = i > N_HALF
    return np.where(upper, 1.0, np.where(lower, -1.0, 0.0)), upper, lower


def _crease_xy() -> np.ndarray:
    x = _spoke_x(ANATOMY.mouth_half_width)
    y = ANATOMY.mouth_y + 0.5 * (x / ANATOMY.mouth_half_width) ** 2
    return np.column_stack([x, y])


def _border_xy() -> np.ndarray:
    """Vermilion border: Cupid's bow above, a smooth arc below."""
    xb = _BORDER_HALF_WIDTH
    x = _spoke_x(xb)
    sign, upper, lower = _side()
    ax = np.abs(x) / xb
    h_up = 8.3 * np.clip(1.0 - ax ** 2.2, 0.0, None) ** 0.75 - 1.4 * np.exp(-(x / 2.6) ** 2)
    h_lo = 10.0 * np.clip(1.0 - ax ** 2.0, 0.0, None) ** 0.7
    y = ANATOMY.mouth_y + 0.5 * ax ** 2 + np.where(upper, h_up, np.where(lower, -h_lo, 0.0))
    return np.column_stack([x, y])


def _boundary_xy() -> np.ndarray:
    w, up, down, off = _BOUNDARY
    b = _border_xy()
    cy = ANATOMY.mouth_y + off
    ang = np.arctan2(b[:, 1] - cy, b[:, 0])
    ang[0] = np.pi  # right corner (arctan2 may give -pi)
    ang = np.unwrap(ang)  # continuous, from pi going clockwise to about -pi
    # halfway to even spacing, so the loop has no long gaps where the spokes thin out
    ang = 0.5 * ang + 0.5 * (np.pi - 2.0 * np.pi * np.arange(N_RING) / N_RING)
    x = w * np.cos(ang)
    x[np.abs(b[:, 0]) == 0.0] = 0.0
    y = cy + np.where(np.sin(ang) > 0, up, down) * np.sin(ang)
    # enforce exact mirror symmetry from the right half
    mir = spoke_mirror()
    right = b[:, 0] <= 0.0
    x[~right] = -x[mir[~right]]
    y[~right] = y[mir[~right]]
    return np.column_stack([x, y])


def perioral_contains(p: np.ndarray) -> np.ndarray:
    """(N,) bool: skin points (N, 3) mm inside the perioral boundary (the lip patch's area),
    tested in the frontal (x, y) plane for points in front of z = 40 mm."""
    w, up, down, off = _BOUNDARY
    cy = ANATOMY.mouth_y + off
    y = p[:, 1] - cy
    return ((p[:, 0] / w) ** 2 + (y / np.where(y > 0, up, down)) ** 2 < 1.0) & (p[:, 2] > 40.0)


def mouth_boundary_dirs() -> np.ndarray:
    """(N_RING, 3) unit directions of the perioral boundary loop, spoke order."""
    p = surface_point_frontal(_boundary_xy())
    return p / np.linalg.norm(p, axis=1, keepdims=True)


def _lip_offset(t: float, ax: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """Forward offset (mm) of the lip surface over the base skin at fraction ``t`` of a spoke.

    A quarter-circle roll from the crease (``t = 0``, sunk ``crease`` mm) up to the border
    (``t = 1``, raised ``roll`` mm: the white roll), plus a fullness bulge; all thin out
    toward the corners (``ax`` = |x| / half width).
    """
    g = np.sqrt(np.clip(1.0 - ax ** 2, 0.0, 1.0))
    crease = 1.2 + 2.4 * g
    roll = 0.6 * np.sqrt(g)
    full = np.where(sign > 0, 1.2, 1.7) * g
    q = np.sqrt(1.0 - (1.0 - t) ** 2)
    return -crease + (crease + roll) * q + full * 4.0 * t * (1.0 - t)


@dataclass(frozen=True)
class MouthPatch:
    """Lip patch and pouch.

    Attributes:
        verts: (M, 3) new vertices, mm (the boundary ring is not included).
        triangles: (T, 3) int64 into ``concat([boundary, verts])`` (index j < N_RING is
            boundary spoke j).
        ring: (M,) int: -8 cap, -7..-1 pouch, 0 crease, 1..K_BORDER lips, then skin rings.
        spoke: (M,) int (-1 for the cap).
        side: (M,) float +1 upper lip, -1 lower lip, 0 corners and cap.
        ring_t: (M,) float position along the spoke: 0 at the crease, 1 at the border, 2 at
            the boundary (pouch rings negative: minus depth / 10 mm).
    """

    verts: np.ndarray
    triangles: np.ndarray
    ring: np.ndarray
    spoke: np.ndarray
    side: np.ndarray
    ring_t: np.ndarray


def build_mouth_patch(boundary: np.ndarray) -> MouthPatch:
    """Lip patch between the crease and the perioral ``boundary`` (N_RING, 3) mm."""
    if boundary.shape != (N_RING, 3):
        raise ValueError(f"boundary must be ({N_RING}, 3), got {boundary.shape}")
    sign, _, _ = _side()
    crease, border = _crease_xy(), _border_xy()
    ax = np.abs(crease[:, 0]) / ANATOMY.mouth_half_width
    rings, ids, ts = [], [], []
    for k, t in enumerate((0.0,) + _LIP_T + (1.0,)):
        xy = (1.0 - t) * crease + t * border
        z = surface_point_frontal(xy)[:, 2] + _lip_offset(t, ax, sign)
        rings.append(np.column_stack([xy, z]))
        ids.append(k)
        ts.append(t)
    roll = 0.6 * np.sqrt(np.sqrt(np.clip(1.0 - ax ** 2, 0.0, 1.0)))
    for k, f in enumerate(_SKIN_T):
        xy = (1.0 - f) * border + f * boundary[:, :2]
        z = surface_point_frontal(xy)[:, 2] + roll * (1.0 - f) ** 3
        rings.append(np.column_stack([xy, z]))
        ids.append(K_BORDER + 1 + k)
        ts.append(1.0 + f)
    c0 = rings[0]
    prof = np.sqrt(np.clip(1.0 - ax ** 2, 0.0, 1.0)) * sign
    pouch = []
    for depth, opening, xs in zip(_POUCH_DEPTH, _POUCH_OPEN, _POUCH_XS):
        pouch.append(np.column_stack([c0[:, 0] * xs, c0[:, 1] + opening * prof, c0[:, 2] - depth]))
    cap = np.array([[0.0, ANATOMY.mouth_y, c0[:, 2].max() - _POUCH_DEPTH[-1] - 4.0]])
    all_rings = pouch[::-1] + rings
    all_ids = list(range(-len(pouch), 0)) + ids
    all_ts = [-d / 10.0 for d in _POUCH_DEPTH[::-1]] + ts
    verts = np.concatenate([cap] + all_rings)
    ring = np.concatenate([[-len(pouch) - 1]] + [np.full(N_RING, k) for k in all_ids])
    spoke = np.concatenate([[-1]] + [np.arange(N_RING)] * len(all_rings))
    side = np.concatenate([[0.0]] + [sign] * len(all_rings))
    ring_t = np.concatenate([[-(_POUCH_DEPTH[-1] + 4.0) / 10.0]] + [np.full(N_RING, t) for t in all_ts])
    base = lambda r: N_RING + 1 + r * N_RING  # noqa: E731
    j = np.arange(N_RING)
    jn = (j + 1) % N_RING
    tris = [np.column_stack([np.full(N_RING, N_RING), base(0) + jn, base(0) + j])]
    n_r = len(all_rings)
    for r in range(n_r):
        a0, a1 = base(r) + j, base(r) + jn
        b0, b1 = (base(r + 1) + j, base(r + 1) + jn) if r + 1 < n_r else (j, jn)
        tris.append(np.column_stack([a0, a1, b1]))
        tris.append(np.column_stack([a0, b1, b0]))
    return MouthPatch(verts, np.concatenate(tris).astype(np.int64), ring, spoke, side, ring_t)
