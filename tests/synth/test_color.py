"""synth.scene.color: sRGB OETF (LUT vs exact), CIELAB round trip, CCT."""

from __future__ import annotations

import numpy as np

from synth.scene.color import (
    cct_to_linear_srgb,
    lab_to_linear_srgb,
    linear_srgb_to_lab,
    linear_to_srgb,
    linear_to_srgb_float,
    luminance,
    over_to_srgb,
    srgb_to_linear,
)
from synth.scene.lighting import linear_to_srgb as reexported


def test_srgb_endpoints_and_known_values():
    out = linear_to_srgb(np.array([0.0, 1.0, 0.5, 0.0031308, -1.0, 7.0, np.nan], np.float32))
    assert out.dtype == np.uint8
    assert out.tolist() == [0, 255, 188, 10, 0, 255, 0]
    assert reexported is linear_to_srgb


def test_lut_matches_exact_oetf_and_round_trips():
    x = np.random.default_rng(0).random((200, 300, 3), dtype=np.float32)
    lut = linear_to_srgb(x).astype(int)
    exact = np.round(linear_to_srgb_float(x) * 255).astype(int)
    assert np.abs(lut - exact).max() <= 1 and (lut == exact).mean() > 0.99
    all_codes = np.arange(256, dtype=np.uint8)
    assert np.array_equal(linear_to_srgb(srgb_to_linear(all_codes)), all_codes)  # 8-bit round trip
    assert np.all(np.diff(linear_to_srgb(np.linspace(0, 1, 5000))) >= 0)  # monotone


def test_lab_round_trip_and_white():
    rgb = np.random.default_rng(1).random((100, 3))
    np.testing.assert_allclose(lab_to_linear_srgb(linear_srgb_to_lab(rgb)), rgb, atol=1e-9)
    np.testing.assert_allclose(lab_to_linear_srgb([100.0, 0.0, 0.0]), 1.0, atol=1e-4)  # D65 white
    np.testing.assert_allclose(luminance(lab_to_linear_srgb([50.0, 0.0, 0.0])), 0.18419, atol=1e-4)


def test_cct_order_and_luminance():
    t = np.array([2000.0, 3000.0, 4000.0, 5000.0, 6500.0, 9000.0, 15000.0])
    rgb = cct_to_linear_srgb(t)
    np.testing.assert_allclose(luminance(rgb), 1.0, rtol=1e-5)
    assert np.all(np.diff(rgb[:, 0] / rgb[:, 2]) < 0)  # bluer as it gets hotter


def test_over_to_srgb_is_the_composite_of_its_definition():
    # fg premultiplied over an sRGB background, encoded once: equal to the numpy expression
    # (same float32 arithmetic, same table), for RGB and other channel counts; empty pixels
    # keep the background bytes; NaN, negative and > 1 values encode as the table's clip.
    rng = np.random.default_rng(0)
    for c in (3, 1, 4):
        alpha = rng.uniform(0, 1, (23, 19)).astype(np.float32)
        alpha[alpha < 0.3], alpha[alpha > 0.8] = 0.0, 1.0
        fg = (rng.uniform(-0.1, 1.2, (23, 19, c)) * alpha[..., None]).astype(np.float32)
        fg[0, 0], fg[0, 1], fg[0, 2] = np.nan, -1.0, 7.0
        bg = rng.integers(0, 256, (23, 19, c)).astype(np.uint8)
        out = over_to_srgb(fg, alpha, bg)
        expected = linear_to_srgb(fg + srgb_to_linear(bg) * (np.float32(1.0) - alpha[..., None]))
        np.testing.assert_array_equal(out, expected)
        empty = (alpha == 0) & (fg == 0).all(-1)
        assert empty.sum() > 50 and np.array_equal(out[empty], bg[empty])
