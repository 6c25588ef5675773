"""Procedural textures shared by backgrounds and occluders: fractal noise, colour ramps.

All outputs are float32 in [0, 1] (scalar fields) or uint8 RGB; everything is generated at
low resolution and resized up with cv2, so a 256 x 256 field costs well under a millisecond.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["hsv_to_rgb", "random_colours", "fractal_noise", "palette_lut", "apply_palette", "lut_rgb", "choice"]


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """(..., 3) float HSV, each channel in [0, 1] -> (..., 3) float32 RGB in [0, 1]."""
    hsv = np.asarray(hsv, np.float32)
    flat = hsv.reshape(1, -1, 3) * np.array([360.0, 1.0, 1.0], np.float32)
    return cv2.cvtColor(flat, cv2.COLOR_HSV2RGB).reshape(hsv.shape)


def random_colours(rng: np.random.Generator, n: int, sat: tuple[float, float] = (0.0, 1.0),
                   val: tuple[float, float] = (0.1, 1.0)) -> np.ndarray:
    """(n, 3) float32 RGB in [0, 255]: uniform hue, saturation and value in the given ranges."""
    u = rng.random((n, 3), dtype=np.float32)
    lo = np.array([0.0, sat[0], val[0]], np.float32)
    span = np.array([1.0, sat[1] - sat[0], val[1] - val[0]], np.float32)
    return hsv_to_rgb(lo + u * span) * np.float32(255.0)


def choice(rng: np.random.Generator, p: np.ndarray | tuple, size: int | None = None):
    """Like ``rng.choice(len(p), size, p=p)`` for unnormalised weights ``p``, with less overhead."""
    cum = np.cumsum(p, dtype=np.float64)
    if not cum[-1] > 0:
        raise ValueError(f"choice: weights must have a positive sum, got {list(p)}")
    r = rng.random(size) * cum[-1]
    return np.minimum(np.searchsorted(cum, r, side="right"), len(cum) - 1)


#: Work canvas of ``fractal_noise``; every octave grid size divides it, so cv2's bicubic
#: resize takes its fast integer-ratio path.
_WORK_PX = 96
_BASE_GRIDS = (2, 3, 4, 6)


def fractal_noise(rng: np.random.Generator, height: int, width: int, *, cells: int = 3,
                  octaves: int = 4, persistence: float = 0.5) -> np.ndarray:
    """Fractal value noise ("Perlin-like"), (height, width) float32 normalised to [0, 1].

    Octave k is a random grid with about ``cells * 2**k`` cells (``cells`` is rounded to one
    of 2, 3, 4, 6; octaves stop at 48 cells), resized bicubically to a 96 x 96 work canvas;
    the sum with weights ``persistence**k`` is min-max normalised and resized bilinearly to
    the output size (stretched if the output is not square). Detail finer than 1/96 of the
    output is therefore absent: this is a background/texture field, not pixel grain.
    """
    g = min(_BASE_GRIDS, key=lambda b: abs(b - cells))
    acc = np.zeros((_WORK_PX, _WORK_PX), np.float32)
    amp = 1.0
    for _ in range(octaves):
        grid = rng.random((g, g), dtype=np.float32)
        acc += np.float32(amp) * cv2.resize(grid, (_WORK_PX, _WORK_PX), interpolation=cv2.INTER_CUBIC)
        amp *= persistence
        g *= 2
        if g > _WORK_PX // 2:
            break
    acc = cv2.normalize(acc, None, 0.0, 1.0, cv2.NORM_MINMAX)
    return cv2.resize(acc, (width, height), interpolation=cv2.INTER_LINEAR)


def palette_lut(rng: np.random.Generator, n_stops: int, sat: tuple[float, float] = (0.0, 0.9),
                val: tuple[float, float] = (0.1, 1.0)) -> np.ndarray:
    """A random colour ramp: (256, 3) uint8 RGB, linear through ``n_stops`` equally spaced colours."""
    cols = random_colours(rng, n_stops, sat, val).reshape(1, n_stops, 3)
    # Resize with align-corners semantics: pad so the first/last stops land on entries 0 / 255.
    lut = cv2.resize(cols, (256 * n_stops // max(1, n_stops - 1), 1), interpolation=cv2.INTER_LINEAR)
    i0 = (lut.shape[1] - 256) // 2
    return cv2.convertScaleAbs(lut[0, i0:i0 + 256])


def apply_palette(t: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """(H, W) float in [0, 1] through a (256, 3) uint8 ramp -> (H, W, 3) uint8 RGB."""
    idx = cv2.convertScaleAbs(t, alpha=255.0)  # saturating float -> uint8, rounds
    return lut_rgb(idx, lut)


def lut_rgb(index: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """(H, W) uint8 indices through a (256, 3) table -> (H, W, 3) (three 1-channel cv2.LUT calls,
    several times faster than one 3-channel LUT or numpy fancy indexing)."""
    lut = lut.reshape(256, 3)
    return cv2.merge([cv2.LUT(index, np.ascontiguousarray(lut[:, c])) for c in range(3)])
