"""Occluders: every kind's layer contract, compositing maths, which landmarks count as occluded."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from synth.errors import UserError
from synth.scene.compose import Window, over
from synth.landmarks import NUM_LANDMARKS, group_indices
from synth.scene.occluders import (OCCLUDER_KINDS, Occluder, OccluderConfig, RGBAFolder, apply_occluders,
                                   occluded_landmarks, sample_occluders)

EYES = group_indices("right_eye", "left_eye")


def template_68() -> tuple[np.ndarray, np.ndarray]:
    """A frontal unit face: (68, 2) points (brows y ~ -0.4, chin y = 0.6, x to the image's right)
    and (68,) pseudo depth (toward the camera), built group by group in iBUG order."""
    p, z = np.zeros((NUM_LANDMARKS, 2)), np.zeros(NUM_LANDMARKS)
    phi = np.pi - np.linspace(0, np.pi, 17)  # jaw_00 on the image's left, through the chin
    jaw = group_indices("jaw")
    p[jaw] = np.stack([0.45 * np.cos(phi), -0.25 + 0.85 * np.sin(phi)], -1)
    z[jaw] = -0.3 * np.abs(np.cos(phi))
    t = np.linspace(0, 1, 5)
    p[group_indices("right_brow")] = np.stack([-0.38 + 0.3 * t, -0.4 - 0.05 * np.sin(np.pi * t)], -1)
    p[group_indices("left_brow")] = np.stack([0.08 + 0.3 * t, -0.4 - 0.05 * np.sin(np.pi * t)], -1)
    nose = group_indices("nose")  # bridge (4, top -> tip), then nostrils (5, image left -> right)
    p[nose[:4]] = np.stack([np.zeros(4), np.linspace(-0.25, 0.05, 4)], -1)
    z[nose[:4]] = np.linspace(0.05, 0.2, 4)
    p[nose[4:]] = np.stack([np.linspace(-0.09, 0.09, 5), 0.1 + 0.02 * np.sin(np.pi * t)], -1)
    z[nose[4:]] = 0.1
    a = np.pi + np.arange(6) * np.pi / 3  # from the image-left corner, over the top
    for g, cx in (("right_eye", -0.2), ("left_eye", 0.2)):
        p[group_indices(g)] = np.stack([cx + 0.1 * np.cos(a), -0.25 + 0.04 * np.sin(a)], -1)
    for g, n, rx, ry in (("outer_lip", 12, 0.17, 0.07), ("inner_lip", 8, 0.136, 0.025)):
        a = np.pi + np.arange(n) * 2 * np.pi / n
        p[group_indices(g)] = np.stack([rx * np.cos(a), 0.32 + ry * np.sin(a)], -1)
    return p, z


def synthetic_face(rng: np.random.Generator, hw: tuple[int, int], height_frac=(0.3, 0.5), roll_deg=20.0,
                   yaw_deg=45.0):
    """Random face in an (H, W) image: (68, 2) float32 landmarks px, (4,) float32 bbox, and the
    (centre, axes, angle_deg) of an ellipse to draw as the 'face'."""
    h, w = hw
    p, z = template_68()
    yaw = np.radians(rng.uniform(-yaw_deg, yaw_deg))
    q = np.stack([p[:, 0] * np.cos(yaw) + z * np.sin(yaw), p[:, 1]], -1)
    r = np.radians(rng.normal(0, roll_deg / 2))
    rot = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])
    s = rng.uniform(*height_frac) * min(h, w)
    c = np.array([w, h]) / 2 + rng.uniform(-0.1, 0.1, 2) * (w, h)
    lmk = (c + s * q @ rot.T).astype(np.float32)
    bbox = np.array([*lmk.min(0), *lmk.max(0)], np.float32)
    bbox[1] -= 0.3 * (bbox[3] - bbox[1])
    ellipse = (c + s * np.array([0.0, -0.1]) @ rot.T, (s * 0.5 * max(np.cos(yaw), 0.6), s * 0.74), np.degrees(r))
    return lmk, bbox, ellipse


def only(kind: str, **kw) -> OccluderConfig:
    return OccluderConfig(**{f"p_{k}": float(k == kind) for k in OCCLUDER_KINDS}, **kw)


@pytest.fixture(scope="module")
def rgba_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("rgba")
    img = np.zeros((60, 40, 4), np.uint8)
    img[..., :3] = (30, 90, 200)  # BGR on disk
    img[..., 3] = 128  # half transparent everywhere
    cv2.imwrite(str(d / "half.png"), img)
    return d


@pytest.mark.parametrize("kind", OCCLUDER_KINDS)
def test_each_kind_layer_contract_and_determinism(kind, rgba_dir):
    hw = (96, 112)
    folder = RGBAFolder(rgba_dir)
    for seed in range(4):
        lmk, bbox, _ = synthetic_face(np.random.default_rng(seed), hw)
        a = sample_occluders(np.random.default_rng(seed), hw, lmk, bbox, only(kind), rgba_index=folder)
        b = sample_occluders(np.random.default_rng(seed), hw, lmk, bbox, only(kind), rgba_index=folder)
        assert [o.kind for o in a] == [kind]
        oc = a[0]
        by0, by1, bx0, bx1 = oc.box  # the layer's box lies in the image, its arrays fill it
        assert 0 <= by0 < by1 <= hw[0] and 0 <= bx0 < bx1 <= hw[1]
        assert oc.rgb.shape == (by1 - by0, bx1 - bx0, 3) and oc.rgb.dtype == np.uint8
        assert oc.alpha.shape == (by1 - by0, bx1 - bx0) and oc.alpha.dtype == np.float32
        assert 0.0 <= oc.alpha.min() and oc.alpha.max() <= 1.0
        assert oc.box == b[0].box
        assert oc.rgb.tobytes() == b[0].rgb.tobytes() and oc.alpha.tobytes() == b[0].alpha.tobytes()
        rgb, alpha = oc.full(hw)
        assert rgb.shape == (*hw, 3) and alpha.shape == hw
        x0, y0, x1, y1 = np.round(bbox).astype(int)
        on_face = alpha[max(0, y0):y1 + 1, max(0, x0):x1 + 1]
        assert (on_face > 0.3).mean() > 0.01, f"{kind} does not cover the face"


@pytest.mark.parametrize("kind", OCCLUDER_KINDS)
def test_a_layer_drawn_in_its_window_is_the_layer_drawn_over_the_whole_image(kind, rgba_dir, monkeypatch):
    """Windows are only a saving: the same draws over the full frame give the same layer
    (up to the wide blurs' resampling grid, which moves with the window's origin)."""
    hw = (160, 144)
    folder = RGBAFolder(rgba_dir)
    cfg = only(kind, p_defocus=0.5)
    faces = [synthetic_face(np.random.default_rng(seed), hw) for seed in range(6)]
    windowed = [sample_occluders(np.random.default_rng(s), hw, f[0], f[1], cfg, rgba_index=folder)[0].full(hw)
                for s, f in enumerate(faces)]
    asked = []
    monkeypatch.setattr(Window, "around", classmethod(lambda cls, hw_, *a, **k: asked.append(hw_) or cls.full(hw_)))
    for s, (lmk, bbox, _) in enumerate(faces):
        oc = sample_occluders(np.random.default_rng(s), hw, lmk, bbox, cfg, rgba_index=folder)[0]
        assert asked, "the drawer chose no window"
        (rgb_w, a_w), (rgb_f, a_f) = windowed[s], oc.full(hw)
        assert np.abs(a_w - a_f).max() < 0.01, f"{kind}, face {s}: opacity differs"
        premul_w, premul_f = rgb_w * a_w[..., None], rgb_f * a_f[..., None]
        assert np.abs(premul_w - premul_f).max() < 2.0, f"{kind}, face {s}: colour differs"
        assert np.abs(premul_w - premul_f).mean() < 0.01


def test_layers_come_back_to_front_and_glasses_yield_to_sunglasses():
    hw = (64, 64)
    lmk, bbox, _ = synthetic_face(np.random.default_rng(0), hw)
    cfg = OccluderConfig(**{f"p_{k}": 1.0 for k in OCCLUDER_KINDS})  # rgba has no folder: skipped
    kinds = [o.kind for o in sample_occluders(np.random.default_rng(0), hw, lmk, bbox, cfg)]
    assert kinds == [k for k in OCCLUDER_KINDS if k not in ("glasses", "rgba")]


def test_apply_occluders_is_source_over_and_coverage_is_the_union():
    hw = (4, 5)
    image = np.full((*hw, 3), 100, np.uint8)
    a1 = np.zeros(hw, np.float32)
    a1[:, :3] = 0.5
    a2 = np.zeros(hw, np.float32)
    a2[:, 2:] = 1.0
    l1 = Occluder("object", np.full((*hw, 3), 200, np.uint8), a1)
    l2 = Occluder("hand", np.full((4, 3, 3), 0, np.uint8), a2[:, 2:].copy(), box=(0, 4, 2, 5))
    out, cov = apply_occluders(image, [l1, l2])
    assert out.dtype == np.uint8 and cov.dtype == np.float32
    np.testing.assert_array_equal(out[:, :2], 150)  # 100 + 0.5 * (200 - 100)
    np.testing.assert_array_equal(out[:, 2:], 0)  # opaque black on top
    np.testing.assert_allclose(cov, 1 - (1 - a1) * (1 - a2))
    same, none = apply_occluders(image, [])
    assert np.array_equal(same, image) and same is not image and none.max() == 0
    off_image = Occluder("cap", np.zeros((0, 0, 3), np.uint8), np.zeros((0, 0), np.float32), box=(2, 2, 3, 3))
    same, none = apply_occluders(image, [off_image])
    assert np.array_equal(same, image) and none.max() == 0
    with pytest.raises(ValueError, match="hand.*not inside"):
        apply_occluders(image, [Occluder("hand", l2.rgb, l2.alpha, box=(1, 5, 2, 5))])


def test_over_blends_straight_colour_by_alpha():
    dst = np.array([[[0, 100, 200], [10, 10, 10]]], np.uint8)
    src = np.array([[[255, 0, 100], [250, 250, 250]]], np.uint8)
    out = over(dst, src, np.array([[0.25, 1.0]], np.float32))
    np.testing.assert_array_equal(out, [[[64, 75, 175], [250, 250, 250]]])


def test_occluded_landmarks_marks_exactly_the_points_on_opaque_pixels():
    hw = (20, 30)
    alpha = np.zeros(hw, np.float32)
    alpha[5:10, 10:20] = 1.0  # opaque rectangle: columns 10-19, rows 5-9
    alpha[15, 3] = 0.49  # just below the threshold
    lmk = np.full((NUM_LANDMARKS, 2), 2.0)  # default: a transparent pixel
    expect = np.zeros(NUM_LANDMARKS, bool)
    cases = {
        0: ((12.0, 7.0), True),
        1: ((9.6, 5.0), True),  # rounds to column 10
        2: ((9.4, 5.0), False),  # rounds to column 9
        3: ((19.49, 9.49), True),  # corner pixel (19, 9)
        4: ((19.5, 7.0), False),  # rounds to column 20, outside
        5: ((3.0, 15.0), False),  # alpha 0.49 < 0.5
        6: ((-0.6, 7.0), False),  # outside the image
        7: ((15.0, 25.0), False),  # below the image
        8: ((np.nan, 7.0), False),
    }
    for i, (xy, hidden) in cases.items():
        lmk[i] = xy
        expect[i] = hidden
    got = occluded_landmarks(lmk, alpha)
    assert got.dtype == bool and got.shape == (NUM_LANDMARKS,)
    np.testing.assert_array_equal(got, expect)
    assert occluded_landmarks(lmk, alpha, threshold=0.4)[5]


def test_landmarks_under_a_sampled_hand_agree_with_its_alpha():
    hw = (128, 128)
    for seed in range(5):
        lmk, bbox, _ = synthetic_face(np.random.default_rng(seed), hw)
        occ = sample_occluders(np.random.default_rng(seed), hw, lmk, bbox, only("hand", p_defocus=0.0))
        _, cov = apply_occluders(np.zeros((*hw, 3), np.uint8), occ)
        hidden = occluded_landmarks(lmk, cov)
        ij = np.floor(lmk + 0.5).astype(int)
        np.testing.assert_array_equal(hidden, cov[ij[:, 1], ij[:, 0]] >= 0.5)


@pytest.mark.parametrize("sun", [False, True])
def test_clear_glasses_leave_eyes_visible_sunglasses_hide_them(sun):
    kind = "sunglasses" if sun else "glasses"
    for seed in range(25):
        rng = np.random.default_rng(seed)
        hw = (int(rng.integers(64, 200)),) * 2
        lmk, bbox, _ = synthetic_face(rng, hw, yaw_deg=60.0)
        occ = sample_occluders(rng, hw, lmk, bbox, only(kind))
        _, cov = apply_occluders(np.zeros((*hw, 3), np.uint8), occ)
        eyes_hidden = occluded_landmarks(lmk, cov)[EYES]
        assert eyes_hidden.all() if sun else not eyes_hidden.any(), f"seed {seed}"


def test_rgba_folder_alpha_is_respected_and_colour_is_rgb(rgba_dir):
    hw = (80, 80)
    lmk, bbox, _ = synthetic_face(np.random.default_rng(1), hw)
    [oc] = sample_occluders(np.random.default_rng(1), hw, lmk, bbox, only("rgba", p_defocus=0.0),
                            rgba_index=RGBAFolder(rgba_dir))
    assert 0.45 < oc.alpha.max() < 0.55  # the image's alpha is 128/255 everywhere
    inside = oc.alpha > 0.45
    np.testing.assert_allclose(oc.rgb[inside].mean(0), (200, 90, 30), atol=3)  # BGR on disk -> RGB
    # rgba is skipped without a folder, and read from the config's folder when given.
    assert sample_occluders(np.random.default_rng(1), hw, lmk, bbox, only("rgba")) == []
    cfg = only("rgba", rgba_folder=rgba_dir)
    assert [o.kind for o in sample_occluders(np.random.default_rng(1), hw, lmk, bbox, cfg)] == ["rgba"]


def test_rgba_folder_errors_name_the_path(tmp_path):
    with pytest.raises(UserError, match=str(tmp_path)):
        RGBAFolder(tmp_path)  # empty
    (tmp_path / "x.png").write_bytes(b"\x89PNG garbage")
    hw = (48, 48)
    lmk, bbox, _ = synthetic_face(np.random.default_rng(0), hw)
    with pytest.raises(UserError, match="x.png"):
        sample_occluders(np.random.default_rng(0), hw, lmk, bbox, only("rgba"), rgba_index=RGBAFolder(tmp_path))


def test_p_hand_out_of_range_is_a_user_error_naming_the_field():
    with pytest.raises(UserError, match=r"p_hand = 1\.5.*\[0, 1\]") as e:
        OccluderConfig(p_hand=1.5)
    assert "\n" not in str(e.value)
    with pytest.raises(UserError, match="rgba_scale"):
        OccluderConfig(rgba_scale=(0.9, 0.3))
    assert OccluderConfig(rgba_scale=[0.2, 0.5]).rgba_scale == (0.2, 0.5)


def test_defaults_give_about_forty_percent_of_images_an_occluder():
    cfg = OccluderConfig()
    assert 0.35 <= cfg.p_any() <= 0.45
    hw = (40, 40)
    lmk, bbox, _ = synthetic_face(np.random.default_rng(0), hw)
    rng = np.random.default_rng(123)
    n = 300
    hits = sum(bool(sample_occluders(rng, hw, lmk, bbox, cfg)) for _ in range(n))
    assert abs(hits / n - cfg.p_any()) < 0.08


def test_bad_landmarks_and_bbox_raise_with_shapes():
    with pytest.raises(ValueError, match=r"\(68, 2\)"):
        sample_occluders(np.random.default_rng(0), (32, 32), np.zeros((5, 2)), np.zeros(4), OccluderConfig())
    with pytest.raises(ValueError, match="face_bbox"):
        sample_occluders(np.random.default_rng(0), (32, 32), np.zeros((68, 2)), np.array([5, 5, 1, 1]),
                         OccluderConfig())


def test_speed_sanity_printed():
    cv2.setNumThreads(1)
    for s in (128, 256):
        lmk, bbox, _ = synthetic_face(np.random.default_rng(0), (s, s))
        for kind in OCCLUDER_KINDS[:-1]:
            rng = np.random.default_rng(0)
            t = time.perf_counter()
            for _ in range(5):
                sample_occluders(rng, (s, s), lmk, bbox, only(kind))
            print(f"{kind} {s}px: {(time.perf_counter() - t) / 5 * 1e3:.2f} ms", end="; ")
        print()


def test_roundness_darkens_a_shape_evenly_toward_its_edge_wherever_its_window_lies():
    from synth.scene.occluders._draw import roundness

    hw = (64, 64)
    yy, xx = np.mgrid[0:64, 0:64]
    disc = (np.hypot(yy - 31.5, xx - 31.5) <= 14.0).astype(np.float32)  # symmetric under flips
    full = roundness(Window.full(hw), disc, 12.0, dark=0.6)
    inside = disc > 0
    assert full[32, 32] > 0.9 and full[inside].min() < 0.75  # bright deep inside, dark at the rim
    np.testing.assert_allclose(full, full[::-1, ::-1], atol=1e-3)  # the same fall-off on every side
    win = Window(hw, 16, 50, 18, 47)  # tighter than the blur's reach on every side
    np.testing.assert_allclose(roundness(win, disc[16:50, 18:47], 12.0, dark=0.6)[disc[16:50, 18:47] > 0],
                               full[16:50, 18:47][disc[16:50, 18:47] > 0], atol=1e-3)


def test_masks_are_drawn_in_window_pixels_and_nothing_draws_nothing():
    from synth.scene.compose import line_mask, poly_mask

    win = Window((40, 50), 10, 30, 20, 45)  # rows 10-29, columns 20-44 of a 40 x 50 image
    square = np.array([(24.0, 14.0), (29.0, 14.0), (29.0, 19.0), (24.0, 19.0)])  # image px
    full = poly_mask(Window.full((40, 50)), [square])
    part = poly_mask(win, [square, square + 10.0])
    assert part.shape == win.shape
    np.testing.assert_array_equal(part[:10, :10], full[10:20, 20:30])  # the same pixels, shifted
    assert part[14, 14] == 1.0  # the second square, (34, 24) -> window (14, 14)
    lines = line_mask(win, [square, square + 10.0], 1.0)  # a list, converted in one go, then split
    np.testing.assert_array_equal(lines, line_mask(win, np.stack([square, square + 10.0]), 1.0))
    assert lines[4, 4] > 0 and lines[14, 14] > 0 and lines[2, 2] == 0
    assert line_mask(win, [], 2.0).max() == 0 and poly_mask(win, []).max() == 0
