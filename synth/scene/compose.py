"""Alpha compositing helpers (vectorised, float32), and soft masks drawn with cv2.

Convention: straight (non-premultiplied) uint8 RGB images, float32 alpha in [0, 1]; the
``over`` operator is Porter-Duff source-over. Polygons are (N, 2) float pixel coordinates
with the origin at the centre of the top-left pixel (cv2's own convention), drawn with
4 bits of sub-pixel precision and anti-aliasing.

Layers are drawn in a ``Window``: a box of the image sized to the layer's geometry. Points
stay in image pixels; masks, fields and canvases are arrays of the window's size. An occluder
covers 7-32 % of a face crop (object to hand, on average), and full-frame arrays made each
layer cost ~2 ms at 256 px, most of it on empty pixels.

Speed note: numpy broadcasting of an (H, W, 1) or (3,) operand against (H, W, 3) is ~20x
slower than same-shape arithmetic, so alpha is expanded with ``cv2.cvtColor(GRAY2RGB)``;
``PremulCanvas`` keeps its colour planar (3, h, w) and paints, un-premultiplies and
composites with fused numba kernels restricted to a bounding box (one call per operation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numba
import numpy as np

__all__ = ["Window", "over", "over_box", "union_alpha", "fixed_point", "poly_mask", "line_mask", "soften",
           "fast_blur", "nonzero_roi", "PremulCanvas"]

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT


@dataclass(frozen=True)
class Window:
    """Rows ``y0:y1`` and columns ``x0:x1`` of an image of size ``image_hw`` (never empty).

    Drawing helpers given a window take points in image pixels and return arrays of
    ``shape`` = (y1 - y0, x1 - x0); its pixel (0, 0) is the image's pixel (y0, x0).
    """

    image_hw: tuple[int, int]
    y0: int
    y1: int
    x0: int
    x1: int

    @classmethod
    def full(cls, hw: tuple[int, int]) -> "Window":
        """The whole (H, W) image."""
        return cls((int(hw[0]), int(hw[1])), 0, int(hw[0]), 0, int(hw[1]))

    @classmethod
    def around(cls, hw: tuple[int, int], shapes: list[np.ndarray], pad_px: float = 0.0) -> "Window":
        """The box of every point of ``shapes`` (each (..., 2) px), grown by ``pad_px`` plus
        2 px (anti-aliased edges), clipped to the (H, W) image; at least one pixel."""
        h, w = int(hw[0]), int(hw[1])
        # per-coordinate reductions: ``pts.min(0)`` on an (N, 2) array is ~10x slower
        xs = [np.asarray(s)[..., 0] for s in shapes]
        ys = [np.asarray(s)[..., 1] for s in shapes]
        pad = float(pad_px) + 2.0
        x_lo, x_hi = min(float(x.min()) for x in xs), max(float(x.max()) for x in xs)
        y_lo, y_hi = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
        x0 = min(max(math.floor(x_lo - pad), 0), w - 1)
        y0 = min(max(math.floor(y_lo - pad), 0), h - 1)
        x1 = min(max(math.ceil(x_hi + pad) + 1, x0 + 1), w)
        y1 = min(max(math.ceil(y_hi + pad) + 1, y0 + 1), h)
        return cls((h, w), y0, y1, x0, x1)

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(y0, y1, x0, x1)."""
        return self.y0, self.y1, self.x0, self.x1

    @property
    def origin(self) -> np.ndarray:
        """(2,) float64 image pixel (x, y) of the window's pixel (0, 0)."""
        return np.array([self.x0, self.y0], np.float64)

    def union(self, other: "Window") -> "Window":
        """The smallest window holding both (of the same image)."""
        return Window(self.image_hw, min(self.y0, other.y0), max(self.y1, other.y1), min(self.x0, other.x0),
                      max(self.x1, other.x1))

    def grown(self, pad: int) -> "Window":
        """This window grown by ``pad`` pixels on each side, clipped to the image."""
        h, w = self.image_hw
        return Window(self.image_hw, max(0, self.y0 - pad), min(h, self.y1 + pad), max(0, self.x0 - pad),
                      min(w, self.x1 + pad))


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


def poly_mask(win: Window, polys: list[np.ndarray]) -> np.ndarray:
    """Filled polygons (each (N, 2) float image px) -> ``win.shape`` float32 coverage in
    [0, 1], anti-aliased.

    Polygons are filled together (even-odd is not used: overlaps stay covered once).
    """
    m = np.zeros(win.shape, np.uint8)
    o = win.origin
    for p in polys:
        cv2.fillPoly(m, [fixed_point(np.asarray(p) - o)], 255, cv2.LINE_AA, _SHIFT)
    return _unit_float(m)


def line_mask(win: Window, polylines: list[np.ndarray] | np.ndarray, thickness_px: float,
              closed: bool = False) -> np.ndarray:
    """Stroked polylines (each (N, 2) float image px; or one (M, N, 2) array of M polylines,
    converted in one go) -> ``win.shape`` float32 coverage, anti-aliased."""
    m = np.zeros(win.shape, np.uint8)
    o = win.origin
    if isinstance(polylines, np.ndarray):
        pts = list(fixed_point(polylines - o))
    else:
        pts = [fixed_point(np.asarray(p) - o) for p in polylines]
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
    """An RGBA layer built by painting shapes on top of each other (premultiplied, float32),
    in a ``Window`` of the image.

    ``paint(cover, colour)`` puts ``colour`` over the layer with per-pixel opacity ``cover``
    (``win.shape``) in [0, 1]; ``colour`` is an RGB triple in [0, 255], or a ``win.shape``
    + (3,) image, or a triple together with a ``win.shape`` ``shade`` multiplier.
    ``straight()`` returns the painted part as straight colour and alpha, with its box.

    Work is restricted to the bounding box of each ``cover`` (and of everything painted, in
    ``roi``, window pixels).
    """

    def __init__(self, win: Window):
        self.win = win
        self.planes = np.zeros((3, *win.shape), np.float32)  # premultiplied R, G, B
        self.alpha = np.zeros(win.shape, np.float32)
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
        """Defocus the whole layer (colour and alpha together, premultiplied: no dark fringes).

        The window grows by the blur's reach (within the image) first, so the blurred edges
        are not cut off."""
        if sigma_px < 0.2 or self.roi is None:
            return
        pad = int(np.ceil(3.0 * sigma_px)) + 1
        y0, y1, x0, x1 = self.roi
        painted = self._image_box()
        big = Window(self.win.image_hw, *painted).grown(pad)
        planes = np.zeros((3, *big.shape), np.float32)
        alpha = np.zeros(big.shape, np.float32)
        dy, dx = painted[0] - big.y0, painted[2] - big.x0
        planes[:, dy:dy + y1 - y0, dx:dx + x1 - x0] = self.planes[:, y0:y1, x0:x1]
        alpha[dy:dy + y1 - y0, dx:dx + x1 - x0] = self.alpha[y0:y1, x0:x1]
        self.planes = np.stack([fast_blur(planes[k], sigma_px) for k in range(3)])
        self.alpha = fast_blur(alpha, sigma_px)
        self.win, self.roi = big, (0, big.shape[0], 0, big.shape[1])

    def straight(self) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
        """The painted box as (rgb (h, w, 3) uint8 straight colour, alpha (h, w) float32 in
        [0, 1], box (y0, y1, x0, x1) in image pixels); an empty box if nothing was painted."""
        y0, y1, x0, x1 = self.roi if self.roi is not None else (0, 0, 0, 0)
        rgb = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        alpha = np.empty((y1 - y0, x1 - x0), np.float32)
        _straight_kernel(self.planes, self.alpha, y0, y1, x0, x1, rgb, alpha)
        return rgb, alpha, self._image_box()

    def _image_box(self) -> tuple[int, int, int, int]:
        """``roi`` in image pixels, (y0, y1, x0, x1); empty at the window's corner if None."""
        y0, y1, x0, x1 = self.roi if self.roi is not None else (0, 0, 0, 0)
        w = self.win
        return w.y0 + y0, w.y0 + y1, w.x0 + x0, w.x0 + x1


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
    """Un-premultiply rows y0:y1, columns x0:x1 into ``rgb_out``/``alpha_out`` (the box's
    size): alpha clipped to [0, 1], colour rounded to uint8 (left as is where alpha is 0)."""
    for y in range(y0, y1):
        for x in range(x0, x1):
            a = min(max(alpha[y, x], numba.float32(0.0)), numba.float32(1.0))
            alpha_out[y - y0, x - x0] = a
            if a <= 0:
                continue
            inv = numba.float32(1.0) / max(a, numba.float32(1e-6))
            for k in range(3):
                v = min(max(planes[k, y, x] * inv, numba.float32(0.0)), numba.float32(255.0))
                rgb_out[y - y0, x - x0, k] = numba.uint8(numba.int32(v + numba.float32(0.5)))


@numba.njit(cache=True, nogil=True, fastmath=True)
def over_box(dst, coverage, rgb, alpha, y0, x0):  # pragma: no cover - numba
    """In place: a layer of (h, w) pixels, straight ``rgb`` (h, w, 3) uint8 with ``alpha``
    (h, w) float32, over ``dst`` (H, W, 3) float32 with its pixel (0, 0) at ``dst[y0, x0]``;
    ``coverage`` (H, W) float32 <- ``1 - (1 - coverage)(1 - alpha)`` there."""
    for y in range(alpha.shape[0]):
        for x in range(alpha.shape[1]):
            a = alpha[y, x]
            if a == 0:
                continue
            for k in range(3):
                d = dst[y0 + y, x0 + x, k]
                dst[y0 + y, x0 + x, k] = d + a * (numba.float32(rgb[y, x, k]) - d)
            coverage[y0 + y, x0 + x] += a - coverage[y0 + y, x0 + x] * a
