"""Labels checked against the pixels of the rendered samples (the generator's contract).

Run on the real ICT-FaceKit head (skipped with a reason where ../shared lacks it) and on
the built-in head.
"""

from __future__ import annotations

import numpy as np
import pytest

from synth.gen_config import resolve_config
from synth.landmarks import group_indices, landmark_index
from synth.sample import MASK_BACKGROUND, MASK_OCCLUDER, SampleMaker

NOSE_TIP = landmark_index("nose_bridge_3")
R_EYE, L_EYE = group_indices("right_eye"), group_indices("left_eye")
JAW_R, JAW_L = np.arange(0, 8), np.arange(9, 17)

# No occluders, degradations or crop jitter unless a test asks: the pixels are the head.
CLEAN = [
    "occluders.p_hand=0", "occluders.p_mask=0", "occluders.p_glasses=0", "occluders.p_sunglasses=0",
    "occluders.p_hair=0", "occluders.p_cap=0", "occluders.p_object=0", "occluders.p_rgba=0",
    "degrade.p_gaussian_blur=0", "degrade.p_motion_blur=0", "degrade.p_noise=0", "degrade.p_jpeg=0",
    "degrade.p_rescale=0", "degrade.p_colour=0", "degrade.p_grayscale=0",
    "output.save_mask=true", "output.save_depth=true", "crop.image_size=160",
]


def fixed_pose(yaw: float, pitch: float, roll: float) -> list[str]:
    return [f"pose.{name}={{kind: uniform, low: {v}, high: {v}}}" for name, v in (("yaw", yaw), ("pitch", pitch), ("roll", roll))]


@pytest.fixture(scope="module", params=["default", "ict"])
def head(request):
    if request.param == "ict":
        return request.getfixturevalue("ict_import")[0]
    from synth.default_model import load_default_model

    return load_default_model()


def make(head, *overrides: str) -> SampleMaker:
    return SampleMaker(resolve_config(overrides=[*CLEAN, *overrides]), head)


@pytest.mark.parametrize("antialias", ["full", "edges"])  # labels from the 2x raster, or the 1x one
def test_visible_landmarks_lie_on_head_pixels_at_their_own_depth(head, antialias):
    maker = make(head, "shape.p_neutral=0.5", f"render.antialias={antialias}")
    checked = on_own_surface = hidden_checked = hidden_undrawn = 0
    for i in range(12):
        s = maker(i)
        depth, mask = s["depth"].astype(np.float32), s["mask"]
        for k in np.flatnonzero(s["visible"]):
            u, v = np.rint(s["lmk2d"][k]).astype(int)
            own = -s["lmk3d_cam"][k, 2]
            win_mask = mask[max(v - 1, 0) : v + 2, max(u - 1, 0) : u + 2]
            win_depth = depth[max(v - 1, 0) : v + 2, max(u - 1, 0) : u + 2]
            assert (win_mask != MASK_BACKGROUND).any(), f"sample {i} landmark {k} on background"
            # next to a visible point, nothing is clearly in front of it (the label is decided
            # on the render's depth buffer, this check on the saved, min-pooled one)
            slack = 12.5 + 0.02 * own  # float16 depth, and steep surfaces across a pixel
            assert ((win_depth == 0) | (win_depth >= own - slack)).any(), (i, k, win_depth, own)
            drawn = win_depth[win_depth > 0]
            on_own_surface += bool(np.abs(drawn - own).min() < 0.02 * own + 3.0)
            checked += 1
        hidden = np.flatnonzero(s["self_occluded"])
        for k in hidden:  # hidden points: something clearly nearer is drawn right there
            u, v = np.rint(s["lmk2d"][k]).astype(int)
            if 1 <= u < 159 and 1 <= v < 159:
                win = depth[v - 1 : v + 2, u - 1 : u + 2]
                hidden_checked += 1
                if not (win > 0).any():
                    # or nothing: a point on a surface turned away from the camera seen past
                    # the rim of an open mesh (ICT's neck), whose back faces are culled
                    hidden_undrawn += 1
                    continue
                assert win[win > 0].min() < -s["lmk3d_cam"][k, 2] - 1.0, (i, k)
    assert hidden_undrawn <= 0.01 * hidden_checked
    assert checked > 300
    # almost every visible point shows its own surface within a pixel (the rest: slivers)
    assert on_own_surface / checked > 0.97


def test_known_pose_puts_nose_and_eyes_where_the_convention_says(head):
    frontal = make(head, *fixed_pose(0, 0, 0))(0)
    turned = make(head, *fixed_pose(40, 0, 0))(0)
    up = make(head, *fixed_pose(0, 30, 0))(0)
    rolled = make(head, *fixed_pose(0, 0, 30))(0)

    def nose_offset(s):  # nose tip relative to the mid-point of the eye centres, crop pixels
        eyes = (s["lmk2d"][R_EYE].mean(0) + s["lmk2d"][L_EYE].mean(0)) / 2
        return s["lmk2d"][NOSE_TIP] - eyes

    # frontal: the subject's right eye is on the image's left, nose tip on the midline
    assert frontal["lmk2d"][R_EYE, 0].mean() < frontal["lmk2d"][L_EYE, 0].mean()
    assert abs(nose_offset(frontal)[0]) < 2.0
    # yaw +40: the face turns toward the image's left
    assert nose_offset(turned)[0] < -8.0
    # pitch +30: the face looks up, so the nose tip moves up toward the eyes
    assert nose_offset(up)[1] < nose_offset(frontal)[1] - 5.0
    # roll +30: clockwise in the image; the eye line tilts down to the right by ~30 degrees
    d = rolled["lmk2d"][L_EYE].mean(0) - rolled["lmk2d"][R_EYE].mean(0)
    assert np.degrees(np.arctan2(d[1], d[0])) == pytest.approx(30, abs=4)
    # the stored Euler angles are the ones asked for
    np.testing.assert_allclose(turned["euler_deg"], [40, 0, 0], atol=1e-3)
    # and the nose tip is drawn: a head pixel at the nose tip's own depth
    u, v = np.rint(turned["lmk2d"][NOSE_TIP]).astype(int)
    assert turned["mask"][v, u] != MASK_BACKGROUND
    assert abs(float(turned["depth"][v, u]) + turned["lmk3d_cam"][NOSE_TIP, 2]) < 4.0


def _silhouette(depth: np.ndarray, jump_mm: float = 12.0) -> np.ndarray:
    """Pixels at a depth discontinuity of the head (against background or a farther surface)."""
    d = np.where(depth > 0, depth, np.inf).astype(np.float64)
    edge = np.zeros(d.shape, bool)
    for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0)):
        nb = np.roll(d, (dy, dx), axis=(0, 1))
        with np.errstate(invalid="ignore"):
            edge |= np.isfinite(d) & (nb - d > jump_mm)
    return edge


@pytest.mark.parametrize("yaw", [40.0, -40.0])
def test_contour_landmarks_follow_the_silhouette_at_large_yaw(head, yaw):
    s = make(head, *fixed_pose(yaw, 0, 0))(3)
    far = JAW_R if yaw > 0 else JAW_L  # yaw > 0 turns the subject's right side away
    # 3D convention: most far jaw points are hidden behind the cheek ...
    assert s["self_occluded"][far].sum() >= 4
    # ... the contour convention moves them onto the visible outline of the face
    edge = _silhouette(s["depth"])
    ys, xs = np.nonzero(edge)
    edge_pts = np.column_stack([xs, ys]).astype(np.float64)
    for k in far:
        dist = np.linalg.norm(edge_pts - s["lmk2d_contour"][k], axis=1).min()
        assert dist <= 2.5, f"contour point {k} is {dist:.1f} px from the silhouette"
    # visible, but for at most one point where the jaw outline meets the chin/neck outline
    assert s["visible_contour"][far].sum() >= len(far) - 1
    # the near side and everything else is unchanged
    near = JAW_L if yaw > 0 else JAW_R
    np.testing.assert_allclose(s["lmk2d_contour"][near], s["lmk2d"][near], atol=1.5)
    np.testing.assert_array_equal(s["lmk2d_contour"][17:], s["lmk2d"][17:])


def test_occluded_landmarks_are_marked_where_the_occluder_covers_them(head):
    maker = make(head, *fixed_pose(0, 0, 0), "occluders.p_mask=1.0")
    s = maker(1)
    assert s["occluded"].any()
    mouth = group_indices("outer_lip", "inner_lip")
    assert s["occluded"][mouth].mean() > 0.8  # a face mask covers the mouth
    for k in range(68):
        u, v = np.rint(s["lmk2d"][k]).astype(int)
        under = s["mask"][v, u] == MASK_OCCLUDER
        assert s["occluded"][k] == under, k
        if s["occluded"][k]:
            assert not s["visible"][k]


def test_same_index_same_sample_and_other_indices_differ(head):
    maker = make(head)
    a, b, c = maker(5), maker(5), maker(6)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert not np.array_equal(a["image"], c["image"])


def test_a_sample_does_not_depend_on_what_the_maker_computed_before(head):
    """Shapes are evaluated per group of ``BLEND_GROUP`` indices: a sample is the same from a
    fresh maker and from one that walked through other groups first."""
    from synth.sample import BLEND_GROUP

    late = make(head)
    for i in (3 * BLEND_GROUP - 1, 0, 2 * BLEND_GROUP + 1):
        late(i)
    for i in (BLEND_GROUP - 1, BLEND_GROUP, 2 * BLEND_GROUP + 1):
        a, b = make(head)(i), late(i)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{i} {key}")
    iw, ew, verts = late._group_shapes(BLEND_GROUP + 2)
    np.testing.assert_allclose(verts, late.model.shape(iw, ew), atol=1e-3)  # mm (the level-of-detail model)
