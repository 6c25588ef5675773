"""Expression blendshapes (ARKit names, weights in [0, 1]) of the default head.

Each mode is a displacement per unit weight (V, 3) mm. ``_L``/``_R`` are the subject's left
and right; a right mode is the exact mirror image of the left one. The lids rotate about the
lid hinge axis (``synth.headgen.eyes``), so ``eyeBlink`` at 1 lays each upper-lid margin
vertex exactly onto the lower-lid vertex below it; ``jawOpen`` rotates the lower face, lower
lip, lower teeth and the floor of the mouth pouch about the jaw joints, which opens the
crease between the lips onto the dark pouch.

Symbols: V vertices; fields map (N, 3) points (mm) to (N, 3) displacements (mm).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from synth.headgen import eyes as EY
from synth.headgen import mouth as MO
from synth.headgen.anatomy import ANATOMY
from synth.headgen.assembly import HeadMesh
from synth.headgen.fields import axis_rotation, gauss, rotation_delta, side_weight, smoothstep
from synth.headgen.identity import symmetrize
from synth.headgen.mesh import mirror_x

__all__ = ["EXPRESSION_NAMES", "expression_basis", "JAW_OPEN_DEG", "jaw_weight"]

JAW_OPEN_DEG = 18.0
# Effective hinge of the opening mandible (y, z mm): below the joint, because the condyle
# also slides forward as the mouth opens, so the jaw angle barely moves.
_JAW_PIVOT = (-40.0, 0.0)
_TINY = 0.01  # mm: smaller displacements are stored as 0 (keeps the file small)


def _skin(hm: HeadMesh) -> np.ndarray:
    g = hm.groups
    return np.concatenate([g["chart"], g["mouth_patch"], g["eye_patch_l"], g["eye_patch_r"]])


def _still_lids(hm: HeadMesh) -> np.ndarray:
    """(V,) 1 everywhere except lid vertices near the globe (0), so skin fields leave the
    lid margins to the lid modes."""
    w = np.ones(len(hm.verts))
    ring = hm.eye_patch.ring
    for side in ("l", "r"):
        w[hm.groups[f"eye_patch_{side}"]] = np.clip((ring - 3) / 4.0, 0.0, 1.0)
    return w


def _skin_field(hm: HeadMesh, field: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    out = np.zeros_like(hm.verts)
    s = _skin(hm)
    out[s] = field(hm.verts[s])
    return out * _still_lids(hm)[:, None]


def _bump(centre, sigma, disp, left_only: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """Gaussian bump moving points by ``disp`` (3,) mm at its centre (left side)."""
    disp = np.asarray(disp, dtype=np.float64)

    def f(p: np.ndarray) -> np.ndarray:
        w = gauss(p, centre, sigma)
        if left_only:
            w = w * side_weight(p[:, 0], 6.0)
        return w[:, None] * disp
    return f


# -- jaw ---------------------------------------------------------------------------------------
def _jaw_geo(p: np.ndarray) -> np.ndarray:
    """Jaw share by position: below a line from the mouth back up to the jaw joint."""
    a = ANATOMY
    back = np.clip((80.0 - p[:, 2]) / 84.0, 0.0, 1.0)
    y_split = a.mouth_y + (a.tmj[1] - a.mouth_y) * back
    width = 24.0 + 16.0 * back
    w = smoothstep(p[:, 1], y_split + 0.5 * width, y_split - 0.5 * width)
    return w * smoothstep(p[:, 1], -178.0, -122.0) * smoothstep(p[:, 2], -15.0, 30.0)


def jaw_weight(hm: HeadMesh) -> np.ndarray:
    """(V,) share of the mandible's motion each vertex follows (0..1)."""
    w = _jaw_geo(hm.verts)
    for name in ("eyeball_l", "eyeball_r", "ear_l", "ear_r", "teeth_upper", "eye_patch_l", "eye_patch_r"):
        w[hm.groups[name]] = 0.0
    w[hm.groups["teeth_lower"]] = 1.0
    mp = hm.mouth_patch
    g = hm.groups["mouth_patch"]
    # lower lip follows the jaw fully mid-lip, both lips half at the corners (oval opening)
    ax = np.abs(hm.verts[g, 0]) / ANATOMY.mouth_half_width
    prof = np.sqrt(np.clip(1.0 - ax ** 2, 0.0, 1.0)) ** 0.7
    side = 0.5 + 0.5 * prof * np.sign(-mp.side)
    f = np.clip(mp.ring_t - 1.0, 0.0, 1.0)
    w[g] = (1.0 - f) * side + f * w[g]
    return w


def _jaw_rotation(hm: HeadMesh, deg: float) -> np.ndarray:
    pivot = np.array([0.0, _JAW_PIVOT[0], _JAW_PIVOT[1]])
    return rotation_delta(hm.verts, pivot, (1.0, 0.0, 0.0), np.radians(deg)) * jaw_weight(hm)[:, None]


# -- lips --------------------------------------------------------------------------------------
def _lip_share(hm: HeadMesh) -> np.ndarray:
    """(V,) 1 on the lips and pouch entrance, fading to 0 at the patch boundary and deep in
    the pouch; 0 off the lip patch."""
    mp = hm.mouth_patch
    t = mp.ring_t
    w = np.where(t <= 1.0, smoothstep(t, -1.2, -0.2), smoothstep(t, 2.0, 1.0))
    out = np.zeros(len(hm.verts))
    out[hm.groups["mouth_patch"]] = w
    return out


def _lip_side(hm: HeadMesh) -> np.ndarray:
    out = np.zeros(len(hm.verts))
    out[hm.groups["mouth_patch"]] = hm.mouth_patch.side
    return out


def _lip_profile(hm: HeadMesh) -> np.ndarray:
    """(V,) 1 mid-lip, 0 at the corners (lip patch only)."""
    out = np.zeros(len(hm.verts))
    g = hm.groups["mouth_patch"]
    ax = np.abs(hm.verts[g, 0]) / ANATOMY.mouth_half_width
    out[g] = np.sqrt(np.clip(1.0 - ax ** 2, 0.0, 1.0))
    return out


def _mouth_close(hm: HeadMesh) -> np.ndarray:
    """Lips meet halfway while the jaw is open (use with jawOpen): each lip moves by half
    the gap ``jawOpen`` opens between its crease vertex and the one facing it."""
    mp = hm.mouth_patch
    g = hm.groups["mouth_patch"]
    jaw = _jaw_rotation(hm, JAW_OPEN_DEG)
    crease = g[mp.ring == 0]  # spoke order
    spoke = np.maximum(mp.spoke, 0)
    upper_spoke = np.where(mp.side < 0, MO.N_RING - spoke, spoke) % MO.N_RING
    lower_spoke = np.where(mp.side > 0, MO.N_RING - spoke, spoke) % MO.N_RING
    gap = jaw[crease[lower_spoke]] - jaw[crease[upper_spoke]]
    share = _lip_share(hm)[g] * np.where(mp.ring_t <= 1.0, 1.0 - 0.4 * np.clip(mp.ring_t, 0.0, 1.0), 0.6)
    sign = np.where(mp.side > 0, 0.5, np.where(mp.side < 0, -0.5, 0.0))
    out = np.zeros_like(hm.verts)
    out[g] = (sign * share)[:, None] * gap
    return out


def _lips_open(hm: HeadMesh, upper: bool, amount: float) -> np.ndarray:
    """Upper lip up (or lower lip down) by ``amount`` mm at mid-lip, left half."""
    side = _lip_side(hm)
    on = side > 0 if upper else side < 0
    w = _lip_share(hm) * _lip_profile(hm) ** 0.5 * on * side_weight(hm.verts[:, 0], 8.0)
    out = np.zeros_like(hm.verts)
    out[:, 1] = (amount if upper else -amount) * w
    out[:, 2] = 0.8 * w
    return out


def _pucker(hm: HeadMesh, funnel: bool) -> np.ndarray:
    p = hm.verts
    w = _lip_share(hm)
    out = np.zeros_like(p)
    out[:, 0] = -(0.22 if funnel else 0.3) * p[:, 0] * w
    out[:, 1] = -0.2 * (p[:, 1] - ANATOMY.mouth_y) * w
    out[:, 2] = (4.0 if funnel else 6.5) * w * (1.0 - 0.3 * np.clip(_ring_t(hm), 0.0, 1.0))
    if funnel:
        out[:, 1] += 2.8 * _lip_side(hm) * _lip_profile(hm) * w
    return out


def _ring_t(hm: HeadMesh) -> np.ndarray:
    out = np.full(len(hm.verts), 3.0)
    out[hm.groups["mouth_patch"]] = hm.mouth_patch.ring_t
    return out


# -- eyes ----------------------------------------------------------------------------------------
def _lid_rotation(hm: HeadMesh, upper_scale: float, lower_scale: float, mode: str = "close") -> np.ndarray:
    """Left-lid motion: each spoke turns about the hinge axis by a share of its closing angle
    (``mode='close'``) or by a fixed angle in degrees (``mode='deg'``), times the vertex's
    lid weight."""
    ep = hm.eye_patch
    m = ep.margin
    if mode == "close":
        ang = np.where(m.upper, upper_scale * (m.phi_close - m.phi), np.where(m.lower, lower_scale * (m.phi_close - m.phi), 0.0))
    else:
        lid = (4.0 * m.s * (1.0 - m.s)) ** 0.5
        ang = np.radians(np.where(m.upper, upper_scale, np.where(m.lower, lower_scale, 0.0))) * lid
    idx = hm.groups["eye_patch_l"]
    a = np.where(ep.spoke >= 0, ang[np.maximum(ep.spoke, 0)], 0.0) * ep.lid_weight
    out = np.zeros_like(hm.verts)
    out[idx] = EY.rotate_about_hinge(hm.verts[idx], a) - hm.verts[idx]
    return out


def _look(hm: HeadMesh, axis_local: int, deg: float, lid_up: float, lid_low: float) -> np.ndarray:
    """Left eyeball turned about its centre (axis 0: hinge axis, up; 1: vertical, outward)."""
    c, fr = EY.eye_frame()
    out = _lid_rotation(hm, lid_up, lid_low, mode="deg") if (lid_up or lid_low) else np.zeros_like(hm.verts)
    idx = hm.groups["eyeball_l"]
    q = hm.verts[idx] - c
    if axis_local == 0:
        r = axis_rotation(fr[0], -np.radians(deg))  # +deg turns the gaze up
    else:
        r = axis_rotation(fr[1], np.radians(deg))  # +deg turns the gaze outward (+x)
    out[idx] = q @ r.T - q
    return out


def _left_modes(hm: HeadMesh) -> dict[str, np.ndarray]:
    """Left-side modes ``name_L`` (their ``_R`` twins are mirrored later)."""
    corner = (ANATOMY.mouth_half_width, ANATOMY.mouth_y + 0.5, 80.0)
    f = {}
    f["eyeBlink"] = _lid_rotation(hm, 1.0, 1.0)
    f["eyeWide"] = _lid_rotation(hm, -0.35, -0.1)
    f["eyeSquint"] = _lid_rotation(hm, 0.15, 0.45) + _skin_field(hm, _bump((36.0, -22.0, 70.0), (14.0, 10.0, 20.0), (0.0, 2.0, 0.8)))
    f["eyeLookUp"] = _look(hm, 0, 22.0, 11.0, 5.0)
    f["eyeLookDown"] = _look(hm, 0, -25.0, -15.0, -6.0)
    f["eyeLookIn"] = _look(hm, 1, -24.0, 0.0, 0.0)
    f["eyeLookOut"] = _look(hm, 1, 26.0, 0.0, 0.0)
    f["browDown"] = _skin_field(hm, _bump((26.0, 20.0, 82.0), (16.0, 12.0, 30.0), (-2.5, -5.0, 1.5)))
    f["browOuterUp"] = _skin_field(hm, _bump((45.0, 22.0, 72.0), (13.0, 13.0, 30.0), (0.0, 6.0, 0.0)))
    f["cheekSquint"] = _skin_field(hm, _bump((38.0, -26.0, 68.0), (14.0, 11.0, 20.0), (0.0, 3.0, 1.0)))
    f["noseSneer"] = _skin_field(hm, _bump((11.0, -32.0, 88.0), (8.0, 9.0, 14.0), (0.0, 3.0, 0.5)))
    f["mouthSmile"] = _skin_field(hm, lambda p: _bump(corner, (13.0, 11.0, 22.0), (5.5, 7.0, -3.5))(p)
                                  + _bump((38.0, -38.0, 66.0), (15.0, 14.0, 22.0), (1.5, 4.0, 3.0))(p))
    f["mouthFrown"] = _skin_field(hm, _bump(corner, (13.0, 11.0, 22.0), (0.5, -4.5, -0.5)))
    f["mouthStretch"] = _skin_field(hm, _bump(corner, (13.0, 11.0, 22.0), (5.0, -2.0, -2.0)))
    f["mouthUpperUp"] = _lips_open(hm, True, 3.5)
    f["mouthLowerDown"] = _lips_open(hm, False, 4.0)
    return f


def expression_basis(hm: HeadMesh) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """(Ke, V, 3) float64 basis (mm per unit weight), names and (Ke, 2) ranges [0, 1]."""
    twin = hm.twin
    modes: dict[str, np.ndarray] = {}
    jaw_w = jaw_weight(hm)[:, None]
    modes["jawOpen"] = symmetrize(_jaw_rotation(hm, JAW_OPEN_DEG), twin)
    modes["jawForward"] = symmetrize(np.array([0.0, 0.0, 5.0]) * jaw_w, twin)
    jaw_left = np.array([7.0, 0.0, 0.0]) * jaw_w
    modes["jawLeft"] = jaw_left
    modes["jawRight"] = mirror_x(jaw_left[twin])
    modes["mouthClose"] = symmetrize(_mouth_close(hm), twin)
    modes["mouthFunnel"] = symmetrize(_pucker(hm, True), twin)
    modes["mouthPucker"] = symmetrize(_pucker(hm, False), twin)
    puff = _skin_field(hm, lambda p: 9.0 * gauss(p * np.column_stack([np.sign(p[:, 0]), np.ones((len(p), 2))]),
                                                  (40.0, -56.0, 55.0), (18.0, 17.0, 24.0))[:, None]
                       * np.column_stack([0.75 * np.sign(p[:, 0]), np.full(len(p), -0.1), np.full(len(p), 0.65)]))
    modes["cheekPuff"] = symmetrize(puff, twin)
    modes["browInnerUp"] = symmetrize(_skin_field(hm, lambda p: _bump((15.0, 22.0, 84.0), (13.0, 14.0, 30.0), (0.0, 7.0, 0.0), False)(
        p * np.column_stack([np.sign(p[:, 0]), np.ones((len(p), 2))]))), twin)
    for name, left in _left_modes(hm).items():
        modes[name + "_L"] = left
        modes[name + "_R"] = mirror_x(left[twin])
    names = tuple(modes)
    basis = np.stack([modes[n] for n in names])
    basis[np.abs(basis) < _TINY] = 0.0
    ranges = np.tile([0.0, 1.0], (len(names), 1))
    return basis, names, ranges


EXPRESSION_NAMES: tuple[str, ...] = (
    "jawOpen", "jawForward", "jawLeft", "jawRight", "mouthClose", "mouthFunnel", "mouthPucker",
    "cheekPuff", "browInnerUp",
) + tuple(f"{n}_{s}" for n in (
    "eyeBlink", "eyeWide", "eyeSquint", "eyeLookUp", "eyeLookDown", "eyeLookIn", "eyeLookOut",
    "browDown", "browOuterUp", "cheekSquint", "noseSneer", "mouthSmile", "mouthFrown",
    "mouthStretch", "mouthUpperUp", "mouthLowerDown") for s in ("L", "R"))
