"""face_crop: pixel-centre exactness, scale/centring rule, bbox, validity, pose unchanged, jitter."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.data.crop import DEFAULT_MARGIN, crop_affine, crop_square, face_crop
from synth.data.record import FaceSample
from synth.geometry import euler_to_matrix

K = 68


def _sample(img: np.ndarray, lmk: np.ndarray, valid=None, bbox=None) -> FaceSample:
    valid = np.ones(K, bool) if valid is None else valid
    return FaceSample(
        image=img, landmarks=lmk, landmark_valid=valid, visible=valid.copy(), visible_valid=valid.copy(),
        euler_deg=np.array([40, -10, 5], np.float32), euler_valid=np.ones(3, bool),
        rotation=euler_to_matrix(40, -10, 5).astype(np.float32), rotation_valid=True,
        bbox=np.zeros(4, np.float32) if bbox is None else np.asarray(bbox, np.float32), bbox_valid=bbox is not None,
        source="test", name="0",
    )


def _grid_landmarks(x0, y0, w, h) -> np.ndarray:
    rng = np.random.default_rng(0)
    lmk = np.column_stack([x0 + rng.random(K) * w, y0 + rng.random(K) * h]).astype(np.float32)
    lmk[0], lmk[1] = (x0, y0), (x0 + w, y0 + h)  # pin the box
    return lmk


def test_marked_pixel_lands_on_marked_pixel_at_unit_scale():
    # box 40 x 32 from (30.5, 20.5): side = margin * 40 = 64 = out_size (scale 1), centre
    # (50.5, 36.5); crop p = p - (centre - 32) - 0.5, an integer shift of (19, 5)
    img = np.full((100, 120, 3), 50, np.uint8)
    lmk = _grid_landmarks(30.5, 20.5, 40, 32)
    lmk[5] = (47, 33)
    img[33, 47] = (255, 0, 0)
    out = face_crop(_sample(img, lmk), 64, margin=64 / 40)
    x, y = out.landmarks[5]
    assert (x, y) == (47 - 19, 33 - 5)
    np.testing.assert_array_equal(out.image[int(y), int(x)], (255, 0, 0))
    assert (out.image[..., 0] == 255).sum() == 1


@settings(max_examples=25, deadline=None)
@given(st.floats(0.3, 3.0), st.floats(-4, 4), st.floats(-4, 4), st.sampled_from(["replicate", "constant"]))
def test_blob_centroid_follows_the_landmark(scale, dx, dy, border):
    """A smooth blob at a landmark ends up centred on the moved landmark, at any scale."""
    h, w = 160, 160
    lmk = _grid_landmarks(50, 50, 60, 60)
    p = np.array([80.0 + dx, 75.0 + dy])
    lmk[7] = p
    yy, xx = np.mgrid[0:h, 0:w]
    sigma = 6.0
    blob = 200 * np.exp(-((xx - p[0]) ** 2 + (yy - p[1]) ** 2) / (2 * sigma**2))
    img = np.repeat(np.rint(blob).astype(np.uint8)[..., None], 3, axis=2)
    out_size = int(round(60 * 1.4 * scale))
    out = face_crop(_sample(img, lmk), out_size, margin=1.4, border=border)
    g = out.image[..., 0].astype(np.float64)
    g[g < 10] = 0
    oy, ox = np.mgrid[0:out_size, 0:out_size]
    centroid = np.array([(g * ox).sum(), (g * oy).sum()]) / g.sum()
    np.testing.assert_allclose(centroid, out.landmarks[7], atol=0.15 + 0.05 / scale)


def test_square_rule_and_centring():
    img = np.zeros((200, 300, 3), np.uint8)
    lmk = _grid_landmarks(100, 60, 80, 50)
    centre, side = crop_square(_sample(img, lmk), 1.5)
    np.testing.assert_allclose(centre, (140, 85))
    assert side == pytest.approx(120)
    out = face_crop(_sample(img, lmk), 96)
    assert out.image.shape == (96, 96, 3)
    box_lo, box_hi = out.landmarks.min(0), out.landmarks.max(0)
    np.testing.assert_allclose((box_lo + box_hi) / 2, (47.5, 47.5), atol=1e-4)  # centred
    assert (box_hi - box_lo).max() == pytest.approx(96 / DEFAULT_MARGIN, rel=1e-5)
    # crop_affine sends the box edges to the crop edges
    A = crop_affine(np.array([140.0, 85.0]), 120.0, 96)
    np.testing.assert_allclose(A @ [80, 25, 1], (-0.5, -0.5))
    np.testing.assert_allclose(A @ [200, 145, 1], (95.5, 95.5))


def test_only_valid_landmarks_count_and_labels_follow():
    img = np.zeros((200, 200, 3), np.uint8)
    lmk = _grid_landmarks(60, 60, 50, 50)
    valid = np.ones(K, bool)
    valid[3] = False
    lmk[3] = (199, 199)  # garbage in an invalid row is zeroed and ignored
    s = _sample(img, lmk, valid, bbox=[60, 60, 110, 110])
    out = face_crop(s, 64)
    np.testing.assert_array_equal(out.landmarks[3], 0)
    assert not out.landmark_valid[3]
    np.testing.assert_allclose(out.bbox, [*out.landmarks[valid].min(0), *out.landmarks[valid].max(0)], atol=1e-4)
    # pose is unchanged by a crop
    np.testing.assert_array_equal(out.euler_deg, s.euler_deg)
    np.testing.assert_array_equal(out.rotation, s.rotation)
    # from the bbox: same box here, so the same crop
    out_b = face_crop(s, 64, from_="bbox")
    np.testing.assert_allclose(out_b.landmarks, out.landmarks, atol=1e-4)


def test_points_outside_become_not_visible():
    img = np.zeros((100, 100, 3), np.uint8)
    lmk = _grid_landmarks(30, 30, 40, 40)
    s = _sample(img, lmk)
    out = face_crop(s, 32, margin=0.5)  # tighter than the landmarks
    inside = (out.landmarks >= -0.5).all(1) & (out.landmarks < 31.5).all(1)
    np.testing.assert_array_equal(out.visible, s.visible & inside)
    np.testing.assert_array_equal(out.visible_valid, s.visible_valid)
    assert not inside.all()


def test_jitter_is_deterministic_and_bounded():
    img = np.zeros((200, 200, 3), np.uint8)
    lmk = _grid_landmarks(60, 60, 50, 50)
    s = _sample(img, lmk)
    a = face_crop(s, 64, jitter=(np.random.default_rng(3), (0.9, 1.1), 0.05))
    b = face_crop(s, 64, jitter=(np.random.default_rng(3), (0.9, 1.1), 0.05))
    np.testing.assert_array_equal(a.landmarks, b.landmarks)
    np.testing.assert_array_equal(a.image, b.image)
    for seed in range(20):
        c = face_crop(s, 64, jitter=(np.random.default_rng(seed), (0.9, 1.1), 0.05))
        extent = (c.landmarks.max(0) - c.landmarks.min(0)).max()
        assert 64 / DEFAULT_MARGIN / 1.1 - 1e-3 <= extent <= 64 / DEFAULT_MARGIN / 0.9 + 1e-3
        centre = (c.landmarks.max(0) + c.landmarks.min(0)) / 2
        assert np.all(np.abs(centre - 31.5) <= 0.05 * 64 / DEFAULT_MARGIN * 1.4 * 1.1 + 1e-3)


def test_errors():
    img = np.zeros((50, 50, 3), np.uint8)
    s = _sample(img, np.zeros((K, 2), np.float32), np.zeros(K, bool))
    with pytest.raises(ValueError, match="no valid landmark"):
        face_crop(s, 32)
    with pytest.raises(ValueError, match="bbox is not valid"):
        face_crop(s, 32, from_="bbox")
    with pytest.raises(ValueError, match="margin"):
        face_crop(s.with_(landmark_valid=np.ones(K, bool)), 32, margin=0)


@pytest.mark.parametrize("border", ["replicate", "constant"])
def test_rgba_warp_equals_plain_warp(border):
    """``_warp_image`` warps 3-channel images through RGBA for speed: same bytes as one warpAffine."""
    import cv2

    from synth.data.crop import _BORDERS, _warp_image

    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    for _ in range(20):
        t, s = rng.uniform(-np.pi, np.pi), rng.uniform(0.5, 2.0)
        A = np.array([[s * np.cos(t), -s * np.sin(t), rng.uniform(-20, 40)],
                      [s * np.sin(t), s * np.cos(t), rng.uniform(-20, 40)]])
        ref = cv2.warpAffine(img, A, (41, 29), flags=cv2.INTER_LINEAR, borderMode=_BORDERS[border],
                             borderValue=(10, 200, 30))
        np.testing.assert_array_equal(_warp_image(img, A, (41, 29), _BORDERS[border], (10, 200, 30)), ref)
