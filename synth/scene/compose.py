"""Alpha compositing helpers (vectorised, float32), and soft masks drawn with cv2.

Convention: straight (non-premultiplied) uint8 RGB images, float32 alpha in [0, 1]; the
``over`` operator is Porter-Duff source-over. Polygons are (N, 2) float pixel coordinates
with the origin at the centre of the top-left pixel (cv2's own convention), drawn with
4 bits of sub-pixel precision and anti-aliasing.

Speed note: numpy broadcasting of an (H, W, 1) or (3,) operand against (H, W, 3) is ~20x
slower than same-shape arithmetic, so alpha is expanded with ``cv2.cvtColor(GRAY2RGB)``;
``PremulCanvas`` keeps its colour planar (3, H, W) and paints, un-premultiplies and
composites with fused numba kernels restricted to a bounding box (one call per operation).
"""

from __future__ import annotations

import cv2
import numba
import numpy as np

__all__ = ["over", "over_roi", "union_alpha", "fixed_point", "poly_mask", "line_mask", "soften", "fast_blur",
           "nonzero_roi", "PremulCanvas"]

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT


def over(dst_rgb: np.ndarray, src_rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``src`` over ``dst``: (H, W, 3) uint8, (H, W, 3) uint8, (H, W) float32 -> (H, W, 3) uint8."""
    a3 = cv2.cvtColor(np.ascontiguousarray(alpha, np.float32), cv2.COLOR_GRAY2RGB)
    out = dst_rgb.astype(np.float32)
    out += a3 * (src_rgb.astype(np.float32) - out)
    return cv2.convertScaleAbs(out)  # rounds and saturates


def union_alpha(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Coverage of two layers stacked: ``1 - (1 - a)(1 - b)``, (H, W) float32."""
    return a + b - a * b


def fixed_point(pts: np.ndarray) -> np.ndarray:
    """(..., 2) float px -> int32 with ``_SHIFT`` fractional bits, for cv2 drawing with ``shift``."""
    return np.round(np.asarray(pts, np.float64) * _ONE).astype(np.int32)


def poly_mask(hw: tuple[int, int], polys: list[np.ndarray]) -> np.ndarray:
    """Filled polygons (each (N, 2) float px) -> (H, W) float32 coverage in [0, 1], anti-aliased.

    Polygons are filled together (even-odd is not used: overlaps stay covered once).
    """
    m = np.zeros(hw, np.uint8)
    for p in polys:
        cv2.fillPoly(m, [fixed_point(p)], 255, cv2.LINE_AA, _SHIFT)
    return _unit_float(m)


def line_mask(hw: tuple[int, int], polylines: list[np.ndarray] | np.ndarray, thickness_px: float,
              closed: bool = False) -> np.ndarray:
    """Stroked polylines (each (N, 2) float px; or one (M, N, 2) array of M polylines, converted
    in one go) -> (H, W) float32 coverage, anti-aliased."""
    m = np.zeros(hw, np.uint8)
    pts = list(fixed_point(polylines)) if isinstance(polylines, np.ndarray) else [fixed_point(p) for p in polylines]
    cv2.polylines(m, pts, closed, 255, max(1, round(thickness_px)), cv2.LINE_AA, _SHIFT)
    return _unit_float(m)


def _unit_float(m: np.ndarray) -> np.ndarray:
    """uint8 0-255 -> float32 0-1 in one pass."""
    return np.multiply(m, np.float32(1.0 / 255.0), dtype=np.float32)


def soften(alpha: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian-blurred copy of a (H, W) float32 mask (identity for ``sigma_px < 0.2``)."""
    if sigma_px < 0.2:
        return alpha
    k = 2 * int(np.ceil(2.5 * sigma_px)) + 1
    return cv2.GaussianBlur(alpha, (k, k), sigma_px)


def fast_blur(img: np.ndarray, sigma_px: float) -> np.ndarray:
    """An approximate Gaussian blur for wide ``sigma_px``: blur at reduced size, resize back.

    The image is area-downscaled by ``k = floor(sigma_px / 1.5)`` (>= 1), blurred with
    ``sigma_px / k`` and bilinearly upscaled. Shapes and dtypes are preserved.
    """
    h, w = img.shape[:2]
    k = max(1, int(sigma_px / 1.5))
    if k == 1:
        return soften(img, sigma_px)
    small = cv2.resize(img, (max(1, round(w / k)), max(1, round(h / k))), interpolation=cv2.INTER_AREA)
    small = soften(small, sigma_px / k)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def nonzero_roi(mask: np.ndarray, pad: int = 0) -> tuple[slice, slice] | None:
    """Row and column slices of the bounding box of ``mask > 0`` grown by ``pad`` (clipped), or None."""
    x, y, w, h = cv2.boundingRect((mask > 0).view(np.uint8))
    if w == 0 or h == 0:
        return None
    H, W = mask.shape[:2]
    return slice(max(0, y - pad), min(H, y + h + pad)), slice(max(0, x - pad), min(W, x + w + pad))


class PremulCanvas:
    """An RGBA layer built by painting shapes on top of each other (premultiplied, float32).

    ``paint(cover, colour)`` puts ``colour`` over the layer with per-pixel opacity ``cover``
    (H, W) in [0, 1]; ``colour`` is an RGB triple in [0, 255], or an (H, W, 3) image, or a
    triple together with a (H, W) ``shade`` multiplier. ``straight()`` returns the layer as
    (rgb (H, W, 3) uint8, alpha (H, W) float32).

    Work is restricted to the bounding box of each ``cover`` (and of everything painted, in
    ``roi``), so small occluders on large images stay cheap.
    """

    def __init__(self, hw: tuple[int, int]):
        self.hw = (int(hw[0]), int(hw[1]))
        self.planes = np.zeros((3, *self.hw), np.float32)  # premultiplied R, G, B
        self.alpha = np.zeros(self.hw, np.float32)
        self.roi: tuple[int, int, int, int] | None = None  # y0, y1, x0, x1 of everything painted

    def _grow(self, ys: slice, xs: slice) -> None:
        r = (ys.start, ys.stop, xs.start, xs.stop)
        if self.roi is None:
            self.roi = r
        else:
            self.roi = (min(self.roi[0], r[0]), max(self.roi[1], r[1]), min(self.roi[2], r[2]), max(self.roi[3], r[3]))

    def paint(self, cover: np.ndarray, colour, shade: np.ndarray | None = None) -> None:
        roi = nonzero_roi(cover)
        if roi is None:
            return
        ys, xs = roi
        self._grow(ys, xs)
        if isinstance(colour, np.ndarray) and colour.ndim == 3:
            image, rgb = np.ascontiguousarray(colour, np.uint8), np.zeros(3, np.float32)
        else:
            image, rgb = None, np.asarray(colour, np.float32).reshape(3)
        _paint_kernel(self.planes, self.alpha, np.ascontiguousarray(cover, np.float32), rgb, image,
                      None if shade is None else np.ascontiguousarray(shade, np.float32),
                      ys.start, ys.stop, xs.start, xs.stop)

    def blur(self, sigma_px: float) -> None:
        """Defocus the whole layer (colour and alpha together, premultiplied: no dark fringes)."""
        if sigma_px < 0.2 or self.roi is None:
            return
        pad = int(np.ceil(3.0 * sigma_px)) + 1
        y0, y1, x0, x1 = self.roi
        ys = slice(max(0, y0 - pad), min(self.hw[0], y1 + pad))
        xs = slice(max(0, x0 - pad), min(self.hw[1], x1 + pad))
        for k in range(3):
            self.planes[k, ys, xs] = fast_blur(np.ascontiguousarray(self.planes[k, ys, xs]), sigma_px)
        self.alpha[ys, xs] = fast_blur(np.ascontiguousarray(self.alpha[ys, xs]), sigma_px)
        self._grow(ys, xs)

    def straight(self) -> tuple[np.ndarray, np.ndarray]:
        """(rgb (H, W, 3) uint8 straight colour, alpha (H, W) float32 in [0, 1])."""
        rgb = np.zeros((*self.hw, 3), np.uint8)
        alpha = np.zeros(self.hw, np.float32)
        if self.roi is not None:
            _straight_kernel(self.planes, self.alpha, *self.roi, rgb, alpha)
        return rgb, alpha


@numba.njit(cache=True, nogil=True, fastmath=True)
def _paint_kernel(planes, alpha, cover, rgb, image, shade, y0, y1, x0, x1):  # pragma: no cover - numba
    """Premultiplied ``src over layer`` with opacity ``cover`` (times ``shade`` for the colour)
    inside rows y0:y1, columns x0:x1; the colour is ``image[y, x]`` or, if image is None, ``rgb``."""
    one = numba.float32(1.0)
    for y in range(y0, y1):
        for x in range(x0, x1):
            c = cover[y, x]
            if c == 0:
                continue
            keep = one - c
            cs = c if shade is None else c * shade[y, x]
            for k in range(3):
                src = rgb[k] if image is None else numba.float32(image[y, x, k])
                planes[k, y, x] = planes[k, y, x] * keep + src * cs
            alpha[y, x] = alpha[y, x] * keep + c


@numba.njit(cache=True, nogil=True, fastmath=True)
def _straight_kernel(planes, alpha, y0, y1, x0, x1, rgb_out, alpha_out):  # pragma: no cover - numba
    """Un-premultiply rows y0:y1, columns x0:x1: alpha clipped to [0, 1], colour rounded to uint8."""
    for y in range(y0, y1):
        for x in range(x0, x1):
            a = min(max(alpha[y, x], numba.float32(0.0)), numba.float32(1.0))
            alpha_out[y, x] = a
            if a <= 0:
                continue
            inv = numba.float32(1.0) / max(a, numba.float32(1e-6))
            for k in range(3):
                v = min(max(planes[k, y, x] * inv, numba.float32(0.0)), numba.float32(255.0))
                rgb_out[y, x, k] = numba.uint8(numba.int32(v + numba.float32(0.5)))


@numba.njit(cache=True, nogil=True, fastmath=True)
def over_roi(dst, coverage, rgb, alpha, y0, y1, x0, x1):  # pragma: no cover - numba
    """In place, inside rows y0:y1, columns x0:x1: ``dst`` (H, W, 3) float32 <- straight
    ``rgb`` (H, W, 3) uint8 over it with ``alpha`` (H, W) float32; ``coverage`` (H, W)
    float32 <- ``1 - (1 - coverage)(1 - alpha)``."""
    for y in range(y0, y1):
        for x in range(x0, x1):
            a = alpha[y, x]
            if a == 0:
                continue
            for k in range(3):
                d = dst[y, x, k]
                dst[y, x, k] = d + a * (numba.float32(rgb[y, x, k]) - d)
            coverage[y, x] += a - coverage[y, x] * a
