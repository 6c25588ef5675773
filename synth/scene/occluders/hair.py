"""Hair over the face: a fringe (bangs) under a hair mass, or loose locks across the face.

Hair is drawn as locks: each lock is a quadratic Bezier from a root on the hairline (above
the brows) to a tip at brow/eye level, drawn as a bunch of thin strands that share the
lock's path with small offsets and lengths, in a few shades of one hair colour. A fringe
also gets a solid hair mass over the top of the head down to the hairline.
"""

from __future__ import annotations

import numpy as np

from synth.scene.compose import PremulCanvas, Window, line_mask, poly_mask
from synth.scene.occluders._draw import light_ramp, roundness
from synth.scene.occluders._face import FaceFrame
from synth.scene.occluders._geom import bezier
from synth.scene.occluders._palettes import hair

_SHADES = 4


def draw(rng: np.random.Generator, face: FaceFrame, hw: tuple[int, int]) -> PremulCanvas:
    H, W = face.height_px, max(face.width_px, 0.6 * face.height_px)
    colour = hair(rng)
    hairline = face.brow_mid - rng.uniform(0.35, 0.6) * H * face.down
    to_brows = float((face.brow_mid - hairline) @ face.down)
    thick = max(1.0, H * rng.uniform(0.006, 0.012))
    sweep = rng.normal(0.0, 0.3) * W  # sideways fall of the hair
    if rng.random() < 0.6:  # fringe under a hair mass
        n_locks = int(rng.integers(10, 22))
        root_u = np.sort(rng.uniform(-0.55, 0.55, n_locks)) * W
        root_v = rng.normal(0.0, 0.03, n_locks) * H
        reach = to_brows + rng.uniform(-0.1, 0.3) * H  # fringe length below the hairline
        tip_u = root_u * rng.uniform(0.85, 1.05) + sweep * rng.uniform(0.4, 0.8) + rng.normal(0, 0.05, n_locks) * W
        tip_v = reach * (1.0 - 0.6 * (np.abs(root_u) / (0.55 * W)) ** 2) + rng.normal(0.0, 0.05, n_locks) * H
        t = np.linspace(np.pi, 2 * np.pi, 24)
        A, B = 0.7 * W, rng.uniform(0.5, 0.7) * H
        dome = face.at(hairline, A * np.cos(t), B * np.sin(t))
        edge = face.at(hairline, np.linspace(A, -A, 12), 0.35 * reach * np.sin(np.linspace(0, np.pi, 12)))
        mass = np.vstack([dome, edge])
        strands_per_lock = int(rng.integers(8, 16))
    else:  # loose locks from one side, crossing the forehead and eyes
        mass = None
        n_locks = int(rng.integers(3, 9))
        side = 1.0 if rng.random() < 0.5 else -1.0
        root_u = side * rng.uniform(0.0, 0.5, n_locks) * W
        root_v = rng.uniform(-0.15, 0.05, n_locks) * H
        tip_u = root_u - side * rng.uniform(0.2, 0.8, n_locks) * W
        tip_v = to_brows + rng.uniform(0.0, 0.6, n_locks) * H
        strands_per_lock = int(rng.integers(8, 18))
    roots = face.at(hairline, root_u, root_v)
    tips = face.at(hairline, tip_u, tip_v)
    d = tips - roots
    normal = np.stack([-d[:, 1], d[:, 0]], -1)
    ctrl = 0.5 * (roots + tips) + normal * rng.normal(0.0, 0.25, n_locks)[:, None]
    # Strands: the lock's curve with an offset across it (largest mid-way) and a random length.
    n = n_locks * strands_per_lock
    lock = np.repeat(np.arange(n_locks), strands_per_lock)
    unit_n = normal / np.maximum(np.hypot(*normal.T), 1e-9)[:, None]
    width = rng.uniform(0.05, 0.1) * W
    off = rng.normal(0.0, 0.5, n)[:, None] * width * unit_n[lock]
    length = rng.uniform(0.75, 1.0, n)[:, None]
    r, c, tp = roots[lock] + 0.3 * off, ctrl[lock] + off, tips[lock] + 0.6 * off
    tp = r + (tp - r) * length
    c = r + (c - r) * length
    curves = bezier(r, c, tp, 14)  # (n, 14, 2)
    shade = rng.integers(_SHADES, size=n)
    win = Window.around(hw, [curves] if mass is None else [curves, mass], thick)
    canvas = PremulCanvas(win)
    if mass is not None:
        m_cover = poly_mask(win, [mass])
        canvas.paint(m_cover, colour * 0.8, roundness(win, m_cover, 0.2 * H, 0.6)
                     * light_ramp(win, hairline, face.down, B, -0.25))
    for g in range(_SHADES):
        sel = curves[shade == g]
        if len(sel):
            f = 0.65 + 0.6 * g / (_SHADES - 1)
            canvas.paint(line_mask(win, sel, thick), np.clip(colour * f, 0, 255))
    return canvas
