"""synth.scene.lighting: SH irradiance maths, directional falloff, presets, shading kernel."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from synth.errors import UserError
from synth.scene.color import cct_to_linear_srgb, luminance
from synth.scene.lighting import (
    PRESETS,
    Lighting,
    LightingConfig,
    direction_from_angles,
    sample_lighting,
    shade,
    shade_numpy,
    sh_basis,
    sh_constant,
    sh_from_lights,
    sh_gradient,
    sh_irradiance,
)


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, 3))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _only(preset: str, **kw) -> LightingConfig:
    return LightingConfig(preset_weights=((preset, 1.0),), **kw)


NO_LIGHTS = dict(dirs=np.zeros((0, 3)), colors=np.zeros((0, 3)))


# --- SH maths ---------------------------------------------------------------------------------
def test_constant_environment_gives_pi_L_everywhere():
    n = _unit(np.random.default_rng(0), 1000)
    radiance = np.array([0.3, 0.5, 0.7])
    e = sh_irradiance(n, sh_constant(radiance))
    np.testing.assert_allclose(e, np.broadcast_to(np.pi * radiance, e.shape), rtol=1e-5)
    # L_00 = integral of L * Y_00 over the sphere = L * 0.282095 * 4 pi.
    np.testing.assert_allclose(sh_constant(1.0)[0], 0.282095 * 4 * np.pi, rtol=1e-5)


def test_irradiance_matches_ramamoorthi_hanrahan_quadratic_form():
    """Eq. 13 of R&H 2001 with their constants c1..c5, against basis @ (A_l L_lm)."""
    rng = np.random.default_rng(1)
    L = rng.standard_normal((9, 3))
    n = _unit(rng, 200).astype(np.float64)
    x, y, z = n.T[..., None]
    c1, c2, c3, c4, c5 = 0.429043, 0.511664, 0.743125, 0.886227, 0.247708
    e = (c1 * L[8] * (x * x - y * y) + c3 * L[6] * z * z + c4 * L[0] - c5 * L[6]
         + 2 * c1 * (L[4] * x * y + L[7] * x * z + L[5] * y * z) + 2 * c2 * (L[3] * x + L[1] * y + L[2] * z))
    np.testing.assert_allclose(sh_irradiance(n, L), e, rtol=1e-4, atol=1e-4)


def test_sh_basis_is_orthonormal():
    # Monte-Carlo-free check: a Fibonacci sphere quadrature of Y_i Y_j approximates delta_ij.
    k = 20000
    i = np.arange(k) + 0.5
    phi, cz = np.pi * (1 + 5**0.5) * i, 1 - 2 * i / k
    d = np.stack([np.sqrt(1 - cz**2) * np.cos(phi), np.sqrt(1 - cz**2) * np.sin(phi), cz], 1)
    y = sh_basis(d)
    np.testing.assert_allclose(y.T @ y * (4 * np.pi / k), np.eye(9), atol=2e-3)


def test_sky_gradient_reconstructs_top_and_bottom():
    up = np.array([0.0, 1.0, 0.0])
    sh = sh_gradient(up, [1.0, 0.8, 0.6], [0.2, 0.1, 0.0])
    radiance = sh_basis(np.array([up, -up])) @ sh
    np.testing.assert_allclose(radiance, [[1.0, 0.8, 0.6], [0.2, 0.1, 0.0]], atol=1e-5)


def test_sh_from_lights_approximates_clamped_cosine():
    d = direction_from_angles(30.0, 20.0)[None]
    sh = sh_from_lights(d, [[1.0, 1.0, 1.0]])
    facing = sh_irradiance(d, sh)[0] / np.pi
    # Order-2 clamped cosine at theta = 0: sum_l A_l (2l+1) / (4 pi) = 1.0625.
    np.testing.assert_allclose(facing, 1.0625, rtol=1e-3)
    assert (sh_irradiance(-d, sh)[0] / np.pi < 0.1).all()


# --- shading ----------------------------------------------------------------------------------
def test_white_furnace():
    rng = np.random.default_rng(2)
    n, a = _unit(rng, 500), rng.random((500, 3)).astype(np.float32)
    lt = Lighting(sh=sh_constant(0.8), **NO_LIGHTS)
    for f in (shade, shade_numpy):
        np.testing.assert_allclose(f(n, a, np.float32([0, 0, 1]), lt), 0.8 * a, rtol=1e-5)


def test_directional_light_has_cosine_falloff():
    l = direction_from_angles(40.0, 10.0)
    lt = Lighting(sh=np.zeros((9, 3)), dirs=l[None], colors=[[0.9, 0.6, 0.3]])
    rng = np.random.default_rng(3)
    n, a = _unit(rng, 2000), rng.random((2000, 3)).astype(np.float32)
    want = a * np.maximum(n @ l, 0)[:, None] * [0.9, 0.6, 0.3]
    for f in (shade, shade_numpy):
        np.testing.assert_allclose(f(n, a, np.float32([0, 0, 1]), lt), want, rtol=1e-5, atol=1e-6)


def test_specular_peaks_at_half_vector():
    l = direction_from_angles(60.0, 0.0)
    v = np.float32([0, 0, 1])
    lt = Lighting(sh=np.zeros((9, 3)), dirs=l[None], colors=[[1.0, 1.0, 1.0]], specular_strength=0.1, shininess=40.0)
    h = (l + v) / np.linalg.norm(l + v)
    ang = np.radians(np.linspace(-20, 20, 41))  # normals swept around h in the x-z plane
    base = math.atan2(h[0], h[2])
    n = np.stack([np.sin(base + ang), 0 * ang, np.cos(base + ang)], 1).astype(np.float32)
    out = shade(n, np.zeros_like(n), v, lt)[:, 0]
    assert abs(int(np.argmax(out)) - 20) <= 1 and out[20] > 5 * out[0]  # the n.l factor tilts it ~1 deg


def test_numba_kernel_matches_numpy_reference():
    rng = np.random.default_rng(4)
    n, a, v = _unit(rng, 3000), rng.random((3000, 3)).astype(np.float32), _unit(rng, 3000)
    for name in PRESETS:
        for _ in range(5):
            lt = sample_lighting(rng, _only(name))
            np.testing.assert_allclose(shade(n, a, v, lt), shade_numpy(n, a, v, lt), atol=2e-4, rtol=1e-4)


def test_shade_keeps_leading_shape():
    rng = np.random.default_rng(5)
    n = _unit(rng, 12).reshape(3, 4, 3)
    out = shade(n, np.full_like(n, 0.5), np.float32([0, 0, 1]), sample_lighting(rng))
    assert out.shape == (3, 4, 3) and out.dtype == np.float32
    with pytest.raises(ValueError, match="albedo"):
        shade(n, np.zeros((5, 3)), np.float32([0, 0, 1]), sample_lighting(rng))


# --- presets and sampling -----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_gives_valid_lighting(name):
    rng = np.random.default_rng(6)
    for _ in range(20):
        lt = sample_lighting(rng, _only(name))
        assert lt.preset == name and lt.sh.shape == (9, 3) and lt.sh.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(lt.dirs, axis=1), 1.0, atol=1e-5)
        assert (lt.colors >= 0).all() and (lt.ambient_color >= 0).all()
        # A frontal white face is neither black nor blown out by much.
        front = shade(np.float32([[0, 0, 1]]), np.float32([[0.4, 0.4, 0.4]]), np.float32([0, 0, 1]), lt)
        assert np.isfinite(front).all() and front.max() < 3.0


def test_sampler_is_deterministic_and_covers_presets():
    a, b = sample_lighting(np.random.default_rng(7)), sample_lighting(np.random.default_rng(7))
    assert a.preset == b.preset and all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("sh", "dirs", "colors"))
    rng = np.random.default_rng(8)
    assert {sample_lighting(rng).preset for _ in range(300)} == set(PRESETS)


def test_backlight_leaves_face_darker_than_rim():
    rng = np.random.default_rng(9)
    ring = np.radians(np.arange(0, 360, 5))
    rim_normals = np.stack([np.cos(ring), np.sin(ring), 0 * ring], 1).astype(np.float32)
    view = np.float32([0, 0, 1])
    for _ in range(50):
        lt = sample_lighting(rng, _only("back", specular_strength_range=(0.0, 0.0)))
        front = luminance(shade(np.float32([[0, 0, 1]]), np.full((1, 3), 0.5, np.float32), view, lt))[0]
        rim = luminance(shade(rim_normals, np.full_like(rim_normals, 0.5), view, lt)).max()
        assert rim > 3 * front, (front, rim)


def test_side_light_comes_from_the_side():
    rng = np.random.default_rng(10)
    for _ in range(30):
        lt = sample_lighting(rng, _only("side"))
        key = lt.dirs[np.argmax(luminance(lt.colors))]
        az = math.degrees(math.atan2(key[0], key[2]))
        assert 69.9 <= abs(az) <= 90.1


def test_colour_temperature():
    warm, cold = cct_to_linear_srgb(2500.0), cct_to_linear_srgb(9000.0)
    assert warm[0] / warm[2] > 3 * (cold[0] / cold[2])
    np.testing.assert_allclose(luminance(np.stack([warm, cold])), 1.0, rtol=1e-5)
    np.testing.assert_allclose(cct_to_linear_srgb(6500.0), 1.0, atol=0.06)  # near white
    r = np.random.default_rng(11)
    lw = sample_lighting(r, _only("studio", color_temp_range_k=(2500.0, 2500.0), white_balance_range=(0.0, 0.0)))
    lc = sample_lighting(r, _only("studio", color_temp_range_k=(9000.0, 9000.0), white_balance_range=(0.0, 0.0)))
    assert lw.colors[0, 0] / lw.colors[0, 2] > lc.colors[0, 0] / lc.colors[0, 2]
    assert lw.sh[0, 0] / lw.sh[0, 2] > lc.sh[0, 0] / lc.sh[0, 2]


def test_full_white_balance_removes_the_key_cast():
    cfg = _only("studio", color_temp_range_k=(2500.0, 2500.0), white_balance_range=(1.0, 1.0), p_mixed_temp=0.0)
    lt = sample_lighting(np.random.default_rng(13), cfg)
    np.testing.assert_allclose(lt.colors[0] / lt.colors[0].mean(), 1.0, rtol=1e-4)  # grey key light
    np.testing.assert_allclose(lt.sh[0] / lt.sh[0].mean(), 1.0, rtol=1e-4)


def test_exposure_scales_everything():
    lo = sample_lighting(np.random.default_rng(12), LightingConfig(exposure_range_ev=(-1.0, -1.0)))
    hi = sample_lighting(np.random.default_rng(12), LightingConfig(exposure_range_ev=(1.0, 1.0)))
    np.testing.assert_allclose(hi.colors, 4 * lo.colors, rtol=1e-5)
    np.testing.assert_allclose(hi.sh, 4 * lo.sh, rtol=1e-5, atol=1e-7)


def test_direction_convention():
    np.testing.assert_allclose(direction_from_angles(0.0, 0.0), [0, 0, 1], atol=1e-7)  # from the camera
    np.testing.assert_allclose(direction_from_angles(90.0, 0.0), [1, 0, 0], atol=1e-7)  # camera right
    np.testing.assert_allclose(direction_from_angles(0.0, 90.0), [0, 1, 0], atol=1e-7)  # above
    np.testing.assert_allclose(direction_from_angles(180.0, 0.0), [0, 0, -1], atol=1e-7)  # behind


# --- validation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field, value",
    [("intensity_range", (-1.0, 1.0)), ("ambient_scale_range", (0.5, -0.1)), ("p_mixed_temp", 1.5),
     ("color_temp_range_k", (1000.0, 6000.0)), ("preset_weights", (("disco", 1.0),)),
     ("preset_weights", (("studio", -1.0),)), ("specular_strength_range", (-0.1, 0.1)),
     ("shininess_range", (0.0, 10.0)), ("exposure_range_ev", (float("nan"), 1.0)), ("intensity_range", 1.0),
     ("preset_weights", "studio"), ("white_balance_range", (0.5, 1.5))],
)
def test_bad_config_names_field(field, value):
    with pytest.raises(UserError, match=field):
        LightingConfig(**{field: value})


def test_bad_lighting_names_field():
    with pytest.raises(UserError, match="dirs"):
        Lighting(sh=np.zeros((9, 3)), dirs=[[0, 0, 2.0]], colors=[[1, 1, 1]])
    with pytest.raises(UserError, match="colors"):
        Lighting(sh=np.zeros((9, 3)), dirs=[[0, 0, 1.0]], colors=[[-1, 1, 1]])
    with pytest.raises(UserError, match="sh"):
        Lighting(sh=np.zeros((4, 3)), **NO_LIGHTS)
    lt = Lighting(sh=np.zeros((9, 3)), **NO_LIGHTS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lt.shininess = 3.0  # type: ignore[misc]
