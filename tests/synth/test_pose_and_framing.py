"""Pose presets, camera placement and the crop folded into the intrinsics."""

from __future__ import annotations

import numpy as np
import pytest

from synth.errors import UserError
from synth.framing import CameraConfig, CropConfig, crop_box, crop_intrinsics, sample_camera
from synth.geometry import project_points
from synth.pose import POSE_PRESETS, AngleDist, sample_angle, sample_pose


def _draw(preset: str, n: int = 4000) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.array([sample_pose(rng, POSE_PRESETS[preset]) for _ in range(n)])


def test_extreme_preset_covers_its_ranges_and_oversamples_the_tails():
    ypr = _draw("extreme")
    assert np.abs(ypr[:, 0]).max() <= 90 and np.abs(ypr[:, 1]).max() <= 70 and np.abs(ypr[:, 2]).max() <= 60
    assert np.abs(ypr[:, 0]).max() > 88
    # a plain uniform over ±90 puts 1/3 of the mass beyond |60|; tails oversampling ~2/3
    assert np.mean(np.abs(ypr[:, 0]) > 60) > 0.55


def test_fullrange_preset_reaches_the_back_of_the_head():
    ypr = _draw("fullrange")
    assert np.mean(np.abs(ypr[:, 0]) > 120) > 0.25


def test_frontal_preset_stays_frontal():
    assert np.abs(_draw("frontal", 500)[:, 0]).max() <= 20


def test_sampling_is_a_pure_function_of_the_generator():
    a = sample_pose(np.random.default_rng(7), POSE_PRESETS["extreme"])
    b = sample_pose(np.random.default_rng(7), POSE_PRESETS["extreme"])
    assert np.array_equal(a, b)


def test_angle_distribution_rejects_empty_tails_and_bad_ranges():
    with pytest.raises(UserError, match="low 10"):
        AngleDist("uniform", 10, -10)
    with pytest.raises(UserError, match="leaves no tail"):
        AngleDist("tails", -30, 30, tail_start=40)
    d = AngleDist("tails", -90, 90, tail_start=60, tail_fraction=1.0)
    rng = np.random.default_rng(1)
    assert all(abs(sample_angle(rng, d)) >= 60 for _ in range(200))


def test_crop_intrinsics_map_sensor_pixels_into_the_crop():
    rng = np.random.default_rng(3)
    K, t = sample_camera(rng, CameraConfig())
    pts = rng.normal(size=(20, 3)) * 30 + t
    uv = project_points(pts, K)
    box = crop_box(rng, pts, K, CropConfig(image_size=128))
    Kc = crop_intrinsics(K, box, 128)
    uv_crop = project_points(pts, Kc)
    side = box[2] - box[0]
    expected = (uv - box[:2]) * 128 / side - 0.5
    np.testing.assert_allclose(uv_crop, expected, atol=1e-9)
    # the landmarks lie inside the crop (it spans >= 1.25 x their bounding sphere, shift <= 6 %)
    assert (uv_crop > -0.5).all() and (uv_crop < 127.5).all()


def test_camera_keeps_the_head_in_front_and_within_distance_range():
    rng = np.random.default_rng(0)
    cfg = CameraConfig(distance_mm=(400, 800))
    for _ in range(100):
        K, t = sample_camera(rng, cfg)
        assert 400 <= -t[2] <= 800
        uv = project_points(t[None], K)[0]
        assert (0 <= uv).all() and (uv < cfg.sensor_px).all()


def test_bad_camera_and_crop_values_are_named():
    with pytest.raises(UserError, match="camera.fov_deg"):
        CameraConfig(fov_deg=(60, 30))
    with pytest.raises(UserError, match="crop.image_size"):
        CropConfig(image_size=8)


def test_crop_side_does_not_shrink_for_a_profile():
    from synth.geometry import euler_to_matrix

    rng = np.random.default_rng(0)
    pts_model = rng.normal(size=(68, 3)) * [40, 50, 15]  # a flat face
    K = np.array([[800.0, 0, 511.5], [0, 800, 511.5], [0, 0, 1]])
    sides = []
    for yaw in (0, 90):
        pts = pts_model @ euler_to_matrix(yaw, 0, 0).T + [0, 0, -600]
        box = crop_box(np.random.default_rng(1), pts, K, CropConfig(shift_frac=0))
        sides.append(box[2] - box[0])
    assert sides[0] == pytest.approx(sides[1], rel=0.02)
