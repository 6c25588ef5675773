"""The head's skin as one implicit solid: skull, face, nose, sockets, jaw and neck.

``head_sdf(p)`` is a signed-distance bound (mm, negative inside) built by smooth CSG of
ellipsoids and tapered capsules. Paired features are evaluated at ``|x|``, so the solid is
exactly mirror-symmetric about x = 0. Lips, lid margins and ears are not in it: they are
explicit meshes (``synth.headgen.mouth``, ``eyes``, ``ears``) stitched onto its surface.

Symbols: N points; p is (N, 3) float64, mm, model frame.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

from synth.headgen import sdf as S
from synth.headgen.anatomy import ANATOMY

__all__ = ["head_sdf", "surface_point_frontal"]


def _mirror(p: np.ndarray) -> np.ndarray:
    """Points folded onto the subject's left half (x -> |x|)."""
    q = p.copy()
    q[:, 0] = np.abs(q[:, 0])
    return q


def _scaled_x(fn, p: np.ndarray, sx: float) -> np.ndarray:
    """Evaluate ``fn`` on space squeezed along x by ``sx`` (> 1 makes the solid narrower)."""
    q = p.copy()
    q[:, 0] *= sx
    return fn(q) / sx


def _cranium(p: np.ndarray) -> np.ndarray:
    d = S.ellipsoid(p, (0.0, 26.0, -8.0), (74.0, 84.0, 97.0))
    d = S.smin(d, S.ellipsoid(p, (0.0, 50.0, -14.0), (70.0, 57.0, 88.0)), 12.0)  # fuller vault
    # Forehead: a slightly flatter, wider front so the brow line is not a pointed egg.
    d = S.smin(d, S.ellipsoid(p, (0.0, 34.0, 10.0), (66.0, 70.0, 76.0)), 10.0)
    q = _mirror(p)
    # Temporal hollows (subtle) above the zygomatic arch.
    d = S.smax(d, -S.ellipsoid(q, (86.0, 18.0, 42.0), (18.0, 22.0, 24.0)), 12.0)
    return d


# Face "generalised cylinder": at each height y the face's horizontal cross-section is an
# ellipse with its front on the midline at z = front(y), half-width rx(y) and depth rz(y).
# Control rows (y, front, rx, rz), mm; interpolated with a C2 cubic spline.
_FACE_ROWS = np.array([
    # y      front   rx     rz
    # y      front   rx     rz    k (extra front curvature, 1/mm)
    [50.0,   80.0,  60.0,  80.0,  0.0],
    [32.0,   86.0,  65.0,  78.0,  0.0],
    [18.0,   88.0,  67.0,  74.0,  0.0],
    [6.0,    85.0,  67.0,  72.0,  0.0],
    [-8.0,   82.0,  68.0,  72.0,  0.0],
    [-22.0,  84.0,  66.0,  72.0,  0.001],
    [-36.0,  88.0,  62.0,  70.0,  0.003],
    [-48.0,  92.0,  59.0,  68.0,  0.0045],
    [-58.0,  93.0,  57.0,  65.0,  0.005],
    [-66.0,  91.5,  56.0,  62.0,  0.005],
    [-76.0,  87.5,  54.0,  60.0,  0.0045],
    [-88.0,  85.0,  51.0,  57.0,  0.004],
    [-98.0,  87.0,  46.0,  54.0,  0.004],
    [-107.0, 85.0,  40.0,  52.0,  0.004],
    [-114.0, 79.0,  30.0,  48.0,  0.004],
    [-120.0, 66.0,  16.0,  40.0,  0.003],
])
_FACE_Y0, _FACE_Y1 = -123.0, 55.0
_FACE_SPLINE = CubicSpline(_FACE_ROWS[::-1, 0], _FACE_ROWS[::-1, 1:], bc_type="natural")


def _face_cylinder(p: np.ndarray) -> np.ndarray:
    y = np.clip(p[:, 1], _FACE_ROWS[-1, 0], _FACE_ROWS[0, 0])
    front, rx, rz, k = _FACE_SPLINE(y).T
    zc = front - rz
    qx, qz = p[:, 0] / rx, (p[:, 2] + k * p[:, 0] ** 2 - zc) / rz
    k0 = np.sqrt(qx * qx + qz * qz)
    k1 = np.sqrt((qx / rx) ** 2 + (qz / rz) ** 2)
    d = k0 * (k0 - 1.0) / np.maximum(k1, 1e-9)
    d = S.smax(d, _FACE_Y0 - p[:, 1], 8.0)
    return S.smax(d, p[:, 1] - _FACE_Y1, 20.0)


def _face_features(q: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Cheekbones, zygomatic arch, chin (left half)."""
    d = S.smin(d, S.ellipsoid(q, (48.0, -17.0, 50.0), (15.0, 10.0, 18.0)), 12.0)  # cheekbone
    d = S.smin(d, S.ellipsoid(q, (38.0, -46.0, 50.0), (22.0, 22.0, 26.0)), 16.0)  # cheek pad
    d = S.smin(d, S.ellipsoid(q, (0.0, -98.0, 75.0), (17.0, 12.0, 12.0)), 8.0)  # chin
    return d


def _nose(q: np.ndarray) -> np.ndarray:
    """External nose: dorsum, tip and alae (left half; the dorsum is on the midline)."""
    dorsum = _scaled_x(lambda r: S.round_cone(r, (0.0, 3.0, 79.5), (0.0, -29.0, 100.0), 5.5, 7.5), q, 1.12)
    tip = S.ellipsoid(q, (0.0, -32.5, 103.0), (9.0, 8.0, 8.5))
    d = S.smin(dorsum, tip, 6.0)
    ala = S.ellipsoid(q, (10.8, -38.5, 90.0), (6.2, 5.8, 8.5))
    d = S.smin(d, ala, 7.0)
    nostril = S.ellipsoid(q, (6.0, -43.5, 97.0), (3.0, 2.0, 5.0))
    return S.smax(d, -nostril, 1.0)


def _eye_region(q: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Carve the orbit, add the brow ridge and the lid bulge over the eyeball."""
    a = ANATOMY
    c = a.eye_center_l
    brow = S.round_cone(q, (10.0, 17.0, 85.0), (34.0, 21.0, 80.0), 5.0, 5.5)
    brow = S.smin(brow, S.round_cone(q, (34.0, 21.0, 80.0), (54.0, 15.0, 62.0), 5.5, 4.0), 6.0)
    d = S.smin(d, brow, 10.0)
    socket = S.ellipsoid(q, (c[0] + 0.5, c[1] + 3.5, c[2] + 14.0), (16.5, 10.5, 10.0))
    d = S.smax(d, -socket, 10.0)
    lid = S.sphere(q, c, a.eye_radius + a.lid_thickness)
    d = S.smin(d, lid, 8.0)
    return d


def _neck(p: np.ndarray) -> np.ndarray:
    a = ANATOMY
    d = _scaled_x(lambda r: S.capsule(r, (0.0, -70.0, -16.0), (0.0, -260.0, -8.0), 48.0), p, 48.0 / 51.0)
    return S.smax(d, -(p[:, 1] - a.neck_bottom_y), 10.0)  # rounded cut at the bottom


def head_sdf(p: np.ndarray) -> np.ndarray:
    """Signed distance bound (mm) to the skin of the mean head; (N, 3) -> (N,)."""
    p = np.asarray(p, dtype=np.float64)
    q = _mirror(p)
    d = _cranium(p)
    d = S.smin(d, _face_cylinder(p), 14.0)
    d = _face_features(q, d)
    d = S.smin(d, _nose(q), 7.0)
    d = _eye_region(q, d)
    d = S.smin(d, S.ellipsoid(q, (54.0, -32.0, -24.0), (12.0, 18.0, 14.0)), 14.0)  # mastoid
    d = S.smin(d, _neck(p), 22.0)
    return d


def surface_point_frontal(xy: np.ndarray, z_far: float = 200.0) -> np.ndarray:
    """Skin points hit by rays travelling along -z through the given (x, y).

    Args:
        xy: (N, 2) mm.

    Returns:
        (N, 3) float64 surface points (the frontmost crossing); NaN rows where no hit.
    """
    xy = np.asarray(xy, dtype=np.float64)
    org = np.column_stack([xy, np.full(len(xy), -100.0)])
    dirs = np.tile([0.0, 0.0, 1.0], (len(xy), 1))
    t = S.ray_cast(head_sdf, org, dirs, t_far=z_far + 100.0)
    return org + t[:, None] * dirs
