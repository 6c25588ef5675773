"""The 68 iBUG landmarks and the jaw-contour candidates as vertex indices of the default head.

Points are chosen on the subject's left (x > 0) or on the midline and mirrored through the
vertex twins, so every left/right pair is an exact mirror image (see ``synth.landmarks``
for the order and the mirror table). Eye and lip points are vertices of the lid margins and
lip contours, so they move with the lids and lips.

Jaw points follow the face outline of a frontal view: the outermost skin vertices, seen
from a centre below the nose, between ear height and the chin.
"""

from __future__ import annotations

import numpy as np

from synth.headgen import eyes as EY
from synth.headgen import mouth as MO
from synth.headgen.fields import smoothstep
from synth.headgen.regions import brow_band
from synth.headgen.shape import surface_point_frontal
from synth.landmarks import FLIP_PERMUTATION, NUM_LANDMARKS, landmark_index

__all__ = ["pick_landmarks", "jaw_outline"]

_OUTLINE_CENTRE = (0.0, -40.0)  # (x, y) mm: centre for the frontal outline search
_JAW_TOP_Y = -12.0  # height of jaw points 0 / 16 (about the tragus)
_N_CONTOUR = 15


def jaw_outline(verts: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """Ordered skin vertices (left side, ear height -> chin) on the frontal face outline.

    Args:
        verts: (V, 3) mm. skin: (S,) indices of the chart's skin vertices.

    Returns:
        (K,) int64 vertex indices; the last one is on the midline (the chin).
    """
    p = verts[skin]
    cx, cy = _OUTLINE_CENTRE
    ok = (p[:, 2] > 10.0) & (p[:, 1] < _JAW_TOP_Y + 4.0) & (p[:, 1] > -130.0) & (p[:, 0] >= 0.0)
    idx, q = skin[ok], p[ok]
    ang = np.degrees(np.arctan2(q[:, 1] - cy, q[:, 0] - cx))
    rad = np.hypot(q[:, 0] - cx, q[:, 1] - cy)
    top = np.degrees(np.arctan2(_JAW_TOP_Y - cy, 66.0))
    # near the chin only the front counts (the throat behind it must not set the outline)
    z_min = 10.0 + 45.0 * smoothstep(ang, -50.0, -80.0)
    out = []
    for a in np.arange(top, -90.0, -1.0):
        sel = (np.abs(ang - a) < 1.0) & (q[:, 2] > z_min)
        if sel.any():
            out.append(idx[sel][np.argmax(rad[sel])])
    mid = ok & (p[:, 0] == 0.0) & (p[:, 1] < -100.0) & (p[:, 2] > 50.0)
    # menton: the chin's midline vertex farthest below the outline centre (front of the chin)
    out.append(skin[mid][np.argmin(p[mid, 1] - 0.35 * p[mid, 2])])
    out = np.array(out, dtype=np.int64)
    return out[np.sort(np.unique(out, return_index=True)[1])]


def _arc_pick(verts: np.ndarray, line: np.ndarray, n: int) -> np.ndarray:
    """``n`` vertices of the polyline ``line`` at equal frontal (x, y) arc length, ends
    included."""
    seg = np.linalg.norm(np.diff(verts[line, :2], axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    want = np.linspace(0.0, arc[-1], n)
    return line[np.abs(arc[None, :] - want[:, None]).argmin(1)]


def _nearest(verts: np.ndarray, cand: np.ndarray, target: np.ndarray) -> int:
    return int(cand[np.argmin(np.linalg.norm(verts[cand] - target, axis=1))])


def pick_landmarks(verts: np.ndarray, twin: np.ndarray, groups: dict[str, np.ndarray],
                   eye: EY.EyePatch, mouth: MO.MouthPatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Landmarks (68,), contour_right (C,) and contour_left (C,) as int64 vertex indices."""
    lm = np.full(NUM_LANDMARKS, -1, dtype=np.int64)

    def put(name: str, v: int) -> None:
        i = landmark_index(name)
        lm[i] = v
        lm[FLIP_PERMUTATION[i]] = twin[v]

    chart = groups["chart"]
    cv = verts[chart]
    face_skin = chart[(cv[:, 2] > 40.0)]
    left_skin = np.concatenate([face_skin[verts[face_skin, 0] > 0.0], groups["eye_patch_l"]])
    midline = chart[(cv[:, 0] == 0.0) & (cv[:, 2] > 60.0)]
    # -- jaw ---------------------------------------------------------------------------------
    outline = jaw_outline(verts, chart)
    jaw = _arc_pick(verts, outline, 9)  # 8 (chin) .. 16 (ear), reversed below
    for k, v in enumerate(jaw[::-1]):
        put(f"jaw_{8 + k:02d}", int(v))
    lm[landmark_index("jaw_08")] = outline[-1]
    contour_left = _arc_pick(verts, outline[:-1], _N_CONTOUR)[::-1]  # chin -> ear
    contour_right = twin[contour_left[::-1]]  # ear -> chin
    # -- brows (upper edge) ------------------------------------------------------------------
    for name, x in zip(("brow_inner", "brow_mid_inner", "brow_mid", "brow_mid_outer", "brow_outer"),
                       (15.0, 24.0, 33.5, 43.0, 52.0)):
        c, h = brow_band(np.array([x]))
        target = surface_point_frontal(np.array([[x, c[0] + h[0]]]))[0]
        put("l_" + name, _nearest(verts, left_skin, target))
    # -- nose --------------------------------------------------------------------------------
    nose = midline[(verts[midline, 1] < 10.0) & (verts[midline, 1] > -40.0)]
    tip = int(nose[np.argmax(verts[nose, 2])])
    top_y = 4.0
    for k, frac in enumerate((0.0, 1.0 / 3.0, 2.0 / 3.0)):
        y = top_y + frac * (verts[tip, 1] - top_y)
        put(f"nose_bridge_{k}", _nearest(verts, nose, surface_point_frontal(np.array([[0.0, y]]))[0]))
    put("nose_bridge_3", tip)
    base = midline[(verts[midline, 1] < -38.0) & (verts[midline, 1] > -52.0)]
    put("nose_base", _nearest(verts, base, surface_point_frontal(np.array([[0.0, -44.8]]))[0]))
    for name, xy in (("l_nostril_inner", (7.0, -43.6)), ("l_nostril_outer", (14.5, -41.5))):
        put(name, _nearest(verts, left_skin, surface_point_frontal(np.array([xy]))[0]))
    # -- eyes: margin vertices of the left lid patch ------------------------------------------
    m0 = groups["eye_patch_l"][eye.ring == 0]  # spoke order
    s = eye.margin.s
    i_in = int(np.argmin(np.abs(s[1:EY.N_SIDE] - 1.0 / 3.0))) + 1
    i_out = int(np.argmin(np.abs(s[1:EY.N_SIDE] - 2.0 / 3.0))) + 1
    put("l_eye_inner", int(m0[0]))
    put("l_eye_outer", int(m0[EY.N_SIDE]))
    put("l_eye_upper_inner", int(m0[i_in]))
    put("l_eye_upper_outer", int(m0[i_out]))
    put("l_eye_lower_inner", int(m0[EY.N_RING - i_in]))
    put("l_eye_lower_outer", int(m0[EY.N_RING - i_out]))
    # -- lips: crease (inner) and vermilion border (outer) rings of the lip patch --------------
    g = groups["mouth_patch"]
    inner = g[mouth.ring == 0]  # spoke order
    outer = g[mouth.ring == MO.K_BORDER]
    n, h = MO.N_RING, MO.N_HALF
    x_in, x_out = verts[inner[: h + 1], 0], verts[outer[: h + 1], 0]
    i61 = int(np.argmin(np.abs(x_in - 0.5 * x_in[0])))
    i49 = int(np.argmin(np.abs(x_out - 0.64 * x_out[0])))
    bow = np.arange(h // 2 - 5, h // 2)
    i50 = int(bow[np.argmax(verts[outer[bow], 1])])
    put("r_inner_mouth_corner", int(inner[0]))
    put("r_upper_lip_inner", int(inner[i61]))
    put("upper_lip_inner_mid", int(inner[h // 2]))
    put("r_lower_lip_inner", int(inner[n - i61]))
    put("lower_lip_inner_mid", int(inner[n - h // 2]))
    put("r_mouth_corner", int(outer[0]))
    put("r_upper_lip_outer", int(outer[i49]))
    put("r_upper_lip_peak", int(outer[i50]))
    put("upper_lip_top", int(outer[h // 2]))
    put("r_lower_lip_outer", int(outer[n - i49]))
    put("r_lower_lip_mid", int(outer[n - i50]))
    put("lower_lip_bottom", int(outer[n - h // 2]))
    if (lm < 0).any():
        raise RuntimeError(f"landmarks not assigned: {np.flatnonzero(lm < 0).tolist()}")
    return lm, contour_right, contour_left

