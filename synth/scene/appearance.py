"""Procedural per-vertex albedo of a 3DMM head: skin tone, hair, eyes, mouth, beard, freckles.

Symbols: V vertices, R = len(REGION_NAMES) regions, C per-model variation fields.

Convention
----------
- Output albedo is (V, 3) float32 **linear sRGB** in [0, 1] (see ``synth.scene.color``);
  the renderer interpolates it per pixel and shades it; gamma is applied only at the end.
- Spatial masks (cheeks, beard, pupils) are computed once per model on the *mean shape*
  (mm, model frame) relative to ``model.landmarks68``; a vertex keeps its role under any
  identity or expression, so the tables are cached per model object (weakly keyed).

Skin colour source
------------------
Skin tone is sampled in CIELAB and converted to linear sRGB. The tone parameter
``t`` in [0, 1] (0 lightest, 1 darkest) walks a curve through colorimetric skin
measurements of the six Individual Typology Angle classes (ITA = atan((L* - 50) / b*),
Chardon et al. 1991, Int. J. Cosmet. Sci. 13:191; class means of Del Bino et al. 2006,
Pigment Cell Res. 19:606, and Del Bino & Bernerd 2013, Br. J. Dermatol. 169 Suppl 3:33):
L* from 74 (very light, ITA > 55 deg, ~Fitzpatrick I) to 26 (dark, ITA < -30 deg, ~VI),
b* rising from 13 to ~19 for intermediate/tan/brown skin and falling to 11 for the darkest,
a* 8-11. The knots below are a rounded reading of those figures, approximate. This gives
albedo luminance from ~0.47 down to ~0.047. A second parameter (``haemoglobin``) shifts a*
(redness), and per-region colours (lips, hair, iris, ...) are approximate, hand-picked
values, also in linear sRGB.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, fields

import numba
import numpy as np

from synth.errors import UserError
from synth.morphable import REGION_NAMES, MorphableModel, region_id
from synth.scene.color import lab_to_linear_srgb, luminance, srgb_to_linear

__all__ = [
    "AppearanceConfig",
    "sample_albedo",
    "skin_lab_from_tone",
    "fitzpatrick_from_ita",
    "HAIR_COLOR_NAMES",
    "IRIS_COLOR_NAMES",
    "albedo_luminance_stats",
]

# --- colour tables ------------------------------------------------------------------------
# Skin tone curve: t -> (L*, a*, b*), D65 (see module docstring for the sources).
# Knots at t = 0, 0.2, ..., 1 (evenly spaced), rows (L*, a*, b*).
_TONE_LAB = np.array([[74.0, 8.0, 13.0], [66.0, 9.0, 16.0], [58.0, 10.0, 18.5],
                      [48.0, 11.0, 19.0], [37.0, 11.0, 16.0], [26.0, 9.0, 11.0]])
_TONE_STEP = np.diff(_TONE_LAB, axis=0)

#: Hair colours (brows, scalp, beard); sRGB 0-255 anchors of typical swatches, approximate.
HAIR_COLOR_NAMES: tuple[str, ...] = ("black", "dark_brown", "brown", "blond", "red", "grey")
_HAIR_SRGB = np.array([[28, 24, 22], [52, 38, 30], [92, 64, 44], [170, 136, 88], [150, 70, 36], [165, 162, 158]])
_HAIR_LIGHT = (False, False, False, True, True, False)  # rarer for darker skin when tone-correlated

#: Iris colours; sRGB anchors, approximate.
IRIS_COLOR_NAMES: tuple[str, ...] = ("dark_brown", "brown", "hazel", "green", "blue", "grey")
_IRIS_SRGB = np.array([[55, 32, 20], [100, 60, 32], [128, 98, 52], [95, 118, 70], [88, 120, 150], [118, 128, 134]])
_IRIS_LIGHT = (False, False, True, True, True, True)

_SCLERA_SRGB = np.array([228, 218, 206])
_TEETH_SRGB = np.array([226, 214, 182])
_MOUTH_SRGB = np.array([110, 32, 36])
_PUPIL_LINEAR = np.array([0.008, 0.008, 0.009], dtype=np.float32)
_EYELID_TINT, _EAR_TINT, _NOSTRIL_TINT = np.array([0.93, 0.88, 0.9]), np.array([1.0, 0.95, 0.95]), np.array([0.22, 0.15, 0.15])


def _lin(srgb8: np.ndarray) -> np.ndarray:
    """sRGB 0-255 anchors -> float64 linear sRGB."""
    return srgb_to_linear(np.asarray(srgb8, dtype=np.uint8)).astype(np.float64)


_HAIR_LIN, _IRIS_LIN = _lin(_HAIR_SRGB), _lin(_IRIS_SRGB)
_SCLERA_LIN, _TEETH_LIN, _MOUTH_LIN = _lin(_SCLERA_SRGB), _lin(_TEETH_SRGB), _lin(_MOUTH_SRGB)

_R = {name: region_id(name) for name in REGION_NAMES}
_SKIN_LIKE = ("skin", "scalp", "neck", "ears", "lips", "brows", "eyelids", "nostrils", "other")
_MODEL_ALBEDO = ("skin", "neck", "ears", "lips", "eyelids", "nostrils", "other")  # + scalp if bald
_NUM_LOWFREQ = 8  # smooth random-Fourier tone fields per model


def _is_real(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and math.isfinite(x)


def _is_pair(v: object) -> bool:
    return isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_real(x) for x in v)


@dataclass(frozen=True)
class AppearanceConfig:
    """How ``sample_albedo`` draws a face's colours. All probabilities in [0, 1].

    Attributes:
        skin_tone_range: (lo, hi) of the tone ``t``, drawn uniformly; 0 = lightest skin
            (ITA ~ 62 deg, ~Fitzpatrick I), 1 = darkest (ITA ~ -65 deg, ~VI). Default (0, 1).
        haemoglobin_range: (lo, hi) a* shift (redness) of the skin, CIELAB units. (-2, 4).
        tone_jitter: std of the per-face L*, a*, b* jitter around the tone curve. 1.5.
        tone_variation: std of the smooth multiplicative tone variation over the head. 0.05.
        redness_max: strongest cheek/nose flush (multiplicative, 0 disables). 0.5.
        noise_amplitude: per-vertex multiplicative luminance jitter (blemishes, hair strands). 0.06.
        freckle_max: largest per-vertex freckle probability on cheeks/nose (light skin). 0.05.
        p_freckles: probability a face has freckles at all. 0.2.
        p_beard: probability of beard or stubble. 0.3.
        beard_density_range: (lo, hi) coverage of beard hair over skin; low = stubble. (0.15, 0.9).
        p_bald: probability the scalp shows skin instead of hair. 0.08.
        hair_color_probs: weights over ``HAIR_COLOR_NAMES``. (0.35, 0.25, 0.15, 0.1, 0.05, 0.1).
        iris_color_probs: weights over ``IRIS_COLOR_NAMES``. (0.45, 0.2, 0.1, 0.07, 0.13, 0.05).
        tone_correlated: make blond/red hair and light irises rarer as skin darkens. True.
        pupil_fraction_range: pupil radius as a fraction of the iris radius. (0.25, 0.5).
        use_model_albedo: probability of taking skin-like regions from the model's own
            albedo (``albedo_mean`` + ``albedo_basis`` @ N(0, 1)) when it has one. 0.0.
    """

    skin_tone_range: tuple[float, float] = (0.0, 1.0)
    haemoglobin_range: tuple[float, float] = (-2.0, 4.0)
    tone_jitter: float = 1.5
    tone_variation: float = 0.05
    redness_max: float = 0.5
    noise_amplitude: float = 0.06
    freckle_max: float = 0.05
    p_freckles: float = 0.2
    p_beard: float = 0.3
    beard_density_range: tuple[float, float] = (0.15, 0.9)
    p_bald: float = 0.08
    hair_color_probs: tuple[float, ...] = (0.35, 0.25, 0.15, 0.10, 0.05, 0.10)
    iris_color_probs: tuple[float, ...] = (0.45, 0.20, 0.10, 0.07, 0.13, 0.05)
    tone_correlated: bool = True
    pupil_fraction_range: tuple[float, float] = (0.25, 0.5)
    use_model_albedo: float = 0.0

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> UserError:
            return UserError(f"AppearanceConfig.{name} = {getattr(self, name)!r}: expected {expected}")

        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.startswith("p_") or f.name == "use_model_albedo":
                if not (_is_real(v) and 0.0 <= v <= 1.0):
                    raise bad(f.name, "a probability in [0, 1]")
            elif f.name.endswith("_range"):
                lo_hi = (0.0, 1.0) if f.name in ("skin_tone_range", "beard_density_range", "pupil_fraction_range") else (-50.0, 50.0)
                if not (_is_pair(v) and lo_hi[0] <= v[0] <= v[1] <= lo_hi[1]):
                    raise bad(f.name, f"(lo, hi) with {lo_hi[0]} <= lo <= hi <= {lo_hi[1]}")
            elif f.name.endswith("_probs"):
                n = len(HAIR_COLOR_NAMES if f.name.startswith("hair") else IRIS_COLOR_NAMES)
                if not (isinstance(v, (tuple, list)) and len(v) == n and all(_is_real(p) and p >= 0 for p in v) and sum(v) > 0):
                    raise bad(f.name, f"{n} non-negative weights with a positive sum")
            elif f.name in ("tone_jitter", "tone_variation", "redness_max", "noise_amplitude"):
                if not (_is_real(v) and 0.0 <= v <= 10.0):
                    raise bad(f.name, "a non-negative number <= 10")
            elif f.name == "freckle_max":
                if not (_is_real(v) and 0.0 <= v <= 1.0):
                    raise bad(f.name, "a per-vertex probability in [0, 1]")
        if self.noise_amplitude > 1.0:
            raise bad("noise_amplitude", "<= 1 (a larger jitter makes negative albedo)")


# --- tone conversions ---------------------------------------------------------------------
def skin_lab_from_tone(tone: float | np.ndarray) -> np.ndarray:
    """CIELAB (D65) of skin at tone ``t`` in [0, 1]: (*) -> (*, 3) float64 (L*, a*, b*)."""
    x = np.minimum(np.maximum(np.asarray(tone, dtype=np.float64), 0.0), 1.0) * (len(_TONE_LAB) - 1)
    i = np.minimum(x.astype(np.intp), len(_TONE_LAB) - 2)
    return _TONE_LAB[i] + (x - i)[..., None] * _TONE_STEP[i]  # piecewise linear between the knots


def fitzpatrick_from_ita(ita_deg: float) -> int:
    """Approximate Fitzpatrick type (1-6) from the ITA angle (deg), by Chardon's six classes
    (> 55 very light, 41-55 light, 28-41 intermediate, 10-28 tan, -30-10 brown, < -30 dark)."""
    edges = (55.0, 41.0, 28.0, 10.0, -30.0)
    return 1 + sum(ita_deg <= e for e in edges)


# --- per-model tables (cached) ------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _ModelTables:
    region: np.ndarray  # (V,) int32 region id (row of the per-face colour table)
    fields: np.ndarray  # (K + 1, V) float32: [lowfreq x K, redness]
    beard: np.ndarray  # (8, V) float32: beard coverage for each subset of parts (bit mask)
    noise_w: np.ndarray  # (V,) float32 per-vertex noise amplitude weight
    freckle_w: np.ndarray  # (V,) float32 freckle-prone weight in [0, 1]
    model_albedo_mask: tuple[np.ndarray, np.ndarray]  # (V,) bool: takes the model's albedo (haired, bald)
    iris_r: np.ndarray  # (V,) float32: 0 at the pupil centre, 1 at the iris rim (per eye); -1 off the iris


_CACHE: "weakref.WeakKeyDictionary[MorphableModel, _ModelTables]" = weakref.WeakKeyDictionary()


def _smooth(s: np.ndarray) -> np.ndarray:
    """Smoothstep from 0 (s <= -0.5) to 1 (s >= 0.5)."""
    t = np.clip(s + 0.5, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _beard_parts(p: np.ndarray, lmk: np.ndarray, iod: float) -> np.ndarray:
    """Soft masks (3, V) in [0, 1] of the moustache, chin and cheek/jaw beard areas.

    Built in cylindrical coordinates about the head's vertical axis (model frame): azimuth
    theta = atan2(x, z) (0 = straight ahead) and height y. The jaw line y_jaw(theta) runs
    through landmarks 0-16; a beard reaches ``drop`` below it (under the jaw, upper neck).
    Moustache: between the mouth corners' height and the nose base (landmark 33), within
    the mouth's azimuth. Chin: below the lower lip (57), within ~1.3x the mouth's azimuth.
    Cheeks: up to a line from the sideburn (landmark 0/16 height) to just above the mouth
    corners, between the jaw ends' azimuths.
    """
    theta = np.arctan2(p[:, 0], p[:, 2])
    y = p[:, 1]
    th_l = np.arctan2(lmk[:, 0], lmk[:, 2])
    jaw_th = np.maximum.accumulate(th_l[:17]) + np.arange(17) * 1e-6  # increasing for interp
    y_jaw = np.interp(theta, jaw_th, lmk[:17, 1])
    w, drop = 0.08 * iod, 0.3 * iod  # soft edge width, reach below the jaw line (mm)
    wt = 0.05  # soft edge in azimuth (rad)
    mouth_th = max(abs(th_l[48]), abs(th_l[54]))
    y_corner = min(lmk[48, 1], lmk[54, 1])
    below_jaw = _smooth((y - (y_jaw - drop)) / w)
    moustache = (_smooth((y - (y_corner - 0.05 * iod)) / w) * _smooth((lmk[33, 1] - 0.03 * iod - y) / w)
                 * _smooth((1.15 * mouth_th - np.abs(theta)) / wt))
    chin = below_jaw * _smooth((lmk[57, 1] - y) / w) * _smooth((1.3 * mouth_th - np.abs(theta)) / wt)
    side_th = np.where(theta < 0, abs(jaw_th[0]), abs(jaw_th[-1]))
    y_side = np.where(theta < 0, lmk[0, 1], lmk[16, 1]) + 0.1 * iod
    frac = np.clip((np.abs(theta) - mouth_th) / np.maximum(side_th - mouth_th, 1e-3), 0.0, 1.0)
    y_top = (y_corner + 0.1 * iod) + frac * (y_side - (y_corner + 0.1 * iod))  # cheek line
    cheeks = below_jaw * _smooth((y_top - y) / w) * _smooth((side_th + 0.03 - np.abs(theta)) / wt)
    return np.stack([moustache, chin, cheeks])


def _build_tables(model: MorphableModel) -> _ModelTables:
    p = model.mean_shape.astype(np.float64)
    lmk = p[model.landmarks68]
    region = model.vertex_region.astype(np.intp)
    in_r = lambda *names: np.isin(region, [_R[n] for n in names])  # noqa: E731
    iod = max(float(np.linalg.norm(lmk[36] - lmk[45])), 1e-3)  # outer-eye-corner distance, mm

    # Smooth tone fields: random Fourier features of the mean shape (fixed seed per model
    # size, so a model's fields are reproducible), length scale ~ half the eye distance.
    g = np.random.default_rng(0x5EED + model.num_vertices)
    omega = g.normal(0.0, 1.0 / (0.5 * iod), size=(3, _NUM_LOWFREQ))
    phase = g.uniform(0.0, 2.0 * np.pi, size=_NUM_LOWFREQ)
    lowfreq = np.sqrt(2.0 / _NUM_LOWFREQ) * np.cos(p @ omega + phase)  # (V, K), var ~ 1/K each
    lowfreq *= in_r(*_SKIN_LIKE)[:, None]

    # Cheek/nose flush: Gaussians at the nose tip and the two cheekbones.
    centres = np.stack([lmk[30], lmk[[2, 31, 41]].mean(0), lmk[[14, 35, 46]].mean(0)])
    sig = np.array([0.22, 0.3, 0.3]) * iod
    d2 = ((p[:, None, :] - centres[None]) ** 2).sum(-1)
    flush = np.exp(-0.5 * d2 / sig**2).max(axis=1)
    redness = flush * (in_r("skin") + 0.5 * in_r("ears"))

    fields_ = np.ascontiguousarray(np.concatenate([lowfreq, redness[:, None]], axis=1).T, dtype=np.float32)
    parts = _beard_parts(p, lmk, iod) * in_r("skin", "neck")[None]  # (3, V)
    # Union (soft max) of every subset of parts, indexed by bits moustache=1, chin=2, cheeks=4.
    beard = np.stack([np.max(parts[[i for i in range(3) if c >> i & 1]], axis=0) if c else np.zeros(len(p))
                      for c in range(8)]).astype(np.float32)

    noise_w = np.zeros(len(p), np.float32)
    for names, w in ((_SKIN_LIKE, 1.0), (("scalp", "brows"), 1.8), (("iris",), 1.5), (("sclera", "teeth"), 0.3)):
        noise_w[in_r(*names)] = w
    freckle_w = (np.clip(1.4 * flush, 0.0, 1.0) * in_r("skin")).astype(np.float32)

    # Pupil geometry, per eye (split at the nose bridge): the iris' axis runs through its
    # centroid along its least-variance direction; a vertex's iris radius is
    # its distance to that axis. The pupil (smallest radii) is then the part nearest the
    # forward-most point of a forward-facing iris dome, and a flat or tilted disc works too.
    iris_idx = np.flatnonzero(in_r("iris"))
    iris_r = np.zeros(len(iris_idx), np.float32)
    side = p[iris_idx, 0] >= lmk[27, 0]
    for s in (False, True):
        sel = np.flatnonzero(side == s)
        if sel.size < 3:
            continue
        q = p[iris_idx[sel]] - p[iris_idx[sel]].mean(0)
        axis = np.linalg.svd(q, full_matrices=False)[2][-1]
        r = np.linalg.norm(q - np.outer(q @ axis, axis), axis=1)
        iris_r[sel] = (r - r.min()) / max(float(np.ptp(r)), 1e-9)

    iris_r_v = np.full(len(p), -1.0, np.float32)
    iris_r_v[iris_idx] = iris_r

    model_mask = (in_r(*_MODEL_ALBEDO), in_r(*_MODEL_ALBEDO, "scalp"))
    return _ModelTables(region.astype(np.int32), fields_, beard, noise_w, freckle_w, model_mask, iris_r_v)


@numba.njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _assemble_kernel(color_idx, colors, fields_cv, W, beard, beard_w, noise_w, freckle_w, iris_r, seed, noise_amp,
                     freckle_p, freckle_dark, pupil_frac, pupil_rgb, out):  # pragma: no cover - compiled
    """out[v] = clip(colors[color_idx[v]] * (1 + beard[v] beard_w) * (1 + fields[:, v] @ W) * jitter(v), 0, 1).

    fields_cv is (C, V) so the accumulation runs (SIMD) along vertices. jitter(v) =
    1 + noise_amp * noise_w[v] * (2 u_v - 1), or freckle_dark where u_v < freckle_p *
    freckle_w[v]; u_v in [0, 1) is ``_hash_uniform(seed, v)``. Iris vertices (iris_r >= 0)
    are darkened x0.55 at the rim (iris_r > 0.85) and set to pupil_rgb where iris_r <= pupil_frac.
    """
    nc, nv = fields_cv.shape
    acc = np.empty((3, nv), np.float32)
    for c in range(3):
        o = acc[c]
        o[:] = numba.float32(1.0)
        for k in range(nc):
            w = W[k, c]
            f = fields_cv[k]
            for v in range(nv):
                o[v] += f[v] * w
    one, zero = numba.float32(1.0), numba.float32(0.0)
    jit = np.empty(nv, np.float32)
    for v in range(nv):  # scalar factor per vertex: noise or freckle, limbal ring
        u = _hash_uniform(seed, v)
        j = freckle_dark if u < freckle_p * freckle_w[v] else one + noise_amp * noise_w[v] * (numba.float32(2.0) * u - one)
        jit[v] = j * numba.float32(0.55) if iris_r[v] > numba.float32(0.85) else j
    for c in range(3):
        o, bw = acc[c], beard_w[c]
        for v in range(nv):
            o[v] *= jit[v] * (one + beard[v] * bw)
    for v in range(nv):  # base colour, clip, pupil
        i, r = color_idx[v], iris_r[v]
        pupil = r >= zero and r <= pupil_frac
        for c in range(3):
            out[v, c] = pupil_rgb[c] if pupil else min(max(colors[i, c] * acc[c, v], zero), one)


@numba.njit(cache=True, inline="always")
def _hash_uniform(seed, v):  # pragma: no cover - compiled
    """Uniform [0, 1) float32 from (uint32 seed, vertex v): Wellons' "lowbias32" integer hash."""
    z = numba.uint32(numba.uint32(v) * numba.uint32(0x9E3779B9) + seed)
    z = numba.uint32(z ^ (z >> numba.uint32(16)))
    z = numba.uint32(z * numba.uint32(0x7FEB352D))
    z = numba.uint32(z ^ (z >> numba.uint32(15)))
    z = numba.uint32(z * numba.uint32(0x846CA68B))
    z = numba.uint32(z ^ (z >> numba.uint32(16)))
    return numba.float32(np.int32(z >> numba.uint32(8))) * numba.float32(1.0 / 16777216.0)


def _tables(model: MorphableModel) -> _ModelTables:
    t = _CACHE.get(model)
    if t is None:
        t = _CACHE[model] = _build_tables(model)
    return t


# --- sampling -----------------------------------------------------------------------------
_NUM_UNIFORMS = 40  # scalar uniforms drawn per face in one call (at most 37 are used)
_NUM_NORMALS = 3 + 4 * _NUM_LOWFREQ  # tone jitter (3), tone-field weights: shared (K) and per channel (K x 3)
_FLUSH_RGB = np.array([0.04, -0.3, -0.2])  # multiplicative colour shift of full redness


def _choice(u: float, probs: tuple[float, ...], light: tuple[bool, ...], darkness: float) -> int:
    """Index picked by the uniform ``u`` with weights ``probs``, the ``light`` entries scaled by (1 - darkness)^2."""
    w = [p * ((1.0 - darkness) ** 2 if is_light else 1.0) for p, is_light in zip(probs, light)]
    if sum(w) <= 0:
        w = list(probs)
    x = u * sum(w)
    for i, wi in enumerate(w):
        if x < wi:
            return i
        x -= wi
    return max(i for i, wi in enumerate(w) if wi > 0)  # rounding at the top end


def sample_albedo(rng: np.random.Generator, model: MorphableModel, cfg: AppearanceConfig = AppearanceConfig()) -> tuple[np.ndarray, dict[str, np.ndarray | float]]:
    """Draw one face's per-vertex albedo.

    Args:
        rng: the only source of randomness (same state -> same albedo).
        model: the 3DMM; its per-model tables are built on first use and cached.
        cfg: sampling ranges and probabilities.

    Returns:
        albedo: (V, 3) float32 linear sRGB in [0, 1], one row per model vertex.
        params: what was drawn (floats and small arrays): ``skin_tone`` t, ``haemoglobin``,
            ``skin_lab`` (3,), ``skin_rgb`` (3,), ``ita_deg``, ``fitzpatrick`` (1-6),
            ``hair_color`` / ``iris_color`` (indices into ``HAIR_COLOR_NAMES`` /
            ``IRIS_COLOR_NAMES``), ``hair_rgb``, ``iris_rgb``, ``bald``, ``beard_density``,
            ``beard_parts`` (moustache, chin, jaw), ``redness``, ``freckle_density``,
            ``pupil_fraction``, ``model_albedo`` (1 if the model's albedo was used).
    """
    tab = _tables(model)
    # All scalar randomness comes from two vectorised draws (a Generator call costs ~1 us).
    draws = iter(rng.random(_NUM_UNIFORMS).tolist())
    normal = rng.standard_normal(_NUM_NORMALS)

    def uniform(lo: float = 0.0, hi: float = 1.0) -> float:
        return lo + (hi - lo) * next(draws)

    # Skin: tone curve + jitter in CIELAB; lips darker and redder, less so for dark skin.
    t = uniform(*cfg.skin_tone_range)
    hb = uniform(*cfg.haemoglobin_range)
    lab = skin_lab_from_tone(t) + cfg.tone_jitter * normal[:3]
    lab[1] += hb
    lab[0] = min(max(lab[0], 15.0), 85.0)
    lip_lab = lab + [-uniform(4.0, 12.0) * (1.0 - 0.5 * t), uniform(8.0, 18.0) * (1.0 - 0.4 * t), -uniform(0.0, 4.0)]
    skin, lips = np.minimum(np.maximum(lab_to_linear_srgb(np.array([lab, lip_lab])), [[0.003], [0.002]]), 1.0)
    ita = math.degrees(math.atan2(lab[0] - 50.0, lab[2]))

    darkness = t if cfg.tone_correlated else 0.0
    hair_i = _choice(uniform(), cfg.hair_color_probs, _HAIR_LIGHT, darkness)
    hair = _HAIR_LIN[hair_i] * (uniform(0.7, 1.3) * np.array([uniform(0.92, 1.08) for _ in range(3)]))
    iris_i = _choice(uniform(), cfg.iris_color_probs, _IRIS_LIGHT, darkness)
    iris = _IRIS_LIN[iris_i] * (uniform(0.75, 1.25) * np.array([uniform(0.9, 1.1) for _ in range(3)]))
    bald = uniform() < cfg.p_bald

    # Per-region colours (linear sRGB), one row per REGION_NAMES entry.
    table = np.empty((len(REGION_NAMES), 3), np.float64)
    table[:] = skin
    table[_R["lips"]] = lips
    table[_R["eyelids"]] = skin * _EYELID_TINT * uniform(0.88, 1.0)
    table[_R["ears"]] = skin * _EAR_TINT
    table[_R["neck"]] = skin * uniform(0.95, 1.05)
    table[_R["nostrils"]] = skin * _NOSTRIL_TINT
    table[_R["scalp"]] = skin * 1.03 if bald else hair
    brow_cover = uniform(0.55, 0.9)
    table[_R["brows"]] = (1.0 - brow_cover) * skin + brow_cover * hair
    table[_R["sclera"]] = _SCLERA_LIN * uniform(0.78, 1.0) * np.array([1.0, uniform(0.9, 1.0), uniform(0.88, 1.0)])
    table[_R["iris"]] = iris
    table[_R["mouth_interior"]] = _MOUTH_LIN * uniform(0.6, 1.15)
    table[_R["teeth"]] = _TEETH_LIN * uniform(0.72, 1.0)

    # The model's own albedo (optional): per-vertex colours appended after the region rows.
    color_idx, skin_ref = tab.region, skin
    use_model = uniform() < cfg.use_model_albedo and model.albedo_mean is not None
    if use_model:
        model_rgb = model.albedo_mean
        if model.albedo_basis is not None and model.albedo_basis.shape[0]:
            w = rng.standard_normal(model.albedo_basis.shape[0]).astype(np.float32)
            model_rgb = model_rgb + np.tensordot(w, model.albedo_basis, axes=1)
        mask = tab.model_albedo_mask[int(bald)]
        color_idx = np.where(mask, len(table) + np.arange(model.num_vertices, dtype=np.int32), tab.region)
        table = np.concatenate([table, model_rgb])
        skin_rows = model_rgb[tab.model_albedo_mask[0]]
        skin_ref = np.maximum(skin_rows.mean(0), 1e-3) if len(skin_rows) else skin

    # Multiplicative variation (1 + beard * beard_w) * (1 + fields @ W): beard, smooth tone, flush.
    k = _NUM_LOWFREQ
    W = np.empty((tab.fields.shape[0], 3), np.float64)
    W[:k] = cfg.tone_variation * (normal[3:3 + k, None] + 0.3 * normal[3 + k:].reshape(k, 3))
    redness = uniform(0.0, cfg.redness_max)
    W[k] = redness * _FLUSH_RGB
    beard_density, parts, beard_w = 0.0, [0.0, 0.0, 0.0], np.zeros(3)
    if uniform() < cfg.p_beard:
        beard_density = uniform(*cfg.beard_density_range)
        parts = [float(uniform() < 0.8) for _ in range(3)]
        if not any(parts):
            parts[min(int(3.0 * uniform()), 2)] = 1.0
        beard_w = beard_density * (hair / skin_ref - 1.0)  # lerp skin -> hair by coverage
    beard = tab.beard[int(parts[0] + 2.0 * parts[1] + 4.0 * parts[2])]

    # Per-vertex noise: one hashed uniform per vertex gives the jitter and the freckles;
    # the pupil sits at the iris centre, a darker limbal ring at the iris rim.
    freckle_density = uniform(0.0, cfg.freckle_max) * (1.0 - t) ** 2 if uniform() < cfg.p_freckles else 0.0
    freckle_dark = uniform(0.7, 0.88)
    noise_seed = int(uniform() * 2**32)
    pupil_fraction = uniform(*cfg.pupil_fraction_range)
    albedo = np.empty((model.num_vertices, 3), np.float32)
    _assemble_kernel(
        color_idx, table.astype(np.float32), tab.fields, W.astype(np.float32), beard, beard_w.astype(np.float32),
        tab.noise_w, tab.freckle_w, tab.iris_r, np.uint32(noise_seed), np.float32(cfg.noise_amplitude),
        np.float32(freckle_density), np.float32(freckle_dark), np.float32(pupil_fraction), _PUPIL_LINEAR, albedo,
    )

    params: dict[str, np.ndarray | float] = {
        "skin_tone": t,
        "haemoglobin": hb,
        "skin_lab": lab.astype(np.float32),
        "skin_rgb": skin.astype(np.float32),
        "ita_deg": ita,
        "fitzpatrick": float(fitzpatrick_from_ita(ita)),
        "hair_color": float(hair_i),
        "hair_rgb": hair.astype(np.float32),
        "iris_color": float(iris_i),
        "iris_rgb": iris.astype(np.float32),
        "bald": float(bald),
        "beard_density": beard_density,
        "beard_parts": np.array(parts, np.float32),
        "redness": redness,
        "freckle_density": freckle_density,
        "pupil_fraction": pupil_fraction,
        "model_albedo": float(use_model),
    }
    return albedo, params


def albedo_luminance_stats(albedo: np.ndarray, model: MorphableModel) -> dict[str, float]:
    """Mean luminance of ``albedo`` (V, 3) per region present in ``model`` (for reports)."""
    y = luminance(albedo)
    counts = np.bincount(model.vertex_region, minlength=len(REGION_NAMES))
    sums = np.bincount(model.vertex_region, weights=y, minlength=len(REGION_NAMES))
    return {n: float(sums[i] / counts[i]) for i, n in enumerate(REGION_NAMES) if counts[i]}

