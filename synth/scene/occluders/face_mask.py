"""Face masks: surgical (pleated) or cloth, from the nose bridge down around the chin.

The outline follows the landmarks: the top edge runs from between jaw_01/jaw_02 over the
nose bridge to between jaw_14/jaw_15; the lower edge is the jaw contour jaw_02..jaw_14
pushed slightly outward (the mask stands off the chin). Ear loops run to the jaw ends.
"""

from __future__ import annotations

import numpy as np

from synth.scene.compose import PremulCanvas, Window, line_mask, poly_mask
from synth.scene.occluders._draw import light_ramp, roundness
from synth.scene.occluders._face import FaceFrame
from synth.scene.occluders._geom import resample, through
from synth.scene.occluders._palettes import any_colour
from synth.scene.textures import fractal_noise

_SURGICAL_RGB = np.array([(170, 205, 230), (140, 185, 220), (235, 235, 232), (40, 40, 45),
                          (230, 180, 200), (150, 200, 180)], np.float64)


def draw(rng: np.random.Generator, face: FaceFrame, hw: tuple[int, int]) -> PremulCanvas:
    jaw = face.jaw
    H = face.height_px
    nose_top = face.pt("nose_bridge_1") + rng.uniform(0.0, 1.0) * (face.pt("nose_bridge_2") - face.pt("nose_bridge_1"))
    t = rng.uniform(0.2, 0.8)
    left_top = jaw[1] + t * (jaw[2] - jaw[1])
    right_top = jaw[15] + t * (jaw[14] - jaw[15])
    top = through(left_top, nose_top - 0.03 * H * face.down, right_top, 24)
    # Lower edge: jaw_02..jaw_14 pushed away from the nose tip (more at the chin).
    c = face.pt("nose_bridge_3")
    lower = jaw[2:15]
    push = rng.uniform(0.03, 0.09) + rng.uniform(0.02, 0.08) * np.sin(np.linspace(0, np.pi, len(lower)))
    lower = c + (lower - c) * (1.0 + push[:, None])
    outline = np.vstack([top, lower[::-1]])
    # Ear loops: from the top corners toward the jaw ends (the ears).
    loops = [np.array([left_top, jaw[0] - 0.05 * H * face.down]), np.array([right_top, jaw[16] - 0.05 * H * face.down]),
             np.array([lower[0], jaw[0] + 0.05 * H * face.down]), np.array([lower[-1], jaw[16] + 0.05 * H * face.down])]
    loop_px = max(1.0, 0.012 * H)
    win = Window.around(hw, [outline, *loops], loop_px)
    cover = poly_mask(win, [outline])
    surgical = rng.random() < 0.6
    if surgical:
        colour = _SURGICAL_RGB[rng.integers(len(_SURGICAL_RGB))] * rng.uniform(0.92, 1.05)
    else:
        colour = any_colour(rng, (0.0, 0.8), (0.1, 0.9))
    shade = roundness(win, cover, 0.25 * H, 0.72) * light_ramp(win, c, face.right, face.width_px,
                                                                 rng.uniform(-0.15, 0.15))
    if not surgical:  # woven texture
        weave = fractal_noise(rng, *hw, cells=6, octaves=4, box=win.box)
        shade = shade * (np.float32(0.9) + np.float32(0.2) * weave)
    canvas = PremulCanvas(win)
    canvas.paint(cover, np.clip(colour, 0, 255), shade)
    if surgical:  # pleats: lines between the top edge and the lower edge, dark with a highlight under
        n = 24
        a, b = resample(top, n), resample(lower, n)
        thick = max(1.0, 0.015 * H)
        for f in np.sort(rng.uniform(0.2, 0.75, int(rng.integers(2, 4)))):
            pleat = a + f * (b - a)
            canvas.paint(line_mask(win, [pleat], thick) * cover * np.float32(0.5), colour * 0.6)
            canvas.paint(line_mask(win, [pleat + 1.2 * thick * face.down], thick) * cover * np.float32(0.3),
                         np.clip(colour * 1.15 + 20, 0, 255))
    canvas.paint(line_mask(win, loops, loop_px), np.clip(colour * 1.05 + 10, 0, 255))
    return canvas
