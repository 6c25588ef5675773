"""Camera and compression degradations that never move image content (landmarks stay valid).

Steps, each applied with its own probability, in this order (a rough camera pipeline):
motion blur -> Gaussian blur (defocus) -> colour shift (gain, offset, gamma, saturation,
grayscale) -> sensor noise (Gaussian + signal-dependent "shot" noise) -> down-up rescale ->
JPEG re-encoding.

Geometry: every kernel is point-symmetric about its centre (motion blur is a line centred on
the pixel, sampled symmetrically), and resizing uses cv2's pixel-centre-aligned mapping
(``INTER_NEAREST_EXACT`` rather than ``INTER_NEAREST``), so a bright dot's centroid stays put.

``degrade`` returns a flat dict of the applied parameters with always the same keys
(``DEGRADE_PARAM_KEYS``); a step that was not applied reports its identity value
(lengths/sigmas/stds 0, gains/gamma/saturation/factor 1, offsets 0, ``jpeg_quality`` 0,
``rescale_interp_*`` -1), so the values can be stored as fixed label columns.

Cost: every step is one or two whole-image passes (8-bit LUTs, one 3-channel LUT for the
colour shift, a fused numba kernel for the noise). What remains is dominated by single
cv2 calls: JPEG encode + decode, non-integer ``INTER_AREA`` / cubic resizes, ``filter2D``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numba
import numpy as np
from scipy.special import ndtri

from synth.scene._config_checks import check_fields, check_probability, check_range

__all__ = ["DegradeConfig", "degrade", "DEGRADE_PARAM_KEYS", "RESCALE_INTERPS", "motion_blur_kernel"]

#: Interpolations for the down-up rescale; ``rescale_interp_down/up`` index this tuple.
RESCALE_INTERPS: tuple[str, ...] = ("area", "linear", "cubic", "nearest")
_CV_INTERP = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
              "nearest": cv2.INTER_NEAREST_EXACT}
_DOWN = (0, 1)  # area, linear: no nearest/cubic when shrinking (aliasing would move small features)
_UP = (1, 2, 3)  # linear, cubic, nearest

#: Unit-variance Gaussian quantiles at the 256 byte midpoints: a random byte through this table
#: is a (tails cut at 2.9 sigma) standard normal sample, ~5x cheaper than rng.standard_normal.
_NORMAL_LUT = ndtri((np.arange(256) + 0.5) / 256.0)
_NORMAL_LUT = (_NORMAL_LUT / _NORMAL_LUT.std()).astype(np.float32)
_LEVELS = np.arange(256, dtype=np.float64)
#: Luma weights of cv2's RGB -> grey conversion (ITU-R BT.601), for the saturation matrix.
_LUMA = np.array([0.299, 0.587, 0.114])


@dataclass(frozen=True)
class DegradeConfig:
    """Probabilities and parameter ranges of the degradations (YAML section ``degrade:``).

    Ranges are (low, high), sampled uniformly. Intensities are in 8-bit levels (0-255).

    Attributes:
        p_motion_blur, motion_blur_length_px: line kernel length; its angle is uniform.
        p_gaussian_blur, gaussian_blur_sigma_px: defocus standard deviation.
        p_colour: probability of a colour shift with per-channel ``colour_gain`` and
            ``colour_offset_levels``, then ``colour_gamma`` (out = in ** gamma on [0, 1]) and
            ``colour_saturation`` (0 = grey, 1 = unchanged).
        p_grayscale: probability of converting to grey (3 equal channels).
        p_noise, noise_std_levels, noise_shot_gain: per-pixel noise with variance
            ``std**2 + gain * level`` (the second term mimics Poisson shot noise).
        p_rescale, rescale_factor: shrink by the factor, then enlarge back.
        p_jpeg, jpeg_quality: JPEG re-encoding quality (integers, 1-100).
    """

    p_motion_blur: float = 0.15
    motion_blur_length_px: tuple[float, float] = (3.0, 11.0)
    p_gaussian_blur: float = 0.3
    gaussian_blur_sigma_px: tuple[float, float] = (0.4, 1.8)
    p_colour: float = 0.5
    colour_gain: tuple[float, float] = (0.8, 1.2)
    colour_offset_levels: tuple[float, float] = (-15.0, 15.0)
    colour_gamma: tuple[float, float] = (0.7, 1.4)
    colour_saturation: tuple[float, float] = (0.5, 1.3)
    p_grayscale: float = 0.05
    p_noise: float = 0.4
    noise_std_levels: tuple[float, float] = (1.0, 8.0)
    noise_shot_gain: tuple[float, float] = (0.0, 0.5)
    p_rescale: float = 0.25
    rescale_factor: tuple[float, float] = (0.25, 0.8)
    p_jpeg: float = 0.35
    jpeg_quality: tuple[int, int] = (25, 95)

    def __post_init__(self):
        p = (check_probability,)
        check_fields(self, {
            "p_motion_blur": p, "p_gaussian_blur": p, "p_colour": p, "p_grayscale": p, "p_noise": p,
            "p_rescale": p, "p_jpeg": p,
            "motion_blur_length_px": (check_range, 1.0, 101.0),
            "gaussian_blur_sigma_px": (check_range, 0.0, 50.0),
            "colour_gain": (check_range, 0.0, 10.0),
            "colour_offset_levels": (check_range, -255.0, 255.0),
            "colour_gamma": (check_range, 0.05, 20.0),
            "colour_saturation": (check_range, 0.0, 10.0),
            "noise_std_levels": (check_range, 0.0, 255.0),
            "noise_shot_gain": (check_range, 0.0, 255.0),
            "rescale_factor": (check_range, 0.01, 1.0),
            "jpeg_quality": (check_range, 1, 100, True),
        })


DEGRADE_PARAM_KEYS: tuple[str, ...] = (
    "motion_blur_length_px", "motion_blur_angle_deg", "gaussian_blur_sigma_px",
    "colour_gain_r", "colour_gain_g", "colour_gain_b", "colour_offset_r", "colour_offset_g",
    "colour_offset_b", "colour_gamma", "colour_saturation", "grayscale",
    "noise_std_levels", "noise_shot_gain", "rescale_factor", "rescale_interp_down",
    "rescale_interp_up", "jpeg_quality",
)
_IDENTITY = {k: 0.0 for k in DEGRADE_PARAM_KEYS} | {
    "colour_gain_r": 1.0, "colour_gain_g": 1.0, "colour_gain_b": 1.0, "colour_gamma": 1.0,
    "colour_saturation": 1.0, "rescale_factor": 1.0, "rescale_interp_down": -1.0, "rescale_interp_up": -1.0,
}


def degrade(image: np.ndarray, rng: np.random.Generator, cfg: DegradeConfig) -> tuple[np.ndarray, dict[str, float]]:
    """Apply a random subset of the degradations to ``image``.

    Args:
        image: (H, W, 3) uint8 RGB (not modified).
        rng: the only source of randomness (same state -> identical bytes and params).
        cfg: probabilities and ranges.

    Returns:
        image_out: (H, W, 3) uint8 RGB, same size, content at the same pixel positions.
        params: ``DEGRADE_PARAM_KEYS`` -> float (identity values for steps not applied).
    """
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image: expected (H, W, 3) uint8 RGB, got {img.shape} {img.dtype}")
    u = rng.random(7)  # one draw per step, whatever is applied: a stable stream
    params = dict(_IDENTITY)
    if u[0] < cfg.p_motion_blur:
        length, angle = rng.uniform(*cfg.motion_blur_length_px), rng.uniform(0.0, 180.0)
        img = cv2.filter2D(img, -1, motion_blur_kernel(length, angle), borderType=cv2.BORDER_REFLECT_101)
        params |= {"motion_blur_length_px": length, "motion_blur_angle_deg": angle}
    if u[1] < cfg.p_gaussian_blur:
        sigma = rng.uniform(*cfg.gaussian_blur_sigma_px)
        if sigma > 0.0:
            k = 2 * int(np.ceil(3.0 * sigma)) + 1
            img = cv2.GaussianBlur(img, (k, k), sigma, borderType=cv2.BORDER_REFLECT_101)
        params["gaussian_blur_sigma_px"] = sigma
    if u[2] < cfg.p_colour:
        gain, offset = rng.uniform(*cfg.colour_gain, 3), rng.uniform(*cfg.colour_offset_levels, 3)
        gamma, sat = rng.uniform(*cfg.colour_gamma), rng.uniform(*cfg.colour_saturation)
        img = _colour(img, gain, offset, gamma, sat)
        params |= {f"colour_gain_{c}": float(g) for c, g in zip("rgb", gain)}
        params |= {f"colour_offset_{c}": float(o) for c, o in zip("rgb", offset)}
        params |= {"colour_gamma": gamma, "colour_saturation": sat}
    if u[3] < cfg.p_grayscale:
        img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        params["grayscale"] = 1.0
    if u[4] < cfg.p_noise:
        std, gain = rng.uniform(*cfg.noise_std_levels), rng.uniform(*cfg.noise_shot_gain)
        img = _noise(img, rng, std, gain)
        params |= {"noise_std_levels": std, "noise_shot_gain": gain}
    if u[5] < cfg.p_rescale:
        f = rng.uniform(*cfg.rescale_factor)
        i_down, i_up = _DOWN[rng.integers(len(_DOWN))], _UP[rng.integers(len(_UP))]
        h, w = img.shape[:2]
        small = cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))),
                           interpolation=_CV_INTERP[RESCALE_INTERPS[i_down]])
        img = cv2.resize(small, (w, h), interpolation=_CV_INTERP[RESCALE_INTERPS[i_up]])
        params |= {"rescale_factor": f, "rescale_interp_down": float(i_down), "rescale_interp_up": float(i_up)}
    if u[6] < cfg.p_jpeg:
        q = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:
            raise RuntimeError(f"cv2.imencode failed to JPEG-encode an image of shape {img.shape}")
        img = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        params["jpeg_quality"] = float(q)
    if img is image:
        img = img.copy()
    return img, {k: float(v) for k, v in params.items()}


def motion_blur_kernel(length_px: float, angle_deg: float) -> np.ndarray:
    """A normalised line kernel, (kh, kw) float32 with odd sides, point-symmetric about its centre.

    The segment of ``length_px`` through the centre at ``angle_deg`` (0 = horizontal, 90 =
    vertical, image axes) is sampled at 4 points per pixel, symmetrically about the centre,
    and splatted bilinearly; the kernel is cropped to its non-zero extent (kept centred), so
    near-axis angles give thin, cheap kernels.
    """
    n = max(2, int(np.ceil(4 * length_px)))
    t = (np.arange(n) - (n - 1) / 2.0) * (length_px / n)  # symmetric about 0
    a = np.radians(angle_deg)
    x, y = t * np.cos(a), t * np.sin(a)
    r = int(np.ceil(0.5 * length_px)) + 1
    size = 2 * r + 1
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    idx = ((y0 + r) * size + x0 + r).astype(np.int64)
    # Bilinear splat: the 4 neighbours of every sample, accumulated with one bincount.
    k = np.bincount(np.concatenate([idx, idx + 1, idx + size, idx + size + 1]),
                    np.concatenate([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy]),
                    minlength=size * size).reshape(size, size)
    k[k < 1e-3 * k.max()] = 0.0
    rows, cols = np.nonzero(k.any(axis=1))[0], np.nonzero(k.any(axis=0))[0]
    ry, rx = max(r - rows[0], rows[-1] - r), max(r - cols[0], cols[-1] - r)
    k = k[r - ry:r + ry + 1, r - rx:r + rx + 1]
    return (k / k.sum()).astype(np.float32)


def _colour(img: np.ndarray, gain: np.ndarray, offset: np.ndarray, gamma: float, sat: float) -> np.ndarray:
    """Per-channel gain/offset then gamma through one 3-channel 8-bit LUT, then saturation
    about the grey (one 3 x 3 colour matrix, ``sat * I + (1 - sat) * luma``)."""
    v = _LEVELS[:, None] / 255.0
    lut = np.clip(v * gain + offset / 255.0, 0.0, 1.0) ** gamma  # (256, 3)
    img = cv2.LUT(img, np.round(lut * 255.0).astype(np.uint8).reshape(256, 1, 3))
    if abs(sat - 1.0) > 1e-3:
        m = sat * np.eye(3) + (1.0 - sat) * _LUMA[None, :]
        img = cv2.transform(img, m)  # rounds and saturates
    return img


def _noise(img: np.ndarray, rng: np.random.Generator, std: float, gain: float) -> np.ndarray:
    """Add N(0, std**2 + gain * level) per pixel and channel (levels 0-255), rounded and clipped."""
    # Uniform bytes straight from the bit generator (8 per 64-bit draw, little-endian on
    # every platform): ~4x cheaper than ``rng.bytes``, which draws and copies 32-bit words.
    raw = rng.bit_generator.random_raw((img.size + 7) // 8).astype("<u8", copy=False)
    z = raw.view(np.uint8)[: img.size].reshape(img.shape)
    sigma = np.sqrt(_LEVELS * gain + std * std).astype(np.float32)  # per input level
    out = np.empty_like(img)
    _noise_kernel(img.reshape(-1), z.reshape(-1), _NORMAL_LUT, sigma, out.reshape(-1))
    return out


@numba.njit(cache=True, nogil=True, fastmath=True)
def _noise_kernel(img, z, normal_lut, sigma_lut, out):  # pragma: no cover - numba
    """``out = clip(round(img + normal_lut[z] * sigma_lut[img]), 0, 255)``, all flat uint8."""
    lo, hi, half = numba.float32(0.0), numba.float32(255.0), numba.float32(0.5)
    for i in range(img.size):
        v = img[i]
        x = min(max(numba.float32(v) + normal_lut[z[i]] * sigma_lut[v], lo), hi)
        out[i] = numba.uint8(numba.int32(x + half))
