"""Upper and lower front teeth: two closed, rounded slabs along the dental arch.

They sit in the mouth pouch just behind the lips, hidden while the mouth is closed; the lower
row moves with the jaw. Shallow grooves on the labial face mark the individual teeth.

Arch (top view): ``z = front - k x^2`` for |x| <= ``_HALF_SPAN``; a slab's cross-section is
a bevelled rectangle ``_THICK`` mm deep (toward the tongue) between a top and a bottom edge.
Symbols: M arch samples, C = 8 cross-section points; mm, model frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.headgen.anatomy import ANATOMY

__all__ = ["TeethPart", "Teeth", "build_teeth"]

_HALF_SPAN = 23.0
_ARCH_K = 0.032
_THICK = 6.0
_M_HALF = 30  # samples on each side of the midline
_TOOTH_EDGES = (8.5, 15.0, 22.5)  # arc length (mm) from the midline to tooth boundaries


@dataclass(frozen=True)
class TeethPart:
    """verts (V, 3) mm; triangles (F, 3) int64 outward; twin (V,) int64 local mirror index."""

    verts: np.ndarray
    triangles: np.ndarray
    twin: np.ndarray


@dataclass(frozen=True)
class Teeth:
    upper: TeethPart
    lower: TeethPart


def _slab(front_z: float, top, bottom) -> TeethPart:
    """One row: ``top(x)`` / ``bottom(x)`` give the edge heights (mm) along the arch."""
    u = np.arange(-_M_HALF, _M_HALF + 1) / _M_HALF
    x = _HALF_SPAN * np.sign(u) * np.abs(u) ** 0.9
    x[_M_HALF] = 0.0
    z = front_z - _ARCH_K * x * x
    nrm = np.column_stack([2 * _ARCH_K * x, np.zeros_like(x), np.ones_like(x)])
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    # arc length from the midline, for the grooves between teeth
    seg = np.hypot(np.diff(x), np.diff(z))
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    arc = np.abs(arc - arc[_M_HALF])
    arc = 0.5 * (arc + arc[::-1])  # exactly symmetric
    groove = sum(0.7 * np.exp(-((arc - e) / 0.6) ** 2) for e in _TOOTH_EDGES)
    yt, yb = top(x), bottom(x)
    # cross-section (outward offset o, height y) around the slab, front face first
    o_rel = np.array([-0.4, 0.0, 0.0, -0.6, -_THICK + 0.6, -_THICK, -_THICK, -_THICK + 0.4])
    front = np.array([0, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    rows = []
    for k in range(8):
        y = {0: yt, 1: yt - 1.0, 2: yb + 0.8, 3: yb, 4: yb, 5: yb + 0.8, 6: yt - 1.0, 7: yt}[k]
        o = o_rel[k] - (groove if front[k] else 0.0)
        rows.append(np.column_stack([x + o * nrm[:, 0], y, z + o * nrm[:, 2]]))
    ring = np.stack(rows, 1)  # (M, 8, 3)
    m = len(x)
    verts = ring.reshape(-1, 3)
    ends = np.stack([ring[0].mean(0), ring[-1].mean(0)])
    verts = np.concatenate([verts, ends])
    idx = np.arange(m * 8).reshape(m, 8)
    kn = (np.arange(8) + 1) % 8
    tris = []
    for i in range(m - 1):
        a, b, c, d = idx[i], idx[i][kn], idx[i + 1], idx[i + 1][kn]
        tris.append(np.column_stack([a, c, d]))
        tris.append(np.column_stack([a, d, b]))
    e0, e1 = m * 8, m * 8 + 1
    tris.append(np.column_stack([np.full(8, e0), idx[0][kn], idx[0]]))
    tris.append(np.column_stack([np.full(8, e1), idx[-1], idx[-1][kn]]))
    tris = np.concatenate(tris).astype(np.int64)
    # orient outward: normals away from each sample's cross-section centre
    centre = ring.mean(1)
    cen = np.concatenate([np.repeat(centre, 8, 0), ends])
    n = np.cross(verts[tris[:, 1]] - verts[tris[:, 0]], verts[tris[:, 2]] - verts[tris[:, 0]])
    if np.mean(np.einsum("ij,ij->i", n, verts[tris].mean(1) - cen[tris[:, 0]]) > 0) < 0.5:
        tris = tris[:, ::-1]
    twin = np.concatenate([idx[::-1].reshape(-1), [e1, e0]])
    return TeethPart(verts, tris, twin)


def build_teeth() -> Teeth:
    """Upper incisors-to-premolars row and the lower row, each a closed slab."""
    y_m = ANATOMY.mouth_y
    span2 = _HALF_SPAN ** 2
    upper = _slab(86.5, lambda x: np.full_like(x, y_m + 8.5), lambda x: y_m - 1.5 + 1.5 * x * x / span2)
    lower = _slab(85.3, lambda x: y_m - 1.9 + 1.5 * x * x / span2, lambda x: np.full_like(x, y_m - 10.0))
    return Teeth(upper, lower)
