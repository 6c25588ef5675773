"""Eyes: the eyeball, and the lid patch (margin, lids, conjunctival sac) around it.

Everything is built for the subject's *left* eye (x > 0); the assembler mirrors it.

Eye frame: centre ``c`` (the globe's centre) and axes ``e_x`` (lateral, tilted up by the
canthal tilt), ``e_y`` (up), ``e_z`` (forward). A point is written ``(a, r, phi)``:
``a`` along ``e_x``, ``r`` its distance from the lid hinge axis (the line through ``c``
along ``e_x``) and ``phi`` its angle about that axis (0 forward, positive up). Lids open and
close by rotating about the hinge axis, so a lid margin point slides on the globe and the
upper and lower margin points of the same ``a`` meet exactly when the eye closes.

Patch rings (each ``N_RING`` vertices, index-aligned "spokes"): the sac (rings -4..-1,
inside the globe, closed by a cap vertex), the margin (ring 0, tucked 0.25 mm into the
globe, off the globe only at the medial canthus), the lid edge (ring 1, on the lid surface),
lid rings 2.. on the skin, and the orbit boundary loop (shared with the skin chart).
Spoke order: 0 = medial canthus, 1..N_SIDE-1 upper lid medial->lateral, N_SIDE = lateral
canthus, then the lower lid lateral->medial; spoke ``2 N_SIDE - i`` is below spoke ``i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.headgen.anatomy import ANATOMY
from synth.headgen.sdf import ray_exit
from synth.headgen.shape import head_sdf, surface_point_frontal

__all__ = [
    "N_SIDE", "N_RING", "eye_frame", "Margin", "margin", "orbit_contains", "eye_boundary_dirs", "EyePatch",
    "build_eye_patch", "build_eyeball", "rotate_about_hinge",
]

N_SIDE = 28
N_RING = 2 * N_SIDE
_TUCK = 0.25  # margin sits this far inside the globe surface (mm)
_A_MED, _A_LAT = -14.2, 11.65  # canthi along e_x (mm); the medial one is off the globe
_R_MED = 3.2  # medial canthus distance from the hinge axis (mm)
_UPPER_H, _LOWER_H = 4.7, 4.6  # lid margin heights above/below the hinge plane (mm)
_LID_RINGS = (0.07, 0.16, 0.27, 0.40, 0.55, 0.71, 0.86)  # fractions ring 1 -> boundary
_TARSUS = (0.34, 0.22)  # share of the lid-to-boundary way the skin hugs the globe (upper, lower)
_SKIN_RAY_ORIGIN = (8.0, 0.0, -20.0)  # offset from the eye centre, mm (see _lid_ring)
_SAC_DEG = (10.0, 25.0, 45.0, 75.0)
_SAC_DEPTH = (0.8, 2.0, 4.0, 6.0)
_BOUNDARY_CENTRE = (1.5, 0.8)  # (x, y) offset from the eye centre, mm
_BOUNDARY_AXES = (20.5, 14.5)  # half width, half height, mm
#: Fraction of the fissure the lower lid rises when the eye closes.
LOWER_LID_SHARE = 0.22


def eye_frame() -> tuple[np.ndarray, np.ndarray]:
    """Left eye centre (3,) and frame rows ``(e_x, e_y, e_z)`` as a (3, 3) float64 array."""
    tau = np.radians(ANATOMY.canthal_tilt_deg)
    frame = np.array([[np.cos(tau), np.sin(tau), 0.0], [-np.sin(tau), np.cos(tau), 0.0], [0.0, 0.0, 1.0]])
    return ANATOMY.eye_center_l, frame


def _from_arp(a: np.ndarray, r: np.ndarray, phi: np.ndarray) -> np.ndarray:
    c, fr = eye_frame()
    loc = np.column_stack([a, r * np.sin(phi), r * np.cos(phi)])
    return c + loc @ fr


def _to_arp(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c, fr = eye_frame()
    loc = (p - c) @ fr.T
    return loc[:, 0], np.hypot(loc[:, 1], loc[:, 2]), np.arctan2(loc[:, 1], loc[:, 2])


def rotate_about_hinge(p: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate left-eye points (N, 3) about the lid hinge axis by ``angle`` (N,) rad (+ = up)."""
    a, r, phi = _to_arp(np.asarray(p, dtype=np.float64))
    return _from_arp(a, r, phi + angle)


def _lid_shape(s: np.ndarray, p_med: float, p_lat: float) -> np.ndarray:
    """``s^p_med (1 - s)^p_lat`` scaled to a maximum of 1: 0 at both canthi; a small
    exponent makes that corner blunt (medial), a larger one sharp (lateral)."""
    s = np.clip(s, 0.0, 1.0)
    peak = p_med / (p_med + p_lat)
    return (s ** p_med * (1.0 - s) ** p_lat) / (peak ** p_med * (1.0 - peak) ** p_lat)


def _hinge_radius(a: np.ndarray) -> np.ndarray:
    """Margin distance from the hinge axis: on the globe, then easing to the medial canthus."""
    rb = ANATOMY.eye_radius - _TUCK
    a_b = -9.5
    r_ball = np.sqrt(np.maximum(rb * rb - a * a, 1e-6))
    # cubic Hermite from (A_MED, R_MED, slope 0.4) to (a_b, r_ball(a_b), its slope)
    r1 = np.sqrt(rb * rb - a_b * a_b)
    m1 = -a_b / r1
    t = np.clip((a - _A_MED) / (a_b - _A_MED), 0.0, 1.0)
    h = a_b - _A_MED
    herm = ((2 * t**3 - 3 * t**2 + 1) * _R_MED + (t**3 - 2 * t**2 + t) * h * 0.4
            + (-2 * t**3 + 3 * t**2) * r1 + (t**3 - t**2) * h * m1)
    return np.where(a < a_b, herm, r_ball)


@dataclass(frozen=True)
class Margin:
    """Lid margin (ring 0) of the left eye, ``N_RING`` spokes.

    Attributes:
        points: (N_RING, 3) mm. a, r, phi: (N_RING,) eye-frame coordinates (mm, mm, rad).
        phi_close: (N_RING,) angle where the lids meet when the eye is closed.
        upper, lower: (N_RING,) bool spoke on the upper / lower lid (corners are neither).
        s: (N_RING,) 0 at the medial canthus, 1 at the lateral one.
    """

    points: np.ndarray
    a: np.ndarray
    r: np.ndarray
    phi: np.ndarray
    phi_close: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    s: np.ndarray


def margin() -> Margin:
    i = np.arange(N_RING)
    k = np.where(i <= N_SIDE, i, N_RING - i)
    s = 0.6 * (0.5 - 0.5 * np.cos(np.pi * k / N_SIDE)) + 0.4 * k / N_SIDE  # denser at the canthi
    upper = (i > 0) & (i < N_SIDE)
    lower = i > N_SIDE
    a = _A_MED + (_A_LAT - _A_MED) * s
    r = _hinge_radius(a)
    b_up = _UPPER_H * _lid_shape(s, 0.45, 0.68)
    b_lo = -_LOWER_H * _lid_shape(s, 0.75, 0.62)
    phi_up = np.arcsin(np.clip(b_up / r, -0.97, 0.97))
    phi_lo = np.arcsin(np.clip(b_lo / r, -0.97, 0.97))
    phi = np.where(upper, phi_up, np.where(lower, phi_lo, 0.0))
    phi_close = phi_lo + LOWER_LID_SHARE * (phi_up - phi_lo)
    return Margin(_from_arp(a, r, phi), a, r, phi, phi_close, upper, lower, s)


def _lid_edge(m: Margin) -> np.ndarray:
    """Ring 1: the margin pushed out by the lid thickness and 0.8 mm away from the fissure.

    On the globe the push is radial (onto the lid surface); where the margin leaves the
    globe (medial canthus) it turns forward, so the canthus stays a shallow pocket.
    """
    c, fr = eye_frame()
    d0 = m.points - c
    rho0 = np.linalg.norm(d0, axis=1)
    off = np.clip((rho0 - ANATOMY.eye_radius) / 1.5, 0.0, 1.0)[:, None]
    push = d0 / rho0[:, None] * (1.0 - off) + fr[2] * off
    push /= np.linalg.norm(push, axis=1, keepdims=True)
    t = ANATOMY.lid_thickness + _TUCK
    p = m.points + t * push
    a, r, phi = _to_arp(p)
    g = (4.0 * m.s * (1.0 - m.s)) ** 0.3
    phi = phi + np.where(m.upper, 1.0, np.where(m.lower, -1.0, 0.0)) * g * 0.8 / np.linalg.norm(p - c, axis=1)
    a = a + np.where(m.s > 0.98, 0.8, 0.0)
    return _from_arp(a, r, phi)


def _boundary_xy(edge: np.ndarray) -> np.ndarray:
    """(N_RING, 2) orbit-boundary (x, y) at the polar angles of the lid-edge spokes."""
    c, _ = eye_frame()
    cx, cy = c[0] + _BOUNDARY_CENTRE[0], c[1] + _BOUNDARY_CENTRE[1]
    ang = np.arctan2(edge[:, 1] - cy, edge[:, 0] - cx)
    ang[0] = np.pi  # medial canthus
    ang = np.unwrap(ang)  # continuous, from pi going clockwise to about -pi
    # halfway to even spacing, so the loop has no long gaps where the spokes thin out
    ang = 0.5 * ang + 0.5 * (np.pi - 2.0 * np.pi * np.arange(N_RING) / N_RING)
    return np.column_stack([cx + _BOUNDARY_AXES[0] * np.cos(ang), cy + _BOUNDARY_AXES[1] * np.sin(ang)])


def orbit_contains(p: np.ndarray) -> np.ndarray:
    """(N,) bool: skin points (N, 3) mm inside either orbit boundary (the lid patches' area),
    tested in the frontal (x, y) plane for points in front of z = 30 mm."""
    c, _ = eye_frame()
    (ex, ey), (ax, ay) = _BOUNDARY_CENTRE, _BOUNDARY_AXES
    x, y = np.abs(p[:, 0]) - c[0] - ex, p[:, 1] - c[1] - ey
    return ((x / ax) ** 2 + (y / ay) ** 2 < 1.0) & (p[:, 2] > 30.0)


def eye_boundary_dirs() -> np.ndarray:
    """(N_RING, 3) unit directions of the left orbit boundary loop (spoke order)."""
    xy = _boundary_xy(_lid_edge(margin()))
    p = surface_point_frontal(xy)
    return p / np.linalg.norm(p, axis=1, keepdims=True)


@dataclass(frozen=True)
class EyePatch:
    """Lid patch of the left eye.

    Attributes:
        verts: (M, 3) new vertices, mm (the boundary ring is not included).
        triangles: (T, 3) int64 into ``concat([boundary, verts])``: index j < N_RING is
            boundary spoke j, index j >= N_RING is ``verts[j - N_RING]``.
        ring: (M,) int ring number (-5 cap, -4..-1 sac, 0 margin, 1 edge, 2.. lid rings).
        spoke: (M,) int spoke (the cap has -1).
        lid_weight: (M,) float share of the margin's rotation a vertex follows (1 near the
            fissure, 0 at the boundary).
        margin: the ``Margin``.
    """

    verts: np.ndarray
    triangles: np.ndarray
    ring: np.ndarray
    spoke: np.ndarray
    lid_weight: np.ndarray
    margin: Margin


def _sac(m: Margin) -> list[np.ndarray]:
    """Rings -1..-4: the margin directions swung behind the lids, shrinking inward."""
    c, fr = eye_frame()
    d0 = m.points - c
    rho0 = np.linalg.norm(d0, axis=1)
    u0 = d0 / rho0[:, None]
    axis = np.cross(fr[2], u0)
    axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-9)
    rings = []
    for deg, depth in zip(_SAC_DEG, _SAC_DEPTH):
        g = np.radians(deg)
        # Rodrigues rotation of u0 about axis by g (axis is perpendicular to u0)
        u = u0 * np.cos(g) + np.cross(axis, u0) * np.sin(g)
        rho = np.minimum(rho0, ANATOMY.eye_radius) - depth
        rings.append(c + u * rho[:, None])
    return rings


def _lid_ring(edge: np.ndarray, boundary: np.ndarray, m: Margin, f: float) -> tuple[np.ndarray, np.ndarray]:
    """Lid ring at fraction ``f`` from the lid edge (0) to the orbit boundary (1), as unit
    directions (N_RING, 3) from the eye centre and distances (N_RING,) mm.

    Seen from the eye centre the ring's direction moves linearly (slerp) from the edge to
    the boundary. Its distance stays on the lid surface over the tarsus (the first
    ``_TARSUS`` of the way on the lids), then eases up to the boundary; a shallow dip marks
    the upper lid crease. Toward the boundary the distance blends into the skin surface
    (``head_sdf``) along the same direction, so the patch meets the chart smoothly. Ring
    directions never cross, so the lid cannot fold.
    """
    c, _ = eye_frame()
    d1, db = edge - c, boundary - c
    r1, rb = np.linalg.norm(d1, axis=1), np.linalg.norm(db, axis=1)
    u1, ub = d1 / r1[:, None], db / rb[:, None]
    omega = np.arccos(np.clip(np.einsum("ij,ij->i", u1, ub), -1.0, 1.0))
    so = np.maximum(np.sin(omega), 1e-9)
    u = (np.sin((1 - f) * omega) / so)[:, None] * u1 + (np.sin(f * omega) / so)[:, None] * ub
    lid = (4.0 * m.s * (1.0 - m.s)) ** 0.5  # 1 mid-lid, 0 at the canthi
    f0 = np.where(m.upper, _TARSUS[0], np.where(m.lower, _TARSUS[1], 0.0)) * lid
    e = np.clip((f - f0) / (1.0 - f0), 0.0, 1.0)
    rho = r1 + np.maximum(rb - r1, 0.0) * e * e * (3.0 - 2.0 * e) ** 0.35
    crease = np.where(m.upper, 0.5, 0.0) * lid * np.exp(-((f - f0 - 0.04) / 0.05) ** 2)
    prof = c + u * (rho - crease)[:, None]
    # the skin along rays from a point behind and lateral of the globe (from there the nose
    # side of the orbit faces the rays; from the globe centre it would be seen edge-on)
    o = c + np.array(_SKIN_RAY_ORIGIN)
    dv = prof - o
    dv /= np.linalg.norm(dv, axis=1, keepdims=True)
    t = ray_exit(head_sdf, o, dv)
    skin = np.where(np.isnan(t)[:, None], prof, o + t[:, None] * dv)
    beta = np.clip((f - f0 - 0.05) / (1.0 - f0 - 0.05), 0.0, 1.0) ** 0.7
    p = (1.0 - beta)[:, None] * prof + beta[:, None] * skin
    d = p - c
    rr = np.linalg.norm(d, axis=1)
    return d / rr[:, None], rr


def _relax(grid: np.ndarray, iters: int = 12) -> np.ndarray:
    """Laplacian smoothing of the lid rings (R, N_RING, 3) with the first (lid edge) and
    last (boundary) rings fixed; the pull grows from nothing next to the lid edge to full
    toward the boundary, which irons out the kinks where the skin rays graze the orbit."""
    g = grid.copy()
    w = np.linspace(0.0, 1.0, len(g))[1:-1, None, None] ** 0.5 * 0.5
    for _ in range(iters):
        nb = 0.25 * (g[:-2] + g[2:] + np.roll(g[1:-1], 1, axis=1) + np.roll(g[1:-1], -1, axis=1))
        g[1:-1] = (1.0 - w) * g[1:-1] + w * nb
    return g


def build_eye_patch(boundary: np.ndarray) -> EyePatch:
    """Lid patch between the globe and the orbit boundary ``boundary`` (N_RING, 3) mm."""
    if boundary.shape != (N_RING, 3):
        raise ValueError(f"boundary must be ({N_RING}, 3), got {boundary.shape}")
    m = margin()
    c, _ = eye_frame()
    edge = _lid_edge(m)
    rings = list(reversed(_sac(m))) + [m.points, edge]
    ring_ids = [-4, -3, -2, -1, 0, 1]
    weights = [1.0] * 6
    rho_prev = np.linalg.norm(edge - c, axis=1)
    lid = []
    for k, f in enumerate(_LID_RINGS):
        u, rho = _lid_ring(edge, boundary, m, f)
        rho_prev = np.maximum(rho, rho_prev)  # never closer to the globe than the ring inside
        lid.append(c + u * rho_prev[:, None])
        ring_ids.append(2 + k)
        weights.append(float(max(1.0 - f / 0.75, 0.0) ** 2))
    rings += list(_relax(np.stack([edge] + lid + [boundary]))[1:-1])
    cap = (c - 3.0 * eye_frame()[1][2])[None]
    verts = np.concatenate([cap] + rings)
    ring = np.concatenate([[-5]] + [np.full(N_RING, k) for k in ring_ids])
    spoke = np.concatenate([[-1]] + [np.arange(N_RING)] * len(rings))
    lid_w = np.concatenate([[1.0]] + [np.full(N_RING, w) for w in weights])
    # local index of ring r (0-based in `rings`), spoke j: N_RING + 1 + r * N_RING + j
    base = lambda r: N_RING + 1 + r * N_RING  # noqa: E731
    j = np.arange(N_RING)
    jn = (j + 1) % N_RING
    tris = [np.column_stack([np.full(N_RING, N_RING), base(0) + jn, base(0) + j])]  # cap fan
    n_r = len(rings)
    for r in range(n_r):
        a0, a1 = base(r) + j, base(r) + jn
        if r + 1 < n_r:
            b0, b1 = base(r + 1) + j, base(r + 1) + jn
        else:
            b0, b1 = j, jn  # boundary ring
        tris.append(np.column_stack([a0, a1, b1]))
        tris.append(np.column_stack([a0, b1, b0]))
    return EyePatch(verts, np.concatenate(tris).astype(np.int64), ring, spoke, lid_w, m)


def build_eyeball() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left eyeball: (V, 3) vertices mm, (F, 3) triangles (outward), (V,) bool iris mask.

    A UV sphere about the gaze axis ``e_z`` with rings at the pupil and limbus so the iris
    edge is crisp; the pupil is the iris centre (region ``iris``).
    """
    a = ANATOMY
    c, fr = eye_frame()
    polar = np.radians([5, 9, a.pupil_half_angle_deg, 18, 23, a.iris_half_angle_deg - 0.5,
                        a.iris_half_angle_deg + 0.5, 36, 45, 56, 68, 82, 98, 120, 145, 165])
    nseg = 32
    az = np.arange(nseg) * 2 * np.pi / nseg
    P, A = np.meshgrid(polar, az, indexing="ij")
    loc = np.stack([np.sin(P) * np.cos(A), np.sin(P) * np.sin(A), np.cos(P)], -1).reshape(-1, 3)
    loc = np.concatenate([[[0.0, 0.0, 1.0]], loc, [[0.0, 0.0, -1.0]]])
    verts = c + a.eye_radius * loc @ fr
    iris = np.concatenate([[True], (P <= np.radians(a.iris_half_angle_deg)).ravel(), [False]])
    j = np.arange(nseg)
    jn = (j + 1) % nseg
    ring = lambda r: 1 + r * nseg  # noqa: E731
    tris = [np.column_stack([np.zeros(nseg, int), ring(0) + j, ring(0) + jn])]
    for r in range(len(polar) - 1):
        tris.append(np.column_stack([ring(r) + j, ring(r + 1) + j, ring(r + 1) + jn]))
        tris.append(np.column_stack([ring(r) + j, ring(r + 1) + jn, ring(r) + jn]))
    last = len(verts) - 1
    tris.append(np.column_stack([np.full(nseg, last), ring(len(polar) - 1) + jn, ring(len(polar) - 1) + j]))
    tris = np.concatenate(tris).astype(np.int64)
    n = np.cross(verts[tris[:, 1]] - verts[tris[:, 0]], verts[tris[:, 2]] - verts[tris[:, 0]])
    if np.mean(np.einsum("ij,ij->i", n, verts[tris].mean(1) - c)) < 0:
        tris = tris[:, ::-1]
    return verts, tris, iris
