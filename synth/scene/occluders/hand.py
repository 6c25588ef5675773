"""Hands: palm + fingers + thumb silhouette with forearm, in a skin tone, reaching over the face.

Geometry is built in a hand frame: ``u`` from the wrist toward the fingertips, ``v`` across
the palm (the thumb on the ``+v`` side for one handedness, ``-v`` for the other), both in
units of the palm width. The hand enters from the bottom or a side of the image, pointing at
a face point (mouth, chin, nose, cheek or eye); the forearm runs off the image.
"""

from __future__ import annotations

import numpy as np

from synth.scene.compose import PremulCanvas, Window, line_mask, poly_mask
from synth.scene.occluders._draw import light_ramp, roundness
from synth.scene.occluders._face import FaceFrame
from synth.scene.occluders._geom import capsule, perp, rot2
from synth.scene.occluders._palettes import any_colour, skin
from synth.scene.textures import choice

# Palm outline, (u, v) in palm widths, wrist at u = 0 (closed polygon, +v side first).
_PALM = np.array([(0.0, 0.40), (0.45, 0.52), (0.92, 0.50), (1.02, 0.30), (1.05, 0.0),
                  (1.02, -0.30), (0.92, -0.50), (0.45, -0.52), (0.0, -0.40)])
# Fingers from the thumb side: base v, length, width (palm widths).
_FINGER_V = np.array([0.36, 0.12, -0.12, -0.36])
_FINGER_LEN = np.array([0.80, 0.90, 0.85, 0.65])
_FINGER_W = np.array([0.23, 0.24, 0.23, 0.20])


def draw(rng: np.random.Generator, face: FaceFrame, hw: tuple[int, int]) -> PremulCanvas:
    h, w = hw
    palm_w = face.height_px * rng.uniform(0.5, 0.85)
    side = 1.0 if rng.random() < 0.5 else -1.0  # which side the thumb is on
    # Entry direction (unit vector the fingers point along) and the face point it aims at.
    entry = choice(rng, (0.5, 0.25, 0.25))
    base = np.array([(0.0, -1.0), (1.0, 0.0), (-1.0, 0.0)][entry])
    d = rot2(rng.normal(0.0, np.radians(25.0))) @ base
    n = perp(d) * side
    targets = [face.mouth_centre, face.pt("jaw_08"), face.pt("nose_bridge_3"),
               0.5 * (face.pt("jaw_04") + face.pt("nose_bridge_3")),
               0.5 * (face.pt("jaw_12") + face.pt("nose_bridge_3")), *face.eye_centres]
    target = targets[choice(rng, (0.25, 0.15, 0.15, 0.15, 0.15, 0.075, 0.075))]
    target = target + rng.normal(0.0, 0.08 * face.height_px, 2)
    anchor_u, anchor_v = rng.uniform(0.5, 1.5), rng.uniform(-0.3, 0.3)
    wrist = target - palm_w * (anchor_u * d + anchor_v * n)

    def img(uv: np.ndarray) -> np.ndarray:
        uv = np.asarray(uv, np.float64)
        return wrist + palm_w * (uv[..., :1] * d + uv[..., 1:] * n)

    # Fingers: curl shortens them (a fist is all fingers short); fan spreads them.
    fist = rng.random() < 0.2
    curl = rng.uniform(0.3, 0.45, 4) if fist else np.clip(rng.uniform(0.75, 1.1, 4), 0, 1.0)
    spread = rng.uniform(0.0, 0.18)
    bend = rng.normal(0.0, 0.1)
    fingers = []
    for k in range(4):
        base_uv = np.array([0.9, _FINGER_V[k]])
        ang = bend + spread * (1.5 - k) * side  # fan out around the middle
        tip_uv = base_uv + _FINGER_LEN[k] * curl[k] * rot2(ang) @ np.array([1.0, 0.0])
        fingers.append(capsule(img(base_uv), img(tip_uv), 0.5 * _FINGER_W[k] * palm_w,
                               0.45 * _FINGER_W[k] * palm_w))
    t_ang = np.radians(rng.uniform(15.0, 50.0))
    t_len = rng.uniform(0.45, 0.7) * (0.7 if fist else 1.0)
    thumb_base = np.array([0.25, 0.38])
    thumb_tip = thumb_base + t_len * np.array([np.cos(t_ang), np.sin(t_ang)])
    thumb = capsule(img(thumb_base), img(thumb_tip), 0.16 * palm_w, 0.12 * palm_w)
    arm_len = 2.0 * (h + w) / palm_w
    arm = img(np.array([(0.1, 0.42), (-arm_len, 0.5), (-arm_len, -0.5), (0.1, -0.42)]))
    palm = img(_PALM)

    sleeve_room = img(np.array([(0.1, 0.7), (-arm_len, 0.7), (-arm_len, -0.7), (0.1, -0.7)]))  # holds any sleeve
    win = Window.around(hw, [sleeve_room, palm, thumb, *fingers])
    cover = poly_mask(win, [arm, palm, thumb, *fingers])
    colour = skin(rng)
    shade = roundness(win, cover, 0.2 * palm_w) * light_ramp(win, wrist, n, palm_w, rng.uniform(-0.12, 0.12))
    canvas = PremulCanvas(win)
    canvas.paint(cover, colour, shade)
    # Creases between fingers and along the thumb: thin darker outlines, kept inside the hand.
    outline = line_mask(win, [*fingers, thumb], max(1.0, 0.02 * palm_w), closed=True)
    canvas.paint(outline * cover * np.float32(0.45), colour * 0.55)
    if rng.random() < 0.5:  # back of the hand: nails
        nails = []
        for f in fingers:
            tip = f[len(f) // 2]
            inner = 0.5 * (f[0] + f[-1])
            dirn = tip - inner
            length = np.hypot(*dirn)
            if length < 1e-6:
                continue
            centre = tip - dirn / length * 0.12 * palm_w
            nails.append(capsule(centre - dirn / length * 0.1 * palm_w, centre, 0.07 * palm_w, 0.07 * palm_w))
        canvas.paint(poly_mask(win, nails) * np.float32(0.6), np.clip(colour * 1.08 + 12, 0, 255))
    if rng.random() < 0.5:  # a sleeve over the forearm
        cuff = rng.uniform(-0.9, -0.3)
        sleeve = img(np.array([(cuff, 0.62), (-arm_len, 0.7), (-arm_len, -0.7), (cuff, -0.62)]))
        s_cover = poly_mask(win, [sleeve])
        canvas.paint(s_cover, any_colour(rng), roundness(win, s_cover, 0.3 * palm_w, 0.6))
    return canvas
