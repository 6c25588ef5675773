"""Glasses (clear lenses, thin frames) and sunglasses (dark, mostly opaque lenses).

Each lens is a superellipse centred a little below its eye, sized so every landmark of that
eye lies well inside the frame's inner edge: with clear lenses (opacity <= 0.4) the eyes stay
visible (not occluded at threshold 0.5), with sunglasses (opacity >= 0.75) they are hidden.
At strong yaw (beyond ~60 deg, eyes nearly overlapping in the image) the near lens's frame can
cross the far eye; those points are then (correctly) labelled occluded by the frame.
"""

from __future__ import annotations

import numpy as np

from synth.landmarks import group_indices
from synth.scene.compose import PremulCanvas, Window, line_mask, poly_mask
from synth.scene.occluders._draw import band, light_ramp
from synth.scene.occluders._face import FaceFrame
from synth.scene.occluders._geom import superellipse, through
from synth.scene.occluders._palettes import any_colour

_EYES = (group_indices("right_eye"), group_indices("left_eye"))
_FRAME_RGB = np.array([(15, 15, 15), (35, 25, 20), (70, 45, 30), (190, 160, 90), (175, 175, 180),
                       (120, 20, 30), (20, 30, 80)], np.float64)
_SUN_RGB = np.array([(10, 10, 10), (35, 25, 15), (20, 35, 25), (25, 30, 50), (60, 40, 20)], np.float64)

_LENS_EXPONENTS = (2.0, 2.5, 3.5, 5.0)  # superellipse exponents of the lens outline

#: Upper bound on a clear lens's opacity (tint + reflection), so eyes behind it stay visible.
CLEAR_LENS_MAX_ALPHA = 0.4
#: Lower bound on a sunglasses lens's opacity.
SUN_LENS_MIN_ALPHA = 0.75


def _lens(face: FaceFrame, eye_pts: np.ndarray, a: float, b: float, e: float, shift: float,
          thick: float) -> tuple[np.ndarray, float, float]:
    """Lens centre and semi-axes grown until all ``eye_pts`` are inside the frame's inner edge."""
    c = eye_pts.mean(0) + shift * face.down
    rel = eye_pts - c
    x, y = np.abs(rel @ face.right), np.abs(rel @ face.down)
    for _ in range(3):
        norm = float(np.max((x / a) ** e + (y / b) ** e) ** (1.0 / e))  # 1 = on the outline
        inner = 1.0 - (0.5 * thick + 2.0) / min(a, b)
        if norm <= inner:
            break
        grow = norm / max(inner, 0.5) * 1.05
        a, b = a * grow, b * grow
    return c, a, b


def _glasses(rng: np.random.Generator, face: FaceFrame, hw: tuple[int, int], sun: bool) -> PremulCanvas:
    H = face.height_px
    half_h = rng.uniform(0.10, 0.15) * H
    e = _LENS_EXPONENTS[rng.integers(len(_LENS_EXPONENTS))]
    shift = rng.uniform(0.0, 0.25) * half_h
    metal = rng.random() < 0.3
    thick = max(1.0, rng.uniform(0.008, 0.014) * H if metal else rng.uniform(0.015, 0.035) * H)
    lenses = []
    for idx in _EYES:
        pts = face.lmk[idx]
        eye_half_w = 0.5 * float(np.ptp(pts @ face.right))
        a = max(eye_half_w * rng.uniform(1.4, 1.75), 0.25 * half_h)
        lenses.append(_lens(face, pts, a, half_h, e, shift, thick))
    outlines = [superellipse(c, a, b, e, face.right) for c, a, b in lenses]
    (c_r, a_r, b_r), (c_l, a_l, b_l) = lenses
    s = 1.0 if (c_l - c_r) @ face.right >= 0 else -1.0  # +1: right eye on the image's left
    inner_r = c_r + s * a_r * face.right - 0.25 * b_r * face.down
    inner_l = c_l - s * a_l * face.right - 0.25 * b_l * face.down
    # The bridge joins the inner edges; when the lenses overlap (strong yaw) it is behind the nose.
    gap = float((inner_l - inner_r) @ face.right) * s
    bridge = [through(inner_r, 0.5 * (inner_r + inner_l) - 0.12 * half_h * face.down, inner_l, 12)] if gap > thick else []
    # Temples run from the lens's outer edge back to the ear (next to jaw_00 / jaw_16); on a
    # turned head the far temple is behind the head: drawn only when the ear lies outward.
    temples = []
    for c, a, b, sign, ear in ((c_r, a_r, b_r, -s, face.pt("jaw_00")), (c_l, a_l, b_l, s, face.pt("jaw_16"))):
        hinge = c + sign * a * face.right - 0.45 * b * face.down
        if (ear - hinge) @ (sign * face.right) > 0.5 * thick:
            temples.append(np.array([hinge, ear]))

    win = Window.around(hw, [*outlines, *bridge, *temples], thick)
    canvas = PremulCanvas(win)
    lens_cover = poly_mask(win, outlines)
    tilt = face.down + rng.normal(0.0, 0.3) * face.right
    if sun:
        colour = _SUN_RGB[rng.integers(len(_SUN_RGB))] if rng.random() < 0.8 else any_colour(rng, (0.3, 1.0), (0.2, 0.6))
        alpha = rng.uniform(SUN_LENS_MIN_ALPHA, 0.95)
        shade = light_ramp(win, c_r, face.down, half_h, rng.uniform(0.0, 0.4))  # darker on top
        canvas.paint(lens_cover * np.float32(alpha), colour, shade)
        refl_alpha = rng.uniform(0.05, 0.3)
    else:
        colour = np.array([235.0, 240.0, 245.0]) * rng.uniform(0.8, 1.0)
        alpha = rng.uniform(0.03, 0.12)
        canvas.paint(lens_cover * np.float32(alpha), colour)
        refl_alpha = rng.uniform(0.0, CLEAR_LENS_MAX_ALPHA - alpha) / (1.0 - alpha)
    # A soft reflection streak: a band across both lenses, slanted.
    streak = band(win, 0.5 * (c_r + c_l) + rng.normal(0.0, 0.5 * half_h, 2), tilt, rng.uniform(0.2, 0.5) * half_h)
    canvas.paint(lens_cover * np.float32(refl_alpha) * streak, (250.0, 250.0, 250.0))
    frame_rgb = _FRAME_RGB[rng.integers(len(_FRAME_RGB))] if rng.random() < 0.8 else any_colour(rng)
    if sun and rng.random() < 0.4:
        frame_rgb = _FRAME_RGB[0]
    frame = line_mask(win, outlines, thick, closed=True)
    rest = line_mask(win, [*bridge, *temples], thick)
    canvas.paint(np.maximum(frame, rest), frame_rgb)
    return canvas


def draw_clear(rng: np.random.Generator, face: FaceFrame, hw: tuple[int, int]) -> PremulCanvas:
    return _glasses(rng, face, hw, sun=False)


def draw_sun(rng: np.random.Generator, face: FaceFrame, hw: tuple[int, int]) -> PremulCanvas:
    return _glasses(rng, face, hw, sun=True)
