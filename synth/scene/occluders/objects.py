"""Hand-held or foreground objects over the face: phone, cup, ball, textured polygon.

Each is drawn in its own frame (``u`` along its long axis) at a random rotation, its
centre within about half a face height of the face centre, its size 0.5-1.1 face heights;
every kind stays within 0.75 sizes of its centre (the window it is drawn in).
"""

from __future__ import annotations

import numpy as np

from synth.scene.compose import PremulCanvas, Window, line_mask, poly_mask
from synth.scene.occluders._draw import band, light_ramp, roundness
from synth.scene.occluders._face import FaceFrame
from synth.scene.occluders._geom import perp, rot2, superellipse, through
from synth.scene.occluders._palettes import any_colour
from synth.scene.textures import apply_palette, fractal_noise, palette_lut


def _phone(rng, win, c, size, d) -> PremulCanvas:
    canvas = PremulCanvas(win)
    body = superellipse(c, 0.5 * size, 0.25 * size, 8.0, d, 48)
    cover = poly_mask(win, [body])
    case = any_colour(rng, (0.0, 0.8), (0.05, 0.6)) if rng.random() < 0.6 else np.array([25.0, 25.0, 28.0])
    canvas.paint(cover, case, roundness(win, cover, 0.05 * size, 0.75))
    if rng.random() < 0.5:  # screen side
        screen = superellipse(c, 0.45 * size, 0.21 * size, 10.0, d, 48)
        s_cover = poly_mask(win, [screen])
        if rng.random() < 0.5:
            noise = fractal_noise(rng, *win.image_hw, cells=3, octaves=3, box=win.box)
            content = apply_palette(noise, palette_lut(rng, 3))
            canvas.paint(s_cover, content)
        else:
            canvas.paint(s_cover, (12.0, 12.0, 15.0))
        canvas.paint(s_cover * np.float32(0.25) * band(win, c, d + perp(d), 0.1 * size), (255.0, 255.0, 255.0))
    else:  # back side: camera lenses
        lens_c = c + 0.35 * size * d + 0.12 * size * perp(d)
        canvas.paint(poly_mask(win, [superellipse(lens_c, 0.05 * size, 0.05 * size, 2.0, d)]), (10.0, 10.0, 12.0))
    return canvas


def _cup(rng, win, c, size, d) -> PremulCanvas:
    canvas = PremulCanvas(win)
    d = rot2(rng.normal(0.0, 0.35)) @ np.array([0.0, 1.0])  # cups are held roughly upright
    up, side = -d, perp(d)  # rim toward -d
    h2, r_top = 0.5 * size, 0.32 * size
    r_bot = r_top * rng.uniform(0.7, 1.0)
    rim = c + h2 * up
    body = np.array([rim - r_top * side, rim + r_top * side, c - h2 * up + r_bot * side, c - h2 * up - r_bot * side])
    colour = any_colour(rng, (0.0, 0.9), (0.2, 0.95))
    handle_c = c + (r_top + r_bot) * 0.5 * side
    handle = superellipse(handle_c, 0.15 * size, 0.2 * size, 2.0, side, 32)
    canvas.paint(line_mask(win, [handle], max(1.0, 0.06 * size), closed=True), colour * 0.85)
    cover = poly_mask(win, [body])
    canvas.paint(cover, colour, light_ramp(win, c, side, r_top, rng.uniform(-0.35, 0.35)))
    if rng.random() < 0.5:  # a coloured band or logo
        canvas.paint(cover * band(win, c, up, 0.08 * size), any_colour(rng))
    canvas.paint(poly_mask(win, [superellipse(rim, r_top, 0.08 * size, 2.0, side, 32)]), colour * 0.55)
    return canvas


def _ball(rng, win, c, size, d) -> PremulCanvas:
    canvas = PremulCanvas(win)
    r = 0.4 * size
    cover = poly_mask(win, [superellipse(c, r, r, 2.0, d, 48)])
    colour = any_colour(rng, (0.2, 1.0), (0.3, 1.0))
    shade = roundness(win, cover, 0.6 * r, 0.45) * light_ramp(win, c, rng.normal(size=2), r, 0.25)
    canvas.paint(cover, colour, shade)
    seams = [through(c - r * d, c + rng.normal(0.0, 0.4) * r * perp(d), c + r * d, 16),
             through(c - r * perp(d), c + rng.normal(0.0, 0.4) * r * d, c + r * perp(d), 16)]
    canvas.paint(line_mask(win, seams, max(1.0, 0.03 * size)) * cover, colour * 0.4)
    return canvas


def _polygon(rng, win, c, size, d) -> PremulCanvas:
    canvas = PremulCanvas(win)
    n = int(rng.integers(4, 10))
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = 0.5 * size * rng.uniform(0.5, 1.0, n)
    poly = c + np.stack([rad * np.cos(ang), rad * np.sin(ang)], -1)
    cover = poly_mask(win, [poly])
    noise = fractal_noise(rng, *win.image_hw, cells=int(rng.integers(2, 7)), octaves=4, box=win.box)
    tex = apply_palette(noise, palette_lut(rng, 3))
    canvas.paint(cover, tex, roundness(win, cover, 0.1 * size, 0.7))
    return canvas


_KINDS = (_phone, _cup, _ball, _polygon)


def draw(rng: np.random.Generator, face: FaceFrame, hw: tuple[int, int]) -> PremulCanvas:
    H = face.height_px
    centre = face.lmk.mean(0) + rng.uniform(-0.5, 0.5, 2) * H
    size = rng.uniform(0.5, 1.1) * H
    d = rot2(rng.uniform(0, 2 * np.pi)) @ np.array([1.0, 0.0])
    kind = _KINDS[rng.integers(len(_KINDS))]
    return kind(rng, Window.around(hw, [centre], 0.75 * size), centre, size, d)
