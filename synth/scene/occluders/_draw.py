"""Shading fields shared by occluder drawers: float32 multipliers around 1 over a ``Window``
(arrays of ``win.shape``; points in image pixels)."""

from __future__ import annotations

import cv2
import numba
import numpy as np

from synth.scene.compose import Window, fast_blur, nonzero_roi


def roundness(win: Window, cover: np.ndarray, radius_px: float, dark: float = 0.7) -> np.ndarray:
    """Brightness that falls off toward the silhouette's edges, like a rounded object.

    ``cover`` (``win.shape``) in [0, 1]; blurred with sigma ``radius_px / 2`` it is ~1 deep
    inside and ~0.5 on the edge; mapped to ``dark`` at the edge and 1 inside. The blur sees
    zeros outside the window and the image's edges reflected, as if it ran over the whole
    image: a shape running off the image stays bright there.
    """
    sigma = max(0.5, 0.5 * radius_px)
    out = np.full(cover.shape, np.float32(dark), np.float32)
    roi = nonzero_roi(cover)
    if roi is None:
        return out
    ys, xs = roi
    reach = int(3 * sigma) + 1
    (h, w), y0, x0 = win.image_hw, win.y0 + ys.start, win.x0 + xs.start  # the shape's box in the image
    top, left = min(reach, y0), min(reach, x0)
    bottom, right = min(reach, h - (win.y0 + ys.stop)), min(reach, w - (win.x0 + xs.stop))
    padded = cv2.copyMakeBorder(np.ascontiguousarray(cover[roi]), top, bottom, left, right, cv2.BORDER_CONSTANT, value=0)
    b = fast_blur(padded, sigma)[top:top + ys.stop - ys.start, left:left + xs.stop - xs.start]
    _roundness_kernel(np.ascontiguousarray(b), np.float32(dark), np.float32(1.0 - dark), out[roi])
    return out


@numba.njit(cache=True, nogil=True)
def _roundness_kernel(b, dark, light, out):  # pragma: no cover - numba
    """out = dark + light sqrt(clip(2 b - 1, 0, 1)), float32, light = 1 - dark (one pass, no
    temporaries: the numpy expression took 0.1-0.4 ms on a 230 px box)."""
    one, zero, two = numba.float32(1.0), numba.float32(0.0), numba.float32(2.0)
    for i in range(b.shape[0]):
        for j in range(b.shape[1]):
            t = min(max(b[i, j] * two - one, zero), one)
            out[i, j] = dark + light * np.sqrt(t)


def light_ramp(win: Window, origin: np.ndarray, direction: np.ndarray, length_px: float,
               strength: float) -> np.ndarray:
    """``1 + strength * clip(((p - origin) . direction) / length_px, -1, 1)`` over the window
    (p, origin: image pixels)."""
    d = np.asarray(direction, np.float64) / max(1e-9, float(np.hypot(*direction))) / max(length_px, 1e-6)
    x = (np.arange(win.x0, win.x1, dtype=np.float32) - np.float32(origin[0])) * np.float32(d[0])
    y = (np.arange(win.y0, win.y1, dtype=np.float32) - np.float32(origin[1])) * np.float32(d[1])
    out = np.empty(win.shape, np.float32)
    _ramp_kernel(y, x, np.float32(strength), out)
    return out


@numba.njit(cache=True, nogil=True)
def _ramp_kernel(y, x, strength, out):  # pragma: no cover - numba
    """out[i, j] = 1 + strength * clip(y[i] + x[j], -1, 1), float32 (one pass)."""
    one = numba.float32(1.0)
    for i in range(y.shape[0]):
        for j in range(x.shape[0]):
            out[i, j] = one + strength * min(max(y[i] + x[j], -one), one)


def band(win: Window, origin: np.ndarray, normal: np.ndarray, half_width_px: float) -> np.ndarray:
    """A soft stripe over the window: ``clip(1 - |(p - origin) . n| / half_width_px, 0, 1)``
    with ``n`` = unit ``normal``."""
    ramp = light_ramp(win, origin, normal, half_width_px, 1.0) - np.float32(1.0)
    return np.float32(1.0) - np.abs(ramp)
