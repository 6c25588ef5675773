"""Degradations: determinism, fixed parameter keys, and content that does not move."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.errors import UserError
from synth.scene.degrade import DEGRADE_PARAM_KEYS, DegradeConfig, degrade, motion_blur_kernel

OFF = dict(p_motion_blur=0.0, p_gaussian_blur=0.0, p_colour=0.0, p_grayscale=0.0, p_noise=0.0,
           p_rescale=0.0, p_jpeg=0.0)
STEPS = {
    "motion_blur": dict(p_motion_blur=1.0, motion_blur_length_px=(11.0, 11.0)),
    "gaussian_blur": dict(p_gaussian_blur=1.0, gaussian_blur_sigma_px=(1.8, 1.8)),
    "colour": dict(p_colour=1.0),
    "grayscale": dict(p_grayscale=1.0),
    "noise": dict(p_noise=1.0, noise_std_levels=(8.0, 8.0), noise_shot_gain=(0.5, 0.5)),
    "rescale": dict(p_rescale=1.0, rescale_factor=(0.25, 0.25)),
    "jpeg": dict(p_jpeg=1.0, jpeg_quality=(25, 25)),
}
ALL_ON = {k: 1.0 for k in OFF}


def _dot(hw=(80, 96), centre=(41.3, 37.6), sigma=2.5) -> np.ndarray:
    """A bright Gaussian dot on a dark grey background, (H, W, 3) uint8."""
    y, x = np.mgrid[: hw[0], : hw[1]]
    g = np.exp(-((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (2 * sigma**2))
    return np.repeat((30 + 210 * g)[..., None], 3, axis=2).round().astype(np.uint8)


def _centroid(img: np.ndarray, radius: int = 12) -> np.ndarray:
    """(x, y) brightness centroid above the background, in a window around the brightest spot
    (found on a blurred copy, so the window does not depend on where the dot should be)."""
    g = img.astype(np.float64).mean(axis=2)
    bg = np.median(g)
    peak = np.unravel_index(np.argmax(cv2.GaussianBlur(g, (0, 0), 3.0)), g.shape)
    y, x = np.mgrid[: g.shape[0], : g.shape[1]]
    win = (np.abs(y - peak[0]) <= radius) & (np.abs(x - peak[1]) <= radius)
    wgt = (g - bg) * win  # not clipped: zero-mean noise averages out instead of biasing
    return np.array([(wgt * x).sum(), (wgt * y).sum()]) / wgt.sum()


@pytest.mark.parametrize("step", list(STEPS) + ["all"])
def test_a_bright_dot_stays_within_one_pixel(step):
    img = _dot()
    true = _centroid(img)
    np.testing.assert_allclose(true, (41.3, 37.6), atol=0.05)
    cfg = DegradeConfig(**(ALL_ON if step == "all" else OFF | STEPS[step]))
    for seed in range(12):
        out, params = degrade(img, np.random.default_rng(seed), cfg)
        err = np.hypot(*(_centroid(out) - true))
        assert err < 1.0, f"{step} seed {seed}: moved {err:.2f} px with {params}"


def test_same_rng_state_same_bytes_and_params_input_untouched():
    img = np.random.default_rng(0).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    before = img.copy()
    cfg = DegradeConfig(**ALL_ON)
    a, pa = degrade(img, np.random.default_rng(5), cfg)
    b, pb = degrade(img, np.random.default_rng(5), cfg)
    c, _ = degrade(img, np.random.default_rng(6), cfg)
    assert a.shape == img.shape and a.dtype == np.uint8
    assert a.tobytes() == b.tobytes() and pa == pb
    assert a.tobytes() != c.tobytes()
    np.testing.assert_array_equal(img, before)


def test_params_have_fixed_keys_and_identity_values_when_nothing_applies():
    img = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    out, params = degrade(img, np.random.default_rng(0), DegradeConfig(**OFF))
    np.testing.assert_array_equal(out, img)
    assert out is not img
    assert tuple(params) == DEGRADE_PARAM_KEYS and all(isinstance(v, float) for v in params.values())
    assert params["rescale_factor"] == 1.0 and params["jpeg_quality"] == 0.0 and params["colour_gamma"] == 1.0
    _, on = degrade(img, np.random.default_rng(0), DegradeConfig(**ALL_ON))
    assert tuple(on) == DEGRADE_PARAM_KEYS
    assert 25 <= on["jpeg_quality"] <= 95 and on["jpeg_quality"].is_integer()
    assert 0.25 <= on["rescale_factor"] <= 0.8 and on["grayscale"] == 1.0 and on["motion_blur_length_px"] >= 3


def test_default_config_applies_each_step_at_its_rate():
    img = np.full((8, 8, 3), 128, np.uint8)
    rng = np.random.default_rng(0)
    runs = [degrade(img, rng, DegradeConfig())[1] for _ in range(400)]
    rate = np.mean([p["jpeg_quality"] > 0 for p in runs])
    assert abs(rate - DegradeConfig().p_jpeg) < 0.07
    rate = np.mean([p["gaussian_blur_sigma_px"] > 0 for p in runs])
    assert abs(rate - DegradeConfig().p_gaussian_blur) < 0.07


def test_noise_has_the_requested_standard_deviation():
    img = np.full((128, 128, 3), 100, np.uint8)
    cfg = DegradeConfig(**OFF | dict(p_noise=1.0, noise_std_levels=(6.0, 6.0), noise_shot_gain=(0.28, 0.28)))
    out, _ = degrade(img, np.random.default_rng(0), cfg)
    d = out.astype(np.float64) - 100
    assert abs(d.mean()) < 0.2
    assert abs(d.std() - np.sqrt(36 + 0.28 * 100)) < 0.3  # 8 levels


def test_colour_shift_identity_and_gamma_direction():
    img = np.random.default_rng(2).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    ident = dict(p_colour=1.0, colour_gain=(1.0, 1.0), colour_offset_levels=(0.0, 0.0), colour_gamma=(1.0, 1.0),
                 colour_saturation=(1.0, 1.0))
    out, _ = degrade(img, np.random.default_rng(0), DegradeConfig(**OFF | ident))
    np.testing.assert_array_equal(out, img)
    dark, _ = degrade(img, np.random.default_rng(0), DegradeConfig(**OFF | ident | dict(colour_gamma=(2.0, 2.0))))
    assert (dark <= img).all() and dark.mean() < img.mean() - 20


@settings(max_examples=40, deadline=None)
@given(st.floats(1.0, 25.0), st.floats(0.0, 180.0))
def test_motion_kernel_is_normalised_odd_and_centred(length, angle):
    k = motion_blur_kernel(length, angle)
    assert k.dtype == np.float32 and k.shape[0] % 2 == 1 and k.shape[1] % 2 == 1
    assert abs(k.sum() - 1.0) < 1e-5 and (k >= 0).all()
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-6)  # point-symmetric: centroid at the centre
    y, x = np.mgrid[: k.shape[0], : k.shape[1]]
    spread = np.sqrt((k * ((x - k.shape[1] // 2) ** 2 + (y - k.shape[0] // 2) ** 2)).sum())
    assert abs(spread - length / np.sqrt(12)) < 0.6  # a uniform segment of that length


@pytest.mark.parametrize("kwargs, field", [
    (dict(p_jpeg=2.0), "p_jpeg"),
    (dict(jpeg_quality=(50.5, 60)), "jpeg_quality"),
    (dict(jpeg_quality=(90, 10)), "jpeg_quality"),
    (dict(rescale_factor=(0.5, 1.5)), "rescale_factor"),
    (dict(gaussian_blur_sigma_px=(-1.0, 1.0)), "gaussian_blur_sigma_px"),
    (dict(noise_std_levels=5.0), "noise_std_levels"),
])
def test_config_errors_name_field_and_value(kwargs, field):
    with pytest.raises(UserError, match=field) as e:
        DegradeConfig(**kwargs)
    assert repr(next(iter(kwargs.values()))) in str(e.value) and "\n" not in str(e.value)


def test_rejects_non_rgb_uint8():
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        degrade(np.zeros((8, 8), np.uint8), np.random.default_rng(0), DegradeConfig())


def test_speed_sanity_printed():
    cv2.setNumThreads(1)
    for s in (128, 256):
        img = np.random.default_rng(0).integers(0, 256, (s, s, 3), dtype=np.uint8)
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        for _ in range(30):
            degrade(img, rng, DegradeConfig())
        print(f"degrade {s}px (defaults): {(time.perf_counter() - t) / 30 * 1e3:.2f} ms")
