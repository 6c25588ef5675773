"""Augmentation: flip involution and pose rule, affine point/content agreement, roll sign, occlusion, pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.data.augment import (_GREY_PROJ, _LUMA, _YIQ, _YIQ_INV, Augment, AugmentConfig, ColorJitter, CropAugment,
                                RandomErasing, build_augment, color_matrix, flip_rotation, hflip,
                                rotate_scale_translate)
from synth.data.crop import face_crop
from synth.data.record import FaceSample
from synth.geometry import euler_to_matrix, matrix_to_euler
from synth.landmarks import FLIP_PERMUTATION, landmark_index

K = 68
angles = st.tuples(st.floats(-89, 89), st.floats(-80, 80), st.floats(-170, 170))


def _sample(seed=0, h=48, w=64, euler=(30.0, -10.0, 12.0), euler_valid=(True, True, True)) -> FaceSample:
    rng = np.random.default_rng(seed)
    lmk = np.column_stack([rng.uniform(0, w - 1, K), rng.uniform(0, h - 1, K)]).astype(np.float32)
    valid = rng.random(K) < 0.9
    ev = np.array(euler_valid)
    return FaceSample(
        image=rng.integers(0, 256, (h, w, 3), dtype=np.uint8), landmarks=lmk, landmark_valid=valid,
        visible=rng.random(K) < 0.7, visible_valid=rng.random(K) < 0.8,
        euler_deg=np.array(euler, np.float32), euler_valid=ev,
        rotation=euler_to_matrix(*euler).astype(np.float32), rotation_valid=bool(ev.all()),
        bbox=np.array([3, 4, 40, 30], np.float32), bbox_valid=True, source="t", name=str(seed),
    )


def _assert_same(a: FaceSample, b: FaceSample, atol=1e-4):
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_allclose(a.landmarks, b.landmarks, atol=atol)
    for f in ("landmark_valid", "visible", "visible_valid", "euler_valid"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    np.testing.assert_allclose(a.euler_deg, b.euler_deg, atol=atol)
    np.testing.assert_allclose(a.rotation, b.rotation, atol=atol)
    np.testing.assert_allclose(a.bbox, b.bbox, atol=atol)


# ----------------------------------------------------------------------------- flip

@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(8, 40), st.integers(8, 40), angles)
def test_flip_twice_is_identity(seed, h, w, euler):
    s = _sample(seed, h, w, euler)
    _assert_same(hflip(hflip(s)), s)


@settings(max_examples=50, deadline=None)
@given(angles)
def test_flip_rotation_m_r_m_equals_negated_yaw_and_roll(euler):
    y, p, r = euler
    np.testing.assert_allclose(flip_rotation(euler_to_matrix(y, p, r)), euler_to_matrix(-y, p, -r), atol=1e-6)
    s = hflip(_sample(euler=euler))
    np.testing.assert_allclose(euler_to_matrix(*s.euler_deg), s.rotation, atol=1e-5)


def test_flip_labels():
    s = _sample()
    f = hflip(s)
    i, j = landmark_index("r_eye_outer"), landmark_index("l_eye_outer")
    assert FLIP_PERMUTATION[i] == j
    if s.landmark_valid[j]:
        np.testing.assert_allclose(f.landmarks[i], (s.image.shape[1] - 1 - s.landmarks[j][0], s.landmarks[j][1]))
    assert f.visible[i] == s.visible[j] and f.visible_valid[i] == s.visible_valid[j]
    np.testing.assert_allclose(f.euler_deg, (-30, -10, -12))
    np.testing.assert_allclose(f.bbox, (64 - 1 - 40, 4, 64 - 1 - 3, 30))
    # yaw-only labels: yaw negated, the rest stays unknown
    g = hflip(_sample(euler=(25, 0, 0), euler_valid=(True, False, False)))
    np.testing.assert_allclose(g.euler_deg, (-25, 0, 0))
    assert not g.rotation_valid


# ----------------------------------------------------------------------------- affine

def _dots_sample(seed: int, size: int = 96) -> tuple[FaceSample, np.ndarray]:
    """Grey image with 9 well-separated dots of distinct colours at 9 valid landmarks."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 128, np.uint8)
    grid = np.array([(x, y) for y in (28, 48, 68) for x in (28, 48, 68)], np.float64) + rng.uniform(-3, 3, (9, 2))
    colours = np.array([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255), (0, 255, 255),
                        (255, 255, 255), (0, 0, 0), (255, 128, 0)], np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    for (x, y), c in zip(grid, colours):
        img[(xx - x) ** 2 + (yy - y) ** 2 <= 4.0**2] = c
    lmk = np.zeros((K, 2), np.float32)
    lmk[:9] = grid
    valid = np.zeros(K, bool)
    valid[:9] = True
    s = FaceSample(image=img, landmarks=lmk, landmark_valid=valid, visible=valid.copy(), visible_valid=valid.copy())
    return s, colours


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 1000), st.floats(-45, 45), st.floats(0.8, 1.25), st.floats(-5, 5), st.floats(-5, 5),
       st.booleans())
def test_affine_landmarks_stay_on_their_content(seed, angle, scale, tx, ty, flip):
    s, colours = _dots_sample(seed)
    out = rotate_scale_translate(s, angle, scale, (tx, ty))
    if flip:
        out = hflip(out)
    # after a flip, point i holds the label of its mirror partner: colour FLIP_PERMUTATION[i]
    # only for indices < 9 whose partners are also < 9; so compare through the permutation
    perm = FLIP_PERMUTATION if flip else np.arange(K)
    for i in range(K):
        if not out.landmark_valid[i]:
            continue
        x, y = np.rint(out.landmarks[i]).astype(int)
        src = perm[i]
        np.testing.assert_array_equal(out.image[y, x], colours[src], err_msg=f"landmark {i}")


@settings(max_examples=40, deadline=None)
@given(angles, st.floats(-60, 60), st.floats(0.7, 1.3), st.floats(-6, 6), st.floats(-6, 6))
def test_rotation_label_matches_reprojection(euler, theta, scale, tx, ty):
    """Project model points orthographically with R; rotate the image; the new R reprojects the moved points."""
    rng = np.random.default_rng(0)
    model = rng.normal(0, 1, (K, 3))
    size, f = 100, 12.0
    c = (size - 1) / 2

    def project(R):
        p = model @ np.asarray(R, np.float64).T
        return np.column_stack([c + f * p[:, 0], c - f * p[:, 1]])  # v down: y flipped

    R = euler_to_matrix(*euler)
    s = FaceSample(image=np.zeros((size, size, 3), np.uint8), landmarks=project(R), landmark_valid=np.ones(K, bool),
                   euler_deg=np.array(euler, np.float32), euler_valid=np.ones(3, bool),
                   rotation=R.astype(np.float32), rotation_valid=True)
    out = rotate_scale_translate(s, theta, scale, (tx, ty))
    p = model @ out.rotation.astype(np.float64).T
    expected = np.column_stack([c + tx + scale * f * p[:, 0], c + ty - scale * f * p[:, 1]])
    np.testing.assert_allclose(out.landmarks, expected, atol=2e-3)
    np.testing.assert_allclose(euler_to_matrix(*out.euler_deg), out.rotation, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.floats(-80, 80), st.floats(-60, 60))
def test_clockwise_image_rotation_adds_to_roll_for_a_frontal_face(roll, theta):
    s = FaceSample(image=np.zeros((20, 20, 3), np.uint8), euler_deg=np.array([0, 0, roll], np.float32),
                   euler_valid=np.ones(3, bool), rotation=euler_to_matrix(0, 0, roll).astype(np.float32),
                   rotation_valid=True)
    out = rotate_scale_translate(s, theta, 1.0)
    np.testing.assert_allclose(out.euler_deg, (0, 0, roll + theta), atol=1e-3)
    # the head's up vector (model +y) turns toward image-right for theta > 0
    up_img = np.array([out.rotation[0, 1], -out.rotation[1, 1]])  # image axes (x right, y down)
    ref = np.array([s.rotation[0, 1], -s.rotation[1, 1]])
    cross = ref[0] * up_img[1] - ref[1] * up_img[0]  # > 0: clockwise on screen (y down)
    assert np.sign(cross) == np.sign(theta) or abs(theta) < 1e-3  # float32 rotations: tiny angles round away


def test_partial_pose_policies():
    s = _sample(euler=(35, 0, 0), euler_valid=(True, False, False))
    out = rotate_scale_translate(s, 20, 1.0)  # default: no rotation for a partial pose
    np.testing.assert_array_equal(out.image, s.image)
    np.testing.assert_array_equal(out.euler_valid, s.euler_valid)
    keep = rotate_scale_translate(s, 20, 1.0, partial_pose="keep_yaw")
    assert keep.euler_deg[0] == 35 and keep.euler_valid.tolist() == [True, False, False]
    assert not np.array_equal(keep.image, s.image)
    drop = rotate_scale_translate(s, 20, 1.0, partial_pose="drop")
    assert not drop.euler_valid.any()
    # why yaw alone is not enough: the same yaw, different pitch, different yaw' after rotation
    y1 = matrix_to_euler(euler_to_matrix(0, 0, 20) @ euler_to_matrix(35, 0, 0))[0]
    y2 = matrix_to_euler(euler_to_matrix(0, 0, 20) @ euler_to_matrix(35, 30, 0))[0]
    assert abs(y1 - y2) > 5


def test_landmarks_pushed_out_become_not_visible():
    s = _sample()
    out = rotate_scale_translate(s, 0, 1.0, (30, 0))
    inside = (out.landmarks[:, 0] < s.image.shape[1] - 0.5)
    np.testing.assert_array_equal(out.visible, s.visible & (inside | ~s.landmark_valid))
    np.testing.assert_array_equal(out.visible_valid, s.visible_valid)


# ----------------------------------------------------------------------------- photometric, erasing

def test_erasing_clears_visibility_under_the_patch():
    s = _sample(3)
    s = s.with_(visible=np.ones(K, bool))
    for seed in range(10):
        out = RandomErasing(p=1.0, area_frac=(0.2, 0.3))(s, np.random.default_rng(seed))
        changed = np.any(out.image != s.image, axis=2)
        ys, xs = np.nonzero(changed)
        x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
        p = s.landmarks
        under = (p[:, 0] >= x0 - 0.5) & (p[:, 0] < x1 + 0.5) & (p[:, 1] >= y0 - 0.5) & (p[:, 1] < y1 + 0.5)
        np.testing.assert_array_equal(out.visible, ~(under & s.landmark_valid))
        np.testing.assert_array_equal(out.visible_valid, s.visible_valid)


def test_color_jitter_identity_and_grey_axis():
    s = _sample()
    same = ColorJitter(p=1.0, brightness=0, contrast=0, saturation=0, hue_deg=0)(s, np.random.default_rng(0))
    np.testing.assert_array_equal(same.image, s.image)
    grey = s.with_(image=np.full((8, 8, 3), 100, np.uint8))
    hue_only = ColorJitter(p=1.0, brightness=0, contrast=0, saturation=0, hue_deg=30)(grey, np.random.default_rng(0))
    assert np.abs(hue_only.image.astype(int) - 100).max() <= 1  # a hue turn keeps greys grey


def test_pipeline_deterministic_and_all_ops_run():
    cfg = AugmentConfig(flip_p=1, affine_p=1, color_p=1, blur_p=1, noise_p=1, jpeg_p=1, erase_p=1)
    pipe = build_augment(cfg)
    assert len(pipe.ops) == 7
    s = _sample(1, 64, 64)
    a = pipe(s, np.random.default_rng(7))
    b = pipe(s, np.random.default_rng(7))
    _assert_same(a, b)
    assert a.image.shape == s.image.shape and a.image.dtype == np.uint8
    assert len(build_augment(AugmentConfig(blur_p=0, noise_p=0)).ops) == 5
    aug = Augment(cfg, seed=1)
    out = aug(s)
    assert out.image.shape == s.image.shape
    with pytest.raises(ValueError, match="flip_p"):
        AugmentConfig(flip_p=1.5)
    with pytest.raises(ValueError, match="partial_pose"):
        AugmentConfig(partial_pose="guess")


def _color_matrix_step_by_step(rng, mean_rgb, brightness, contrast, saturation, hue_deg):
    """``color_matrix``'s definition written out: each step x -> T x + o applied to (M, b) in turn."""
    M, b = np.eye(3), np.zeros(3)
    u = rng.random(8)  # step order: argsort of u[:4]; step k's factor from u[4 + k]
    for k in np.argsort(u[:4], kind="stable"):
        T, o = np.eye(3), np.zeros(3)
        lerp = lambda lo, hi: lo + (hi - lo) * u[4 + k]  # noqa: E731
        if k == 0 and brightness > 0:
            T = lerp(1 - brightness, 1 + brightness) * np.eye(3)
        elif k == 1 and contrast > 0:
            f = lerp(1 - contrast, 1 + contrast)
            T, o = f * np.eye(3), np.full(3, (1 - f) * (_LUMA @ (M @ mean_rgb + b)))
        elif k == 2 and saturation > 0:
            f = lerp(1 - saturation, 1 + saturation)
            T = f * np.eye(3) + (1 - f) * _GREY_PROJ
        elif k == 3 and hue_deg > 0:
            a = np.deg2rad(lerp(-hue_deg, hue_deg))
            T = _YIQ_INV @ np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]]) @ _YIQ
        M, b = T @ M, T @ b + o
    return np.hstack([M, b[:, None]])


@pytest.mark.parametrize("seed", range(20))
def test_color_matrix_composes_its_steps(seed):
    mean = np.random.default_rng(seed).uniform(0, 255, 3)
    for params in ((0.3, 0.3, 0.3, 10.0), (0.0, 0.5, 0.2, 30.0), (0.2, 0.0, 0.0, 0.0)):
        np.testing.assert_allclose(color_matrix(np.random.default_rng(seed), mean, *params),
                                   _color_matrix_step_by_step(np.random.default_rng(seed), mean, *params), atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_fused_flip_mirrors_the_warped_image(seed):
    """The flip inside ``CropAugment``'s one warp is the warped image mirrored (to the warp's
    fixed-point rounding); ``flip_p`` = 1e-300 draws the same numbers but never flips."""
    s = _sample(seed, 120, 140)
    s = s.with_(landmarks=s.landmarks * 0.4 + 40)
    cfgs = [AugmentConfig(affine_p=1.0, flip_p=p, color_p=0, blur_p=0, noise_p=0, jpeg_p=0, erase_p=0) for p in (1.0, 1e-300)]
    flipped, kept = (CropAugment(64, cfg)(s, np.random.default_rng(seed)) for cfg in cfgs)
    _assert_same(flipped.with_(image=kept.image[:, ::-1]), hflip(kept))
    assert np.abs(flipped.image.astype(int) - kept.image[:, ::-1].astype(int)).max() <= 2


@pytest.mark.parametrize("seed", range(6))
def test_fused_crop_augment_equals_crop_then_augment(seed):
    s = _sample(seed, 120, 140)
    s = s.with_(landmarks=s.landmarks * 0.4 + 40)  # a face in the middle of the photo
    cfg = AugmentConfig(affine_p=1.0, flip_p=0.5, color_p=0, blur_p=0, noise_p=0, jpeg_p=0, erase_p=0)
    fused = CropAugment(64, cfg, crop_jitter=((0.9, 1.1), 0.05))(s, np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    two = build_augment(cfg)(face_crop(s, 64, jitter=(rng, (0.9, 1.1), 0.05)), rng)
    np.testing.assert_allclose(fused.landmarks, two.landmarks, atol=1e-3)
    np.testing.assert_allclose(fused.rotation, two.rotation, atol=1e-5)
    np.testing.assert_allclose(fused.euler_deg, two.euler_deg, atol=1e-3)
    np.testing.assert_array_equal(fused.visible, two.visible)
    np.testing.assert_allclose(fused.bbox, two.bbox, atol=0.5)  # corners of a rotated box differ
    # one interpolation vs two on a noise image: same content, smaller blur
    assert np.abs(fused.image.astype(int) - two.image.astype(int)).mean() < 40


# ----------------------------------------------------------------------------- against the renderer

def test_flip_label_matches_mirrored_rendering():
    pytest.importorskip("synth.default_model")
    from synth.gen_config import resolve_config
    from synth.sample import SampleMaker

    def render(yaw, roll):
        cfg = resolve_config(overrides=[
            "crop.image_size=64", "crop.shift_frac=0", "camera.offset_frac=0",
            f"pose.yaw={{kind: uniform, low: {yaw}, high: {yaw}}}",
            "pose.pitch={kind: uniform, low: 0, high: 0}",
            f"pose.roll={{kind: uniform, low: {roll}, high: {roll}}}",
            "shape.p_neutral=1", "shape.p_asymmetric=0", "shape.p_eyes_closed=0", "shape.p_eyes_half=0",
            "shape.p_wink=0", "shape.p_mouth_open=0",
        ])
        return SampleMaker(cfg)(0)

    a, b = render(30, 10), render(-30, -10)
    s = FaceSample(image=a["image"], landmarks=a["lmk2d"], landmark_valid=np.ones(K, bool),
                   euler_deg=a["euler_deg"], euler_valid=np.ones(3, bool), rotation=a["rotation"], rotation_valid=True)
    f = hflip(s)
    np.testing.assert_allclose(f.euler_deg, b["euler_deg"], atol=1e-3)
    np.testing.assert_allclose(f.rotation, b["rotation"], atol=1e-5)
    # landmarks agree up to the head's own left/right asymmetry (and crop scale jitter): loose
    err = np.linalg.norm(f.landmarks - b["lmk2d"], axis=1)
    assert np.median(err) < 1.0 and err.max() < 0.1 * 64  # the built-in head: ~1e-5 px (symmetric)


# ----------------------------------------------------------------------------- fast copy path

@pytest.mark.parametrize("seed", range(4))
def test_ops_keep_the_record_invariants_without_post_init(seed):
    """The ops build their outputs with ``FaceSample._evolve`` (no ``__post_init__``): re-running
    the checked constructor on every output must change nothing (invalid rows already 0)."""
    cfg = AugmentConfig(flip_p=1, affine_p=1, color_p=1, blur_p=1, noise_p=1, jpeg_p=1, erase_p=1,
                        partial_pose="drop")
    rng = np.random.default_rng(seed)
    for euler_valid in ((True, True, True), (True, False, False)):
        s = _sample(seed, 64, 64, euler_valid=euler_valid)
        outs = [s]
        for op in build_augment(cfg).ops:
            outs.append(op(outs[-1], rng))
        outs.append(CropAugment(48, cfg)(s, rng))
        outs.append(face_crop(s, 32, jitter=(rng, (0.9, 1.1), 0.05)))
        for out in outs:
            checked = out.with_()
            np.testing.assert_array_equal(out.landmarks, checked.landmarks)
            np.testing.assert_array_equal(out.euler_deg, checked.euler_deg)
            assert out.landmarks.dtype == np.float32 and out.euler_deg.dtype == np.float32
            assert out.image.dtype == np.uint8 and out.image.ndim == 3 and out.image.shape[2] == 3


def test_evolve_rejects_unknown_fields():
    with pytest.raises(TypeError, match="no field"):
        _sample()._evolve(landmark=np.zeros((K, 2), np.float32))
