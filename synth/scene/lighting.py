"""Lighting of a synthetic face: SH environment + directional lights, presets, and shading.

Symbols: N shaded points (vertices or pixels), L directional lights.

Convention
----------
- Frame: everything is in the **camera frame**: x right, y up, z toward the viewer (OpenGL
  style), so lights stay fixed in the image while the head turns.
- Directions point **from the surface to the light** (``dirs``) and from the surface to the
  camera (``view_dirs``); all unit length.
- Azimuth/elevation (``direction_from_angles``): azimuth 0 deg = from the camera (+z),
  +90 deg = from the camera's right (+x), +-180 deg = from behind the head (-z);
  elevation +90 deg = from above (+y).
- Colours are linear sRGB (see ``synth.scene.color``). ``colors[l]`` of a directional light
  is the radiance a white (albedo 1) Lambertian surface facing it reflects, i.e. E_l / pi;
  ``sh`` holds the environment's incoming *radiance* L(w). ``shade`` divides the SH
  irradiance by pi likewise, so a uniform environment of radiance L makes a surface of
  albedo a shine with radiance a * L ("white furnace"), and a light of colour c facing a
  white surface gives c.
- SH: real, second order (9 terms) in the order and normalisation of Ramamoorthi &
  Hanrahan, "An Efficient Representation for Irradiance Environment Maps", SIGGRAPH 2001:
  (l, m) = (0,0), (1,-1), (1,0), (1,1), (2,-2), (2,-1), (2,0), (2,1), (2,2) with
  Y = 0.282095; 0.488603 (y, z, x); 1.092548 (xy, yz), 0.315392 (3z^2 - 1), 1.092548 xz,
  0.546274 (x^2 - y^2). Irradiance E(n) = sum_lm A_l L_lm Y_lm(n) with the clamped-cosine
  convolution constants A_0 = pi, A_1 = 2 pi / 3, A_2 = pi / 4 (their eq. 8); so a constant
  radiance L (L_00 = 2 sqrt(pi) L) gives E = pi L for every normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Callable

import numba
import numpy as np

from synth.errors import UserError
from synth.scene.color import LUMA_WEIGHTS, cct_to_linear_srgb, linear_to_srgb

__all__ = [
    "Lighting",
    "LightingConfig",
    "PRESETS",
    "sample_lighting",
    "shade",
    "shade_numpy",
    "linear_to_srgb",
    "direction_from_angles",
    "sh_basis",
    "sh_irradiance",
    "sh_constant",
    "sh_gradient",
    "sh_from_lights",
    "SH_BAND_CONVOLUTION",
]

#: Clamped-cosine convolution constants A_l per SH coefficient (R&H 2001, eq. 8).
SH_BAND_CONVOLUTION = np.array([np.pi] + [2.0 * np.pi / 3.0] * 3 + [np.pi / 4.0] * 5, dtype=np.float64)
_Y00, _Y1, _Y2, _Y20, _Y22 = 0.282095, 0.488603, 1.092548, 0.315392, 0.546274


# --- SH -----------------------------------------------------------------------------------
def sh_basis(dirs: np.ndarray) -> np.ndarray:
    """Real SH basis (R&H 2001 order) at unit directions: (*, 3) -> (*, 9), dtype kept (float32/64)."""
    d = np.asarray(dirs)
    if d.dtype != np.float64:
        d = d.astype(np.float32, copy=False)
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    return np.stack([
        np.full_like(x, _Y00), _Y1 * y, _Y1 * z, _Y1 * x,
        _Y2 * x * y, _Y2 * y * z, _Y20 * (3.0 * z * z - 1.0), _Y2 * x * z, _Y22 * (x * x - y * y),
    ], axis=-1)


def sh_irradiance(normals: np.ndarray, sh: np.ndarray) -> np.ndarray:
    """Irradiance E(n) of an SH radiance environment (R&H 2001 eq. 12-13; not clamped).

    Args:
        normals: (*, 3) unit normals, camera frame.
        sh: (9, 3) radiance coefficients per RGB channel.

    Returns:
        (*, 3) float32 irradiance; pi * L everywhere for a constant radiance L.
    """
    sh = np.asarray(sh, dtype=np.float64)
    if sh.shape != (9, 3):
        raise ValueError(f"sh: expected shape (9, 3), got {sh.shape}")
    coef = (SH_BAND_CONVOLUTION[:, None] * sh).astype(np.float32)
    return sh_basis(normals).astype(np.float32, copy=False) @ coef


def sh_constant(radiance_rgb: np.ndarray | float) -> np.ndarray:
    """(9, 3) float32 SH of a uniform environment of radiance ``radiance_rgb`` (3,) or scalar."""
    sh = np.zeros((9, 3), np.float32)
    sh[0] = 2.0 * math.sqrt(math.pi) * np.broadcast_to(np.asarray(radiance_rgb, np.float32), (3,))
    return sh


def sh_gradient(up: np.ndarray, top_rgb: np.ndarray, bottom_rgb: np.ndarray) -> np.ndarray:
    """(9, 3) float32 SH of the sky/ground environment L(w) = a + b (w . up).

    a = (top + bottom) / 2, b = (top - bottom) / 2: radiance ``top_rgb`` straight along
    ``up`` (unit, camera frame), ``bottom_rgb`` straight against it, linear in between.
    """
    top, bottom = np.asarray(top_rgb, np.float64), np.asarray(bottom_rgb, np.float64)
    u = np.asarray(up, np.float64) / np.linalg.norm(up)
    sh = np.zeros((9, 3), np.float64)
    sh[0] = 2.0 * math.sqrt(math.pi) * 0.5 * (top + bottom)
    # int (b w.u) Y_1m(w) dw = b * _Y1 * 4 pi / 3 * u_axis, axes in (y, z, x) order.
    sh[1:4] = _Y1 * 4.0 * math.pi / 3.0 * np.outer(u[[1, 2, 0]], 0.5 * (top - bottom))
    return sh.astype(np.float32)


def sh_from_lights(dirs: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """(9, 3) float32 SH whose shading approximates directional lights (order-2 smoothed).

    With ``shade``'s units, ``sh_irradiance(n, sh) / pi`` ~= sum_l max(0, n . d_l) colors_l
    (the clamped cosine band-limited to order 2: soft, may dip slightly below 0 behind).

    Args:
        dirs: (L, 3) unit, surface -> light. colors: (L, 3) linear RGB.
    """
    d = np.asarray(dirs, np.float64).reshape(-1, 3)
    c = np.asarray(colors, np.float64).reshape(-1, 3)
    return (math.pi * sh_basis(d).T @ c).astype(np.float32)


def direction_from_angles(azimuth_deg: float | np.ndarray, elevation_deg: float | np.ndarray) -> np.ndarray:
    """Unit vector(s), camera frame, pointing to a light at the given angles (see Convention).

    Returns (*, 3) float32: (sin az cos el, sin el, cos az cos el).
    """
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    return np.stack([np.sin(az) * np.cos(el), np.sin(el) * np.ones_like(az), np.cos(az) * np.cos(el)], -1).astype(np.float32)


# --- lighting -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Lighting:
    """One scene's lights (camera frame; see module Convention for units).

    Attributes:
        sh: (9, 3) float32 SH coefficients of the environment's incoming radiance.
        dirs: (L, 3) float32 unit vectors surface -> light (L may be 0).
        colors: (L, 3) float32 non-negative linear RGB (white-Lambertian radiance, E / pi).
        specular_strength: Blinn-Phong weight (~ skin's Fresnel reflectance, 0.02-0.15).
        shininess: Blinn-Phong exponent (higher = tighter highlight).
        preset, color_temp_k, exposure_ev, white_balance: how it was drawn (metadata).
    """

    sh: np.ndarray
    dirs: np.ndarray
    colors: np.ndarray
    specular_strength: float = 0.0
    shininess: float = 16.0
    preset: str = "custom"
    color_temp_k: float = 6500.0
    exposure_ev: float = 0.0
    white_balance: float = 0.0

    def __post_init__(self) -> None:
        sh = np.ascontiguousarray(self.sh, dtype=np.float32)
        dirs = np.ascontiguousarray(np.asarray(self.dirs, np.float32).reshape(-1, 3))
        colors = np.ascontiguousarray(np.asarray(self.colors, np.float32).reshape(-1, 3))
        # Checks on sums and squared norms: a few cheap numpy calls (this runs once per sample).
        if sh.shape != (9, 3) or not math.isfinite(sh.sum()):
            raise UserError(f"Lighting.sh: expected finite (9, 3), got shape {sh.shape}")
        if dirs.shape != colors.shape:
            raise UserError(f"Lighting.dirs {dirs.shape} and Lighting.colors {colors.shape}: expected the same (L, 3)")
        if not (np.abs((dirs * dirs).sum(axis=1) - 1.0) <= 2e-3).all():  # |norm - 1| <= ~1e-3
            norms = np.sqrt((dirs * dirs).sum(axis=1))
            raise UserError(f"Lighting.dirs: expected unit vectors, got norms {np.round(norms, 4).tolist()}")
        if not (math.isfinite(colors.sum()) and (colors >= 0).all()):
            raise UserError(f"Lighting.colors: expected finite non-negative linear RGB, got {colors.tolist()}")
        if not (0.0 <= self.specular_strength and self.shininess > 0):
            raise UserError(f"Lighting.specular_strength = {self.specular_strength}, shininess = {self.shininess}: "
                            "expected strength >= 0 and shininess > 0")
        for name, arr in (("sh", sh), ("dirs", dirs), ("colors", colors)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def num_lights(self) -> int:
        return int(self.dirs.shape[0])

    @property
    def ambient_color(self) -> np.ndarray:
        """(3,) float32 mean radiance of the SH environment (its DC term)."""
        return (self.sh[0] / (2.0 * math.sqrt(math.pi))).astype(np.float32)

    def to_params(self) -> dict[str, np.ndarray | float | str]:
        """Flat record of the lighting (for dataset metadata)."""
        return {
            "sh": self.sh, "dirs": self.dirs, "colors": self.colors, "specular_strength": float(self.specular_strength),
            "shininess": float(self.shininess), "preset": self.preset, "color_temp_k": float(self.color_temp_k),
            "exposure_ev": float(self.exposure_ev), "white_balance": float(self.white_balance),
        }


@dataclass(frozen=True)
class LightingConfig:
    """How ``sample_lighting`` draws a scene's light.

    Attributes:
        preset_weights: ((name, weight), ...) over ``PRESETS``: "studio" (key + fill + soft
            sky), "side" (one hard light at 70-90 deg azimuth, weak fill), "back" (rim
            lights from behind, dark face), "top", "environment" (random SH + 0-2 lights).
            Default studio 0.35, side 0.2, back 0.1, top 0.1, environment 0.25.
        intensity_range: scale of the key light's luminance (white-Lambertian radiance). (0.7, 1.2).
        ambient_scale_range: scale of the preset's ambient radiance. (0.6, 1.5).
        color_temp_range_k: black-body temperature of the lights, K (1667-25000). (2500, 9000).
        p_mixed_temp: probability the ambient gets its own temperature. 0.3.
        exposure_range_ev: global scale 2^ev on every light. (-0.7, 0.7).
        white_balance_range: how much of the key light's colour cast the camera removes
            (0 = none, 1 = all; per-channel gain key_rgb^-wb at constant luminance), as
            auto white balance does in photos. (0.5, 1.0).
        specular_strength_range: Blinn-Phong weight k_s; skin's Fresnel reflectance at
            normal incidence is ~0.028 (n = 1.4). (0.015, 0.07).
        shininess_range: Blinn-Phong exponent s; skin's Beckmann roughness m ~ 0.3-0.45
            (Weyrich et al. 2006, "Analysis of human faces using a measurement-based skin
            reflectance model") maps to s ~ 2 / m^2 - 2 ~ 8-20. (6, 30).
    """

    preset_weights: tuple[tuple[str, float], ...] = (
        ("studio", 0.35), ("side", 0.2), ("back", 0.1), ("top", 0.1), ("environment", 0.25))
    intensity_range: tuple[float, float] = (0.7, 1.2)
    ambient_scale_range: tuple[float, float] = (0.6, 1.5)
    color_temp_range_k: tuple[float, float] = (2500.0, 9000.0)
    p_mixed_temp: float = 0.3
    exposure_range_ev: tuple[float, float] = (-0.7, 0.7)
    white_balance_range: tuple[float, float] = (0.5, 1.0)
    specular_strength_range: tuple[float, float] = (0.015, 0.07)
    shininess_range: tuple[float, float] = (6.0, 30.0)

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> UserError:
            return UserError(f"LightingConfig.{name} = {getattr(self, name)!r}: expected {expected}")

        w = self.preset_weights
        ok = isinstance(w, (tuple, list)) and len(w) > 0 and all(
            isinstance(e, (tuple, list)) and len(e) == 2 and e[0] in PRESETS and isinstance(e[1], (int, float)) and e[1] >= 0 for e in w)
        if not (ok and sum(e[1] for e in w) > 0):
            raise bad("preset_weights", f"(name, weight >= 0) pairs with names in {sorted(PRESETS)} and a positive sum")
        limits = {
            "intensity_range": (0.0, 100.0), "ambient_scale_range": (0.0, 100.0),
            "color_temp_range_k": (1667.0, 25000.0), "exposure_range_ev": (-10.0, 10.0),
            "specular_strength_range": (0.0, 10.0), "shininess_range": (1e-3, 1e4), "white_balance_range": (0.0, 1.0),
        }
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in limits:
                lo, hi = limits[f.name]
                pair = isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(x, (int, float)) and math.isfinite(x) for x in v)
                if not (pair and lo <= v[0] <= v[1] <= hi):
                    raise bad(f.name, f"(lo, hi) with {lo} <= lo <= hi <= {hi}")
            elif f.name.startswith("p_") and not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise bad(f.name, "a probability in [0, 1]")


# --- presets (a small registry) -------------------------------------------------------------
# A preset returns (grey sh_radiance (9,) at white, dirs (L, 3), luminances (L,)); the sampler
# then applies colour temperature, intensity and exposure. Presets draw their randomness from
# ``_Draws`` (scalar uniforms pre-drawn in one vectorised call: Generator calls cost ~1 us each).
class _Draws:
    """Scalar random numbers for one scene, taken in order from a few vectorised ``rng`` calls.

    ``uniform`` reads a block of uniforms drawn up front (extended if a preset needs more);
    ``normal`` draws its normals from ``rng`` directly. Same rng state -> same draws.
    """

    __slots__ = ("_rng", "_u", "_i")
    _BLOCK = 24  # uniforms per block: enough for the sampler plus any built-in preset

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng, self._u, self._i = rng, rng.random(self._BLOCK).tolist(), 0

    def uniform(self, lo: float = 0.0, hi: float = 1.0) -> float:
        if self._i == len(self._u):
            self._u.extend(self._rng.random(self._BLOCK).tolist())
        x = self._u[self._i]
        self._i += 1
        return lo + (hi - lo) * x

    def sign(self) -> float:
        return 1.0 if self.uniform() < 0.5 else -1.0

    def normal(self, n: int) -> np.ndarray:
        return self._rng.standard_normal(n)


_PresetFn = Callable[[_Draws, float, float], tuple[np.ndarray, np.ndarray, np.ndarray]]
PRESETS: dict[str, _PresetFn] = {}
_SQRT_4PI = 2.0 * math.sqrt(math.pi)
_LUMA = LUMA_WEIGHTS.astype(np.float64).tolist()


def _preset(name: str) -> Callable[[_PresetFn], _PresetFn]:
    def register(fn: _PresetFn) -> _PresetFn:
        PRESETS[name] = fn
        return fn
    return register


def _grey_gradient(up: tuple[float, float, float], top: float, bottom: float) -> np.ndarray:
    """(9,) float64 grey SH of ``sh_gradient(up, top, bottom)`` (one channel; ``up`` unit)."""
    sh = np.zeros(9)
    sh[0] = _SQRT_4PI * 0.5 * (top + bottom)
    b = _Y1 * 4.0 * math.pi / 3.0 * 0.5 * (top - bottom)
    sh[1], sh[2], sh[3] = b * up[1], b * up[2], b * up[0]  # (y, z, x) order
    return sh


def _sky(top: float, bottom: float) -> np.ndarray:
    return _grey_gradient((0.0, 1.0, 0.0), top, bottom)


def _dirs(angles: list[tuple[float, float]]) -> np.ndarray:
    """(L, 3) float32 ``direction_from_angles`` of (azimuth, elevation) pairs, degrees (scalar maths)."""
    out = np.empty((len(angles), 3), np.float32)
    for i, (az, el) in enumerate(angles):
        a, e = math.radians(az), math.radians(el)
        out[i] = (math.sin(a) * math.cos(e), math.sin(e), math.cos(a) * math.cos(e))
    return out


@_preset("studio")
def _studio(d: _Draws, key: float, amb: float):
    az = d.uniform(-40.0, 40.0)
    fill_az = -math.copysign(d.uniform(20.0, 60.0), az)
    dirs = _dirs([(az, d.uniform(5.0, 45.0)), (fill_az, d.uniform(-5.0, 25.0))])
    top = amb * d.uniform(0.15, 0.35)
    return _sky(top, top * d.uniform(0.3, 0.7)), dirs, np.array([key, key * d.uniform(0.15, 0.5)])


@_preset("side")
def _side(d: _Draws, key: float, amb: float):
    az = d.sign() * d.uniform(70.0, 90.0)
    dirs = _dirs([(az, d.uniform(-10.0, 30.0)), (-az, d.uniform(-10.0, 20.0))])
    top = amb * d.uniform(0.02, 0.08)
    return _sky(top, 0.5 * top), dirs, np.array([1.1 * key, key * d.uniform(0.0, 0.08)])


@_preset("back")
def _back(d: _Draws, key: float, amb: float):
    n = 1 + int(d.uniform() < 0.5)
    dirs = _dirs([(d.sign() * d.uniform(110.0, 165.0), d.uniform(-10.0, 50.0)) for _ in range(n)])
    top = amb * d.uniform(0.02, 0.08)
    return _sky(top, 0.5 * top), dirs, np.array([key * d.uniform(1.0, 2.5) for _ in range(n)])


@_preset("top")
def _top(d: _Draws, key: float, amb: float):
    dirs = _dirs([(d.uniform(-180.0, 180.0), d.uniform(55.0, 85.0))])
    top = amb * d.uniform(0.05, 0.2)
    return _sky(top, 0.3 * top), dirs, np.array([1.1 * key])


@_preset("environment")
def _environment(d: _Draws, key: float, amb: float):
    dc = amb * d.uniform(0.2, 0.5)
    n = min(int(3.0 * d.uniform()), 2)  # 0-2 lights
    g = d.normal(8 + 3 * n)  # gradient axis (3), higher-order terms (5), light directions (3 n)
    up = g[:3] / math.sqrt(g[0] ** 2 + g[1] ** 2 + g[2] ** 2)
    sh = _grey_gradient(up, dc * (1.0 + d.uniform(0.0, 0.8)), dc * (1.0 - d.uniform(0.0, 0.8)))
    sh[4:] += (0.15 * dc * _SQRT_4PI) * g[3:8]
    v = g[8:].reshape(n, 3)
    dirs = (v / np.sqrt((v * v).sum(axis=1, keepdims=True))).astype(np.float32)
    return sh, dirs, np.array([key * d.uniform(0.1, 0.8) for _ in range(n)])


def sample_lighting(rng: np.random.Generator, cfg: LightingConfig = LightingConfig()) -> Lighting:
    """Draw one scene's lighting (camera frame): a preset, colour temperature, white balance, exposure.

    Args:
        rng: the only source of randomness.
        cfg: preset weights and ranges.

    Returns:
        ``Lighting`` with ``preset``, ``color_temp_k`` and ``exposure_ev`` recorded.
    """
    d = _Draws(rng)
    pick = d.uniform(0.0, sum(w for _, w in cfg.preset_weights))
    name = cfg.preset_weights[-1][0]
    for n, w in cfg.preset_weights:
        if pick < w:
            name = n
            break
        pick -= w
    key = d.uniform(*cfg.intensity_range)
    amb = d.uniform(*cfg.ambient_scale_range)
    grey_sh, dirs, lum = PRESETS[name](d, key, amb)

    temp = d.uniform(*cfg.color_temp_range_k)
    light_rgb = cct_to_linear_srgb(temp).tolist()
    amb_temp = d.uniform(*cfg.color_temp_range_k)
    amb_rgb = cct_to_linear_srgb(amb_temp).tolist() if d.uniform() < cfg.p_mixed_temp else light_rgb
    wb = d.uniform(*cfg.white_balance_range)
    wb_gain = [c**-wb for c in light_rgb]
    wb_lum = sum(w * c * g for w, c, g in zip(_LUMA, light_rgb, wb_gain))  # the white-balanced key keeps luminance 1
    ev = d.uniform(*cfg.exposure_range_ev)
    gain = [2.0**ev * g / wb_lum for g in wb_gain]
    return Lighting(
        sh=grey_sh[:, None] * np.array([c * g for c, g in zip(amb_rgb, gain)]),  # grey SH tinted per channel
        dirs=dirs, colors=lum[:, None] * np.array([c * g for c, g in zip(light_rgb, gain)]),
        specular_strength=d.uniform(*cfg.specular_strength_range),
        shininess=d.uniform(*cfg.shininess_range),
        preset=name, color_temp_k=temp, exposure_ev=ev, white_balance=wb,
    )


# --- shading --------------------------------------------------------------------------------
def shade_numpy(normals: np.ndarray, albedo: np.ndarray, view_dirs: np.ndarray, lighting: Lighting) -> np.ndarray:
    """Reference (pure numpy) version of ``shade``; same arguments and result.

    Lambert + Blinn-Phong radiance under SH environment and directional lights.

    radiance = albedo * (max(0, E_sh(n)) / pi + sum_l max(0, n . l) c_l)
             + k_s (s + 8) / 8 * sum_l c_l max(0, n . l) max(0, n . h_l)^s
             + k_s max(0, E_sh(r)) / pi                      (glossy sheen of the environment)
    with h_l = normalize(l + v), r = reflect(-v, n), k_s = specular_strength, s = shininess;
    the (s + 8) / 8 factor keeps the highlight's energy about constant as s changes.

    Args:
        normals: (*, 3) unit normals, camera frame (vertices or pixels).
        albedo: (*, 3) linear RGB in [0, 1].
        view_dirs: (*, 3) unit, surface -> camera, camera frame (for an orthographic camera
            pass (0, 0, 1) broadcast).
        lighting: the scene's ``Lighting``.

    Returns:
        (*, 3) float32 linear radiance (not clipped; use ``linear_to_srgb`` for display).
    """
    n = np.asarray(normals, dtype=np.float32)
    a = np.asarray(albedo, dtype=np.float32)
    v = np.asarray(view_dirs, dtype=np.float32)
    if n.shape[-1:] != (3,) or a.shape != n.shape:
        raise ValueError(f"normals {n.shape} and albedo {a.shape}: expected the same (*, 3)")
    v = np.broadcast_to(v, n.shape)
    lead = n.shape[:-1]
    n, a, v = n.reshape(-1, 3), a.reshape(-1, 3), v.reshape(-1, 3)

    inv_pi = np.float32(1.0 / math.pi)
    irr = sh_irradiance(n, lighting.sh)
    np.maximum(irr, 0.0, out=irr)
    irr *= inv_pi
    spec = np.zeros_like(irr)
    ks = np.float32(lighting.specular_strength)
    if lighting.num_lights:
        ndl = np.maximum(n @ lighting.dirs.T, 0.0)  # (N, L)
        irr += ndl @ lighting.colors
        if ks > 0:
            s = np.float32(lighting.shininess)
            for i in range(lighting.num_lights):
                h = v + lighting.dirs[i]
                h /= np.maximum(np.linalg.norm(h, axis=1, keepdims=True), np.float32(1e-8))
                ndh = np.maximum(np.einsum("ij,ij->i", n, h), np.float32(0.0))
                lobe = np.power(ndh, s) * ndl[:, i] * (ks * (s + 8.0) / 8.0)
                spec += lobe[:, None] * lighting.colors[i]
    out = a * irr
    out += spec
    if ks > 0:
        r = 2.0 * np.einsum("ij,ij->i", n, v)[:, None] * n - v  # mirror direction of the view
        env = sh_irradiance(r, lighting.sh)
        np.maximum(env, 0.0, out=env)
        out += (ks * inv_pi) * env
    return out.reshape(*lead, 3)


# SH irradiance / pi as a quadratic polynomial of the normal: monomial coefficients
# q = sh.T @ _SH_TO_POLY_T (3, 9) for the monomials (1, y, z, x, xy, yz, zz, xz, xx - yy), per channel.
_SH_TO_POLY = np.diag([_Y00, _Y1, _Y1, _Y1, _Y2, _Y2, 3.0 * _Y20, _Y2, _Y22])
_SH_TO_POLY[0, 6] = -_Y20  # Y_20 = _Y20 (3 zz - 1)
_SH_TO_POLY_T = np.ascontiguousarray((_SH_TO_POLY * SH_BAND_CONVOLUTION[None, :] / math.pi).T, dtype=np.float32)
_FAST_POW_MIN_S = 4.0  # below this shininess the highlight uses the exact power


@numba.njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _shade_kernel(n, a, v, q, dirs, colors, ks, s, out):  # pragma: no cover - compiled
    """``shade_numpy``'s formula. n, a: (N, 3); v: (1, 3) or (N, 3); q: (3, 9) SH polynomial.

    Works on planes (3, N) so every loop is a straight-line, vectorisable pass over points;
    the specular power is skipped where (n.h)^s < 1e-5 (invisible).
    """
    npts, nl = n.shape[0], dirs.shape[0]
    nt, vt = _planes(n, npts), _planes(v, npts)
    nx, ny, nz = nt[0], nt[1], nt[2]
    zero = numba.float32(0.0)
    diffuse = np.empty((3, npts), np.float32)
    gloss = np.zeros((3, npts), np.float32)
    for c in range(3):
        _sh_poly(q[c], nx, ny, nz, diffuse[c])
    if ks > zero:  # glossy environment along the mirror direction r = 2 (n . v) n - v
        rt = np.empty((3, npts), np.float32)
        for i in range(npts):
            ndv2 = numba.float32(2.0) * (nx[i] * vt[0, i] + ny[i] * vt[1, i] + nz[i] * vt[2, i])
            for k in range(3):
                rt[k, i] = ndv2 * nt[k, i] - vt[k, i]
        for c in range(3):
            _sh_poly(q[c], rt[0], rt[1], rt[2], gloss[c])
            for i in range(npts):
                gloss[c, i] *= ks
    ndl = np.empty(npts, np.float32)
    ndh = np.empty(npts, np.float32)
    norm_k = ks * (s + numba.float32(8.0)) / numba.float32(8.0)
    for l in range(nl):
        lx, ly, lz = dirs[l, 0], dirs[l, 1], dirs[l, 2]
        for i in range(npts):  # n.l, and n.h for the highlight (0 where the light is behind)
            d = max(nx[i] * lx + ny[i] * ly + nz[i] * lz, zero)
            hx, hy, hz = vt[0, i] + lx, vt[1, i] + ly, vt[2, i] + lz
            h = (nx[i] * hx + ny[i] * hy + nz[i] * hz) / math.sqrt(max(hx * hx + hy * hy + hz * hz, numba.float32(1e-16)))
            ndl[i] = d
            ndh[i] = h if d > zero else zero
        for c in range(3):
            col = colors[l, c]
            for i in range(npts):
                diffuse[c, i] += ndl[i] * col
        if ks > zero:
            _highlight(ndh, s)
            for c in range(3):
                col = norm_k * colors[l, c]
                for i in range(npts):
                    gloss[c, i] += ndl[i] * ndh[i] * col
    for i in range(npts):
        for c in range(3):
            out[i, c] = a[i, c] * diffuse[c, i] + gloss[c, i]


@numba.njit(cache=True, inline="always", fastmath=True, error_model="numpy")
def _planes(p, npts):  # pragma: no cover - compiled
    """(3, npts) float32 copy of points p (npts, 3), or of one point (1, 3) repeated."""
    t = np.empty((3, npts), np.float32)
    if p.shape[0] == 1:
        for k in range(3):
            t[k, :] = p[0, k]
    else:
        for i in range(npts):
            for k in range(3):
                t[k, i] = p[i, k]
    return t


@numba.njit(cache=True, inline="always", fastmath=True, error_model="numpy")
def _sh_poly(qc, x, y, z, out):  # pragma: no cover - compiled
    """out = max(0, SH irradiance / pi) of one channel at directions (x, y, z), qc = (9,) monomials."""
    q0, q1, q2, q3, q4, q5, q6, q7, q8 = qc[0], qc[1], qc[2], qc[3], qc[4], qc[5], qc[6], qc[7], qc[8]
    for i in range(out.shape[0]):
        xi, yi, zi = x[i], y[i], z[i]
        e = (q0 + q1 * yi + q2 * zi + q3 * xi + q4 * xi * yi + q5 * yi * zi + q6 * zi * zi + q7 * xi * zi
             + q8 * (xi * xi - yi * yi))
        out[i] = max(e, numba.float32(0.0))


@numba.njit(cache=True, inline="always", fastmath=True, error_model="numpy")
def _highlight(x, s):  # pragma: no cover - compiled
    """In place x = x^s where x^s >= 1e-5, else 0; x in [0, 1] (n.h values), s > 0."""
    cut = numba.float32(1e-5) ** (numba.float32(1.0) / s)
    one, zero = numba.float32(1.0), numba.float32(0.0)
    if s >= _FAST_POW_MIN_S:
        for i in range(x.shape[0]):
            xi = x[i]
            x[i] = _pow_unit(min(max(xi, cut), one), s) if xi > cut else zero
    else:
        for i in range(x.shape[0]):
            xi = x[i]
            x[i] = min(xi, one) ** s if xi > cut else zero


@numba.njit(cache=True, inline="always", fastmath=True, error_model="numpy")
def _pow_unit(x, s):  # pragma: no cover - compiled
    """x^s = exp(s ln x) in float32 arithmetic only, so the loop vectorises (libm's powf does not).

    Valid for x in (0, 1] with s ln x >= ln(1e-5) and s >= 4 (``_highlight``'s domain);
    relative error < 1e-5. ln x = 8 atanh(u), u = (x^1/4 - 1) / (x^1/4 + 1) in [-0.35, 0]
    (odd series to u^11); exp(y) = exp(y / 16)^16 with a degree-8 Taylor series on [-0.72, 0].
    """
    r = math.sqrt(math.sqrt(x))
    u = (r - numba.float32(1.0)) / (r + numba.float32(1.0))
    u2 = u * u
    ln_x = numba.float32(8.0) * u * (numba.float32(1.0) + u2 * (numba.float32(1.0 / 3.0) + u2 * (numba.float32(1.0 / 5.0) + u2 * (
        numba.float32(1.0 / 7.0) + u2 * (numba.float32(1.0 / 9.0) + u2 * numba.float32(1.0 / 11.0))))))
    y = s * ln_x * numba.float32(1.0 / 16.0)
    e = numba.float32(1.0)
    for k in range(8, 0, -1):  # Horner: 1 + y (1 + y/2 (1 + y/3 (...)))
        e = numba.float32(1.0) + y * e / numba.float32(k)
    e *= e
    e *= e
    e *= e
    e *= e
    return e


def shade(normals: np.ndarray, albedo: np.ndarray, view_dirs: np.ndarray, lighting: Lighting) -> np.ndarray:
    """Lambert + Blinn-Phong radiance under SH environment and directional lights.

    radiance = albedo * (max(0, E_sh(n)) / pi + sum_l max(0, n . l) c_l)
             + k_s (s + 8) / 8 * sum_l c_l max(0, n . l) max(0, n . h_l)^s
             + k_s max(0, E_sh(r)) / pi                      (glossy sheen of the environment)
    with h_l = normalize(l + v), r = reflect(-v, n) = 2 (n . v) n - v,
    k_s = specular_strength, s = shininess; the (s + 8) / 8 factor keeps the highlight's
    energy about constant as s changes. Specular is white (dielectric), not tinted by albedo.
    A numba kernel (one pass, single thread); ``shade_numpy`` is the numpy reference.

    Args:
        normals: (*, 3) unit normals, camera frame (per vertex or per pixel).
        albedo: (*, 3) linear RGB in [0, 1].
        view_dirs: (*, 3) or (3,) unit, surface -> camera, camera frame; (3,), e.g.
            (0, 0, 1) for an orthographic camera, is used for every point.
        lighting: the scene's ``Lighting``.

    Returns:
        (*, 3) float32 linear radiance (not clipped; ``linear_to_srgb`` encodes it).
    """
    n = np.ascontiguousarray(normals, dtype=np.float32)
    a = np.ascontiguousarray(albedo, dtype=np.float32)
    if n.shape[-1:] != (3,) or a.shape != n.shape:
        raise ValueError(f"normals {n.shape} and albedo {a.shape}: expected the same (*, 3)")
    v = np.ascontiguousarray(view_dirs, dtype=np.float32)
    if v.shape == (3,):
        v = v.reshape(1, 3)
    elif v.shape == n.shape:
        v = v.reshape(-1, 3)
    else:
        raise ValueError(f"view_dirs: expected (3,) or {n.shape}, got {v.shape}")
    lead = n.shape[:-1]
    q = lighting.sh.T @ _SH_TO_POLY_T  # (3, 9) float32
    out = np.empty((math.prod(lead), 3), np.float32)
    _shade_kernel(n.reshape(-1, 3), a.reshape(-1, 3), v, q, lighting.dirs, lighting.colors,
                  np.float32(lighting.specular_strength), np.float32(lighting.shininess), out)
    return out.reshape(*lead, 3)
