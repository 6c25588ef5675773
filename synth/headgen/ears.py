"""The external ear (left): a closed shell with helix rim, antihelix, scapha, concha and lobe.

Ear frame: origin at the concha centre (just outside the ear canal), ``e_p`` forward,
``e_q`` up and ``e_n`` outward (lateral). The ear's outline is a polar curve ``R(psi)`` around
the origin in the (p, q) plane (``psi`` = 0 forward, 90 deg up); the lateral face carries the
relief as a height along ``e_n`` over the normalised radius ``s = rho / R(psi)``; the medial
face is a gentle dome. The front part is sunk into the skull, hiding the join; the frame is
turned about the ear's front edge by the protrusion angle and its long axis leans back.

Symbols: S spokes (``N_SPOKE``), mm, model frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from synth.headgen.anatomy import ANATOMY
from synth.headgen.surface import cast_dirs

__all__ = ["N_SPOKE", "EarFrame", "Ear", "ear_frame", "build_ear"]

N_SPOKE = 48
_PROTRUSION_DEG = 27.0
_LEAN_BACK_DEG = 14.0
_SINK = 0.8  # frame origin this far inside the skin (mm)
# Outline radius (mm) at psi = 0, 45, ..., 315 deg (front, up-front, up, up-back, back, ...).
_OUTLINE = (7.0, 20.0, 31.0, 29.5, 26.5, 26.0, 34.0, 15.0)
_FRONT_S = (0.0, 0.12, 0.24, 0.36, 0.46, 0.55, 0.64, 0.73, 0.81, 0.88, 0.94, 0.985)
_BACK_S = (0.985, 0.9, 0.72, 0.48, 0.24)


@dataclass(frozen=True)
class EarFrame:
    """origin (3,) mm and rows ``(e_p, e_q, e_n)`` (3, 3) of the left ear; ``hinge`` (3,) a
    point on the front edge about which protrusion turns the ear."""

    origin: np.ndarray
    axes: np.ndarray
    hinge: np.ndarray


@dataclass(frozen=True)
class Ear:
    """verts (V, 3) mm, triangles (F, 3) int64 (outward), frame ``EarFrame``."""

    verts: np.ndarray
    triangles: np.ndarray
    frame: EarFrame


def _rot_y(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])


def ear_frame() -> EarFrame:
    """Frame of the left ear: skull-side plane, turned out by the protrusion angle."""
    canal = np.array(ANATOMY.ear_canal, dtype=np.float64)
    target = canal + np.array([0.0, 2.0, -6.0])
    skin = cast_dirs((target / np.linalg.norm(target))[None])[0]
    # untilted: e_p = +z (forward), e_q = +y, e_n = +x; lean the long axis back about e_n
    lean = np.radians(_LEAN_BACK_DEG)
    e_q = np.array([0.0, np.cos(lean), -np.sin(lean)])
    e_p = np.array([0.0, np.sin(lean), np.cos(lean)])
    e_n = np.array([1.0, 0.0, 0.0])
    # protrusion: turn (e_p, e_n) about the vertical so the back edge stands away from the skull
    r = _rot_y(-_PROTRUSION_DEG)
    e_p, e_q, e_n = r @ e_p, r @ e_q, r @ e_n
    origin = skin - _SINK * np.array([1.0, 0.0, 0.0])
    hinge = origin + _OUTLINE[0] * e_p
    return EarFrame(origin, np.stack([e_p, e_q, e_n]), hinge)


def _outline(psi: np.ndarray) -> np.ndarray:
    knots = np.radians(np.arange(0.0, 361.0, 45.0))
    vals = np.array(_OUTLINE + (_OUTLINE[0],))
    return CubicSpline(knots, vals, bc_type="periodic")(np.mod(psi, 2 * np.pi))


def _front_height(s: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """Lateral relief (mm along e_n) of the ear's outer face."""
    lobe = np.exp(-((np.mod(psi, 2 * np.pi) - np.radians(270.0)) / np.radians(32.0)) ** 2)
    front = np.exp(-((np.angle(np.exp(1j * psi))) / np.radians(40.0)) ** 2)  # near the face
    relief = 1.0 - 0.85 * lobe
    concha = -5.5 * np.clip(1.0 - s / 0.42, 0.0, 1.0) ** 1.6 * relief * (1.0 - 0.5 * front)
    antihelix = 3.0 * np.exp(-((s - 0.58) / 0.09) ** 2) * relief
    helix = 4.2 * np.exp(-((s - 0.9) / 0.075) ** 2) * (1.0 - 0.4 * lobe)
    lobe_body = 2.2 * lobe * np.clip(s / 0.5, 0.0, 1.0)
    return 1.5 + concha + antihelix + helix + lobe_body - 2.5 * np.clip((s - 0.94) / 0.06, 0.0, 1.0)


def _back_height(s: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """Medial face: a gentle dome, kept at least 1.2 mm behind the outer face."""
    lobe = np.exp(-((np.mod(psi, 2 * np.pi) - np.radians(270.0)) / np.radians(32.0)) ** 2)
    dome = -1.4 - (2.0 + 1.0 * lobe) * (1.0 - s ** 2)
    return np.minimum(dome, _front_height(s, psi) - 1.2)


def build_ear() -> Ear:
    fr = ear_frame()
    psi = np.arange(N_SPOKE) * 2 * np.pi / N_SPOKE
    rad = _outline(psi)
    rings = []
    for s in _FRONT_S[1:]:
        rings.append((s, _front_height(np.full(N_SPOKE, s), psi)))
    rim_h = 0.5 * (_front_height(np.ones(N_SPOKE), psi) + _back_height(np.ones(N_SPOKE), psi))
    rings.append((1.0, rim_h))
    for s in _BACK_S:
        rings.append((s, _back_height(np.full(N_SPOKE, s), psi)))
    loc = [np.array([[0.0, 0.0, float(_front_height(np.zeros(1), np.zeros(1))[0])]])]
    for s, h in rings:
        loc.append(np.column_stack([s * rad * np.cos(psi), s * rad * np.sin(psi), h]))
    loc.append(np.array([[0.0, 0.0, float(_back_height(np.zeros(1), np.zeros(1))[0])]]))
    loc = np.concatenate(loc)
    verts = fr.origin + loc @ fr.axes
    n_r = len(rings)
    j = np.arange(N_SPOKE)
    jn = (j + 1) % N_SPOKE
    base = lambda r: 1 + r * N_SPOKE  # noqa: E731
    tris = [np.column_stack([np.zeros(N_SPOKE, int), base(0) + j, base(0) + jn])]
    for r in range(n_r - 1):
        tris.append(np.column_stack([base(r) + j, base(r + 1) + j, base(r + 1) + jn]))
        tris.append(np.column_stack([base(r) + j, base(r + 1) + jn, base(r) + jn]))
    last = len(verts) - 1
    tris.append(np.column_stack([np.full(N_SPOKE, last), base(n_r - 1) + jn, base(n_r - 1) + j]))
    tris = np.concatenate(tris).astype(np.int64)
    # outward: the front-face fan normal must point along +e_n
    n = np.cross(verts[tris[0, 1]] - verts[tris[0, 0]], verts[tris[0, 2]] - verts[tris[0, 0]])
    if n @ fr.axes[2] < 0:
        tris = tris[:, ::-1]
    return Ear(verts, tris, fr)
