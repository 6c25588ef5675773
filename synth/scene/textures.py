"""Procedural textures shared by backgrounds and occluders: fractal noise, colour ramps.

All outputs are float32 in [0, 1] (scalar fields) or uint8 RGB. Noise is generated as a
small pyramid (at most 96 x 96) and resized up with cv2; callers that map noise through a
colour ramp can do so on the small canvas and enlarge the colour image instead.
"""

from __future__ import annotations

import bisect
import itertools

import cv2
import numpy as np

__all__ = ["hsv_to_rgb", "random_colours", "noise_canvas", "fractal_noise", "palette_lut", "apply_palette", "lut_rgb", "choice"]


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
    """Like ``rng.choice(len(p), size, p=p)`` for unnormalised weights ``p``, with less overhead.

    One uniform draw per output; a scalar draw (``size=None``) returns a Python int.
    """
    cum = list(itertools.accumulate(float(x) for x in p))
    if not cum[-1] > 0:
        raise ValueError(f"choice: weights must have a positive sum, got {list(p)}")
    if size is None:
        return min(bisect.bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)
    r = rng.random(size) * cum[-1]
    return np.minimum(np.searchsorted(cum, r, side="right"), len(cum) - 1)


#: Grid sizes (cells per side) an octave pyramid may start from; octaves stop at ``_MAX_CELLS``.
_BASE_GRIDS = (2, 3, 4, 6)
_MAX_CELLS = 48
#: Smallest side of the canvas returned by ``noise_canvas`` (coarse noise is still smooth there).
_MIN_CANVAS = 32


def noise_canvas(rng: np.random.Generator, *, cells: int = 3, octaves: int = 4,
                 persistence: float = 0.5) -> np.ndarray:
    """Fractal value noise ("Perlin-like") on its own small square canvas, float32 in [0, 1].

    Octave k is a random grid of ``g * 2**k`` cells (``g`` = ``cells`` rounded to one of 2, 3,
    4, 6; octaves stop at 48 cells) weighted by ``persistence**k``. The sum is built as a
    pyramid: the running sum is enlarged 2x bicubically before each finer octave is added,
    then enlarged bicubically once more to at least 2 pixels per finest cell (and at least
    32 pixels). Returns (S, S), S = max(32, 2 * finest grid), min-max normalised.
    """
    g = min(_BASE_GRIDS, key=lambda b: abs(b - cells))
    acc = rng.random((g, g), dtype=np.float32)
    amp = np.float32(1.0)
    for _ in range(octaves - 1):
        if 2 * g > _MAX_CELLS:
            break
        g *= 2
        amp *= np.float32(persistence)
        acc = cv2.resize(acc, (g, g), interpolation=cv2.INTER_CUBIC)
        acc += amp * rng.random((g, g), dtype=np.float32)
    side = max(_MIN_CANVAS, 2 * g)
    acc = cv2.resize(acc, (side, side), interpolation=cv2.INTER_CUBIC)
    return cv2.normalize(acc, None, 0.0, 1.0, cv2.NORM_MINMAX)


def fractal_noise(rng: np.random.Generator, height: int, width: int, *, cells: int = 3,
                  octaves: int = 4, persistence: float = 0.5,
                  box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """``noise_canvas`` resized bilinearly to (height, width) float32 in [0, 1].

    The canvas is stretched if the output is not square. Detail finer than the finest
    octave (about 1/96 of the output) is absent: this is a texture field, not pixel grain.
    With ``box`` = (y0, y1, x0, x1) only those rows and columns of the (height, width) field
    are made (the same field to within the interpolation's rounding, ~1e-3).
    """
    canvas = noise_canvas(rng, cells=cells, octaves=octaves, persistence=persistence)
    if box is None:
        return cv2.resize(canvas, (width, height), interpolation=cv2.INTER_LINEAR)
    y0, y1, x0, x1 = box
    # cv2.resize's pixel-centre map, src = (dst + 0.5) * scale - 0.5, shifted to the box.
    sy, sx = canvas.shape[0] / height, canvas.shape[1] / width
    m = np.array([[sx, 0.0, (x0 + 0.5) * sx - 0.5], [0.0, sy, (y0 + 0.5) * sy - 0.5]])
    return cv2.warpAffine(canvas, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


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
