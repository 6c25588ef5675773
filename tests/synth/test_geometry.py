"""Specification of ``synth.geometry``: each convention pinned by projecting known points,
round trips over random rotations, and the Euler convention checked on real AFLW2000-3D labels."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
import torch
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.io import loadmat
from scipy.spatial.transform import Rotation

from synth.geometry import (
    OPENCV_FROM_OPENGL,
    euler_to_matrix,
    geodesic_distance_deg,
    intrinsics_from_fov,
    look_at,
    matrix_to_euler,
    matrix_to_rotation_6d,
    project_points,
    rotation_6d_to_matrix,
    rotation_about_axis,
    transform_points,
    umeyama,
    unproject_points,
    weak_perspective_project,
)

NOSE_TIP = np.array([0.0, 0.0, 1.0])  # frontal model-frame direction out of the face
HEAD_TOP = np.array([0.0, 1.0, 0.0])
SUBJECT_LEFT = np.array([1.0, 0.0, 0.0])

seeds = st.integers(0, 2**32 - 1)
angle = st.floats(-179.9, 179.9)
yaw_open = st.floats(-89.9, 89.9)
#: Enough random cases to catch a convention slip, few enough to keep the file at a few seconds;
#: no deadline because the first torch call in a process is slow.
quick = settings(max_examples=40, deadline=None)


def random_rotations(seed: int, n: int = 16) -> np.ndarray:
    """(n, 3, 3) uniformly distributed rotations (scipy, an independent reference)."""
    return Rotation.random(n, rng=np.random.default_rng(seed)).as_matrix()


def wrap_deg(a: np.ndarray) -> np.ndarray:
    return (np.asarray(a) + 180.0) % 360.0 - 180.0


def assert_rotation(R: np.ndarray, atol: float = 1e-12) -> None:
    eye = np.broadcast_to(np.eye(3), R.shape)
    np.testing.assert_allclose(R @ R.swapaxes(-1, -2), eye, atol=atol)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=atol)


def test_import_does_not_import_torch():
    code = "import sys, synth.geometry; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- Euler convention: signs by projecting known points -------------------------------------

def frontal_camera(width: int = 640, height: int = 480, distance_mm: float = 600.0):
    K = intrinsics_from_fov(30.0, width, height)
    return K, np.array([0.0, 0.0, -distance_mm])


def project_model(points_model: np.ndarray, R: np.ndarray) -> np.ndarray:
    K, t = frontal_camera()
    return project_points(transform_points(points_model, R, t), K)


def test_identity_is_frontal_face_with_subject_left_on_image_right():
    K, _ = frontal_camera()
    uv = project_model(100.0 * np.stack([NOSE_TIP, HEAD_TOP, SUBJECT_LEFT]), euler_to_matrix(0, 0, 0))
    centre = K[:2, 2]
    np.testing.assert_allclose(uv[0], centre)  # nose on the optical axis
    assert uv[1, 1] < centre[1] and uv[1, 0] == pytest.approx(centre[0])  # head top up
    assert uv[2, 0] > centre[0]  # subject's left -> image right


def test_yaw_positive_turns_face_toward_image_left():
    centre = frontal_camera()[0][:2, 2]
    uv = project_model(100.0 * NOSE_TIP[None], euler_to_matrix(30.0, 0, 0))[0]
    assert uv[0] < centre[0] and uv[1] == pytest.approx(centre[1])
    np.testing.assert_allclose(euler_to_matrix(90.0, 0, 0) @ NOSE_TIP, [-1, 0, 0], atol=1e-15)


def test_pitch_positive_looks_up():
    centre = frontal_camera()[0][:2, 2]
    uv = project_model(100.0 * NOSE_TIP[None], euler_to_matrix(0, 30.0, 0))[0]
    assert uv[1] < centre[1] and uv[0] == pytest.approx(centre[0])
    np.testing.assert_allclose(euler_to_matrix(0, 90.0, 0) @ NOSE_TIP, [0, 1, 0], atol=1e-15)


def test_roll_positive_is_clockwise_in_the_image():
    centre = frontal_camera()[0][:2, 2]
    uv = project_model(100.0 * np.stack([HEAD_TOP, SUBJECT_LEFT]), euler_to_matrix(0, 0, 30.0))
    assert uv[0, 0] > centre[0]  # top of the head moves right
    assert uv[1, 1] > centre[1]  # image-right point moves down: clockwise
    np.testing.assert_allclose(euler_to_matrix(0, 0, 90.0) @ HEAD_TOP, [1, 0, 0], atol=1e-15)


@quick
@given(yaw_open, angle, angle)
def test_matrix_is_rotation_matrix_m_literally(yaw, pitch, roll):
    """R = Rx(pitch) Ry(yaw) Rz(roll) transcribed from 3DDFA's RotationMatrix.m."""
    p, y, r = np.deg2rad([pitch, yaw, roll])
    Rx = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    Ry = np.array([[np.cos(y), 0, -np.sin(y)], [0, 1, 0], [np.sin(y), 0, np.cos(y)]])
    Rz = np.array([[np.cos(r), np.sin(r), 0], [-np.sin(r), np.cos(r), 0], [0, 0, 1]])
    np.testing.assert_allclose(euler_to_matrix(yaw, pitch, roll), Rx @ Ry @ Rz, atol=1e-15)
    # Same matrix as right-hand rotations by the negative angles (scipy, intrinsic XYZ).
    ref = Rotation.from_euler("XYZ", [-pitch, -yaw, -roll], degrees=True).as_matrix()
    np.testing.assert_allclose(euler_to_matrix(yaw, pitch, roll), ref, atol=1e-12)
    ref_axes = rotation_about_axis([1, 0, 0], -pitch) @ rotation_about_axis([0, 1, 0], -yaw)
    np.testing.assert_allclose(ref_axes @ rotation_about_axis([0, 0, 1], -roll), ref, atol=1e-12)


def test_euler_broadcasts_and_is_proper():
    R = euler_to_matrix(np.linspace(-90, 90, 7)[:, None], np.linspace(-180, 180, 5), 10.0)
    assert R.shape == (7, 5, 3, 3) and R.dtype == np.float64
    assert_rotation(R)


# --- Euler round trips and gimbal lock -----------------------------------------------------

@quick
@given(yaw_open, angle, angle)
def test_euler_matrix_euler_reproduces_angles(yaw, pitch, roll):
    out = matrix_to_euler(euler_to_matrix(yaw, pitch, roll))
    np.testing.assert_allclose(wrap_deg(out - [yaw, pitch, roll]), 0.0, atol=1e-7)


@quick
@given(seeds)
def test_matrix_euler_matrix_reproduces_any_rotation(seed):
    R = random_rotations(seed)
    ypr = matrix_to_euler(R)
    assert ypr.shape == (16, 3)
    assert np.all(np.abs(ypr[:, 0]) <= 90) and np.all((ypr[:, 1:] > -180) & (ypr[:, 1:] <= 180))
    np.testing.assert_allclose(euler_to_matrix(*ypr.T), R, atol=1e-12)


@pytest.mark.parametrize("yaw", [90.0, -90.0, 89.9999, -89.9999])
@quick
@given(pitch=angle, roll=angle)
def test_gimbal_lock_round_trip(yaw, pitch, roll):
    R = euler_to_matrix(yaw, pitch, roll)
    ypr = matrix_to_euler(R)
    np.testing.assert_allclose(euler_to_matrix(*ypr), R, atol=1e-8)
    if abs(yaw) == 90.0:
        assert ypr[2] == 0.0 and ypr[0] == pytest.approx(yaw)


def test_pitch_and_roll_half_open_range():
    R = np.diag([1.0, -1.0, -1.0])  # pitch 180
    R[1, 2] = -0.0  # atan2(-0, -1) = -180 must come back as +180
    np.testing.assert_array_equal(matrix_to_euler(R), [0.0, 180.0, 0.0])


def test_yaw_beyond_90_is_represented_by_shifted_angles():
    R = euler_to_matrix(150.0, 0.0, 0.0)  # the back of the head
    np.testing.assert_allclose(matrix_to_euler(R), [30.0, 180.0, 180.0], atol=1e-12)


# --- 6D representation ---------------------------------------------------------------------

@quick
@given(seeds)
def test_6d_round_trip_numpy(seed):
    R = random_rotations(seed)
    d6 = matrix_to_rotation_6d(R)
    assert d6.shape == (16, 6)
    np.testing.assert_array_equal(d6, np.concatenate([R[:, :, 0], R[:, :, 1]], axis=-1))  # columns
    np.testing.assert_allclose(rotation_6d_to_matrix(d6), R, atol=1e-12)


@quick
@given(seeds)
def test_6d_any_vector_gives_rotation_and_torch_agrees(seed):
    d6 = np.random.default_rng(seed).normal(size=(8, 6))
    R = rotation_6d_to_matrix(d6)
    assert_rotation(R)
    np.testing.assert_allclose(R[:, :, 0], d6[:, :3] / np.linalg.norm(d6[:, :3], axis=-1, keepdims=True))
    R_t = rotation_6d_to_matrix(torch.from_numpy(d6))
    assert isinstance(R_t, torch.Tensor) and R_t.dtype == torch.float64
    np.testing.assert_allclose(R_t.numpy(), R, atol=1e-12)
    np.testing.assert_allclose(matrix_to_rotation_6d(R_t).numpy(), matrix_to_rotation_6d(R), atol=1e-12)


def test_6d_torch_is_differentiable_and_degenerate_input_is_finite():
    d6 = torch.randn(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert torch.autograd.gradcheck(rotation_6d_to_matrix, (d6,))
    assert np.all(np.isfinite(rotation_6d_to_matrix(np.zeros(6))))
    assert torch.isfinite(rotation_6d_to_matrix(torch.zeros(2, 6))).all()


# --- geodesic distance ---------------------------------------------------------------------

@quick
@given(seeds, st.floats(0.0, 180.0))
def test_geodesic_angle_of_a_known_rotation(seed, theta):
    rng = np.random.default_rng(seed)
    R = random_rotations(seed, 1)[0]
    axis = rng.normal(size=3)
    np.testing.assert_allclose(geodesic_distance_deg(R, R), 0.0, atol=1e-6)
    for R_b in (rotation_about_axis(axis, theta) @ R, R @ rotation_about_axis(axis, -theta)):
        np.testing.assert_allclose(geodesic_distance_deg(R, R_b), theta, atol=1e-6)
        np.testing.assert_allclose(geodesic_distance_deg(R_b, R), theta, atol=1e-6)
        got_t = geodesic_distance_deg(torch.from_numpy(R), torch.from_numpy(R_b))
        np.testing.assert_allclose(got_t.numpy(), theta, atol=1e-6)


def test_geodesic_is_accurate_near_0_and_180_where_arccos_is_not():
    for theta in (1e-6, 180.0 - 1e-6):
        R = rotation_about_axis([1.0, 2.0, 3.0], theta)
        assert geodesic_distance_deg(np.eye(3), R) == pytest.approx(theta, rel=1e-6)


def test_geodesic_batched_and_type_checked():
    R = random_rotations(0, 5)
    assert geodesic_distance_deg(R, np.eye(3)).shape == (5,)
    with pytest.raises(TypeError, match="both numpy or both torch"):
        geodesic_distance_deg(torch.from_numpy(R), R)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_geodesic_loss_gradient_is_finite_at_identity(dtype):
    d6 = torch.tensor([[1.0, 0, 0, 0, 1, 0]] * 3, dtype=dtype, requires_grad=True)
    loss = geodesic_distance_deg(rotation_6d_to_matrix(d6), torch.eye(3, dtype=dtype)).mean()
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-5)
    assert torch.isfinite(d6.grad).all()


# --- axis-angle ----------------------------------------------------------------------------

def test_rotation_about_axis_right_hand_rule_and_broadcasting():
    np.testing.assert_allclose(rotation_about_axis([0, 0, 2.0], 90.0) @ [1, 0, 0], [0, 1, 0], atol=1e-15)
    R = rotation_about_axis(np.random.default_rng(0).normal(size=(4, 1, 3)), np.arange(5.0))
    assert R.shape == (4, 5, 3, 3)
    assert_rotation(R)
    with pytest.raises(ValueError, match="nonzero"):
        rotation_about_axis([0, 0, 0], 10.0)


# --- projection ----------------------------------------------------------------------------

@pytest.mark.parametrize("width, height", [(640, 480), (451, 450), (1, 1)])
def test_optical_axis_lands_on_image_centre_between_pixel_centres(width, height):
    K = intrinsics_from_fov(60.0, width, height)
    uv = project_points(np.array([[0.0, 0.0, -500.0]]), K)
    np.testing.assert_allclose(uv, [[(width - 1) / 2, (height - 1) / 2]])


def test_fov_spans_the_image_edges_not_the_edge_pixel_centres():
    K = intrinsics_from_fov(90.0, 200, 100)  # edge ray: x = -z * tan(45) = -z
    uv = project_points(np.array([[500.0, 0.0, -500.0], [-500.0, 0.0, -500.0]]), K)
    np.testing.assert_allclose(uv[:, 0], [199.5, -0.5])
    K_y = intrinsics_from_fov(90.0, 200, 100, fov_axis="y")
    np.testing.assert_allclose(project_points(np.array([[0.0, 500.0, -500.0]]), K_y), [[99.5, -0.5]])


@quick
@given(seeds)
def test_project_unproject_round_trip_with_fx_ne_fy_and_batched_K(seed):
    rng = np.random.default_rng(seed)
    K = np.tile(np.array([[800.0, 0, 319.5], [0, 760.0, 239.5], [0, 0, 1]]), (3, 1, 1))
    K[:, 0, 0] += rng.uniform(-100, 100, size=3)
    points_cam = rng.uniform(-100, 100, size=(3, 10, 3)) + [0, 0, -600.0]
    uv = project_points(points_cam, K)
    assert uv.shape == (3, 10, 2)
    np.testing.assert_allclose(unproject_points(uv, -points_cam[..., 2], K), points_cam, rtol=1e-12, atol=1e-9)
    uv_t = project_points(torch.from_numpy(points_cam), torch.from_numpy(K))
    np.testing.assert_allclose(uv_t.numpy(), uv, rtol=1e-12)


def test_projection_is_opencv_projection_after_axis_flip():
    K, t = frontal_camera()
    R = euler_to_matrix(20.0, -10.0, 5.0)
    points_model = np.random.default_rng(1).uniform(-80, 80, size=(12, 3))
    R_cv, t_cv = OPENCV_FROM_OPENGL @ R, OPENCV_FROM_OPENGL @ t
    homog = (points_model @ R_cv.T + t_cv) @ K.T  # OpenCV pinhole: K @ p_cv, then divide
    np.testing.assert_allclose(project_points(transform_points(points_model, R, t), K), homog[:, :2] / homog[:, 2:])


def test_look_at_frontal_pose_and_transform_points():
    R, t = look_at([0.0, 0.0, 600.0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(R, np.eye(3), atol=1e-15)
    np.testing.assert_allclose(t, [0, 0, -600.0], atol=1e-12)
    R, t = look_at([600.0, 0.0, 0.0], [0.0, 0.0, 0.0])  # camera on the subject's left
    nose_cam = transform_points(100.0 * NOSE_TIP[None], R, t)[0]
    assert nose_cam[0] < 0  # profile: the nose points to the image's left
    np.testing.assert_allclose(transform_points(np.zeros((1, 3)), R, t)[0], [0, 0, -600.0], atol=1e-12)
    with pytest.raises(ValueError, match="not parallel"):
        look_at([0.0, 600.0, 0.0], [0.0, 0.0, 0.0])


def test_transform_points_matches_per_point_formula():
    R, t = euler_to_matrix(10.0, 20.0, 30.0), np.array([1.0, 2.0, 3.0])
    points = np.random.default_rng(2).normal(size=(5, 3))
    np.testing.assert_allclose(transform_points(points, R, t), [R @ p + t for p in points])


def test_weak_perspective_of_a_frontal_face_and_far_perspective_limit():
    points_model = np.array([[0.0, 0, 0], [30.0, 40.0, 0], [0, 0, 90.0]])  # origin, upper left, nose
    uv = weak_perspective_project(points_model, np.eye(3), 2.0, np.array([100.0, 50.0]))
    np.testing.assert_allclose(uv, [[100.0, 50.0], [160.0, -30.0], [100.0, 50.0]])  # z dropped, y flipped
    K, d = intrinsics_from_fov(20.0, 640, 480), 1e6
    R = euler_to_matrix(40.0, -20.0, 15.0)
    persp = project_points(transform_points(points_model, R, np.array([0, 0, -d])), K)
    weak = weak_perspective_project(points_model, R, K[0, 0] / d, K[:2, 2])
    np.testing.assert_allclose(persp, weak, atol=1e-3)
    args_t = (torch.from_numpy(np.asarray(a)) for a in (points_model, R, K[0, 0] / d, K[:2, 2]))
    weak_t = weak_perspective_project(*args_t)
    np.testing.assert_allclose(weak_t.numpy(), weak)


def test_shape_errors_show_expected_and_actual():
    with pytest.raises(ValueError, match=r"points_cam: expected shape \(\*, N, 3\), got \(5, 2\)"):
        project_points(np.zeros((5, 2)), np.eye(3))
    with pytest.raises(ValueError, match=r"R_cam_from_model: expected shape \(\*, 3, 3\), got \(3,\)"):
        matrix_to_euler(np.zeros(3))
    with pytest.raises(ValueError, match=r"rot_6d: expected shape \(\*, 6\), got \(2, 9\)"):
        rotation_6d_to_matrix(np.zeros((2, 9)))
    with pytest.raises(ValueError, match=r"depth: expected shape \(4,\)"):
        unproject_points(np.zeros((4, 2)), np.ones(3), np.eye(3))
    with pytest.raises(ValueError, match="fov_deg"):
        intrinsics_from_fov(180.0, 10, 10)


# --- Umeyama -------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [2, 3])
@quick
@given(seed=seeds)
def test_umeyama_recovers_a_known_similarity(dim, seed):
    rng = np.random.default_rng(seed)
    src = rng.normal(size=(20, dim)) * 50.0
    R = random_rotations(seed, 1)[0] if dim == 3 else rotation_about_axis([0, 0, 1], rng.uniform(-180, 180))[:2, :2]
    s, t = rng.uniform(0.1, 10.0), rng.normal(size=dim) * 100.0
    dst = src @ (s * R).T + t
    s_hat, R_hat, t_hat = umeyama(src, dst)
    assert s_hat == pytest.approx(s, rel=1e-9)
    np.testing.assert_allclose(R_hat, R, atol=1e-9)
    np.testing.assert_allclose(t_hat, t, atol=1e-7)
    s_rigid, R_rigid, _ = umeyama(src, src @ R.T + t, with_scale=False)
    assert s_rigid == 1.0
    np.testing.assert_allclose(R_rigid, R, atol=1e-9)


@pytest.mark.parametrize("with_scale", [True, False])
def test_umeyama_agrees_with_trimesh_procrustes_on_noisy_3d(with_scale):
    """Same rotation as trimesh, and the same translation when rigid. With scale, trimesh takes
    the ratio of RMS sizes, not the least-squares scale: we match its rotation and beat its cost.
    (trimesh's ``weights`` only weight the centroids, so weights are tested separately.)"""
    rng = np.random.default_rng(3)
    src = rng.normal(size=(68, 3)) * 40.0
    dst = src @ (1.7 * euler_to_matrix(60.0, -25.0, 10.0)).T + [5.0, -3.0, 400.0] + rng.normal(size=(68, 3)) * 2.0
    s, R, t = umeyama(src, dst, with_scale=with_scale)
    M, _, _ = trimesh.registration.procrustes(src, dst, reflection=False, scale=with_scale)
    s_trimesh = np.cbrt(np.linalg.det(M[:3, :3]))
    np.testing.assert_allclose(R, M[:3, :3] / s_trimesh, atol=1e-9)
    if not with_scale:
        np.testing.assert_allclose(t, M[:3, 3], atol=1e-7)
    cost = ((src @ (s * R).T + t - dst) ** 2).sum()
    cost_trimesh = ((src @ M[:3, :3].T + M[:3, 3] - dst) ** 2).sum()
    assert cost <= cost_trimesh * (1 + 1e-12)


def test_umeyama_integer_weights_equal_repeated_points():
    rng = np.random.default_rng(5)
    src, dst = rng.normal(size=(10, 2)), rng.normal(size=(10, 2))
    repeats = rng.integers(0, 4, size=10)
    repeats[:3] = 1
    weighted = umeyama(src, dst, weights=repeats)
    repeated = umeyama(np.repeat(src, repeats, axis=0), np.repeat(dst, repeats, axis=0))
    for a, b in zip(weighted, repeated):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_umeyama_never_reflects_and_weights_ignore_outliers():
    rng = np.random.default_rng(4)
    src = rng.normal(size=(30, 3))
    _, R, _ = umeyama(src, src * [-1.0, 1.0, 1.0])  # a mirror image: best proper rotation instead
    assert np.linalg.det(R) == pytest.approx(1.0)
    R_true = euler_to_matrix(30.0, 0.0, 0.0)
    dst = src @ R_true.T
    dst[:5] += 100.0  # outliers, weighted out
    w = np.r_[np.zeros(5), np.ones(25)]
    s, R, t = umeyama(src, dst, weights=w)
    np.testing.assert_allclose(R, R_true, atol=1e-9)
    assert s == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"expected equal shapes \(N, D\).*got \(30, 3\) and \(30, 2\)"):
        umeyama(src, src[:, :2])
    with pytest.raises(ValueError, match="coincident"):
        umeyama(np.ones((4, 2)), rng.normal(size=(4, 2)))


# --- real labels: AFLW2000-3D (250-image development subset) --------------------------------

@pytest.fixture(scope="module")
def aflw(shared_dir):
    """Pose_Para as (yaw, pitch, roll) degrees (B, 3) and pt3d_68 (B, 68, 3) per image name."""
    folder = shared_dir / "aflw2000-dev"
    files = sorted(folder.glob("image*.mat"))
    if not files:
        pytest.skip(f"AFLW2000-3D dev subset not available at {folder} (real-label convention tests)")
    names, ypr, pts = [], [], []
    for f in files:
        mat = loadmat(f, variable_names=["Pose_Para", "pt3d_68"])
        pitch, yaw, roll = np.rad2deg(mat["Pose_Para"][0, :3].astype(np.float64))
        names.append(f.stem)
        ypr.append([yaw, pitch, roll])
        pts.append(mat["pt3d_68"].T.astype(np.float64))  # (68, 3): x, y image px (v down), z toward viewer
    return {"folder": folder, "names": names, "ypr": np.array(ypr), "pt3d": np.stack(pts)}


def test_real_yaw_sign_nose_vs_outer_eye_corners(aflw):
    """iBUG 30 = nose tip, 36/45 = outer eye corners (see synth.landmarks)."""
    yaw, pts = aflw["ypr"][:, 0], aflw["pt3d"]
    nose_offset_px = pts[:, 30, 0] - 0.5 * (pts[:, 36, 0] + pts[:, 45, 0])
    assert (yaw > 30).sum() > 20 and (yaw < -30).sum() > 20
    assert np.all(nose_offset_px[yaw > 30] < 0)  # yaw > 0: the face turns toward the image's left
    assert np.all(nose_offset_px[yaw < -30] > 0)
    # Our R applied to the frontal nose direction points the same way as the observed offset.
    nose_dir_cam = euler_to_matrix(*aflw["ypr"].T) @ NOSE_TIP
    large = np.abs(yaw) > 30
    np.testing.assert_array_equal(np.sign(nose_dir_cam[large, 0]), np.sign(nose_offset_px[large]))


def test_real_labels_derotate_every_face_to_one_frontal_shape(aflw):
    """All three angles at once: R.T brings each image's 3D landmarks back to a common frontal
    face (within a few degrees); flipping any one angle's sign or transposing R fails by >20°."""
    pts = aflw["pt3d"]
    points_cam = np.stack([pts[..., 0], -pts[..., 1], pts[..., 2]], axis=-1)  # v down -> y up
    points_cam -= points_cam.mean(axis=1, keepdims=True)
    R = euler_to_matrix(*aflw["ypr"].T)
    points_model = points_cam @ R  # per face: R.T @ p
    points_model /= np.linalg.norm(points_model, axis=(1, 2), keepdims=True)
    template = np.median(points_model, axis=0)
    residual_deg = np.array([geodesic_distance_deg(umeyama(p, template)[1], np.eye(3)) for p in points_model])
    assert np.median(residual_deg) < 3.0 and residual_deg.max() < 10.0
    # The common shape is frontal in the model frame.
    assert template[36, 0] < 0 < template[45, 0]  # subject's right eye at -x
    assert template[30, 2] > max(template[36, 2], template[45, 2])  # nose toward +z
    assert template[8, 1] < template[27, 1]  # chin below the nose bridge


def test_real_labels_euler_round_trip(aflw):
    ypr = aflw["ypr"]
    np.testing.assert_allclose(matrix_to_euler(euler_to_matrix(*ypr.T)), ypr, atol=1e-9)


def test_real_peer_geodesic_error_matches_dataset_readme(aflw):
    path = aflw["folder"] / "peer_3ddfa_v2_mb05_predictions.csv"
    if not path.is_file():
        pytest.skip(f"peer predictions not available at {path}")
    with open(path, newline="") as f:
        rows = {r["name"]: [float(r["yaw"]), float(r["pitch"]), float(r["roll"])] for r in csv.DictReader(f)}
    pred = np.array([rows[n] for n in aflw["names"]])
    err = geodesic_distance_deg(euler_to_matrix(*pred.T), euler_to_matrix(*aflw["ypr"].T))
    abs_yaw = np.abs(aflw["ypr"][:, 0])
    bins = [err[(abs_yaw >= lo) & (abs_yaw < hi)].mean() for lo, hi in ((0, 30), (30, 60), (60, 91))]
    np.testing.assert_allclose([err.mean(), *bins], [6.63, 5.04, 6.42, 8.79], atol=0.005)


@settings(max_examples=60, deadline=None)
@given(st.floats(-180, 180), st.floats(-180, 180), st.floats(-180, 180), st.sampled_from([None, 90.0, -90.0]))
def test_single_pose_fast_paths_equal_the_batched_formulas(yaw, pitch, roll, locked_yaw):
    # euler_to_matrix(scalars) and matrix_to_euler((3, 3)) take plain-float paths (the
    # generator's and the loader's hot paths); they must agree with the array code, gimbal
    # lock and |yaw| > 90 included.
    yaw = locked_yaw if locked_yaw is not None else yaw
    R = euler_to_matrix(yaw, pitch, roll)
    R_batched = euler_to_matrix(np.array([yaw]), np.array([pitch]), np.array([roll]))[0]
    np.testing.assert_allclose(R, R_batched, atol=1e-12)
    np.testing.assert_allclose(matrix_to_euler(R), matrix_to_euler(R[None])[0], atol=1e-9)
