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
from synth.scene.color import cct_to_linear_srgb, linear_to_srgb, luminance

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
        if sh.shape != (9, 3) or not np.isfinite(sh).all():
            raise UserError(f"Lighting.sh: expected finite (9, 3), got shape {sh.shape}")
        if dirs.shape != colors.shape:
            raise UserError(f"Lighting.dirs {dirs.shape} and Lighting.colors {colors.shape}: expected the same (L, 3)")
        norms = np.linalg.norm(dirs, axis=1)
        if not np.allclose(norms, 1.0, atol=1e-3):
            raise UserError(f"Lighting.dirs: expected unit vectors, got norms {np.round(norms, 4).tolist()}")
        if not (np.isfinite(colors).all() and (colors >= 0).all()):
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
# A preset returns (sh_radiance (9, 3) at white, dirs (L, 3), luminances (L,)); the sampler
# then applies colour temperature, intensity and exposure.
_PresetFn = Callable[[np.random.Generator, float, float], tuple[np.ndarray, np.ndarray, np.ndarray]]
PRESETS: dict[str, _PresetFn] = {}
_UP = np.array([0.0, 1.0, 0.0])


def _preset(name: str) -> Callable[[_PresetFn], _PresetFn]:
    def register(fn: _PresetFn) -> _PresetFn:
        PRESETS[name] = fn
        return fn
    return register


def _sky(top: float, bottom: float) -> np.ndarray:
    return sh_gradient(_UP, np.full(3, top), np.full(3, bottom))


@_preset("studio")
def _studio(rng: np.random.Generator, key: float, amb: float):
    az = rng.uniform(-40.0, 40.0)
    fill_az = -math.copysign(rng.uniform(20.0, 60.0), az)
    dirs = direction_from_angles(np.array([az, fill_az]), np.array([rng.uniform(5, 45), rng.uniform(-5, 25)]))
    top = amb * rng.uniform(0.15, 0.35)
    return _sky(top, top * rng.uniform(0.3, 0.7)), dirs, np.array([key, key * rng.uniform(0.15, 0.5)])


@_preset("side")
def _side(rng: np.random.Generator, key: float, amb: float):
    az = rng.choice([-1.0, 1.0]) * rng.uniform(70.0, 90.0)
    dirs = direction_from_angles(np.array([az, -az]), np.array([rng.uniform(-10, 30), rng.uniform(-10, 20)]))
    top = amb * rng.uniform(0.02, 0.08)
    return _sky(top, 0.5 * top), dirs, np.array([1.1 * key, key * rng.uniform(0.0, 0.08)])


@_preset("back")
def _back(rng: np.random.Generator, key: float, amb: float):
    n = int(rng.integers(1, 3))
    az = rng.choice([-1.0, 1.0], n) * rng.uniform(110.0, 165.0, n)
    dirs = direction_from_angles(az, rng.uniform(-10.0, 50.0, n))
    top = amb * rng.uniform(0.02, 0.08)
    return _sky(top, 0.5 * top), dirs, key * rng.uniform(1.0, 2.5, n)


@_preset("top")
def _top(rng: np.random.Generator, key: float, amb: float):
    dirs = direction_from_angles(np.array([rng.uniform(-180.0, 180.0)]), np.array([rng.uniform(55.0, 85.0)]))
    top = amb * rng.uniform(0.05, 0.2)
    return _sky(top, 0.3 * top), dirs, np.array([1.1 * key])


@_preset("environment")
def _environment(rng: np.random.Generator, key: float, amb: float):
    dc = amb * rng.uniform(0.2, 0.5)
    g = rng.standard_normal(3)
    sh = sh_gradient(g / np.linalg.norm(g), np.full(3, dc * (1 + rng.uniform(0, 0.8))), np.full(3, dc * (1 - rng.uniform(0, 0.8))))
    sh[4:] += (0.15 * dc * 2.0 * math.sqrt(math.pi)) * rng.standard_normal((5, 1)).astype(np.float32)
    n = int(rng.integers(0, 3))
    v = rng.standard_normal((n, 3))
    dirs = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    return sh, dirs, key * rng.uniform(0.1, 0.8, n)


def sample_lighting(rng: np.random.Generator, cfg: LightingConfig = LightingConfig()) -> Lighting:
    """Draw one scene's lighting (camera frame): a preset, colour temperature, white balance, exposure.

    Args:
        rng: the only source of randomness.
        cfg: preset weights and ranges.

    Returns:
        ``Lighting`` with ``preset``, ``color_temp_k`` and ``exposure_ev`` recorded.
    """
    names = [n for n, _ in cfg.preset_weights]
    w = np.array([x for _, x in cfg.preset_weights], np.float64)
    c = np.cumsum(w)
    name = names[min(int(np.searchsorted(c, rng.random() * c[-1], side="right")), len(names) - 1)]
    key = float(rng.uniform(*cfg.intensity_range))
    amb = float(rng.uniform(*cfg.ambient_scale_range))
    sh, dirs, lum = PRESETS[name](rng, key, amb)

    temp = float(rng.uniform(*cfg.color_temp_range_k))
    light_rgb = cct_to_linear_srgb(temp)
    amb_rgb = cct_to_linear_srgb(rng.uniform(*cfg.color_temp_range_k)) if rng.random() < cfg.p_mixed_temp else light_rgb
    wb = float(rng.uniform(*cfg.white_balance_range))
    wb_gain = light_rgb.astype(np.float64) ** -wb
    wb_gain /= luminance(light_rgb * wb_gain)  # the white-balanced key keeps luminance 1
    ev = float(rng.uniform(*cfg.exposure_range_ev))
    gain = 2.0**ev * wb_gain
    sh = sh * (amb_rgb * gain)[None, :]  # grey SH (equal columns) tinted per channel
    colors = np.asarray(lum, np.float32)[:, None] * (light_rgb * gain)[None, :]
    return Lighting(
        sh=sh, dirs=dirs, colors=colors,
        specular_strength=float(rng.uniform(*cfg.specular_strength_range)),
        shininess=float(rng.uniform(*cfg.shininess_range)),
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


@numba.njit(cache=True, nogil=True, fastmath=True)
def _shade_kernel(n, a, v, coef, dirs, colors, ks, s, out):  # pragma: no cover - compiled
    """``shade_numpy``'s formula; coef = A_l * sh / pi (9, 3); v is (1, 3) or (N, 3).

    Loops run over points with straight-line bodies (SIMD-friendly); the specular power is
    evaluated only where n.h exceeds the cut-off below which (n.h)^s < 1e-5 (invisible).
    """
    npts, nl = n.shape[0], dirs.shape[0]
    one_view = v.shape[0] == 1
    zero = numba.float32(0.0)
    for i in range(npts):  # environment diffuse
        d0, d1, d2 = _sh_eval(coef, n[i, 0], n[i, 1], n[i, 2])
        out[i, 0], out[i, 1], out[i, 2] = max(d0, zero), max(d1, zero), max(d2, zero)
    ndh_buf = np.empty((nl, npts), np.float32)
    for l in range(nl):
        lx, ly, lz = dirs[l, 0], dirs[l, 1], dirs[l, 2]
        c0, c1, c2 = colors[l, 0], colors[l, 1], colors[l, 2]
        for i in range(npts):  # directional diffuse, and n.h for the highlight
            x, y, z = n[i, 0], n[i, 1], n[i, 2]
            ndl = max(x * lx + y * ly + z * lz, zero)
            out[i, 0] += ndl * c0
            out[i, 1] += ndl * c1
            out[i, 2] += ndl * c2
            j = 0 if one_view else i
            hx, hy, hz = v[j, 0] + lx, v[j, 1] + ly, v[j, 2] + lz
            ndh = (x * hx + y * hy + z * hz) / math.sqrt(max(hx * hx + hy * hy + hz * hz, numba.float32(1e-16)))
            ndh_buf[l, i] = ndh if ndl > zero else zero
    if ks <= zero:
        for i in range(npts):
            out[i, 0] *= a[i, 0]
            out[i, 1] *= a[i, 1]
            out[i, 2] *= a[i, 2]
        return
    for i in range(npts):  # albedo, then the glossy environment along the mirror direction
        x, y, z = n[i, 0], n[i, 1], n[i, 2]
        j = 0 if one_view else i
        vx, vy, vz = v[j, 0], v[j, 1], v[j, 2]
        ndv2 = numba.float32(2.0) * (x * vx + y * vy + z * vz)
        e0, e1, e2 = _sh_eval(coef, ndv2 * x - vx, ndv2 * y - vy, ndv2 * z - vz)
        out[i, 0] = a[i, 0] * out[i, 0] + ks * max(e0, zero)
        out[i, 1] = a[i, 1] * out[i, 1] + ks * max(e1, zero)
        out[i, 2] = a[i, 2] * out[i, 2] + ks * max(e2, zero)
    norm_k = ks * (s + numba.float32(8.0)) / numba.float32(8.0)
    cut = numba.float32(1e-5) ** (numba.float32(1.0) / s)
    for l in range(nl):
        lx, ly, lz = dirs[l, 0], dirs[l, 1], dirs[l, 2]
        c0, c1, c2 = colors[l, 0], colors[l, 1], colors[l, 2]
        for i in range(npts):  # highlights: the power only where it is visible
            ndh = ndh_buf[l, i]
            if ndh > cut:
                w = norm_k * (n[i, 0] * lx + n[i, 1] * ly + n[i, 2] * lz) * ndh**s
                out[i, 0] += w * c0
                out[i, 1] += w * c1
                out[i, 2] += w * c2


@numba.njit(cache=True, inline="always", fastmath=True)
def _sh_eval(coef, x, y, z):  # pragma: no cover - compiled
    """(sum_k coef[k, c] Y_k(x, y, z) for c in RGB) with the R&H 2001 basis."""
    b0 = numba.float32(_Y00)
    b1, b2, b3 = numba.float32(_Y1) * y, numba.float32(_Y1) * z, numba.float32(_Y1) * x
    b4, b5, b7 = numba.float32(_Y2) * x * y, numba.float32(_Y2) * y * z, numba.float32(_Y2) * x * z
    b6 = numba.float32(_Y20) * (numba.float32(3.0) * z * z - numba.float32(1.0))
    b8 = numba.float32(_Y22) * (x * x - y * y)
    r0 = (coef[0, 0] * b0 + coef[1, 0] * b1 + coef[2, 0] * b2 + coef[3, 0] * b3 + coef[4, 0] * b4
          + coef[5, 0] * b5 + coef[6, 0] * b6 + coef[7, 0] * b7 + coef[8, 0] * b8)
    r1 = (coef[0, 1] * b0 + coef[1, 1] * b1 + coef[2, 1] * b2 + coef[3, 1] * b3 + coef[4, 1] * b4
          + coef[5, 1] * b5 + coef[6, 1] * b6 + coef[7, 1] * b7 + coef[8, 1] * b8)
    r2 = (coef[0, 2] * b0 + coef[1, 2] * b1 + coef[2, 2] * b2 + coef[3, 2] * b3 + coef[4, 2] * b4
          + coef[5, 2] * b5 + coef[6, 2] * b6 + coef[7, 2] * b7 + coef[8, 2] * b8)
    return r0, r1, r2


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
    coef = (SH_BAND_CONVOLUTION[:, None] * lighting.sh / math.pi).astype(np.float32)
    out = np.empty((int(np.prod(lead, dtype=np.int64)), 3), np.float32)
    _shade_kernel(n.reshape(-1, 3), a.reshape(-1, 3), v, coef, lighting.dirs, lighting.colors,
                  np.float32(lighting.specular_strength), np.float32(lighting.shininess), out)
    return out.reshape(*lead, 3)
