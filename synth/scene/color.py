"""Colour conventions of the renderer, written once: linear sRGB, the sRGB OETF, CIELAB, CCT.

Symbols: N any number of colours (leading axes ``*`` are kept).

Convention
----------
- Every albedo, light colour and shaded radiance in ``synth.scene`` is **linear sRGB**
  (IEC 61966-2-1 primaries, D65 white), unitless; albedo lies in [0, 1].
- Only the final image is gamma-encoded, by ``linear_to_srgb`` (the piecewise sRGB OETF,
  not a pure 2.2 power), to ``uint8``.
- CIELAB uses the D65 reference white (Xn, Yn, Zn) = (0.95047, 1.0, 1.08883), as skin
  colorimeters report it (e.g. Minolta CM-series, D65 / 10 deg in the cited skin studies).
- Correlated colour temperature (CCT) -> chromaticity uses the Planckian-locus cubic fit of
  Kim et al. (2002) (US patent 7,024,034; the curve on Wikipedia's "Planckian locus"), valid
  for 1667-25000 K; the colour is scaled to luminance Y = 1 so temperature never changes
  brightness.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "srgb_to_linear",
    "linear_to_srgb",
    "linear_to_srgb_float",
    "over_to_srgb",
    "luminance",
    "lab_to_linear_srgb",
    "linear_srgb_to_lab",
    "cct_to_linear_srgb",
]

#: CIE XYZ (D65) -> linear sRGB, IEC 61966-2-1.
XYZ_TO_LINEAR_SRGB = np.array(
    [[3.2404542, -1.5371385, -0.4985314],
     [-0.9692660, 1.8760108, 0.0415560],
     [0.0556434, -0.2040259, 1.0572252]], dtype=np.float64)
LINEAR_SRGB_TO_XYZ = np.linalg.inv(XYZ_TO_LINEAR_SRGB)
#: Rec. 709 / sRGB luminance weights (the Y row of ``LINEAR_SRGB_TO_XYZ``).
LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
D65_WHITE_XYZ = np.array([0.95047, 1.0, 1.08883], dtype=np.float64)

_LUT_SIZE = 1 << 16

# CIELAB helpers: (L*, a*, b*) @ _LAB_TO_F + 16/116 = (fx, fy, fz) with fy = (L* + 16) / 116,
# fx = fy + a* / 500, fz = fy - b* / 200; (XYZ / white) @ _WHITE_XYZ_TO_LINEAR_SRGB = linear sRGB.
_LAB_TO_F = np.array([[1.0 / 116.0] * 3, [1.0 / 500.0, 0.0, 0.0], [0.0, 0.0, -1.0 / 200.0]])
_WHITE_XYZ_TO_LINEAR_SRGB = D65_WHITE_XYZ[:, None] * XYZ_TO_LINEAR_SRGB.T


def _oetf(x: np.ndarray) -> np.ndarray:
    """Exact sRGB OETF on [0, 1] floats (float64)."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)


# uint8 lookup table indexed by round(x * 65535): one gather instead of a pow per channel.
_SRGB8_LUT = np.round(_oetf(np.arange(_LUT_SIZE) / (_LUT_SIZE - 1)) * 255.0).astype(np.uint8)


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """Inverse sRGB OETF.

    Args:
        srgb: (*) gamma-encoded values; ``uint8`` arrays are read as 0..255, floats as 0..1.

    Returns:
        (*) float32 linear values in [0, 1].
    """
    a = np.asarray(srgb)
    if a.dtype == np.uint8:  # 256-entry table: the hot path for backgrounds
        return _SRGB8_TO_LINEAR[a]
    x = np.clip(a.astype(np.float64), 0.0, 1.0)
    return _eotf(x).astype(np.float32)


def _eotf(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


_SRGB8_TO_LINEAR = _eotf(np.arange(256) / 255.0).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Encode linear radiance for display: clip to [0, 1], apply the sRGB OETF, quantise.

    A 65,536-entry table replaces the power function; it agrees with the exact formula
    to within one 8-bit level (tested).

    Args:
        linear: (*) float linear sRGB values (any shape, e.g. (H, W, 3)); NaN -> 0.

    Returns:
        (*) uint8, 0..255.
    """
    x = np.asarray(linear, dtype=np.float32)
    idx = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0)
    idx = np.clip(idx, 0.0, 1.0)
    idx = (idx * np.float32(_LUT_SIZE - 1) + np.float32(0.5)).astype(np.int32)
    return _SRGB8_LUT[idx]


def over_to_srgb(fg_linear: np.ndarray, alpha: np.ndarray, bg_srgb: np.ndarray) -> np.ndarray:
    """Composite a premultiplied linear foreground over an sRGB background and encode it.

    Equals ``linear_to_srgb(fg_linear + srgb_to_linear(bg_srgb) * (1 - alpha)[..., None])``
    (same float32 arithmetic and table) in one pass without temporaries.

    Args:
        fg_linear: (H, W, C) float linear colour premultiplied by ``alpha``.
        alpha: (H, W) float coverage in [0, 1].
        bg_srgb: (H, W, C) uint8 (0..255) or float (0..1) sRGB background.

    Returns:
        (H, W, C) uint8 sRGB.
    """
    fg = np.ascontiguousarray(fg_linear, dtype=np.float32)
    a = np.ascontiguousarray(alpha, dtype=np.float32)
    if fg.ndim != 3 or a.shape != fg.shape[:2] or np.shape(bg_srgb) != fg.shape:
        raise ValueError(f"expected fg (H, W, C), alpha (H, W), bg (H, W, C); got {fg.shape}, {a.shape}, {np.shape(bg_srgb)}")
    if np.asarray(bg_srgb).dtype != np.uint8:
        return linear_to_srgb(fg + srgb_to_linear(bg_srgb) * (np.float32(1.0) - a[..., None]))
    out = np.empty(fg.shape, np.uint8)
    _over_kernel(fg, a, np.ascontiguousarray(bg_srgb), _SRGB8_TO_LINEAR, _SRGB8_LUT, out)
    return out


@numba.njit(cache=True, nogil=True)
def _over_kernel(fg, alpha, bg, to_linear, to_srgb8, out):  # pragma: no cover - numba
    """Per pixel: empty (alpha 0, fg 0) -> the background byte unchanged (exact: 8-bit codes
    round-trip through the tables); else composite and encode (an opaque pixel adds
    ``to_linear[bg] * 0``, exactly 0). RGB runs a flat loop with the channels written out
    (~20 % faster than 2D indexing with a branch per case)."""
    h, w, c = fg.shape
    one = numba.float32(1.0)
    if c != 3:
        for i in range(h):
            for j in range(w):
                t = one - alpha[i, j]
                for k in range(c):
                    out[i, j, k] = _encode(fg[i, j, k] + to_linear[bg[i, j, k]] * t, to_srgb8)
        return
    f, b, o, a = fg.reshape(-1), bg.reshape(-1), out.reshape(-1), alpha.reshape(-1)
    for p in range(h * w):
        k = 3 * p
        if a[p] == 0.0 and f[k] == 0.0 and f[k + 1] == 0.0 and f[k + 2] == 0.0:
            o[k], o[k + 1], o[k + 2] = b[k], b[k + 1], b[k + 2]
            continue
        t = one - a[p]
        o[k] = _encode(f[k] + to_linear[b[k]] * t, to_srgb8)
        o[k + 1] = _encode(f[k + 1] + to_linear[b[k + 1]] * t, to_srgb8)
        o[k + 2] = _encode(f[k + 2] + to_linear[b[k + 2]] * t, to_srgb8)


@numba.njit(cache=True, inline="always")
def _encode(x, to_srgb8):  # pragma: no cover - numba
    """``linear_to_srgb`` of one float32 value: NaN and negatives -> 0, clip at 1, table."""
    if not x >= 0.0:
        x = numba.float32(0.0)
    elif x > 1.0:
        x = numba.float32(1.0)
    return to_srgb8[int(x * numba.float32(_LUT_SIZE - 1) + numba.float32(0.5))]


def linear_to_srgb_float(linear: np.ndarray) -> np.ndarray:
    """Exact sRGB OETF without quantisation: (*) float -> (*) float32 in [0, 1]."""
    return _oetf(np.nan_to_num(np.asarray(linear, dtype=np.float64))).astype(np.float32)


def luminance(rgb_linear: np.ndarray) -> np.ndarray:
    """Relative luminance Y of linear sRGB colours: (*, 3) -> (*) float32."""
    return np.asarray(rgb_linear, dtype=np.float32) @ LUMA_WEIGHTS


def lab_to_linear_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) -> linear sRGB (not clipped; out-of-gamut colours go below 0 or above 1).

    Args:
        lab: (*, 3) L* in [0, 100], a*, b*.

    Returns:
        (*, 3) float64 linear sRGB.
    """
    f = np.asarray(lab, dtype=np.float64) @ _LAB_TO_F + 16.0 / 116.0  # (fx, fy, fz)
    d = 6.0 / 29.0
    t = np.where(f > d, f**3, 3.0 * d * d * (f - 4.0 / 29.0))  # XYZ / white
    return t @ _WHITE_XYZ_TO_LINEAR_SRGB


def linear_srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Linear sRGB -> CIELAB (D65): (*, 3) -> (*, 3) float64 (inverse of ``lab_to_linear_srgb``)."""
    xyz = np.asarray(rgb, dtype=np.float64) @ LINEAR_SRGB_TO_XYZ.T / D65_WHITE_XYZ
    d = 6.0 / 29.0
    f = np.where(xyz > d ** 3, np.cbrt(xyz), xyz / (3.0 * d * d) + 4.0 / 29.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], axis=-1)


_XYZ_TO_LINEAR_SRGB_ROWS = XYZ_TO_LINEAR_SRGB.tolist()
_LUMA_WEIGHTS_F64 = LUMA_WEIGHTS.astype(np.float64).tolist()


def _planck_xy(t_k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CIE 1931 xy of a black body, Kim et al. (2002) cubic fit (1667-25000 K)."""
    t = np.asarray(t_k, dtype=np.float64)
    x_low = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    x_high = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    x = np.where(t <= 4000.0, x_low, x_high)
    y1 = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    y2 = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    y3 = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    y = np.where(t <= 2222.0, y1, np.where(t <= 4000.0, y2, y3))
    return x, y


def _cct_scalar(temp_k: float) -> np.ndarray:
    """``cct_to_linear_srgb`` of one temperature, in Python floats (same formulas)."""
    t = min(max(temp_k, 1667.0), 25000.0)
    if t <= 4000.0:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222.0:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000.0:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    xyz = (x / y, 1.0, (1.0 - x - y) / y)
    rgb = [max(sum(m * c for m, c in zip(row, xyz)), 0.0) for row in _XYZ_TO_LINEAR_SRGB_ROWS]
    lum = sum(w * c for w, c in zip(_LUMA_WEIGHTS_F64, rgb))
    return np.array([c / lum for c in rgb], np.float32)


def cct_to_linear_srgb(temp_k: float | np.ndarray) -> np.ndarray:
    """Linear sRGB colour of a black-body light of temperature ``temp_k`` at luminance 1.

    Args:
        temp_k: (*) kelvin, 1667-25000 (values outside are clipped to that range).

    Returns:
        (*, 3) float32, non-negative, with ``luminance(...) == 1``. 2500 K is orange
        (about (2.06, 0.77, 0.14)), 6500 K near white, 9000 K bluish (0.90, 0.99, 1.34).
    """
    if np.ndim(temp_k) == 0:  # one light per scene: plain float maths, ~20x faster than numpy's
        return _cct_scalar(float(temp_k))
    t = np.clip(np.asarray(temp_k, dtype=np.float64), 1667.0, 25000.0)
    x, y = _planck_xy(t)
    xyz = np.stack([x / y, np.ones_like(x), (1.0 - x - y) / y], axis=-1)
    rgb = np.maximum(xyz @ XYZ_TO_LINEAR_SRGB.T, 0.0)
    rgb /= (rgb @ LUMA_WEIGHTS.astype(np.float64))[..., None]
    return rgb.astype(np.float32)
