"""Caps: a baseball cap (dome crown + brim over the forehead) or a beanie (no brim).

The crown is the upper half of an ellipse centred above the brows (face frame), its lower
edge curving over the forehead. A baseball cap's brim is a crescent under that edge, shifted
toward the side the nose points to (a turned head shows the brim off-centre), with a dark
underside and a soft shadow on the forehead below it.
"""

from __future__ import annotations

import numpy as np

from synth.scene.compose import PremulCanvas, Window, fast_blur, line_mask, poly_mask
from synth.scene.occluders._draw import light_ramp, roundness
from synth.scene.occluders._face import FaceFrame
from synth.scene.occluders._geom import through
from synth.scene.occluders._palettes import any_colour


def draw(rng: np.random.Generator, face: FaceFrame, hw: tuple[int, int]) -> PremulCanvas:
    H = face.height_px
    W = max(face.width_px, 0.7 * H)
    beanie = rng.random() < 0.25
    base = face.brow_mid - rng.uniform(0.15, 0.35) * H * face.down  # crown's lower edge centre
    A, B = W * rng.uniform(0.55, 0.66), H * (rng.uniform(0.55, 0.75) if beanie else rng.uniform(0.45, 0.6))
    t = np.linspace(np.pi, 2 * np.pi, 32)
    dome = face.at(base, A * np.cos(t), B * np.sin(t))  # from the -right end over the top
    left, right = dome[0], dome[-1]
    sag = 0.05 * H * face.down
    edge = through(right, base + sag, left, 16)  # lower edge, back to the start
    crown = np.vstack([dome, edge])
    colour = any_colour(rng, (0.0, 0.9), (0.1, 0.9))
    top = base - B * face.down
    thin = max(1.0, 0.008 * H)
    if beanie:
        cuff_px = max(1.0, 0.12 * H)
        cuff = through(face.at(base, -A, -0.05 * H), base + sag - 0.06 * H * face.down, face.at(base, A, -0.05 * H), 16)
        win = Window.around(hw, [crown, cuff], 0.5 * cuff_px)
    else:  # the brim, and its shadow on the forehead (blurred: the window holds its reach)
        reach = rng.uniform(0.2, 0.4) * H
        shift = 0.35 * W * face.yaw_sign + rng.normal(0.0, 0.05) * W
        b_left = face.at(base, -A * 0.85 + 0.5 * shift, 0.02 * H)
        b_right = face.at(base, A * 0.85 + 0.5 * shift, 0.02 * H)
        outer = through(b_left, face.at(base, shift, reach), b_right, 24)
        inner = through(b_right, base + sag, b_left, 16)
        shadow_poly, shadow_sigma = outer + 0.12 * H * face.down, 0.05 * H
        button = face.at(top, 0.04 * H * np.cos(2 * t), 0.025 * H * np.sin(2 * t))  # on the crown's top
        win = Window.around(hw, [crown, outer, inner, button], thin).union(
            Window.around(hw, [shadow_poly], 3 * shadow_sigma))

    canvas = PremulCanvas(win)
    cover = poly_mask(win, [crown])
    shade = roundness(win, cover, 0.3 * H, 0.7) * light_ramp(win, base, face.down, B, rng.uniform(-0.2, 0.05))
    canvas.paint(cover, colour, shade)
    if beanie:  # ribbed knit and a folded cuff
        ribs = [through(top, face.at(base, f * A * 0.8, -0.5 * B), face.at(base, f * A, 0.0), 12)
                for f in np.linspace(-0.9, 0.9, 9)]
        canvas.paint(line_mask(win, ribs, thin) * cover * np.float32(0.35), colour * 0.6)
        canvas.paint(line_mask(win, [cuff], cuff_px) * cover, colour * 0.85)
        return canvas
    seams = [through(top, face.at(base, f * A * 0.75, -0.55 * B), face.at(base, f * A, 0.0), 12)
             for f in (-0.55, 0.0, 0.55)]
    canvas.paint(line_mask(win, seams, thin) * cover * np.float32(0.5), colour * 0.6)
    canvas.paint(poly_mask(win, [button]), colour * 0.8)
    # Shadow of the brim on the forehead (semi-transparent, under the brim in painting order).
    shadow = fast_blur(poly_mask(win, [shadow_poly]), shadow_sigma)
    canvas.paint(shadow * np.float32(rng.uniform(0.15, 0.35)), (0.0, 0.0, 0.0))
    brim_rgb = colour if rng.random() < 0.7 else any_colour(rng)
    canvas.paint(poly_mask(win, [np.vstack([outer, inner])]), brim_rgb * 0.6, light_ramp(win, base, face.down, reach, 0.3))
    canvas.paint(line_mask(win, [outer], max(1.0, 0.015 * H)), np.clip(brim_rgb * 0.9 + 10, 0, 255))
    return canvas
