"""Identity modes: smooth displacement fields, each scaled to one standard deviation.

Each mode is a field over space (mm per unit N(0, 1) weight) evaluated on the mean head.
Eyeballs and ears move rigidly (the field at their centre, ears have their own modes), lid
vertices near the globe blend to the eyeball's motion so lids keep hugging it, and every
mode is made exactly mirror-symmetric. Standard deviations are rounded adult values from
Farkas' anthropometric tables (head breadth ~5.5 mm, face height ~6 mm, nose width ~3 mm,
interpupillary distance ~3.2 mm, ear length ~4.5 mm, ...), so N(0, 1) weights give plausible
heads and +-3 is still a head.

Symbols: V vertices; fields map (N, 3) points (mm) to (N, 3) displacements (mm).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from synth.headgen import eyes as EY
from synth.headgen import mouth as MO
from synth.headgen.assembly import HeadMesh
from synth.headgen.fields import axis_rotation, gauss, smoothstep
from synth.headgen.mesh import mirror_x

__all__ = ["IDENTITY_NAMES", "identity_basis", "apply_field", "symmetrize"]

Field = Callable[[np.ndarray], np.ndarray]


def _vec(fx=None, fy=None, fz=None) -> Field:
    def f(p: np.ndarray) -> np.ndarray:
        out = np.zeros_like(p)
        for k, g in enumerate((fx, fy, fz)):
            if g is not None:
                out[:, k] = g(p)
        return out
    return f


def _sx(p: np.ndarray) -> np.ndarray:
    return np.sign(p[:, 0])


def _fold(p: np.ndarray) -> np.ndarray:
    """Points folded onto the subject's left (x -> |x|)."""
    return p * np.column_stack([np.sign(p[:, 0]) + (p[:, 0] == 0), np.ones((len(p), 2))])


_FIELDS: dict[str, Field] = {
    # whole-head size and shape
    "head_width": _vec(fx=lambda p: 0.037 * p[:, 0] * smoothstep(p[:, 1], -95.0, -20.0)),
    "head_length": _vec(fz=lambda p: -6.5 * smoothstep(p[:, 2], 60.0, -105.0) * smoothstep(p[:, 1], -120.0, -60.0)),
    "cranium_height": _vec(fy=lambda p: 5.0 * smoothstep(p[:, 1], 0.0, 110.0)),
    "face_length": _vec(fy=lambda p: -6.0 * smoothstep(p[:, 1], 5.0, -115.0) * (0.35 + 0.65 * smoothstep(p[:, 2], -60.0, 20.0))),
    "face_width": _vec(fx=lambda p: 0.04 * p[:, 0] * gauss(p, (0.0, -30.0, 40.0), (1e9, 45.0, 60.0))),
    "forehead_slope": _vec(fz=lambda p: -0.09 * np.maximum(p[:, 1] - 20.0, 0.0) * smoothstep(p[:, 1], 130.0, 95.0) * smoothstep(p[:, 2], 10.0, 60.0)),
    # jaw and chin
    "jaw_width": _vec(fx=lambda p: 3.0 * _sx(p) * np.minimum(np.abs(p[:, 0]) / 50.0, 1.0) * gauss(p * [0, 1, 1], (0.0, -85.0, 15.0), (1.0, 30.0, 40.0))),
    "chin_protrusion": _vec(fz=lambda p: 4.0 * gauss(p, (0.0, -105.0, 80.0), (28.0, 20.0, 40.0)) * smoothstep(p[:, 2], 20.0, 60.0)),
    "chin_width": _vec(fx=lambda p: 0.1 * p[:, 0] * gauss(p, (0.0, -104.0, 80.0), (30.0, 16.0, 30.0))),
    # nose
    "nose_length": _vec(fy=lambda p: -4.0 * smoothstep(p[:, 1], 5.0, -35.0) * smoothstep(p[:, 1], -62.0, -46.0)
                        * gauss(p * [1, 0, 0], 0.0, (22.0, 1.0, 1.0)) * smoothstep(p[:, 2], 70.0, 86.0)),
    "nose_width": _vec(fx=lambda p: 1.5 * _sx(p) * np.minimum(np.abs(p[:, 0]) / 17.0, 1.0) * gauss(p, (0.0, -37.0, 0.0), (1e9, 11.0, 1e9))
                       * smoothstep(np.abs(p[:, 0]), 27.0, 19.0) * smoothstep(p[:, 2], 74.0, 86.0)),
    "nose_bridge_height": _vec(fz=lambda p: 2.5 * gauss(p * [1, 0, 0], 0.0, (9.0, 1.0, 1.0)) * smoothstep(p[:, 1], 12.0, -4.0)
                               * smoothstep(p[:, 1], -48.0, -40.0) * smoothstep(p[:, 2], 82.0, 92.0)),
    "nose_tip": _vec(fy=lambda p: 2.0 * gauss(p, (0.0, -34.0, 110.0), (12.0, 9.0, 14.0)),
                     fz=lambda p: 1.5 * gauss(p, (0.0, -34.0, 110.0), (12.0, 9.0, 14.0))),
    # brows, cheeks, eyes
    "brow_ridge": _vec(fz=lambda p: 2.0 * gauss(p * [1, 1, 0], (0.0, 19.0, 0.0), (1e9, 8.0, 1.0)) * gauss(np.abs(p) * [1, 0, 0], (26.0, 0, 0), (26.0, 1, 1))
                       * smoothstep(p[:, 2], 60.0, 80.0)),
    "cheekbones": lambda p: 3.0 * gauss(_fold(p), (50.0, -16.0, 52.0), (16.0, 14.0, 20.0))[:, None] * np.column_stack([0.6 * _sx(p), 0.1 + 0 * p[:, 0], 0.8 + 0 * p[:, 0]]),
    "eye_spacing": _vec(fx=lambda p: 1.6 * _sx(p) * gauss(np.abs(p) * [1, 1, 0], (31.5, 0.0, 0.0), (24.0, 22.0, 1.0)) * smoothstep(p[:, 2], 25.0, 55.0)),
    "eye_height": _vec(fy=lambda p: 1.8 * gauss(np.abs(p) * [1, 1, 0], (31.5, 0.0, 0.0), (22.0, 18.0, 1.0)) * smoothstep(p[:, 2], 25.0, 55.0)),
    # mouth
    "mouth_width": _vec(fx=lambda p: 0.07 * p[:, 0] * gauss(p * [0, 1, 0], (0.0, -64.0, 0.0), (1.0, 16.0, 1.0)) * smoothstep(np.abs(p[:, 0]), 48.0, 30.0) * smoothstep(p[:, 2], 45.0, 70.0)),
    "midface_depth": _vec(fz=lambda p: 3.0 * gauss(p, (0.0, -50.0, 0.0), (38.0, 24.0, 1e9)) * smoothstep(p[:, 2], 40.0, 75.0)),
    "neck_width": lambda p: (np.column_stack([p[:, 0], 0 * p[:, 0], p[:, 2] + 12.0]) * (0.06 * smoothstep(p[:, 1], -85.0, -125.0))[:, None]),
}

#: Names of the identity modes, in basis order (fields, then the lip and ear modes).
IDENTITY_NAMES: tuple[str, ...] = tuple(_FIELDS) + ("lip_thickness", "ear_size", "ear_protrusion")


def symmetrize(delta: np.ndarray, twin: np.ndarray) -> np.ndarray:
    """Exactly mirror-symmetric version (V, 3) of a displacement field on a symmetric mesh."""
    return 0.5 * (delta + mirror_x(delta[twin]))


def apply_field(hm: HeadMesh, field: Field) -> np.ndarray:
    """(V, 3) displacement of ``field`` on the head, with rigid eyeballs and ears."""
    v = hm.verts
    out = np.zeros_like(v)
    g = hm.groups
    skin = np.concatenate([g["chart"], g["mouth_patch"], g["teeth_upper"], g["teeth_lower"]])
    out[skin] = field(v[skin])
    c, _ = EY.eye_frame()
    for side, centre in (("l", c), ("r", mirror_x(c[None])[0])):
        at_c = field(centre[None])[0]
        out[g[f"eyeball_{side}"]] = at_c
        idx = g[f"eye_patch_{side}"]
        lam = np.clip((hm.eye_patch.ring - 2) / 4.0, 0.0, 1.0)[:, None]
        out[idx] = at_c + lam * (field(v[idx]) - at_c)
        origin = hm.ear_frame.origin if side == "l" else mirror_x(hm.ear_frame.origin[None])[0]
        out[g[f"ear_{side}"]] = field(origin[None])[0]
    return out


def _lip_thickness(hm: HeadMesh) -> np.ndarray:
    """Fuller lips: each lip grows 18 % in height per SD (about 1.3 mm upper, 1.8 mm lower
    mid-lip; nothing at the corners) and rolls forward."""
    mp = hm.mouth_patch
    g = hm.groups["mouth_patch"]
    v = hm.verts[g]
    crease_y = v[mp.ring == 0, 1][np.maximum(mp.spoke, 0)]  # ring 0 is in spoke order
    border_y = v[mp.ring == MO.K_BORDER, 1][np.maximum(mp.spoke, 0)]
    t = mp.ring_t
    rel = np.where(t <= 1.0, v[:, 1] - crease_y, (border_y - crease_y) * np.clip(2.0 - t, 0.0, 1.0) ** 2)
    dy = 0.18 * rel * (mp.ring >= 0)
    dz = 0.9 * np.sin(np.pi * np.clip(t, 0.0, 1.0)) * (np.abs(mp.side) > 0)
    out = np.zeros_like(hm.verts)
    out[g] = np.column_stack([np.zeros_like(dy), dy, dz])
    return out


def _ear_modes(hm: HeadMesh) -> tuple[np.ndarray, np.ndarray]:
    """Ear size (+7 % per SD, ~4.5 mm in length) and protrusion (+6 deg per SD)."""
    fr = hm.ear_frame
    size, prot = np.zeros_like(hm.verts), np.zeros_like(hm.verts)
    for side in ("l", "r"):
        idx = hm.groups[f"ear_{side}"]
        p = hm.verts[idx]
        origin, hinge = fr.origin, fr.hinge
        if side == "r":
            p = mirror_x(p)
        size_l = 0.07 * (p - origin)
        r = axis_rotation(fr.axes[1], np.radians(-6.0))  # about the ear's long axis
        prot_l = (p - hinge) @ r.T - (p - hinge)
        if side == "r":
            size_l, prot_l = mirror_x(size_l), mirror_x(prot_l)
        size[idx], prot[idx] = size_l, prot_l
    return size, prot


def identity_basis(hm: HeadMesh) -> tuple[np.ndarray, tuple[str, ...]]:
    """(Ki, V, 3) float64 identity basis (mm per SD) and the mode names."""
    modes = [apply_field(hm, f) for f in _FIELDS.values()]
    modes.append(_lip_thickness(hm))
    modes.extend(_ear_modes(hm))
    basis = np.stack([symmetrize(m, hm.twin) for m in modes])
    return basis, IDENTITY_NAMES
